"""How far does one finite-width network's gradient norm stray from the mean?

Convention: widths n_0 (input), n_1, …, n_L; h_1 = W_1 x + b_1, h_l = W_l φ(h_{l−1}) + b_l,
W_l of shape (n_l, n_{l−1}) with entries N(0, σ_w²/n_{l−1}), b_l ~ N(0, σ_b² I), and

    X = ‖J u‖²,   J = ∂h_L/∂x = W_L D_{L−1} W_{L−1} ⋯ D_1 W_1,   D_l = diag(φ'(h_l)),

for a fixed unit vector u ⟂ x and an input x at the fixed point (σ_w²‖x‖²/n_0 + σ_b² = q*).
(This is :mod:`symgrad.spectrum.jacobian`'s J without its input factor D_1: a fixed u
must enter through a weight matrix for the law to be exact — Hanin 2018.)

* relu (φ' ∈ {0, c}, split at 0), Gaussian weights, exactly (Hanin 2018; Hanin and Nica
  2019): given the past, the rows of W_l are fresh, (h_{l,i}, v_{l,i}) is symmetric under
  a sign flip of the row and bias, so the active units are Binomial(n_l, ½) independently
  of v_{l,i}², and

      X = ∏_{l=1}^{L−1} (σ_w²c²/n_{l−1})·χ²_{K_l} · (σ_w²/n_{L−1})·χ²_{n_L},   K_l ~ Bin(n_l, ½),

  all factors independent; X = 0 iff some K_l = 0: P(X = 0) = 1 − ∏(1 − 2^{−n_l}).
  Conditioned on X > 0 (K_l ≥ 1), with E ln χ²_m = ψ(m/2) + ln 2, Var = ψ'(m/2):
  E ln X = Σ ln(σ_w²/n_{l−1}) + (L − 1) ln c² + Σ_{l<L} E[ψ(K_l/2) + ln 2] + ψ(n_L/2) + ln 2,
  Var ln X = Σ_{l<L} (E ψ'(K_l/2) + Var ψ(K_l/2)) + ψ'(n_L/2).  The law holds for any
  input x ≠ 0 (or σ_b > 0): it does not depend on q*.
* linear nets (φ' ≡ c; also any φ with φ(0) = 0 at q* = 0, σ_b = 0, where every h is 0 and
  the net is linear with c = φ'(0)): X = ∏ (σ_w²c²/n_{l−1})χ²_{n_l} (c² on hidden layers).
* any other activation: the β-expansion of :mod:`symgrad.spectrum._beta`, which includes
  the fluctuations of the forward variance; the per-layer-noise-only prediction is kept
  as ``naive_*`` (rejected: it misses the feedback of q̂_l into D_l).

Raw moments of X are heavy-tailed; this module and its checks work with ln X only.

>>> law = gradient_norm_distribution("relu", (10, 10, 10), sigma_w=sympy.sqrt(2))
>>> law.method.value, law.p_zero
('exact relu', 1/1024)
>>> round(float(law.var_log), 10)
1.0880572088
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import flint
import sympy

from symgrad._core.validate import as_exact_real, as_positive_int, describe
from symgrad._exact.ball import working_precision
from symgrad.activations import Activation, as_activation
from symgrad.errors import InvalidArgument
from symgrad.meanfield import MeanFieldMode, mean_field
from symgrad.records import Certified, Estimated, Exact, How, Provenances, Record, Step
from symgrad.spectrum._beta import beta_expansion
from symgrad.spectrum._digamma import binomial_averages, half_integer_terms
from symgrad.spectrum._law import exact_form, scale_free
from symgrad.types import RealLike

__all__ = ["GradientNormLaw", "NormLawMethod", "gradient_norm_distribution"]

MAX_WIDTH = 4096
MAX_LAYERS = 10_000
#: Σ of the distinct hidden widths of an exact relu law (its cost grows like n² per width).
MAX_DISTINCT = 16_384
#: Rationals with more digits than this are stored as certified 30-digit enclosures.
_MAX_DIGITS = 600
_GAMMA, _LN2, _PI = sympy.EulerGamma, sympy.log(2), sympy.pi


class NormLawMethod(enum.Enum):
    """How the law of ln X was obtained."""
    EXACT_RELU = "exact relu"
    EXACT_LINEAR = "exact linear"
    BETA_EXPANSION = "beta expansion"


@dataclass(frozen=True)
class GradientNormLaw(Record):
    """E ln X and Var ln X of X = ‖J u‖² (conditioned on X > 0), P(X = 0) and β = Σ_{l<L} 1/n_l.

    ``naive_mean_log`` / ``naive_var_log``: the per-layer-noise-only β-expansion, a rejected
    prediction kept for comparison (None for the exact laws).  ``p_zero`` is None when it
    is not computed (φ' vanishing on a set, other than relu).
    """

    activation: str
    widths: tuple[int, ...]
    sigma_w: sympy.Expr
    sigma_b: sympy.Expr
    q_star: sympy.Expr
    method: NormLawMethod
    beta: sympy.Expr
    mean_log: sympy.Expr
    var_log: sympy.Expr
    p_zero: sympy.Expr | None
    naive_mean_log: sympy.Expr | None
    naive_var_log: sympy.Expr | None
    statement: str
    provenance: Provenances
    steps: tuple[Step, ...] = ()

    def title(self) -> str:
        return (f"Law of ln‖Ju‖² for {self.activation}, widths {list(self.widths)}, "
                f"σ_w = {self.sigma_w}, σ_b = {self.sigma_b}")

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("E ln X", self.mean_log), ("Var ln X", self.var_log),
                                       ("β", self.beta), ("method", self.method.value)]
        if self.p_zero is not None:
            rows.append(("P(X = 0)", self.p_zero))
        if self.naive_var_log is not None:
            rows.append(("Var ln X, per-layer noise only (rejected)", self.naive_var_log))
        return rows


def _widths(widths: Any) -> tuple[int, ...]:
    if isinstance(widths, str | bytes) or not isinstance(widths, Sequence):
        raise InvalidArgument(f"widths must be a sequence n_0, …, n_L of integers, got "
                              f"{describe(widths)}")
    out = tuple(as_positive_int(n, "each width") for n in widths)
    if not 2 <= len(out) <= MAX_LAYERS + 1:
        raise InvalidArgument(f"widths must list n_0 … n_L with 1 <= L <= {MAX_LAYERS}, got "
                              f"{len(out)} numbers")
    if max(out) > MAX_WIDTH:
        raise InvalidArgument(f"widths must be <= {MAX_WIDTH}, got {max(out)}")
    return out


def _relu_slope(act: Activation) -> sympy.Expr | None:
    """c when φ' is 0 on one side of 0 and c ≠ 0 on the other (relu, scaled or mirrored)."""
    pieces = act.pieces
    if len(pieces) != 2 or pieces[0].hi != 0:
        return None
    slopes = [p.derivative for p in pieces]
    if any(s.has(sympy.Symbol) for s in slopes) or sorted(s == 0 for s in slopes) != [False,
                                                                                        True]:
        return None
    return exact_form(slopes[0] if slopes[0] != 0 else slopes[1])


def _linear_slope(act: Activation) -> sympy.Expr | None:
    if len(act.pieces) == 1 and not act.pieces[0].derivative.has(sympy.Symbol):
        return exact_form(act.pieces[0].derivative)
    return None


def gradient_norm_distribution(act: Activation | str, widths: Sequence[int], *,
                               sigma_w: RealLike, sigma_b: RealLike = 0) -> GradientNormLaw:
    """The law of ln X, X = ‖J u‖², for one network of widths n_0, …, n_L (module docstring).

    Exact for relu and linear nets (``mean_log``/``var_log`` closed forms in γ, ln 2, π²,
    stored as certified 30-digit enclosures when their rationals exceed 600 digits);
    otherwise the β-expansion, ``estimated`` with its truncation error.  Widths ≤ 4096,
    L ≤ 10⁴.
    """
    a = as_activation(act)
    ns = _widths(widths)
    sw = as_exact_real(sigma_w, "sigma_w", domain=sympy.Interval.Lopen(0, 10**6))
    sb = as_exact_real(sigma_b, "sigma_b", domain=sympy.Interval(0, 10**6))
    beta = sum((sympy.Rational(1, n) for n in ns[1:-1]), sympy.Integer(0))
    mode = MeanFieldMode.AUTO if scale_free(a) else MeanFieldMode.FAST
    mf = mean_field(a, sigma_w=sw, sigma_b=sb, mode=mode, correlation=False)
    q = mf.q_star
    base = dict(activation=a.label, widths=ns, sigma_w=sw, sigma_b=sb, q_star=q, beta=beta)
    relu_c = _relu_slope(a)
    if relu_c is not None:
        return _exact_relu(base, ns, sw, relu_c)
    linear_c = _linear_slope(a)
    free = scale_free(a)
    if linear_c is None and not free and q == 0 and a.mpmath(0) == 0:
        linear_c = exact_form(a.derivative.subs(a.derivative.free_symbols.pop(), 0)
                                   if a.derivative.free_symbols else a.derivative)
        return _exact_linear(base, ns, sw, linear_c, degenerate=True)
    if linear_c is not None:
        return _exact_linear(base, ns, sw, linear_c, degenerate=False)
    if not free and (q == sympy.oo or q is sympy.nan or q == 0):
        raise InvalidArgument(f"q* = {q} for {a.label} at these σ_w, σ_b: the β-expansion needs "
                              "a finite positive fixed point of the forward variance")
    q_float = 1.0 if free else float(q)
    ex = beta_expansion(a, ns, q_float, float(sw), float(sb))
    how = Estimated(sympy.Float(ex.mean_error, 3),
                    "β-expansion to first order in 1/n (error: next-order estimate)")
    how_var = Estimated(sympy.Float(ex.var_error, 3),
                        "β-expansion to first order in 1/n (error: next-order estimate)")
    coeffs = dict(ex.coefficients)
    steps = (
        Step("ln X telescopes into per-layer factors; each hidden layer contributes "
             "ln μ_1(q̂_l) + ln(1 + ξ_l) with q̂_l the realised forward variance",
             r"\ln X = \ln\frac{\sigma_w^{2L}}{n_0} + \ln\chi^2_{n_L} + \sum_{l<L}\left["
             r"\ln\mu_1(\hat q_l) + \ln(1+\xi_l)\right]"),
        Step("First order in 1/n, with the feedback γ_l = (μ_1'/μ_1)(q* − σ_b²)Σ r^{m−l−1}",
             r"\mathrm{Var}\ln X = \psi'(n_L/2) + \sum_{l<L}\frac{v_\xi + 2\gamma_l\kappa + "
             r"\gamma_l^2 v_\eta}{n_l}"),
        Step("Gaussian coefficients at q*",
             sympy.Tuple(*[sympy.Eq(sympy.Symbol(k), sympy.Float(v, 10))
                           for k, v in sorted(coeffs.items())])),
        Step("Rejected: per-layer noise only (no feedback of q̂_l into D_l)",
             sympy.Eq(sympy.Symbol(r"\mathrm{Var}_{naive}"), sympy.Float(ex.naive_var_log, 12))),
    )
    statement = ("β-expansion at the fixed point q*, input x at q* and u ⟂ x; "
                 "X > 0 almost surely unless φ' vanishes on a set (P(X = 0) not computed then)")
    p_zero: sympy.Expr | None = sympy.Integer(0) if _never_flat(a) else None
    hows: dict[str, How] = {"mean_log": how, "var_log": how_var,
                            "naive_mean_log": how, "naive_var_log": how_var,
                            "beta": Exact("Σ 1/n_l")}
    if p_zero is not None:
        hows["p_zero"] = Exact("φ' ≠ 0 almost everywhere")
    return GradientNormLaw(
        **base, method=NormLawMethod.BETA_EXPANSION, mean_log=sympy.Float(ex.mean_log, 15),
        var_log=sympy.Float(ex.var_log, 15), p_zero=p_zero,
        naive_mean_log=sympy.Float(ex.naive_mean_log, 15),
        naive_var_log=sympy.Float(ex.naive_var_log, 15), statement=statement,
        provenance=Provenances(hows), steps=steps)


def _never_flat(act: Activation) -> bool:
    return all(p.derivative != 0 for p in act.pieces)


# ---- exact laws ----


class _Sum:
    """r_0 + r_γ·γ + r_l·ln 2 + r_ll·ln² 2 + r_π·π² + Σ logs, with Fraction coefficients."""
    def __init__(self) -> None:
        self.r: dict[str, Fraction] = {k: Fraction(0) for k in ("1", "g", "l", "ll", "p")}
        self.logs = sympy.Integer(0)

    def add(self, key: str, value: Fraction) -> None:
        self.r[key] += value

    def value(self) -> tuple[sympy.Expr, How]:
        basis = {"1": sympy.Integer(1), "g": _GAMMA, "l": _LN2, "ll": _LN2**2, "p": _PI**2}
        # Decimal digits from bit lengths (str() of a huge int is refused by Python).
        digits = max(int(0.30103 * (abs(v.numerator).bit_length() + v.denominator.bit_length()))
                     for v in self.r.values())
        if digits <= _MAX_DIGITS:
            expr = sum((sympy.Rational(v.numerator, v.denominator) * basis[k]
                        for k, v in self.r.items()), sympy.Integer(0)) + self.logs
            return expr, Exact("closed form: digamma/trigamma at half-integers, exact "
                               "binomial averages")
        with working_precision(256):
            consts = {"1": flint.arb(1), "g": flint.arb.const_euler(), "l": flint.arb(2).log(),
                      "p": flint.arb.pi() ** 2}
            consts["ll"] = consts["l"] ** 2
            ball = sum((flint.arb(flint.fmpq(v.numerator, v.denominator)) * consts[k]
                        for k, v in self.r.items()), flint.arb(0))
            ball += flint.arb(str(sympy.N(self.logs, 80)), "1e-75")
            mid = sympy.Float(ball.mid().str(35, radius=False), 30)
            lower = sympy.Float(ball.lower().str(40, radius=False), 40)
            upper = sympy.Float(ball.upper().str(40, radius=False), 40)
        return mid, Certified(lower, upper, f"exact rationals of {digits} digits, enclosed "
                                            "by ball arithmetic")


def _log_terms(ns: tuple[int, ...], sw: sympy.Expr, c: sympy.Expr) -> sympy.Expr:
    L = len(ns) - 1
    counts = Counter(ns[:-1])
    logs = L * sympy.log(sw**2) - sum((k * sympy.log(n) for n, k in sorted(counts.items())),
                                      sympy.Integer(0))
    if c**2 != 1:
        logs += (L - 1) * sympy.log(c**2)
    return logs


def _add_chi2(mean: _Sum, var: _Sum, m: int) -> None:
    """E ln χ²_m = ψ(m/2) + ln 2 and Var ln χ²_m = ψ'(m/2)."""
    t = half_integer_terms(m)
    mean.add("1", t.a(m))
    mean.add("g", Fraction(-1))
    mean.add("l", t.c(m) + 1)
    var.add("1", t.d(m))
    var.add("p", t.e(m))


def _exact_relu(base: dict[str, Any], ns: tuple[int, ...], sw: sympy.Expr, c: sympy.Expr
                ) -> GradientNormLaw:
    hidden = ns[1:-1]
    if sum(set(hidden)) > MAX_DISTINCT:
        raise InvalidArgument(f"the distinct hidden widths must sum to <= {MAX_DISTINCT} for the "
                              "exact relu law (its cost grows like n² per width)")
    mean, var = _Sum(), _Sum()
    mean.logs = _log_terms(ns, sw, c)
    for n in hidden:
        b = binomial_averages(n)
        mean.add("1", b.mean_a)
        mean.add("g", Fraction(-1))
        mean.add("l", b.mean_c + 1)
        var.add("1", b.mean_d + b.var_a)
        var.add("p", b.mean_e)
        var.add("l", 2 * b.cov_ac)
        var.add("ll", b.var_c)
    _add_chi2(mean, var, ns[-1])
    mean_log, how_mean = mean.value()
    var_log, how_var = var.value()
    bits = sum(hidden)
    alive = sympy.Integer(1)
    p_how: How = Exact("1 − ∏ (1 − 2^{−n_l})")
    if bits <= 4096:
        for n in hidden:
            alive *= 1 - sympy.Rational(1, 2**n)
        p_zero = 1 - alive
    else:
        with working_precision(256):
            ball = 1 - flint.arb(1)
            prod = flint.arb(1)
            for n in hidden:
                prod *= 1 - flint.arb(2) ** (-n)
            ball = 1 - prod
            p_zero = sympy.Float(ball.mid().str(35, radius=False), 30)
            p_how = Certified(sympy.Float(ball.lower().str(40, radius=False), 40),
                              sympy.Float(ball.upper().str(40, radius=False), 40),
                              "1 − ∏ (1 − 2^{−n_l}) in ball arithmetic")
    steps = (
        Step("Given the past, the sign flip of a row of W_l and its bias maps (h, v) to "
             "(−h, −v): the active units are Binomial(n_l, ½), independent of v²",
             r"X = \prod_{l=1}^{L-1}\frac{\sigma_w^2 c^2}{n_{l-1}}\chi^2_{K_l}\cdot"
             r"\frac{\sigma_w^2}{n_{L-1}}\chi^2_{n_L},\quad K_l\sim\mathrm{Bin}(n_l,\tfrac12)"),
        Step("Conditioned on X > 0 (every K_l ≥ 1)", sympy.Eq(sympy.Symbol(r"E\ln X"),
                                                                mean_log)),
        Step("Variance of ln X", sympy.Eq(sympy.Symbol(r"\mathrm{Var}\ln X"), var_log)),
        Step("Dead networks", sympy.Eq(sympy.Symbol("P(X=0)"), p_zero)),
    )
    return GradientNormLaw(
        **base, method=NormLawMethod.EXACT_RELU, mean_log=mean_log, var_log=var_log,
        p_zero=p_zero, naive_mean_log=None, naive_var_log=None,
        statement="exact for Gaussian weights and any input x ≠ 0 (or σ_b > 0); "
                  "conditioned on X > 0",
        provenance=Provenances({"mean_log": how_mean, "var_log": how_var, "p_zero": p_how,
                                "beta": Exact("Σ 1/n_l")}),
        steps=steps)


def _exact_linear(base: dict[str, Any], ns: tuple[int, ...], sw: sympy.Expr, c: sympy.Expr,
                  *, degenerate: bool) -> GradientNormLaw:
    mean, var = _Sum(), _Sum()
    mean.logs = _log_terms(ns, sw, c)
    for m in ns[1:]:
        _add_chi2(mean, var, m)
    mean_log, how_mean = mean.value()
    var_log, how_var = var.value()
    statement = "exact: a product of independent (σ_w²c²/n_{l−1})·χ²_{n_l} factors"
    if degenerate:
        statement += ("; q* = 0 with σ_b = 0: every pre-activation is 0, the net is linear "
                      "with slope c = φ'(0)")
    steps = (Step("W_l acting on a fixed vector gives a Gaussian vector: one χ² per layer",
                  r"X = \prod_{l=1}^{L}\frac{\sigma_w^2}{n_{l-1}}\,c^{2(L-1)}\chi^2_{n_l}"),
             Step("E ln χ²_m = ψ(m/2) + ln 2", sympy.Eq(sympy.Symbol(r"E\ln X"), mean_log)),
             Step("Var ln χ²_m = ψ'(m/2)", sympy.Eq(sympy.Symbol(r"\mathrm{Var}\ln X"),
                                                      var_log)))
    return GradientNormLaw(
        **base, method=NormLawMethod.EXACT_LINEAR, mean_log=mean_log, var_log=var_log,
        p_zero=sympy.Integer(0) if c != 0 else sympy.Integer(1), naive_mean_log=None,
        naive_var_log=None, statement=statement,
        provenance=Provenances({"mean_log": how_mean, "var_log": how_var,
                                "p_zero": Exact("χ² > 0 almost surely"),
                                "beta": Exact("Σ 1/n_l")}),
        steps=steps)
