"""How steep is φ?  The supremum of |φ'| over the reals, where and how it is reached.

The per-layer factor of backpropagation is w·φ'(z), so |w·φ'(z)| ≤ |w|·γ with
γ = sup |φ'| (Hochreiter 1991; Bengio, Simard and Frasconi 1994).  Candidates are the
critical points of φ' inside each smooth piece (roots of φ'', exact or certified), the
one-sided limits at kinks, the value at each breakpoint, and the limits at ±∞.

>>> m = max_slope("sigmoid")
>>> m.value, m.at, m.attained, m.exact
(1/4, 0, True, True)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import sympy

from symgrad._core.format import interval_text
from symgrad._core.symbols import z
from symgrad._exact.certify import certified_roots
from symgrad._exact.intervals import enclosure_bounds, interval, iv_function
from symgrad._exact.precision import KEPT_DIGITS, WINDOW
from symgrad._exact.roots import exact_roots
from symgrad._exact.signs import abs_exact as _abs_exact
from symgrad._exact.signs import as_float as _float
from symgrad._exact.signs import hp as _hp
from symgrad.activations.record import Activation, Piece, one_sided_limit
from symgrad.activations.registry import as_activation
from symgrad.errors import NoClosedForm
from symgrad.records import (
    Certified,
    Exact,
    How,
    Provenance,
    Provenances,
    Record,
    Step,
    provenances,
)
from symgrad.slopes.notation import PRIME as _PRIME
from symgrad.slopes.notation import SECOND as _SECOND

__all__ = ["MaxSlope", "Reach", "max_slope"]

_DIGITS = KEPT_DIGITS
_TIE = mpmath.mpf(10) ** -35
_EXACT = Exact("SymPy closed form")
_INTERVALS = "interval arithmetic (mpmath iv): sign change and monotonicity verified"


class Reach(enum.Enum):
    """How the supremum of |φ'| is reached."""

    #: Attained at the point ``at``.
    POINT = "point"
    #: Attained on a whole interval; ``at`` is its end nearest 0.
    INTERVAL = "interval"
    #: Approached as z → at from the left (a kink); not attained.
    LEFT_LIMIT = "left limit"
    #: Approached as z → at from the right (a kink); not attained.
    RIGHT_LIMIT = "right limit"
    #: Approached as z → ±∞ (``at`` is ``sympy.oo`` or ``-sympy.oo``); not attained.
    INFINITY = "infinity"


@dataclass(frozen=True)
class _Candidate:
    value: sympy.Expr  # |φ'| there (exact, or a Float)
    approx: mpmath.mpf
    at: sympy.Expr
    reach: Reach
    where: sympy.Set  # points where |φ'| equals value (empty when not attained)
    how_value: How = _EXACT
    how_at: How = _EXACT

    @property
    def exact(self) -> bool:
        return self.how_value.kind is Provenance.EXACT

    @property
    def attained(self) -> bool:
        return bool(self.where != sympy.S.EmptySet)


# ---- sup |φ'| ----


@dataclass(frozen=True)
class MaxSlope(Record):
    """sup over the reals of |φ'(z)|, where it is reached, and how it was obtained.

    ``value`` and ``at`` are SymPy numbers (``at`` is ±``sympy.oo`` for a supremum
    approached at ±∞); ``attained`` says whether some z has |φ'(z)| = value;
    ``provenance`` says how each was obtained (a closed form, or a certified enclosure);
    ``exact`` whether ``value`` is a closed form.  ``argmax`` is the set where the sup is
    attained.  At a kink φ' is the value of the
    piece containing it (:attr:`Activation.derivative`, as in the NumPy kernels and the
    deep-learning frameworks), so SELU's sup λα is attained at 0 (its left limit).
    """

    activation: str
    value: sympy.Expr
    at: sympy.Expr
    reach: Reach
    attained: bool
    argmax: sympy.Set
    tails: str
    provenance: Provenances
    steps: tuple[Step, ...]


    @property
    def value_bracket(self) -> tuple[Any, Any] | None:
        """The certified enclosure of ``value`` (None when it is exact)."""
        how = self.how("value")
        return (how.lower, how.upper) if isinstance(how, Certified) else None

    @property
    def side(self) -> Reach:
        """Alias of :attr:`reach`."""
        return self.reach

    def __float__(self) -> float:
        return float(self.value)

    def title(self) -> str:
        return f"sup |φ'| for {self.activation}"

    def summary(self) -> list[tuple[str, Any]]:
        where = "∞" if self.at == sympy.oo else "-∞" if self.at == -sympy.oo else self.at
        return [
            ("sup |φ'|", self.value),
            ("reached", f"{self.reach.value} at z = {where}"),
            ("attained", "yes" if self.attained else "no"),
        ]


def max_slope(act: Activation | str) -> MaxSlope:
    """The supremum over the reals of |φ'|, exactly where SymPy can prove it.

    Candidates are the critical points of φ' inside each smooth piece (roots of φ''),
    the one-sided limits at kinks, smooth joins, and the limits at ±∞; the largest
    |φ'| wins, so a negative lobe or a tie cannot fool it.

    >>> m = max_slope("gelu")
    >>> m.at, m.exact, round(float(m.value), 6)
    (sqrt(2), True, 1.128904)
    >>> m = max_slope("softplus")
    >>> m.value, m.at, m.attained
    (1, oo, False)
    """
    return _max_slope(as_activation(act))


@lru_cache(maxsize=256)
def _max_slope(act: Activation) -> MaxSlope:
    candidates: list[_Candidate] = []
    steps = [
        Step("Differentiate φ.", sympy.Eq(_PRIME, act.derivative, evaluate=False)),
        Step(
            "Away from kinks, |φ'| is largest at a root of φ'', at a piece's end, or at ±∞.",
            sympy.Eq(_SECOND, act.second_derivative, evaluate=False),
        ),
    ]
    tails_proven = True
    for piece in act.pieces:
        found, proven, step = _piece_candidates(piece)
        candidates += found
        tails_proven &= proven
        steps.append(step)
    candidates += _join_candidates(act)
    best = max(c.approx for c in candidates)
    tied = [c for c in candidates if abs(c.approx - best) <= _TIE * max(1, abs(best))]
    order = [Reach.INTERVAL, Reach.POINT, Reach.LEFT_LIMIT, Reach.RIGHT_LIMIT, Reach.INFINITY]
    winner = min(tied, key=lambda c: (not c.exact, order.index(c.reach), abs(_hp(c.at))))
    argmax = sympy.Union(*[c.where for c in tied]) if tied else sympy.S.EmptySet
    table = sympy.Matrix([[c.at, c.value] for c in sorted(candidates, key=lambda c: -c.approx)])
    steps.append(Step("Candidates (z, |φ'(z)|), largest first.", table))
    steps.append(
        Step(
            f"The supremum is {_REACHED[winner.reach]} {_point_text(winner.at)}.",
            sympy.Eq(sympy.Symbol("gamma"), winner.value, evaluate=False),
        )
    )
    tails = (
        "no root of φ'' beyond the window: enclosed on [2^30, ∞) by interval arithmetic"
        if tails_proven
        else f"roots of φ'' excluded by interval arithmetic for |z| ≤ {WINDOW} = 2^30;"
        " beyond it |φ'| tends to the SymPy limit"
    )
    return MaxSlope(
        activation=act.label,
        value=winner.value,
        at=winner.at,
        reach=winner.reach,
        attained=argmax != sympy.S.EmptySet,
        argmax=argmax,
        tails=tails,
        provenance=provenances(value=winner.how_value, at=winner.how_at),
        steps=tuple(steps),
    )


_REACHED = {
    Reach.POINT: "attained at",
    Reach.INTERVAL: "attained on an interval ending at",
    Reach.LEFT_LIMIT: "approached from the left at the kink",
    Reach.RIGHT_LIMIT: "approached from the right at the kink",
    Reach.INFINITY: "approached as z tends to",
}


def _point_text(at: sympy.Expr) -> str:
    return "+∞" if at == sympy.oo else "−∞" if at == -sympy.oo else f"z = {sympy.sstr(at)}"


def _piece_candidates(piece: Piece) -> tuple[list[_Candidate], bool, Step]:
    d = piece.derivative
    span = piece.interval
    if not d.has(z):
        inside = span.contains(0) == sympy.true
        at = sympy.Integer(0) if inside else (
            piece.lo if _hp(abs(piece.lo)) <= _hp(abs(piece.hi)) else piece.hi)
        reach = Reach.POINT if inside else Reach.INTERVAL
        value = _abs_exact(d)
        step = Step(f"On {interval_text(span)} φ' is constant.", sympy.Eq(_PRIME, d))
        return [_Candidate(value, _hp(value), at, reach, span)], True, step
    out: list[_Candidate] = []
    for end, reach, direction in ((piece.lo, Reach.RIGHT_LIMIT, "+"),
                                  (piece.hi, Reach.LEFT_LIMIT, "-")):
        if end.is_finite:
            value = _abs_exact(one_sided_limit(d, end, direction))
            out.append(_Candidate(value, _hp(value), end, reach, sympy.S.EmptySet))
        else:
            limit = sympy.limit(d, z, end)
            if not (limit.is_number and (limit.is_finite or limit in (sympy.oo, -sympy.oo))):
                raise NoClosedForm(f"cannot take the limit of φ' = {d} as z → {end}")
            value = sympy.oo if not limit.is_finite else _abs_exact(limit)
            approx = mpmath.inf if value == sympy.oo else _hp(value)
            out.append(_Candidate(value, approx, end, Reach.INFINITY, sympy.S.EmptySet))
    dd = sympy.diff(d, z)
    roots = exact_roots(dd, piece.lo, piece.hi)
    proven = True
    if roots is not None:
        for r in roots:
            value = _abs_exact(d.subs(z, r))
            out.append(_Candidate(value, _hp(value), r, Reach.POINT, sympy.FiniteSet(r)))
        shown: Any = sympy.FiniteSet(*roots)
        how = "exactly"
    else:
        certified, tails = certified_roots(dd, piece.lo, piece.hi)
        proven = tails.proven_to_infinity
        enclose = iv_function(d)
        points = []
        for root in certified:
            lo, hi = enclosure_bounds(enclose(interval(root.lo, root.hi)))
            if lo < 0 < hi:
                raise NoClosedForm(f"|φ'| at the critical point near {_float(root.mid)} is not "
                                   "separated from 0 by its enclosure")
            lo, hi = sorted((abs(lo), abs(hi)))  # |φ'| at the root, enclosed
            mid = (lo + hi) / 2
            at = _float(root.mid)
            points.append(at)
            out.append(_Candidate(
                _float(mid), mid, at, Reach.POINT, sympy.FiniteSet(at),
                Certified(_float(lo), _float(hi), _INTERVALS),
                Certified(_float(root.lo), _float(root.hi), _INTERVALS)))
        shown = sympy.FiniteSet(*points)
        how = "as certified brackets (sign change verified by interval arithmetic)"
    step = Step(f"On {interval_text(span)} the roots of φ'' are found {how}.",
                sympy.Eq(sympy.Symbol(r"z_{\mathrm{crit}}"), shown, evaluate=False))
    return out, proven, step


def _join_candidates(act: Activation) -> list[_Candidate]:
    """Breakpoints: smooth joins, and kinks with the value φ' takes there by the
    ``Piecewise`` convention (that of the piece containing the kink, as in
    :attr:`Activation.derivative`, the NumPy kernels and the frameworks)."""
    out = []
    for b in act.breakpoints:
        value = _abs_exact(act.derivative.subs(z, b))
        out.append(_Candidate(value, _hp(value), b, Reach.POINT, sympy.FiniteSet(b)))
    return out
