"""Figures drawn by symgrad itself, as SVG: the same data gives the same bytes with any
version of NumPy or matplotlib (no plotting library is involved at all).

A :class:`Figure` holds panels (:class:`Axes`) on a grid, or placed freely (insets).  An
axes draws lines (a function with jumps piece by piece, never joined across a jump:
:meth:`Axes.pieces`), point markers (filled or open: :meth:`Axes.jump` marks a kink's
convention), bands, reference lines, error bars, histograms, text and a heat map; its
axes are linear or logarithmic, with "nice" linear ticks (1, 2, 2.5, 5 × 10^k) and
round-decade log ticks written 10⁻³ (every 1st, 2nd, 5th, 10th, 20th … decade; 2× and 5×
marks on an axis shorter than two decades), or ticks of one's own
(``set(xticks=[(2, "2"), (8, "8")])``); every series with a label goes into the legend
(a series without data makes a legend key, e.g. one line style for many colours).
Coordinates are written with two decimals, so last-bit noise in the data cannot change a
byte.  The SVG names its parts — ``<g class="axes">``, ``class="xlabel"``/``"ylabel"``,
``"xtick"``/``"ytick"``, one ``<g class="line">`` (``points``, ``bars``, ``hline`` …) per
series and ``<g class="legend">`` — so tests can read a figure's structure.

>>> fig = Figure(width=300, height=200)
>>> ax = fig.axes()
>>> ax.line([1, 2, 3], [1e-1, 1e-2, 1e-3], label="decay")
>>> ax.set(xlabel="layer", ylabel="|∂L/∂a|", yscale="log")
>>> svg = fig.svg()
>>> svg.startswith(b"<?xml") and b"10\\xe2\\x81\\xbb\\xc2\\xb3" in svg   # the tick 10⁻³
True
>>> fig.svg() == svg
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from html import escape
from typing import Any

from symgrad._core import svg
from symgrad.errors import InvalidArgument

__all__ = ["PALETTE", "Axes", "Figure"]

#: Colours of successive series (colour-blind safe, Okabe–Ito).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


class Axes:
    """One panel at pixel box (x0, y0, w, h) of its figure (y0 from the top)."""

    def __init__(self, figure: Figure, box: tuple[float, float, float, float]) -> None:
        self._figure, self.box = figure, box
        self._series: list[svg.Series] = []
        self._texts: list[tuple[float, float, str, str]] = []
        self._heat: tuple[Any, ...] | None = None
        self.xlabel = self.ylabel = self.title = ""
        self._xs, self._ys = svg.Scale(), svg.Scale()
        self._legend: str | None = "best"

    # ---- what to draw ----

    def _color(self, color: str | None) -> str:
        if color is not None:
            return color
        used = sum(1 for s in self._series if s.kind in ("line", "points", "errorbar"))
        return PALETTE[used % len(PALETTE)]

    def line(self, x: Iterable[float], y: Iterable[float], *, label: str | None = None,
             color: str | None = None, width: float = 1.6, dash: str | None = None) -> None:
        """A polyline; non-finite points (and non-positive ones on a log axis) break it."""
        self._series.append(svg.Series("line", svg.floats(x), svg.floats(y), label,
                                       self._color(color), width, dash))

    def pieces(self, pieces: Iterable[tuple[Iterable[float], Iterable[float]]], *,
               label: str | None = None, color: str | None = None, width: float = 1.6,
               dash: str | None = None) -> None:
        """A function drawn piece by piece, ``pieces`` being (x, y) pairs: one series
        (one legend entry) whose pieces are never joined, so a jump stays a gap."""
        xs: list[float] = []
        ys: list[float] = []
        for x, y in pieces:
            if xs:
                xs.append(math.nan)
                ys.append(math.nan)
            xs += svg.floats(x)
            ys += svg.floats(y)
        self.line(xs, ys, label=label, color=color, width=width, dash=dash)

    def jump(self, at: float, taken: float, other: float, *, color: str | None = None,
             labels: tuple[str | None, str | None] = (None, None), size: float = 3.5) -> None:
        """A jump at x = ``at`` with the convention "the value at ``at`` is ``taken``": a
        filled marker on (at, taken), an open one on (at, other), the limit from the other
        side.  ``labels`` name the two markers in the legend."""
        color = self._color(color)
        self.points([at], [taken], color=color, filled=True, size=size, label=labels[0])
        self.points([at], [other], color=color, filled=False, size=size, label=labels[1])

    def points(self, x: Iterable[float], y: Iterable[float], *, label: str | None = None,
               color: str | None = None, marker: str = "o", filled: bool = True,
               size: float = 3.5) -> None:
        """Markers: ``marker`` "o" (circle), "s" (square) or "^" (triangle), filled or open."""
        if marker not in ("o", "s", "^"):
            raise InvalidArgument(f"marker must be 'o', 's' or '^', got {marker!r}")
        self._series.append(svg.Series("points", svg.floats(x), svg.floats(y), label,
                                       self._color(color), 1.2, None, marker, filled, size))

    def errorbar(self, x: Iterable[float], y: Iterable[float], err: Iterable[float], *,
                 label: str | None = None, color: str | None = None, marker: str = "o",
                 filled: bool = True, size: float = 3.5) -> None:
        """Points with vertical bars ±err (markers as in :meth:`points`)."""
        if marker not in ("o", "s", "^"):
            raise InvalidArgument(f"marker must be 'o', 's' or '^', got {marker!r}")
        s = svg.Series("errorbar", svg.floats(x), svg.floats(y), label, self._color(color), 1.2,
                       None, marker, filled, size)
        s.err = svg.floats(err)
        self._series.append(s)

    def hline(self, y: float, *, label: str | None = None, color: str = "#555555",
              dash: str | None = "4 3", width: float = 1.0) -> None:
        self._series.append(svg.Series("hline", [], [float(y)], label, color, width, dash))

    def vline(self, x: float, *, label: str | None = None, color: str = "#555555",
              dash: str | None = "4 3", width: float = 1.0) -> None:
        self._series.append(svg.Series("vline", [float(x)], [], label, color, width, dash))

    def band(self, x0: float, x1: float, *, label: str | None = None, color: str = "#999999",
             alpha: float = 0.18) -> None:
        """A vertical band x0 ≤ x ≤ x1 across the whole height."""
        self._series.append(svg.Series("band", [float(x0), float(x1)], [], label, color,
                                    alpha=alpha))

    def hband(self, y0: float, y1: float, *, label: str | None = None,
              color: str = "#999999", alpha: float = 0.18) -> None:
        """A horizontal band y0 ≤ y ≤ y1 across the whole width."""
        self._series.append(svg.Series("hband", [], [float(y0), float(y1)], label, color,
                                       alpha=alpha))

    def hist(self, values: Iterable[float], edges: Iterable[float], *,
             weights: Iterable[float] | None = None, density: bool = False,
             label: str | None = None, color: str = PALETTE[5], alpha: float = 0.6) -> None:
        """Bars of a histogram of ``values`` on the bins between ``edges``, counted as
        :func:`numpy.histogram` counts them (weighted; ``density`` for unit area); the
        y axis then starts at 0 unless limits are set."""
        bins = svg.floats(edges)
        heights = svg.histogram(svg.floats(values), bins,
                                None if weights is None else svg.floats(weights), density)
        self._series.append(svg.Series("bars", bins, heights, label, color, alpha=alpha))

    def heatmap(self, x: Iterable[float], y: Iterable[float], z: Iterable[Iterable[float]], *,
                lo: float, hi: float, label: str = "") -> None:
        """Cells centred on the grid x × y coloured by z[i][j] (row i ↔ y[i]) on a diverging
        scale from ``lo`` to ``hi``, with a colour bar titled ``label``."""
        self._heat = (svg.floats(x), svg.floats(y), [svg.floats(r) for r in z], lo, hi, label)

    def text(self, x: float, y: float, s: str, *, anchor: str = "start",
             color: str = "#222222") -> None:
        self._texts.append((float(x), float(y), s, f"{anchor}|{color}"))

    def set(self, *, xlabel: str | None = None, ylabel: str | None = None,
            title: str | None = None, xscale: str | None = None, yscale: str | None = None,
            xlim: tuple[float, float] | None = None, ylim: tuple[float, float] | None = None,
            xticks: Iterable[tuple[float, str]] | None = None,
            yticks: Iterable[tuple[float, str]] | None = None,
            legend: str | None = "keep") -> None:
        """Labels, scales ("linear" or "log"), limits, ticks of one's own as (value, label)
        pairs, and the legend's corner ("best", "upper left", …, or None for no legend)."""
        for name, value in (("xlabel", xlabel), ("ylabel", ylabel), ("title", title)):
            if value is not None:
                setattr(self, name, value)
        for scale, kind, lim, marks in ((self._xs, xscale, xlim, xticks),
                                        (self._ys, yscale, ylim, yticks)):
            if marks is not None:
                scale.marks = [(float(v), str(text)) for v, text in marks]
            if kind is not None:
                if kind not in ("linear", "log"):
                    raise InvalidArgument(f"a scale is 'linear' or 'log', got {kind!r}")
                scale.kind = kind
            if lim is not None:
                scale.lo, scale.hi = float(lim[0]), float(lim[1])
        if legend != "keep":
            self._legend = legend

    # ---- rendering ----

    def _limits(self) -> tuple[tuple[float, float], tuple[float, float]]:
        xs: list[float] = []
        ys: list[float] = []
        for s in self._series:
            if s.kind in ("line", "points", "errorbar"):
                xs += s.x
                ys += s.y + [a + e for a, e in zip(s.y, s.err, strict=False)] + [
                    a - e for a, e in zip(s.y, s.err, strict=False)]
            elif s.kind == "hline":
                ys += s.y
            elif s.kind in ("vline", "band"):
                xs += s.x
            elif s.kind == "hband":
                ys += s.y
            elif s.kind == "bars":
                xs += s.x
                ys += [*s.y, 0.0]
        if self._heat:  # a heat map fills its axes: the limits are its outer cell edges
            for scale, centres in ((self._xs, self._heat[0]), (self._ys, self._heat[1])):
                edges = svg.edges(centres)
                scale.lo = edges[0] if scale.lo is None else scale.lo
                scale.hi = edges[-1] if scale.hi is None else scale.hi
        y = self._ys
        if (y.kind == "linear" and y.lo is None and all(not v < 0 for v in ys)
                and any(s.kind == "bars" for s in self._series)):
            y = svg.Scale(y.kind, 0.0, y.hi)  # bars stand on the axis: no padding below 0
        return svg.axis_range(xs, self._xs), svg.axis_range(ys, y)

    @staticmethod
    def _ticks(scale: svg.Scale, lo: float, hi: float) -> list[tuple[float, str]]:
        if scale.marks is None:
            return svg.ticks(lo, hi, scale.kind)
        return [(scale.fwd(v), text) for v, text in scale.marks
                if (v > 0 or scale.kind == "linear") and lo - 1e-9 <= scale.fwd(v) <= hi + 1e-9]

    def _render(self, out: list[str], clip: str) -> None:
        (x_lo, x_hi), (y_lo, y_hi) = self._limits()
        bx, by, bw, bh = self.box

        def px(v: float) -> float:
            return bx + (self._xs.fwd(v) - x_lo) / (x_hi - x_lo) * bw

        def py(v: float) -> float:
            return by + bh - (self._ys.fwd(v) - y_lo) / (y_hi - y_lo) * bh

        out.append(f'<g class="{"axes inset" if self in self._figure._free else "axes"}">')
        out.append(f'<defs><clipPath id="{clip}"><rect x="{svg.num(bx)}" y="{svg.num(by)}" '
                   f'width="{svg.num(bw)}" height="{svg.num(bh)}"/></clipPath></defs>')
        xticks = self._ticks(self._xs, x_lo, x_hi)
        yticks = self._ticks(self._ys, y_lo, y_hi)
        grid = []
        for t, label in xticks:
            x = bx + (t - x_lo) / (x_hi - x_lo) * bw
            grid.append(f"M{svg.num(x)},{svg.num(by)}V{svg.num(by + bh)}")
            out.append(f'<text x="{svg.num(x)}" y="{svg.num(by + bh + 14)}" text-anchor="middle" '
                       'class="xtick">'
                       f"{escape(label)}</text>")
        for t, label in yticks:
            y = by + bh - (t - y_lo) / (y_hi - y_lo) * bh
            grid.append(f"M{svg.num(bx)},{svg.num(y)}H{svg.num(bx + bw)}")
            out.append(f'<text x="{svg.num(bx - 4)}" y="{svg.num(y + 4)}" text-anchor="end" '
                       'class="ytick">'
                       f"{escape(label)}</text>")
        out.append(f'<path d="{"".join(grid)}" stroke="#d9d9d9" stroke-width="0.6" fill="none"/>')
        body: list[str] = []
        if self._heat:
            svg.heat_cells(body, self._heat, px, py)
            lo, hi, label = self._heat[3:]
            self._figure._colorbar = (lo, hi, label)
        for s in self._series:
            svg.draw(body, s, px, py, (bx, by, bw, bh), self._xs.kind == "log",
                  self._ys.kind == "log")
        for x, y, text, how in self._texts:
            anchor, color = how.split("|")
            body.append(f'<text x="{svg.num(px(x))}" y="{svg.num(py(y))}" text-anchor="{anchor}" '
                        f'fill="{color}">{escape(text)}</text>')
        out.append(f'<g clip-path="url(#{clip})">{"".join(body)}</g>')
        out.append(f'<rect x="{svg.num(bx)}" y="{svg.num(by)}" width="{svg.num(bw)}" '
                   f'height="{svg.num(bh)}" fill="none" stroke="#333333" stroke-width="0.8"/>')
        if self.xlabel:
            out.append(f'<text x="{svg.num(bx + bw / 2)}" y="{svg.num(by + bh + 31)}" '
                       f'text-anchor="middle" class="xlabel">{escape(self.xlabel)}</text>')
        if self.ylabel:
            cx, cy = bx - 44, by + bh / 2
            out.append(f'<text x="{svg.num(cx)}" y="{svg.num(cy)}" text-anchor="middle" '
                       'class="ylabel" '
                       f'transform="rotate(-90 {svg.num(cx)} {svg.num(cy)})">{escape(self.ylabel)}'
                       "</text>")
        if self.title:
            out.append(f'<text x="{svg.num(bx + bw / 2)}" y="{svg.num(by - 7)}" '
                       f'text-anchor="middle" class="title" font-size="{svg.num(svg.FONT + 1)}">'
                       f"{escape(self.title)}</text>")
        if self._legend is not None:
            svg.legend(out, self._series, self._legend, (bx, by, bw, bh), px, py)
        out.append("</g>")


class Figure:
    """A figure of ``width`` × ``height`` pixels with panels on a ``rows`` × ``cols`` grid."""

    def __init__(self, *, width: float = 600, height: float = 340, rows: int = 1,
                 cols: int = 1, alt: str = "") -> None:
        if not (100 <= width <= 3000 and 80 <= height <= 3000 and 1 <= rows <= 6
                and 1 <= cols <= 6):
            raise InvalidArgument("a figure is 100–3000 × 80–3000 px with 1–6 rows and columns")
        self.width, self.height, self.rows, self.cols, self.alt = width, height, rows, cols, alt
        self._panels: dict[tuple[int, int], Axes] = {}
        self._free: list[Axes] = []
        self._colorbar: tuple[float, float, str] | None = None

    def axes(self, row: int = 0, col: int = 0) -> Axes:
        """The panel at (row, col) of the grid."""
        if not (0 <= row < self.rows and 0 <= col < self.cols):
            raise InvalidArgument(f"no panel ({row}, {col}) in a {self.rows}×{self.cols} grid")
        if (row, col) not in self._panels:
            self._panels[(row, col)] = Axes(self, (0.0, 0.0, 0.0, 0.0))
        return self._panels[(row, col)]

    def inset(self, parent: Axes, where: tuple[float, float, float, float]) -> Axes:
        """An axes inside ``parent``: (x, y, w, h) as fractions of its box, y from the top."""
        ax = Axes(self, (0.0, 0.0, 0.0, 0.0))
        self._free.append(ax)
        ax._inset = (parent, where)  # type: ignore[attr-defined]
        return ax

    def svg(self) -> bytes:
        """The figure as SVG bytes (UTF-8)."""
        right = 70.0 if any(p._heat for p in self._panels.values()) else 14.0
        left, top, bottom, gap = 62.0, 24.0, 44.0, 72.0
        pw = (self.width - left - right - gap * (self.cols - 1)) / self.cols
        ph = (self.height - top - bottom - (gap - 14) * (self.rows - 1)) / self.rows
        for (r, c), ax in self._panels.items():
            ax.box = (left + c * (pw + gap), top + r * (ph + gap - 14), pw, ph)
        for ax in self._free:
            parent, (fx, fy, fw, fh) = ax._inset  # type: ignore[attr-defined]
            x0, y0, w0, h0 = parent.box
            ax.box = (x0 + fx * w0, y0 + fy * h0, fw * w0, fh * h0)
        out = ['<?xml version="1.0" encoding="utf-8"?>',
               f'<svg xmlns="http://www.w3.org/2000/svg" width="{svg.num(self.width)}" '
               f'height="{svg.num(self.height)}" viewBox="0 0 {svg.num(self.width)} '
               f'{svg.num(self.height)}" font-family="DejaVu Sans, Arial, sans-serif" '
               f'font-size="{svg.num(svg.FONT)}" fill="#222222">']
        if self.alt:
            out.append(f"<title>{escape(self.alt)}</title>")
        out.append(f'<rect width="{svg.num(self.width)}" height="{svg.num(self.height)}" '
                   'fill="#ffffff"/>')
        panels = [self._panels[k] for k in sorted(self._panels)] + self._free
        for i, ax in enumerate(panels):
            if ax in self._free:
                x0, y0, w0, h0 = ax.box
                out.append(f'<rect x="{svg.num(x0 - 40)}" y="{svg.num(y0 - 18)}" '
                           f'width="{svg.num(w0 + 46)}" height="{svg.num(h0 + 52)}" fill="#ffffff" '
                           'stroke="#bbbbbb" stroke-width="0.6"/>')
            ax._render(out, f"c{i}")
        if self._colorbar is not None:
            svg.colorbar(out, self._colorbar,
                         (self.width - right + 14, top, 12, self.height - top - bottom))
        out.append("</svg>")
        return ("\n".join(out) + "\n").encode("utf-8")


