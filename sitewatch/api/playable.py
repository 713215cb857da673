"""Incident clips as browsers play them: H.264 MP4 with the index first (`faststart`), remuxed once and cached.

The live clip is written as fragmented MP4 (it must stay readable while it records); a plain MP4 with its
`moov` at the front lets a browser start playing and seek with range requests before the whole file arrives.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import av

log = logging.getLogger(__name__)

PLAYABLE_DIR = "playable"  # in the data folder: one remuxed clip per analysis, named by the analysis id


def playable_clip(video: Path, cache: Path, analysis_id: str) -> Path:
    """The cached faststart copy of `video` (made now, once, when missing); streams are copied, not re-encoded."""
    target = cache / f"{analysis_id}.mp4"
    if target.is_file() and target.stat().st_mtime >= video.stat().st_mtime:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    # A private name per process, renamed into place: two requests at once never serve a half-written file.
    partial = cache / f".{analysis_id}.{os.getpid()}.part.mp4"
    try:
        _remux(video, partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    log.info("clip of analysis %s remuxed for browsers (%d bytes)", analysis_id, target.stat().st_size)
    return target


def forget_clip(cache: Path, analysis_id: str) -> None:
    """Remove the browser copy of an analysis's clip (its analysis was deleted)."""
    (cache / f"{analysis_id}.mp4").unlink(missing_ok=True)


def _remux(source: Path, target: Path) -> None:
    faststart = {"movflags": "+faststart"}
    with av.open(str(source)) as inp, av.open(str(target), "w", format="mp4", options=faststart) as out:
        video = inp.streams.video[0]
        stream = out.add_stream_from_template(video)
        for packet in inp.demux(video):
            if packet.dts is None:  # the demuxer's flush packet carries nothing
                continue
            packet.stream = stream
            out.mux(packet)
