"""Evaluation tables for terminals (rich): per clip, summaries side by side, breakdowns, reliability.

Names (clip files, groups) are never cut: their column keeps its full width and the short numeric
columns wrap instead, so a narrow terminal still shows whole file names.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from sitewatch.training.eval import CalibrationReport, EvalResult, EvalSummary

_COLUMNS = ("clips", "P", "R", "F1", "TP", "FP", "FN", "TN", "FA/h", "≤2 s", "med |err|")


def _name_column(table: Table, header: str, names: list[str]) -> None:
    table.add_column(header, no_wrap=True, min_width=max([len(header), *map(len, names)]))


def _cells(s: EvalSummary) -> list[str]:
    return [
        str(s.scored),
        f"{s.precision:.2f}",
        f"{s.recall:.2f}",
        f"{s.f1:.2f}",
        str(s.tp),
        str(s.fp),
        str(s.fn),
        str(s.tn),
        "-" if s.false_alarms_per_hour is None else f"{s.false_alarms_per_hour:.1f}",
        "-" if s.on_time_fraction is None else f"{s.on_time_fraction:.0%}",
        "-" if s.timing_median_abs_s is None else f"{s.timing_median_abs_s:.2f}",
    ]


def clip_table(result: EvalResult) -> Table:
    """One row per clip: label, verdict, first event, labelled start, error, outcome."""
    table = Table(title=result.manifest)
    _name_column(table, "clip", [c.file for c in result.clips])
    for column in ("label", "verdict", "first s", "label s", "err s", "outcome"):
        table.add_column(column)
    for c in result.clips:
        verdict = "error" if c.error else ("accident" if c.accident else "no")
        table.add_row(
            c.file,
            c.label,
            verdict,
            f"{c.first_event_s:.1f}" if c.first_event_s is not None else "",
            f"{c.fall_start_s:.1f}" if c.fall_start_s is not None else "",
            f"{c.timing_error_s:+.1f}" if c.timing_error_s is not None else "",
            c.outcome,
        )
    return table


def summary_table(title: str, rows: dict[str, EvalSummary]) -> Table:
    """One row per named summary (FA/h: false alarms per hour of no_fall; ≤2 s: first events on time)."""
    table = Table(title=title)
    _name_column(table, "", list(rows))
    for column in _COLUMNS:
        table.add_column(column, justify="right")
    for name, summary in rows.items():
        table.add_row(name, *_cells(summary))
    return table


def breakdown_tables(result: EvalResult, keys: tuple[str, ...] = ("group", "event_type", "setting")) -> list[Table]:
    """The result's summary split by each clip field in `keys` (fields no clip has are left out)."""
    return [
        summary_table(f"{result.detector}: by {key}", result.by(key))  # type: ignore[arg-type]
        for key in keys
        if any(getattr(c, key) for c in result.clips)
    ]


def reliability_table(title: str, report: CalibrationReport) -> Table:
    """Calibrated probability bins against the observed share of falls."""
    table = Table(title=f"{title} (Brier {report.brier:.3f})")
    for column in ("probability", "clips", "mean predicted", "observed falls"):
        table.add_column(column, justify="right")
    for b in report.bins:
        table.add_row(
            f"{b.low:.1f}-{b.high:.1f}",
            str(b.clips),
            "-" if b.mean_probability is None else f"{b.mean_probability:.2f}",
            "-" if b.fall_fraction is None else f"{b.fall_fraction:.2f}",
        )
    return table


def print_tables(*tables: Table) -> None:
    """Print tables to the terminal at its width (200 columns into a file or pipe, where rich would pick 80)."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    for table in tables:
        console.print(table)
