"""crosscheck(): every registered check passes, a wrong formula fails, the table extends."""

from __future__ import annotations

import math

import mpmath
import pytest

from symgrad import InvalidArgument
from symgrad.numeric import checks
from symgrad.numeric.checks import (
    CheckRow,
    check_names,
    crosscheck,
    exact_row,
    mean_and_se,
    statistical_row,
)
from symgrad.numeric.mlp import simulate


def _gauss_mean(f, q):
    """E[f(√q Z)], Z ~ N(0, 1), by mpmath.quad at 30 digits (split at 0 and ±1/√q)."""
    with mpmath.workdps(30):
        r = mpmath.sqrt(q)
        return float(mpmath.quad(lambda t: f(r * t) * mpmath.npdf(t),
                                 [-mpmath.inf, -1 / r, 0, 1 / r, mpmath.inf]))


# Predicted values recomputed here, independently of symgrad: Gaussian integrals by
# mpmath, and closed forms (relu: E[1{z>0}] = 1/2, χ₁ = σ_w²/2; linear nets: plain
# σ_w^(2L), residual (1 + σ_w²)^L; relu second moment ×2σ_w²/2 per layer for He, ×1/2 for
# Xavier at equal fans).
REFERENCES = {
    ("expected_slope", "E[φ'(√q Z)], tanh, q = 1"):
        lambda: _gauss_mean(lambda v: 1 / mpmath.cosh(v) ** 2, 1),
    ("expected_slope", "E[φ'(√q Z)], sigmoid, q = 4"):
        lambda: _gauss_mean(lambda v: 1 / (4 * mpmath.cosh(v / 2) ** 2), 4),
    ("expected_slope", "E[φ'(√q Z)], relu, q = 1"): lambda: 0.5,
    ("residual_highway", "residual linear net, σ_w = 0.5, depth 10: E‖∂L/∂x‖²/‖g‖²"):
        lambda: 1.25**10,
    ("residual_highway", "plain linear net, σ_w = 0.5, depth 10: E‖∂L/∂x‖²/‖g‖²"):
        lambda: 0.25**10,
    ("he_vs_xavier", "relu, he_normal: E[z²] at layer 6 (layer 1: 2)"): lambda: 2.0,
    ("he_vs_xavier", "relu, xavier_normal: E[z²] at layer 6 (layer 1: 1)"): lambda: 0.5**5,
    ("meanfield_gradients",
     "relu ordered (σ_w = 1.2, σ_b = 0.1): per-layer factor of E‖∂L/∂z_l‖²"):
        lambda: 1.2**2 / 2,
    ("meanfield_gradients",
     "relu chaotic (σ_w = 1.6, σ_b = 0): per-layer factor of E‖∂L/∂z_l‖²"):
        lambda: 1.6**2 / 2,
}


@pytest.mark.parametrize("name", check_names())
def test_every_check_passes(name):
    report = crosscheck([name], rng=0)
    assert report.rows, name
    quantities = {row.quantity for row in report.rows}
    for check, quantity in REFERENCES:
        if check == name:
            assert quantity in quantities, (name, quantity)
    for row in report.rows:
        assert row.ok, row
        assert math.isfinite(row.tolerance) and row.tolerance > 0
        assert row.basis
        # The verdict follows from the row's own numbers (recomputed here).
        scale = abs(row.predicted) or 1.0
        if row.relation in ("=", "≠"):
            rel = abs(row.measured - row.predicted) / scale
        else:
            rel = max(0.0, (row.measured - row.predicted) / scale)
        # (predicted and measured are float64 roundings of the compared numbers: each is
        # off by ≤ u relative, so rel moves by ≤ 2u(1 + rel); 4u(1 + rel) allowed.)
        slack = 4 * 2.0**-53 * (1 + rel)
        if row.relation == "≠":  # a rejected prediction: the simulation lies outside
            assert rel > row.tolerance + slack, row
        if "max over" in row.basis:  # the shown layer is one of those maximised over
            assert rel <= row.rel_error + slack, row
        else:
            assert abs(row.rel_error - rel) <= slack, row
        # A statistical tolerance is z·SE with z ≈ 4–5 (DESIGN.md), and never so wide
        # (≥ 50 % relative) that it could not see a wrong factor of 2 or 1/2.
        if row.basis.startswith("z·SE"):
            z = float(row.basis.split("z = ")[1].split(";")[0])
            assert 4 <= z <= 5 and row.tolerance < 0.5, row
        if (name, row.quantity) in REFERENCES:
            # mpmath 30-digit quadratures and float64 closed forms: 1e-12 relative.
            ref = REFERENCES[(name, row.quantity)]()
            assert row.predicted == pytest.approx(ref, rel=1e-12), row


def wrong_xavier_claim(seed, z):
    """A false formula: 'Xavier keeps the forward second moment of a relu net'."""
    samples = [simulate("relu", width=64, depth=6, sigma_w=1.0, batch=16,
                        init="xavier_normal", rng=seed.spawn(1)[0]).preact_second_moment[-1]
               for _ in range(8)]
    measured, se = mean_and_se(samples)
    return [statistical_row("wrong: xavier keeps E z²", 1.0, measured, se, z, "8 seeds")]


def test_a_wrong_formula_fails_and_the_table_extends(monkeypatch):
    # One entry adds a check living in another module (here, this test module).
    monkeypatch.setitem(checks.CHECKS, "wrong_xavier", "test_numeric_checks:wrong_xavier_claim")
    report = crosscheck(["wrong_xavier", "lstm_carousel"], rng=0)
    assert report.checks == ("lstm_carousel", "wrong_xavier")  # table order
    assert not report.ok
    assert [r.quantity for r in report.failures()] == ["wrong: xavier keeps E z²"]
    assert "NO" in report.markdown()


def test_rows_do_not_depend_on_which_other_checks_run():
    alone = crosscheck(["lstm_forget_decay"], rng=4).rows
    together = crosscheck(["lstm_forget_decay", "lstm_carousel"], rng=4).rows
    assert together[-len(alone):] == alone  # the table lists lstm_forget_decay last


def test_row_builders():
    ok = statistical_row("q", 2.0, 2.1, 0.05, 4.5, "b")
    # |2.1 − 2|/2 = 0.05 relative; tolerance z·SE/|predicted| = 4.5·0.05/2.
    assert ok.ok and ok.rel_error == pytest.approx(0.1 / 2.0)
    assert ok.tolerance == pytest.approx(4.5 * 0.05 / 2.0)
    assert not statistical_row("q", 2.0, 2.5, 0.05, 4.5, "b").ok
    below = exact_row("bound", 1.0, 0.5, 1e-12, "b", relation="<=")
    above = exact_row("bound", 1.0, 1.0 + 1e-9, 1e-12, "b", relation="<=")
    assert below.ok and below.rel_error == 0.0 and not above.ok
    assert isinstance(below, CheckRow)


@pytest.mark.parametrize("kwargs", [
    {"checks": ["no_such_check"]},
    {"checks": []},
    {"z": 0.5},
    {"z": float("nan")},
    {"rng": "seed"},
])
def test_invalid_crosscheck_arguments(kwargs):
    with pytest.raises(InvalidArgument):
        crosscheck(**kwargs)
