"""The edge λ_max certified for point-mass slope laws whose turn has no radical form.

For a law of φ'² with point masses p_i at x_i > 0 (and mass at 0), put y = t·y_max with
y_max = 1/x̃_max and r_i = x_i/x_max ∈ (0, 1]: then w = M̃(y) = Σ p_i r_i t/(1 − r_i t)
depends on the masses and ratios only, and with F̂(t) = F(y) − L·ln y_max

    λ_max = χ₁^L·λ̃_max = (σ_w²·x_max)^L·exp(−F̂(t_c)),
    exp(−F̂) = w^{L−1}(1 + w)/t^L  (Gaussian W),   (w/(1 + w))^{L−1}/t^L  (orthogonal W),

t_c the first turn of F̂ on (0, 1).  F̂' = N(t)/D(t) with D ≠ 0 on (0, 1) (its factors are
t, 1 − r_i t, the numerator of w and that of 1 + w) and t·F̂' → 1 as t → 0, so t_c is the
smallest root of the polynomial N in (0, 1) where N changes sign.  N's roots are isolated
with a proof that none was missed:

* exact masses and ratios (selu at q* = 0, leaky_relu with an irrational α, hard_tanh at an
  exact q*): :func:`symgrad._exact.isolate.isolate_roots` on (0, 1);
* masses known as enclosures (hard_tanh, hard_sigmoid at a certified q*: each mass
  P(a < h < b) = (erf(b/√(2q)) − erf(a/√(2q)))/2 evaluated in ball arithmetic over q*'s
  enclosure): N has ball coefficients, and :func:`_ball_turn` covers (0, 1) by cells with
  the same verdicts as isolate_roots (0 ∉ N(I); 0 ∉ N'(I) with or without a sign change),
  bisecting the first root's cell down to 10⁻³⁰.

No root in (0, 1): orthogonal weights with the top atom make the edge hard, λ̂ = 1 (the
limit t → 1, where w → ∞); Gaussian weights always turn (F̂ → −∞ at t = 1).

>>> half = sympy.Rational(1, 2)
>>> atoms = ((sympy.Integer(1), half), (sympy.Integer(4), half))   # φ'² ∈ {1, 4}
>>> lam, how = certified_edge(atoms, 3, gaussian=True, sigma_w=sympy.Integer(1))
>>> how.kind.value, str(lam)[:10]
('certified', '193.105050')
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

import sympy
from flint import arb, fmpq

from symgrad._core.symbols import z
from symgrad._exact.ball import working_precision
from symgrad._exact.ball_constants import constant_ball
from symgrad._exact.ball_function import compile_ball
from symgrad._exact.digits import CertifiedNumber
from symgrad._exact.isolate import isolate_roots
from symgrad.errors import InvalidArgument, NoClosedForm
from symgrad.records import Certified
from symgrad.spectrum._law import exact_form

__all__ = ["Q", "certified_edge", "enclose_in_q", "masses_in_q"]

_T = sympy.Symbol("t", positive=True)
#: The symbol the masses of :func:`masses_in_q` depend on.
Q = sympy.Symbol("q", positive=True)
_Q = Q
_BITS = 256
_MAX_CELLS = 4000
_MIN_WIDTH = Fraction(1, 2**70)


@lru_cache(maxsize=64)
def _numerator(atoms: int, depth: int, gaussian: bool, full: bool
               ) -> tuple[sympy.Expr, tuple[sympy.Symbol, ...], tuple[sympy.Symbol, ...]]:
    """N(t), the numerator of F̂'(t) (module docstring), for ``atoms`` point masses with
    symbolic ratios R_i (the last one, the top, is 1) and masses P_i, the last mass being
    S − Σ_{i<last} P_i with S the mass off 0 (S = 1 when ``full``: no atom at 0).  Cheap
    to build and to evaluate on balls, whatever constants the law carries.  Returns N and
    the free symbols: the ratios R_0 … R_{m−2}, then P_0 … P_{m−2} (and S unless full)."""
    ratios = [*sympy.symbols(f"R0:{atoms - 1}", positive=True), sympy.Integer(1)]
    free = list(sympy.symbols(f"P0:{atoms - 1}", positive=True))
    total: sympy.Expr = sympy.Integer(1)
    if not full:
        total = sympy.Symbol("S", positive=True)
    masses = [*free, total - sum(free, sympy.Integer(0))]
    if not full:
        free.append(total)
    w = sum((p * r * _T / (1 - r * _T) for r, p in zip(ratios, masses, strict=True)),
            sympy.Integer(0))
    dw = sympy.diff(w, _T)
    L = depth
    if gaussian:
        dF = dw * ((1 - L) / w - 1 / (1 + w)) + L / _T
    else:
        dF = dw * (L - 1) * (1 / (1 + w) - 1 / w) + L / _T
    numerator = sympy.expand(sympy.numer(sympy.together(dF)))
    # Roots at the ends t = 0, 1 (1 − t divides N when the masses off 0 sum to 1) are not in
    # (0, 1): divide them out exactly, so the isolation never meets them.
    return (_deflated(numerator), tuple(r for r in ratios if isinstance(r, sympy.Symbol)),
            tuple(free))


def _deflated(numerator: sympy.Expr) -> sympy.Expr:
    """N with its exact roots at t = 0 and t = 1 divided out."""
    for end in (0, 1):
        for _ in range(64):
            if numerator == 0 or sympy.expand(numerator.subs(_T, end)) != 0:
                break
            numerator = sympy.expand(sympy.quo(numerator, _T - end, _T))
    return numerator


def certified_edge(atoms: Sequence[tuple[sympy.Expr, sympy.Expr]], depth: int, *,
                   gaussian: bool, sigma_w: sympy.Expr,
                   q: tuple[Fraction, Fraction] | None = None) -> tuple[sympy.Expr, Certified]:
    """λ_max of the law ``atoms`` ((x_i, p_i), …), certified.  Masses may be expressions in
    the positive symbol ``q`` (then ``q`` = (lower, upper) encloses it).  Raises
    :class:`NoClosedForm` when a root cannot be isolated (a double root)."""
    law = sorted(((exact_form(x), p) for x, p in atoms if x != 0),
                 key=lambda xp: float(xp[0]))
    if not law:
        raise InvalidArgument("φ' vanishes almost surely: the Jacobian is zero")
    x_max = law[-1][0]
    ratios = [x / x_max for x, _ in law]
    masses = [p for _, p in law]
    full = all(x != 0 for x, _ in atoms)  # no atom at 0: the masses off 0 sum to 1
    numerator, r_sym, p_sym = _numerator(len(law), depth, gaussian, full)
    known = masses[:-1] + ([] if full else [sum(masses, sympy.Integer(0))])
    values = dict(zip(r_sym, ratios[:-1], strict=True)) | dict(zip(p_sym, known, strict=True))
    algebraic = q is None and all(sympy.sympify(v).is_algebraic for v in values.values())
    if q is None:  # exact values: a root at t = 1 may come from them (masses ½ and ½)
        numerator = _deflated(sympy.expand(numerator.subs(values)))
    with working_precision(_BITS):
        q_ball = None if q is None else _interval(*q)
        balls = {s: _evaluate(v, q_ball) for s, v in values.items()}
        if algebraic:
            turn = _exact_turn(numerator)
            method = "first turn isolated by isolate_roots (exact coefficients)"
        else:
            coeffs = [_polynomial_ball(c, balls) if q is not None else constant_ball(c)
                      for c in sympy.Poly(numerator, _T).all_coeffs()]
            turn = _ball_turn(coeffs[::-1])
            method = "first turn isolated in ball arithmetic (coefficients enclosed)"
        if turn is None:
            if gaussian:
                raise NoClosedForm("no turn of the inverse M-transform found on (0, 1)")
            hat = arb(1)
            method = "no turn: hard edge at the top atom, λ̂ = 1"
        else:
            t = turn
            r_balls = [*(balls[r] for r in r_sym), arb(1)]
            m_balls = [_evaluate(p, q_ball) for p in masses]
            w = sum((p * r * t / (1 - r * t) for r, p in zip(r_balls, m_balls, strict=True)),
                    arb(0))
            hat = (w ** (depth - 1) * (1 + w) if gaussian
                   else (w / (1 + w)) ** (depth - 1)) / t**depth
        lam = (constant_ball(sigma_w**2 * x_max)) ** depth * hat
        number = CertifiedNumber.from_arb(lam, 30)
    if not number.lower > 0:
        raise NoClosedForm("the edge's enclosure is too wide")
    return number.sympy_float(), number.certified("λ_max = (σ_w²·x_max)^L·exp(−F̂(t_c)); "
                                                  + method)


def _polynomial_ball(coeff: sympy.Expr, balls: dict[sympy.Symbol, arb]) -> arb:
    """A polynomial in the R_i, P_i evaluated on their balls."""
    symbols = tuple(balls)
    total = arb(0)
    for exponents, c in sympy.Poly(coeff, *symbols).terms():
        term = constant_ball(c)
        for sym, e in zip(symbols, exponents, strict=True):
            if e:
                term *= balls[sym] ** e
        total += term
    return total


def _interval(lo: Fraction, hi: Fraction) -> arb:
    return arb(fmpq(lo.numerator, lo.denominator)).union(arb(fmpq(hi.numerator,
                                                                  hi.denominator)))


def _evaluate(expr: sympy.Expr, q_ball: arb | None) -> arb:
    """An expression in q (or a constant) enclosed at q's ball."""
    e = sympy.sympify(expr)
    if not e.has(_Q):
        return constant_ball(e)
    if q_ball is None:
        raise InvalidArgument("masses depend on q but no enclosure of q was given")
    value: arb = compile_ball(e.subs(_Q, z))(q_ball)
    return value


def _exact_turn(numerator: sympy.Expr) -> arb | None:
    """The smallest root of N in (0, 1) as a ball (isolate_roots: all roots, proven)."""
    if not numerator.has(_T):
        return None
    isolation = isolate_roots(numerator.subs(_T, z), 0, 1, digits=40)
    if not isolation.roots:
        return None
    return isolation.roots[0].value.ball()


# ---- roots of a polynomial with ball coefficients ----
# dedupe: symgrad._exact.isolate (the same cell verdicts; isolate_roots takes SymPy
# expressions with exact constants, and these coefficients are enclosures).


def _horner(coeffs: Sequence[arb], x: arb) -> tuple[arb, arb]:
    """(N(x), N'(x)) for coefficients constant term first."""
    value, slope = arb(0), arb(0)
    for c in reversed(coeffs):
        slope = slope * x + value
        value = value * x + c
    return value, slope


def _point_sign(coeffs: Sequence[arb], x: Fraction) -> int:
    v, _ = _horner(coeffs, arb(fmpq(x.numerator, x.denominator)))
    return 1 if v > 0 else -1 if v < 0 else 0


def _ball_turn(coeffs: Sequence[arb]) -> arb | None:
    """The smallest root of N in (0, 1) where N changes sign, as a ball; None when N has no
    root there.  Raises :class:`NoClosedForm` when a cell cannot be decided."""
    stack = [(Fraction(0), Fraction(1))]
    cells = 0
    while stack:
        a, b = stack.pop()  # leftmost first: the stack is pushed right half first
        cells += 1
        if cells > _MAX_CELLS:
            raise NoClosedForm("too many cells isolating the edge")
        value, slope = _horner(coeffs, _interval(a, b))
        if value > 0 or value < 0:
            continue
        if slope > 0 or slope < 0:
            sa, sb = _point_sign(coeffs, a), _point_sign(coeffs, b)
            if sa != 0 and sb != 0:
                if sa == sb:
                    continue
                return _refine(coeffs, a, b, sa)
        if b - a < _MIN_WIDTH:
            raise NoClosedForm(f"cannot isolate the edge near t = {float(a):.6g}")
        mid = (a + b) / 2
        stack += [(mid, b), (a, mid)]
    return None


def _refine(coeffs: Sequence[arb], a: Fraction, b: Fraction, sa: int) -> arb:
    """Bisect a cell holding exactly one simple root down to 10⁻³⁰ relative (or until the
    coefficients' own width stops it)."""
    for _ in range(200):
        if (b - a) <= Fraction(1, 10**30) * b:
            break
        mid = (a + b) / 2
        s = _point_sign(coeffs, mid)
        if s == 0:
            break
        if s == sa:
            a = mid
        else:
            b = mid
    return _interval(a, b)


def masses_in_q(act: Any) -> tuple[tuple[sympy.Expr, sympy.Expr], ...]:
    """The point masses of φ'(h)², h ~ N(0, q), as expressions in the symbol q: one per
    piece where φ' is constant, P(lo < h < hi) = (erf(hi/√(2q)) − erf(lo/√(2q)))/2, equal
    values merged (all of the law when φ' is piecewise constant)."""
    root = sympy.sqrt(2 * _Q)

    def cdf(x: sympy.Expr) -> sympy.Expr:
        return sympy.Integer(-1) if x == -sympy.oo else (
            sympy.Integer(1) if x == sympy.oo else sympy.erf(x / root))

    total: dict[sympy.Expr, sympy.Expr] = {}
    for p in act.pieces:
        if p.derivative.has(z):
            continue
        x = exact_form(p.derivative**2)
        total[x] = total.get(x, sympy.Integer(0)) + (cdf(p.hi) - cdf(p.lo)) / 2
    return tuple(sorted(total.items(), key=lambda xp: float(xp[0])))


def enclose_in_q(expr: sympy.Expr, q: tuple[Fraction, Fraction]) -> tuple[sympy.Expr, Certified]:
    """An expression in q (a mass) over q's enclosure: (proven digits, provenance)."""
    with working_precision(_BITS):
        number = CertifiedNumber.from_arb(_evaluate(expr, _interval(*q)), 30)
    return number.sympy_float(), number.certified("ball arithmetic over q*'s enclosure")
