"""Argument helpers shared by the sub-commands: activation name + ``--param KEY=VALUE``."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from typing import Any

from symgrad.activations import Activation, activation
from symgrad.errors import InvalidArgument

__all__ = ["activation_from_args", "add_activation_arguments", "decimal_number"]


def add_activation_arguments(parser: argparse.ArgumentParser) -> None:
    """NAME and repeatable ``--param KEY=VALUE``."""
    parser.add_argument("name", metavar="NAME", help="activation name (see `symgrad list`)")
    parser.add_argument("--param", metavar="KEY=VALUE", action="append", default=[],
                        help="activation parameter (repeatable), e.g. alpha=0.2")


def decimal_number(text: str, name: str) -> Decimal:
    """A finite decimal number typed on the command line (kept exact)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidArgument(f"{name} must be a number, got {text!r}") from None
    if not value.is_finite():
        raise InvalidArgument(f"{name} must be finite, got {text!r}")
    return value


def activation_from_args(args: argparse.Namespace) -> Activation:
    """The activation named on the command line, with its ``--param`` values."""
    params: dict[str, Any] = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidArgument(f"--param takes KEY=VALUE, got {item!r}")
        params[key.strip()] = decimal_number(value, key.strip())
    return activation(args.name, **params)
