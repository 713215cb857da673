"""Webhook channel: the alert as JSON, signed with HMAC-SHA256, with its id as the idempotency key."""

from __future__ import annotations

import hashlib
import hmac
import logging

from sitewatch.live.alerts import Alert
from sitewatch.live.outbox import DeliveryError
from sitewatch.live.urls import mask_url, split_credentials

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Sitewatch-Signature"
EVENT_HEADER = "X-Sitewatch-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Answers worth trying again: the receiver is busy or briefly broken; any other 4xx will not change.
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def signature(body: bytes, secret: str) -> str:
    """The signature header's value: sha256=<hex HMAC-SHA256 of the exact body bytes>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Webhook:
    """POSTs each alert to one URL the operator configured."""

    def __init__(self, url: str, secret: str | None, timeout_s: float) -> None:
        import httpx

        self.name = f"webhook {mask_url(url)}"
        self._secret = secret
        # Credentials travel as an Authorization header, not in the URL httpx logs with every request.
        self._target, auth = split_credentials(url)
        # No redirects: the alert (and its signature) goes to the configured URL and nowhere else.
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False, auth=auth)

    def send(self, alert: Alert) -> None:
        """POST the alert once; connection errors and 408/429/5xx are worth another attempt, other answers not."""
        import httpx

        body = alert.model_dump_json().encode()
        headers = {"Content-Type": "application/json", EVENT_HEADER: alert.type, IDEMPOTENCY_HEADER: alert.alert_id}
        if self._secret:
            headers[SIGNATURE_HEADER] = signature(body, self._secret)
        try:
            response = self._client.post(self._target, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {mask_url(str(exc))}") from None
        if not response.is_success:
            raise DeliveryError(f"HTTP {response.status_code}", retry=response.status_code in RETRY_STATUS)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()
