"""``symgrad spectrum``: text and JSON against the records, one stderr line on bad input."""

from __future__ import annotations

import json

import pytest
import sympy

from symgrad.cli.main import main


def test_relu_text_shows_exact_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spectrum", "relu", "--sigma-w", "1.5", "--depth", "3"]) == 0
    out = capsys.readouterr().out
    # χ₁ = σ_w²/2 = 9/8 and m_2/m_1² − 1 = 2L for Gaussian relu (Pennington et al. 2017).
    assert "χ₁            9/8  (exact)" in out and "m_2/m_1² − 1  6  (exact)" in out


def test_symbolic_depth_prints_polynomials(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spectrum", "identity", "--sigma-w", "1", "--depth", "L", "--moments", "3",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    L = sympy.Symbol("L")
    # Fuss–Catalan: m_3 = binom(3(L+1), 3)/(3L + 1), derived here.
    expected = sympy.expand_func(sympy.binomial(3 * L + 3, 3) / (3 * L + 1))
    assert sympy.simplify(sympy.sympify(out["moments"][2]) - expected) == 0


def test_tanh_json_carries_certified_provenance(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spectrum", "tanh", "--sigma-w", "1.4", "--sigma-b", "0.3", "--depth", "4",
                 "--weights", "orthogonal", "--moments", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["provenance"]["moments[2]"]["kind"] == "certified"
    assert out["provenance"]["q_star"]["lower"] <= out["q_star"] <= \
        out["provenance"]["q_star"]["upper"] * (1 + 1e-15)
    assert out["weights"] == "orthogonal" and out["density_log_x"] == []


def test_widths_give_the_gradient_norm_law(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spectrum", "relu", "--sigma-w", "1.5", "--widths", "8,8,8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "exact relu" and out["p_zero"] == pytest.approx(1 / 256)
    assert main(["spectrum", "tanh", "--sigma-w", "1.2", "--sigma-b", "0.2",
                 "--widths", "32,32,32"]) == 0
    assert "rejected prediction" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["--sigma-w", "1"], "give --depth"),
    (["--sigma-w", "1", "--depth", "2.5"], "--depth must be a positive integer"),
    (["--sigma-w", "1", "--depth", "0"], "depth must be an integer >= 1"),
    (["--sigma-w", "1", "--depth", str(10**30)], "depth must be <= 1000000"),
    (["--sigma-w", "0", "--depth", "2"], "sigma_w must be in"),
    (["--sigma-w", "1", "--depth", "2", "--moments", "13"], "moments must be <= 12"),
    (["--sigma-w", "1", "--depth", "2", "--density-points", "5"], "density_points"),
    (["--sigma-w", "1", "--widths", "8,x"], "--widths must be comma-separated"),
    (["--sigma-w", "1", "--widths", "8"], "widths must list"),
    (["--sigma-w", "1", "--widths", "8,8", "--depth", "3"], "disagrees with --widths"),
    (["--sigma-w", "1", "--widths", "8,8", "--weights", "orthogonal"], "Gaussian weights"),
    (["--sigma-w", "1", "--widths", "8,8", "--moments", "2"], "describe the spectrum"),
])
def test_bad_input_exits_2_with_one_line(argv: list[str], message: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spectrum", "tanh", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symgrad spectrum: error:") and err.count("\n") == 1
    assert message in err


def test_help_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["spectrum", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "examples" in text and "symgrad spectrum" in text and "--widths" in text
