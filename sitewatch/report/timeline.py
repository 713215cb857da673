"""The detector's signals over time as an inline SVG plot, with the events shaded."""

from __future__ import annotations

from html import escape

from sitewatch.schema import Report
from sitewatch.text import language
from sitewatch.text.style import EVENT_COLOURS

WIDTH, HEIGHT, PAD = 880, 220, 36
_COLOURS = ("#e4002b", "#0072ce", "#2e8b57", "#8a5cf6", "#ff7a00", "#555555")


def timeline_svg(report: Report, lang: str = "en") -> str:
    """An SVG of every signal normalised to its own maximum, over the video's duration, labelled in `lang`."""
    words = language(lang)
    labels = words.signals
    duration = max(report.video.duration_s, 1e-3)
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x(t: float) -> float:
        return PAD + plot_w * min(max(t / duration, 0.0), 1.0)

    def y(v: float) -> float:
        return PAD + plot_h * (1.0 - v)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="detector signals over time" class="timeline">',
        f'<rect x="{PAD}" y="{PAD}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for event in report.events:
        fill = EVENT_COLOURS[event.kind]
        x0, x1 = x(event.start_s), max(x(event.end_s), x(event.start_s) + 2)
        parts.append(
            f'<rect x="{x0:.1f}" y="{PAD}" width="{x1 - x0:.1f}" height="{plot_h}" fill="{fill}" opacity="0.15">'
            f"<title>{escape(words.events[event.kind])} {escape(words.seconds(event.start_s))}"
            f" - {escape(words.seconds(event.end_s))}</title></rect>"
        )
    legend_x = PAD
    for i, series in enumerate(report.signals):
        if not series.times_s:
            continue
        colour = _COLOURS[i % len(_COLOURS)]
        top = max(max(series.values), 1e-9)
        points = " ".join(f"{x(t):.1f},{y(v / top):.1f}" for t, v in zip(series.times_s, series.values, strict=True))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{points}"/>')
        label = f"{labels.get(series.name, series.name)} ({words.t('signal_max', value=top)})"
        parts.append(f'<text x="{legend_x}" y="{PAD - 10}" font-size="12" fill="{colour}">{escape(label)}</text>')
        # Hangul glyphs are about twice as wide as Latin ones.
        legend_x += sum(14 if ord(ch) > 0x1100 else 7 for ch in label) + 18
    ticks = 10 if duration >= 10 else max(1, int(duration))
    for k in range(ticks + 1):
        t = duration * k / ticks
        parts.append(
            f'<text x="{x(t):.1f}" y="{HEIGHT - PAD + 16}" font-size="11" text-anchor="middle" fill="#444">'
            f"{t:.1f}s</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)
