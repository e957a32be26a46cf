"""Architectures written as text: ``parse_network``, the command line's ``--arch``.

The text is the architecture's own ``str()`` (so ``parse_network(str(net)) == net``),
read by a small recursive-descent parser — never ``eval``:

.. code-block:: text

    spec    := call
    call    := NAME "(" [arg ("," arg)*] ")"
    arg     := NAME "=" value | value
    value   := call | expr | NAME             (a bare NAME: an activation or init name)
    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary)*
    unary   := ("+" | "-") unary | power
    power   := atom (("^" | "**") unary)?
    atom    := NUMBER | "L" | "pi" | "sqrt" "(" expr ")" | "(" expr ")"

Calls: the blocks ``dense``, ``activation``, ``layernorm``, ``batchnorm``, ``residual``,
``serial``, ``repeat`` and the recipes of :mod:`.recipes` (``mlp``, ``resnet``,
``pre_ln``, ``post_ln``, ``bn_mlp``, ``rezero``, ``fixup``), with their own positional
and keyword arguments; ``NAME(k=v, …)`` of an activation family gives its parameters
(``activation(leaky_relu(alpha=0.2))``).  Numbers are exact as written (0.1 is 1/10);
``L`` is the depth symbol.  Limits: 4000 characters, nesting 32 deep, exponents of
magnitude at most 64.

>>> net = parse_network("repeat(residual(serial(dense(1.0), activation(relu)), scale=0.5), 50)")
>>> str(net)
'repeat(residual(serial(dense(1), activation(relu)), scale=1/2), 50)'
>>> str(parse_network("pre_ln(gelu, 12, scale=1/sqrt(L))"))
'repeat(residual(serial(layernorm(), activation(gelu), dense(1)), scale=1/sqrt(L)), 12)'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NoReturn

import sympy

from symgrad.activations import activation as registered_activation
from symgrad.activations import activation_names
from symgrad.errors import InvalidArgument
from symgrad.networks import recipes
from symgrad.networks.blocks import (
    Block,
    L,
    activation,
    batchnorm,
    dense,
    layernorm,
    repeat,
    residual,
    serial,
)

__all__ = ["CALLS", "parse_network"]

_MAX_TEXT, _MAX_NESTING, _MAX_EXPONENT, _MAX_DIGITS = 4000, 32, 64, 40
_MAX_BITS = 400  # numbers stay within about 1e±120 while they are built

#: What a spec may call, by name.
CALLS: dict[str, Callable[..., Block]] = {
    "dense": dense, "activation": activation, "layernorm": layernorm, "batchnorm": batchnorm,
    "residual": residual, "serial": serial, "repeat": repeat,
    "mlp": recipes.mlp, "resnet": recipes.resnet, "pre_ln": recipes.pre_ln,
    "post_ln": recipes.post_ln, "bn_mlp": recipes.bn_mlp, "rezero": recipes.rezero,
    "fixup": recipes.fixup,
}

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
                    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)|(?P<op>\*\*|[-+*/^(),=]))")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        at = 0
        while text[at:].strip():
            m = _TOKEN.match(text, at)
            if m is None:
                self.fail(f"unexpected character {text[at:].lstrip()[:1]!r}",
                          len(text) - len(text[at:].lstrip()))
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind), m.start(kind)))
            at = m.end()
        self.i = 0
        self.nesting = 0

    def fail(self, message: str, at: int | None = None) -> NoReturn:
        where = len(self.text) if at is None else at
        raise InvalidArgument(f"architecture spec: {message} at character {where + 1} of"
                              f" {self.text[:60]!r}{'…' if len(self.text) > 60 else ''}")

    def peek(self, offset: int = 0) -> tuple[str, str, int]:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else ("end", "", len(self.text))

    def take(self, value: str | None = None, kind: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if (value is not None and tok[1] != value) or (kind is not None and tok[0] != kind):
            want = repr(value) if value is not None else f"a {kind}"
            self.fail(f"expected {want}, found {tok[1]!r}" if tok[0] != "end"
                      else f"expected {want}, found the end", tok[2])
        self.i += 1
        return tok

    def deeper(self) -> None:
        self.nesting += 1
        if self.nesting > _MAX_NESTING:
            self.fail(f"nested more than {_MAX_NESTING} deep", self.peek()[2])

    # ---- calls ----

    def call(self) -> Any:
        _kind, name, at = self.take(kind="name")
        self.take("(")
        self.deeper()
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        if self.peek()[1] != ")":
            while True:
                if self.peek()[0] == "name" and self.peek(1)[1] == "=":
                    key = self.take()[1]
                    self.take("=")
                    if key in kwargs:
                        self.fail(f"{key}= given twice", self.peek()[2])
                    kwargs[key] = self.value()
                else:
                    if kwargs:
                        self.fail("a positional argument after a keyword one", self.peek()[2])
                    args.append(self.value())
                if self.peek()[1] != ",":
                    break
                self.take(",")
        self.take(")")
        self.nesting -= 1
        if name in CALLS:
            try:
                return CALLS[name](*args, **kwargs)
            except TypeError as exc:
                self.fail(f"{name}(…): {exc}", at)
        if name in activation_names():
            if args:
                self.fail(f"parameters of {name} are named, e.g. {name}(alpha=0.2)", at)
            return registered_activation(name, **kwargs)
        self.fail(f"unknown name {name!r}; calls: {', '.join(sorted(CALLS))}", at)

    def value(self) -> Any:
        kind, text, _ = self.peek()
        if kind == "name" and self.peek(1)[1] == "(" and text != "sqrt":
            return self.call()
        if kind == "name" and text not in ("L", "pi", "sqrt"):
            self.take()
            return text
        out = self.expr()
        # Whole numbers as Python ints: depths, batch sizes and m are counts.
        return int(out) if out.is_Integer else out

    # ---- arithmetic ----

    def sized(self, value: sympy.Expr, at: int) -> sympy.Expr:
        """``value``, refused when a number grows beyond about 1e±120 (so that a spec
        cannot make SymPy build a huge integer)."""
        if value.is_Rational:
            big = max(abs(value.p).bit_length(), abs(value.q).bit_length()) > _MAX_BITS
        elif value.is_number:
            size = abs(sympy.N(value, 5))
            big = size != 0 and not sympy.Float("1e-120") < size < sympy.Float("1e120")
        else:
            big = False
        if big:
            self.fail("a number beyond 1e±120", at)
        return value

    def expr(self) -> sympy.Expr:
        out = self.term()
        while self.peek()[1] in ("+", "-"):
            op, at = self.take()[1], self.peek()[2]
            rhs = self.term()
            out = self.sized(out + rhs if op == "+" else out - rhs, at)
        return out

    def term(self) -> sympy.Expr:
        out = self.unary()
        while self.peek()[1] in ("*", "/"):
            op, at = self.take()[1], self.peek()[2]
            rhs = self.unary()
            if op == "/" and rhs == 0:
                self.fail("division by zero", at)
            out = self.sized(out * rhs if op == "*" else out / rhs, at)
        return out

    def unary(self) -> sympy.Expr:
        if self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            inner = self.unary()
            return inner if op == "+" else -inner
        return self.power()

    def power(self) -> sympy.Expr:
        base = self.atom()
        if self.peek()[1] in ("^", "**"):
            at = self.take()[2]
            exponent = self.unary()
            if not exponent.is_number or abs(exponent) > _MAX_EXPONENT:
                self.fail(f"exponents must be numbers of magnitude at most {_MAX_EXPONENT}", at)
            return self.sized(base**exponent, at)
        return base

    def atom(self) -> sympy.Expr:
        kind, text, at = self.take()
        if kind == "num":
            if len(text) > _MAX_DIGITS:
                self.fail(f"a number longer than {_MAX_DIGITS} characters", at)
            return self.sized(sympy.Rational(text), at)
        if text == "L":
            return L
        if text == "pi":
            return sympy.pi
        if text in ("sqrt", "("):
            if text == "sqrt":
                self.take("(")
            self.deeper()
            inner = self.expr()
            self.take(")")
            self.nesting -= 1
            return sympy.sqrt(inner) if text == "sqrt" else inner
        self.fail(f"expected a number, L, pi, sqrt(…) or (…), found {text or 'the end'!r}", at)


def parse_network(text: str) -> Block:
    """The architecture written in ``text`` (module docstring); InvalidArgument saying
    where the text is wrong otherwise."""
    if not isinstance(text, str):
        raise InvalidArgument(f"an architecture spec is text, got {type(text).__name__}")
    if len(text) > _MAX_TEXT:
        raise InvalidArgument(f"architecture spec longer than {_MAX_TEXT} characters")
    if not text.strip():
        raise InvalidArgument("architecture spec is empty; e.g. 'mlp(tanh, 20)'")
    parser = _Parser(text)
    if parser.peek()[0] != "name" or parser.peek(1)[1] != "(":
        parser.fail("a spec starts with a call such as repeat(…) or mlp(…)", parser.peek()[2])
    out = parser.call()
    if parser.peek()[0] != "end":
        parser.fail(f"unexpected {parser.peek()[1]!r} after the architecture", parser.peek()[2])
    if not isinstance(out, Block):
        parser.fail("the spec is not an architecture", 0)
    return out
