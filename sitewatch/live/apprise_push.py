"""Apprise channel: Slack, Telegram, email and the other services apprise knows, by URL."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from sitewatch.errors import SettingsError
from sitewatch.live.alerts import Alert
from sitewatch.live.outbox import DeliveryError
from sitewatch.optional import require

# Loggers that print apprise's request URLs at DEBUG (apprise's own, and urllib3's under `requests`).
LEAKY_LOGGERS = ("apprise", "urllib3.connectionpool")
SHORTEST_SECRET = 4  # URL parts at least this long are masked; shorter ones are ports and the like


class _Redact(logging.Filter):
    """Masks every part of the operator's apprise URLs in a log record: their tokens can be in any part."""

    def __init__(self, urls: list[str]) -> None:
        super().__init__()
        parts = {p for url in urls for p in re.split(r"[/:@?&=#,]+", url.partition("://")[2])
                 if len(p) >= SHORTEST_SECRET}
        self._secrets = re.compile("|".join(re.escape(p) for p in sorted(parts, key=len, reverse=True)))

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with the URL parts replaced by ***."""
        if self._secrets.pattern:
            record.msg, record.args = self._secrets.sub("***", record.getMessage()), None
        return True


class AppriseChannel:
    """Sends each alert's title and sentence to the operator's apprise URLs."""

    def __init__(self, urls: list[str]) -> None:
        apprise = require("apprise", "live")
        # Masked from the start: apprise logs each URL as it loads it.
        self._redact = _Redact(urls)
        for name in LEAKY_LOGGERS:
            logging.getLogger(name).addFilter(self._redact)
        self._apprise = apprise.Apprise()
        for url in urls:
            if not self._apprise.add(url):
                self.close()
                raise SettingsError(f"--notify: apprise does not understand a {urlsplit(url).scheme}:// URL")
        # Apprise URLs carry their tokens in every part: only the schemes are ever shown.
        self.name = "apprise " + ",".join(sorted({urlsplit(u).scheme for u in urls}))

    def send(self, alert: Alert) -> None:
        """Notify every service; a failure when none took it."""
        if not self._apprise.notify(title=alert.title, body=alert.message):
            raise DeliveryError("no apprise service accepted the alert")

    def close(self) -> None:
        """Stop masking apprise's log records."""
        for name in LEAKY_LOGGERS:
            logging.getLogger(name).removeFilter(self._redact)
