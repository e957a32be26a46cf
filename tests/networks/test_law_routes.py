"""The depth laws' direct routes give the general route's law, expression for expression:
each is compared with SymPy's own steps on the same input and with the law derived with
the direct route switched off."""

import random

import pytest
import sympy

from symgrad.networks import laws, parse_network, predict
from symgrad.networks._shortcuts import float_additive

_K = sympy.Symbol("K", positive=True)
L = sympy.Symbol("L", positive=True, integer=True)


def _general_additive(out_k, chi):
    # laws._derive → laws._gamma_law on SymPy's own cancel and together.
    delta = sympy.cancel(sympy.cancel(out_k) - _K)
    num, den = sympy.fraction(sympy.together(sympy.cancel(chi) - 1))
    return (delta, num, *sympy.Poly(den, _K).all_coeffs())


def _float(rng):
    value = rng.choice([1, -1]) * 10 ** rng.uniform(-12, 12) * rng.random()
    return sympy.Float(value, rng.choice([15, 16, 17, 30]))


def test_float_additive_is_sympys_cancel_and_together():
    rng = random.Random(11)
    for _ in range(200):
        delta, beta = _float(rng), _float(rng)
        s2 = rng.choice([1, sympy.Rational(1, 4), sympy.Rational(9, 7)])
        out_k, chi = _K + s2 * delta, 1 + s2 * (beta * (1 / _K))
        got = float_additive(out_k, chi, _K)
        assert got is not None, (out_k, chi)
        want = _general_additive(out_k, chi)
        direct = (*got, sympy.Integer(1), sympy.Integer(0))
        assert [sympy.srepr(e) for e in direct] == [sympy.srepr(e) for e in want]


@pytest.mark.parametrize("out_k, chi", [
    (_K + sympy.Float(0.5) / L, 1 + sympy.Float(0.25) / _K),
    (_K + sympy.Float(0.5), 1 + sympy.Float(0.25) / (_K * L)),
    (2 * _K + sympy.Float(0.5), 1 + sympy.Float(0.25) / _K),
    (_K + sympy.Rational(1, 2), 1 + sympy.Rational(1, 4) / _K),
    (_K + sympy.Float(0.5), 1 + sympy.Float(0.25) / _K**2),
    (_K + sympy.Float(0.5), 2 + sympy.Float(0.25) / _K),
    (_K + sympy.Float(0.5) + L, 1 + sympy.Float(0.25) / _K),
])
def test_float_additive_leaves_other_forms_to_sympy(out_k, chi):
    assert float_additive(out_k, chi, _K) is None


def _bits(law):
    fields = [law.kind, law.statement, repr(law.provenance)]
    fields += [sympy.srepr(v) for v in (law.constant, law.power, law.formula, law.jacobian)]
    fields += [(s.text, sympy.srepr(s.math)) for s in law.steps]
    return fields


@pytest.mark.parametrize("spec, q0", [
    ("pre_ln(gelu, 40)", 1), ("pre_ln(tanh, 1000, sigma_w=3/2, sigma_b=1/3)", 2),
    ("pre_ln(sigmoid, 7, scale=1/2)", sympy.Rational(1, 3)), ("pre_ln(selu, 300)", 1),
    ("pre_ln(silu, 50, sigma_b=1/10)", 5), ("pre_ln(gelu, 60, scale=1/sqrt(L))", 1),
])
def test_pre_ln_float_laws_are_the_general_routes(spec, q0, monkeypatch):
    net = parse_network(spec)
    laws._derive.cache_clear()
    fast = predict(net, q0=q0)
    laws._derive.cache_clear()
    monkeypatch.setattr(laws, "float_additive", lambda *args: None)
    general = predict(net, q0=q0)
    laws._derive.cache_clear()
    assert _bits(fast.law) == _bits(general.law)
    assert fast.as_dict() == general.as_dict()
