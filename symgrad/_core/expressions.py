"""Exact numbers from text: ``5/3``, ``sqrt(2)``, ``2^-3``, ``1e-3`` (kept exact), ``pi/4``.

The one reader of typed numbers — the command line's options and the claims files' values.
Text is parsed with Python's ``ast`` into an exact SymPy number and nothing is evaluated as
code; the vocabulary is + − * / ^ (or **), parentheses, sqrt, exp, log, ln, tanh, erf, pi
and E.  Sizes are checked before anything is built: a literal or an intermediate result
beyond 10^±400 is refused (``10^10^10`` would otherwise build ten billion digits), and the
result must be a finite real within the float64 range.

>>> number("5/3", "x"), number("sqrt(2)", "x"), number("0.1", "x"), number("2^-3", "x")
(5/3, sqrt(2), 1/10, 1/8)
"""

from __future__ import annotations

import ast
import math
from decimal import Decimal

import sympy

from symgrad.errors import InvalidArgument

__all__ = ["number"]

# Magnitudes a typed number may have: the float64 range (what the
# numeric layer can hold, down to its smallest subnormal 4.9e-324; exact work on
# 1e-4000 already takes minutes and 1e-999999999 builds a billion-digit integer).
_LARGEST = Decimal("1.7976931348623157e308")
_MIN_EXPONENT = -324
#: Decimal exponents an intermediate result may reach (checked before it is built).
_MAX_LOG10 = 400
_MAX_TEXT = 200
_FUNCTIONS = {"sqrt": sympy.sqrt, "exp": sympy.exp, "log": sympy.log, "ln": sympy.log,
              "tanh": sympy.tanh, "erf": sympy.erf}
_CONSTANTS = {"pi": sympy.pi, "E": sympy.E}
_BINARY = {ast.Add: sympy.Add, ast.Sub: lambda a, b: a - b, ast.Mult: sympy.Mul,
           ast.Div: lambda a, b: a / b}
_SYNTAX = ("numbers, + - * / ^ ( ), " + ", ".join(sorted(_FUNCTIONS)) + ", pi, E; e.g. "
           "5/3 or sqrt(2)")


def _log10(value: sympy.Expr) -> float:
    approx = complex(sympy.N(value, 15))
    return math.log10(abs(approx)) if approx != 0 else -math.inf


def _evaluate(node: ast.AST, text: str, name: str) -> sympy.Expr:
    def bad(why: str) -> InvalidArgument:
        return InvalidArgument(f"{name} must be a number ({_SYNTAX}); {why}: {text!r}")

    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
            and not isinstance(node.value, bool):
        literal = ast.get_source_segment(text, node) or repr(node.value)
        if len(literal.replace("_", "")) > _MAX_LOG10:
            raise bad("a literal that long")
        try:
            exact = Decimal(literal.replace("_", ""))
        except ArithmeticError:
            raise bad("unreadable literal") from None
        if not exact.is_finite():
            raise bad("not a finite number")
        if exact and exact.adjusted() > _MAX_LOG10:  # refused before its digits are built
            raise InvalidArgument(f"{name} must be at most 1.79e308 in magnitude, got {text!r}")
        if exact and exact.adjusted() < -_MAX_LOG10:
            raise InvalidArgument(
                f"{name} must be 0 or at least 1e{_MIN_EXPONENT} in magnitude, got {text!r}")
        return sympy.Rational(str(exact))
    if isinstance(node, ast.Name):
        if node.id.lower() in ("nan", "inf", "infinity", "oo"):
            raise InvalidArgument(f"{name} must be a finite real number, got {text!r}")
        if node.id not in _CONSTANTS:
            raise bad(f"unknown name {node.id!r}")
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        inner = _evaluate(node.operand, text, name)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, text, name), _evaluate(node.right, text, name)
        if isinstance(node.op, ast.Pow | ast.BitXor):  # 2^3 means 2**3, as in the claims
            size = _log10(left) * float(sympy.N(abs(right), 15)) if left != 0 else 0.0
            if not math.isfinite(size) or abs(size) > _MAX_LOG10:
                raise bad(f"a power beyond 1e±{_MAX_LOG10}")
            return sympy.Pow(left, right)
        op = _BINARY.get(type(node.op))
        if op is None:
            raise bad("an operator outside + - * / ^")
        if isinstance(node.op, ast.Div) and right == 0:
            raise bad("division by zero")
        result = op(left, right)
        if result != 0 and abs(_log10(result)) > _MAX_LOG10:
            raise bad(f"an intermediate result beyond 1e±{_MAX_LOG10}")
        return sympy.sympify(result)
    if isinstance(node, ast.Call) and not node.keywords and len(node.args) == 1:
        called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        function = _FUNCTIONS.get(called)
        if function is None:
            raise bad(f"unknown function {called!r}")
        return sympy.sympify(function(_evaluate(node.args[0], text, name)))
    raise bad("not an arithmetic expression")


def number(text: str, name: str) -> sympy.Expr:
    """A finite real number written as text, exact (see the module docstring)."""
    source = text.strip()
    if not source:
        raise InvalidArgument(f"{name} must be a number, got {text!r}")
    if len(source) > _MAX_TEXT:
        raise InvalidArgument(f"{name} must be at most {_MAX_TEXT} characters, got "
                              f"{len(source)}")
    written = source.replace("^", "**") if "**" not in source else source  # 2^3 is 2**3
    try:
        tree = ast.parse(written, mode="eval")
    except SyntaxError:
        raise InvalidArgument(f"{name} must be a number ({_SYNTAX}), got {text!r}") from None
    value = _evaluate(tree.body, written, name)
    if value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo) or value.is_real is False \
            or not value.is_number:
        raise InvalidArgument(f"{name} must be a finite real number, got {text!r}")
    approx = sympy.N(value, 30)
    if not approx.is_real or not approx.is_finite:
        raise InvalidArgument(f"{name} must be a finite real number, got {text!r}")
    if abs(approx) > sympy.Float(str(_LARGEST), 30):
        raise InvalidArgument(f"{name} must be at most 1.79e308 in magnitude, got {text!r}")
    if approx != 0 and abs(approx) < sympy.Float(10, 30) ** _MIN_EXPONENT:
        raise InvalidArgument(
            f"{name} must be 0 or at least 1e{_MIN_EXPONENT} in magnitude, got {text!r}")
    return value
