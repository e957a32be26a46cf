"""What is φ?  The activation record, the catalogue and the registry.

>>> from symgrad.activations import activation
>>> activation("relu").one_sided_derivatives(0)
(0, 1)
"""

from symgrad.activations.record import (
    Activation,
    Kink,
    Param,
    Piece,
    activation,
    activation_names,
    as_activation,
    one_sided_limit,
    register_activation,
    unregister_activation,
    z,
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
