"""The detector's signals over time as an inline SVG plot, with the events shaded."""

from __future__ import annotations

from html import escape
from itertools import pairwise

from sitewatch.schema import Report, SignalSeries
from sitewatch.text import language
from sitewatch.text.style import EVENT_COLOURS

WIDTH, HEIGHT, PAD = 880, 220, 36
# The legend sits under the time axis, in as many rows of this height as its labels need.
LEGEND_ROW = 16
# Where a series has no reading up to the end of the video: (from, to, the last value).
Gap = tuple[float, float, float]
_COLOURS = ("#e4002b", "#0072ce", "#2e8b57", "#8a5cf6", "#ff7a00", "#555555")


def timeline_svg(report: Report, lang: str = "en") -> str:
    """An SVG of every signal normalised to its own maximum, over the video's duration, labelled in `lang`."""
    words = language(lang)
    duration = max(report.video.duration_s, 1e-3)
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x(t: float) -> float:
        return PAD + plot_w * min(max(t / duration, 0.0), 1.0)

    def y(v: float) -> float:
        return PAD + plot_h * (1.0 - v)

    parts = [f'<rect x="{PAD}" y="{PAD}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ccc"/>']
    for event in report.events:
        fill = EVENT_COLOURS[event.kind]
        x0, x1 = x(event.start_s), max(x(event.end_s), x(event.start_s) + 2)
        parts.append(
            f'<rect x="{x0:.1f}" y="{PAD}" width="{x1 - x0:.1f}" height="{plot_h}" fill="{fill}" opacity="0.15">'
            f"<title>{escape(words.events[event.kind])} {escape(words.seconds(event.start_s))}"
            f" - {escape(words.seconds(event.end_s))}</title></rect>"
        )
    legend: list[tuple[str, str]] = []
    gaps = False
    for i, series in enumerate(report.signals):
        if not series.times_s:
            continue
        colour = _COLOURS[i % len(_COLOURS)]
        top = max(max(series.values), 1e-9)
        (measured, gap) = _to_the_end(series, report.video.duration_s)
        points = " ".join(f"{x(t):.1f},{y(v / top):.1f}" for t, v in measured)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{points}"/>')
        if gap is not None:
            gaps = True
            (t0, t1, v) = gap
            parts.append(
                f'<line x1="{x(t0):.1f}" y1="{y(v / top):.1f}" x2="{x(t1):.1f}" y2="{y(v / top):.1f}" '
                f'stroke="{colour}" stroke-width="1.2" stroke-dasharray="4 3"><title>{escape(words.t("timeline_gap"))}'
                "</title></line>"
            )
        legend.append((words.signal_label(series.name, top), colour))
    if gaps:
        legend.append((words.t("timeline_gap"), "#666"))
    legend_x, legend_y = PAD, HEIGHT - PAD + 16 + LEGEND_ROW
    for label, colour in legend:
        # Hangul glyphs are about twice as wide as Latin ones.
        width = sum(14 if ord(ch) > 0x1100 else 7 for ch in label) + 18
        if legend_x + width > WIDTH - PAD and legend_x > PAD:
            legend_x, legend_y = PAD, legend_y + LEGEND_ROW
        parts.append(f'<text x="{legend_x}" y="{legend_y}" font-size="12" fill="{colour}">{escape(label)}</text>')
        legend_x += width
    height = max(HEIGHT, legend_y + LEGEND_ROW // 2)
    ticks = 10 if duration >= 10 else max(1, int(duration))
    for k in range(ticks + 1):
        t = duration * k / ticks
        parts.append(
            f'<text x="{x(t):.1f}" y="{HEIGHT - PAD + 16}" font-size="11" text-anchor="middle" fill="#444">'
            f"{escape(words.seconds(t))}</text>"
        )
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(words.t("timeline_tab"))}" class="timeline">'
    )
    return "\n".join([head, *parts, "</svg>"])


def _to_the_end(series: SignalSeries, duration_s: float) -> tuple[list[tuple[float, float]], Gap | None]:
    """A series' points reaching to the end of its last time bin, and the unmeasured rest of the video (if any).

    Each value covers a bin from its time to the next one; the detector scores falls only while someone is in
    view, so its series may stop early: the rest is returned as (start, end, last value), drawn dashed.
    """
    points = list(zip(series.times_s, series.values, strict=True))
    times = series.times_s
    step = min((b - a for a, b in pairwise(times)), default=duration_s - times[-1])
    measured_until = min(times[-1] + step, duration_s)
    last = points[-1][1]
    points.append((measured_until, last))
    # Less than a bin short of the end is only the bin's rounding, not a missing reading.
    if duration_s - measured_until <= step:
        points.append((duration_s, last))
        return points, None
    return points, (measured_until, duration_s, last)
