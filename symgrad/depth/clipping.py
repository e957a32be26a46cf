"""Gradient clipping by norm, and the identities it satisfies, proved with SymPy.

clip(g, c) = g·min(1, c/‖g‖) (Pascanu, Mikolov and Bengio 2013, Algorithm 1): the
norm becomes min(‖g‖, c), the direction is unchanged (a positive multiple of g), and
clipping twice is clipping once.  It fixes exploding gradients; it cannot revive a
vanishing one (a small g is returned unchanged).

>>> clip([3, 4], 1)
(3/5, 4/5)
>>> all(fact.holds for fact in clipping_facts())
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy

from symgrad._core.validate import as_exact_real, as_float, describe
from symgrad.depth.facts import Fact, Step
from symgrad.errors import InvalidArgument
from symgrad.types import FloatArray, RealLike

__all__ = ["clip", "clipping_facts"]

_POSITIVE = sympy.Interval.open(0, sympy.oo)


def clip(g: Any, c: RealLike) -> Any:
    """g·min(1, c/‖g‖) with the Euclidean norm; ``c`` > 0.

    A NumPy array gives a float64 array; a SymPy ``Matrix`` an exact ``Matrix``; a
    list or tuple of numbers an exact tuple of SymPy numbers (floats read as typed);
    a single number is a 1-vector (its sign is kept).  The zero vector is returned
    unchanged.

    >>> clip([0.3, 0.4], 1)        # ‖g‖ = 1/2 ≤ 1: unchanged
    (3/10, 2/5)
    >>> import numpy as np
    >>> clip(np.array([30.0, 40.0]), 5.0)
    array([3., 4.])
    """
    if isinstance(g, np.ndarray):
        return _clip_array(g, c)
    if isinstance(g, sympy.MatrixBase):
        c_exact = as_exact_real(c, "c", domain=_POSITIVE)
        entries = [as_exact_real(v, f"g[{i}]") for i, v in enumerate(g)]
        vec = sympy.Matrix(g.shape[0], g.shape[1], entries)
        norm = sympy.sqrt(sum(v**2 for v in entries))
        return vec if _le(norm, c_exact) else (vec * (c_exact / norm)).applyfunc(sympy.radsimp)
    c_exact = as_exact_real(c, "c", domain=_POSITIVE)
    if isinstance(g, Sequence) and not isinstance(g, str | bytes):
        if len(g) == 0:
            raise InvalidArgument("g must have at least one component, got an empty sequence")
        entries = [as_exact_real(v, f"g[{i}]") for i, v in enumerate(g)]
        norm = sympy.sqrt(sum(v**2 for v in entries))
        if _le(norm, c_exact):
            return tuple(entries)
        return tuple(sympy.radsimp(v * c_exact / norm) for v in entries)
    value = as_exact_real(g, "g")
    return value if _le(abs(value), c_exact) else sympy.sign(value) * c_exact


def _le(a: sympy.Expr, b: sympy.Expr) -> bool:
    decided = sympy.Le(a, b)
    if decided in (sympy.true, sympy.false):
        return bool(decided)
    return bool(sympy.N(a - b, 60) <= 0)  # pragma: no cover - algebraic numbers decide above


def _clip_array(g: FloatArray, c: RealLike) -> FloatArray:
    c_f = as_float(c, "c", lower=0.0)
    arr = np.asarray(g, dtype=np.float64)
    if arr.size == 0:
        raise InvalidArgument("g must have at least one component, got an empty array")
    if not np.all(np.isfinite(arr)):
        raise InvalidArgument(f"g must be finite, got {describe(g)}")
    # ‖g‖ computed scaled by max|g| so it neither overflows nor underflows.
    scale = float(np.max(np.abs(arr)))
    if scale == 0.0:
        return arr.copy()
    norm = scale * float(np.linalg.norm(arr / scale))
    if norm <= c_f:
        return arr.copy()
    return arr * (c_f / norm)


def clipping_facts() -> tuple[Fact, ...]:
    """The three identities of clipping by norm, each with a case-by-case SymPy proof.

    With r = ‖g‖ > 0 and λ = min(1, c/r): (1) ‖clip(g, c)‖ = λr = min(r, c);
    (2) clip(g, c) = λg with λ > 0, so the direction g/‖g‖ is unchanged;
    (3) clip(clip(g, c), c) = clip(g, c).  Each is checked in the two cases r ≤ c
    (written r = c/(1 + u), u ≥ 0) and r > c (r = c(1 + v), v > 0).
    """
    c = sympy.Symbol("c", positive=True)
    r = sympy.Symbol(r"\|g\|", positive=True)
    u = sympy.Symbol("u", nonnegative=True)
    v = sympy.Symbol("v", positive=True)
    # (r in this case, its label, min(r, c) in this case)
    cases = ((c / (1 + u), "‖g‖ ≤ c", c / (1 + u)), (c * (1 + v), "‖g‖ > c", c))
    lam = sympy.Min(1, c / r)

    norm_steps: list[Step] = []
    dir_steps: list[Step] = []
    idem_steps: list[Step] = []
    norm_ok = dir_ok = idem_ok = True
    g = sympy.latex(r)
    for rr, label, smaller in cases:
        lam_c = lam.subs(r, rr)
        # min(r, c) in this case, decided by the sign of r − c
        side = sympy.simplify(rr - c)
        min_ok = (side.is_nonpositive and smaller == rr) or (side.is_positive and smaller == c)
        norm_eq = sympy.simplify(lam_c * rr - smaller) == 0
        norm_ok &= bool(min_ok) and norm_eq
        # The rendered chain: substitute r, show λ, then λ·r and min(r, c) in this case.
        where = rf"{g} = {sympy.latex(rr)}"
        clipped = sympy.simplify(lam_c * rr)
        norm_steps.append(Step(
            f"Case {label}: substitute and simplify; SymPy checks λ‖g‖ − min(‖g‖, c) = 0",
            rf"{where}:\quad \lambda = {sympy.latex(lam_c)},\quad \lambda {g} = "
            rf"{sympy.latex(clipped)} = \min\left({g}, c\right)"))
        dir_ok &= bool(lam_c.is_positive)
        dir_steps.append(Step(f"Case {label}: λ > 0 (SymPy decides the sign)",
                              rf"{where}:\quad \lambda = {sympy.latex(lam_c)} > 0"))
        lam_again = sympy.Min(1, c / clipped)
        idem_ok &= sympy.simplify(lam_again - 1) == 0
        idem_steps.append(Step(
            f"Case {label}: the clipped norm is ≤ c, so the second λ is 1",
            rf"{where}:\quad \min\left(1, \frac{{c}}{{{sympy.latex(clipped)}}}\right) = "
            rf"{sympy.latex(sympy.simplify(lam_again))}"))
    return (
        Fact("‖clip(g, c)‖ = min(‖g‖, c)", sympy.Eq(lam * r, sympy.Min(r, c), evaluate=False),
             tuple(norm_steps), norm_ok),
        Fact("clip(g, c) = λ·g with λ = min(1, c/‖g‖) > 0: the direction is unchanged",
             sympy.StrictGreaterThan(lam, 0, evaluate=False), tuple(dir_steps), dir_ok),
        Fact("clip(clip(g, c), c) = clip(g, c)",
             sympy.Eq(sympy.Min(1, c / sympy.Min(r, c)), 1, evaluate=False),
             tuple(idem_steps), idem_ok),
    )
