"""Apprise channel: Slack, Telegram, email and the other services apprise knows, by URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from sitewatch.errors import SettingsError
from sitewatch.live.alerts import Alert
from sitewatch.live.outbox import DeliveryError
from sitewatch.optional import require


class AppriseChannel:
    """Sends each alert's title and sentence to the operator's apprise URLs."""

    def __init__(self, urls: list[str]) -> None:
        apprise = require("apprise", "live")
        self._apprise = apprise.Apprise()
        for url in urls:
            if not self._apprise.add(url):
                raise SettingsError(f"--notify: apprise does not understand a {urlsplit(url).scheme}:// URL")
        # Apprise URLs carry their tokens in every part: only the schemes are ever shown.
        self.name = "apprise " + ",".join(sorted({urlsplit(u).scheme for u in urls}))

    def send(self, alert: Alert) -> None:
        """Notify every service; a failure when none took it."""
        if not self._apprise.notify(title=alert.title, body=alert.message):
            raise DeliveryError("no apprise service accepted the alert")

    def close(self) -> None:
        """Nothing to release."""
