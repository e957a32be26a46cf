"""Plumbing every question uses, and no mathematics.

``validate``: user arguments to exact numbers, sizes and enums, with
:class:`symgrad.errors.InvalidArgument` messages; ``format``: one way to write numbers
and formulas as text, LaTeX and JSON; ``symbols``: the SymPy symbols shared by every
question (``z``, ``EPSILON``).
"""
