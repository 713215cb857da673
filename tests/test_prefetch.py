"""Reading ahead in a thread: the same frames in the same order, errors where they happened, nothing left running."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from media import write_video

from sitewatch import errors
from sitewatch.video.decode import FrameReader
from sitewatch.video.prefetch import prefetched
from sitewatch.video.probe import probe
from sitewatch.video.sample import fps_plan


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name == "read-ahead"}


def test_read_ahead_gives_the_very_frames_of_a_plain_read(tmp_path: Path) -> None:
    info = probe(write_video(tmp_path / "v.mp4", frames=90, fps=30))
    plain = list(FrameReader(info.path, fps_plan(info, 6), approximate=True))
    reader = FrameReader(info.path, fps_plan(info, 6), approximate=True)
    ahead = list(prefetched(reader))
    assert [f.time_s for f in ahead] == [f.time_s for f in plain] and len(plain) == 18
    assert all(np.array_equal(a.image, b.image) for a, b in zip(ahead, plain, strict=True))
    assert reader.read_until_s >= 0.97 * info.duration_s  # the reader's own account is complete after the read
    assert not _threads()


def test_a_truncated_file_read_ahead_still_says_how_much_was_read(tmp_path: Path) -> None:
    good = write_video(tmp_path / "v.mp4", frames=120, container_options={"movflags": "faststart"})
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    reader = FrameReader(cut, fps_plan(probe(cut), 10))
    frames = list(prefetched(reader))
    assert frames and 0.5 < reader.read_until_s < 3.5
    assert any("truncated" in w for w in reader.warnings)


def test_an_error_is_raised_to_the_consumer_after_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise errors.NoFramesError("the file broke after two frames")

    got: list[int] = []
    with pytest.raises(errors.NoFramesError, match="after two frames"):
        for item in prefetched(source()):
            got.append(item)
    assert got == [1, 2]
    assert not _threads()


def test_stopping_early_stops_the_reading_and_closes_the_source() -> None:
    closed = threading.Event()
    produced: list[int] = []

    def source() -> Iterator[int]:
        try:
            for i in range(10_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    ahead = prefetched(source(), depth=2)
    assert [next(ahead) for _ in range(3)] == [0, 1, 2]
    ahead.close()
    assert closed.wait(2.0), "the source was left open"
    assert len(produced) < 10, "the reader went on reading after the consumer stopped"
    assert not _threads()
