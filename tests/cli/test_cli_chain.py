"""``symgrad chain`` on the command line: the table, JSON, the residual chain, errors."""

from __future__ import annotations

import json
import math

import pytest

from symgrad.cli.main import main


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def _float_grads(depth: int, w: float) -> list[float]:
    """∂L/∂a_k for the sigmoid chain from x = 1, by a hand-written float64 pass."""
    a, zs = 1.0, []
    for _ in range(depth):
        zs.append(w * a)
        a = _sigmoid(zs[-1])
    g, out = 1.0, [0.0] * depth
    for k in reversed(range(depth)):
        out[k] = g
        g *= w * _sigmoid(zs[k]) * (1 - _sigmoid(zs[k]))
    return out


def test_chain_prints_the_trace_table(capsys):
    assert main(["chain", "sigmoid", "--depth", "4", "--weight", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "| k | z_k | a_k |" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [int(r.split("|")[1]) for r in rows] == [1, 2, 3, 4]
    ref = _float_grads(4, 0.1)
    # the table shows 6 significant digits
    assert float(rows[0].split("|")[5]) == pytest.approx(ref[0], rel=1e-5)


def test_chain_json_matches_an_independent_pass(capsys):
    assert main(["chain", "sigmoid", "--depth", "6", "--weight", "0.1", "--lr", "0.5",
                 "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["depth"] == 6 and payload["architecture"] == "plain"
    ref = _float_grads(6, 0.1)
    # float64 reference: ≤ 100 roundings, relative 1e-13 (see tests/depth/test_depth.py)
    for row, g in zip(payload["rows"], ref, strict=True):
        assert row["grad_a"] == pytest.approx(g, rel=1e-13)
        assert row["update"] == pytest.approx(-0.5 * row["grad_w"], rel=1e-15)
    assert payload["ratio"] == pytest.approx(ref[-1] / ref[0], rel=1e-13)


def test_chain_residual_and_per_layer_weights(capsys):
    assert main(["chain", "relu", "--depth", "3", "--weight", "0.5,1,2", "--residual",
                 "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["architecture"] == "residual"
    # y: 1 → 1.5 → 3 → 9, every slope 1, factors 1.5, 2, 3: ∂L/∂y_1 = 2·3 = 6
    assert [r["a"] for r in payload["rows"]] == [1.5, 3.0, 9.0]
    assert [r["grad_a"] for r in payload["rows"]] == [6.0, 3.0, 1.0]


def test_chain_deep_trace_elides_rows_and_keeps_huge_numbers(capsys):
    assert main(["chain", "relu", "--depth", "5000", "--weight", "0.5", "--rows", "4",
                 "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [r["layer"] for r in payload["rows"]] == [1, 2, 4999, 5000]
    # 2^-4999 is below float64's range: kept as digits, not rounded to 0
    assert isinstance(payload["rows"][0]["grad_a"], str)
    assert payload["log10_ratio"] == pytest.approx(4999 * math.log10(2), rel=1e-14)


@pytest.mark.parametrize("argv", [
    ["chain", "sigmoid", "--depth", "0", "--weight", "0.1"],
    ["chain", "sigmoid", "--depth", "3", "--weight", "abc"],
    ["chain", "sigmoid", "--depth", "3", "--weight", "nan"],
    ["chain", "sigmoid", "--depth", "3", "--weight", "0.1,0.2"],
    ["chain", "nope", "--depth", "3", "--weight", "0.1"],
    ["chain", "leaky_relu", "--param", "alpha", "--depth", "3", "--weight", "0.1"],
])
def test_chain_bad_input_exits_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("symgrad chain: error:") and err.count("\n") == 1
