"""Argument helpers shared by the sub-commands: numbers, activation name + ``--param``.

Numbers are typed as the API takes them: decimals (``0.1``, ``1e-3``, kept exact),
fractions and expressions (``5/3``, ``sqrt(2)``, ``2^-3``, ``exp(1)/2``, ``pi``), read by
:func:`symgrad._core.expressions.number` (the claims files' reader too); nothing is
evaluated as code.
"""

from __future__ import annotations

import argparse
from typing import Any

import sympy

from symgrad._core.expressions import number
from symgrad.activations.record import Activation
from symgrad.activations.registry import activation
from symgrad.errors import InvalidArgument

__all__ = ["activation_from_args", "decimal_number", "number", "parse_params"]

def decimal_number(text: str, name: str) -> sympy.Expr:
    """:func:`number` (the name the sub-commands have always called)."""
    return number(text, name)


def parse_params(items: list[str]) -> dict[str, Any]:
    """``--param KEY=VALUE`` items as a dict of exact decimals; a repeated key is refused."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidArgument(f"--param takes KEY=VALUE, got {item!r}")
        if key in params:
            raise InvalidArgument(f"--param {key} is given twice")
        params[key] = decimal_number(value, f"--param {key}")
    return params


def activation_from_args(args: argparse.Namespace) -> Activation:
    """The activation named on the command line, with its ``--param`` values."""
    if not args.name.strip():
        raise InvalidArgument("NAME must not be empty; `symgrad list` shows the activations")
    return activation(args.name, **parse_params(args.param))
