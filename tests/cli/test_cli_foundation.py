"""``symgrad list`` and ``symgrad activation``: output, JSON, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import sympy

from symgrad import activation_names, max_slope
from symgrad.cli.main import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True,
                          text=True, check=False)


def test_list_names_every_activation(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(activation_names())
    assert next(r for r in rows if r["name"] == "relu")["family"] == "leaky_relu"


def test_activation_text_and_json_agree_with_the_library(capsys):
    assert main(["activation", "sigmoid", "--eps", "0.01"]) == 0
    text = capsys.readouterr().out
    assert "sup |φ'| = 1/4" in text and "-log(20*sqrt(6) + 49)" in text
    assert main(["activation", "leaky_relu", "--param", "alpha=0.2", "--eps", "0.5",
                 "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["name"] == "leaky_relu(alpha=1/5)"
    sup = max_slope("sigmoid")
    assert payload["max_slope"]["value"] == 1.0 and sup.value == sympy.Rational(1, 4)
    # φ' = 1/5 for z ≤ 0 (the kink takes the left piece) and 1 for z > 0.
    expected = sympy.Interval(-sympy.oo, 0)
    assert payload["saturation"][0]["region"] == sympy.sstr(expected)


def test_python_dash_m_runs():
    out = run("activation", "softplus", "--eps", "0.1")
    assert out.returncode == 0 and "not attained" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["activation", "nope"], "unknown activation 'nope'"),
        (["activation", "tanh", "--eps", "0"], "eps must be > 0"),
        (["activation", "tanh", "--eps", "abc"], "--eps must be a number"),
        (["activation", "tanh", "--eps", "nan"], "--eps must be a finite real number"),
        (["activation", "elu", "--param", "alpha=-1"], "alpha must be >= 0"),
        (["activation", "elu", "--param", "alpha"], "--param takes KEY=VALUE"),
        (["activation"], "the following arguments are required: NAME"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message):
    out = run(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in out.stderr and out.stdout == ""
