"""The ``symgrad`` command line: :func:`main`, one module per sub-command.

>>> from symgrad.cli import main
>>> main(["list", "--json"]) == 0  # doctest: +ELLIPSIS
[...
True
"""

from symgrad.cli.main import main

__all__ = ["main"]
