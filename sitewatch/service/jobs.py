"""A bounded pool of worker threads that runs queued analyses; the queue itself is the database."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import threading
import time

from sitewatch.errors import SitewatchError
from sitewatch.process import pid_alive
from sitewatch.schema import Stage
from sitewatch.service.runner import run_analysis
from sitewatch.settings import Settings
from sitewatch.store.records import AnalysisRecord, Progress, Status
from sitewatch.store.store import Store, worker_name

log = logging.getLogger(__name__)

# Workers look for queued jobs this often even when nobody wakes them (another process may have queued one).
POLL_S = 1.0
# Progress goes to the database at most this often; live progress is served from memory.
WRITE_EVERY_S = 0.5


class JobCancelled(Exception):
    """Raised from the progress callback to stop a running analysis that was cancelled."""


class _ShuttingDown(Exception):
    """Raised from the progress callback when the server stops: the job goes back to the queue."""


def default_workers() -> int:
    """One analysis at a time per two cores (the detector uses two threads)."""
    return max(1, (os.cpu_count() or 2) // 2)


def worker_alive(worker: str) -> bool:
    """Whether the process that claimed a job (host:pid) still runs; another host's jobs are left alone."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname():
        return True
    # Our own pid here is a previous life of this server (containers reuse pids): that one is gone.
    return pid.isdigit() and int(pid) != os.getpid() and pid_alive(int(pid))


class AnalysisQueue:
    """Runs the store's queued analyses, at most `workers` at once; cancels and reports live progress."""

    def __init__(self, store: Store, settings: Settings, workers: int | None = None) -> None:
        self.store = store
        self.settings = settings
        self.workers = workers or settings.api_workers or default_workers()
        self._name = worker_name()
        self._wake: queue.Queue[None] = queue.Queue()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._live: dict[str, Progress] = {}
        self._cancelled: set[str] = set()

    def start(self) -> None:
        """Requeue jobs a crashed server left running, then start the workers."""
        for _ in self.store.recover(worker_alive):
            self._wake.put(None)
        for i in range(self.workers):
            thread = threading.Thread(target=self._loop, name=f"sitewatch-worker-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the workers; running jobs stop at their next progress step and go back to the queue."""
        self._stopping.set()
        for _ in self._threads:
            self._wake.put(None)
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def healthy(self) -> bool:
        """Whether every worker thread is running."""
        return bool(self._threads) and all(t.is_alive() for t in self._threads) and not self._stopping.is_set()

    def submit(self) -> None:
        """Tell a worker that a job was queued."""
        self._wake.put(None)

    def cancel(self, analysis_id: str) -> AnalysisRecord:
        """Cancel a queued job at once, or stop a running one at its next progress step."""
        record = self.store.request_cancel(analysis_id)
        if record.status is Status.running:
            self._cancelled.add(analysis_id)
        return record

    def progress(self, analysis_id: str) -> Progress | None:
        """The live progress of a job running here (None when it is not running in this process)."""
        return self._live.get(analysis_id)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                record = self.store.claim_next(self._name)
            except Exception:
                # A database hiccup must not kill the worker: try again after a pause.
                log.exception("could not look for queued analyses")
                record = None
            if record is None:
                with contextlib.suppress(queue.Empty):
                    self._wake.get(timeout=POLL_S)
                continue
            self._run(record)

    def _run(self, record: AnalysisRecord) -> None:
        analysis_id = record.id
        self._live[analysis_id] = Progress(stage=Stage.start)
        last_write = 0.0

        def progress(stage: Stage, done: int, total: int) -> None:
            nonlocal last_write
            if self._stopping.is_set():
                raise _ShuttingDown
            if analysis_id in self._cancelled:
                raise JobCancelled
            current = Progress(stage=stage, done=done, total=total)
            self._live[analysis_id] = current
            now = time.monotonic()
            if now - last_write >= WRITE_EVERY_S:
                last_write = now
                if self.store.set_progress(analysis_id, current):
                    raise JobCancelled

        log.info("analysis %s: running %s", analysis_id, record.video_name)
        try:
            run_analysis(self.store, record, self.settings, progress)
            log.info("analysis %s: done", analysis_id)
        except JobCancelled:
            self.store.mark_cancelled(analysis_id)
            log.info("analysis %s: cancelled", analysis_id)
        except _ShuttingDown:
            self.store.requeue(analysis_id)
            log.info("analysis %s: back in the queue (shutting down)", analysis_id)
        except SitewatchError as exc:
            self.store.fail(analysis_id, str(exc))
            log.info("analysis %s: failed: %s", analysis_id, exc)
        except Exception as exc:
            log.exception("analysis %s: internal error", analysis_id)
            self.store.fail(analysis_id, f"internal error ({type(exc).__name__}); see the server log")
        finally:
            self._live.pop(analysis_id, None)
            self._cancelled.discard(analysis_id)
