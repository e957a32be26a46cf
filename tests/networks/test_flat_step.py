"""The flat float step of a block is the closures' step, float for float (bit for bit,
signed zeros included), and raises the same errors."""

import math
import re

import pytest

from symgrad.errors import InvalidArgument
from symgrad.networks import parse_network
from symgrad.networks._flat import flat_step
from symgrad.networks._recursion import Numbers

BLOCKS = [
    "serial(dense(1), activation(relu))",
    "serial(dense(3/2, 1/10, init=he_normal), activation(tanh))",
    "residual(serial(layernorm(), activation(gelu), dense(1)), scale=1/sqrt(L))",
    "residual(serial(activation(tanh), dense(1)))",
    "serial(residual(serial(activation(erf), dense(2, 1/2))), layernorm(eps=1/100))",
    "serial(dense(1), batchnorm(), activation(relu))",
    "serial(dense(1), batchnorm(batch=8, eps=1/10), activation(selu))",
    "residual(serial(activation(relu), dense(L^(-1/4), init=he_normal), activation(relu),"
    " dense(1/2, init=he_normal)))",
    "residual(serial(dense(1), activation(leaky_relu(alpha=1/5)), dense(1)), scale=0)",
    "serial(layernorm(), activation(identity), dense(1))",
]
# (the table's ends: e^−28, the expansion at 0 below it; e^28, refused above it)
STATES = [(1.0, 0.0, 0.25, 0.0), (2.5, 0.3, -0.4, 1e-12), (1e-14, 0.0, 0.0, 0.0),
          (37.0, -1.25, 30.0, 3e-9), (math.exp(-28), 0.0, 0.0, 0.0),
          (math.exp(-28) * (1 - 2**-52), 0.0, 0.0, 0.0), (1.4e12, 0.0, 1e12, 0.0),
          (1.5e12, 0.0, 0.0, 0.0), (0.36787944117144233, 0.0, 0.1, 0.0),
          (1.0, 0.0, 2.0, 0.0), (2.0, 0.5, -3.0, 1e-9), (1.0, 0.0, -1.0, 0.0)]  # c/k clamped


def _bits(out):
    # repr tells -0.0 from 0.0 and shows every float to the last bit.
    return repr(out)


@pytest.mark.parametrize("spec", BLOCKS)
def test_flat_step_equals_closures(spec):
    net = parse_network(f"repeat({spec}, 7)")
    block = net.blocks()[0]
    for gaussian in (True, False):
        try:
            Numbers(depth=7).step(block, gaussian)
        except InvalidArgument as e:  # a φ without a Gaussian input: the same error
            with pytest.raises(InvalidArgument, match=re.escape(str(e))):
                flat_step(block, gaussian, True, Numbers(depth=7))
            continue
        for tracks_c in (True, False):
            if "batchnorm" in spec and not tracks_c:
                continue
            for k, m, c, err in STATES:
                c = c if tracks_c else None
                num = Numbers(depth=7)
                closures, _ = num.step(block, gaussian)
                flat = flat_step(block, gaussian, tracks_c, Numbers(depth=7))
                assert flat is not None
                try:
                    want = closures(k, m, c, err)
                except InvalidArgument as e:
                    with pytest.raises(InvalidArgument, match=re.escape(str(e))):
                        flat(k, m, c, err)
                    continue
                assert _bits(flat(k, m, c, err)) == _bits(want)


def test_flat_step_errors_are_the_closures():
    num = Numbers(depth=3)
    act = parse_network("activation(tanh)")
    flat = flat_step(act, True, False, num)
    assert flat is not None
    for bad in (0.0, -1.0, math.nan):
        with pytest.raises(InvalidArgument, match="got an input of second moment"):
            flat(bad, 0.0, None, 0.0)
    relu = flat_step(parse_network("activation(relu)"), True, False, num)
    assert relu is not None
    with pytest.raises(InvalidArgument, match="finite variance"):
        relu(math.inf, 0.0, None, 0.0)
    ln = flat_step(parse_network("layernorm()"), True, False, num)
    assert ln is not None
    with pytest.raises(InvalidArgument, match="zero variance"):
        ln(1.0, 1.0, None, 0.0)
    with pytest.raises(InvalidArgument, match="needs a Gaussian input"):
        flat_step(act, False, False, num)


def test_nested_repeat_and_symbolic_walks_use_the_closures():
    block = parse_network("repeat(residual(serial(repeat(serial(dense(1), activation(relu)),"
                          " 2), dense(1))), 3)").blocks()[0]
    assert flat_step(block, True, False, Numbers()) is None
    assert flat_step(parse_network("dense(1)"), True, False, Numbers(symbolic=True)) is None
