"""How does J^{L,0} = E‖∂h_L/∂h_0‖²_F/N grow or shrink with depth?  The depth law.

The law of a network is that of its repeated block R (``repeat(R, n)`` or a run of
equal top-level blocks), derived from R's recursion (:mod:`._recursion`) in SymPy:

* **constant factor** — R resets the second moment (ends in a normalisation: post-LN,
  dense → batchnorm → φ) or its factor χ does not depend on K (positively homogeneous
  φ, ReZero): J = χ_first·f^{L−1}.  f(L) → f∞ ≠ 1: *exponential* (factor f∞); f ≡ 1:
  *bounded*; f → 1 with L(f − 1) ~ d·L^κ: *stretched exponential* e^{dL^κ} for κ > 0,
  *bounded* (limit e^d, or 1 when κ < 0) otherwise.  BatchNorm-ReLU: f = π/(π − 1)
  (Yang et al. 2019), post-LN ReLU: f = 1.  This covers the recipes: a branch scale
  a/√L gives f = 1 + c/L, so J → e^c; a/L gives f = 1 + c/L², J → 1; ReZero/SkipInit
  (scale 0) and Fixup's zero-initialised last layer give f = 1, J = 1; Fixup's
  L^{−1/(2m−2)} on the other m − 1 layers of a branch whose last layer has gain ε gives
  f = 1 + c·ε²/L, J → e^{cε²} for every m (:mod:`.recipes`).
* **additive** — R = residual whose branch sees a normalised input (pre-LN):
  K_l = K_s + lΔ and χ(K) = 1 + β/(aK + b), so
  J = Γ(L + x + y)Γ(x)/(Γ(L + x)Γ(x + y)) with x = (aK_s + b)/(aΔ), y = β/(aΔ): a
  *power law* L^y (pre-LN ReLU, σ_b = 0: y = 1, J = 1 + σ_w²L/(2K₀)); with the branch
  scale s = a·L^{−p}, x ∝ L^{2p}: exponent y(1 − 2p) for p < 1/2, *bounded* for p ≥ 1/2.
* **plain, K → 0 at criticality** — V(K) = K − αK² + …, χ(K) = 1 − βK + … (Taylor
  series of φ at 0, exact): K_l ≈ 1/(αl), J ~ L^{−β/α} (tanh at σ_w = 1, σ_b = 0: L^{−1}).
* **residual without normalisation** (branch φ then dense): K grows without bound.
  φ' → constants at ±∞: *exponential* 1 + s²σ_w²S∞; bounded φ with ∫φ'² < ∞:
  S(K) ~ γ₂/√K and K_l ~ l·s²(σ_w²V∞ + σ_b²), so log J ~ c√L: *stretched exponential*
  with c = 2s²σ_w²γ₂/√(s²(σ_w²V∞ + σ_b²)) (tanh, s = σ_w = 1: c = 8/(3√(2π))).

Everything else gets the last block's factor as an *estimated* exponential law.
Derivations are cached per (repeated block, entering state, copies): a second
``predict`` of the same architecture reuses the law.

>>> from symgrad.networks.blocks import activation, dense, layernorm, repeat, residual, serial
>>> law = depth_law(repeat(residual(serial(layernorm(), activation("relu"), dense(1))), 40))
>>> law.kind.value, law.constant, law.jacobian
('power', 1, 21)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy

from symgrad._core.symbols import z
from symgrad.networks._asymptotics import slope_limits
from symgrad.networks._recursion import NotClosed, Numbers, State, run
from symgrad.networks._shortcuts import (
    cancel,
    derivative,
    float_additive,
    growth_exponent,
    limit_inf,
    nonzero,
    radsimp,
)
from symgrad.networks.blocks import Activate, Block, Dense, L, Residual, Serial
from symgrad.records import Estimated, Exact, How, Record, Step, provenances

__all__ = ["DepthLaw", "LawKind", "depth_law", "law_of"]

_K = sympy.Symbol("K", positive=True)
_C = sympy.Symbol("C", real=True)


class LawKind(enum.StrEnum):
    """How J^{L,0} behaves as the depth L grows (compares equal to its value)."""

    EXPONENTIAL = "exponential"
    POWER = "power"
    STRETCHED_EXPONENTIAL = "stretched_exponential"
    BOUNDED = "bounded"


@dataclass(frozen=True, eq=False)
class DepthLaw(Record):
    """J^{L,0} ~ constant^L (exponential), L^constant (power), e^{constant·L^power}
    (stretched exponential) or → constant (bounded, the limit of J^{L,0}).

    ``jacobian``: J^{L,0} at the network's own depth, exactly, when the law gives it in
    closed form (else None); ``formula``: J^{L,0} as a function of L when known.
    """

    kind: LawKind
    constant: sympy.Expr
    power: sympy.Expr
    formula: sympy.Expr | None
    jacobian: sympy.Expr | None
    statement: str
    provenance: Any
    steps: tuple[Step, ...] = ()

    def title(self) -> str:
        return f"Depth law: {self.kind.value}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("kind", self.kind.value), ("constant", self.constant)]
        if self.kind is LawKind.STRETCHED_EXPONENTIAL:
            rows.append(("power of L", self.power))
        if self.jacobian is not None:
            rows.append(("J^{L,0}", self.jacobian))
        return [*rows, ("statement", self.statement)]

    def as_dict(self) -> dict[str, Any]:
        """Every field JSON-ready; exact numbers also as SymPy text (``*_text``)."""
        out = super().as_dict()
        for name in ("constant", "power", "formula", "jacobian"):
            value = getattr(self, name)
            out[f"{name}_text"] = None if value is None else str(sympy.sstr(value))
        return out


def _eq(lhs: Any, rhs: Any) -> sympy.Eq:
    """An equation shown in a step, unevaluated (evaluating asks SymPy to decide it)."""
    return sympy.Eq(lhs, rhs, evaluate=False)


def _how(inexact: float, method: str, value: sympy.Expr) -> How:
    if inexact == 0.0 and not value.has(sympy.Float):
        return Exact(method)
    return Estimated(abs(float(value)) * max(inexact, 1e-15), method)


def _at_depth(formula: sympy.Expr, depth: int) -> sympy.Expr:
    """The formula at L = depth, exactly: evaluated when that stays small (Γ ratios that
    collapse to rational functions, powers up to depth 1000), else left unevaluated
    (Γ(80201)/Γ(80200) evaluated would build an 80200-digit factorial)."""
    simple = sympy.gammasimp(formula) if formula.has(sympy.gamma) else formula
    if depth <= (200 if simple.has(sympy.gamma) else 1000):
        return simple.subs(L, depth)
    with sympy.evaluate(False):
        return simple.subs(L, depth)


def _law(kind: LawKind, constant: Any, *, how: How, statement: str, steps: list[Step],
         power: Any = 0, formula: Any = None, depth: int | None = None) -> DepthLaw:
    jac = None
    if formula is not None and depth is not None and isinstance(how, Exact) and depth <= 10**4:
        jac = _at_depth(sympy.sympify(formula), depth)
    return DepthLaw(kind, sympy.sympify(constant), sympy.sympify(power), formula, jac,
                    statement, provenances(constant=how), tuple(steps))


def _run_of(net: Block) -> tuple[Block, int, int] | None:
    """(R, index of its first copy, copies) of the longest run of equal top-level blocks."""
    blocks = net.blocks()
    if len(blocks) > 1 and blocks.count(blocks[0]) == len(blocks):  # one run (a C loop)
        return blocks[0], 0, len(blocks)
    best: tuple[Block, int, int] | None = None
    i = 0
    while i < len(blocks):
        j = i
        while j + 1 < len(blocks) and (blocks[j + 1] is blocks[i] or blocks[j + 1] == blocks[i]):
            j += 1
        if j > i and (best is None or j - i + 1 > best[2]):
            best = (blocks[i], i, j - i + 1)
        i = j + 1
    return best


def _from_factor(f: sympy.Expr, first: sympy.Expr, inexact: float, n: int,
                 steps: list[Step]) -> DepthLaw:
    """J = first·f^{L−1} with f possibly depending on L."""
    f = cancel(f)
    steps.append(Step("per-block factor of E‖∂L/∂h‖² after the first block", _eq(
        sympy.Symbol("f"), f)))
    formula = first * f ** (L - 1)
    method = "constant per-block factor"
    f_inf = limit_inf(f)
    err = inexact * abs(float(f_inf)) if f_inf.is_finite else 0.0
    if f == 1:
        return _law(LawKind.BOUNDED, first, how=_how(inexact, method, first), steps=steps,
                    statement="every block after the first passes the gradient on unchanged",
                    formula=first, depth=n)
    exact = inexact == 0.0 and not f_inf.has(sympy.Float)
    away = nonzero(f_inf - 1) if exact else abs(float(f_inf) - 1) > err
    if f_inf.is_finite and away:
        grows = "grows" if float(f_inf) > 1 else "shrinks"
        return _law(LawKind.EXPONENTIAL, f_inf, how=_how(inexact, method, f_inf), steps=steps,
                    statement=f"E‖∂L/∂h_0‖² {grows} by a factor {sympy.sstr(sympy.N(f_inf, 6))}"
                    " per block", formula=formula, depth=n)
    # f → 1: log J ≈ L(f − 1) ~ d·L^κ.
    excess = cancel(L * (f - 1))
    kappa = growth_exponent(excess)
    d = limit_inf(excess / L**kappa)
    steps.append(Step("L·(f − 1) ~ d·L^κ", _eq(sympy.Symbol("kappa"), kappa)))
    if kappa > 0:
        return _law(LawKind.STRETCHED_EXPONENTIAL, d, power=kappa,
                    how=_how(inexact, method, d), steps=steps, formula=formula, depth=n,
                    statement=f"log J grows like {sympy.sstr(d)}·L^{sympy.sstr(kappa)}")
    first_inf = limit_inf(first)
    limit = first_inf * (sympy.exp(d) if kappa == 0 else 1)
    steps.append(Step("(1 + d/L)^L → e^d", _eq(sympy.Symbol("J_infinity"), limit)))
    return _law(LawKind.BOUNDED, limit, how=_how(inexact, method, limit), steps=steps,
                formula=formula, depth=n,
                statement=f"J^(L,0) tends to {sympy.sstr(sympy.N(limit, 8))} as L grows")


def _gamma_law(out_k: sympy.Expr, chi: sympy.Expr, k_start: sympy.Expr, inexact: float,
               n: int, steps: list[Step]) -> DepthLaw | None:
    """Pre-LN: K' = K + Δ, χ = 1 + β/(aK + b) (module docstring)."""
    delta = cancel(out_k - _K)
    if delta.has(_K):
        return None
    num, den = sympy.fraction(sympy.together(chi - 1))
    if num.has(_K) or sympy.degree(den, _K) != 1:
        return None
    a, b = sympy.Poly(den, _K).all_coeffs()
    return _gamma_product(delta, num, a, b, k_start, inexact, n, steps)


def _gamma_product(delta: sympy.Expr, num: sympy.Expr, a: sympy.Expr, b: sympy.Expr,
                   k_start: sympy.Expr, inexact: float, n: int, steps: list[Step]
                   ) -> DepthLaw:
    """J = Γ(L + x + y)Γ(x)/(Γ(L + x)Γ(x + y)) for K' = K + Δ, χ − 1 = num/(aK + b)."""
    x = cancel((a * k_start + b) / (a * delta))
    y = cancel(num / (a * delta))
    formula = sympy.gamma(L + x + y) * sympy.gamma(x) / (sympy.gamma(L + x) * sympy.gamma(x + y))
    steps += [Step("K_{l+1} = K_l + Δ", _eq(sympy.Symbol("Delta"), delta)),
              Step("J^{L,0} = Π (l + x + y)/(l + x) = Γ(L+x+y)Γ(x)/(Γ(L+x)Γ(x+y))",
                   _eq(sympy.Symbol("J"), formula))]
    method = "Gamma-function product of the additive recursion"
    rho = growth_exponent(x) if x.has(L) else 0
    if y == 0:
        return _law(LawKind.BOUNDED, 1, how=Exact(method), steps=steps, formula=formula,
                    depth=n, statement="the branches pass no gradient: J = 1")
    if rho < 1:
        power = cancel(y * (1 - rho))
        return _law(LawKind.POWER, power, how=_how(inexact, method, power), steps=steps,
                    formula=formula, depth=n,
                    statement=f"J^(L,0) grows like L^{sympy.sstr(sympy.N(power, 8))}")
    lam = limit_inf(L / x)
    limit = sympy.powsimp((1 + lam) ** y)
    return _law(LawKind.BOUNDED, limit, how=_how(inexact, method, limit), steps=steps,
                formula=formula, depth=n,
                statement=f"J^(L,0) tends to {sympy.sstr(sympy.N(limit, 8))}")


def _taylor_law(r: Block, inexact: float, n: int, steps: list[Step]) -> DepthLaw | None:
    """Plain serial(dense, φ) with K → 0 at χ(0) = 1: the power law L^{−β/α}."""
    if not (isinstance(r, Serial) and len(r.layers) == 2
            and isinstance(r.layers[0], Dense) and isinstance(r.layers[1], Activate)):
        return None
    d, act = r.layers[0], r.layers[1].act
    if d.sigma_b != 0 or d.sigma_w.has(L):
        return None
    v = d.init.factor * d.sigma_w**2
    # Cheap first: the law needs χ(0) = vσ_w²φ'(0)² = 1 (before any series expansion).
    if cancel(v * derivative(act.expr).subs(z, 0) ** 2) != 1:
        return None
    x = sympy.Symbol("x", real=True)
    try:
        series = sympy.series(act.expr.subs(z, x), x, 0, 5).removeO()
    except (NotImplementedError, ValueError, TypeError):  # pragma: no cover - kinks at 0
        return None
    if series.has(sympy.Piecewise) or series.subs(x, 0) != 0:
        return None

    def moment(poly: sympy.Expr, order: int) -> sympy.Expr:
        # E[p(√K Z)] to O(K^order): E[Z^{2j}] = (2j − 1)!!.
        p = sympy.Poly(sympy.expand(poly), x)
        return sum((c * _K ** sympy.Rational(e, 2) * sympy.factorial2(e - 1)
                    for (e,), c in p.terms() if e % 2 == 0 and e <= 2 * order), sympy.Integer(0))

    big_v = sympy.expand(v * moment(series**2, 2))
    s = sympy.expand(v * moment(sympy.diff(series, x) ** 2, 1))
    lam, alpha = big_v.coeff(_K, 1), -big_v.coeff(_K, 2)
    chi0, beta = s.coeff(_K, 0), -s.coeff(_K, 1)
    if lam != 1 or chi0 != 1 or not alpha > 0:
        return None
    power = cancel(-beta / alpha)
    steps += [Step("small K: K_{l+1} = K_l − αK_l² + …", _eq(sympy.Symbol("alpha"), alpha)),
              Step("χ(K) = 1 − βK + …, K_l ≈ 1/(αl), so J ~ L^{−β/α}",
                   _eq(sympy.Symbol("beta"), beta))]
    return _law(LawKind.POWER, power, how=_how(inexact, "Taylor series at K = 0", power),
                steps=steps, statement=f"K → 0 like 1/(αl) and J^(L,0) ~ L^{sympy.sstr(power)}")


def _residual_growth(r: Block, steps: list[Step]) -> DepthLaw | None:
    """Residual(serial(φ, dense)) with L-independent parameters, K → ∞."""
    if not (isinstance(r, Residual) and isinstance(r.branch, Serial)
            and len(r.branch.layers) == 2 and isinstance(r.branch.layers[0], Activate)
            and isinstance(r.branch.layers[1], Dense)):
        return None
    act, d = r.branch.layers[0].act, r.branch.layers[1]
    if any(p.has(L) for p in (r.scale, d.sigma_w, d.sigma_b)) or r.scale == 0:
        return None
    s2v = r.scale**2 * d.init.factor * d.sigma_w**2
    s_inf, v_inf, gamma2 = slope_limits(act)
    method = "large-K asymptotics of E[φ'(√K Z)²] (limits of φ' at ±∞)"
    if s_inf.is_positive:
        f = 1 + s2v * s_inf
        steps.append(Step("K grows; E[φ'(√K Z)²] → S∞", _eq(sympy.Symbol("S_inf"), s_inf)))
        return _law(LawKind.EXPONENTIAL, f, how=Exact(method), steps=steps,
                    statement=f"asymptotically a factor {sympy.sstr(f)} per block")
    if s_inf == 0 and v_inf.is_finite and gamma2.is_finite and v_inf.is_positive:
        c = radsimp(2 * s2v * gamma2 / sympy.sqrt(s2v * v_inf + r.scale**2 * d.sigma_b**2))
        steps += [Step("E[φ'(√K Z)²] ~ γ₂/√K", _eq(sympy.Symbol("gamma_2"), gamma2)),
                  Step("K_l ~ l·s²(σ_w²V∞ + σ_b²); log J ~ Σ s²σ_w²γ₂/√K_l ~ c√L",
                       _eq(sympy.Symbol("c"), c))]
        return _law(LawKind.STRETCHED_EXPONENTIAL, c, power=sympy.Rational(1, 2),
                    how=Exact(method), steps=steps,
                    statement=f"log J grows like {sympy.sstr(sympy.N(c, 8))}·√L")
    return None


@lru_cache(maxsize=256)
def _derive(r: Block, st: State, n: int) -> DepthLaw | None:
    """The symbolic law of ``n`` copies of ``r`` entered in state ``st`` (cached)."""
    tracks_c = st[2] is not None
    steps: list[Step] = [Step(f"repeated block ({n} copies): `{r}`")]
    num = Numbers(symbolic=True)
    try:
        generic: State = (_K, sympy.Integer(0), _C if tracks_c else None, st[3], 0.0)
        out = run(r, generic, num)
        additive = float_additive(out.state[0], out.chi, _K)
        if additive is not None:  # (no steps shown: floats; no constant factor: χ has K)
            return _gamma_product(*additive, sympy.Integer(1), sympy.Integer(0), st[0],
                                  num.inexact, n, steps)
        out_k, chi = cancel(out.state[0]), cancel(out.chi)
        if not (out_k.has(sympy.Float) or chi.has(sympy.Float)):
            steps.append(Step("one block: K ↦ F(K) and the backward factor χ(K)", _eq(
                sympy.Function("F")(_K), out_k)))
            steps.append(Step("backward factor", _eq(sympy.Function("chi")(_K), chi)))
        if not out_k.has(_K, _C) and (out.state[2] is None or not out.state[2].has(_K, _C)):
            first = run(r, st, num)
            steady = run(r, first.state, num)
            return _from_factor(steady.chi, cancel(first.chi), num.inexact, n, steps)
        if not chi.has(_K, _C):
            return _from_factor(chi, chi, num.inexact, n, steps)
        law = _gamma_law(out_k, chi, st[0], num.inexact, n, steps)
        if law is not None:
            return law
    except NotClosed:
        pass
    return _taylor_law(r, num.inexact, n, steps) or _residual_growth(r, steps)


def _entering(net: Block, state: State, start: int) -> State:
    """The exact state entering the repeated run (after the blocks before it)."""
    num = Numbers(symbolic=True)
    for b in net.blocks()[:start]:
        state = run(b, state, num).state
    return state


def _fallback(r: Block, n: int, fallback: tuple[float, float]) -> DepthLaw:
    f, err = fallback
    value = sympy.Float(f, 15)
    return _law(LawKind.EXPONENTIAL, value, how=Estimated(abs(f) * err + 1e-15 * abs(f),
                "the last block's factor (no symbolic law for this block)"),
                steps=[Step(f"repeated block ({n} copies): `{r}`")],
                statement="no closed-form law: the last block's factor, as an estimate")


def depth_law(net: Block, *, q0: Any = 1, state: State | None = None,
              fallback: tuple[float, float] | None = None) -> DepthLaw | None:
    """The depth law of ``net`` (module docstring); None when no block repeats.

    ``state``: the state entering the repeated run (exact SymPy numbers preferred;
    default: ``q0`` through the blocks before the run).  ``fallback``: (last block's
    factor, its relative error) for the estimated law when no rule applies.
    """
    found = _run_of(net)
    if found is None:
        return None
    r, start, n = found
    if state is None:
        state = _entering(net, (sympy.nsimplify(q0), sympy.Integer(0), None, True, 0.0), start)
    law = _derive(r, state, n)
    if law is None and fallback is not None:
        return _fallback(r, n, fallback)
    return law


def law_of(net: Block, q0: sympy.Expr, c0: sympy.Expr | None,
           fallback: tuple[float, float]) -> DepthLaw | None:
    """The law :func:`~symgrad.networks.predict` reports: from the exact input moments
    (q0, correlation c0 of a second input), with the last block's factor as fallback."""
    found = _run_of(net)
    if found is None:
        return None
    state: State = (q0, sympy.Integer(0), None if c0 is None else c0 * q0, True, 0.0)
    try:
        state = _entering(net, state, found[1])
    except NotClosed:
        return _fallback(found[0], found[2], fallback)
    return depth_law(net, state=state, fallback=fallback)
