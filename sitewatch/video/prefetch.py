"""Read ahead: the next frames are decoded in a thread while the current one is analysed.

Decoding and scaling (FFmpeg) and the pose model (LiteRT) both run outside Python's lock, so on two cores
a file is read while its previous frame is looked at, instead of one waiting for the other.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

DEPTH = 3  # frames read ahead: enough to hide a slow frame's decode, few enough to keep memory flat


class _End:
    """The source is exhausted (or failed with `error`)."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def prefetched(source: Iterable[T], depth: int = DEPTH) -> Iterator[T]:
    """Yield `source`'s items in order, read up to `depth` ahead in a thread; its errors are raised here, at the
    point where the consumer would have met them. Closing the iterator stops the reading."""
    items: queue.Queue[T | _End] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: T | _End) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        iterator = iter(source)
        try:
            for item in iterator:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put(_End(exc))
            return
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()  # a reader stopped early releases its file here, in its own thread
        put(_End())

    reader = threading.Thread(target=read, name="read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            item = items.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stop.set()
        reader.join()
