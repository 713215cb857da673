"""Where the videos are analysed: a runner takes jobs and yields results as they finish; chosen by name."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from sitewatch.batch.jobs import Done, Job
from sitewatch.request import AnalysisRequest
from sitewatch.settings import Settings

# name -> "module:class"; imported on demand so the pool never loads Ray.
_RUNNERS: dict[str, str] = {
    "pool": "sitewatch.batch.pool:PoolRunner",
    "ray": "sitewatch.batch.cluster:RayRunner",
}


@dataclass(frozen=True)
class Capacity:
    """How much to run at once: `workers` (None: one per core), `address` of a cluster for runners that use one."""

    workers: int | None = None
    address: str | None = None


class Runner(Protocol):
    """Runs jobs with models loaded once per worker, a bounded number in flight; yields each Done as it ends."""

    name: str

    def run(self, jobs: Iterable[Job]) -> Iterator[Done]:
        """Analyse every job (pulled lazily from `jobs`), yielding results in the order they finish."""
        ...


def runner_names() -> list[str]:
    """Names accepted by `get_runner`."""
    return sorted(_RUNNERS)


def get_runner(name: str, settings: Settings, options: AnalysisRequest, capacity: Capacity) -> Runner:
    """The runner registered under `name`, ready to analyse with these settings and options."""
    try:
        target = _RUNNERS[name]
    except KeyError:
        raise ValueError(f"unknown runner {name!r}; choose from {', '.join(runner_names())}") from None
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)(settings, options, capacity)
