"""Argument helpers shared by the sub-commands: activation name + ``--param KEY=VALUE``."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from typing import Any

from symgrad.activations.record import Activation
from symgrad.activations.registry import activation
from symgrad.errors import InvalidArgument

__all__ = ["activation_from_args", "decimal_number", "parse_params"]

# Magnitudes a command line number may have: the float64 range (what the
# numeric layer can hold, down to its smallest subnormal 4.9e-324; exact work on
# 1e-4000 already takes minutes and 1e-999999999 builds a billion-digit integer).
_LARGEST = Decimal("1.7976931348623157e308")
_MIN_EXPONENT = -324


def decimal_number(text: str, name: str) -> Decimal:
    """A finite decimal number typed on the command line (kept exact)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidArgument(f"{name} must be a number, got {text!r}") from None
    if not value.is_finite():
        raise InvalidArgument(f"{name} must be finite, got {text!r}")
    if abs(value) > _LARGEST:
        raise InvalidArgument(f"{name} must be at most 1.79e308 in magnitude, got {text!r}")
    if value != 0 and value.adjusted() < _MIN_EXPONENT:
        raise InvalidArgument(
            f"{name} must be 0 or at least 1e{_MIN_EXPONENT} in magnitude, got {text!r}")
    return value


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
