"""The review queue's filters as a visitor sends them (query strings), validated like the API's, to a query."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

from sitewatch.schema import EventKind
from sitewatch.store import IncidentQuery
from sitewatch.store.records import Tier

QUEUE_LIMIT = 200  # rows on the queue page (and the span j/k walk through); older ones are reached by dates


class QueueFilters(BaseModel):
    """What the queue shows: camera, site, kind, alarms or possible accidents, reviewed or not, local dates."""

    model_config = ConfigDict(extra="ignore")

    camera: str = Field("", max_length=64, pattern=r"^[A-Za-z0-9_.-]*$")
    site: str = Field("", max_length=100)
    kind: EventKind | Literal[""] = ""
    tier: Tier | Literal[""] = ""
    reviewed: Literal["", "yes", "no"] = ""
    since: date | Literal[""] = ""
    until: date | Literal[""] = ""

    def query(self) -> IncidentQuery:
        """The store query these filters ask for, newest first; dates are the operator's local days."""

        def start_of(day: date) -> datetime:
            return datetime.combine(day, time()).astimezone()

        return IncidentQuery(
            limit=QUEUE_LIMIT,
            camera=self.camera or None,
            site=self.site or None,
            kind=self.kind or None,
            tier=self.tier or None,
            reviewed={"yes": True, "no": False}.get(self.reviewed),
            since=start_of(self.since) if self.since else None,
            until=start_of(self.until + timedelta(days=1)) if self.until else None,
        )

    def encoded(self) -> str:
        """The filters as a query string (empty ones left out), so an incident page keeps its place in the queue."""
        values = {k: str(v.value if isinstance(v, EventKind | Tier) else v) for k, v in self.model_dump().items() if v}
        return urlencode(values)
