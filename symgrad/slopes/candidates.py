"""Where can |φ'| be largest?  The complete list of candidates, each with an enclosure.

φ' is monotone between consecutive critical points of a smooth piece (roots of φ''),
so sup |φ'| over the reals is the largest of

* |φ'| at every root of φ'' inside a piece (all of them: :func:`~symgrad.slopes.roots.piece_roots`
  proves none was missed, tails included);
* the one-sided limits of |φ'| at each finite end of a piece (approached, not attained);
* the limits of |φ'| as z → ±∞ (from the tail form, :func:`~symgrad._exact.limits.limit_at`);
* |φ'(b)| at each breakpoint b, with the kink convention (the value of the piece that
  contains b, :attr:`~symgrad.activations.record.Activation.derivative`);
* a constant |φ'| on a whole piece (attained on that interval).

Each candidate carries an enclosure of its |φ'| (a point for a closed form), so the
supremum is decided by comparing enclosures, never by rounded floats.

>>> from symgrad.activations.registry import activation
>>> [(c.at, c.value, c.reach.value) for c in candidates(activation("relu"))[0]]
[(0, 0, 'interval'), (0, 1, 'interval'), (0, 0, 'point')]
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

import sympy

from symgrad._core.format import interval_text
from symgrad._core.symbols import z
from symgrad._exact.digits import CertifiedNumber
from symgrad._exact.enclose import constant_number, enclose
from symgrad._exact.limits import limit_at
from symgrad._exact.parity import symmetry
from symgrad._exact.signs import sign_of
from symgrad.activations.record import Activation, Piece, one_sided_limit
from symgrad.errors import NoClosedForm
from symgrad.records import Exact, How, Step
from symgrad.slopes.notation import PRIME as _PRIME
from symgrad.slopes.roots import DIGITS, FoundRoot, PieceRoots, piece_roots

__all__ = ["Candidate", "Reach", "abs_number", "candidates", "mirrored"]

_EXACT = Exact("SymPy closed form")
_LIMIT = Exact("limit from the tail form (exact)")


class Reach(enum.Enum):
    """How the supremum of |φ'| is reached."""

    #: Attained at isolated points; ``at`` is one of them (see ``argmax`` for all).
    POINT = "point"
    #: Attained on a whole interval; ``at`` is its point (or open end) nearest 0.
    INTERVAL = "interval"
    #: Approached as z → at from the left (a kink); not attained.
    LEFT_LIMIT = "left limit"
    #: Approached as z → at from the right (a kink); not attained.
    RIGHT_LIMIT = "right limit"
    #: Approached as z → ±∞ (``at`` is ``sympy.oo`` or ``-sympy.oo``); not attained.
    INFINITY = "infinity"


@dataclass(frozen=True)
class Candidate:
    """|φ'| = ``value`` (closed form, ∞, or a Float of the proven digits) at ``at``.

    ``number`` encloses ``value`` (None when it is ∞); ``where`` is the set on which |φ'|
    equals it (empty when only approached); ``piece`` the index of the smooth piece it
    comes from (−1 for a breakpoint); ``root`` the critical point it sits at, ``source``
    the piece's φ' (both to refine the enclosure).
    """

    value: sympy.Expr
    number: CertifiedNumber | None
    at: sympy.Expr
    reach: Reach
    where: sympy.Set
    how_value: How = _EXACT
    how_at: How = _EXACT
    piece: int = -1
    root: FoundRoot | None = field(default=None, repr=False)
    source: sympy.Expr | None = field(default=None, repr=False)

    @property
    def exact(self) -> bool:
        return isinstance(self.how_value, Exact)

    @property
    def attained(self) -> bool:
        return bool(self.where != sympy.S.EmptySet)

    def refined(self, digits: int) -> Candidate:
        """The same candidate with its enclosure recomputed to ``digits`` digits."""
        if self.exact or self.root is None or self.root.root is None or self.source is None:
            return self
        number = abs_number(enclose(self.source, self.root.root, digits=digits))
        return Candidate(number.sympy_float(), number, self.at, self.reach, self.where,
                         number.certified(self.how_value.method), self.how_at, self.piece,
                         self.root, self.source)


def abs_number(n: CertifiedNumber) -> CertifiedNumber:
    """An enclosure of |x| from one of x."""
    if n.lower >= 0:
        return n
    if n.upper <= 0:
        return CertifiedNumber(-n.upper, -n.lower, n.max_digits)
    return CertifiedNumber(type(n.lower)(0), max(-n.lower, n.upper), n.max_digits)


def _exact_candidate(value: sympy.Expr, at: sympy.Expr, reach: Reach, where: sympy.Set,
                     how: How = _EXACT, piece: int = -1) -> Candidate:
    if value in (sympy.oo, -sympy.oo):
        return Candidate(sympy.oo, None, at, reach, where, how, _EXACT, piece)
    number = constant_number(value, DIGITS)
    sign = number.sign() or sign_of(value) or 0
    magnitude = -value if sign < 0 else value
    return Candidate(magnitude, abs_number(number), at, reach, where, how, _EXACT, piece)


def _constant_piece(piece: Piece, index: int) -> tuple[list[Candidate], Step]:
    d = piece.derivative
    inside = piece.interval.contains(0) == sympy.true
    at = sympy.Integer(0) if inside else min(
        (e for e in (piece.lo, piece.hi) if e.is_finite), key=lambda e: abs(float(e)))
    cand = _exact_candidate(d, at, Reach.INTERVAL, piece.interval, piece=index)
    step = Step(f"On {interval_text(piece.interval)} φ' is constant, so |φ'| takes this "
                "one value on the whole interval.", sympy.Eq(_PRIME, d))
    return [cand], step


def _end_candidates(piece: Piece, index: int) -> list[Candidate]:
    d = piece.derivative
    out = []
    for end, side, reach in ((piece.lo, -1, Reach.RIGHT_LIMIT), (piece.hi, 1, Reach.LEFT_LIMIT)):
        if end.is_finite:
            value = one_sided_limit(d, end, "+" if side < 0 else "-")
            out.append(_exact_candidate(value, end, reach, sympy.S.EmptySet, piece=index))
            continue
        limit = limit_at(d, side)
        if limit.value is None:
            try:
                exact: sympy.Expr | None = sympy.limit(d, z, end)
            except (NotImplementedError, ValueError, TypeError):  # SymPy gave up
                exact = None
            if exact is not None and not exact.is_number:
                exact = None
        else:
            exact = limit.value
        if exact is not None:
            out.append(_exact_candidate(exact, end, Reach.INFINITY, sympy.S.EmptySet,
                                        _LIMIT, index))
        elif limit.enclosure is not None:
            number = abs_number(limit.enclosure)
            out.append(Candidate(number.sympy_float(), number, end, Reach.INFINITY,
                                 sympy.S.EmptySet, number.certified(limit.how), _EXACT, index))
        else:  # pragma: no cover - limit_at returns a value or an enclosure
            raise NoClosedForm(f"no limit of φ' = {d} as z → {end}")
    return out


def _root_candidate(d: sympy.Expr, root: FoundRoot, index: int) -> Candidate:
    where = sympy.FiniteSet(root.at)
    if root.exact:
        value = d.subs(z, root.at)
        cand = _exact_candidate(value, root.at, Reach.POINT, where, piece=index)
        return Candidate(cand.value, cand.number, root.at, Reach.POINT, where, _EXACT, root.how,
                         index, root, d)
    if root.root is None:  # pragma: no cover - a certified root comes from the isolation
        raise NoClosedForm(f"no enclosure of the critical point {root.at}")
    number = abs_number(enclose(d, root.root, digits=DIGITS))
    how = number.certified("ball arithmetic (Arb): |φ'| enclosed on the certified critical "
                           "point")
    return Candidate(number.sympy_float(), number, root.at, Reach.POINT, where, how, root.how,
                     index, root, d)


def _smooth_piece(piece: Piece, index: int) -> tuple[list[Candidate], PieceRoots, Step]:
    d = piece.derivative
    found = piece_roots(sympy.diff(d, z), piece.lo, piece.hi, name="φ''")
    out = _end_candidates(piece, index)
    out += [_root_candidate(d, r, index) for r in found.roots]
    shown = sympy.FiniteSet(*[r.at for r in found.roots])
    step = Step(f"On {interval_text(piece.interval)}: {found.completeness}.",
                sympy.Eq(sympy.Symbol(r"z_{\mathrm{crit}}"), shown, evaluate=False))
    return out, found, step


def _breakpoints(act: Activation) -> list[Candidate]:
    """|φ'(b)| at each breakpoint, by the kink convention (the piece containing b)."""
    return [_exact_candidate(act.derivative.subs(z, b), b, Reach.POINT, sympy.FiniteSet(b))
            for b in act.breakpoints]


def candidates(act: Activation) -> tuple[list[Candidate], list[PieceRoots], list[Step]]:
    """Every candidate for sup |φ'|, the per-piece root proofs and the steps."""
    found: list[Candidate] = []
    proofs: list[PieceRoots] = []
    steps: list[Step] = []
    for index, piece in enumerate(act.pieces):
        if not piece.derivative.has(z):
            cands, step = _constant_piece(piece, index)
        else:
            cands, proof, step = _smooth_piece(piece, index)
            proofs.append(proof)
        found += cands
        steps.append(step)
    found += _breakpoints(act)
    return found, proofs, steps


def mirrored(a: Candidate, b: Candidate, act: Activation,
             roots: Sequence[FoundRoot]) -> bool:
    """Whether |φ'| at a and at b is provably the same number: both critical points of one
    piece symmetric about 0 on which φ' is even or odd, and −a is the only root that can
    be b (the roots are complete and their enclosures disjoint)."""
    if a.piece != b.piece or a.piece < 0 or a.root is None or b.root is None:
        return False
    piece = act.pieces[a.piece]
    symmetric = piece.lo == -piece.hi or (piece.lo.is_finite and piece.hi.is_finite
                                          and sign_of(piece.lo + piece.hi) == 0)
    if not symmetric or symmetry(piece.derivative) == 0:
        return False
    lo, hi = -a.root.number.upper, -a.root.number.lower
    overlapping = [r for r in roots if r.number.lower <= hi and lo <= r.number.upper]
    return len(overlapping) == 1 and overlapping[0] is b.root
