"""Server-drawn SVG line charts: they work with JavaScript off and read well at 375 px (they scale)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

W, H = 640, 220
PAD_L, PAD_R, PAD_T, PAD_B = 52, 12, 14, 34


def _clean(t: Sequence[float | None], y: Sequence[float | None]) -> list[tuple[float, float]]:
    return [
        (float(a), float(b))
        for a, b in zip(t, y, strict=False)
        if a is not None and b is not None and math.isfinite(a) and math.isfinite(b)
    ]


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.2g}" if abs(v) < 1 else f"{v:.1f}"


def line_chart(
    *,
    title: str,
    unit: str,
    t_min: Sequence[float | None],
    values: Sequence[float | None],
    low: Sequence[float | None] | None = None,
    high: Sequence[float | None] | None = None,
    color: str = "#0b5cad",
    chart_id: str = "chart",
) -> Markup | None:
    """An SVG line over time (minutes), with an optional shaded range; None when there is nothing to draw."""
    pts = _clean(t_min, values)
    if len(pts) < 2:
        return None
    band = _clean(t_min, high) + list(reversed(_clean(t_min, low))) if low and high else []
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts] + [p[1] for p in band]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)) if unit == "L" else min(ys), max(ys)
    if y1 - y0 < 1e-9:
        y1 = y0 + 1
    pad = (y1 - y0) * 0.05
    y0, y1 = (y0 if unit == "L" else y0 - pad), y1 + pad
    x1 = x1 if x1 > x0 else x0 + 1

    def sx(x: float) -> float:
        return PAD_L + (x - x0) / (x1 - x0) * (W - PAD_L - PAD_R)

    def sy(y: float) -> float:
        return H - PAD_B - (y - y0) / (y1 - y0) * (H - PAD_T - PAD_B)

    line = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {W} {H}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)} ({escape(unit)}) over {x1:.0f} minutes: '
        f"from {_fmt(min(p[1] for p in pts))} to {_fmt(max(p[1] for p in pts))} {escape(unit)}</title>",
    ]
    for v in _ticks(y0, y1):
        y = sy(v)
        parts.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dde3ea"/>')
        parts.append(f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    for v in _ticks(x0, x1, 6):
        x = sx(v)
        parts.append(f'<text x="{x:.1f}" y="{H - PAD_B + 16}" text-anchor="middle">{_fmt(v)}</text>')
    parts.append(f'<text x="{W - PAD_R}" y="{H - 4}" text-anchor="end">minutes</text>')
    parts.append(f'<text x="4" y="{PAD_T - 2}">{escape(unit)}</text>')
    if band:
        poly = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in band)
        parts.append(f'<polygon points="{poly}" fill="{color}" fill-opacity="0.18" stroke="none"/>')
    parts.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def scatter_chart(
    *,
    title: str,
    x_label: str,
    y_label: str,
    points: Sequence[tuple[float, float, bool]],
    chart_id: str = "scatter",
) -> Markup | None:
    """x/y points; the third value marks measured (filled square) against estimated (open circle)."""
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs) - 1, max(xs) + 1
    y0, y1 = 0.0, max(ys) * 1.1 + 0.05

    def sx(x: float) -> float:
        return PAD_L + (x - x0) / (x1 - x0) * (W - PAD_L - PAD_R)

    def sy(y: float) -> float:
        return H - PAD_B - (y - y0) / (y1 - y0) * (H - PAD_T - PAD_B)

    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {W} {H}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}: {len(points)} sessions</title>',
    ]
    for v in _ticks(y0, y1):
        parts.append(
            f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{sy(v):.1f}" y2="{sy(v):.1f}" stroke="#dde3ea"/>'
        )
        parts.append(f'<text x="{PAD_L - 6}" y="{sy(v) + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    for v in _ticks(x0, x1, 6):
        parts.append(f'<text x="{sx(v):.1f}" y="{H - PAD_B + 16}" text-anchor="middle">{_fmt(v)}</text>')
    parts.append(f'<text x="{W - PAD_R}" y="{H - 4}" text-anchor="end">{escape(x_label)}</text>')
    parts.append(f'<text x="4" y="{PAD_T - 2}">{escape(y_label)}</text>')
    for x, y, measured in points:
        if measured:
            parts.append(
                f'<rect x="{sx(x) - 5:.1f}" y="{sy(y) - 5:.1f}" width="10" height="10" fill="#a4161a"/>'
            )
        else:
            parts.append(
                f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="5" fill="none" stroke="#0b5cad" '
                'stroke-width="2"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def bar_chart(
    *, title: str, unit: str, bars: Sequence[tuple[str, float]], chart_id: str = "bars"
) -> Markup | None:
    if not bars:
        return None
    top = max(v for _, v in bars) or 1.0
    width = (W - PAD_L - PAD_R) / len(bars)
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {W} {H}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
    ]
    for i, (label, value) in enumerate(bars):
        h = value / top * (H - PAD_T - PAD_B)
        x = PAD_L + i * width
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{H - PAD_B - h:.1f}" width="{max(width - 4, 1):.1f}" height="{h:.1f}" '
            f'fill="#0b5cad"><title>{escape(label)}: {_fmt(value)} {escape(unit)}</title></rect>'
        )
        if len(bars) <= 12 or i % max(len(bars) // 6, 1) == 0:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{H - PAD_B + 16}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append(f'<text x="4" y="{PAD_T - 2}">{escape(unit)}</text>')
    parts.append(f'<text x="{PAD_L - 6}" y="{PAD_T + 8}" text-anchor="end">{_fmt(top)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
