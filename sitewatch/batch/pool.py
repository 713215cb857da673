"""The default runner: a process pool on this machine, each worker holding its own detector and models."""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from sitewatch.batch.jobs import WORKER_DIED, Done, Job, VideoResult
from sitewatch.batch.runners import Capacity
from sitewatch.batch.worker import Worker, WorkerStartError, start_worker
from sitewatch.request import AnalysisRequest
from sitewatch.settings import Settings

log = logging.getLogger(__name__)

# Jobs queued per worker beyond the one it runs: enough to keep it busy, few enough to keep memory bounded.
IN_FLIGHT_PER_WORKER = 2
# A job whose worker process died this many times is reported as an error instead of being tried again.
MAX_ATTEMPTS = 2
PARENT_POLL_S = 1.0

_worker: Worker | WorkerStartError | None = None


def _exit_with_parent(parent: int) -> None:
    # A worker blocked on the pool's queue never learns that a killed parent is gone: it would idle forever.
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def _start(settings: Settings, options: AnalysisRequest, threads: int, parent: int) -> None:
    global _worker
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()
    try:
        _worker = start_worker(settings, options, threads)
    except WorkerStartError as exc:
        # Raised from an initializer it would only break the pool; raised from each job it reaches the parent.
        _worker = exc


def _run(job: Job) -> Done:
    if isinstance(_worker, WorkerStartError):
        raise _worker
    assert _worker is not None, "the pool initializer did not run"
    return _worker.run(job)


class PoolRunner:
    """A process pool sized to the cores (or `capacity.workers`); a worker that dies is replaced."""

    name = "pool"

    def __init__(self, settings: Settings, options: AnalysisRequest, capacity: Capacity) -> None:
        self.settings = settings
        self.options = options
        self.workers = capacity.workers or os.cpu_count() or 1

    def _pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: the parent has threads (progress display), and forked locks can deadlock a child.
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self.settings, self.options, max(1, (os.cpu_count() or 1) // self.workers), os.getpid()),
        )

    def run(self, jobs: Iterable[Job]) -> Iterator[Done]:
        """Analyse every job with at most IN_FLIGHT_PER_WORKER jobs per worker submitted at a time."""
        pending = iter(jobs)
        first = next(pending, None)
        if first is None:
            return  # everything was done before: no worker needs to start
        pending = itertools.chain([first], pending)
        attempts: dict[int, int] = {}
        retry: list[Job] = []
        running: dict[Future[Done], Job] = {}
        pool = self._pool()
        try:
            while True:
                while len(running) < self.workers * IN_FLIGHT_PER_WORKER:
                    job = retry.pop() if retry else next(pending, None)
                    if job is None:
                        break
                    running[pool.submit(_run, job)] = job
                if not running:
                    return
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = False
                for future in finished:
                    job = running.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        broken = True
                        retry.append(job)
                if broken:
                    # Every job in flight is lost with the pool; which one killed it is unknown, so each is
                    # tried again, and one that is in flight at MAX_ATTEMPTS deaths is given up on.
                    retry.extend(running.values())
                    running.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = self._pool()
                    for job in list(retry):
                        attempts[job.index] = attempts.get(job.index, 0) + 1
                        if attempts[job.index] >= MAX_ATTEMPTS:
                            retry.remove(job)
                            yield Done(job.index, VideoResult.failed(job, WORKER_DIED))
                    log.warning("a worker process died; %d job(s) will be tried again", len(retry))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
