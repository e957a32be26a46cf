"""symgrad: the vanishing and exploding gradient problem, made exact."""

from symgrad.activations import (
    Activation,
    activation,
    activation_names,
    register_activation,
    unregister_activation,
    z,
)
from symgrad.errors import InvalidArgument, NoClosedForm, SymgradError
from symgrad.numeric import Simulation, compare, crosscheck, simulate, sweep, train

__all__ = [
    "Activation",
    "InvalidArgument",
    "NoClosedForm",
    "Simulation",
    "SymgradError",
    "activation",
    "activation_names",
    "compare",
    "crosscheck",
    "register_activation",
    "simulate",
    "sweep",
    "train",
    "unregister_activation",
    "z",
]
