"""What is φ?  The activation record, the catalogue and the registry.

:mod:`~symgrad.activations.record` (the frozen :class:`Activation` with its pieces,
kinks, derivatives and evaluators), :mod:`~symgrad.activations.catalogue` (the
built-in entries), :mod:`~symgrad.activations.registry` (by name, yours included) and
:mod:`~symgrad.activations.kernels` (stable float64 φ and φ').

>>> from symgrad.activations import activation
>>> activation("relu").one_sided_derivatives(0)
(0, 1)
"""

from symgrad._core.symbols import z
from symgrad.activations.record import Activation, Kink, Param, Piece, one_sided_limit
from symgrad.activations.registry import (
    activation,
    activation_names,
    as_activation,
    register_activation,
    unregister_activation,
)

__all__ = [
    "Activation",
    "Kink",
    "Param",
    "Piece",
    "activation",
    "activation_names",
    "as_activation",
    "one_sided_limit",
    "register_activation",
    "unregister_activation",
    "z",
]
