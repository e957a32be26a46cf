"""How steep is φ?  The supremum of |φ'| over the reals, where and how it is reached.

The per-layer factor of backpropagation is w·φ'(z), so |w·φ'(z)| ≤ |w|·γ with
γ = sup |φ'| (Hochreiter 1991; Bengio, Simard and Frasconi 1994).  The candidates
(:mod:`~symgrad.slopes.candidates`: every root of φ'' with a completeness proof, the
one-sided limits at kinks, the value at each breakpoint, the limits at ±∞) each carry
an enclosure of |φ'|; the winner is declared only when its enclosure lies above every
other's, or when a tie is proven exactly (equal closed forms, or mirror-image critical
points of an even or odd φ').  A certified supremum prints only the digits its
enclosure proves.

>>> m = max_slope("sigmoid")
>>> m.value, m.at, m.attained, m.exact
(1/4, 0, True, True)
>>> m = max_slope("relu")
>>> m.reach.value, m.argmax
('interval', Interval.open(0, oo))
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy

from symgrad._core.format import set_text
from symgrad._exact.signs import abs_exact, sign_of
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.errors import NoClosedForm
from symgrad.records import Certified, Exact, Provenances, Record, Step, provenances
from symgrad.slopes.candidates import Candidate, Reach, candidates, mirrored
from symgrad.slopes.kinks import sup_notes
from symgrad.slopes.notation import PRIME as _PRIME
from symgrad.slopes.notation import SECOND as _SECOND
from symgrad.slopes.roots import DIGITS, PieceRoots

__all__ = ["MaxSlope", "Reach", "max_slope"]

_REFINEMENTS = (80, 160)  # digits tried when two enclosures overlap
_INTERVAL_END = Exact("the point of the interval nearest 0, or its end")
_ORDER = [Reach.INTERVAL, Reach.POINT, Reach.LEFT_LIMIT, Reach.RIGHT_LIMIT, Reach.INFINITY]


@dataclass(frozen=True)
class MaxSlope(Record):
    """sup over the reals of |φ'(z)|, where it is reached, and how it was obtained.

    ``value`` and ``at`` are SymPy numbers (closed forms, or Floats carrying only the
    digits their enclosures prove; ``at`` is ±``sympy.oo`` for a supremum approached at
    ±∞); ``argmax`` is the set where the sup is attained (empty when only approached),
    ``attained`` whether it is non-empty, ``reach`` how the sup is reached (``INTERVAL``
    when ``argmax`` contains an interval: then ``at`` is its point, or open end, nearest
    0).  ``completeness`` says why no critical point was missed (cells and tail proofs
    per piece); ``convention`` says where the kink convention (φ' at a kink is the value
    of the piece containing it) decides the answer — SELU's sup λα is attained at 0 only
    under it, ReLU's is attained on (0, ∞), not at 0 — empty when it decides nothing.
    ``provenance``: a closed form, or a certified enclosure, for ``value`` and ``at``.
    """

    activation: str
    value: sympy.Expr
    at: sympy.Expr
    reach: Reach
    attained: bool
    argmax: sympy.Set
    completeness: str
    convention: str
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

    def where(self) -> str:
        """Where the sup is reached, in words (the argmax when attained)."""
        return reached_text(self.reach, self.at, self.argmax)

    def __float__(self) -> float:
        return float(self.value)

    def title(self) -> str:
        return f"sup |φ'| for {self.activation}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("sup |φ'|", self.value), ("reached", self.where())]
        if self.convention:
            rows.append(("kink convention", self.convention))
        return rows


def reached_text(reach: Reach, at: sympy.Expr, argmax: sympy.Set) -> str:
    """"attained on (0, ∞)", "attained at z = 0", "approached as z → +∞, not attained"."""
    if reach is Reach.INTERVAL:
        return f"attained on {set_text(argmax)}"
    if reach is Reach.POINT:
        points = argmax.args if isinstance(argmax, sympy.FiniteSet) else ()
        if len(points) > 1:
            return f"attained at z ∈ {set_text(argmax)}"
        return f"attained at z = {set_text(argmax)[1:-1]}"
    if reach is Reach.INFINITY:
        return f"approached as z → {'+' if at == sympy.oo else '−'}∞, not attained"
    side = "left" if reach is Reach.LEFT_LIMIT else "right"
    return f"approached from the {side} at z = {set_text(sympy.FiniteSet(at))[1:-1]}, " \
           "not attained"


def max_slope(act: Activation | str) -> MaxSlope:
    """The supremum over the reals of |φ'|, exact where SymPy proves a closed form,
    otherwise a certified enclosure with the proof that no candidate was missed.

    >>> m = max_slope("gelu")
    >>> m.at, m.exact, round(float(m.value), 6)
    (sqrt(2), True, 1.128904)
    >>> m = max_slope("softplus")
    >>> m.value, m.at, m.attained
    (1, oo, False)
    """
    return _max_slope(as_activation(act))


# ---- deciding between candidates ----


def _compare(a: Candidate, b: Candidate, act: Activation, roots: list[PieceRoots]) -> int | None:
    """sign(a − b) for two candidates' |φ'|, 0 for a proven tie, None when undecided."""
    if a.value == sympy.oo or b.value == sympy.oo:
        return (a.value == sympy.oo) - (b.value == sympy.oo) if a.value != b.value else 0
    if a.exact and b.exact:
        return sign_of(a.value - b.value)
    if a.number is None or b.number is None:  # pragma: no cover - finite values are enclosed
        return None
    if a.number.lower > b.number.upper:
        return 1
    if b.number.lower > a.number.upper:
        return -1
    piece_roots = [r for proof in roots for r in proof.roots]
    if mirrored(a, b, act, piece_roots):
        return 0
    return None


def _select(found: list[Candidate], act: Activation, roots: list[PieceRoots]
            ) -> tuple[list[Candidate], str]:
    """The candidates whose |φ'| is the maximum (ties proven), and why."""
    for digits in (DIGITS, *_REFINEMENTS):
        if any(c.value == sympy.oo for c in found):
            return [c for c in found if c.value == sympy.oo], "|φ'| is unbounded"
        top = max(c.number.lower for c in found if c.number is not None)
        contenders = [c for c in found if c.number is not None and c.number.upper >= top]
        order: dict[tuple[int, int], int] = {}
        for i, a in enumerate(contenders):
            for j, b in enumerate(contenders[i + 1:], i + 1):
                sign = _compare(a, b, act, roots)
                if sign is None:
                    break
                order[(i, j)], order[(j, i)] = sign, -sign
        if len(order) == len(contenders) * (len(contenders) - 1):
            best = [a for i, a in enumerate(contenders)
                    if all(order[(i, j)] >= 0 for j in range(len(contenders)) if j != i)]
            if len(best) == 1 and len(found) > 1:
                why = ("its enclosure lies above every other candidate's" if not best[0].exact
                       or not all(c.exact for c in found) else "the closed forms compare so")
            else:
                why = "the tie between them is proven exactly" if len(best) > 1 else ""
            return best, why
        found = [c.refined(2 * digits) for c in found]
    raise NoClosedForm(f"cannot separate the largest candidates for sup |φ'| of {act.label}: "
                       "their enclosures overlap at 160 digits and no exact tie is proven")


def _at(reach: Reach, winners: list[Candidate], argmax: sympy.Set) -> Candidate | sympy.Expr:
    if reach is Reach.INTERVAL:
        if argmax.contains(0) == sympy.true:
            return sympy.Integer(0)
        ends = [e for e in (argmax.inf, argmax.sup) if e.is_finite]
        return min(ends, key=lambda e: (abs(float(e)), float(e) < 0))
    pool = [c for c in winners if (c.reach is Reach.POINT) == (reach is Reach.POINT)]
    return min(pool, key=lambda c: (not c.exact, _ORDER.index(c.reach),
                                    abs(float(c.at)) if c.at.is_finite else float("inf"),
                                    c.at.is_finite and float(c.at) < 0))


@lru_cache(maxsize=256)
def _max_slope(act: Activation) -> MaxSlope:
    found, roots, piece_steps = candidates(act)
    steps = [
        Step("Differentiate φ.", sympy.Eq(_PRIME, act.derivative, evaluate=False)),
        Step("Between consecutive critical points φ' is monotone, so |φ'| is largest at a "
             "root of φ'', at a piece's end (one-sided limit), at a breakpoint, or at ±∞.",
             sympy.Eq(_SECOND, act.second_derivative, evaluate=False)),
        *piece_steps,
    ]
    winners, why = _select(found, act, roots)
    argmax = sympy.Union(*[c.where for c in winners])
    interval = any(isinstance(p, sympy.Interval) for p in
                   (argmax.args if isinstance(argmax, sympy.Union) else (argmax,)))
    attained = argmax != sympy.S.EmptySet
    if interval:
        reach = Reach.INTERVAL
    elif attained:
        reach = Reach.POINT
    else:
        reach = min((c.reach for c in winners), key=_ORDER.index)
    chosen = _at(reach, winners, argmax)
    best = min(winners, key=lambda c: not c.exact)
    if isinstance(chosen, Candidate):
        at, how_at = chosen.at, chosen.how_at
        best = chosen if chosen.exact or not best.exact else best
    else:
        at, how_at = chosen, _INTERVAL_END
    table = sympy.Matrix([[c.at, c.value] for c in
                          sorted(found, key=lambda c: -(c.number.lower if c.number else 10**9))])
    steps.append(Step("Candidates (z, |φ'(z)|), largest first; each value is a closed form or "
                      "an enclosure in ball arithmetic.", table))
    if why:
        steps.append(Step(f"The largest is declared because {why}.", None))
    notes = sup_notes(act, lambda v: _equals(v, best), argmax)
    steps += [Step(note, None) for note in notes]
    steps.append(Step(f"The supremum is {reached_text(reach, at, argmax)}.",
                      sympy.Eq(sympy.Symbol("gamma"), best.value, evaluate=False)))
    completeness = "; ".join(p.completeness for p in roots) or (
        "φ' is constant on every piece: no critical point")
    return MaxSlope(act.label, best.value, at, reach, attained, argmax, completeness,
                    " ".join(notes), provenances(value=best.how_value, at=how_at),
                    tuple(steps))


def _equals(value: sympy.Expr, best: Candidate) -> bool:
    """|value| (a closed form) is provably the sup."""
    # An enclosure never proves a closed form equal to a certified sup: only exact sups.
    return best.exact and sign_of(abs_exact(value) - best.value) == 0
