"""Where does φ saturate?  The region {z : |φ'(z)| < ε}, exactly where it has a closed form.

>>> s = saturation("sigmoid", 0.1)
>>> s.region
Union(Interval.open(-oo, -log(sqrt(15) + 4)), Interval.open(log(sqrt(15) + 4), oo))
>>> saturation("tanh", 0.01).right_threshold
log(60*sqrt(11) + 199)/2
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import sympy

from symgrad._core.format import interval_text
from symgrad._core.symbols import EPSILON, z
from symgrad._core.validate import as_exact_real
from symgrad._exact.certify import certified_roots
from symgrad._exact.roots import exact_roots, symbolic_roots
from symgrad._exact.signs import as_float as _float
from symgrad._exact.signs import hp as _hp
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.records import Certified, Exact, How, Provenances, Record, Step
from symgrad.slopes.notation import PRIME as _PRIME
from symgrad.types import RealLike

__all__ = ["Saturation", "saturation"]

_EXACT = Exact("SymPy closed form")
_INTERVALS = "interval arithmetic (mpmath iv): sign change and monotonicity verified"


@dataclass(frozen=True)
class Saturation(Record):
    """The saturation region {z : |φ'(z)| < eps}, its boundary and per-side thresholds.

    ``region`` is a SymPy set (a union of intervals, possibly empty or the whole line);
    ``left_threshold`` is t with (−∞, t) ⊆ region maximal (None when the region is not
    unbounded on the left), ``right_threshold`` likewise for (t, ∞).  At a kink the
    ``Activation.derivative`` convention decides membership.  ``provenance`` has one entry
    per boundary point (``boundary[i]``) and per threshold: a closed form, or a certified
    enclosure; ``exact`` says whether every boundary point is a closed form.
    """

    activation: str
    eps: sympy.Expr
    region: sympy.Set
    boundary: tuple[sympy.Expr, ...]
    left_threshold: sympy.Expr | None
    right_threshold: sympy.Expr | None
    provenance: Provenances
    steps: tuple[Step, ...]
    formulas: tuple[sympy.Expr, ...] = ()


    @property
    def brackets(self) -> tuple[tuple[Any, Any], ...]:
        """The enclosures of the certified boundary points, left to right."""
        return tuple((how.lower, how.upper) for name, how in self.provenance.items()
                     if name.startswith("boundary") and isinstance(how, Certified))

    def title(self) -> str:
        return f"saturation of {self.activation} at eps = {sympy.sstr(self.eps)}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("region {|φ'| < ε}", sympy.sstr(self.region))]
        if self.left_threshold is not None:
            rows.append(("saturated for z <", self.left_threshold))
        if self.right_threshold is not None:
            rows.append(("saturated for z >", self.right_threshold))
        return rows

    def contains(self, x: RealLike) -> bool:
        """Whether x lies in the saturation region."""
        inside: bool = self.region.contains(as_exact_real(x, "x")) == sympy.true
        return inside


def saturation(act: Activation | str, eps: RealLike) -> Saturation:
    """{z : |φ'(z)| < eps} as a SymPy set, exact where the boundary has a closed form.

    ``eps`` must be a finite positive number (floats are read as their decimal).

    >>> s = saturation("sigmoid", 0.1)
    >>> s.region
    Union(Interval.open(-oo, -log(sqrt(15) + 4)), Interval.open(log(sqrt(15) + 4), oo))
    >>> saturation("relu", 0.5).region
    Interval(-oo, 0)
    """
    a = as_activation(act)
    e = as_exact_real(eps, "eps", domain=sympy.Interval.open(0, sympy.oo))
    return _saturation(a, e)


@lru_cache(maxsize=1024)
def _saturation(act: Activation, eps: sympy.Expr) -> Saturation:
    parts: list[sympy.Set] = []
    formulas: list[sympy.Expr] | None = []
    how: dict[sympy.Expr, How] = {}
    steps = [Step("The region where the gradient factor is below ε.",
                  sympy.Lt(sympy.Abs(_PRIME), eps))]
    for piece in act.pieces:
        d = piece.derivative
        if not d.has(z):
            if _hp(abs(d)) < _hp(eps):
                parts.append(piece.interval)
            continue
        points: list[sympy.Expr] = []
        for target in (eps, -eps):
            roots = exact_roots(d - target, piece.lo, piece.hi)
            if roots is not None:
                points += roots
                how.update(dict.fromkeys(roots, _EXACT))
                if formulas is not None and roots:
                    general = symbolic_roots(d - target.subs(eps, EPSILON), EPSILON, eps,
                                             roots)
                    formulas = None if general is None else formulas + general
                continue
            formulas = None
            for root in certified_roots(d - target, piece.lo, piece.hi)[0]:
                points.append(_float(root.mid))
                how[points[-1]] = Certified(_float(root.lo), _float(root.hi), _INTERVALS)
        points = sorted(set(points), key=_hp)
        if points:
            steps.append(Step(f"On {interval_text(piece.interval)}, |φ'(z)| = ε at",
                              sympy.FiniteSet(*points)))
        fn = sympy.lambdify(z, d, modules="mpmath")
        edges = [piece.lo, *points, piece.hi]
        for left, right in itertools.pairwise(edges):
            if _below(fn, _inside(left, right), eps):
                parts.append(sympy.Interval.open(left, right))
    for b in act.breakpoints:
        if _hp(abs(act.derivative.subs(z, b))) < _hp(eps):
            parts.append(sympy.FiniteSet(b))
    region = sympy.Union(*parts) if parts else sympy.S.EmptySet
    boundary = tuple(sorted((p for p in region.boundary if p.is_finite), key=_hp))
    left, right = _thresholds(region)
    in_epsilon = tuple(sorted(formulas or (), key=lambda f: _hp(f.subs(EPSILON, eps))))
    if in_epsilon:
        steps.append(Step("The same equation solved for a symbolic ε gives the boundary for "
                          "every ε near this one, as a closed form:",
                          sympy.FiniteSet(*in_epsilon)))
    steps.append(Step("Hence the saturation region.", sympy.Eq(sympy.Symbol("S_epsilon"),
                                                               region, evaluate=False)))
    found = {f"boundary[{i}]": how.get(p, _EXACT) for i, p in enumerate(boundary)}
    for name, point in (("left_threshold", left), ("right_threshold", right)):
        if point is not None:
            found[name] = how.get(point, _EXACT)
    return Saturation(act.label, eps, region, boundary, left, right, Provenances(found),
                      tuple(steps), in_epsilon)


def _inside(a: sympy.Expr, b: sympy.Expr) -> mpmath.mpf:
    with mpmath.workdps(60):
        if a == -sympy.oo and b == sympy.oo:
            return mpmath.mpf(0)
        if a == -sympy.oo:
            return _hp(b) - 1
        if b == sympy.oo:
            return _hp(a) + 1
        return (_hp(a) + _hp(b)) / 2


def _below(fn: Any, x: mpmath.mpf, eps: sympy.Expr) -> bool:
    with mpmath.workdps(60):
        return bool(abs(fn(x)) < _hp(eps))


def _thresholds(region: sympy.Set) -> tuple[sympy.Expr | None, sympy.Expr | None]:
    if region == sympy.S.Reals:
        return None, None
    parts = region.args if isinstance(region, sympy.Union) else (region,)
    left = right = None
    for part in parts:
        if isinstance(part, sympy.Interval):
            if part.start == -sympy.oo:
                left = part.end
            if part.end == sympy.oo:
                right = part.start
    return left, right
