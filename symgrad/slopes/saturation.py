"""Where does φ saturate?  The region {z : |φ'(z)| < ε}, exactly where it has a closed form.

On each smooth piece the boundary points are the roots of φ' − ε and φ' + ε, all of
them (:func:`~symgrad.slopes.roots.piece_roots`: ball-arithmetic isolation with tail
proofs, closed forms from SymPy where it finds them); between consecutive boundary
points |φ'| − ε has one sign, read off in ball arithmetic at one rational point.  A
certified boundary prints only the digits its enclosure proves.

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

import sympy
from flint import arb, fmpq

from symgrad._core.format import interval_text
from symgrad._core.symbols import EPSILON, z
from symgrad._core.validate import as_exact_real
from symgrad._exact.ball_constants import constant_ball
from symgrad._exact.ball_function import compile_ball
from symgrad._exact.enclose import constant_number
from symgrad._exact.precision import START_BITS, working_precision
from symgrad._exact.roots import symbolic_roots
from symgrad._exact.signs import abs_exact, sign_of
from symgrad.activations.record import Activation, Piece
from symgrad.activations.registry import as_activation
from symgrad.errors import NoClosedForm
from symgrad.records import Certified, Exact, How, Provenances, Record, Step
from symgrad.slopes.kinks import saturation_notes
from symgrad.slopes.notation import PRIME as _PRIME
from symgrad.slopes.roots import DIGITS, FoundRoot, PieceRoots, piece_roots
from symgrad.types import RealLike

__all__ = ["Saturation", "saturation"]

_EXACT = Exact("SymPy closed form")


@dataclass(frozen=True)
class Saturation(Record):
    """The saturation region {z : |φ'(z)| < eps}, its boundary and per-side thresholds.

    ``region`` is a SymPy set (a union of intervals, possibly empty or the whole line);
    ``left_threshold`` is t with (−∞, t) ⊆ region maximal (None when the region is not
    unbounded on the left), ``right_threshold`` likewise for (t, ∞).  Certified boundary
    points are Floats carrying only the digits their enclosures prove.  ``provenance``
    has one entry per boundary point (``boundary[i]``) and per threshold: a closed form,
    or a certified enclosure; ``exact`` says whether every one is a closed form.
    ``completeness`` says why no boundary point was missed (cells and tail proofs per
    piece); ``convention`` where the kink convention decides a point's membership
    (empty when it decides nothing).
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
    completeness: str = ""
    convention: str = ""

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
        if self.convention:
            rows.append(("kink convention", self.convention))
        return rows

    def contains(self, x: RealLike) -> bool:
        """Whether x lies in the saturation region."""
        inside: bool = self.region.contains(as_exact_real(x, "x")) == sympy.true
        return inside


def saturation(act: Activation | str, eps: RealLike) -> Saturation:
    """{z : |φ'(z)| < eps} as a SymPy set, exact where the boundary has a closed form,
    certified (with a completeness proof) otherwise.

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


def _below(d: sympy.Expr, at: sympy.Expr, eps: sympy.Expr) -> bool:
    """|φ'(at)| < ε at a rational point that is no root of |φ'| − ε, decided in ball
    arithmetic (SymPy's exact sign only if the enclosures do not separate)."""
    fast = _ball_below(d, at, eps)
    if fast is not None:
        return fast
    value = d.subs(z, at)
    magnitude = constant_number(value, DIGITS)
    e = constant_number(eps, DIGITS)
    high = max(abs(magnitude.lower), abs(magnitude.upper))
    low = min(abs(magnitude.lower), abs(magnitude.upper)) if magnitude.sign() else 0
    if high < e.lower:
        return True
    if low > e.upper:
        return False
    return (sign_of(abs_exact(value) - eps) or 0) < 0


def _ball_below(d: sympy.Expr, at: sympy.Expr, eps: sympy.Expr) -> bool | None:
    """|φ'(at)| < ε decided on Arb balls without substituting: φ' compiled once per piece
    (:func:`~symgrad._exact.ball_function.compile_ball`), evaluated on the exact rational
    ``at``; None when the enclosures of |φ'(at)| and ε overlap or φ' has no ball rules."""
    try:
        f = compile_ball(d)
    except NoClosedForm:
        return None
    with working_precision(START_BITS):
        value = abs(f(arb(fmpq(int(at.p), int(at.q)))))
        e = constant_ball(eps)
    if value < e:
        return True
    if value > e:
        return False
    return None


def _inside(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
    """A rational point strictly between a and b (ends may be ±∞ or irrational)."""
    if a == -sympy.oo and b == sympy.oo:
        return sympy.Integer(0)
    if a == -sympy.oo:
        return sympy.floor(constant_number(b, 20).lower) - 1
    if b == sympy.oo:
        return sympy.ceiling(constant_number(a, 20).upper) + 1
    lo, hi = constant_number(a, 30), constant_number(b, 30)
    mid = (lo.upper + hi.lower) / 2
    return sympy.Rational(mid.numerator, mid.denominator)


def _piece_region(piece: Piece, eps: sympy.Expr) -> tuple[
        list[sympy.Set], list[FoundRoot], list[PieceRoots], list[sympy.Expr] | None]:
    """The saturated parts of one piece, the boundary roots, their proofs, and the
    boundary as formulas in a symbolic ε (None when some point has none)."""
    d = piece.derivative
    if not d.has(z):
        below = (sign_of(abs_exact(d) - eps) or 0) < 0
        return ([piece.interval] if below else []), [], [], []
    proofs = [piece_roots(d - target, piece.lo, piece.hi, name=name)
              for target, name in ((eps, "φ' − ε"), (-eps, "φ' + ε"))]
    found = sorted((r for p in proofs for r in p.roots), key=lambda r: r.number.mid)
    parts = []
    edges = [piece.lo, *[r.at for r in found], piece.hi]
    for left, right in itertools.pairwise(edges):
        if _below(d, _inside(left, right), eps):
            parts.append(sympy.Interval.open(left, right))
    formulas: list[sympy.Expr] | None = []
    for proof, sign in zip(proofs, (1, -1), strict=True):
        if formulas is None or not proof.roots:
            continue
        if not proof.exact:
            formulas = None
            continue
        general = symbolic_roots(d - sign * EPSILON, EPSILON, eps,
                                 [r.at for r in proof.roots])
        formulas = None if general is None else formulas + general
    return parts, found, proofs, formulas


@lru_cache(maxsize=1024)
def _saturation(act: Activation, eps: sympy.Expr) -> Saturation:
    parts: list[sympy.Set] = []
    roots: list[FoundRoot] = []
    proofs: list[PieceRoots] = []
    steps = [Step("The region where the gradient factor is below ε.",
                  sympy.Lt(sympy.Abs(_PRIME), eps))]
    formulas: list[sympy.Expr] | None = []
    for piece in act.pieces:
        found_parts, found, piece_proofs, general = _piece_region(piece, eps)
        parts += found_parts
        roots += found
        proofs += piece_proofs
        formulas = None if formulas is None or general is None else formulas + general
        if found:
            steps.append(Step(f"On {interval_text(piece.interval)}, |φ'(z)| = ε at",
                              sympy.FiniteSet(*[r.at for r in found])))
    for b in act.breakpoints:
        if (sign_of(abs_exact(act.derivative.subs(z, b)) - eps) or 0) < 0:
            parts.append(sympy.FiniteSet(b))
    region = sympy.Union(*parts) if parts else sympy.S.EmptySet
    how: dict[sympy.Expr, How] = {r.at: r.how for r in roots}
    boundary = tuple(sorted(_boundary(region), key=lambda p: constant_number(p, 30).mid))
    left, right = _thresholds(region)
    completeness = "; ".join(p.completeness for p in proofs)
    if completeness:
        steps.append(Step(f"No boundary point was missed: {completeness}.", None))
    in_epsilon = tuple(sorted(formulas or (),
                              key=lambda f: constant_number(f.subs(EPSILON, eps), 30).mid))
    if in_epsilon:
        steps.append(Step("The same equation solved for a symbolic ε gives the boundary for "
                          "every ε near this one, as a closed form:",
                          sympy.FiniteSet(*in_epsilon)))
    notes = saturation_notes(act, eps, region)
    steps += [Step(note, None) for note in notes]
    steps.append(Step("Hence the saturation region.", sympy.Eq(sympy.Symbol("S_epsilon"),
                                                               region, evaluate=False)))
    found_how = {f"boundary[{i}]": how.get(p, _EXACT) for i, p in enumerate(boundary)}
    for name, point in (("left_threshold", left), ("right_threshold", right)):
        if point is not None:
            found_how[name] = how.get(point, _EXACT)
    return Saturation(act.label, eps, region, boundary, left, right, Provenances(found_how),
                      tuple(steps), in_epsilon, completeness, " ".join(notes))


def _boundary(region: sympy.Set) -> list[sympy.Expr]:
    """The finite boundary points of the region: the finite ends of its intervals and its
    isolated points, in the order of the region's arguments.

    The parts the region is built from are pairwise disjoint (open intervals between
    consecutive boundary roots of one piece, disjoint pieces, breakpoints outside every
    open piece), and Union only merges them, so its arguments are pairwise disjoint too.
    Then no end of one argument lies in another's interior (a neighbourhood of it would
    meet both), and SymPy's ``Union.boundary`` — each argument's boundary minus the
    others' interiors — is exactly this union of ends, without its set differences.
    """
    parts = region.args if isinstance(region, sympy.Union) else (region,)
    points: dict[sympy.Expr, None] = {}
    for part in parts:
        if isinstance(part, sympy.Interval):
            points.update(dict.fromkeys((part.start, part.end)))
        elif isinstance(part, sympy.FiniteSet):
            points.update(dict.fromkeys(part.args))
        elif part != sympy.S.EmptySet:  # pragma: no cover - not a shape built here
            return [p for p in region.boundary if p.is_finite]
    return [p for p in points if p.is_finite]


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
