"""`sitewatch watch` in the foreground: start the watcher, print status lines, stop cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable

from sitewatch.live.camera import CameraStatus
from sitewatch.live.config import WatchConfig
from sitewatch.settings import Settings

log = logging.getLogger(__name__)

STATUS_EVERY_S = 30.0  # a status line per camera this often even when nothing changes (counters move)
WAKE_S = 0.5


def _line(status: CameraStatus, as_json: bool) -> str:
    if as_json:
        return json.dumps({"type": "status", **status.model_dump(mode="json")}, ensure_ascii=False)
    s = status
    extra = f" ({s.error})" if s.error else ""
    return (f"{s.camera}: {s.state.value}{extra}; frames {s.frames_read} read, {s.frames_analysed} analysed, "
            f"{s.frames_dropped} dropped; {s.reconnects} reconnects, {s.incidents} incidents")


def run_watch(
    config: WatchConfig, settings: Settings, as_json: bool, echo: Callable[[str], None],
    duration_s: float | None = None,
) -> None:
    """Watch until every camera has ended, `duration_s` passed, or the process is told to stop."""
    from sitewatch.live.watcher import Watcher
    from sitewatch.store import Store

    store = Store.open(settings)
    stop = threading.Event()
    lock = threading.Lock()

    def show(status: CameraStatus) -> None:
        with lock:
            echo(_line(status, as_json))

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    watcher = Watcher(config, settings, store, on_status=show).start()
    try:
        started = time.monotonic()
        shown = started
        while not stop.is_set() and (duration_s is None or time.monotonic() - started < duration_s):
            # Short waits: a signal handler only runs between them, and SIGTERM must stop the watch at once.
            if watcher.wait(WAKE_S):
                break
            if time.monotonic() - shown >= STATUS_EVERY_S:
                shown = time.monotonic()
                for status in watcher.statuses():
                    show(status)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
        store.close()
        signal.signal(signal.SIGTERM, previous)
        sys.stdout.flush()
