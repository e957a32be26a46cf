"""Mean field's exact paths and findings, against references computed here.

* erf: the arc-sine kernel (Williams 1997) written out by hand — V(q) = (2/π)·asin(2q/(1 + 2q)),
  S(q) = (4/π)/√(1 + 4q), K(q, c) = (2/π)·asin(2cq/(1 + 2q)),
  D(q, c) = (4/π)/√((1 + 2q)² − 4c²q²) — checked once against mpmath quadrature, then the
  fixed points solved by mpmath's findroot at 80 digits: every printed certified digit
  must be the reference's.
* ReLU: the normalised arc-cosine kernel f(c) = (√(1 − c²) + (π − arccos c)·c)/π (Cho and
  Saul 2009) iterated by hand: correlations approach 1 like 1/l², not geometrically, for
  every σ_w when σ_b = 0; with σ_b > 0 at σ_w = √2 the variance grows by σ_b² per layer.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import mpmath as mp
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import gain
from symgrad.meanfield.criticality import critical_sigma_w
from symgrad.meanfield.field import Phase, VarianceFixedPoint, mean_field
from symgrad.meanfield.phase import phase_diagram

DPS = 80


def V(q):
    return 2 / mp.pi * mp.asin(2 * q / (1 + 2 * q))


def S(q):
    return 4 / mp.pi / mp.sqrt(1 + 4 * q)


def K(q, c):
    return 2 / mp.pi * mp.asin(2 * c * q / (1 + 2 * q))


def D(q, c):
    return 4 / mp.pi / mp.sqrt((1 + 2 * q) ** 2 - 4 * c**2 * q**2)


def _proven(value: sympy.Expr, reference: mp.mpf) -> None:
    """The printed Float is the reference rounded (half to even) at its last printed place,
    with at least 30 significant digits."""
    text = str(value)
    shown = Decimal(text)
    assert len(shown.as_tuple().digits) >= 30, text
    with mp.workdps(DPS + 10), localcontext() as ctx:
        ctx.prec = 200
        exact = Decimal(mp.nstr(reference, DPS, min_fixed=-(10**9), max_fixed=10**9))
        rounded = exact.quantize(Decimal(1).scaleb(shown.as_tuple().exponent), ROUND_HALF_EVEN)
    assert rounded == shown, f"printed {text}, the reference rounds to {rounded}"


def test_the_hand_kernels_are_the_gaussian_integrals() -> None:
    with mp.workdps(30):
        q = mp.mpf("0.7")
        v = mp.quad(lambda t: mp.erf(mp.sqrt(q) * t) ** 2 * mp.npdf(t), [-mp.inf, 0, mp.inf])
        s = mp.quad(lambda t: (2 / mp.sqrt(mp.pi) * mp.exp(-q * t * t)) ** 2 * mp.npdf(t),
                    [-mp.inf, 0, mp.inf])
        assert abs(v - V(q)) < mp.mpf(10) ** -25 and abs(s - S(q)) < mp.mpf(10) ** -25


@pytest.mark.parametrize(("sw", "sb"), [("3/2", "1/10"), ("2", "3/10"), ("2", "0")])
def test_erf_fixed_points_are_certified_to_their_printed_digits(sw: str, sb: str) -> None:
    w2, b2 = sympy.Rational(sw) ** 2, sympy.Rational(sb) ** 2
    mf = mean_field("erf", sigma_w=sympy.Rational(sw), sigma_b=sympy.Rational(sb))
    assert mf.phase is Phase.CHAOTIC
    with mp.workdps(DPS):
        w, b = mp.mpf(w2.p) / w2.q, mp.mpf(b2.p) / b2.q
        q = mp.findroot(lambda x: w * V(x) + b - x, mp.mpf(float(mf.q_star)))
        chi1 = w * S(q)
        if b2 == 0:
            c = mp.mpf(0)  # erf is odd: C(0) = 0
        else:
            c = mp.findroot(lambda x: (w * K(q, x) + b) / q - x, mp.mpf(float(mf.c_star)))
        chi_c = w * D(q, c)
    _proven(mf.q_star, q)
    _proven(mf.chi1, chi1)
    assert mf.how("q_star").kind.value == "certified"
    if b2 != 0:
        _proven(mf.c_star, c)
    else:
        assert mf.c_star == 0
    _proven(mf.chi_c, chi_c)
    with mp.workdps(DPS):
        _proven(mf.xi_grad, -1 / mp.log(chi1))
        _proven(mf.xi_c, -1 / mp.log(chi_c))
    # χ₁ > 1: the note says what the negative ξ_∇ means
    assert any("e-folding" in note for note in mf.notes)


def test_erf_critical_sigma_w_is_certified() -> None:
    point = critical_sigma_w("erf", sigma_b=sympy.Rational(3, 10))
    assert point.how("sigma_w").kind.value == "certified"
    with mp.workdps(DPS):
        b = mp.mpf(9) / 100

        def equations(s, q):
            return [s * S(q) - 1, s * V(q) + b - q]

        s, _ = mp.findroot(equations, (mp.mpf(float(point.sigma_w)) ** 2, mp.mpf("0.5")))
        _proven(point.sigma_w, mp.sqrt(s))


def _arccos_map(c: mp.mpf) -> mp.mpf:
    return (mp.sqrt(1 - c * c) + (mp.pi - mp.acos(c)) * c) / mp.pi


def test_relu_correlations_converge_polynomially_for_every_sigma_w() -> None:
    # f'(1) = 1: one-sided derivative of the hand kernel at 1
    with mp.workdps(40):
        slope = mp.diff(_arccos_map, mp.mpf(1), direction=-1)
        assert abs(slope - 1) < mp.mpf(10) ** -20
        # iterate c ← f(c) from 0.5: 1 − c_l ≈ C/l², so doubling l divides it by ≈ 4
        c, gaps = mp.mpf("0.5"), {}
        for layer in range(1, 4001):
            c = _arccos_map(c)
            if layer in (1000, 2000, 4000):
                gaps[layer] = 1 - c
        assert 3.8 < gaps[1000] / gaps[2000] < 4.2 and 3.8 < gaps[2000] / gaps[4000] < 4.2


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=3, max_value=40).map(lambda n: sympy.Rational(n, 10)))
def test_relu_has_no_chaotic_phase(sw: sympy.Expr) -> None:
    mf = mean_field("relu", sigma_w=sw, sigma_b=0)
    assert mf.chi_c == 1 and mf.xi_c == sympy.oo
    assert mf.phase is not Phase.CHAOTIC
    expected = (Phase.ORDERED if sw**2 < 2 else Phase.CRITICAL if sw**2 == 2
                else Phase.EXPLODING)
    assert mf.phase is expected and mf.chi1 == sw**2 / 2
    assert any("no chaotic phase" in note for note in mf.notes)


def test_relu_critical_line_with_bias_has_no_fixed_point() -> None:
    point = critical_sigma_w("relu", sigma_b=sympy.Rational(1, 2))
    assert point.sigma_w == sympy.sqrt(2) and "no fixed point q*" in point.note
    mf = mean_field("relu", sigma_w=sympy.sqrt(2), sigma_b=sympy.Rational(1, 2))
    assert mf.fixed_point is VarianceFixedPoint.DIVERGES and mf.phase is Phase.CRITICAL
    assert any("grows linearly" in note for note in mf.notes)
    # by hand: G(q) = 2·q/2 + 1/4 = q + 1/4, so q_l = q₀ + l/4 — linear, no fixed point
    q = sympy.Integer(1)
    for _ in range(8):
        q = 2 * q / 2 + sympy.Rational(1, 4)
    assert q == 3
    diagram = phase_diagram("relu", sigma_w=[1.0, 1.6], sigma_b=[0.0, 0.5])
    assert all(p is not Phase.CHAOTIC for row in diagram.phase for p in row)
    assert any("no fixed point q*" in note for note in diagram.notes)


@pytest.mark.parametrize("name", ["tanh", "selu", "erf"])
def test_criticality_gains_at_the_degenerate_fixed_point_say_so(name: str) -> None:
    g = gain(name, principle="criticality")
    assert "degenerate fixed point q* = 0" in g.note
    assert "degenerate" in critical_sigma_w(name, sigma_b=0).note


def test_negative_depth_scale_is_explained() -> None:
    mf = mean_field("tanh", sigma_w=1.5, sigma_b=0.05, mode="fast")
    note = next(n for n in mf.notes if n.startswith("ξ_∇"))
    with mp.workdps(30):
        xi = -1 / mp.log(mp.mpf(float(mf.chi1)))
    assert xi < 0 and f"{abs(float(xi)):.5g}"[:4] in note
