"""Run the API with uvicorn, refusing to expose it beyond loopback without a token."""

from __future__ import annotations

import ipaddress
import logging

from sitewatch.errors import SettingsError
from sitewatch.settings import Settings


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve the API until interrupted; binding anything but loopback needs SITEWATCH_API_TOKEN."""
    from sitewatch.optional import require

    require("fastapi", "api")
    uvicorn = require("uvicorn", "api")
    from sitewatch.api.app import create_app

    if not is_loopback(host) and settings.api_token is None:
        raise SettingsError(f"binding {host} exposes the API to the network: set SITEWATCH_API_TOKEN first")
    logging.getLogger("sitewatch").setLevel(logging.INFO)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", timeout_graceful_shutdown=10)
