"""Root isolation: every root found, none invented, each enclosure proving its digits.

References: sign scans with mpmath at 50–80 digits and mpmath's findroot on the same
expressions written out (activation derivatives lambdified, hand-written SiLU φ''),
roots known by construction (Hypothesis: polynomials × exponentials with chosen
roots), and expressions built to be awkward: closely spaced roots, roots on or near
subdivision points, roots near 10⁶, no roots, double roots.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import mpmath
import pytest
import sympy
from _exact_refs import assert_proven, mp_function, reference_roots
from flint import ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import activation, activation_names
from symgrad._core.symbols import z
from symgrad._exact.enclose import enclose, exclude
from symgrad._exact.isolate import Verdict, isolate_roots, refine_root
from symgrad.errors import InvalidArgument, NoClosedForm

THIRD = sympy.Rational(1, 3)


def _check(isolation, references):
    found = isolation.roots
    assert len(found) == len(references), (
        [r.value.text() for r in found], [mpmath.nstr(x, 20) for x in references])
    for root, ref in zip(found, references, strict=True):
        if root.exact is not None:  # proven exactly: the reference is only close
            with mpmath.workdps(90):
                assert abs(ref - mpmath.mpf(sympy.N(root.exact, 90))) < mpmath.mpf(10) ** -40
            continue
        with mpmath.workdps(90):
            assert root.value.lower <= Fraction(mpmath.nstr(ref, 85)) <= root.value.upper
        assert_proven(root.value.text(), ref)


def _targets(act, epsilons):
    for piece in act.pieces:
        d = piece.derivative
        if not d.has(z):
            continue
        if not epsilons:
            yield piece, sympy.diff(d, z)
        for eps in epsilons:
            yield piece, d - eps
            yield piece, d + eps


def _against_scan(name, epsilons, scan, step, dps):
    """Every root the engine finds on |z| < scan matches a sign scan + findroot, and it
    finds no other (the catalogue has none beyond ``scan`` for these targets)."""
    for piece, f in _targets(activation(name), epsilons):
        iso = isolate_roots(f, piece.lo, piece.hi, digits=30)
        lo = max(float(piece.lo), -scan) if piece.lo.is_finite else -scan
        hi = min(float(piece.hi), scan) if piece.hi.is_finite else scan
        refs = [r for r in reference_roots(mp_function(f), lo, hi, step=step, dps=dps)
                if lo < r < hi]
        _check(iso, refs)
        assert all(r.exact is not None or r.value.digits >= 30 for r in iso.roots)
        unbounded = [e for e in (piece.lo, piece.hi) if not e.is_finite]
        assert len(iso.tails) == len(unbounded)


@pytest.mark.parametrize("name", activation_names())
def test_catalogue_critical_points_against_mpmath_scans(name):
    # φ'' and |φ'| = 1/10: every root lies in |z| < 6
    _against_scan(name, (), scan=6, step=0.02, dps=50)
    _against_scan(name, (sympy.Rational(1, 10),), scan=6, step=0.02, dps=50)


@pytest.mark.slow
@pytest.mark.parametrize("name", activation_names())
def test_catalogue_saturation_roots_against_fine_mpmath_scans(name):
    # |φ'| = 1/100 reaches |z| = 9 (softsign); 80 digits keep 1 − tanh² resolved there
    _against_scan(name, (sympy.Rational(1, 100),), scan=10, step=0.01, dps=80)


def test_silu_argmax_digits_against_a_hand_written_derivative():
    # φ = z·σ(z): φ'' = σ(1 − σ)·(2 + z·(1 − 2σ)), written out here by hand
    def second(x):
        s = 1 / (1 + mpmath.exp(-x))
        return s * (1 - s) * (2 + x * (1 - 2 * s))

    with mpmath.workdps(80):
        ref = mpmath.findroot(second, (mpmath.mpf(2), mpmath.mpf(3)), solver="anderson")
        minus = -ref  # negated at 80 digits, not at mpmath's default 15
    iso = isolate_roots(activation("silu").second_derivative, digits=40)
    assert [r.value.text()[:8] for r in iso.roots] == ["-2.39935", "2.399357"]
    assert_proven(iso.roots[1].value.text(), ref)
    assert_proven(iso.roots[0].value.text(), minus)
    assert iso.roots[1].value.text() == iso.roots[0].value.text()[1:]


def test_symmetric_roots_print_the_same_digits():
    # gelu_tanh's φ'' is even (φ(z) − φ(−z) = z), so its roots are ±r
    iso = isolate_roots(activation("gelu_tanh").second_derivative, digits=40)
    left, right = iso.roots
    assert left.value.text() == "-" + right.value.text()


@pytest.mark.parametrize(
    ("expr", "roots"),
    [
        # closely spaced: 1/3 and 1/3 + 10^-9
        ((z - THIRD) * (z - THIRD - sympy.Rational(1, 10**9)) * sympy.exp(-z**2),
         [THIRD, THIRD + sympy.Rational(1, 10**9)]),
        # on subdivision points (0, 1, a bisection midpoint) and just off one
        (z * (z - 1) * (z - sympy.Rational(1, 2)) * (z - 2 - sympy.Rational(1, 2**40))
         / (1 + z**6), [0, sympy.Rational(1, 2), 1, 2 + sympy.Rational(1, 2**40)]),
        # far out, on both sides
        ((z - 10**6) * (z + 3 * 10**6) / (1 + z**2), [-3 * 10**6, 10**6]),
        ((z - sympy.Rational(10**6 + 1, 3)) * sympy.exp(-z), [sympy.Rational(10**6 + 1, 3)]),
        # none
        (sympy.exp(z) + z**2 + sympy.Rational(1, 100), []),
        (1 / (1 + z**2), []),
        # a root of a transcendental equation: e^{-z} = z (the omega constant)
        (sympy.exp(-z) - z, [sympy.LambertW(1)]),
    ],
)
def test_constructed_roots(expr, roots):
    iso = isolate_roots(expr, digits=35)
    with mpmath.workdps(60):
        refs = [mpmath.mpf(sympy.N(r, 70)) for r in roots]
    _check(iso, refs)
    exact = [r.exact for r in iso.roots if r.exact is not None]
    assert all(e in roots for e in exact)


def test_roots_on_grid_points_are_exact():
    iso = isolate_roots(z * (z - 1) * sympy.exp(-z**2), digits=30)
    assert [r.exact for r in iso.roots] == [0, 1]
    assert all(r.how.kind.value == "exact" for r in iso.roots)
    other = isolate_roots(z**2 - 3, 0, sympy.oo, digits=30).roots[0]
    assert other.how.kind.value == "certified" and other.how.lower < sympy.sqrt(3)
    assert any(c.verdict is Verdict.EXACT_ROOT for c in iso.cells)


@settings(max_examples=20, deadline=None)
@given(
    roots=st.lists(st.fractions(min_value=-30, max_value=30, max_denominator=97),
                   min_size=0, max_size=4, unique=True),
    rate=st.sampled_from([0, 1, -2, sympy.Rational(1, 3)]),
    gauss=st.booleans(),
)
def test_polynomials_times_exponentials(roots, rate, gauss):
    ordered = sorted(roots)
    if any(b - a < Fraction(1, 10**4) for a, b in itertools.pairwise(ordered)):
        return
    poly = sympy.Mul(*[z - sympy.Rational(r.numerator, r.denominator) for r in ordered])
    expr = poly * sympy.exp(rate * z) * (sympy.exp(-z**2 / 8) if gauss else 1)
    if not gauss and rate == 0 and not ordered:
        return  # a constant has no roots to isolate; covered elsewhere
    iso = isolate_roots(expr, digits=25)
    assert len(iso.roots) == len(ordered)
    assert all(r.value.lower <= x <= r.value.upper
               for r, x in zip(iso.roots, ordered, strict=True))


def test_open_interval_excludes_its_ends():
    assert isolate_roots(z * (z - 1), 0, 1).roots == ()
    assert [r.exact for r in isolate_roots(z * (z - 1), -1, 1).roots] == [0]
    assert [r.exact for r in isolate_roots(z * (z - 1), 0, 2).roots] == [1]


def test_tails_are_true_statements():
    f = activation("sigmoid").derivative - sympy.Rational(1, 100)
    iso = isolate_roots(f)
    mp = mp_function(f)
    for tail in iso.tails:
        for factor in (1, 3, 1000, 10**6):
            x = tail.side * tail.beyond * factor
            with mpmath.workdps(60):
                assert mpmath.sign(mp(mpmath.mpf(x.numerator) / x.denominator)) == tail.sign
        assert "tail form" in tail.statement()
    assert "all 2 roots" in iso.statement()


@pytest.mark.parametrize(
    "expr",
    [(z - sympy.Rational(1, 3)) ** 2 * sympy.exp(-z**2), (z - 1) ** 2 * sympy.exp(-z**2),
     sympy.sin(z)],
)
def test_refuses_rather_than_guesses(expr):
    with pytest.raises(NoClosedForm):
        isolate_roots(expr)


def test_enclose_refines_the_root_it_needs():
    d = activation("gelu_tanh").derivative
    iso = isolate_roots(sympy.diff(d, z), digits=12)
    value = enclose(d, iso.roots[1], digits=45)
    assert value.digits == 45
    with mpmath.workdps(80):
        x = mpmath.findroot(mp_function(sympy.diff(d, z)), mpmath.mpf("1.4185"))
        assert_proven(value.text(), mp_function(d)(x))
    deeper = refine_root(iso.roots[1], 50)
    assert deeper.value.digits >= 50 and iso.roots[1].value.contains(deeper.value.mid)


def test_exclude_proves_a_sign_or_refuses():
    assert exclude(sympy.exp(z) + 1, -sympy.oo, sympy.oo).sign == 1
    assert exclude(z - 5, -sympy.oo, 4).sign == -1
    with pytest.raises(NoClosedForm, match="root"):
        exclude(z - 5, 0, sympy.oo)
    with pytest.raises(NoClosedForm):
        exclude(z - 5, 5, 6)  # vanishes at the closed end


def test_flint_precision_is_left_alone():
    saved = ctx.prec
    isolate_roots(activation("tanh").second_derivative, digits=60)
    assert ctx.prec == saved


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"digits": 0}, "digits"), ({"digits": 1001}, "digits"), ({"digits": True}, "digits"),
     ({"lo": 1, "hi": 1}, "lo < hi"), ({"lo": sympy.sqrt(2)}, "rational"),
     ({"f": z + sympy.Symbol("w")}, "z only"), ({"f": "z"}, "z only")],
)
def test_invalid_arguments(kwargs, message):
    args = {"f": z - 1, **kwargs}
    with pytest.raises(InvalidArgument, match=message):
        isolate_roots(args.pop("f"), **args)
