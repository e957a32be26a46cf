"""The figure of an activation report: φ' on a linear scale above, |φ'| on a log scale below.

What the table says, drawn: the saturated zones {|φ'| < ε} shaded for ε = 10⁻¹ and 10⁻²;
every tabulated ε as a horizontal line on the log panel, so each threshold is where the
curve crosses its line; sup|φ'| as a line; every kink as a jump (the pieces are never
joined) with a filled marker on the value φ' takes there — the piece that contains the
kink, symgrad's convention — and an open one on the limit from the other side; every zero
of φ' (the dead point, where the saturation islands shrink onto) marked.  Kinks and pieces
come from the activation's piecewise definition, zeros from the certified roots of φ' on
each piece (:func:`~symgrad.slopes.dead.dead_set`), so a user's activation gets the same
figure.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy

from symgrad._core import svg
from symgrad._core.format import number_text
from symgrad._core.plot import Axes, Figure
from symgrad.activations.record import Activation
from symgrad.errors import NoClosedForm
from symgrad.reports.pages.activation_profile import EPSILONS, ActivationProfile
from symgrad.slopes.dead import dead_set
from symgrad.slopes.kinks import convention_side, kinks_of

__all__ = ["dead_points", "slope_figure"]

_CURVE, _SAT, _DEAD, _REF = "#0072B2", "#D55E00", "#009E73", "#4d4d4d"
#: The log panel's floor: a decade below the smallest tabulated ε.
_FLOOR = 1e-5
#: How far out the log panel may reach for a threshold.
_WIDEST = 16.0


def _intervals(region: sympy.Set, lo: float, hi: float) -> list[tuple[float, float]]:
    """The parts of ``region`` inside [lo, hi], as float pairs (for shading only)."""
    inside = sympy.Intersection(region, sympy.Interval(lo, hi))
    parts = inside.args if isinstance(inside, sympy.Union) else (inside,)
    return sorted((float(p.start), float(p.end)) for p in parts
                  if isinstance(p, sympy.Interval))


def dead_points(act: Activation) -> tuple[float, ...]:
    """The isolated zeros of φ' (GELU's −0.7518…) as floats, left to right: the points of
    :func:`~symgrad.slopes.dead.dead_set` (certified roots of φ' on each smooth piece, kinks
    where the convention gives 0; a constant-0 piece is a dead zone, not a point).  When
    the roots of some piece cannot be proven complete none is drawn (figure only)."""
    try:
        points = dead_set(act).points
    except NoClosedForm:
        return ()
    return tuple(float(p) for p in points)


def _eps_text(eps: sympy.Expr) -> str:
    k = -round(math.log10(float(eps)))
    return svg.decade_text(-k) if sympy.Integer(10) ** -k == eps else number_text(eps)


def _signed(v: float) -> str:
    return f"{v:.4f}".replace("-", "−")


def _pieces(grid: np.ndarray, slope: np.ndarray, lo: float, hi: float,
            kinks: list[tuple[float, float, float, bool]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """φ' on [lo, hi], piece by piece: the grid strictly between kinks, each end closed
    by the one-sided limit there."""
    inside = [(at, left, right) for at, left, right, _ in kinks if lo < at < hi]
    ends = [(lo, math.nan, math.nan), *inside, (hi, math.nan, math.nan)]
    out = []
    for (a, _, from_right), (b, from_left, _) in itertools.pairwise(ends):
        keep = (grid > a) & (grid < b)
        xs, ys = list(grid[keep]), list(slope[keep])
        if not math.isnan(from_right):
            xs, ys = [a, *xs], [from_right, *ys]
        if not math.isnan(from_left):
            xs, ys = [*xs, b], [*ys, from_left]
        out.append((np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)))
    return out


def _reach(profile: ActivationProfile) -> dict[sympy.Expr, float]:
    """ε → the farthest |threshold| (the table's left and right thresholds), inf if none."""
    out = {}
    for eps, sat in profile.saturations:
        far = [abs(float(b)) for b in sat.boundary if sympy.sympify(b).is_finite]
        out[eps] = max(far) if far else math.inf
    return out


def _zero_zones(act: Activation, lo: float, hi: float) -> list[tuple[float, float]]:
    """Where φ' is identically 0 inside [lo, hi] (off any log scale)."""
    return [(max(lo, float(p.lo)), min(hi, float(p.hi))) for p in act.pieces
            if p.derivative == 0 and float(p.lo) < hi and float(p.hi) > lo]


def _shade(ax: Axes, profile: ActivationProfile, lo: float, hi: float, *,
           labelled: bool) -> None:
    shades = [(eps, sat) for eps, sat in profile.saturations if eps in EPSILONS[:2]]
    for (eps, sat), alpha in zip(shades, (0.12, 0.28), strict=True):
        label = f"|φ'| < {_eps_text(eps)}" if labelled else None
        for a, b in _intervals(sat.region, lo, hi):
            ax.band(a, b, color=_SAT, alpha=alpha, label=label)
            label = None


def slope_figure(profile: ActivationProfile) -> bytes:
    """The report's SVG: φ' (linear) over |φ'| (log) with zones, ε lines, jumps, dead points.

    The log panel is wide enough for every tabulated threshold up to |z| = 16 (further
    ones are named on their ε line), the linear one shows the ε = 10⁻² window."""
    act = profile.act
    lo, hi = profile.plot_range
    kinks = [(float(k.at), float(k.left), float(k.right), convention_side(act, k) == "left")
             for k in kinks_of(act)]
    reach = _reach(profile)
    wide = max([hi] + [min(1.1 * r, _WIDEST) for r in reach.values() if math.isfinite(r)])
    dead = [d for d in dead_points(act) if -wide < d < wide]
    peak = float(profile.peak.value)
    pieces = _pieces(np.asarray(profile.grid), np.asarray(profile.grid_slope), lo, hi, kinks)
    grid = np.linspace(-wide, wide, 801)
    wide_pieces = _pieces(grid, act.numpy_prime(grid), -wide, wide, kinks)

    fig = Figure(width=640, height=620, rows=2,
                 alt=f"{act.label}: φ'(z) with the saturated zones shaded, and |φ'(z)| on a "
                     "log scale with the tabulated ε")
    top, bottom = fig.axes(0, 0), fig.axes(1, 0)

    # ---- φ' on a linear scale ----
    _shade(top, profile, lo, hi, labelled=True)
    top.hline(0.0, color="#808080", dash=None, width=0.6)
    top.pieces(pieces, color=_CURVE, label="φ'(z)")
    top.hline(peak, color=_REF, label=f"sup|φ'| = {peak:.4g}")
    labels: tuple[str | None, str | None] = ("φ' at a kink (its piece)",
                                             "limit from the other side")
    for at, left, right, left_taken in kinks:
        if lo < at < hi:
            taken, other = (left, right) if left_taken else (right, left)
            top.jump(at, taken, other, color=_CURVE, labels=labels)
            labels = (None, None)
    shown = [d for d in dead if lo < d < hi]
    for i, d in enumerate(shown):
        top.vline(d, color=_DEAD, dash="2 3")
        top.points([d], [0.0], color=_DEAD, marker="s",
                   label=f"φ' = 0 at z = {_signed(d)}" if i == 0 else None)
    values = [v for _, y in pieces for v in y if math.isfinite(v)] + [0.0, peak]
    pad = 0.08 * (max(values) - min(values) or 1.0)  # room for the markers on the edges
    top.set(xlim=(lo, hi), ylim=(min(values) - pad, max(values) + pad), xlabel="z",
            ylabel="φ'(z)", title=f"{act.label}: φ'(z), saturated zones shaded")

    # ---- |φ'| on a log scale, every tabulated ε a line ----
    _shade(bottom, profile, -wide, wide, labelled=False)
    for eps in EPSILONS:
        far = reach[eps]
        note = f" (crossed at |z| = {far:.3g})" if wide < far < math.inf else ""
        bottom.hline(float(eps), color=_SAT, dash="4 3", width=0.9)
        bottom.text(0.98 * wide, float(eps) * 1.25, f"ε = {_eps_text(eps)}{note}",
                    anchor="end", color=_SAT)
    bottom.line([], [], color=_SAT, dash="4 3", width=0.9, label="ε of the table")
    bottom.pieces([_closer(act, x, y, dead) for x, y in wide_pieces], color=_CURVE,
                  label="|φ'(z)|")
    bottom.hline(peak, color=_REF)
    for at, left, right, left_taken in kinks:
        if -wide < at < wide:
            taken, other = (left, right) if left_taken else (right, left)
            bottom.jump(at, abs(taken), abs(other), color=_CURVE)
    for d in dead:
        bottom.vline(d, color=_DEAD, dash="2 3")
    for a, b in _zero_zones(act, -wide, wide):
        bottom.text((a + b) / 2, 2 * _FLOOR, "φ' ≡ 0", anchor="middle", color=_REF)
    bottom.set(xlim=(-wide, wide), ylim=(_FLOOR, 2 * max(peak, _FLOOR)), yscale="log",
               xlabel="z", ylabel="|φ'(z)|",
               title="|φ'(z)| on a log scale: a threshold is where it crosses its ε")
    return fig.svg()

def _closer(act: Activation, x: np.ndarray, y: np.ndarray, dead: list[float]
            ) -> tuple[np.ndarray, np.ndarray]:
    """|φ'| on one piece, sampled ever closer to each dead point inside it (d ± 10⁻¹ …
    10⁻⁸) so the curve visibly dives off the log axis there instead of stopping at the
    grid's smallest value."""
    near = [d + s * 10.0 ** -j for d in dead if x.size and x[0] < d < x[-1]
            for s in (-1, 1) for j in range(1, 9)]
    if not near:
        return x, np.abs(y)
    extra = np.asarray(near)
    xs = np.concatenate([x, extra])
    ys = np.concatenate([y, act.numpy_prime(extra)])
    order = np.argsort(xs, kind="stable")
    return xs[order], np.abs(ys[order])
