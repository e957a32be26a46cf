"""The exceptions symgrad raises.

Every argument symgrad refuses raises :class:`InvalidArgument`, which is also a
:class:`ValueError`, with a message that says what was wrong and what is allowed.

>>> from symgrad.errors import InvalidArgument
>>> issubclass(InvalidArgument, ValueError)
True
"""

from __future__ import annotations

__all__ = ["InvalidArgument", "NoClosedForm", "SymgradError"]


class SymgradError(Exception):
    """Base class of every exception symgrad raises on purpose."""


class InvalidArgument(SymgradError, ValueError):
    """An argument is outside what the function accepts; the message says what is allowed."""


class NoClosedForm(InvalidArgument):
    """A quantity has no closed form symgrad can derive, and no certified number was asked for
    or could be certified (the message says which).

    It is an :class:`InvalidArgument`: the arguments ask for something outside what symgrad
    can decide (an activation whose tails it cannot bound, say), so one ``except
    InvalidArgument`` catches every refusal."""
