"""``symgrad meanfield`` and ``symgrad gain``: text, JSON, exit status 2 on bad input."""

from __future__ import annotations

import json

import pytest

from symgrad.cli.main import main


def test_meanfield_json_relu(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["meanfield", "relu", "--sigma-w", "1.2", "--sigma-b", "0.1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # q* = σ_b²/(1 − σ_w²/2) = 0.01/0.28 and χ₁ = σ_w²/2, by hand.
    assert out["q_star"] == pytest.approx(0.01 / 0.28, rel=1e-15)
    assert out["chi1"] == pytest.approx(0.72, rel=1e-15)
    assert out["phase"] == "ordered" and set(out["provenance"].values()) == {"exact"}


def test_meanfield_text_tanh(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["meanfield", "tanh", "--sigma-w", "1", "--sigma-b", "0"]) == 0
    text = capsys.readouterr().out
    assert "phase" in text and "critical" in text


def test_meanfield_diverging_relu_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["meanfield", "relu", "--sigma-w", "2", "--sigma-b", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["q_star"] == "inf" and "no finite fixed point" in out["statement"]


def test_gain_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gain", "tanh", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["criticality"]["value"] == 1.0
    assert out["second_moment"]["provenance"] == "certified"  # Arb integral, proven digits


def test_gain_with_param_and_no_critical_point(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gain", "leaky_relu", "--param", "alpha=0.2"]) == 0
    assert "criticality" in capsys.readouterr().out
    assert main(["gain", "gelu", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["criticality"]["value"] is None


@pytest.mark.parametrize("argv", [
    ["meanfield", "tanh", "--sigma-w", "-1", "--sigma-b", "0"],
    ["meanfield", "tanh", "--sigma-w", "1", "--sigma-b", "-0.5"],
    ["meanfield", "tanh", "--sigma-w", "nan", "--sigma-b", "0"],
    ["meanfield", "tanh", "--sigma-w", "one", "--sigma-b", "0"],
    ["meanfield", "nope", "--sigma-w", "1", "--sigma-b", "0"],
    ["meanfield", "tanh", "--sigma-w", "1", "--sigma-b", "0", "--mode", "exact"],
    ["gain", "nope"],
])
def test_bad_input_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"symgrad {argv[0]}: error:") and err.count("\n") == 1
