"""Every activation at a glance: the table at the top of ``proofs/README.md``.

:func:`glance` gathers one :class:`Glance` per activation from the same records its report
shows (:func:`~symgrad.slopes.max_slope`, :func:`~symgrad.slopes.saturation`,
:func:`~symgrad.slopes.expected_slope`), plus the dead set {z : φ'(z) = 0}
(:func:`~symgrad.slopes.dead.dead_set`: constant zero pieces, kinks where the
convention's φ' is 0, and the roots of φ' isolated with a proof that none was missed).
:func:`glance_cells` renders a row: numbers carry at most :data:`DIGITS` significant
digits, and a certified number only the digits its enclosure proves.  Nothing is
recomputed by the renderer.

>>> row = glance("sigmoid")
>>> row.peak.value, row.dead
(1/4, EmptySet)
>>> glance_cells(row)[1:4]
['1/4', 'z = 0', 'yes']
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy

from symgrad._exact.digits import CertifiedNumber, shown
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.records import Certified, Estimated, Exact, How
from symgrad.slopes import ExpectedSlope, MaxSlope, Reach, Saturation, expected_slope, max_slope
from symgrad.slopes import saturation as saturation_of
from symgrad.slopes.dead import dead_set

__all__ = ["DIGITS", "EPSILONS", "HEADER", "Glance", "glance", "glance_cells", "glance_row"]

#: Significant digits in the table (the pages carry the rest).
DIGITS = 8
#: The saturation tolerances the table shows.
EPSILONS = (sympy.Rational(1, 100), sympy.Rational(1, 10000))
_EXACT = Exact("SymPy closed form")

#: The table's columns (a Markdown renderer escapes the bars).
HEADER = ("φ", "γ = sup|φ'|", "argmax", "attained", "1/γ", "E[φ'(Z)]", "E[φ'(Z)²]",
          "|φ'| < 10⁻² for", "|φ'| < 10⁻⁴ for", "φ' = 0 for")


@dataclass(frozen=True, eq=False)
class Glance:
    """One activation's row: its records, and the dead set {z : φ'(z) = 0} (a SymPy set
    whose certified points are Floats of their proven digits; ``dead_how`` gives each
    point's provenance)."""

    name: str
    peak: MaxSlope
    expected: ExpectedSlope
    expected_sq: ExpectedSlope
    saturations: tuple[Saturation, ...]
    dead: sympy.Set
    dead_how: tuple[tuple[sympy.Expr, How], ...]


@functools.cache
def _glance(act: Activation, name: str) -> Glance:
    dead = dead_set(act)
    return Glance(name, max_slope(act), expected_slope(act), expected_slope(act, power=2),
                  tuple(saturation_of(act, eps) for eps in EPSILONS), dead.region,
                  tuple(zip(dead.points, dead.how, strict=True)))


def glance(act: Activation | str, name: str | None = None) -> Glance:
    """The at-a-glance row of one activation (a registered name or a record)."""
    a = as_activation(act)
    return _glance(a, name or a.name)


# ---- cells ----

def _number(value: sympy.Expr, how: How | None) -> str:
    """At most DIGITS significant digits, only proven ones: a rational exactly, a closed
    form evaluated to DIGITS digits, a certified number from its enclosure, an estimate
    to the digits its error allows (marked ≈)."""
    value = sympy.sympify(value)
    if value in (sympy.oo, -sympy.oo):
        return "∞" if value == sympy.oo else "−∞"
    if isinstance(how, Estimated):
        err = abs(float(how.error)) * (abs(float(value)) if how.relative else 1.0)
        lo, hi = sympy.Rational(float(value) - err), sympy.Rational(float(value) + err)
        text = CertifiedNumber(Fraction(int(lo.p), int(lo.q)), Fraction(int(hi.p), int(hi.q)),
                               DIGITS).text()
        return "≈ " + _minus(text)
    if isinstance(how, Certified):
        return _minus(shown(value, how, DIGITS))
    if value.is_Rational:
        return _minus(str(value))
    # A closed form: SymPy's evalf returns DIGITS correct digits (it raises the working
    # precision until they are).
    return _minus(str(sympy.sstr(value.evalf(DIGITS))))


def _minus(text: str) -> str:
    return text.replace("-", "−")


def _inverse(peak: MaxSlope) -> str:
    how = peak.how("value")
    if peak.value == 0:
        return "∞"
    if isinstance(how, Certified):
        lo, hi = sympy.Rational(how.lower), sympy.Rational(how.upper)
        if lo > 0:
            inv = Certified(1 / hi, 1 / lo, how.method)
            return _number(1 / peak.value, inv)
    return _number(1 / peak.value, how)


def _argmax(peak: MaxSlope, hows: dict[Any, How]) -> str:
    if peak.reach is Reach.INFINITY:
        return f"z → {'+' if peak.at == sympy.oo else '−'}∞"
    if peak.reach in (Reach.LEFT_LIMIT, Reach.RIGHT_LIMIT):
        side = "⁻" if peak.reach is Reach.LEFT_LIMIT else "⁺"
        return f"z → {_number(peak.at, hows.get('at'))}{side}"
    return _set_words(peak.argmax, {peak.at: hows.get("at")})


def _set_words(region: sympy.Set, hows: dict[Any, How | None]) -> str:
    """A union of intervals and points as inequalities in z: "z < −3", "|z| > 4.59",
    "−3 < z ≤ 3", "z = −0.75"; "—" for the empty set."""
    if region == sympy.S.EmptySet:
        return "—"
    if region == sympy.S.Reals:
        return "all z"
    parts = region.args if isinstance(region, sympy.Union) else (region,)

    def num(v: sympy.Expr) -> str:
        return _number(v, hows.get(v, _EXACT))

    lows = [p for p in parts if isinstance(p, sympy.Interval) and p.start == -sympy.oo]
    highs = [p for p in parts if isinstance(p, sympy.Interval) and p.end == sympy.oo]
    if (len(lows) == 1 and len(highs) == 1 and lows[0] is not highs[0]
            and sympy.simplify(lows[0].end + highs[0].start) == 0
            and lows[0].right_open == highs[0].left_open):
        rest = [p for p in parts if p not in (lows[0], highs[0])]
        sign = ">" if highs[0].left_open else "≥"
        words = [f"|z| {sign} {num(highs[0].start)}"]
        return " or ".join(words + [_part(p, num) for p in rest])
    return " or ".join(_part(p, num) for p in parts)


def _part(part: sympy.Set, num: Any) -> str:
    if isinstance(part, sympy.FiniteSet):
        return ", ".join(f"z = {num(p)}" for p in part)
    if not isinstance(part, sympy.Interval):
        return str(part)  # pragma: no cover - the sets here are intervals and points
    if part.start == -sympy.oo:
        return f"z {'<' if part.right_open else '≤'} {num(part.end)}"
    if part.end == sympy.oo:
        return f"z {'>' if part.left_open else '≥'} {num(part.start)}"
    return (f"{num(part.start)} {'<' if part.left_open else '≤'} z "
            f"{'<' if part.right_open else '≤'} {num(part.end)}")


def _saturated(sat: Saturation) -> str:
    """The unbounded part of the saturated set (the thresholds); bounded islands (around a
    dead point) are counted, not listed."""
    region = sat.region
    if region == sympy.S.EmptySet:
        return "—"
    parts = region.args if isinstance(region, sympy.Union) else (region,)
    unbounded = [p for p in parts if isinstance(p, sympy.Interval)
                 and (p.start == -sympy.oo or p.end == sympy.oo)]
    islands = len(parts) - len(unbounded)
    hows: dict[Any, How | None] = {}
    for i, point in enumerate(sat.boundary):
        hows[point] = sat.how(f"boundary[{i}]")
    text = _set_words(sympy.Union(*unbounded), hows) if unbounded else "—"
    if islands:
        text += f" (+ {islands} island{'s' if islands > 1 else ''})"
    return text


def glance_cells(row: Glance) -> list[str]:
    """The row's cells in :data:`HEADER` order (the first is the name)."""
    peak = row.peak
    attained = "yes" if peak.attained else "no"
    if peak.convention:
        attained += " †"
    return [
        row.name,
        _number(peak.value, peak.how("value")),
        _argmax(peak, dict(peak.provenance.items())),
        attained,
        _inverse(peak),
        _number(row.expected.value, row.expected.how("value")),
        _number(row.expected_sq.value, row.expected_sq.how("value")),
        *[_saturated(sat) for sat in row.saturations],
        _set_words(row.dead, {**dict(row.dead_how)}),
    ]


def glance_row(name: str) -> list[str]:
    """The cells of a registered activation's row (what the index shows of its report;
    module level, so a report worker can compute it beside the page)."""
    return glance_cells(glance(name))
