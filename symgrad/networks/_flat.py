"""The float recursion through one block as one straight-line Python function.

:mod:`._recursion` compiles a block into nested closures, one per layer, that pass
:class:`~._recursion.Out` records up and down (one code path for floats and SymPy).  In
float mode the same arithmetic can run as one flat function: :func:`flat_step` writes
every rule's operations, in the same order and with the same operands (the same
integer and float constants, ``0 * k`` and ``1 * χ`` included), as lines of one
function per block, so each block costs one call instead of one per layer and record,
and every float it returns is bit for bit the closures' float.

What is static in a walk is resolved while writing: whether the cross moment C is
tracked, whether the input is Gaussian (and so each layer's kind of output), and which
layer is the last dense one.  A block this writer does not cover (a nested ``repeat``,
a symbolic walk) gets None, and the walk calls the closures as before.

>>> from symgrad.networks._recursion import Numbers, run
>>> from symgrad.networks.blocks import activation, dense, layernorm, residual, serial
>>> block = residual(serial(layernorm(), activation("tanh"), dense(1)), scale=1 / 2)
>>> num = Numbers()
>>> fn = flat_step(block, True, True, num)
>>> fn(1.5, 0.0, 0.25, 0.0) == run(block, (1.5, 0.0, 0.25, True, 0.0), num)
True
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from symgrad.errors import InvalidArgument
from symgrad.networks._asymptotics import Q_SMALL
from symgrad.networks._gaussian import STEP, T_MAX, GaussianMaps, gaussian_maps
from symgrad.networks._recursion import Numbers, Out, Step, bn_finite_batch
from symgrad.networks.blocks import Activate, BatchNorm, Block, Dense, LayerNorm, Residual, Serial

__all__ = ["flat_step"]


class _Unsupported(Exception):
    """A block the writer does not cover (the closures run it)."""


#: What a written layer leaves in variables: (K, M, C or None, Gaussian?, error), χ,
#: χ's error, the weight term, and the last dense layer's pair (or None).
_Result = tuple[tuple[str, str, str | None, bool, str], str, str, str, tuple[str, str] | None]


class _Writer:
    def __init__(self, num: Numbers) -> None:
        self.num = num
        self.lines: list[str] = []
        # math's names first: closed forms are written in place as math_function's line.
        self.names: dict[str, Any] = {name: value for name, value in vars(math).items()
                                      if not name.startswith("_")}
        # new(Out, fields) is Out(*fields) without the namedtuple's Python-level __new__.
        self.names |= {"Out": Out, "new": tuple.__new__, "InvalidArgument": InvalidArgument,
                       "abs": abs, "isfinite": math.isfinite}
        self.count = 0

    def var(self, expr: str) -> str:
        self.count += 1
        name = f"v{self.count}"
        self.lines.append(f"{name} = {expr}")
        return name

    def const(self, value: Any) -> str:
        self.count += 1
        name = f"c{self.count}"
        self.names[name] = value
        return name

    def write(self, b: Block, gaussian: bool, ins: tuple[str, str, str | None, str]) -> _Result:
        # The closures compile first: their checks (a φ needs a Gaussian input) raise the
        # same errors, and they set the same flags (quadrature tables in use).
        self.num.step(b, gaussian)
        rule = _RULES.get(type(b))
        if rule is None:
            raise _Unsupported(type(b).__name__)
        return rule(self, b, gaussian, ins)


def _dense(w: _Writer, b: Dense, gaussian: bool, ins: tuple[str, str, str | None, str]
           ) -> _Result:
    k, _, c, err = ins
    num = w.num
    v = w.const(b.init.factor * num.param(b.sigma_w) ** 2)
    b2 = w.const(num.param(b.sigma_b) ** 2)
    out_k = w.var(f"{v} * {k} + {b2}")
    out_m = w.var(f"0 * {k}")
    out_c = None if c is None else w.var(f"{v} * {c} + {b2}")
    return (out_k, out_m, out_c, True, err), v, w.var("0.0"), k, (w.var("1.0"), out_k)


def _activate(w: _Writer, b: Activate, gaussian: bool, ins: tuple[str, str, str | None, str]
              ) -> _Result:
    k, _, c, err = ins
    maps = gaussian_maps(b.act)
    label = w.const(str(b))
    at = w.const(maps.at)
    w.lines.append(f"if not {k} > 0:\n    raise InvalidArgument(f'{{{label}}} got an input of"
                   f" second moment {{{k}!r}}: nothing to act on')")
    if maps._float is not None:
        # Closed forms: GaussianMaps.at's own calls, without the call to at (which still
        # raises its error for an infinite K).
        w.lines.append(f"if not isfinite({k}):\n    {at}({k})")
        v, s, mean = (_closed_form(w, f, k) for f in maps._float[:3])
        e = w.var("4e-16")
    else:
        v, s, mean, e = _table_lookup(w, maps, at, k)
    if c is None:
        pair, pair_err = None, w.var("0.0")
    else:
        fn = w.const(maps.pair)
        value, perr = w.var("0.0"), w.var("0.0")
        ratio = w.var(f"{c} / {k}")
        upper = w.var(_min2("1.0", ratio))
        w.lines.append(f"{value}, {perr} = {fn}({k}, {_max2('-1.0', upper)})")
        pair = value
        size = w.var(f"abs({value})")
        pair_err = w.var(f"{perr} / {_max2(size, '1e-300')}")
    out_err = w.var(f"{err} + {e} + {pair_err}")
    return ((v, mean, pair, False, out_err), s, w.var(f"{err} + {e}"), w.var(f"0 * {k}"),
            None)


def _min2(a: str, b: str) -> str:
    """``min(a, b)`` of two variables without the builtin's iterator: b only when b < a
    (the builtin keeps the first of equals and a NaN first argument)."""
    return f"({b} if {b} < {a} else {a})"


def _max2(a: str, b: str) -> str:
    """``max(a, b)`` likewise: b only when b > a."""
    return f"({b} if {b} > {a} else {a})"


def _closed_form(w: _Writer, fn: Callable[..., float], k: str) -> str:
    """A closed-form map at K: its one line of Python (``math_function``'s source, run
    in the same ``math`` namespace) written in place, else a call."""
    found = re.fullmatch(r"def _closed_form\((\w+)\):\n    return (.+)\n", fn.__doc__ or "")
    if found is None:
        return w.var(f"{w.const(fn)}({k})")
    arg, body = found.groups()
    at_k = re.sub(rf"\b{arg}\b", k, body)
    return w.var(f"({at_k})")


def _table_lookup(w: _Writer, maps: GaussianMaps, at: str, k: str
                  ) -> tuple[str, str, str, str]:
    """A numeric map at K > 0: ``GaussianMaps.at``'s table read written in place (the
    same operations on the same chunk row: ln K, its chunk and interval, three Horner
    sums), for K in the table's range; ``at`` itself below it (the expansion at 0) and
    for what it refuses (K = ∞, beyond the table)."""
    table = maps._table
    if table is None:  # pragma: no cover - numeric maps always have a table
        return _four(w, at, k)
    v, s, m, e = names = tuple(w.var("0.0") for _ in range(4))
    chunks, fill = w.const(table.chunks), w.const(table.chunk)
    t, kk, x, j, row = (f"{n}{w.count}" for n in ("t", "kk", "x", "j", "row"))

    def horner(at: int) -> str:  # _gaussian._horner's sum
        return "".join(f"{row}[{at + i}] + s_ * (" for i in range(5)) + f"{row}[{at + 5}]" + ")" * 5

    w.lines.append("\n".join((
        f"{t} = log({k})",
        f"if {k} >= {Q_SMALL!r} and {t} < {T_MAX!r}:",
        f"    {kk} = floor({t})",
        f"    ch_ = {chunks}.get({kk})",
        "    if ch_ is None:",
        f"        ch_ = {fill}({kk})",
        f"    {x} = ({t} - {kk}) * {STEP!r}",
        f"    {j} = int({x})",
        f"    if {j} > {STEP - 1!r}:",
        f"        {j} = {STEP - 1!r}",
        f"    s_ = {x} - {j}",
        f"    {row} = ch_.rows[{j}]",
        f"    {v} = {horner(0)}",
        f"    {s} = {horner(6)}",
        f"    {m} = {horner(12)}",
        f"    {e} = ch_.error",
        "else:",
        f"    {', '.join(names)} = {at}({k})")))
    return names  # type: ignore[return-value]


def _four(w: _Writer, at: str, k: str) -> tuple[str, str, str, str]:
    names = tuple(w.var("0.0") for _ in range(4))
    w.lines.append(f"{', '.join(names)} = {at}({k})")
    return names  # type: ignore[return-value]


def _layernorm(w: _Writer, b: LayerNorm, gaussian: bool,
               ins: tuple[str, str, str | None, str]) -> _Result:
    k, m, c, err = ins
    eps = w.const(w.num.param(b.eps))
    var = w.var(f"{k} - {m} * {m}")
    w.lines.append(f"if not {var} > 0:\n    raise InvalidArgument('layernorm of a constant"
                   " vector (zero variance over the units)')")
    denom = w.var(f"{var} + {eps}")
    out_c = None if c is None else w.var(f"({c} - {m} * {m}) / {denom}")
    return ((w.var(f"{var} / {denom}"), w.var(f"0 * {k}"), out_c, gaussian, err),
            w.var(f"1 / {denom}"), err, w.var(f"0 * {k}"), None)


def _batchnorm(w: _Writer, b: BatchNorm, gaussian: bool,
               ins: tuple[str, str, str | None, str]) -> _Result:
    k, _, c, err = ins
    if c is None:  # pragma: no cover - predict tracks C whenever a batchnorm is present
        raise _Unsupported("batchnorm without C")
    eps = w.const(w.num.param(b.eps))
    factor = w.const(bn_finite_batch(b.batch, False))
    var = w.var(f"{k} - {c}")
    w.lines.append(f"if not {var} > 0:\n    raise InvalidArgument('batchnorm of inputs"
                   " identical across the batch (zero variance)')")
    denom = w.var(f"{var} + {eps}")
    out_k = w.var(f"{var} / {denom}")
    out_c = (w.var(f"0 * {k}") if b.batch is None
             else w.var(f"-{out_k} / {w.const(b.batch - 1)}"))
    return ((out_k, w.var(f"0 * {k}"), out_c, gaussian, err), w.var(f"{factor} / {denom}"),
            err, w.var(f"0 * {k}"), None)


def _serial(w: _Writer, b: Serial, gaussian: bool, ins: tuple[str, str, str | None, str]
            ) -> _Result:
    k, m, c, err = ins
    outs: list[_Result] = []
    for layer in b.layers:
        o = w.write(layer, gaussian, (k, m, c, err))
        outs.append(o)
        (k, m, c, gaussian, err) = o[0]
    # _recursion._chain: χ from 1 and w from 0 (integers), the last pair seen from the top.
    chi, chi_err, wt = w.var("1"), w.var("0.0"), w.var("0")
    last: tuple[str, str] | None = None
    for o in reversed(outs):
        if last is None and o[4] is not None:
            last = (w.var(f"{chi} * {o[4][0]}"), o[4][1])
        wt = w.var(f"{wt} + {chi} * {o[3]}")
        chi = w.var(f"{chi} * {o[1]}")
        chi_err = w.var(f"{chi_err} + {o[2]}")
    return outs[-1][0], chi, chi_err, wt, last


def _residual(w: _Writer, b: Residual, gaussian: bool, ins: tuple[str, str, str | None, str]
              ) -> _Result:
    k, m, c, err = ins
    s = w.const(w.num.param(b.scale))
    s2 = w.const(w.names[s] * w.names[s])
    (kb, mb, cb, branch_gaussian, eb), chi, chi_err, wt, last = w.write(b.branch, gaussian, ins)
    out_k = w.var(f"{k} + {s2} * {kb} + 2 * {s} * {m} * {mb}")
    out_m = w.var(f"{m} + {s} * {mb}")
    out_c = None if c is None else w.var(f"{c} + {s2} * {cb}")
    out_err = w.var(_max2(err, eb))
    pair = None if last is None else (w.var(f"{s2} * {last[0]}"), last[1])
    return ((out_k, out_m, out_c, gaussian and branch_gaussian, out_err),
            w.var(f"1 + {s2} * {chi}"), chi_err, w.var(f"{s2} * {wt}"), pair)


_RULES: dict[type, Callable[[_Writer, Any, bool, tuple[str, str, str | None, str]], _Result]] = {
    Dense: _dense, Activate: _activate, LayerNorm: _layernorm, BatchNorm: _batchnorm,
    Serial: _serial, Residual: _residual,
}


#: Flat functions written so far, per (block, input kind, C tracked?, depth); None for a
#: block the writer does not cover.  Cleared when it grows past 64 entries.
_WRITTEN: dict[tuple[Block, bool, bool, int | None], Step | None] = {}


def flat_step(block: Block, gaussian: bool, tracks_c: bool, num: Numbers, *,
              write: bool = True) -> Step | None:
    """``block`` (float mode) as one function of (K, M, C, error) → Out, equal to
    ``num.step(block, gaussian)``'s float for float; None where not covered, and (with
    ``write=False``) when it has not been written yet.  Written once per (block, input
    kind, C tracked?, depth) and kept: a later ``predict`` of the same architecture
    reuses it."""
    if num.symbolic:
        return None
    num.step(block, gaussian)  # the closures' checks and flags, for this walk
    key = (block, gaussian, tracks_c, num.depth)
    if key in _WRITTEN:
        return _WRITTEN[key]
    if not write:
        return None
    if len(_WRITTEN) >= 64:
        _WRITTEN.clear()
    fn = _WRITTEN[key] = _flat(block, gaussian, tracks_c, num.depth)
    return fn


def _flat(block: Block, gaussian: bool, tracks_c: bool, depth: int | None) -> Step | None:
    w = _Writer(Numbers(depth=depth))
    try:
        (k, m, c, g, err), chi, chi_err, wt, last = w.write(
            block, gaussian, ("k", "m", "c" if tracks_c else None, "err"))
    except _Unsupported:
        return None
    pair = "None" if last is None else f"({last[0]}, {last[1]})"
    body = "\n".join("    " + line.replace("\n", "\n    ") for line in w.lines)
    source = (f"def flat(k, m, c, err):\n{body}\n"
              f"    return new(Out, (({k}, {m}, {c}, {g}, {err}), {chi}, {chi_err}, {wt},"
              f" {pair}))\n")
    exec(compile(source, f"<symgrad flat step: {block}>", "exec"), w.names)
    fn: Step = w.names["flat"]
    fn.__doc__ = source  # the code it runs
    return fn
