"""The tables the training command prints (rich), kept apart from the fitting."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from sitewatch.detect.train.cv import CalibrationReport
from sitewatch.eval import EvalResult, EvalSummary

_COLUMNS = ("clips", "P", "R", "F1", "TP", "FP", "FN", "TN", "false alarms/h", "on time (2 s)", "median |err| s")


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


def summary_table(title: str, rows: dict[str, EvalSummary]) -> Table:
    """One row per named summary."""
    table = Table(title=title)
    table.add_column("")
    for column in _COLUMNS:
        table.add_column(column, justify="right")
    for name, summary in rows.items():
        table.add_row(name, *_cells(summary))
    return table


def breakdown_tables(result: EvalResult, keys: tuple[str, ...] = ("group", "event_type", "setting")) -> list[Table]:
    """The result's summary split by each clip field in `keys`."""
    return [summary_table(f"{result.detector}: by {key}", result.by(key)) for key in keys]  # type: ignore[arg-type]


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
    """Print tables wide enough for whole file names."""
    console = Console(width=max(Console().width, 140))
    for table in tables:
        console.print(table)
