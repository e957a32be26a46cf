"""crosscheck(): every registered check passes, a wrong formula fails, the table extends."""

from __future__ import annotations

import math

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


@pytest.mark.parametrize("name", check_names())
def test_every_check_passes(name):
    report = crosscheck([name], rng=0)
    assert report.rows, name
    for row in report.rows:
        assert row.ok, row
        assert math.isfinite(row.tolerance) and row.tolerance > 0
        assert row.basis


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
    assert ok.ok and ok.rel_error == pytest.approx(0.05) and ok.tolerance == pytest.approx(0.1125)
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
