"""Receive a multipart upload as it streams in: the file part goes to disk in chunks, hashed, size-capped."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from sitewatch.api.problems import Problem
from sitewatch.process import pid_alive

FILE_FIELD = "file"
# Uploads in progress carry the server's pid, so a restarted server can tell a killed one's leftovers.
UPLOAD_PREFIX = "upload-"
_LEFTOVER_RE = re.compile(re.escape(UPLOAD_PREFIX) + r"(\d+)-.*\.part$")
# Small text fields (options) only: anything bigger is not an option.
MAX_FIELD_BYTES = 4096
MAX_FIELDS = 32


def too_large(limit_bytes: int) -> Problem:
    """The 413 an upload over `limit_bytes` gets."""
    megabytes = limit_bytes // (1 << 20)
    return Problem(413, f"the upload is larger than the limit of {megabytes} MB (SITEWATCH_UPLOAD_LIMIT_MB)")


@dataclass
class Upload:
    """A received upload: the file on disk (under a temporary name), its digest, and the text fields."""

    path: Path
    sha256: str
    size: int
    filename: str
    fields: dict[str, str] = field(default_factory=dict)


class _Receiver:
    """python-multipart callbacks: route each part's bytes to the file or to a text field."""

    def __init__(self, out: Path, limit_bytes: int) -> None:
        self.out = out
        self.limit = limit_bytes
        self.file: BinaryIO | None = None
        self.digest = hashlib.sha256()
        self.size = 0
        self.filename = ""
        self.fields: dict[str, str] = {}
        self._headers: dict[bytes, bytes] = {}
        self._header_name = b""
        self._header_value = b""
        self._part: str | None = None
        self._is_file = False
        self._text = bytearray()

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._grow("_header_name", data[start:end]),
            "on_header_value": lambda data, start, end: self._grow("_header_value", data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _grow(self, name: str, data: bytes) -> None:
        setattr(self, name, getattr(self, name) + data)

    def _part_begin(self) -> None:
        self._headers, self._part, self._is_file, self._text = {}, None, False, bytearray()

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._part = params.get(b"name", b"").decode("utf-8", "replace")
        self._is_file = self._part == FILE_FIELD
        if self._is_file:
            if self.file is not None:
                raise Problem(422, f"send one video in the field '{FILE_FIELD}', not several")
            self.filename = params.get(b"filename", b"").decode("utf-8", "replace")
            self.file = self.out.open("wb")
        elif len(self.fields) >= MAX_FIELDS:
            raise Problem(422, "too many form fields")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._is_file:
            self.size += len(chunk)
            if self.size > self.limit:
                raise too_large(self.limit)
            self.digest.update(chunk)
            assert self.file is not None
            self.file.write(chunk)
        else:
            self._text += chunk
            if len(self._text) > MAX_FIELD_BYTES:
                raise Problem(422, f"the form field '{self._part}' is too long")

    def _part_end(self) -> None:
        if not self._is_file and self._part:
            self.fields[self._part] = self._text.decode("utf-8", "replace").strip()


def remove_leftovers(folder: Path) -> None:
    """Delete uploads that a killed server left half-received."""
    for entry in folder.glob(f"{UPLOAD_PREFIX}*.part"):
        match = _LEFTOVER_RE.match(entry.name)
        if match and int(match.group(1)) != os.getpid() and not pid_alive(int(match.group(1))):
            entry.unlink(missing_ok=True)


async def receive_upload(request: Request, folder: Path, limit_bytes: int) -> Upload:
    """Stream a multipart/form-data body to `folder`, refusing it (413) as soon as the file passes the limit."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise Problem(415, f"send multipart/form-data with the video in the field '{FILE_FIELD}'")
    declared = request.headers.get("content-length", "")
    # Multipart framing adds a little; a body declared well past the limit is refused before it is read.
    if declared.isdigit() and int(declared) > limit_bytes + 64 * 1024:
        raise too_large(limit_bytes)
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{UPLOAD_PREFIX}{os.getpid()}-", suffix=".part", dir=folder)
    os.close(fd)
    path = Path(name)
    receiver = _Receiver(path, limit_bytes)
    parser = MultipartParser(boundary, receiver.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        if receiver.file is None:
            raise Problem(422, f"no video in the form field '{FILE_FIELD}'")
    except MultipartParseError as exc:
        path.unlink(missing_ok=True)
        raise Problem(400, f"the multipart body is malformed ({exc})") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        if receiver.file is not None:
            receiver.file.close()
    return Upload(path, receiver.digest.hexdigest(), receiver.size, receiver.filename or "video", receiver.fields)
