"""Render a Report as one HTML page (a Jinja2 template with autoescape), in the reader's language."""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from sitewatch.report.keyframes import Keyframe
from sitewatch.report.templates import template
from sitewatch.report.timeline import timeline_svg
from sitewatch.schema import Report
from sitewatch.text import DEFAULT_LANG, LANGS, describe, keyframe_caption, language
from sitewatch.text.base import Language
from sitewatch.text.clock import local_time
from sitewatch.text.describe import TABLE_COLUMNS
from sitewatch.text.style import VERDICT_COLOURS


def _video_rows(report: Report, words: Language) -> list[tuple[str, str]]:
    info = report.video
    size = f"{info.width}x{info.height}" + (f" ({words.t('rotated', deg=info.rotation)})" if info.rotation else "")
    duration = words.t(
        "duration_value", duration=words.seconds(info.duration_s), frames=info.frame_count, fps=info.fps
    )
    fmt = f"{info.container}/{info.codec}" + (f", {words.t('with_audio')}" if info.has_audio else "")
    rows = [
        (words.t("file"), Path(info.path).name),
        (words.t("frame_size"), size),
        (words.t("duration"), duration),
        (words.t("format"), fmt),
        (words.t("detector"), describe(report, words.code).detector),
        (words.t("model"), report.model or words.t("model_none")),
    ]
    total, speed = report.timings.get("total_s"), report.timings.get("speed_x")
    if total is not None:
        value = words.seconds(total)
        if speed:
            value = words.t("analysis_time_value", total=value, speed=speed)
        rows.append((words.t("analysis_time"), value))
    return rows


def _opinions(report: Report, words: Language) -> list[dict[str, str]]:
    answers = {True: words.t("yes"), False: words.t("no"), None: words.t("unknown")}
    return [
        {
            "window": f"{words.seconds(o.start_s)} - {words.seconds(o.end_s)}",
            "accident": answers[o.accident],
            "kind": o.kind or "",
            "severity": o.severity or "",
            "description": o.description or o.error or "",
        }
        for o in report.opinions
    ]


def render_html(report: Report, keyframes: list[Keyframe], folder: Path, lang: str = DEFAULT_LANG) -> str:
    """The page as a string; image links are relative to `folder`, where it will be written."""
    words = language(lang)
    text = describe(report, lang)
    table_head, table_cells = text.table((*TABLE_COLUMNS, "col_source"))
    frames = [
        {
            "src": k.path.relative_to(folder).as_posix(),
            "caption": keyframe_caption(report, k.event_index, k.time_s, lang),
        }
        for k in keyframes
    ]
    return template("sitewatch.report", "report.html").render(
        lang=words.code,
        words=words,
        report=report,
        name=Path(report.video.path).name,
        text=text,
        table_head=table_head,
        table_cells=table_cells,
        # The same summary in the other languages, for mixed teams.
        others=[describe(report, code) for code in LANGS if code != words.code],
        colour=VERDICT_COLOURS[report.verdict],
        frames=frames,
        # The SVG is built by sitewatch with every label escaped.
        timeline=Markup(timeline_svg(report, lang)),
        opinions=_opinions(report, words),
        video_rows=_video_rows(report, words),
        made_at=local_time(report.created_at, seconds=True),
    )
