"""One function per kind of claim: compute the quantity with the library, compare here.

Each returns (holds, value, witness, detail).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import sympy

from symgrad._core.format import number_text
from symgrad._core.validate import describe
from symgrad.claims.fields import CONVENTIONS, Claim, Number
from symgrad.claims.record import ClaimKind
from symgrad.depth.bounds import weight_bound
from symgrad.depth.trace import chain_trace
from symgrad.initialization.gains import he_variance, xavier_variance
from symgrad.records import Exact, How
from symgrad.slopes.point import slope
from symgrad.slopes.saturation import saturation
from symgrad.slopes.sup import max_slope

__all__ = ["CHECKERS", "DEFAULT_REL_TOL"]

#: Default relative tolerance of an approximate claim.
DEFAULT_REL_TOL = 0.01
#: Relative agreement that counts as "equal" for an exact claim.
_EXACT_REL = mpmath.mpf(10) ** -25
_DPS = 50



def _mp(value: Any) -> mpmath.mpf:
    if isinstance(value, mpmath.mpf):
        return value
    expr = sympy.sympify(value)
    if expr in (sympy.oo, -sympy.oo):
        return mpmath.inf if expr == sympy.oo else -mpmath.inf
    return mpmath.mpf(sympy.Float(expr.evalf(_DPS), _DPS))


def _agrees(computed: Any, claimed: Number, rel_tol: float | None) -> bool:
    """|computed − claimed| within the claim's tolerance, relative to |claimed|."""
    with mpmath.workdps(_DPS):
        got, want = _mp(computed), _mp(claimed.value)
        if not mpmath.isfinite(got):
            return False
        if rel_tol is None and not claimed.approximate:
            return bool(abs(got - want) <= _EXACT_REL * abs(want)) if want else got == 0
        tol = mpmath.mpf(rel_tol if rel_tol is not None else DEFAULT_REL_TOL)
        return bool(abs(got - want) <= tol * abs(want))


# ---- one function per kind: compute with the library, compare here ----

_RULE = Exact("derived by SymPy")

_Outcome = tuple[bool, Any, Any, str, How]  # holds, value, witness, detail, how


def _slope_max(c: Claim) -> _Outcome:
    act, claimed = c.activation(), c.number("value")
    rec = max_slope(act)
    how = "attained" if rec.attained else "approached, not attained,"
    detail = f"sup|φ'| = {number_text(rec.value)}, {how} at z = {number_text(rec.at)}"
    return _agrees(rec.value, claimed, c.rel_tol()), rec.value, None, detail, rec.how("value")


def _slope_at(c: Claim) -> _Outcome:
    act, at, claimed = c.activation(), c.number("at"), c.number("value")
    rec = slope(act, at.value)
    detail = f"φ'({number_text(at.value)}) = {number_text(rec.value)}"
    holds = _agrees(rec.value, claimed, c.rel_tol())
    if not holds and claimed.value > 0:
        # Where φ' does take the claimed value: the boundary of {|φ'| < claimed}.
        sat = saturation(act, claimed.value)
        far = [p for p in sat.boundary if abs(float(p)) > 0]
        if far:
            where = ", ".join(f"z = {number_text(p, 8)}" for p in far)
            detail += f"; |φ'| = {number_text(claimed.value)} is reached at {where}"
    return holds, rec.value, None, detail, rec.how("value")


def _pick(points: sympy.Set) -> sympy.Expr | None:
    """A point of ``points``: the closed endpoint farthest from 0 (positive on a tie)."""
    parts = points.args if isinstance(points, sympy.Union) else (points,)
    candidates: list[sympy.Expr] = []
    fallback: list[sympy.Expr] = []
    for part in parts:
        if isinstance(part, sympy.FiniteSet):
            candidates.extend(part.args)
        elif isinstance(part, sympy.Interval):
            lo, hi = part.start, part.end
            if not part.left_open and lo.is_finite:
                candidates.append(lo)
            if not part.right_open and hi.is_finite:
                candidates.append(hi)
            if lo.is_finite and hi.is_finite:
                fallback.append((lo + hi) / 2)
            elif lo.is_finite:
                fallback.append(lo + 1)
            elif hi.is_finite:
                fallback.append(hi - 1)
            else:
                fallback.append(sympy.Integer(0))
    pool = candidates or fallback
    if not pool:
        return None
    return max(pool, key=lambda p: (abs(float(p)), float(p) > 0))


def _slope_below_beyond(c: Claim) -> _Outcome:
    act, beyond, bound = c.activation(), c.number("beyond"), c.number("bound")
    if beyond.value < 0:
        raise c.fail("beyond", f"must be >= 0, got {number_text(beyond.value)}")
    if bound.value <= 0:
        raise c.fail("bound", f"must be > 0, got {number_text(bound.value)}")
    sat = saturation(act, bound.value)
    tails = sympy.Union(sympy.Interval.open(beyond.value, sympy.oo),
                        sympy.Interval.open(-sympy.oo, -beyond.value))
    outside = sympy.Complement(tails, sat.region)
    # The computed value: the |z| beyond which |φ'| < bound everywhere.
    steep = sympy.Complement(sympy.S.Reals, sat.region)
    if steep is sympy.S.EmptySet:
        threshold: sympy.Expr = sympy.Integer(0)
    else:
        # The farther end from 0 (compared numerically: SymPy leaves Max of logs unevaluated).
        ends = (sympy.Abs(steep.inf), sympy.Abs(steep.sup))
        threshold = max(ends, key=lambda e: (float(e), -len(sympy.sstr(e))))
        threshold = sympy.simplify(threshold) if threshold.has(sympy.Abs) else threshold
    holds = outside is sympy.S.EmptySet
    witness = None if holds else _pick(outside)
    detail = f"|φ'(z)| < {number_text(bound.value)} holds for all |z| > {number_text(threshold)}"
    if witness is not None:
        detail += f" and fails at z = {number_text(witness)}, where |φ'(z)| is not below it"
    how = sat.how("right_threshold") if "right_threshold" in sat.provenance else _RULE
    return holds, threshold, witness, detail, how


def _weight_bound(c: Claim) -> _Outcome:
    act, bound = c.activation(), c.number("bound")
    rec = weight_bound(act)
    holds = _agrees(rec.bound, bound, c.rel_tol())
    witness = None
    detail = f"1/sup|φ'| = {number_text(rec.bound)}: {rec.statement}"
    if not holds and _mp(bound.value) > _mp(rec.bound):
        # Some |w| < bound has |w|·|φ'(z)| ≥ 1 where |φ'| is largest.
        witness = rec.at
    elif not holds:
        detail += " The claimed bound is safe but not the largest."
    return holds, rec.bound, witness, detail, rec.how("bound")


def _trace(c: Claim) -> Any:
    act = c.activation()
    depth = c.integer("depth")
    weight, x = c.number("weight"), c.number("x")
    return chain_trace(act, depth=depth, weight=weight.value, x=x.value)


_ROW_FIELD = {"activation": "grad_a", "weight": "grad_w", "bias": "grad_z"}
_LETTER = {"activation": "a", "weight": "w", "bias": "b"}


def _chain_gradient(c: Claim) -> _Outcome:
    trace = _trace(c)
    gradient = c.gradient()
    depth = len(trace.rows)
    claimed = c.number("value")
    if gradient == "input":
        if "layer" in c.table:
            raise c.fail("layer", "does not apply to gradient = \"input\" (∂L/∂x has no layer)")
        # ∂L/∂x = ∂L/∂a₀ = ∂L/∂z₁·w₁ (DESIGN.md), at the trace's precision
        with mpmath.workdps(trace.dps):
            value = +(trace.rows[0].grad_z * trace.weight[0])
        detail = f"∂L/∂x = {number_text(value)} at the input of the {depth}-layer chain"
    else:
        layer = c.integer("layer")
        if layer > depth:
            raise c.fail("layer", f"must be between 1 and depth = {depth}, got {layer}")
        value = getattr(trace.rows[layer - 1], _ROW_FIELD[gradient])
        detail = (f"∂L/∂{_LETTER[gradient]}_{layer} = {number_text(value)} in the "
                  f"{depth}-layer chain")
    return _agrees(value, claimed, c.rel_tol()), value, None, detail, trace.how("rows")


def _chain_ratio(c: Claim) -> _Outcome:
    trace = _trace(c)
    gradient = c.gradient()
    if gradient == "input":
        raise c.fail("gradient", "must name a per-layer gradient (activation, weight or bias) "
                     "for a ratio between the top and the first layer")
    claimed = c.number("value")
    depth = len(trace.rows)
    field = _ROW_FIELD[gradient]
    top, first = getattr(trace.rows[depth - 1], field), getattr(trace.rows[0], field)
    with mpmath.workdps(trace.dps):
        value = mpmath.inf if first == 0 else +(top / first)
    letter = _LETTER[gradient]
    detail = f"∂L/∂{letter}_{depth} / ∂L/∂{letter}_1 = {number_text(value)}"
    holds = _agrees(value, claimed, c.rel_tol())
    if not holds and first != 0:
        detail += _rounding_artefact(top, first, claimed)
    return holds, value, None, detail, trace.how("rows")


def _rounding_artefact(top: Any, first: Any, claimed: Number) -> str:
    """Whether the claimed ratio comes from a rounded first-layer gradient."""
    with mpmath.workdps(_DPS):
        for digits in (2, 3, 4):
            rounded = mpmath.mpf(mpmath.nstr(first, digits))
            if _agrees(top / rounded, Number(claimed.value, True), 1e-4):
                return (f"; {number_text(claimed.value, 8)} is {number_text(top, 6)}/"
                        f"{mpmath.nstr(rounded, digits)}, the first-layer gradient rounded to "
                        f"{digits} digits: a rounding artefact")
    return ""


def _init_variance(c: Claim) -> _Outcome:
    scheme = c.string("scheme")
    fan_in, fan_out = c.integer("fan_in"), c.integer("fan_out")
    claimed = c.number("value")
    if scheme not in ("xavier", "he"):
        raise c.fail("scheme", f"must be \"xavier\" or \"he\", got {describe(scheme)}")
    mode = c.table.get("mode", "fan_in")
    if scheme == "xavier" and "mode" in c.table:
        raise c.fail("mode", "applies to scheme \"he\" only")
    if scheme == "he" and "convention" in c.table:
        raise c.fail("convention", "applies to scheme \"xavier\" only")
    if mode not in ("fan_in", "fan_out"):
        raise c.fail("mode", f"must be \"fan_in\" or \"fan_out\", got {describe(mode)}")

    if scheme == "xavier":
        convention = c.choice("convention", CONVENTIONS, "glorot")
        glorot = xavier_variance(fan_in, fan_out).variance
        caffe = sympy.Rational(1, fan_in)  # Caffe's XavierFiller: U(±√(3/fan_in))
        value = glorot if convention == "glorot" else caffe
        other = "caffe" if convention == "glorot" else "glorot"
        other_value = caffe if convention == "glorot" else glorot
        holds_other = _agrees(other_value, claimed, c.rel_tol())
        detail = (f"under the {convention} convention ({CONVENTIONS[convention]}) Var(w) = "
                  f"{number_text(value)}; under the {other} convention "
                  f"({CONVENTIONS[other]}) it is {number_text(other_value)}, and the claim "
                  f"{'would hold' if holds_other else 'fails too'}")
    else:
        value = he_variance(fan_in, fan_out, mode=mode).variance
        detail = f"Var(w) = 2/{mode} = {number_text(value)} (He et al. 2015)"
    return _agrees(value, claimed, c.rel_tol()), value, None, detail, _RULE


CHECKERS: dict[ClaimKind, Callable[[Claim], _Outcome]] = {
    ClaimKind.SLOPE_MAX: _slope_max,
    ClaimKind.SLOPE_AT: _slope_at,
    ClaimKind.SLOPE_BELOW_BEYOND: _slope_below_beyond,
    ClaimKind.WEIGHT_BOUND: _weight_bound,
    ClaimKind.CHAIN_GRADIENT: _chain_gradient,
    ClaimKind.CHAIN_RATIO: _chain_ratio,
    ClaimKind.INIT_VARIANCE: _init_variance,
}
