"""Direct routes to the expressions SymPy's general algorithms return, where the form is
known: the same expressions, without the general machinery's cost on a first call.

* :func:`radsimp` — ``sympy.radsimp`` with π held as a positive symbol;
* :func:`polynomial_integral` — ∫ of a polynomial with rational coefficients between
  rational ends, by its antiderivative (``sympy.integrate``'s import alone costs 0.2 s);
* :func:`limit_inf`, :func:`growth_exponent` — lim_{L→∞} and the exponent κ of L^κ for a
  rational function of the depth L with rational coefficients, from degrees and leading
  coefficients (Gruntz's algorithm: a tenth of a second per limit);
* :func:`nonzero` — whether a constant is not 0, first from an Arb ball;
* :func:`derivative` — ``sympy.diff(expr, z)`` without the question whether the
  result is 0 (whose answer does not change it);
* :func:`cancel` — ``sympy.cancel`` of a rational function of symbols (and π) with
  rational coefficients, reduced with FLINT's multivariate gcd;
* :func:`float_additive` — what the pre-LN law takes from SymPy's cancel and together
  of K + Δ and 1 + β/K with float Δ and β: Δ and β themselves.

Each falls back to SymPy's own algorithm outside its form; ``tests/networks/
test_networks_shortcuts.py`` compares each with SymPy's answer, expression for expression.

>>> limit_inf(1 + 1 / (4 * L)), growth_exponent(L * (1 + 1 / (4 * L) - 1))
(1, 0)
"""

from __future__ import annotations

import sympy
from flint import arb, fmpz_mpoly, fmpz_mpoly_ctx

from symgrad._core.symbols import z
from symgrad._exact.ball import working_precision
from symgrad._exact.ball_constants import constant_ball
from symgrad.errors import NoClosedForm
from symgrad.networks.blocks import L

try:  # SymPy's private helpers, whose output the shortcuts must match exactly
    from sympy.core.mul import _unevaluated_Mul
    from sympy.polys.polyutils import _sort_gens, expr_from_dict
except ImportError:  # pragma: no cover - a SymPy without them: its own algorithms
    _unevaluated_Mul = _sort_gens = expr_from_dict = None

__all__ = ["cancel", "derivative", "float_additive", "growth_exponent", "limit_inf",
           "nonzero", "polynomial_integral", "radsimp"]

#: π as a positive symbol while :func:`radsimp` works (see there).
_PI = sympy.Symbol("pi", positive=True)
_TINY = arb(10) ** -20


def radsimp(expr: sympy.Expr) -> sympy.Expr:
    """``sympy.radsimp(expr)``, the same expression, with π held as a positive symbol.

    SymPy's radsimp asks ``nsimplify`` whether a numeric denominator such as √π is a
    rational number in disguise (a PSLQ search: a tenth of a second per √π, and always
    "no" for a power of π); with π a positive symbol it skips that question and
    rationalises the same way, and π goes back in without re-evaluating the
    rationalised form (√π/π, not 1/√π).
    """
    if not expr.has(sympy.pi):
        return sympy.radsimp(expr)
    symbolic = expr.xreplace({sympy.pi: _PI})
    held = _over_root_pi(symbolic)
    if held is None:
        held = sympy.radsimp(symbolic)
    with sympy.evaluate(False):
        out: sympy.Expr = held.xreplace({_PI: sympy.pi})
    return out


def _over_root_pi(expr: sympy.Expr) -> sympy.Expr | None:
    """``sympy.radsimp`` of c·√n·π^(−k/2) (c > 0 rational, n a positive integer or absent,
    k odd and positive; π the positive symbol): it multiplies top and bottom by π^(k/2)
    and returns the unevaluated product c·√n·π^(−k)·π^(k/2).  None for any other form."""
    if not expr.is_Mul or _unevaluated_Mul is None:
        return None
    coeff, rest = expr.as_coeff_Mul()
    factors = sympy.Mul.make_args(rest)
    last = factors[-1]
    if not (coeff.is_Rational and coeff > 0 and last.is_Pow and last.base == _PI
            and last.exp.is_Rational and last.exp.q == 2 and last.exp < 0):
        return None
    roots = factors[:-1]
    if len(roots) > 1 or any(not (r.is_Pow and r.base.is_Integer and r.base > 1
                                  and r.exp == sympy.S.Half) for r in roots):
        return None
    k = -last.exp.p
    out: sympy.Expr = _unevaluated_Mul(coeff, *roots, sympy.Pow(_PI, -k),
                                       sympy.Pow(_PI, sympy.Rational(k, 2)))
    return out


def derivative(expr: sympy.Expr) -> sympy.Expr:
    """``sympy.diff(expr, z)``, the same expression.

    ``Derivative(expr, z, evaluate=True)`` computes ``expr._eval_derivative_n_times(z,
    1)`` and then asks whether the result is zero, to return that same result early: on
    a first call SymPy's assumptions spend milliseconds deciding it (tanh' = 1 − tanh²).
    Here the result is returned without the question; SymPy's own diff is used when ``z``
    is absent, when the result is not an evaluated expression, or when it still holds a
    ``Derivative`` (which SymPy would make canonical).
    """
    if z not in expr.free_symbols or not (hasattr(expr, "_eval_derivative")
                                           and hasattr(expr, "_eval_derivative_n_times")):
        return sympy.diff(expr, z)
    out = expr._eval_derivative_n_times(z, 1)
    if not isinstance(out, sympy.Expr) or out.has(sympy.Derivative):
        return sympy.diff(expr, z)
    return out


def polynomial_integral(g: sympy.Expr, u: sympy.Symbol, lo: sympy.Expr,
                        hi: sympy.Expr) -> sympy.Expr:
    """∫_lo^hi g(u) du: for a polynomial with rational coefficients between rational
    ends the antiderivative's difference (a rational number, as SymPy's integrate
    gives), else ``sympy.integrate``."""
    if lo.is_Rational and hi.is_Rational and g.is_polynomial(u):
        poly = sympy.Poly(g, u)
        if poly.domain.is_QQ or poly.domain.is_ZZ:
            antiderivative = poly.integrate()
            return sympy.Rational(antiderivative.eval(hi) - antiderivative.eval(lo))
    return sympy.integrate(g, (u, lo, hi))


def _rational_in_l(expr: sympy.Expr) -> tuple[int, int, sympy.Rational] | None:
    """(degree of the numerator, degree of the denominator, ratio of their leading
    coefficients) of ``expr`` as polynomials in L with rational coefficients (not
    cancelled: a common factor changes neither the degree difference nor the ratio), or
    None when it is not such a rational function or is identically 0.  Read off FLINT
    polynomials when L is the only generator, else off SymPy's Poly."""
    found: set[sympy.Expr] = set()
    try:
        _generators(expr, found)
        if found == {L}:
            ctx = fmpz_mpoly_ctx.get(("L",), "lex")
            num, den = _fraction(expr, ctx, {L: ctx.gens()[0]})
            if num.is_zero():
                return None
            return (num.degrees()[0], den.degrees()[0],
                    sympy.Rational(int(num.leading_coefficient()),
                                   int(den.leading_coefficient())))
    except _NotRational:
        pass
    n, d = expr.as_numer_denom()
    try:
        polys = sympy.Poly(n, L), sympy.Poly(d, L)
    except sympy.PolynomialError:
        return None
    if not all(p.domain.is_ZZ or p.domain.is_QQ for p in polys) or polys[0].is_zero:
        return None
    return (polys[0].degree(), polys[1].degree(),
            sympy.Rational(polys[0].LC()) / sympy.Rational(polys[1].LC()))


def limit_inf(expr: sympy.Expr) -> sympy.Expr:
    """lim_{L→∞} expr: for a rational function of L with rational coefficients from the
    degrees and leading coefficients (the rational number or ±∞ Gruntz's algorithm
    returns), otherwise ``sympy.limit``."""
    if not expr.has(L):
        return expr
    polys = _rational_in_l(expr)
    if polys is None:
        return sympy.limit(expr, L, sympy.oo)
    deg_num, deg_den, ratio = polys
    if deg_num < deg_den:
        return sympy.Integer(0)
    if deg_num == deg_den:
        return ratio
    return sympy.oo if ratio > 0 else -sympy.oo


def growth_exponent(expr: sympy.Expr) -> sympy.Expr:
    """κ = lim_{L→∞} log|expr|/log L: the degree difference of a rational function of L
    with rational coefficients (not identically 0), else ``sympy.limit``."""
    polys = _rational_in_l(expr)
    if polys is None:
        return sympy.limit(sympy.log(sympy.Abs(expr)) / sympy.log(L), L, sympy.oo)
    return sympy.Integer(polys[0] - polys[1])


def nonzero(expr: sympy.Expr) -> bool:
    """Whether a constant expression is not 0: SymPy's own answer, else 30 digits (a value
    whose 30-digit evaluation is clearly away from 0 is not 0).  First an Arb ball: one
    that proves |expr| > 1e−20 settles it as both would (SymPy's assumptions cost tens of
    milliseconds on π/(π − 1) − 1)."""
    try:
        with working_precision(64):
            if abs(constant_ball(expr)) > _TINY:
                return True
    except NoClosedForm:  # a function without a ball rule: SymPy decides
        pass
    if expr.is_zero is not None:
        return not expr.is_zero
    return bool(abs(sympy.N(expr, 30)) > sympy.Float(10) ** -20)


class _NotRational(Exception):
    """Not a rational function of symbols and π with rational coefficients."""


def _generators(expr: sympy.Expr, found: set[sympy.Expr]) -> None:
    if expr.is_Symbol or expr is sympy.pi:
        found.add(expr)
    elif expr.is_Rational:
        pass
    elif expr.is_Add or expr.is_Mul:
        for arg in expr.args:
            _generators(arg, found)
    elif expr.is_Pow and expr.exp.is_Integer:
        _generators(expr.base, found)
    else:
        raise _NotRational


def _fraction(expr: sympy.Expr, ctx: fmpz_mpoly_ctx, gens: dict[sympy.Expr, fmpz_mpoly]
              ) -> tuple[fmpz_mpoly, fmpz_mpoly]:
    """``expr`` as numerator and denominator over ℤ[gens] (not reduced)."""
    got = gens.get(expr)
    if got is not None:
        return got, ctx.from_dict({(0,) * ctx.nvars(): 1})
    if expr.is_Rational:
        return (ctx.from_dict({(0,) * ctx.nvars(): int(expr.p)}),
                ctx.from_dict({(0,) * ctx.nvars(): int(expr.q)}))
    if expr.is_Add or expr.is_Mul:
        num, den = _fraction(expr.args[0], ctx, gens)
        for arg in expr.args[1:]:
            n, d = _fraction(arg, ctx, gens)
            num, den = (num * d + n * den, den * d) if expr.is_Add else (num * n, den * d)
        return num, den
    n, d = _fraction(expr.base, ctx, gens)
    e = int(expr.exp)
    if e < 0:
        if n.is_zero():
            raise _NotRational
        n, d, e = d, n, -e
    return n**e, d**e


def cancel(expr: sympy.Expr) -> sympy.Expr:
    """``sympy.cancel(expr)``, the same expression, for a rational function of symbols
    (and π) with rational coefficients; else SymPy's own cancel.

    SymPy's cancel writes ``expr`` over ℤ[generators] (lexicographic, generators in
    :func:`sympy.polys.polyutils._sort_gens`'s order; over ℚ it clears denominators
    first), divides numerator P and denominator Q by their gcd and makes Q's leading
    coefficient positive: the unique coprime pair with that sign, whichever way ``expr``
    was written, returned as ``P/Q`` built from the two coefficient dictionaries.
    FLINT's gcd gives the same pair; its signsimp, factor_terms and ring construction,
    most of a millisecond each, are skipped.
    """
    found: set[sympy.Expr] = set()
    try:
        _generators(expr, found)
    except _NotRational:
        return sympy.cancel(expr)
    if _sort_gens is None:  # pragma: no cover - see the imports
        return sympy.cancel(expr)
    ordered = _sort_gens(found)
    names = tuple(str(g) for g in ordered)
    if not ordered or len(set(names)) < len(names):
        return sympy.cancel(expr)
    ctx = fmpz_mpoly_ctx.get(names, "lex")
    try:
        num, den = _fraction(expr, ctx, dict(zip(ordered, ctx.gens(), strict=True)))
    except _NotRational:
        return sympy.cancel(expr)
    if den.is_zero():  # pragma: no cover - SymPy evaluates a zero denominator to zoo
        return sympy.cancel(expr)
    if num.is_zero():
        return sympy.Integer(0)
    g = num.gcd(den)
    p, q = num // g, den // g
    if q.leading_coefficient() < 0:
        p, q = -p, -q
    out: sympy.Expr = 1 * (_expr(p, ordered) / _expr(q, ordered))
    return out


def _expr(poly: fmpz_mpoly, gens: tuple[sympy.Expr, ...]) -> sympy.Expr:
    return expr_from_dict({m: sympy.Integer(int(c)) for m, c in poly.to_dict().items()},
                          *gens)


def float_additive(out_k: sympy.Expr, chi: sympy.Expr, k: sympy.Symbol
                   ) -> tuple[sympy.Float, sympy.Float] | None:
    """(Δ, β) when a block maps K ↦ K + Δ with backward factor χ = 1 + β/K, Δ and β
    floats (pre-LN with a numeric φ), else None.

    The law's general route takes cancel(cancel(K + Δ) − K) for Δ and the numerator and
    denominator of together(cancel(χ) − 1): over floats SymPy's cancel builds a
    RealField for each, returns 1.0·K + Δ and 1.0·(1.0·K + β)/K (the denominators are
    monomials: nothing is divided out, so no float is rationalised and Δ, β come back
    bit for bit), and together(… − 1) is β/K: so Δ, β and K, whose coefficients are
    1 and 0.
    """
    if not (out_k.is_Add and chi.is_Add and len(out_k.args) == 2 and len(chi.args) == 2
            and k in out_k.args and sympy.S.One in chi.args):
        return None
    delta = next(t for t in out_k.args if t is not k)
    beta = next(t for t in chi.args if t is not sympy.S.One)
    if not (isinstance(delta, sympy.Float) and beta.is_Mul and len(beta.args) == 2):
        return None
    coeff, rest = beta.args
    if not (isinstance(coeff, sympy.Float) and rest == 1 / k):
        return None
    return delta, coeff
