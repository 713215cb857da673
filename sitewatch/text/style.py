"""Colours shared by every surface (CLI, page, HTML report, keyframes, timeline): language-neutral."""

from __future__ import annotations

from sitewatch.schema import EventKind, Verdict, ZoneKind

VERDICT_COLOURS: dict[Verdict, str] = {
    Verdict.accident: "#b00020",
    Verdict.uncertain: "#b26a00",
    Verdict.no_accident: "#1b7f3b",
}

# rich's names for the same three, for the terminal.
VERDICT_TERMINAL: dict[Verdict, str] = {
    Verdict.accident: "bold red",
    Verdict.uncertain: "bold yellow",
    Verdict.no_accident: "bold green",
}

# The reading that fills a timeline signal's scale, where it is not 1 (shares and probabilities are):
# motion is the mean grey-level change between frames, 0..255.
SIGNAL_FULL_SCALE: dict[str, float] = {"motion_energy": 255.0}

EVENT_COLOURS: dict[EventKind, str] = {
    EventKind.fall: "#e4002b",
    EventKind.person_down: "#ff7a00",
    EventKind.struck_by: "#c800a1",
    EventKind.object_drop: "#0072ce",
    EventKind.person_lost_after_fall: "#8a1c00",
    EventKind.intrusion: "#d4a100",
}

# Zones drawn over a camera's picture (keyframes; the console's stylesheet uses the same two).
ZONE_COLOURS: dict[ZoneKind, str] = {
    ZoneKind.danger: "#e4002b",
    ZoneKind.ignore: "#2f80ed",
}
