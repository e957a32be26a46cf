"""Architecture specs (parsed, never evaluated) and ``symgrad predict`` on the command line."""

import json
import subprocess
import sys

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import InvalidArgument
from symgrad import networks as nw
from symgrad.cli.main import main
from symgrad.networks.spec import parse_network

ACTS = ("relu", "tanh", "gelu", "identity", "softplus")
GAINS = (sympy.Integer(1), sympy.Rational(1, 2), sympy.sqrt(2), 1 / sympy.sqrt(nw.L),
         nw.L ** sympy.Rational(-1, 4), sympy.Rational(3, 7) * sympy.pi)


def _dense() -> st.SearchStrategy:
    return st.builds(lambda w, b, init: nw.dense(w, b, init=init), st.sampled_from(GAINS),
                     st.sampled_from((0, sympy.Rational(1, 10), sympy.Integer(2))),
                     st.sampled_from(("gaussian", "he_normal", "xavier_uniform")))


def _leaf() -> st.SearchStrategy:
    return st.one_of(
        _dense(), st.sampled_from(ACTS).map(nw.activation),
        st.just(nw.activation("leaky_relu", alpha=sympy.Rational(1, 5))),
        st.sampled_from((0, sympy.Rational(1, 1000))).map(lambda e: nw.layernorm(eps=e)),
        st.sampled_from((None, 16)).map(nw.batchnorm))


def _blocks() -> st.SearchStrategy:
    return st.recursive(_leaf(), lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: nw.serial(*xs)),
        st.tuples(inner, _dense(), st.sampled_from((*GAINS[:4], 0))).map(
            lambda t: nw.residual(nw.serial(t[0], t[1]), scale=t[2])),
        st.tuples(inner, st.integers(1, 40)).map(lambda t: nw.repeat(*t))), max_leaves=6)


@settings(max_examples=60, deadline=None)
@given(_blocks())
def test_every_architecture_reads_back_from_its_text(net):
    assert parse_network(str(net)) == net


def test_arithmetic_is_exact_and_recipes_expand():
    net = parse_network("dense(0.1 + 2^-2, sqrt(2)*pi/4)")
    assert net.sigma_w == sympy.Rational(7, 20)
    assert sympy.simplify(net.sigma_b - sympy.sqrt(2) * sympy.pi / 4) == 0
    assert parse_network("pre_ln(relu, 40)") == nw.pre_ln("relu", 40)
    assert parse_network("fixup(tanh, 8, m=3, last=1e-1)") == nw.fixup("tanh", 8, m=3,
                                                                      last=sympy.Rational(1, 10))
    assert parse_network(" mlp( tanh ,3 , sigma_w = 1.2 ) ") == nw.mlp("tanh", 3,
                                                                      sigma_w=sympy.Rational(6, 5))


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("relu", "starts with a call"),
    ("foo(1)", "unknown name 'foo'"),
    ("repeat(dense(1), 2", r"expected '\)'"),
    ("dense(1)) ", "after the architecture"),
    ("dense(1, init=lecun)", "unknown init"),
    ("__import__(os)", "unknown name"),
    ("dense($)", "unexpected character"),
    ("dense(2**1000)", "exponents"),
    ("dense(((((2**64)**64)**64)**64))", "beyond 1e"),
    ("dense(1/0)", "division by zero"),
    ("dense(x=1)", "unexpected keyword"),
    ("dense(sigma_w=1, 2)", "positional argument after"),
    ("repeat(dense(1), 2.5)", "integer"),
    ("(" * 40 + "1" + ")" * 40, "starts with a call"),
    ("dense(" + "(" * 40 + "1" + ")" * 40 + ")", "nested more than"),
    ("activation(relu(alpha=1))", "takes no parameters"),
    ("dense(1) " * 600, "longer than"),
])
def test_bad_specs_say_where(text, message):
    with pytest.raises(InvalidArgument, match=message):
        parse_network(text)


def test_predict_command_prints_the_law_and_the_exact_jacobian(capsys):
    assert main(["predict", "--arch", "pre_ln(relu, 40)"]) == 0
    out = capsys.readouterr().out
    assert "J^(L,0) exactly  21" in out and "power, constant 1 (exact)" in out
    assert main(["predict", "--arch", "mlp(tanh, 20, init=xavier_normal)", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["grad_h_sq"]) == 21 and data["provenance"]["grad_h_sq"]["kind"] == "estimated"
    assert data["grad_h_sq"][1] == pytest.approx(0.0775, abs=5e-5)  # the J^{20,1}
    assert data["law"]["kind"] == "power" and data["law"]["constant_text"] == "-1"


@pytest.mark.parametrize("argv, message", [
    (["predict", "--arch", "dense(1"], "expected ')'"),
    (["predict", "--arch", "mlp(tanh, 3)", "--q0", "abc"], "--q0 must be a number"),
    (["predict", "--arch", "mlp(tanh, 3)", "--rows", "1"], "--rows"),
    (["predict", "--arch", "mlp(tanh, 3)", "--width", "0"], "width"),
])
def test_predict_command_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_predict_command_in_a_real_process():
    done = subprocess.run([sys.executable, "-m", "symgrad", "predict", "--arch", "relu(1)"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
