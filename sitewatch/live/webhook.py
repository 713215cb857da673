"""Webhook channel: the alert as JSON, signed with HMAC-SHA256, retried with backoff, dead letters kept."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from sitewatch.live.alerts import Alert
from sitewatch.live.urls import mask_url, split_credentials

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Sitewatch-Signature"
EVENT_HEADER = "X-Sitewatch-Event"
BACKOFF_FIRST_S = 0.5
# Answers worth trying again: the receiver is busy or briefly broken; any other 4xx will not change.
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def signature(body: bytes, secret: str) -> str:
    """The signature header's value: sha256=<hex HMAC-SHA256 of the exact body bytes>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Webhook:
    """POSTs each alert to one URL the operator configured."""

    def __init__(self, url: str, secret: str | None, retries: int, timeout_s: float, dead_letters: Path) -> None:
        import httpx

        self.url = url
        self.name = f"webhook {mask_url(url)}"
        # Credentials travel as an Authorization header, not in the URL httpx logs with every request.
        self._target, auth = split_credentials(url)
        self._secret = secret
        self._retries = retries
        self._dead_letters = dead_letters
        self._lock = threading.Lock()
        # No redirects: the alert (and its signature) goes to the configured URL and nowhere else.
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False, auth=auth)

    def send(self, alert: Alert) -> None:
        """POST the alert; retry connection errors and 408/429/5xx with doubling pauses; dead-letter on failure."""
        import httpx

        body = alert.model_dump_json().encode()
        headers = {"Content-Type": "application/json", EVENT_HEADER: alert.type}
        if self._secret:
            headers[SIGNATURE_HEADER] = signature(body, self._secret)
        error = ""
        for attempt in range(self._retries + 1):
            if attempt:
                time.sleep(BACKOFF_FIRST_S * 2 ** (attempt - 1))
            try:
                response = self._client.post(self._target, content=body, headers=headers)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {mask_url(str(exc))}"
                continue
            if response.is_success:
                return
            error = f"HTTP {response.status_code}"
            if response.status_code not in RETRY_STATUS:
                break
        self._dead_letter(alert, error)
        raise RuntimeError(f"gave up after {attempt + 1} attempt(s): {error}; kept in {self._dead_letters}")

    def _dead_letter(self, alert: Alert, error: str) -> None:
        """Append the undelivered alert to the dead-letter file (one JSON line) for a person or a script to resend."""
        line = json.dumps(
            {"failed_at": datetime.now(timezone.utc).isoformat(), "target": mask_url(self.url), "error": error,
             "alert": alert.model_dump(mode="json")},
            ensure_ascii=False,
        )
        with self._lock:
            self._dead_letters.parent.mkdir(parents=True, exist_ok=True)
            with self._dead_letters.open("a", encoding="utf-8") as f:
                f.write(line + "\n")

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()
