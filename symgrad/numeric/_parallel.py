"""Row blocks on symgrad's threads, with NumPy's BLAS held to one thread meanwhile.

A simulated layer is a GEMM followed by elementwise work, and every row of the batch is
independent of the others.  On a machine with several cores :func:`row_blocks` cuts the
batch into a few contiguous blocks and :func:`run_blocks` runs one task per block on
symgrad's thread pool (NumPy releases the GIL in GEMM and ufuncs).  While that happens
:func:`blas_one_thread` holds the BLAS to one thread per call: otherwise its own worker
threads would compete with the blocks for the same cores (and OpenBLAS's idle workers
spin for a while after each call, slowing whatever runs next on their cores).

Reductions never depend on the cut: statistics are summed per row first and the row
totals are then summed in one fixed order, so only the GEMM calls themselves see the
block boundaries.

>>> row_blocks(10, 1)
[(0, 10)]
>>> run_blocks(lambda i, lo, hi: hi - lo, [(0, 4), (4, 10)])
[4, 6]
"""

from __future__ import annotations

import concurrent.futures
import functools
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import numpy as np
from threadpoolctl import OpenBLASController, ThreadpoolController

from symgrad.numeric import _rng

__all__ = [
    "MIN_ROWS", "MIN_WORK", "blas_one_thread", "one_blas_thread", "row_blocks", "run_blocks",
    "workers_for",
]

T = TypeVar("T")

#: Fewest rows per block: below this GEMM loses too much of its speed per core.
MIN_ROWS = 64
#: Multiply-adds per layer below which one thread is faster than any hand-off.
MIN_WORK = 1 << 22

_LOCK = threading.Lock()
_USERS = 0
_LIMITER: Any = None


def row_blocks(batch: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous (lo, hi) blocks of ``range(batch)``: one per worker, ≥ ``MIN_ROWS`` rows."""
    count = max(1, min(workers, batch // MIN_ROWS))
    cuts = [batch * k // count for k in range(count + 1)]
    return list(itertools.pairwise(cuts))


def workers_for(batch: int, work: int) -> int:
    """How many blocks a layer of ``work`` multiply-adds over ``batch`` rows is cut into."""
    pool = _rng._pool()
    if pool is None or work < MIN_WORK:
        return 1
    return len(row_blocks(batch, _rng.worker_count()))


def run_blocks(task: Callable[[int, int, int], T], blocks: list[tuple[int, int]]) -> list[T]:
    """``task(k, lo, hi)`` for every block, on the pool when there are several.

    Blocks run under the caller's ``np.errstate`` (NumPy keeps it per thread), and an
    error is raised only once every block has stopped writing.
    """
    if len(blocks) == 1:
        lo, hi = blocks[0]
        return [task(0, lo, hi)]
    pool = _rng._pool()
    if pool is None:  # pragma: no cover - several blocks are only cut when a pool exists
        return [task(k, lo, hi) for k, (lo, hi) in enumerate(blocks)]
    errors = np.geterr()

    def under_callers_errstate(k: int, lo: int, hi: int) -> T:
        with np.errstate(**errors):
            return task(k, lo, hi)

    futures = [pool.submit(under_callers_errstate, k, lo, hi)
               for k, (lo, hi) in enumerate(blocks)]
    concurrent.futures.wait(futures)
    return [f.result() for f in futures]


def _controller() -> Any:
    # Made afresh (0.3 ms) each time a limit is set: a BLAS loaded since (MKL with torch,
    # say) is limited too.

    return ThreadpoolController()


def _release_control() -> None:
    # threadpoolctl lets one thread at a time change a process-wide OpenBLAS pool (the
    # first to try, until it lets go); let go after each change, so that whichever
    # thread enters or leaves next, symgrad's or the user's, can change it.

    clear = getattr(OpenBLASController, "clear_controlling_thread", None)
    if clear is not None:
        clear()


@contextmanager
def blas_one_thread() -> Iterator[None]:
    """Hold NumPy's BLAS to one thread while the block holds (process-wide).

    Nested and concurrent uses, from any threads, share one limit: the first to enter
    sets it, the last to leave restores what was there before.
    """
    global _USERS, _LIMITER
    with _LOCK:
        if _USERS == 0:
            _LIMITER = _controller().limit(limits=1, user_api="blas")
            _release_control()
        _USERS += 1
    try:
        yield
    finally:
        with _LOCK:
            _USERS -= 1
            if _USERS == 0:
                _LIMITER.restore_original_limits()
                _LIMITER = None
                _release_control()


P = ParamSpec("P")


def one_blas_thread(fn: Callable[P, T]) -> Callable[P, T]:
    """``fn`` run inside :func:`blas_one_thread`."""
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with blas_one_thread():
            return fn(*args, **kwargs)
    return wrapper


def _after_fork_in_child() -> None:
    # A forked child has none of the parent's threads: forget the parent's limit (the
    # child's BLAS gets its original thread count back) and its thread pools.
    global _USERS, _LIMITER, _LOCK
    if _LIMITER is not None:
        _LIMITER.restore_original_limits()
        _release_control()
    _USERS, _LIMITER, _LOCK = 0, None, threading.Lock()
    _rng._forget_threads()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
