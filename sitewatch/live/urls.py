"""Camera and notification URLs: how a source is opened, and how any URL is shown without its credentials."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "srt", "udp", "tcp")


def mask_url(url: str) -> str:
    """The URL with any user:password@ replaced by ***@ (for logs, status lines and alerts)."""
    return _USERINFO.sub("***@", url)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without user:password@, and the (user, password) it held: logged URLs then never carry them."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=host).geturl(), (unquote(parts.username or ""), unquote(parts.password or ""))


@dataclass(frozen=True)
class Source:
    """How PyAV opens one camera: the target, its demuxer (if forced), options, and whether to pace it."""

    target: str
    format: str | None
    options: dict[str, str]
    realtime: bool  # a file: frames are released at the rate they were recorded


def source_for(url: str, timeout_s: float) -> Source:
    """Open options for an operator-given URL: RTSP over TCP, network timeouts, V4L2 devices, local files."""
    scheme = urlsplit(url).scheme.lower()
    micros = str(int(timeout_s * 1_000_000))
    if scheme in ("rtsp", "rtsps"):
        # TCP: no lost UDP packets on busy networks; `timeout` bounds every socket read (microseconds).
        return Source(url, None, {"rtsp_transport": "tcp", "timeout": micros}, realtime=False)
    if scheme in STREAM_SCHEMES:
        return Source(url, None, {"rw_timeout": micros, "reconnect": "0"}, realtime=False)
    path = unquote(urlsplit(url).path) if scheme == "file" else url
    if path.startswith("/dev/video"):
        return Source(path, "v4l2", {}, realtime=False)
    return Source(str(Path(path).expanduser()), None, {}, realtime=True)
