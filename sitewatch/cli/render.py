"""What the command line prints as text: reports, the history and the model list, readable at 80 columns."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sitewatch.text import describe, language
from sitewatch.text.clock import local, local_time, zone_name
from sitewatch.text.style import VERDICT_TERMINAL

if TYPE_CHECKING:
    from sitewatch.schema import Report
    from sitewatch.store.records import AnalysisPage, AnalysisRecord
    from sitewatch.vlm.registry import BackendInfo

# History columns a narrow terminal may drop, least important first; id, time, verdict, confidence and file stay.
_OPTIONAL_HISTORY = ("col_tags", "col_found")
# The narrowest the event kinds and tags may wrap to before they are left out instead.
_WRAPPED_MIN = 10
# Shown ids: enough of the uuid to tell analyses apart and to type (`history show` takes a prefix).
ID_CHARS = 8


def print_report(report: Report, lang: str, console: Console) -> None:
    """The verdict, summary, incident table, warnings and footer of one report."""
    words = language(lang)
    text = describe(report, lang)
    console.print(f"[{VERDICT_TERMINAL[report.verdict]}]{text.verdict}[/] ({text.confidence})")
    console.print(text.summary, markup=False)
    if text.rows:
        head, cells = text.table()
        table = Table(*head)
        for row in cells:
            table.add_row(*row)
        console.print(table)
    for warning in report.warnings:
        console.print(f"[yellow]{words.t('warning')}:[/] {warning}", markup=True, highlight=False)
    total = words.seconds(report.timings.get("total_s", 0.0))
    console.print(f"[dim]{words.t('terminal_footer', detector=text.detector, total=total)}[/]")


def _verdict_cell(record: AnalysisRecord, lang: str) -> str:
    words = language(lang)
    if record.verdict is None:
        return words.t(f"state_{record.status.value}")
    return f"[{VERDICT_TERMINAL[record.verdict]}]{words.verdicts[record.verdict]}[/]"


def _history_cells(record: AnalysisRecord, lang: str) -> dict[str, str]:
    words = language(lang)
    return {
        "col_id": record.id[:ID_CHARS],
        "col_time": local(record.created_at).strftime("%Y-%m-%d %H:%M"),
        "verdict": _verdict_cell(record, lang),
        "confidence": words.percent(record.confidence) if record.confidence is not None else "",
        "col_found": ", ".join(dict.fromkeys(words.events[k] for k in record.event_kinds)),
        "file": record.video_name,
        "col_tags": "/".join(t for t in (record.options.site, record.options.camera) if t),
    }


def _title(page: AnalysisPage, lang: str) -> str:
    words = language(lang)
    shown = len(page.items)
    if page.total <= shown:
        return words.t("history_title", total=page.total)
    return words.t("history_newest", shown=shown, total=page.total)


def _history_table(page: AnalysisPage, lang: str, keys: list[str]) -> Table:
    table = Table(title=_title(page, lang), title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False, collapse_padding=True)
    for key in keys:
        label = _label(key, lang)
        if key in _OPTIONAL_HISTORY:
            table.add_column(label, min_width=_WRAPPED_MIN, overflow="fold")
        else:
            # Kept on one line; only a file name longer than the whole terminal folds.
            table.add_column(label, no_wrap=True, overflow="fold", justify="right" if key == "confidence" else "left")
    for record in page.items:
        cells = _history_cells(record, lang)
        table.add_row(*(cells[k] for k in keys))
    return table


def print_history(page: AnalysisPage, lang: str, console: Console) -> None:
    """The analyses as a table in `lang`, local times; columns that do not fit the terminal are left out."""
    words = language(lang)
    if not page.items:
        console.print(words.t("history_empty"))
        return
    keys = ["col_id", "col_time", "verdict", "confidence", "col_found", "file"]
    if any(r.options.site or r.options.camera for r in page.items):
        keys.append("col_tags")
    for optional in _OPTIONAL_HISTORY:
        if _needed(page, lang, keys) <= console.width:
            break
        if optional in keys:
            keys.remove(optional)
    if _needed(page, lang, keys) <= console.width:
        console.print(_history_table(page, lang, keys))
    else:
        _print_history_lines(page, lang, console)
    console.print(f"[dim]{words.t('history_hint')}[/]")


def _label(key: str, lang: str) -> str:
    words = language(lang)
    return words.t(key, zone=zone_name()) if key == "col_time" else words.t(key)


def _needed(page: AnalysisPage, lang: str, keys: list[str]) -> int:
    """The table's width with every kept column on one line and the optional ones wrapped to their minimum."""
    rows = [_history_cells(r, lang) for r in page.items]
    width = 2 * (len(keys) - 1)  # the gaps between columns
    for key in keys:
        widest = max(cell_len(Text.from_markup(text).plain) for text in [_label(key, lang), *(r[key] for r in rows)])
        width += min(widest, _WRAPPED_MIN) if key in _OPTIONAL_HISTORY else widest
    return width


def _print_history_lines(page: AnalysisPage, lang: str, console: Console) -> None:
    """A terminal too narrow for the table: each analysis on two lines, the file name on its own."""
    console.print(_title(page, lang))
    for record in page.items:
        cells = _history_cells(record, lang)
        console.print(f"{cells['col_id']}  {local_time(record.created_at)}  {cells['verdict']} {cells['confidence']}",
                      highlight=False)
        console.print(f"  {cells['file']}", markup=False, highlight=False)


def print_history_entry(record: AnalysisRecord, report: Report | None, html: Path | None, lang: str,
                        console: Console) -> None:
    """One analysis: when and which file, then its report (or why there is none) and the report page's path."""
    words = language(lang)
    console.print(words.t("history_entry", time=local_time(record.created_at), file=record.video_name),
                  markup=False, highlight=False)
    if report is None:
        console.print(words.t("history_not_ready", state=words.t(f"state_{record.status.value}")))
        if record.error:
            console.print(record.error, markup=False, highlight=False)
        return
    print_report(report, lang, console)
    if html is not None:
        # One unbroken line, so the path can be copied or clicked.
        console.print(words.t("report_saved", path=html), markup=False, highlight=False, soft_wrap=True)


def models_table(rows: list[BackendInfo]) -> Table:
    """Each backend form with its software needs, then its aliases with the hardware each needs, once."""
    from sitewatch.vlm.registry import BACKENDS

    table = Table("name", "needs", box=box.SIMPLE_HEAD, pad_edge=False)
    for row in rows:
        if row.name not in BACKENDS:
            table.add_row(f"  {row.name}", row.hardware)
            continue
        if table.row_count:
            table.add_section()
        state = "installed" if row.installed else "not installed"
        table.add_row(f"[bold]{row.target}[/]", f"extra {row.extra} ({state}): {row.needs}. Hardware: {row.hardware}")
    return table
