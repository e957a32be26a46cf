"""Every refused argument of the numeric layer, as one table: InvalidArgument each time."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symgrad import InvalidArgument
from symgrad.numeric import (
    simulate,
    simulate_chain,
    simulate_lstm,
    simulate_rnn,
    sweep,
)
from symgrad.numeric.training import compare, train

NAN = float("nan")
OK = {"width": 4, "depth": 2, "sigma_w": 1.0, "batch": 3}


def _sim(**changes):
    return lambda: simulate("tanh", **{**OK, **changes})


def _point(a, rng):
    return a


CASES = [
    ("width 0", _sim(width=0)),
    ("width negative", _sim(width=-3)),
    ("width float", _sim(width=2.5)),
    ("width integral float", _sim(width=4.0)),
    ("width bool", _sim(width=True)),
    ("width list too short", _sim(width=[4, 4])),
    ("width list with 0", _sim(width=[4, 0, 4])),
    ("depth 0", _sim(depth=0)),
    ("depth float", _sim(depth=3.0)),
    ("batch 0", _sim(batch=0)),
    ("sigma_w NaN", _sim(sigma_w=NAN)),
    ("sigma_w inf", _sim(sigma_w=math.inf)),
    ("sigma_w 0", _sim(sigma_w=0.0)),
    ("sigma_w negative", _sim(sigma_w=-1.0)),
    ("sigma_w string", _sim(sigma_w="1")),
    ("sigma_b NaN", _sim(sigma_b=NAN)),
    ("sigma_b negative", _sim(sigma_b=-0.1)),
    ("eps 0", _sim(eps=0.0)),
    ("unknown init", _sim(init="kaiming")),
    ("init not a string", _sim(init=3)),
    ("unknown activation", lambda: simulate("nope", **OK)),
    ("activation not a name", lambda: simulate(3, **OK)),
    ("residual with unequal widths", _sim(width=[4, 5, 4], residual=True)),
    ("batchnorm with batch 1", _sim(batch=1, batchnorm=True)),
    ("residual not a bool", _sim(residual=1)),
    ("record not a bool", _sim(record="yes")),
    ("upstream wrong shape", _sim(upstream=np.ones((3, 5)))),
    ("upstream NaN", _sim(upstream=np.full((3, 4), NAN))),
    ("upstream not numbers", _sim(upstream="up")),
    ("inputs wrong shape", _sim(inputs=np.ones((2, 4)))),
    ("rng negative", _sim(rng=-1)),
    ("rng string", _sim(rng="seed")),
    ("rng float", _sim(rng=1.5)),
    ("chain depth 0", lambda: simulate_chain("tanh", depth=0, weight=1.0)),
    ("chain weights length", lambda: simulate_chain("tanh", depth=3, weight=[1.0, 2.0])),
    ("chain weight NaN", lambda: simulate_chain("tanh", depth=3, weight=NAN)),
    ("rnn relu", lambda: simulate_rnn("relu", hidden=4, steps=3, batch=2, sigma_w=1.0)),
    ("rnn hidden 0", lambda: simulate_rnn("tanh", hidden=0, steps=3, batch=2, sigma_w=1.0)),
    ("rnn steps 0", lambda: simulate_rnn("tanh", hidden=4, steps=0, batch=2, sigma_w=1.0)),
    ("rnn recurrent shape",
     lambda: simulate_rnn("tanh", hidden=4, steps=2, batch=2, sigma_w=1.0,
                          recurrent=np.eye(3))),
    ("lstm readout", lambda: simulate_lstm(hidden=4, steps=2, batch=2, sigma_w=1.0,
                                           readout="output")),
    ("lstm sigma_w negative", lambda: simulate_lstm(hidden=4, steps=2, batch=2, sigma_w=-1.0)),
    ("train lr 0", lambda: train("relu", lr=0.0, epochs=1)),
    ("train epochs 0", lambda: train("relu", epochs=0)),
    ("train batch larger than data", lambda: train("relu", samples=10, batch_size=20)),
    ("train shift NaN", lambda: train("relu", shift=NAN, epochs=1)),
    ("train shift huge", lambda: train("relu", shift=1e4, epochs=1)),
    ("train shift string", lambda: train("relu", shift="1", epochs=1)),
    ("smoothed loss over 0 epochs", lambda: train("relu", depth=1, width=2, epochs=1,
                                                  samples=4, batch_size=4).smoothed_loss(0)),
    ("compare act in shared", lambda: compare("relu", "tanh", act="relu")),
    ("compare mapping without act", lambda: compare({"depth": 2}, "tanh", epochs=1)),
    ("compare rng per run", lambda: compare({"act": "relu", "rng": 1}, "tanh", epochs=1)),
    ("sweep fn not callable", lambda: sweep(3, {"a": [1]})),
    ("sweep empty axis", lambda: sweep(_point, {"a": []})),
    ("sweep axis not a list", lambda: sweep(_point, {"a": 1})),
    ("sweep no points", lambda: sweep(_point, [])),
    ("sweep point sets rng", lambda: sweep(_point, [{"a": 1, "rng": 2}])),
    ("sweep grid a string", lambda: sweep(_point, "a")),
    ("sweep executor invalid", lambda: sweep(_point, {"a": [1]}, executor=object())),
    ("sweep progress string", lambda: sweep(_point, {"a": [1]}, progress="yes")),
]


# What each message must name: the offending argument (or the rule it breaks), so the
# message says what was wrong — not merely that something was.
NAMED = {
    "width 0": "width", "width negative": "width", "width float": "width",
    "width integral float": "width", "width bool": "width", "width list too short": "width",
    "width list with 0": "width[1]", "depth 0": "depth", "depth float": "depth",
    "batch 0": "batch", "sigma_w NaN": "sigma_w", "sigma_w inf": "sigma_w",
    "sigma_w 0": "sigma_w", "sigma_w negative": "sigma_w", "sigma_w string": "sigma_w",
    "sigma_b NaN": "sigma_b", "sigma_b negative": "sigma_b", "eps 0": "eps",
    "unknown init": "init", "init not a string": "init", "unknown activation": "activation",
    "activation not a name": "activation", "residual with unequal widths": "widths",
    "batchnorm with batch 1": "batch", "residual not a bool": "residual",
    "record not a bool": "record", "upstream wrong shape": "upstream",
    "upstream NaN": "upstream", "upstream not numbers": "upstream",
    "inputs wrong shape": "inputs", "rng negative": "rng", "rng string": "rng",
    "rng float": "rng", "chain depth 0": "depth", "chain weights length": "weight",
    "chain weight NaN": "weight", "rnn relu": "relu", "rnn hidden 0": "hidden",
    "rnn steps 0": "steps", "rnn recurrent shape": "recurrent", "lstm readout": "readout",
    "lstm sigma_w negative": "sigma_w", "train lr 0": "lr", "train epochs 0": "epochs",
    "train batch larger than data": "batch_size", "compare act in shared": "act",
    "train shift NaN": "shift", "train shift huge": "shift", "train shift string": "shift",
    "smoothed loss over 0 epochs": "last",
    "compare mapping without act": "act", "compare rng per run": "rng",
    "sweep fn not callable": "fn", "sweep empty axis": "grid['a']",
    "sweep axis not a list": "grid['a']", "sweep no points": "grid",
    "sweep point sets rng": "rng", "sweep grid a string": "grid",
    "sweep executor invalid": "executor", "sweep progress string": "progress",
}


def test_every_case_names_what_it_checks():
    assert sorted(NAMED) == sorted(name for name, _ in CASES)


@pytest.mark.parametrize(("name", "call"), CASES, ids=[name for name, _ in CASES])
def test_invalid_arguments_raise_invalid_argument(name, call):
    with pytest.raises(InvalidArgument) as info:
        call()
    assert NAMED[name] in str(info.value), (name, str(info.value))
