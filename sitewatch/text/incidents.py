"""Events grouped into incidents: one person's one accident (a fall, then lying down) is one incident."""

from __future__ import annotations

from dataclasses import dataclass

from sitewatch.schema import Event, EventKind

# Phases of one accident follow each other closely: a fall's lying-down phase starts within a second or two.
PHASE_GAP_S = 2.5
# Which phase names the incident when several kinds meet (being struck explains the fall that follows).
HEADLINE_ORDER = (
    EventKind.struck_by,
    EventKind.fall,
    EventKind.person_lost_after_fall,
    EventKind.person_down,
    EventKind.object_drop,
    EventKind.intrusion,
)


@dataclass(frozen=True)
class Incident:
    """One accident as a reader counts it: its phases (detector events) in time order."""

    phases: tuple[Event, ...]

    @property
    def kind(self) -> EventKind:
        """The phase kind that names the incident."""
        kinds = {e.kind for e in self.phases}
        return next(k for k in HEADLINE_ORDER if k in kinds)

    @property
    def start_s(self) -> float:
        """When the first phase began (the time every surface shows)."""
        return min(e.start_s for e in self.phases)

    @property
    def end_s(self) -> float:
        """When the last phase ended."""
        return max(e.end_s for e in self.phases)

    @property
    def confidence(self) -> float:
        """How sure the most certain phase is."""
        return max(e.confidence for e in self.phases)

    @property
    def people(self) -> set[int]:
        """Track ids of the people involved."""
        return {p for e in self.phases for p in e.people}

    def phase(self, kind: EventKind) -> Event | None:
        """The first phase of `kind`, if any."""
        return next((e for e in self.phases if e.kind is kind), None)

    @property
    def later(self) -> list[Event]:
        """The phases after the headline one, one per kind, in time order."""
        head = self.phase(self.kind)
        seen = {self.kind}
        out = []
        for e in self.phases:
            if e is not head and e.kind not in seen:
                seen.add(e.kind)
                out.append(e)
        return out


def _joins(incident: list[Event], event: Event) -> bool:
    end = max(e.end_s for e in incident)
    people = {p for e in incident for p in e.people}
    close = event.start_s <= end + PHASE_GAP_S
    same_person = not people or not event.people or bool(people & set(event.people))
    return close and same_person


def group_incidents(events: list[Event]) -> list[Incident]:
    """Group events that are one person's one accident (overlapping or back to back in time)."""
    groups: list[list[Event]] = []
    for event in sorted(events, key=lambda e: (e.start_s, e.end_s)):
        target = next((g for g in groups if _joins(g, event)), None)
        if target is None:
            groups.append([event])
        else:
            target.append(event)
    return [Incident(tuple(g)) for g in groups]
