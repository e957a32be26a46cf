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

__all__ = [
    "Activation",
    "InvalidArgument",
    "NoClosedForm",
    "SymgradError",
    "activation",
    "activation_names",
    "register_activation",
    "unregister_activation",
    "z",
]
