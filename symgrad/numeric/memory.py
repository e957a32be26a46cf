"""Keep simulate's large arrays for the next call: :func:`reuse_memory`.

One ``simulate`` at width 1024, depth 50, batch 512 writes 600 MiB of memory it has
just allocated (the kept weights and φ' of every layer).  The kernel hands out fresh
pages zeroed, page by page, and on a virtual machine the host may have to back them
first: that costs a sizeable part of the run, and varies from call to call.  Inside
``with reuse_memory():`` the arrays of one call are handed to the next call made in
the same thread instead of being freed, so a loop of simulations touches fresh memory
once.  Everything is freed when the outermost block ends; outside such a block
nothing is kept after a call returns.

>>> from symgrad.numeric import simulate
>>> with reuse_memory():
...     runs = [simulate("tanh", width=64, depth=3, sigma_w=1.0, batch=8, rng=s)
...             for s in range(3)]
>>> len(runs)
3
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from symgrad.types import FloatArray

__all__ = ["reuse_memory"]

_LOCAL = threading.local()
_MOST = 24


@contextmanager
def reuse_memory() -> Iterator[None]:
    """While the block runs, large arrays of finished simulations in this thread are
    reused by the next ones instead of freed (module docstring).  Nests; results are
    unchanged (every reused array is fully overwritten before it is read)."""
    depth: int = getattr(_LOCAL, "depth", 0)
    if depth == 0:
        _LOCAL.free = []
    _LOCAL.depth = depth + 1
    try:
        yield
    finally:
        _LOCAL.depth = depth
        if depth == 0:
            _LOCAL.free = []


def take(size: int) -> FloatArray:
    """A flat float64 array of ``size`` elements (contents undefined): a kept one when
    :func:`reuse_memory` holds one large enough, else a new one."""
    free: list[FloatArray] | None = getattr(_LOCAL, "free", None)
    if free:
        fits = [k for k, arr in enumerate(free) if arr.size >= size]
        if fits:
            best = min(fits, key=lambda k: free[k].size)
            return free.pop(best)[:size]
        # Sizes are growing (a sweep over depth or width): what is kept now is too small
        # for this call and will be for later ones; let it go rather than pile it up.
        free[:] = [arr for arr in free if arr.size >= size]
    return np.empty(size)


def carve(flat: FloatArray, shapes: list[tuple[int, int]]) -> list[FloatArray]:
    """Consecutive contiguous views of ``flat``, one of each shape, in order."""
    ends = np.cumsum([0] + [m * n for m, n in shapes]).tolist()
    return [flat[lo:hi].reshape(shape)
            for lo, hi, shape in zip(ends[:-1], ends[1:], shapes, strict=True)]


def give(*arrays: FloatArray | None) -> None:
    """Hand arrays from :func:`take` back once nothing refers to them any more (kept
    for reuse inside :func:`reuse_memory`, dropped otherwise)."""
    free: list[FloatArray] | None = getattr(_LOCAL, "free", None)
    if free is None or getattr(_LOCAL, "depth", 0) == 0:
        return
    for arr in arrays:
        if arr is not None:
            base = arr if arr.base is None else arr.base
            free.append(base if isinstance(base, np.ndarray) else arr)
    # A simulation takes at most ten arrays; never keep more than a few calls' worth.
    if len(free) > _MOST:
        free.sort(key=lambda arr: arr.size)
        del free[: len(free) - _MOST]
