"""The command line reads numbers as the API takes them: exact, and never as code."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from symgrad.cli.args import number
from symgrad.cli.main import main
from symgrad.errors import InvalidArgument


@given(st.fractions(min_value=-10**6, max_value=10**6, max_denominator=10**6))
def test_fractions_are_exact(q: Fraction) -> None:
    assert number(f"{q.numerator}/{q.denominator}", "--x") == sympy.Rational(q.numerator,
                                                                            q.denominator)


@given(st.decimals(min_value=-10**9, max_value=10**9, allow_nan=False, places=8))
def test_decimals_are_exact(d) -> None:
    assert number(str(d), "--x") == sympy.Rational(str(d))


@pytest.mark.parametrize("text,value", [
    ("sqrt(2)", sympy.sqrt(2)), ("5/3", sympy.Rational(5, 3)), ("2^-3", sympy.Rational(1, 8)),
    ("2**10", 1024), ("-(1/4)", sympy.Rational(-1, 4)), ("exp(1)/2", sympy.E / 2),
    ("ln(2)", sympy.log(2)), ("pi/4", sympy.pi / 4), ("1e-3", sympy.Rational(1, 1000)),
    (" 0.1 ", sympy.Rational(1, 10)), ("tanh(1/2)", sympy.tanh(sympy.Rational(1, 2))),
    ("erf(1)", sympy.erf(1)), ("1_000", 1000), ("1e-324", sympy.Rational(1, 10**324)),
])
def test_expressions(text: str, value: object) -> None:
    assert sympy.simplify(number(text, "--x") - value) == 0


@pytest.mark.parametrize("text,message", [
    ("", "must be a number"), ("__import__('os').system('true')", "unknown function"),
    ("(1).__class__", "not an arithmetic"), ("x", "unknown name"), ("inf", "finite real"),
    ("nan", "finite real"), ("1e-999999999", "at least 1e-324"), ("2e99999", "1.79e308"),
    ("1/0", "division by zero"), ("9^9^9", "power beyond"),
    ("10**400 * 10**400", "beyond"), ("sqrt(-1)", "finite real"), ("2e308", "1.79e308"),
    ("1e-325", "at least 1e-324"), ("lambda: 1", "must be a number"), ("[1]", "arithmetic"),
    ("sqrt(2, 3)", "arithmetic"), ("1 if 1 else 2", "arithmetic"), ("5 % 3", "operator"),
    ("1" * 500, "at most 200 characters"), ("log(0)", "finite real"),
])
def test_what_is_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        number(text, "--x")


def test_the_commands_take_the_api_syntax(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["meanfield", "tanh", "--sigma-w", "5/3", "--sigma-b", "0"]) == 0
    assert "σ_w = 5/3" in capsys.readouterr().out
    assert main(["chain", "sigmoid", "--depth", "2", "--weight", "sqrt(2)/2,1/3"]) == 0
    assert main(["activation", "leaky_relu", "--param", "alpha=1/5", "--eps", "1/100"]) == 0
    assert "alpha=1/5" in capsys.readouterr().out
