"""One layer of a chain trace (:class:`ChainRow`) and the lazy sequence of a trace's rows,
each rebuilt on demand from a checkpoint (:mod:`symgrad.depth.trace`)."""

from __future__ import annotations

import numbers
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, overload

import mpmath
from flint import arb

from symgrad._core.validate import describe
from symgrad._exact.digits import CertifiedNumber
from symgrad.errors import InvalidArgument

__all__ = ["ChainRow", "Rows", "Traced"]


@dataclass(frozen=True)
class ChainRow:
    """One layer of a trace; every number is an ``mpmath.mpf`` rounded to the trace's dps.

    ``a`` is a_k (y_k for a residual chain), ``slope`` φ'(z_k), ``factor`` the local
    derivative ∂a_k/∂a_{k−1}, ``grad_a`` ∂L/∂a_k, ``grad_z`` ∂L/∂z_k, ``grad_w``
    ∂L/∂w_k, ``update`` −lr·∂L/∂w_k (``None`` without ``lr``) and ``log10_grad``
    log₁₀|∂L/∂a_k| (−∞ when the gradient is exactly 0).
    """

    layer: int
    z: mpmath.mpf
    a: mpmath.mpf
    slope: mpmath.mpf
    factor: mpmath.mpf
    grad_a: mpmath.mpf
    grad_z: mpmath.mpf
    grad_w: mpmath.mpf
    update: mpmath.mpf | None
    log10_grad: mpmath.mpf
    #: The Arb balls the numbers were rounded from (each provably holds the true value).
    balls: Mapping[str, arb] = field(default_factory=dict, repr=False, compare=False)
    #: Significant digits :meth:`enclosure` shows at most (the trace's dps).
    dps: int = field(default=30, repr=False, compare=False)

    def enclosure(self, name: str) -> CertifiedNumber:
        """The proven enclosure of one number (``"grad_a"``, ``"z"``, …); its ``text()``
        prints only the digits it proves.

        >>> from symgrad.depth.trace import chain_trace
        >>> row = chain_trace("sigmoid", depth=4, weight=0.1).rows[0]
        >>> row.enclosure("grad_a").text(12)
        '0.0000155937111680'
        """
        if name not in self.balls:
            known = ", ".join(sorted(self.balls))
            raise InvalidArgument(f"no enclosure named {name!r}; the row has {known}")
        return CertifiedNumber.from_arb(self.balls[name], max_digits=self.dps)


# ---- rows ----


class Rows(Sequence[ChainRow]):
    """The trace's rows, built on demand from checkpoints (a few segments cached)."""

    def __init__(self, trace: Traced) -> None:
        self._trace = trace
        self._cache: OrderedDict[int, list[ChainRow]] = OrderedDict()

    def __len__(self) -> int:
        return self._trace.depth

    @overload
    def __getitem__(self, i: int) -> ChainRow: ...

    @overload
    def __getitem__(self, i: slice) -> list[ChainRow]: ...

    def __getitem__(self, i: int | slice) -> ChainRow | list[ChainRow]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"row index must be an integer, got {describe(i)}")
        n = len(self)
        j = int(i) + n if i < 0 else int(i)
        if not 0 <= j < n:
            raise IndexError(f"row {i} out of range for depth {n}")
        return self._trace._row(j + 1)

    def __iter__(self) -> Iterator[ChainRow]:
        for k in range(1, len(self) + 1):
            yield self._trace._row(k)


class Traced(Protocol):
    """What :class:`Rows` needs of a trace: its depth and one row rebuilt on demand."""

    @property
    def depth(self) -> int: ...

    def _row(self, k: int) -> ChainRow: ...
