"""Does a network that runs agree?  The numeric layer.

NumPy float64, explicit ``rng`` (an int seed, ``SeedSequence`` or ``Generator``; no
global random state), backward passes written by hand and tested against finite
differences, loops over layers only (the cost is BLAS-bound).

=====================  =========================================================
module                 question
=====================  =========================================================
``mlp``                per-layer moments and gradient norms of a wide random MLP
``memory``             :func:`reuse_memory`: large arrays handed from call to call
``weights``            the initialisation schemes (:class:`Init`)
``chain``              the scalar chain in float64 (against ``chain_trace``)
``rnn``                vanilla RNNs and an LSTM cell through time
``training``           small SGD runs: does the sigmoid net's first layer move?
``checks``             formula versus simulation, with z·SE tolerances
``grid``               sweeps over a parameter grid on any ``Executor``
=====================  =========================================================

>>> from symgrad.numeric import simulate
>>> simulate("tanh", width=32, depth=2, sigma_w=1.0, batch=4, rng=0).grad_a_sq.shape
(2,)
"""

import importlib
from typing import Any

from symgrad.numeric.chain import ChainSimulation, simulate_chain
from symgrad.numeric.grid import Sweep, grid_points, sweep
from symgrad.numeric.memory import reuse_memory
from symgrad.numeric.mlp import Simulation, simulate
from symgrad.numeric.rnn import (
    LSTMSimulation,
    Readout,
    RNNSimulation,
    simulate_lstm,
    simulate_rnn,
)
from symgrad.numeric.training import Comparison, Training, compare, train
from symgrad.numeric.weights import Init, draw_weights, weight_variance

#: Names served by the checks layer above this package, loaded on first use (the checks
#: import every question, so importing them here would point upwards).
_CHECKS_LAYER = ("CHECKS", "CheckRow", "CrossCheck", "check_names", "crosscheck")


def __getattr__(name: str) -> Any:
    if name in _CHECKS_LAYER:
        return getattr(importlib.import_module("symgrad.numeric.checks"), name)
    raise AttributeError(f"module 'symgrad.numeric' has no attribute {name!r}")


__all__ = [
    "CHECKS",
    "ChainSimulation",
    "CheckRow",
    "Comparison",
    "CrossCheck",
    "Init",
    "LSTMSimulation",
    "RNNSimulation",
    "Readout",
    "Simulation",
    "Sweep",
    "Training",
    "check_names",
    "compare",
    "crosscheck",
    "draw_weights",
    "grid_points",
    "reuse_memory",
    "simulate",
    "simulate_chain",
    "simulate_lstm",
    "simulate_rnn",
    "sweep",
    "train",
    "weight_variance",
]
