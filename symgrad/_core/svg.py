"""The drawing primitives of :mod:`symgrad._core.plot`: ticks, paths, markers, histogram
bars, legends, heat maps and colour bars, written as SVG text with two-decimal coordinates.

>>> [label for _, label in ticks(-3.0, 0.0, "log")]
['10⁻³', '10⁻²', '10⁻¹', '1']
>>> [label for _, label in ticks(0.0, 1.0, "linear")]
['0', '0.2', '0.4', '0.6', '0.8', '1.0']
>>> histogram([0.0, 0.5, 1.0, 1.0, 2.5], [0.0, 1.0, 2.0])   # [a, b) bins, the last is [a, b]
[2.0, 2.0]
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from symgrad.errors import InvalidArgument

__all__ = ["CHAR", "FONT", "Scale", "Series", "axis_range", "colorbar", "decade_step",
           "decade_text", "diverging", "draw", "edges", "floats", "heat_cells", "histogram",
           "legend", "mantissa_text", "marker", "num", "segments", "ticks"]

FONT = 11.0
CHAR = 0.58 * FONT  # average advance of a DejaVu Sans character, for layout only
_SUPER = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
# A diverging colour scale (blue → white → red), for heat maps centred on a value.
_DIVERGING = ((0.0, (33, 102, 172)), (0.25, (103, 169, 207)), (0.5, (247, 247, 247)),
              (0.75, (239, 138, 98)), (1.0, (178, 24, 43)))


@dataclass
class Series:
    kind: str  # "line", "points", "band", "hband", "bars", "hline", "vline", "errorbar"
    x: list[float]
    y: list[float]
    label: str | None
    color: str
    width: float = 1.6
    dash: str | None = None
    marker: str = "o"
    filled: bool = True
    size: float = 3.5
    alpha: float = 1.0
    err: list[float] = field(default_factory=list)


@dataclass
class Scale:
    kind: str = "linear"
    lo: float | None = None
    hi: float | None = None
    marks: list[tuple[float, str]] | None = None  # explicit (value, label) ticks

    def fwd(self, v: float) -> float:
        return math.log10(v) if self.kind == "log" else v



def num(v: float) -> str:
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def floats(values: Iterable[Any]) -> list[float]:
    return [float(v) for v in values]


def axis_range(values: list[float], scale: Scale) -> tuple[float, float]:
    """The axis range in scale units: the given limits, else the data padded (linear) or
    widened to whole decades (log)."""
    good = [scale.fwd(v) for v in values
            if math.isfinite(v) and (scale.kind == "linear" or v > 0)]
    lo = scale.fwd(scale.lo) if scale.lo is not None else (min(good) if good else 0.0)
    hi = scale.fwd(scale.hi) if scale.hi is not None else (max(good) if good else 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    if scale.kind == "log":
        if scale.lo is None:
            lo = math.floor(lo + 1e-9)
        if scale.hi is None:
            hi = math.ceil(hi - 1e-9)
        step = decade_step(math.ceil(lo - 1e-9), math.floor(hi + 1e-9))
        # end on a labelled decade (10⁻⁸⁰, not 10⁻⁷⁹) when that adds little
        near = max(1, step // 4)
        if scale.lo is None and lo - math.floor(lo / step + 1e-9) * step <= near:
            lo = math.floor(lo / step + 1e-9) * step
        if scale.hi is None and math.ceil(hi / step - 1e-9) * step - hi <= near:
            hi = math.ceil(hi / step - 1e-9) * step
        return (lo, hi if hi > lo else lo + 1)
    pad = 0.04 * (hi - lo)
    return (lo - pad if scale.lo is None else lo, hi + pad if scale.hi is None else hi)


def ticks(lo: float, hi: float, kind: str) -> list[tuple[float, str]]:
    """(position in scale units, label): decades 10^k on a log axis — every one, or every
    2nd, 5th, 10th, 20th … (round decades: 10⁻²⁰, 10⁻⁴⁰, never 10⁻¹⁴) so that at most 8
    remain, with 2× and 5× marks added when the axis spans less than two decades —
    and 1/2/2.5/5 × 10^k steps on a linear one."""
    if kind == "log":
        k0, k1 = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
        step = decade_step(k0, k1)
        out = [(float(k), decade_text(k)) for k in range(k0, k1 + 1) if k % step == 0]
        if hi - lo < 2:
            out += [(k + math.log10(m), mantissa_text(m, k))
                    for k in range(math.floor(lo) - 1, math.ceil(hi) + 1) for m in (2, 5)
                    if lo - 1e-9 <= k + math.log10(m) <= hi + 1e-9]
        return sorted(out)
    raw = (hi - lo) / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9) + (1 if step / mag == 2.5 else 0))
    first = math.ceil(lo / step - 1e-9)
    linear = []
    for i in range(first, math.floor(hi / step + 1e-9) + 1):
        v = i * step
        label = f"{v:.{decimals}f}"
        linear.append((v, "0" if float(label) == 0 else label.replace("-", "−")))
    return linear


def decade_step(k0: int, k1: int) -> int:
    """Every how many decades a log axis from 10^k0 to 10^k1 is labelled: 1, 2, 5, 10,
    20, … so that at most 8 labels remain."""
    steps = [m * p for p in (1, 10, 100, 1000, 10000) for m in (1, 2, 5)]
    return next(s for s in steps if (k1 - k0) // s < 8)


def decade_text(k: int) -> str:
    """10^k as a tick label: 1, 10, 10², 10⁻³."""
    return "1" if k == 0 else "10" if k == 1 else f"10{str(k).translate(_SUPER)}"


def mantissa_text(m: int, k: int) -> str:
    """m·10^k as a tick label: 0.002, 0.5, 20, 5000 within 10⁻³ … 10³, else 2·10⁻⁵."""
    if -3 <= k <= 3:
        return f"{m * 10**k:.{max(0, -k)}f}" if k < 0 else str(m * 10**k)
    return f"{m}·{decade_text(k)}"


def histogram(values: Iterable[float], edges: list[float], weights: Iterable[float] | None = None,
              density: bool = False) -> list[float]:
    """The (weighted) count of ``values`` in each bin between ``edges``, as NumPy counts:
    bins [a, b), the last one [a, b], values outside (or NaN) left out; ``density`` divides
    by the total in range times the bin width."""
    if len(edges) < 2 or not all(math.isfinite(e) for e in edges) or any(
            b <= a for a, b in itertools.pairwise(edges)):
        raise InvalidArgument("histogram edges are ≥ 2 finite, strictly increasing values")
    counts = [0.0] * (len(edges) - 1)
    for v, w in zip(values, itertools.repeat(1.0) if weights is None else weights, strict=False):
        if edges[0] <= v <= edges[-1]:
            counts[min(bisect.bisect_right(edges, v) - 1, len(counts) - 1)] += w
    total = sum(counts)
    if density and total:
        counts = [c / (total * (b - a)) for c, (a, b) in zip(counts, itertools.pairwise(edges),
                                                             strict=True)]
    return counts


def segments(s: Series, px: Any, py: Any, xlog: bool, ylog: bool) -> list[list[str]]:
    runs: list[list[str]] = [[]]
    for x, y in zip(s.x, s.y, strict=True):
        ok = (math.isfinite(x) and math.isfinite(y) and (x > 0 or not xlog)
              and (y > 0 or not ylog))
        if ok:
            runs[-1].append(f"{num(px(x))},{num(py(y))}")
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def marker(out: list[str], shape: str, x: float, y: float, size: float, color: str,
            filled: bool) -> None:
    fill = color if filled else "#ffffff"
    style = f'fill="{fill}" stroke="{color}" stroke-width="1.1"'
    if shape == "o":
        out.append(f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(size)}" {style}/>')
    elif shape == "s":
        out.append(f'<rect x="{num(x - size)}" y="{num(y - size)}" width="{num(2 * size)}" '
                   f'height="{num(2 * size)}" {style}/>')
    else:
        out.append(f'<path d="M{num(x)},{num(y - size * 1.2)}L{num(x + size)},'
                   f'{num(y + size * 0.8)}L{num(x - size)},{num(y + size * 0.8)}Z" {style}/>')


def draw(out: list[str], s: Series, px: Any, py: Any, box: tuple[float, ...], xlog: bool,
          ylog: bool) -> None:
    """Series ``s`` as one group ``<g class="{kind}">`` (so a reader of the SVG — or a
    test — can tell data lines from reference lines, markers and bars)."""
    body: list[str] = []
    _draw(body, s, px, py, box, xlog, ylog)
    if body:
        out.append(f'<g class="{s.kind}">{"".join(body)}</g>')


def _draw(out: list[str], s: Series, px: Any, py: Any, box: tuple[float, ...], xlog: bool,
          ylog: bool) -> None:
    bx, by, bw, bh = box
    dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
    stroke = f'stroke="{s.color}" stroke-width="{num(s.width)}"{dash} fill="none"'
    if s.kind == "line":
        for run in segments(s, px, py, xlog, ylog):
            out.append(f'<path d="M{"L".join(run)}" {stroke} stroke-linejoin="round"/>')
    elif s.kind in ("points", "errorbar"):
        for x, y, e in zip(s.x, s.y, s.err or [0.0] * len(s.x), strict=True):
            if not (math.isfinite(x) and math.isfinite(y)) or (ylog and y <= 0) or (
                    xlog and x <= 0):
                continue
            if e and (not ylog or y - e > 0):
                out.append(f'<path d="M{num(px(x))},{num(py(y - e))}V{num(py(y + e))}" '
                           f'stroke="{s.color}" stroke-width="1"/>')
            marker(out, s.marker, px(x), py(y), s.size, s.color, s.filled)
    elif s.kind == "hline" and (not ylog or s.y[0] > 0):
        out.append(f'<path d="M{num(bx)},{num(py(s.y[0]))}H{num(bx + bw)}" {stroke}/>')
    elif s.kind == "vline" and (not xlog or s.x[0] > 0):
        out.append(f'<path d="M{num(px(s.x[0]))},{num(by)}V{num(by + bh)}" {stroke}/>')
    elif s.kind == "band":
        x0, x1 = sorted((px(s.x[0]), px(s.x[1])))
        out.append(f'<rect x="{num(x0)}" y="{num(by)}" width="{num(x1 - x0)}" '
                   f'height="{num(bh)}" fill="{s.color}" fill-opacity="{num(s.alpha)}"/>')
    elif s.kind == "hband" and (not ylog or min(s.y) > 0):
        y0, y1 = sorted((py(s.y[0]), py(s.y[1])))
        out.append(f'<rect x="{num(bx)}" y="{num(y0)}" width="{num(bw)}" '
                   f'height="{num(y1 - y0)}" fill="{s.color}" fill-opacity="{num(s.alpha)}"/>')
    elif s.kind == "bars" and not (xlog and s.x[0] <= 0):
        base = by + bh if ylog else py(0.0)
        path = [f"M{num(px(s.x[0]))},{num(base)}"]
        for h, right in zip(s.y, s.x[1:], strict=True):
            path.append(f"V{num(py(h) if h > 0 or not ylog else base)}H{num(px(right))}")
        out.append(f'<path d="{"".join(path)}V{num(base)}Z" fill="{s.color}" '
                   f'fill-opacity="{num(s.alpha)}" stroke="none"/>')


def diverging(t: float) -> str:
    t = min(1.0, max(0.0, t))
    for (a, ca), (b, cb) in itertools.pairwise(_DIVERGING):
        if t <= b:
            f = (t - a) / (b - a)
            return "#" + "".join(f"{round(u + f * (v - u)):02x}" for u, v in zip(ca, cb,
                                                                                  strict=True))
    return "#b2182b"  # pragma: no cover - t ≤ 1 is always inside the scale


def heat_cells(out: list[str], heat: tuple[Any, ...], px: Any, py: Any) -> None:
    xs, ys, z, lo, hi, _ = heat
    xe = edges(xs)
    ye = edges(ys)
    for i, row in enumerate(z):
        for j, v in enumerate(row):
            color = diverging((v - lo) / (hi - lo)) if math.isfinite(v) else "#cccccc"
            x0, x1 = sorted((px(xe[j]), px(xe[j + 1])))
            y0, y1 = sorted((py(ye[i]), py(ye[i + 1])))
            out.append(f'<rect x="{num(x0)}" y="{num(y0)}" width="{num(x1 - x0 + 0.3)}" '
                       f'height="{num(y1 - y0 + 0.3)}" fill="{color}"/>')


def colorbar(out: list[str], scale: tuple[float, float, str],
              box: tuple[float, float, float, float]) -> None:
    lo, hi, label = scale
    x, y, w, h = box
    steps = 32
    for k in range(steps):
        t = (k + 0.5) / steps
        out.append(f'<rect x="{num(x)}" y="{num(y + h - (k + 1) * h / steps)}" '
                   f'width="{num(w)}" height="{num(h / steps + 0.3)}" fill="{diverging(t)}"/>')
    out.append(f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" '
               'fill="none" stroke="#333333" stroke-width="0.6"/>')
    for t, text in ticks(lo, hi, "linear"):
        if lo <= t <= hi:
            ty = y + h - (t - lo) / (hi - lo) * h
            out.append(f'<text x="{num(x + w + 3)}" y="{num(ty + 4)}">{escape(text)}</text>')
    cx, cy = x + w + 40, y + h / 2
    out.append(f'<text x="{num(cx)}" y="{num(cy)}" text-anchor="middle" '
               f'transform="rotate(-90 {num(cx)} {num(cy)})">{escape(label)}</text>')


def edges(c: list[float]) -> list[float]:
    if len(c) == 1:
        return [c[0] - 0.5, c[0] + 0.5]
    mids = [(a + b) / 2 for a, b in itertools.pairwise(c)]
    return [c[0] - (mids[0] - c[0]), *mids, c[-1] + (c[-1] - mids[-1])]


def legend(out: list[str], series: list[Series], where: str,
            box: tuple[float, float, float, float], px: Any, py: Any) -> None:
    entries = [s for s in series if s.label]
    if not entries:
        return
    bx, by, bw, bh = box
    width = 34 + CHAR * max(len(s.label or "") for s in entries)
    height = 6 + 15 * len(entries)
    left, centre, right = bx + 6, bx + (bw - width) / 2, bx + bw - width - 6
    top, bottom = by + 6, by + bh - height - 6
    corners = {"upper right": (right, top), "upper left": (left, top),
               "upper center": (centre, top), "lower right": (right, bottom),
               "lower left": (left, bottom), "lower center": (centre, bottom)}
    if where == "best":
        def crowd(corner: tuple[float, float]) -> int:
            x0, y0 = corner
            return sum(_inside(px, py, x, y, x0, y0, width, height)
                       for s in series if s.kind in ("line", "points", "errorbar")
                       for x, y in zip(s.x, s.y, strict=True)) + sum(
                _under(px, py, s, x0, y0, width, height) for s in series if s.kind == "bars")
        where = min(corners, key=lambda c: (crowd(corners[c]), c))
    if where not in corners:
        raise InvalidArgument(f"legend position must be 'best' or one of {sorted(corners)}")
    x0, y0 = corners[where]
    out.append(f'<g class="legend"><rect x="{num(x0)}" y="{num(y0)}" width="{num(width)}" '
               f'height="{num(height)}" fill="#ffffff" fill-opacity="0.9" stroke="#bbbbbb" '
               'stroke-width="0.6"/>')
    for k, s in enumerate(entries):
        y = y0 + 11 + 15 * k
        sample: list[str] = []
        if s.kind in ("points", "errorbar"):
            marker(sample, s.marker, x0 + 14, y - 3, min(s.size, 4.0), s.color, s.filled)
        elif s.kind in ("band", "hband", "bars"):
            sample.append(f'<rect x="{num(x0 + 5)}" y="{num(y - 8)}" width="18" height="9" '
                          f'fill="{s.color}" fill-opacity="{num(max(s.alpha, 0.3))}"/>')
        else:
            dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
            sample.append(f'<path d="M{num(x0 + 5)},{num(y - 3)}h18" stroke="{s.color}" '
                          f'stroke-width="{num(s.width)}"{dash}/>')
        out.append(f'<g class="{s.kind}">{"".join(sample)}</g>')
        out.append(f'<text x="{num(x0 + 28)}" y="{num(y + 1)}">{escape(s.label or "")}</text>')
    out.append("</g>")


def _inside(px: Any, py: Any, x: float, y: float, x0: float, y0: float, w: float,
            h: float) -> bool:
    try:
        u, v = px(x), py(y)
    except ValueError:  # a log axis and a non-positive value
        return False
    return bool(x0 <= u <= x0 + w and y0 <= v <= y0 + h)


def _under(px: Any, py: Any, s: Series, x0: float, y0: float, w: float, h: float) -> int:
    """How many of the bars ``s`` reach into the box (x0, y0, w, h)."""
    hits = 0
    for a, b, top in zip(s.x, s.x[1:], s.y, strict=False):
        try:
            u0, u1, v = px(a), px(b), py(top)
        except ValueError:  # a log axis and a non-positive value
            continue
        hits += bool(min(u0, u1) < x0 + w and max(u0, u1) > x0 and v < y0 + h)
    return hits
