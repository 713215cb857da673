"""Why a camera is down, in a few plain words for status lines and /healthz (never an errno or a class name)."""

from __future__ import annotations

import av

from sitewatch.live.urls import mask_url

MAX_CHARS = 300


def explain(exc: BaseException, stall_s: float) -> str:
    """What went wrong with a camera connection, as an operator would say it."""
    errors = av.error
    # PyAV's classes also derive from Python's own (ConnectionRefusedError, ...): most specific first.
    if isinstance(exc, errors.ExitError):
        # FFmpeg's read timeout fired: nothing came for the stall time.
        return f"no data for {stall_s:g} s"
    if isinstance(exc, errors.HTTPUnauthorizedError):
        return "the camera refused the user name or password (401)"
    if isinstance(exc, errors.HTTPForbiddenError):
        return "access forbidden (403)"
    if isinstance(exc, errors.HTTPNotFoundError):
        return "no such stream on the camera (404): check the path"
    if isinstance(exc, (errors.HTTPClientError, errors.HTTPServerError)):
        return f"the camera answered with an error ({getattr(exc, 'strerror', None) or 'HTTP error'})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: nothing listens at that address and port"
    if isinstance(exc, ConnectionResetError):
        return "the camera closed the connection"
    if isinstance(exc, TimeoutError):
        return f"no answer within {stall_s:g} s"
    if isinstance(exc, FileNotFoundError):
        return "no such file or device"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, errors.InvalidDataError):
        return "what arrived could not be read as video"
    if isinstance(exc, OSError) and getattr(exc, "errno", None) == 5:
        return "input/output error: the host may be unknown or unreachable"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return mask_url(text)[:MAX_CHARS]
