"""The Ray runner: the same jobs on a Ray cluster, one actor per worker holding its models, bounded in flight.

Workers read the videos and write the reports by path, so every node must see the same files (a shared
filesystem), as a pool on one machine does.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from sitewatch.batch.jobs import WORKER_DIED, Done, Job, VideoResult
from sitewatch.batch.runners import Capacity
from sitewatch.batch.worker import Worker, WorkerStartError, start_worker
from sitewatch.request import AnalysisRequest
from sitewatch.settings import Settings

log = logging.getLogger(__name__)

# Tasks queued per actor beyond the one it runs (Ray would otherwise take every job at once into its queues).
IN_FLIGHT_PER_ACTOR = 2
LOCAL = "local"


class AnalysisActor:
    """A Ray actor: one Worker, its models loaded once when the actor starts."""

    def __init__(self, settings: Settings, options: AnalysisRequest) -> None:
        self.worker: Worker | None = None
        self.failure: str | None = None
        try:
            # One CPU per actor (its Ray resource request), so one thread for the detector.
            self.worker = start_worker(settings, options, threads=1)
        except WorkerStartError as exc:
            # Kept to answer ready(): an actor whose constructor raised only says that it died.
            self.failure = str(exc)

    def ready(self) -> str | None:
        """None once the models are loaded, else why they could not be."""
        return self.failure

    def run(self, job: Job) -> Done:
        """Analyse one job."""
        assert self.worker is not None
        return self.worker.run(job)


class RayRunner:
    """Runs jobs on the cluster at `capacity.address` (auto: the running one; local: start one here)."""

    name = "ray"

    def __init__(self, settings: Settings, options: AnalysisRequest, capacity: Capacity) -> None:
        from sitewatch.optional import require

        self.ray: Any = require("ray", "batch")
        self.settings = settings
        self.options = options
        self.capacity = capacity

    def _connect(self) -> bool:
        """Join (or start) the cluster unless this process already has; return whether this call did."""
        if self.ray.is_initialized():
            return False
        address = self.capacity.address or "auto"
        quiet = {"log_to_driver": False, "logging_level": logging.WARNING, "configure_logging": False}
        if address == LOCAL:
            self.ray.init(num_cpus=self.capacity.workers, include_dashboard=False, **quiet)
        else:
            self.ray.init(address=address, **quiet)
        return True

    def _actors(self) -> list[Any]:
        resources = self.ray.cluster_resources()
        count = self.capacity.workers or max(1, int(resources.get("CPU", 1)))
        gpus = int(resources.get("GPU", 0)) if self.options.model else 0
        # A video-language model wants a GPU of its own; the detector alone runs on one CPU.
        if gpus:
            count = min(count, gpus)
        # Restarted after a crash (reloading its models); the job in hand is retried once, then an error row.
        actor = self.ray.remote(
            num_cpus=1, num_gpus=1 if gpus else 0, max_restarts=-1, max_task_retries=1
        )(AnalysisActor)
        actors = [actor.remote(self.settings, self.options) for _ in range(count)]
        failures = [f for f in self.ray.get([a.ready.remote() for a in actors]) if f]
        if failures:
            raise WorkerStartError(failures[0])
        log.info("ray: %d actor(s), %d GPU each", count, 1 if gpus else 0)
        return actors

    def run(self, jobs: Iterable[Job]) -> Iterator[Done]:
        """Analyse every job, each actor holding at most 1 + IN_FLIGHT_PER_ACTOR of them at a time."""
        ray = self.ray
        pending = iter(jobs)
        first = next(pending, None)
        if first is None:
            return  # everything was done before: no need to join the cluster
        pending = itertools.chain([first], pending)
        started_here = self._connect()
        actors: list[Any] = []
        try:
            actors = self._actors()
            load = {i: 0 for i in range(len(actors))}
            running: dict[Any, tuple[Job, int]] = {}
            limit = len(actors) * (1 + IN_FLIGHT_PER_ACTOR)
            while True:
                while len(running) < limit:
                    job = next(pending, None)
                    if job is None:
                        break
                    slot = min(load, key=load.__getitem__)
                    load[slot] += 1
                    running[actors[slot].run.remote(job)] = (job, slot)
                if not running:
                    return
                ready, _ = ray.wait(list(running), num_returns=1)
                job, slot = running.pop(ready[0])
                load[slot] -= 1
                try:
                    yield ray.get(ready[0])
                except ray.exceptions.RayActorError as exc:
                    # The actor died on this job (a crash, out of memory); Ray restarts it for the next one.
                    log.warning("%s: the ray worker died: %s", job.path, exc)
                    yield Done(job.index, VideoResult.failed(job, WORKER_DIED))
        finally:
            for actor in actors:
                ray.kill(actor)
            if started_here:
                ray.shutdown()
