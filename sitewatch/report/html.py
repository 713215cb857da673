"""Render a Report as one HTML page: verdict, summaries, event table, keyframes and the signal timeline."""

from __future__ import annotations

from html import escape
from pathlib import Path

from sitewatch.report.keyframes import Keyframe
from sitewatch.report.timeline import timeline_svg
from sitewatch.report.words import EVENT_KO, VERDICT_LABELS
from sitewatch.schema import Report, Verdict

_VERDICT_COLOURS = {Verdict.accident: "#b00020", Verdict.uncertain: "#b26a00", Verdict.no_accident: "#1b7f3b"}

_CSS = """
body{font-family:system-ui,'Noto Sans CJK KR','Malgun Gothic',sans-serif;margin:2rem auto;max-width:960px;
color:#222;padding:0 1rem}
h1{font-size:1.5rem}.badge{display:inline-block;color:#fff;padding:.3rem .8rem;border-radius:4px;
font-weight:600}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}td,th{border:1px solid #ddd;
padding:.35rem .5rem;text-align:left;font-size:.92rem}th{background:#f3f3f3}
.frames{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:12px}
figure{margin:0}figure img{width:100%;border:1px solid #ccc}figcaption{font-size:.85rem;color:#555}
.summary{font-size:1.05rem;line-height:1.6}.muted{color:#666;font-size:.85rem}
"""


def _row(*cells: object, header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag}>{escape(str(c))}</{tag}>" for c in cells) + "</tr>"


def render_html(report: Report, keyframes: list[Keyframe], folder: Path, lang: str = "ko") -> str:
    """The page as a string; image links are relative to `folder`, where it will be written."""
    colour = _VERDICT_COLOURS[report.verdict]
    verdict_en, verdict_ko = VERDICT_LABELS["en"][report.verdict], VERDICT_LABELS["ko"][report.verdict]
    info = report.video
    summaries = [("ko", report.summary_ko), ("en", report.summary_en)]
    if lang == "en":
        summaries.reverse()
    events = [_row("#", "kind", "종류", "start (s)", "end (s)", "keyframe (s)", "confidence", "people", "source",
                   header=True)]
    for i, e in enumerate(report.events, 1):
        events.append(_row(i, e.kind.value, EVENT_KO[e.kind], f"{e.start_s:.2f}", f"{e.end_s:.2f}",
                           f"{e.keyframe_s:.2f}", f"{e.confidence:.0%}", len(e.people), e.source))
    figures = "".join(
        f'<figure><img src="{escape(k.path.relative_to(folder).as_posix())}" alt="{escape(k.caption)}">'
        f"<figcaption>{escape(k.caption)}</figcaption></figure>"
        for k in keyframes
    )
    opinions = ""
    if report.opinions:
        rows = [_row("window (s)", "accident", "kind", "severity", "description", header=True)]
        rows += [
            _row(f"{o.start_s:.1f}-{o.end_s:.1f}", {True: "yes", False: "no", None: "?"}[o.accident], o.kind or "",
                 o.severity or "", o.description)
            for o in report.opinions
        ]
        title = f"Model verification · 모델 확인 ({escape(report.model or '')})"
        opinions = f"<h2>{title}</h2><table>{''.join(rows)}</table>"
    warnings = "".join(f"<li>{escape(w)}</li>" for w in report.warnings)
    video_rows = "".join([
        _row("file", Path(info.path).name),
        _row("size", f"{info.width}x{info.height}" + (f" (rotated {info.rotation}°)" if info.rotation else "")),
        _row("duration", f"{info.duration_s:.2f} s, {info.frame_count} frames at {info.fps:.2f} fps"),
        _row("codec", f"{info.container}/{info.codec}" + (", audio" if info.has_audio else "")),
        _row("detector", report.detector),
        _row("model", report.model or "none (detector only)"),
        _row("timings", ", ".join(f"{k} {v:g}" for k, v in report.timings.items())),
    ])
    return f"""<!doctype html>
<html lang="{escape(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sitewatch report · {escape(Path(info.path).name)}</title><style>{_CSS}</style></head>
<body>
<h1>sitewatch · {escape(Path(info.path).name)}</h1>
<p><span class="badge" style="background:{colour}">{escape(verdict_ko)} · {escape(verdict_en)}</span>
&nbsp;confidence / 신뢰도 {report.confidence:.0%}</p>
{''.join(f'<p class="summary" lang="{code}">{escape(text)}</p>' for code, text in summaries)}
<h2>Events · 사건</h2>
{f'<table>{"".join(events)}</table>' if report.events else '<p>No events · 감지된 사건 없음</p>'}
<h2>Keyframes · 주요 장면</h2>
<div class="frames">{figures}</div>
<h2>Timeline · 시간대별 신호</h2>
{timeline_svg(report, lang)}
{opinions}
<h2>Video · 영상 정보</h2>
<table>{video_rows}</table>
{f'<h2>Warnings · 경고</h2><ul>{warnings}</ul>' if warnings else ''}
<p class="muted">sitewatch {escape(report.sitewatch_version)} · {escape(report.created_at.isoformat())}</p>
</body></html>
"""
