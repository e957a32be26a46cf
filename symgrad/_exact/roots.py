"""Roots of f(z) = 0 on an interval: exact when SymPy can prove them, certified otherwise.

Exact path (:func:`exact_roots`): the numerator of f is factored; exponential factors
are never zero; polynomial factors give their real roots exactly (radicals or
``CRootOf``); factors that are rational in u = exp(k·z) (or exp(k·z²)) are solved as
polynomials in u and mapped back with a logarithm.  The root set is complete because
each substitution is a bijection onto u > 0.

Certified path (:func:`certified_roots`): interval arithmetic (mpmath's interval
context, with outward-rounded monotone enclosures for erf, erfc and tanh) excludes
roots from sub-intervals and proves a root's uniqueness where f' keeps its sign;
each root is then a bracket with a verified sign change, bisected to ≥ 30 significant
digits.  On unbounded pieces the window reaches |z| = 2**30 and the tails beyond it
are enclosed on [2**30, ∞] directly; the record says when that enclosure is not
conclusive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy
from mpmath.ctx_iv import MPIntervalContext

from symgrad._core.symbols import z
from symgrad.errors import NoClosedForm

__all__ = [
    "CertifiedRoot",
    "Tails",
    "certified_roots",
    "enclosure_bounds",
    "exact_roots",
    "freeze_constants",
    "interval",
    "iv_function",
    "numeric",
    "symbolic_roots",
]

_PREC = 240  # bits of the interval context: ~72 significant digits
_DIGITS = 36  # bracket width target: relative 1e-36 (the records promise ≥ 30 digits)
WINDOW = sympy.Integer(2) ** 30

_IV = MPIntervalContext()
_IV.prec = _PREC
_MP = mpmath.MPContext()
_MP.prec = _PREC + 40
_MARGIN = mpmath.mpf(2) ** -(_PREC - 8)


# ---- interval enclosures ----


def _monotone(name: str, *, increasing: bool) -> Callable[[Any], Any]:
    fn = getattr(_MP, name)

    def enclose(x: Any) -> Any:
        x = _IV.convert(x)
        lo, hi = (_MP.make_mpf(x._mpi_[0]), _MP.make_mpf(x._mpi_[1]))
        va, vb = fn(lo), fn(hi)
        if not increasing:
            va, vb = vb, va
        # mpmath's point values are good to a few ulps at _MP.prec; widen by far more.
        return _IV.mpf([va - abs(va) * _MARGIN, vb + abs(vb) * _MARGIN])

    enclose.__name__ = f"iv_{name}"
    return enclose


def _iv_erfcx(x: Any) -> Any:
    """erfcx(y) = e^{y²}·erfc(y), decreasing on the whole line."""
    x = _IV.convert(x)
    lo, hi = (_MP.make_mpf(x._mpi_[0]), _MP.make_mpf(x._mpi_[1]))
    va, vb = _MP.erfc(hi) * _MP.exp(hi**2), _MP.erfc(lo) * _MP.exp(lo**2)
    return _IV.mpf([va - abs(va) * _MARGIN, vb + abs(vb) * _MARGIN])


class erfcx(sympy.Function):  # type: ignore[misc]  # named as printed into the iv namespace
    """The scaled complementary error function, used only in tail forms."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        # erfcx'(y) = 2y·erfcx(y) − 2/√π
        y = self.args[0]
        return 2 * y * erfcx(y) - 2 / sympy.sqrt(sympy.pi)


def _iv_namespace() -> dict[str, Any]:
    return {
        "mpf": _IV.mpf,
        "exp": _IV.exp,
        "log": _IV.log,
        "sqrt": _IV.sqrt,
        "pi": _IV.pi,
        "e": _IV.e,
        "E": _IV.e,
        "erf": _monotone("erf", increasing=True),
        "erfc": _monotone("erfc", increasing=False),
        "tanh": _monotone("tanh", increasing=True),
        "atan": _monotone("atan", increasing=True),
        "fabs": _IV.absmax,
        "erfcx": _iv_erfcx,
    }


def freeze_constants(
    expr: sympy.Expr, *, keep_exp: bool = False
) -> tuple[sympy.Expr, dict[sympy.Dummy, sympy.Expr]]:
    """Replace maximal z-free, non-rational subexpressions by symbols: (expr', {symbol: value}).

    ``keep_exp`` leaves every exponential whole (its argument's constants included), as
    exact Gaussian integration needs to read exponents.
    """
    constants: dict[sympy.Dummy, sympy.Expr] = {}

    def freeze(e: sympy.Expr) -> sympy.Expr:
        if e.is_Rational or (keep_exp and isinstance(e, sympy.exp)):
            return e
        if not e.has(z):
            symbol = sympy.Dummy()
            constants[symbol] = e
            return symbol
        return e.func(*[freeze(a) for a in e.args]) if e.args else e

    return freeze(expr), constants


def iv_function(expr: sympy.Expr) -> Callable[[Any], Any]:
    """``expr`` (in z) as a function of an interval, returning an enclosure of its range.

    Constant subexpressions (SELU's erfc constants, √(2/π), …) are enclosed once, from an
    80-digit ``evalf`` widened by 10⁻⁷⁰ relative, instead of at every call.
    """
    frozen, exact = freeze_constants(expr)
    constants: dict[sympy.Dummy, Any] = {}
    for d, e in exact.items():
        v = _MP.mpf(sympy.N(e, 80))
        pad = abs(v) * _MP.mpf(10) ** -70
        constants[d] = _IV.mpf([v - pad, v + pad])
    names = list(constants)
    fn = sympy.lambdify([z, *names], frozen, modules=[_iv_namespace(), "mpmath"])
    values = [constants[d] for d in names]

    def evaluate(x: Any) -> Any:
        return _IV.convert(fn(x, *values))

    return evaluate


def interval(lo: Any, hi: Any) -> Any:
    """The interval [lo, hi] in the private high-precision interval context."""
    return _IV.mpf([lo, hi])


def enclosure_bounds(value: Any) -> tuple[Any, Any]:
    """The end points of an interval as high-precision mpmath numbers (no rounding)."""
    return _MP.make_mpf(value._mpi_[0]), _MP.make_mpf(value._mpi_[1])


_iv = interval


def _sign(F: Any) -> int:
    """+1, −1, or 0 when the enclosure contains 0."""
    lo, hi = F._mpi_
    if _MP.make_mpf(lo) > 0:
        return 1
    if _MP.make_mpf(hi) < 0:
        return -1
    return 0


# ---- exact roots ----

_MAXN = 3000  # digits SymPy's evalf may use internally to beat cancellation


def numeric(expr: sympy.Expr, digits: int = 60) -> sympy.Expr:
    """``expr`` to ``digits`` correct digits, working as precisely as cancellation needs
    (2 − ε − 2√(1 − ε) ≈ ε²/4 needs 2·log10(1/ε) extra digits)."""
    return sympy.N(expr, digits, maxn=_MAXN)


def _sign_of(expr: sympy.Expr) -> int | None:
    """The sign of a real closed form, or None when it cannot be decided."""
    value = numeric(expr)
    if not value.is_Number or value.is_zero:
        return 0 if sympy.simplify(expr) == 0 else None
    return 1 if value > 0 else -1


def _quadratic_roots(
    a: sympy.Expr, b: sympy.Expr, c: sympy.Expr, at: dict[Any, Any] | None = None
) -> list[sympy.Expr] | None:
    """Real roots of a·x² + b·x + c without cancellation: with q = −(b + sign(b)·√D)/2 the
    roots are q/a and c/q (the textbook ± form loses 2·log10(1/ε) digits in
    2 − ε − 2√(1 − ε), the small root of the tanh saturation equation).  With symbolic
    coefficients, signs are decided at the parameter values ``at``."""
    at = at or {}
    disc = sympy.expand(b**2 - 4 * a * c)
    sign_d = _sign_of(disc.subs(at))
    if sign_d is None:
        return None
    if sign_d < 0:
        return []
    # SymPy factors integers under a square root; for 100-digit discriminants that is slow
    # and can fail, so a big integer's root stays unevaluated (it is exact either way).
    big = disc.is_Integer and abs(disc) > 10**40
    root_d = sympy.Pow(disc, sympy.Rational(1, 2), evaluate=not big)
    if sign_d == 0:
        return [sympy.nsimplify(-b / (2 * a)) if (-b / (2 * a)).is_Rational else -b / (2 * a)]
    sign_b = _sign_of(b.subs(at))
    if sign_b is None:
        return None
    q = -(b + (1 if sign_b >= 0 else -1) * root_d) / 2
    # cancel() only clears sign pairs such as −1/(−49 − 20√6); it does not rationalise.
    return [sympy.cancel(q / a), sympy.cancel(c / q)]


def _real_poly_roots(poly_expr: sympy.Expr, var: sympy.Symbol) -> list[sympy.Expr] | None:
    poly = sympy.Poly(poly_expr, var)
    if poly.degree() <= 0:
        return [] if not poly.is_zero else None
    if poly.degree() == 2:
        return _quadratic_roots(*poly.all_coeffs())
    if all(c.is_Rational for c in poly.all_coeffs()):
        return list(dict.fromkeys(poly.real_roots()))
    found = sympy.roots(poly, multiple=False)
    if sum(found.values()) != poly.degree():
        return None
    real = []
    for r in found:
        im = sympy.im(numeric(r))
        if abs(im) < sympy.Float(10) ** -50:
            real.append(sympy.re(r) if r.is_real is not True else r)
    return real


def _exp_substitution(f: sympy.Expr) -> tuple[sympy.Expr, sympy.Symbol, sympy.Expr, int] | None:
    """Write f as g(u) with u = exp(k·z**m), m ∈ {1, 2}; None when f is not of that shape."""
    exps = [a for a in f.atoms(sympy.exp) if a.has(z)]
    if not exps:
        return None
    coeffs: list[sympy.Expr] = []
    power = None
    for atom in exps:
        arg = sympy.expand(atom.args[0])
        for m in (1, 2):
            c = sympy.simplify(arg / z**m)
            if not c.has(z):
                break
        else:
            return None
        if power not in (None, m):
            return None
        power = m
        coeffs.append(c)
    if power is None:
        return None
    base = coeffs[0]
    ratios = [sympy.nsimplify(c / base) for c in coeffs]
    if not all(r.is_Rational for r in ratios):
        return None
    denom = sympy.ilcm(*[r.q for r in ratios]) if len(ratios) > 1 else ratios[0].q
    k = base / denom
    u = sympy.Dummy("u", positive=True)
    g = f.subs({atom: u ** (r * denom) for atom, r in zip(exps, ratios, strict=True)})
    if g.has(z):
        return None
    return g, u, k, power


def exact_roots(f: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr) -> list[sympy.Expr] | None:
    """Every root of f in the open interval (lo, hi), exactly, or None if not derivable.

    >>> exact_roots(z**2 - 2, 0, sympy.oo)
    [sqrt(2)]
    """
    lo, hi = sympy.sympify(lo), sympy.sympify(hi)
    f = sympy.together(f.rewrite(sympy.exp))
    num, den = sympy.fraction(f)
    num = sympy.factor_terms(sympy.expand(num))
    candidates: list[sympy.Expr] = []
    for factor in sympy.Mul.make_args(num):
        base = factor.base if factor.is_Pow and factor.exp.is_positive else factor
        if not base.has(z):
            if sympy.simplify(base) == 0:
                return None  # identically zero: no isolated roots to speak of
            continue
        if isinstance(base, sympy.exp):
            continue  # never zero
        found = _real_poly_roots(base, z) if base.is_polynomial(z) else _solve_in_exp(base)
        if found is None:
            return None
        candidates += found
    inside = [r for r in dict.fromkeys(candidates) if _strictly_inside(r, lo, hi)]
    # Denominator zeros are not roots; a root must make |f| tiny at high precision.
    result = []
    for r in inside:
        if abs(numeric(den.subs(z, r), 50)) < sympy.Float(10) ** -40:
            continue
        result.append(r)
    return sorted(result, key=lambda r: numeric(r))


def _solve_in_exp(base: sympy.Expr) -> list[sympy.Expr] | None:
    shape = _exp_substitution(base)
    if shape is None:
        return None
    g, u, k, power = shape
    gnum, _ = sympy.fraction(sympy.together(g))
    gnum = sympy.expand(gnum)
    if not gnum.is_polynomial(u):
        return None
    # Negative powers of u were cleared by together(); roots u > 0 map back to z.
    roots_u = _real_poly_roots(gnum, u)
    if roots_u is None:
        return None
    out = []
    for r in roots_u:
        positive = _sign_of(r)
        if positive is None:
            return None  # undecidable here: let the certified path handle it
        if positive <= 0:
            continue
        # log(1/x) written −log(x): the threshold of the far side reads as a plain log.
        t = (-sympy.log(1 / r) if r.is_Pow and r.exp == -1 else sympy.log(r)) / k
        # No simplify(): it would rationalise q/a, c/q back into a cancelling difference.
        if power == 1:
            out.append(t)
        elif (_sign_of(t) or 0) >= 0:
            s = sympy.sqrt(t)
            out += [s, -s] if s != 0 else [s]
    return out


def symbolic_roots(
    f: sympy.Expr, parameter: sympy.Symbol, value: sympy.Expr, known: list[sympy.Expr]
) -> list[sympy.Expr] | None:
    """Roots of f as closed forms in ``parameter``, one per root in ``known`` (the exact
    roots of f at parameter = value); None unless every known root has a formula.

    The same substitutions as :func:`exact_roots`, with the branch of each formula chosen
    by evaluating it at ``value``: the result is valid on the parameter interval around
    ``value`` where the branches stay real and distinct.
    """
    f = sympy.together(f.rewrite(sympy.exp))
    num, _ = sympy.fraction(f)
    shape = _exp_substitution(sympy.factor_terms(sympy.expand(num)))
    if shape is None:
        return None
    g, u, k, power = shape
    gnum = sympy.expand(sympy.fraction(sympy.together(g))[0])
    if not gnum.is_polynomial(u) or sympy.degree(gnum, u) > 4:
        return None
    poly = sympy.Poly(gnum, u)
    a, b, c = poly.all_coeffs() if poly.degree() == 2 else (None, None, None)
    found = (_quadratic_roots(a, b, c, at={parameter: value}) if poly.degree() == 2
             else sympy.roots(poly, multiple=True))
    formulas = []
    for r in found or []:
        # log(1/x) written −log(x): the threshold of the far side reads as a plain log.
        t = (-sympy.log(1 / r) if r.is_Pow and r.exp == -1 else sympy.log(r)) / k
        formulas += [t] if power == 1 else [sympy.sqrt(t), -sympy.sqrt(t)]
    chosen = []
    for root in known:
        target = numeric(root, 50)
        match = [
            fm for fm in formulas
            if abs(numeric(fm.subs(parameter, value), 50) - target)
            <= sympy.Float(10) ** -40 * max(1, abs(target))
        ]
        if not match:
            return None
        chosen.append(sympy.simplify(match[0]))
    return chosen


def _strictly_inside(r: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr) -> bool:
    value = numeric(r)
    if not value.is_real or not value.is_finite:
        return False
    above = lo == -sympy.oo or value > numeric(lo)
    below = hi == sympy.oo or value < numeric(hi)
    return bool(above and below)


# ---- certified roots ----


@dataclass(frozen=True)
class CertifiedRoot:
    """A root inside ``[lo, hi]`` (mpmath numbers), proven by a sign change of f."""

    lo: mpmath.mpf
    hi: mpmath.mpf

    @property
    def mid(self) -> mpmath.mpf:
        return (self.lo + self.hi) / 2


@dataclass(frozen=True)
class Tails:
    """How far roots were excluded on an unbounded piece."""

    proven_to_infinity: bool
    window: sympy.Expr


_TAIL = 4  # beyond |z| = 4 the tail forms (dominant exponential divided out) are used


def _partition(lo: sympy.Expr, hi: sympy.Expr) -> list[mpmath.mpf]:
    """Points 0, ±2**k (k = −4..30) inside (lo, hi), with the (window-clipped) ends."""
    window = float(WINDOW)
    a = -window if lo == -sympy.oo else float(lo)
    b = window if hi == sympy.oo else float(hi)
    points = {_MP.mpf(0)} | {s * _MP.mpf(2) ** k for k in range(-4, 31) for s in (-1, 1)}
    inner = sorted(p for p in points if a < p < b)
    # All arithmetic on subdivision points happens in the private high-precision context.
    first = _MP.mpf(lo.evalf(80)) if lo != -sympy.oo else _MP.mpf(a)
    last = _MP.mpf(hi.evalf(80)) if hi != sympy.oo else _MP.mpf(b)
    return [first, *inner, last]


def _expand(expr: sympy.Expr) -> sympy.Expr:
    """Expand products but keep each exponential whole: exp(a)·exp(b) → exp(a + b)."""
    return sympy.powsimp(sympy.expand(expr, power_exp=False), combine="exp")


def _numerator(f: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """(N, D) with f = c·N/D, c a nonzero constant times exponentials (never zero).

    Denominators are only cleared when they involve z through more than exponentials;
    clearing e^{−z²/2} would multiply every term by e^{z²/2} and ruin the enclosures.
    """
    f = f.rewrite(sympy.exp)
    num, den = sympy.fraction(sympy.together(f))
    if all(not b.has(z) or isinstance(b, sympy.exp) for b in _bases(den)):
        num, den = f, sympy.Integer(1)
    kept = []
    # Exponentials split (exp(z + 1/2) → e^{1/2}·e^z) so common factors come out.
    for base in _bases(sympy.factor_terms(sympy.expand(num))):
        if base.has(z) and not isinstance(base, sympy.exp):
            kept.append(_expand(base))
    return sympy.Mul(*kept), den


def _bases(product: sympy.Expr) -> list[sympy.Expr]:
    return [
        f.base if f.is_Pow and f.exp.is_positive else f for f in sympy.Mul.make_args(product)
    ]


def _tail_form(n: sympy.Expr, side: int) -> sympy.Expr:
    """n·exp(−E(z)), same roots, with E the dominant exponent towards side·∞.

    Every term of n is a product of exp(E_t(z)) (E_t polynomial) and bounded or
    polynomial factors; dividing by the fastest-growing exponential keeps every term
    bounded on the wide tail intervals (e^{±z} in sigmoid-like forms, e^{−z²} in
    erf-like ones, e^{2c(z + k z³)} in gelu_tanh).
    """
    n = _expand(_erf_tails(n, side))
    exponents = []
    for term in sympy.Add.make_args(n):
        e = sympy.expand(sum((a.args[0] for a in term.atoms(sympy.exp)), sympy.Integer(0)))
        if not e.is_polynomial(z):
            return n
        exponents.append(e)
    dominant = exponents[0]
    for e in exponents[1:]:
        gap = sympy.Poly(sympy.expand(e - dominant), z)
        if not gap.is_zero and float(gap.LC()) * side ** gap.degree() > 0:
            dominant = e
    if dominant == 0:
        return n
    return _expand(n * sympy.exp(-dominant))


def _erf_tails(n: sympy.Expr, side: int) -> sympy.Expr:
    """erf(x) = ±(1 − erfcx(±x)·e^{−x²}) towards side·∞, so 1 + erf(x) cancels exactly."""

    def swap(e: sympy.Expr) -> sympy.Expr:
        x = e.args[0]
        if not x.is_polynomial(z) or not x.has(z):
            return e
        poly = sympy.Poly(x, z)
        s = 1 if poly.LC() * side ** poly.degree() > 0 else -1
        return s * (1 - erfcx(s * x) * sympy.exp(-(x**2)))

    return n.replace(lambda e: isinstance(e, sympy.erf), swap)


@dataclass(frozen=True)
class _Region:
    f: Callable[[Any], Any]
    fp: Callable[[Any], Any]


def _regions(n: sympy.Expr) -> tuple[_Region, _Region, _Region]:
    def region(expr: sympy.Expr) -> _Region:
        return _Region(iv_function(expr), iv_function(sympy.diff(expr, z)))

    return region(_tail_form(n, -1)), region(n), region(_tail_form(n, 1))


def certified_roots(
    f: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr
) -> tuple[list[CertifiedRoot], Tails]:
    """Every root of f in (lo, hi), each bracketed with a verified sign change.

    Raises :class:`NoClosedForm` when a root cannot be certified (a multiple root, or an
    expression without an interval enclosure).
    """
    n, den = _numerator(f)
    if not n.has(z):  # f is a nonzero constant times exponentials: no roots at all
        return [], Tails(proven_to_infinity=True, window=WINDOW)
    try:
        left, mid, right = _regions(n)
        D = iv_function(den)

        def pick(a: Any, b: Any) -> _Region:
            return right if a >= _TAIL else left if b <= -_TAIL else mid

        points = _partition(lo, hi)
        roots = []
        stack = [(points[i], points[i + 1]) for i in range(len(points) - 1)][::-1]
        min_width = _MP.mpf(10) ** -_DIGITS
        while stack:
            a, b = stack.pop()
            r = pick(a, b)
            if _sign(r.f(_iv(a, b))) != 0:
                continue
            sa, sb = _sign(r.f(_iv(a, a))), _sign(r.f(_iv(b, b)))
            monotone = _sign(r.fp(_iv(a, b))) != 0
            if monotone and sa * sb == 1:
                continue
            if monotone and sa * sb == 0 and sa + sb != 0:
                # One end's enclosure straddles 0: an exact root at a subdivision point
                # (f is monotone here, so there is no other root in the interval).
                at = a if sa == 0 else b
                if _is_exact_zero(f, at):
                    roots.append(CertifiedRoot(at, at))
                    continue
            if monotone and sa * sb == -1:
                root = _refine(r.f, a, b, sa)
                if _sign(D(_iv(root.lo, root.hi))) == 0:
                    raise NoClosedForm(f"{f} has a pole near z = {mpmath.nstr(root.mid, 20)}")
                roots.append(root)
                continue
            if b - a < min_width * max(1, abs(a)):
                raise NoClosedForm(
                    f"cannot certify the roots of {f} near z = {mpmath.nstr(a, 20)}:"
                    " a multiple root or a root at a subdivision point"
                )
            # Split slightly off-centre so exact roots at dyadic points are not hit.
            m = a + (b - a) * _MP.mpf("0.4970703125")
            stack += [(m, b), (a, m)]
        tails = _tails(left.f, right.f, lo, hi)
    except (TypeError, NameError, AttributeError, ZeroDivisionError) as exc:
        raise NoClosedForm(f"no interval enclosure for {f}: {exc}") from None
    unique = {(r.lo, r.hi): r for r in roots}
    return sorted(unique.values(), key=lambda r: r.lo), tails


def _is_exact_zero(f: sympy.Expr, at: Any) -> bool:
    man, exp = _MP.mpf(at).man_exp  # subdivision points are exact binary fractions
    point = sympy.Integer(man) * sympy.Integer(2) ** exp
    return bool(sympy.simplify(f.subs(z, point)) == 0)


def _refine(F: Callable[[Any], Any], a: Any, b: Any, sa: int) -> CertifiedRoot:
    """Bisect a verified sign change down to relative width 10**−_DIGITS."""
    target = _MP.mpf(10) ** -_DIGITS
    while b - a > target * max(1, abs(a), abs(b)):
        m = (a + b) / 2
        sm = _sign(F(_iv(m, m)))
        if sm == 0:  # the enclosure at m straddles 0: stop at the last verified bracket
            break
        if sm == sa:
            a = m
        else:
            b = m
    return CertifiedRoot(a, b)


def _tails(
    left: Callable[[Any], Any], right: Callable[[Any], Any], lo: sympy.Expr, hi: sympy.Expr
) -> Tails:
    window = float(WINDOW)
    proven = True
    if hi == sympy.oo:
        proven &= _sign(right(_IV.mpf([window, "+inf"]))) != 0
    if lo == -sympy.oo:
        proven &= _sign(left(_IV.mpf(["-inf", -window]))) != 0
    return Tails(proven_to_infinity=proven, window=WINDOW)
