"""Is φ a real, finite function on the whole real line?  The check every registration and
every parameter choice of a registered family passes before any analysis starts.

symgrad differentiates φ, isolates roots of φ' and integrates φ against Gaussians, so φ
must be real-valued and finite for every real z, and smooth on each piece (continuity
across pieces is checked by the registry).  The check walks the expression: numbers must
be real and finite; `exp`, `tanh`, `erf`, `erfc`, `atan`, `sin`, `cos`, `sinh`, `cosh`,
`asinh`, `Abs`, `Max` and `Min` are finite for finite arguments; a power with a negative
or fractional exponent and `log` need an argument whose sign is proven on the piece
(SymPy's assumptions, else ball arithmetic with proven tails); anything else — `I`, `zoo`,
`floor`, `sign`, `Heaviside` (jumps), `tan`, `gamma` (poles), an undefined `f(z)` — is
refused, with the reason.

>>> check_real_and_finite(sympy.log(1 + sympy.exp(z)), -sympy.oo, sympy.oo)
>>> try:
...     check_real_and_finite(sympy.sqrt(z), -sympy.oo, sympy.oo)
... except InvalidArgument as refused:
...     print(refused)
sqrt(z) is not real on all of ℝ: z must be ≥ 0 for the power ^(1/2), and it is -1.000 at z = -1
"""

from __future__ import annotations

import sympy
from sympy.core.function import AppliedUndef

from symgrad._core.format import interval_text
from symgrad._core.symbols import z
from symgrad._exact.enclose import exclude
from symgrad.errors import InvalidArgument, NoClosedForm

__all__ = ["check_real_and_finite"]

#: Functions finite and real for every finite real argument.
_ENTIRE = (sympy.exp, sympy.tanh, sympy.erf, sympy.erfc, sympy.atan, sympy.sin, sympy.cos,
           sympy.sinh, sympy.cosh, sympy.asinh, sympy.Abs, sympy.Max, sympy.Min)
#: Why the usual suspects are refused.
_WHY = {sympy.floor: "jumps", sympy.ceiling: "jumps", sympy.sign: "jumps",
        sympy.Heaviside: "jumps", sympy.frac: "jumps", sympy.tan: "has poles",
        sympy.cot: "has poles", sympy.sec: "has poles", sympy.csc: "has poles",
        sympy.gamma: "has poles", sympy.zeta: "has a pole"}
_ALLOWED = ("numbers, z, +, ×, powers (negative or fractional only of an argument of proven "
            "sign), exp, log of a positive argument, tanh, erf, erfc, atan, sin, cos, sinh, "
            "cosh, asinh, Abs, Max, Min, and Piecewise for kinks")


def check_real_and_finite(expr: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr) -> None:
    """Raise :class:`InvalidArgument` unless ``expr`` (in z) is real and finite on (lo, hi)."""
    where = sympy.Interval.open(lo, hi)
    _walk(sympy.sympify(expr), sympy.sympify(expr), sympy.sympify(lo), sympy.sympify(hi),
          interval_text(where))


def _refuse(whole: sympy.Expr, why: str) -> InvalidArgument:
    return InvalidArgument(f"{sympy.sstr(whole)} is not real on all of ℝ: {why}")


def _walk(e: sympy.Expr, whole: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr, span: str) -> None:
    if e.is_Number or e.is_NumberSymbol:
        if not (e.is_real and e.is_finite):
            raise _refuse(whole, f"the constant {sympy.sstr(e)} is not a finite real number")
        return
    if e == sympy.I or (e.has(sympy.I) and not e.has(z)):
        raise _refuse(whole, "it involves the imaginary unit I")
    if e.is_Symbol:
        if e != z:
            raise _refuse(whole, f"the symbol {e} is neither z nor a parameter")
        return
    if isinstance(e, AppliedUndef):
        raise InvalidArgument(f"{sympy.sstr(whole)} uses the undefined function {e.func}: "
                              "symgrad needs an explicit expression in z")
    if not e.has(z):
        value = sympy.N(e, 30)
        if not (value.is_real and value.is_finite):
            raise _refuse(whole, f"the constant {sympy.sstr(e)} is not a finite real number")
        return
    if e.is_Add or e.is_Mul:
        for a in e.args:
            _walk(a, whole, lo, hi, span)
        return
    if e.is_Pow:
        base, power = e.args
        _walk(base, whole, lo, hi, span)
        _walk(power, whole, lo, hi, span)
        if power.is_Integer and power >= 0:
            return
        if power.has(z):
            _sign_of(base, whole, lo, hi, span, strict=True, what="a power with z in it")
            return
        strict = bool(power.is_negative)
        need = "> 0" if (strict or not power.is_Rational) else "≥ 0"
        if power.is_Integer:  # a negative integer power: the base must not vanish
            _sign_of(base, whole, lo, hi, span, strict=True, what=f"the power ^{power}",
                     either=True)
            return
        _sign_of(base, whole, lo, hi, span, strict=strict or need == "> 0",
                 what=f"the power ^({power})")
        return
    if isinstance(e, sympy.log):
        _walk(e.args[0], whole, lo, hi, span)
        _sign_of(e.args[0], whole, lo, hi, span, strict=True, what="log")
        return
    if isinstance(e, sympy.Piecewise):
        raise _refuse(whole, "a Piecewise inside another function: write the pieces outside")
    if isinstance(e, _ENTIRE):
        for a in e.args:
            _walk(a, whole, lo, hi, span)
        return
    reason = next((why for f, why in _WHY.items() if isinstance(e, f)), None)
    raise _refuse(whole, f"{sympy.sstr(e)} " + (reason or "is not one of the functions symgrad "
                                                 f"can certify ({_ALLOWED})"))


def _sign_of(arg: sympy.Expr, whole: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr, span: str,
             *, strict: bool, what: str, either: bool = False) -> None:
    """Prove ``arg`` > 0 (``strict``) or ≥ 0 on the piece — or ≠ 0 when ``either``."""
    if arg.is_positive or (not strict and arg.is_nonnegative):
        return
    if either and arg.is_negative:
        return
    # On a piece ending at a finite point, z = end ∓ t (t > 0) lets SymPy's assumptions see
    # the side (−z ≥ 0 on (−∞, 0)).
    t = sympy.Symbol("t", positive=True)
    for end, toward in ((lo, 1), (hi, -1)):
        if end.is_finite and (lo == -sympy.oo or hi == sympy.oo):
            moved = arg.subs(z, end + toward * t)
            if moved.is_positive or (not strict and moved.is_nonnegative):
                return
    if arg.is_negative or (strict and arg.is_zero):
        raise _refuse(whole, f"{sympy.sstr(arg)} must be {'> 0' if strict else '≥ 0'} for "
                      f"{what}, and it is not")
    try:
        sign = exclude(arg, lo, hi).sign
    except (NoClosedForm, InvalidArgument):
        sign = 0
    if sign > 0 or (either and sign < 0):
        return
    need = "≠ 0" if either else ("> 0" if strict else "≥ 0")
    bad = _counterexample(arg, lo, hi, strict=strict or either)
    found = (f"it is {sympy.sstr(sympy.N(arg.subs(z, bad), 4))} at z = {sympy.sstr(bad)}"
             if bad is not None else f"it cannot be proven on {span}")
    raise _refuse(whole, f"{sympy.sstr(arg)} must be {need} for {what}, and {found}")


def _counterexample(arg: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr, *,
                    strict: bool) -> sympy.Expr | None:
    """A simple point of (lo, hi) where ``arg`` is negative (or zero when ``strict``)."""
    candidates = [sympy.Integer(k) for k in (0, -1, 1, -2, 2, -10, 10, -100, 100)]
    for point in candidates:
        inside = (lo == -sympy.oo or point > lo) and (hi == sympy.oo or point < hi)
        if not inside:
            continue
        value = sympy.N(arg.subs(z, point), 30)
        if value.is_real and (value < 0 or (strict and value == 0)):
            return point
    return None
