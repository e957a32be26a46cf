"""The ``symgrad`` command (see :mod:`symgrad.cli.main`)."""

from symgrad.cli.main import emit, main

__all__ = ["emit", "main"]
