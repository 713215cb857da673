"""Moments shown to a person: in the operator's local time zone, with the zone named."""

from __future__ import annotations

from datetime import datetime, timezone


def local(moment: datetime) -> datetime:
    """`moment` in this machine's time zone (a naive moment is taken as UTC, as the store keeps it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone()


def zone_name(moment: datetime | None = None) -> str:
    """The local zone's short name at `moment` (now by default): KST, CET, UTC, or its offset (+0530)."""
    here = local(moment or datetime.now(timezone.utc))
    return here.tzname() or here.strftime("%z")


def local_time(moment: datetime, seconds: bool = False) -> str:
    """2026-12-01 19:03 KST: the local date and time with its zone."""
    here = local(moment)
    return f"{here.strftime('%Y-%m-%d %H:%M:%S' if seconds else '%Y-%m-%d %H:%M')} {zone_name(here)}"
