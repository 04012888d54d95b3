"""Inline PNG chart of one session for the alert email. Pure: a series in, PNG bytes out.

Two stacked panels over elapsed time, 600×300 px:
- heart rate (or power, when the session has no heart rate);
- cumulative fluid loss, with its likely low–high range shaded.
A panel whose data is missing is left out; with neither, there is no chart (`None`).

Drawn with numpy and encoded with zlib: no plotting library, no display, no system fonts. Text uses the
X11 "misc-fixed" 6x13 bitmap font (regular and bold, ASCII plus "°"), embedded below; its licence reads
"Public domain font.  Share and enjoy." (xorg font-misc-misc). Curves and the band are anti-aliased by 3×3
supersampling; text, grid and axis lines are drawn at 1× so they stay crisp. A 4-hour session renders in
~15 ms (2-core machine) into ~10 KB.

Why not matplotlib (installed, not a dependency): it would add ~0.4 s of import and ~30 MB to every relay
process for two line charts, and its pixels change with its version, backend and font cache. Here the pixels
depend only on the input: the same series give the same bytes (zlib's output for the same input and level is
stable; tests compare decoded pixels as well, so a different zlib build cannot break them).

`chart_series` is the normalised, size-capped subset of `series` that the chart is drawn from. The email
renderer stores THAT in the outbox row (not the PNG) and the relay draws the PNG at send time:
`session_chart_png(chart_series(s)) == session_chart_png(s)`.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from alerts import fmt

WIDTH, HEIGHT = 600, 300
SUPERSAMPLE = 3
MAX_POINTS = 1440  # a day at one point per minute; longer series are thinned evenly
SIGNALS = ("heart_rate", "power")
FLUID_KEYS = ("fluid_l", "fluid_l_low", "fluid_l_high")

_RGB = tuple[int, int, int]
WHITE: _RGB = (255, 255, 255)
TEXT: _RGB = (31, 35, 40)
MUTED: _RGB = (87, 96, 106)
GRID: _RGB = (230, 234, 238)
AXIS: _RGB = (140, 149, 159)
COLOURS: dict[str, _RGB] = {"heart_rate": (207, 34, 46), "power": (130, 80, 223), "fluid_l": (9, 105, 218)}
BAND_ALPHA = 0.22
LINE_HALF_WIDTH = 1.0  # px at 1×: a 2 px line

# X11 misc-fixed 6x13 and 6x13B (public domain), printable ASCII then "°": 13 row bytes per glyph.
_FONT_REGULAR = (
    "00000000000000000000000000 00002020202020202000200000 00005050500000000000000000 "
    "0000005050f850f85050000000 00002078a0a0702828f0200000 000048a85010204050a8900000 "
    "00000040a0a040a09890680000 00002020200000000000000000 00102020404040404020201000 "
    "00402020101010101020204000 000020a870a820000000000000 000000002020f8202000000000 "
    "00000000000000000030204000 000000000000f8000000000000 00000000000000000020702000 "
    "00000808101020404080800000 00002050888888888850200000 00002060a02020202020f80000 "
    "00007088880810204080f80000 0000f808102070080888700000 0000101030505090f810100000 "
    "0000f88080b0c8080888700000 000070888080f0888888700000 0000f808101020204040400000 "
    "00007088888870888888700000 00007088888878080888700000 00000000207020000020702000 "
    "00000000207020000030204000 00000810204080402010080000 0000000000f80000f800000000 "
    "00008040201008102040800000 00007088880810202000200000 000070888898a8a8b080780000 "
    "00002050888888f88888880000 0000f048484870484848f00000 00007088808080808088700000 "
    "0000f048484848484848f00000 0000f8808080f0808080f80000 0000f8808080f0808080800000 "
    "00007088808080988888700000 000088888888f8888888880000 00007020202020202020700000 "
    "00003810101010101090600000 0000888890a0c0a09088880000 00008080808080808080f80000 "
    "00008888d8a8a8888888880000 000088c8c8a8a8989888880000 00007088888888888888700000 "
    "0000f0888888f0808080800000 000070888888888888a8700800 0000f0888888f0a09088880000 "
    "00007088808070080888700000 0000f820202020202020200000 00008888888888888888700000 "
    "00008888888850505020200000 000088888888a8a8a8a8500000 00008888505020505088880000 "
    "00008888505020202020200000 0000f808101020404080f80000 00704040404040404040407000 "
    "00008080404020101008080000 00701010101010101010107000 00002050880000000000000000 "
    "0000000000000000000000f800 00201000000000000000000000 00000000007008788898680000 "
    "0000808080f088888888f00000 00000000007088808088700000 00000808087888888888780000 "
    "00000000007088f88088700000 000030484040f0404040400000 00000000007088888878088870 "
    "0000808080b0c8888888880000 00000020006020202020700000 00000010003010101010909060 "
    "000080808090a0c0a090880000 00006020202020202020700000 0000000000d0a8a8a8a8880000 "
    "0000000000b0c8888888880000 00000000007088888888700000 0000000000f0888888f0808080 "
    "00000000007888888878080808 0000000000b0c8808080800000 00000000007088601088700000 "
    "0000004040f040404048300000 00000000008888888898680000 00000000008888885050200000 "
    "00000000008888a8a8a8500000 00000000008850202050880000 00000000008888889868088870 "
    "0000000000f810204080f80000 001820202020c0202020201800 00002020202020202020200000 "
    "00c0202020201820202020c000 000048a8900000000000000000 00003048483000000000000000 "
)
_FONT_BOLD = (
    "00000000000000000000000000 00003030303030303000300000 0000d8d8d80000000000000000 "
    "0000007878fc78fc7878000000 0000003078f0783c7830000000 00006cfc7818306078fcd80000 "
    "0000000060f0f060fcd87c0000 00003030300000000000000000 00183030606060606030301800 "
    "00603030181818181830306000 00000000cc78fc78cc00000000 000000003030fc303000000000 "
    "00000000000000000038306000 000000000000fc000000000000 00000000000000000030783000 "
    "00000c0c1818306060c0c00000 00003078cccccccccc78300000 00003070f03030303030fc0000 "
    "000078cccc0c183060c0fc0000 0000fc0c1830780c0ccc780000 00001818387858d8fc18180000 "
    "0000fcc0c0f8ec0c0ccc780000 00003860c0c0f8eccccc780000 0000fc0c181830306060600000 "
    "000078cccccc78cccccc780000 000078ccccdc7c0c0c18700000 00000030783000003078300000 "
    "00000000307830000038306000 00000c183060c06030180c0000 0000000000fc0000fc00000000 "
    "0000c06030180c183060c00000 000078cccc0c18303000300000 000078ccccdcfcfcf8c07c0000 "
    "00003078ccccccfccccccc0000 0000f86c6c6c786c6c6cf80000 000078ccc0c0c0c0c0cc780000 "
    "0000f86c6c6c6c6c6c6cf80000 0000fcc0c0c0f8c0c0c0fc0000 0000fcc0c0c0f8c0c0c0c00000 "
    "000078ccc0c0c0dccccc780000 0000ccccccccfccccccccc0000 00007830303030303030780000 "
    "00003c0c0c0c0c0c0ccc780000 0000ccccd8f0e0f0d8cccc0000 0000c0c0c0c0c0c0c0c0fc0000 "
    "0000ccccfcfcfccccccccc0000 0000ccececfcfcdcdccccc0000 000078cccccccccccccc780000 "
    "0000f8ccccccf8c0c0c0c00000 000078ccccccccccccfc780c00 0000f8ccccccf8f0d8cccc0000 "
    "000078ccc0c0780c0ccc780000 0000fc30303030303030300000 0000cccccccccccccccc780000 "
    "0000cccccccc78787830300000 0000ccccccccfcfcfcfccc0000 0000cccc7878307878cccc0000 "
    "0000cccc787830303030300000 0000fc0c1818306060c0fc0000 00786060606060606060607800 "
    "0000c0c060603018180c0c0000 00781818181818181818187800 00003078cc0000000000000000 "
    "0000000000000000000000fc00 00603000000000000000000000 0000000000780c7cccdc6c0000 "
    "0000c0c0c0d8ecccccecd80000 000000000078ccc0c0cc780000 00000c0c0c6cdcccccdc6c0000 "
    "000000000078ccfcc0c0780000 0000386c6060f8606060600000 00000000007cd8d870c078cc78 "
    "0000c0c0c0d8eccccccccc0000 00003030007030303030780000 00001818003818181818d8d870 "
    "0000c0c0c0d8f0e0f0d8cc0000 00007030303030303030780000 0000000000f8fcfcfcfccc0000 "
    "0000000000d8eccccccccc0000 000000000078cccccccc780000 0000000000d8ecccecd8c0c0c0 "
    "00000000006cdcccdc6c0c0c0c 0000000000d8ecc0c0c0c00000 000000000078cc7018cc780000 "
    "0000006060f86060606c380000 0000000000ccccccccdc6c0000 0000000000cccccc7878300000 "
    "0000000000ccccfcfcfc480000 0000000000cc78303078cc0000 0000000000ccccccdc6c0ccc78 "
    "0000000000fc183060c0fc0000 003860606030e0306060603800 00003030303030303030300000 "
    "00e0303030603860303030e000 000068f8900000000000000000 000078cccc7800000000000000 "
)

_CHARSET = "".join(chr(c) for c in range(0x20, 0x7F)) + "°"


@lru_cache(maxsize=2)
def _font(bold: bool) -> dict[str, np.ndarray]:
    """char -> (13, 6) bool mask. Each glyph is 13 rows; each row one byte, leftmost pixel in the top bit."""
    blob = (_FONT_BOLD if bold else _FONT_REGULAR).split()
    out: dict[str, np.ndarray] = {}
    for char, hexrows in zip(_CHARSET, blob, strict=True):
        rows = np.frombuffer(bytes.fromhex(hexrows), dtype=np.uint8)
        out[char] = np.unpackbits(rows[:, None], axis=1)[:, :6].astype(bool)
    return out


GLYPH_W, GLYPH_H = 6, 13


def text_width(text: str) -> int:
    return GLYPH_W * len(text)


def _text(img: np.ndarray, x: int, y: int, text: str, colour: _RGB, *, bold: bool = False) -> None:
    """Blit `text` with its top-left corner at (x, y); clipped to the image; unknown characters as "?"."""
    glyphs = _font(bold)
    h, w = img.shape[:2]
    for i, char in enumerate(text):
        mask = glyphs.get(char, glyphs["?"])
        gx = x + i * GLYPH_W
        x0, y0, x1, y1 = max(gx, 0), max(y, 0), min(gx + GLYPH_W, w), min(y + GLYPH_H, h)
        if x0 >= x1 or y0 >= y1:
            continue
        sub = mask[y0 - y : y1 - y, x0 - gx : x1 - gx]
        img[y0:y1, x0:x1][sub] = colour


def _rect(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, colour: _RGB, alpha: float = 1.0) -> None:
    region = img[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)]
    region[:] = region * (1.0 - alpha) + np.asarray(colour, dtype=np.float32) * alpha


# ---------------------------------------------------------------- data


def _floats(values: Any, n: int) -> np.ndarray:
    """Numbers -> float64 with NaN for anything missing, non-numeric or non-finite; padded/cut to n."""
    out = np.full(n, np.nan)
    if isinstance(values, Sequence) and not isinstance(values, str | bytes):
        for i, v in enumerate(values[:n]):
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                out[i] = float(v)
    return out


def _usable(values: np.ndarray) -> bool:
    return int(np.count_nonzero(np.isfinite(values))) >= 2


def _as_json(values: np.ndarray) -> list[float | int | None]:
    out: list[float | int | None] = []
    for v in values.tolist():
        if v != v:  # NaN
            out.append(None)
        else:
            out.append(int(v) if float(v).is_integer() else v)
    return out


def chart_series(series: Mapping[str, Any] | None) -> dict[str, list[float | int | None]] | None:
    """The part of a session's `series` the chart draws, cleaned, or None when nothing is drawable.

    Keeps `t_min`, ONE of `heart_rate` / `power` (heart rate when it has at least two points), and
    `fluid_l` with `fluid_l_low` / `fluid_l_high`. Nulls stay null (a gap in the curve); rows without a
    time are dropped; rows are sorted by time; more than MAX_POINTS rows are thinned evenly. Idempotent.
    """
    if not isinstance(series, Mapping):
        return None
    raw_t = series.get("t_min")
    if not isinstance(raw_t, Sequence) or isinstance(raw_t, str | bytes):
        return None
    t = _floats(raw_t, len(raw_t))
    keep = np.flatnonzero(np.isfinite(t) & (t >= 0))
    keep = keep[np.argsort(t[keep], kind="stable")]
    if keep.size > MAX_POINTS:
        keep = keep[np.unique(np.linspace(0, keep.size - 1, MAX_POINTS).round().astype(int))]
    if keep.size < 2 or t[keep[-1]] <= 0:
        return None
    cols = {key: _floats(series.get(key), len(raw_t))[keep] for key in (*SIGNALS, *FLUID_KEYS)}
    for key in SIGNALS:  # a heart rate or power of 0 or less is a dropout, not a reading
        cols[key][cols[key] <= 0 if key == "heart_rate" else cols[key] < 0] = np.nan
    out: dict[str, list[float | int | None]] = {"t_min": _as_json(t[keep])}
    signal = next((key for key in SIGNALS if _usable(cols[key])), None)
    if signal:
        out[signal] = _as_json(cols[signal])
    if _usable(cols["fluid_l"]):
        for key in FLUID_KEYS:
            if key == "fluid_l" or _usable(cols[key]):
                out[key] = _as_json(cols[key])
    return out if len(out) > 1 else None


# ---------------------------------------------------------------- scales


def _nice_step(span: float, target: int) -> float:
    raw = max(span, 1e-9) / max(target, 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * magnitude >= raw - 1e-12:
            return m * magnitude
    return 10.0 * magnitude


def _y_scale(values: list[np.ndarray], *, from_zero: bool) -> tuple[float, float, float]:
    """(low, high, step): round numbers around the data, with the finest step that gives at most 5 bands."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values])
    lo, hi = (0.0 if from_zero else float(finite.min())), float(finite.max())
    if hi - lo < 1e-9:  # a flat line: give it room
        pad = 1.0 if from_zero else max(abs(lo) * 0.1, 1.0)
        lo, hi = (lo, hi + pad) if from_zero else (lo - pad, hi + pad)
    for target in (5, 4, 3, 2):
        step = _nice_step(hi - lo, target)
        low, high = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
        if round((high - low) / step) <= 5:
            break
    return low, high, step


def _tick_label(value: float, step: float) -> str:
    decimals = 0
    while decimals < 4 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6:
        decimals += 1
    return f"{value:.{decimals}f}"


X_STEPS_MIN = (1, 2, 5, 10, 15, 20, 30, 60, 90, 120, 180, 240, 360, 480, 720, 1440, 2880)


def _x_step(t_end: float) -> int:
    return next((s for s in X_STEPS_MIN if t_end / s <= 7), X_STEPS_MIN[-1])


def _hmm(minutes: float) -> str:
    m = int(round(minutes))
    return f"{m // 60}:{m % 60:02d}"


# ---------------------------------------------------------------- curves (supersampled)


def _sample(t: np.ndarray, v: np.ndarray, tc: np.ndarray) -> np.ndarray:
    """Piecewise-linear v(t) at the times tc; NaN outside the data and across a missing point."""
    i = np.searchsorted(t, tc, side="right")
    inside = (i > 0) & (i < t.size)
    i0, i1 = np.clip(i - 1, 0, t.size - 1), np.clip(i, 0, t.size - 1)
    t0, t1 = t[i0], t[i1]
    frac = np.divide(tc - t0, t1 - t0, out=np.zeros_like(tc), where=t1 > t0)
    y = v[i0] + frac * (v[i1] - v[i0])
    return np.where(inside, y, np.nan)


def _spans(rows: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    r = np.arange(rows, dtype=np.float64)[:, None] + 0.5
    with np.errstate(invalid="ignore"):
        return (r >= lo[None, :]) & (r <= hi[None, :])


def _line_spans(rows: int, y: np.ndarray, half: float) -> np.ndarray:
    """A polyline through one y per column, `half` sub-pixels either side of it.

    Each column spans to the midpoints with its neighbours (so steep parts stay joined); the mask is then
    widened sideways as well, so a steep part is as thick as a flat one.
    """
    prev = np.concatenate(([np.nan], y[:-1]))
    nxt = np.concatenate((y[1:], [np.nan]))
    to_prev = np.where(np.isnan(prev), y, (prev + y) / 2)
    to_next = np.where(np.isnan(nxt), y, (y + nxt) / 2)
    gap = np.isnan(y)
    lo = np.where(gap, np.nan, np.fmin(np.fmin(to_prev, to_next), y) - half)
    hi = np.where(gap, np.nan, np.fmax(np.fmax(to_prev, to_next), y) + half)
    mask = _spans(rows, lo, hi)
    reach = max(int(round(half)) - 1, 0)
    wide = mask.copy()
    for k in range(1, reach + 1):
        wide[:, k:] |= mask[:, :-k]
        wide[:, :-k] |= mask[:, k:]
    return wide


def _coverage(mask: np.ndarray, s: int) -> np.ndarray:
    h, w = mask.shape[0] // s, mask.shape[1] // s
    return mask.reshape(h, s, w, s).mean(axis=(1, 3), dtype=np.float32)


def _blend(region: np.ndarray, coverage: np.ndarray, colour: _RGB, alpha: float = 1.0) -> None:
    a = (coverage * alpha)[..., None]
    region[:] = region * (1.0 - a) + np.asarray(colour, dtype=np.float32) * a


# ---------------------------------------------------------------- layout and drawing

LEFT, RIGHT = 40, 14
TOP, PLOTS_BOTTOM = 4, 262
TITLE_GAP, PANEL_GAP = 16, 10


def _panel(
    img: np.ndarray,
    *,
    box: tuple[int, int, int, int],
    t: np.ndarray,
    t_end: float,
    x_step: int,
    lines: list[tuple[np.ndarray, _RGB]],
    band: tuple[np.ndarray, np.ndarray, _RGB] | None,
    from_zero: bool,
) -> None:
    x0, y0, w, h = box
    values = [v for v, _ in lines] + (list(band[:2]) if band else [])
    lo, hi, step = _y_scale(values, from_zero=from_zero)

    # grid and y labels at 1×
    tick = lo
    while tick <= hi + step * 1e-6:
        y = y0 + int(round((hi - tick) / (hi - lo) * (h - 1)))
        _rect(img, x0, y, x0 + w, y + 1, GRID)
        label = _tick_label(tick, step)
        _text(img, x0 - 5 - text_width(label), y - 6, label, MUTED)
        tick += step
    for minute in range(0, int(t_end) + 1, x_step):
        x = x0 + int(round(minute / t_end * (w - 1)))
        _rect(img, x, y0, x + 1, y0 + h, GRID)

    # curves, supersampled
    s = SUPERSAMPLE
    tc = (np.arange(w * s, dtype=np.float64) + 0.5) / (w * s) * t_end
    rows = h * s

    def to_rows(v: np.ndarray) -> np.ndarray:
        return (hi - _sample(t, v, tc)) / (hi - lo) * rows

    region = img[y0 : y0 + h, x0 : x0 + w]
    if band is not None:
        low, high, colour = band
        _blend(region, _coverage(_spans(rows, to_rows(high), to_rows(low)), s), colour, BAND_ALPHA)
    for v, colour in lines:
        _blend(region, _coverage(_line_spans(rows, to_rows(v), LINE_HALF_WIDTH * s), s), colour)
    _rect(img, x0, y0 + h - 1, x0 + w, y0 + h, AXIS)


def _render(data: Mapping[str, list[Any]], units: str) -> np.ndarray:
    t = _floats(data["t_min"], len(data["t_min"]))
    n = t.size
    t_end = float(t[-1])
    signal = next((key for key in SIGNALS if key in data), None)
    fluid = "fluid_l" in data
    panels = int(signal is not None) + int(fluid)
    plot_h = (PLOTS_BOTTOM - TOP - TITLE_GAP * panels - PANEL_GAP * (panels - 1)) // panels
    w = WIDTH - LEFT - RIGHT
    x_step = _x_step(t_end)

    img = np.empty((HEIGHT, WIDTH, 3), dtype=np.float32)
    img[:] = WHITE
    top = TOP
    if signal is not None:
        title = "Heart rate (bpm)" if signal == "heart_rate" else "Power (W)"
        _text(img, LEFT, top, title, TEXT, bold=True)
        _panel(
            img, box=(LEFT, top + TITLE_GAP, w, plot_h), t=t, t_end=t_end, x_step=x_step,
            lines=[(_floats(data[signal], n), COLOURS[signal])], band=None, from_zero=False,
        )  # fmt: skip
        top += TITLE_GAP + plot_h + PANEL_GAP
    if fluid:
        scale = fmt.L_TO_FL_OZ if units == fmt.IMPERIAL else 1.0
        unit = "fl oz" if units == fmt.IMPERIAL else "L"
        cols = {key: _floats(data.get(key), n) * scale for key in FLUID_KEYS}
        if t[0] > 0:  # nothing is lost before the start: the curve begins at (0, 0)
            t_f = np.concatenate(([0.0], t))
            cols = {key: np.concatenate(([0.0], v)) for key, v in cols.items()}
        else:
            t_f = t
        has_band = "fluid_l_low" in data and "fluid_l_high" in data
        colour = COLOURS["fluid_l"]
        _text(img, LEFT, top, f"Cumulative fluid loss ({unit})", TEXT, bold=True)
        _legend(img, top, colour, has_band=has_band)
        _panel(
            img, box=(LEFT, top + TITLE_GAP, w, plot_h), t=t_f, t_end=t_end, x_step=x_step,
            lines=[(cols["fluid_l"], colour)],
            band=(cols["fluid_l_low"], cols["fluid_l_high"], colour) if has_band else None,
            from_zero=True,
        )  # fmt: skip
        top += TITLE_GAP + plot_h + PANEL_GAP

    _time_axis(img, top - PANEL_GAP, t_end=t_end, x_step=x_step, w=w)  # shared, under the last panel
    return img


def _legend(img: np.ndarray, top: int, colour: _RGB, *, has_band: bool) -> None:
    """The fluid panel's key, right-aligned on its title line: the estimate's line, the range's band."""
    legend = [("estimate", False)] + ([("likely range", True)] if has_band else [])
    x = WIDTH - RIGHT - sum(16 + text_width(label) + 10 for label, _ in legend) + 10
    for label, is_band in legend:
        if is_band:
            _rect(img, x, top + 2, x + 12, top + 11, colour, BAND_ALPHA)
        else:
            _rect(img, x, top + 5, x + 12, top + 7, colour)
        _text(img, x + 16, top, label, MUTED)
        x += 16 + text_width(label) + 10


def _time_axis(img: np.ndarray, axis_y: int, *, t_end: float, x_step: int, w: int) -> None:
    for minute in range(0, int(t_end) + 1, x_step):
        x = LEFT + int(round(minute / t_end * (w - 1)))
        _rect(img, x, axis_y, x + 1, axis_y + 4, AXIS)
        label = _hmm(minute)
        lx = min(max(x - text_width(label) // 2, 0), WIDTH - text_width(label))
        _text(img, lx, axis_y + 5, label, MUTED)
    title = "Elapsed time (h:mm)"
    _text(img, LEFT + (w - text_width(title)) // 2, axis_y + 22, title, TEXT)


def encode_png(rgb: np.ndarray) -> bytes:
    """8-bit RGB PNG: no row filter, zlib level 6, no ancillary chunks (no time, no gamma, no text).

    On these flat-coloured charts the "None" filter compresses best (~10 KB) and level 6 costs ~2 ms;
    level 9 saves under 10% for 5× the time.
    """
    pixels = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = pixels.shape[:2]
    rows = np.concatenate([np.zeros((h, 1), dtype=np.uint8), pixels.reshape(h, w * 3)], axis=1)

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def session_chart_png(series: Mapping[str, Any] | None, *, units: str = "metric") -> bytes | None:
    """The session chart as PNG bytes (WIDTH×HEIGHT, RGB), or None when the series has nothing to draw."""
    fmt.check_units(units)
    data = chart_series(series)
    if data is None:
        return None
    return encode_png(np.rint(_render(data, units)))
