"""Evaluate a function over a parameter grid, serially or on any ``Executor``.

Each grid point gets its own seed, a child of one root ``SeedSequence`` (by
``SeedSequence.spawn``, in grid order), so the results depend on the seed and the grid
alone — not on the executor, the number of workers or the order they finish in.  A
``concurrent.futures.ProcessPoolExecutor``, a Dask ``Client(...).get_executor()`` or an
MPI pool all fit: a sweep grows from a laptop to a cluster without code changes.

>>> from symgrad.numeric import simulate, sweep
>>> def decay(sigma_w, rng):
...     sim = simulate("tanh", width=64, depth=6, sigma_w=sigma_w, batch=16, rng=rng)
...     return sim.decay_per_layer()
>>> result = sweep(decay, {"sigma_w": [0.5, 1.0, 2.0]}, rng=0)
>>> [point["sigma_w"] for point in result.points]
[0.5, 1.0, 2.0]
>>> result.results[0] < result.results[2]
True
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from symgrad._core.validate import describe
from symgrad.errors import InvalidArgument
from symgrad.numeric._rng import root_seed, seed_label
from symgrad.numeric.memory import reuse_memory
from symgrad.records import NO_NUMBERS, Provenances, Record, Step
from symgrad.types import Seed

__all__ = ["Sweep", "grid_points", "sweep"]

R = TypeVar("R")


@dataclass(frozen=True, eq=False)
class Sweep(Record, Generic[R]):
    """Results of a sweep in grid order: ``points[i]`` gave ``results[i]`` with ``seeds[i]``."""

    points: tuple[dict[str, Any], ...]
    results: tuple[R, ...]
    seeds: tuple[np.random.SeedSequence, ...]
    seed: str
    steps: tuple[Step, ...] = ()
    #: The numbers live in ``results``, each with its own provenance.
    provenance: Provenances = NO_NUMBERS

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[tuple[dict[str, Any], R]]:
        return iter(zip(self.points, self.results, strict=True))

    def summary(self) -> list[tuple[str, Any]]:
        return [("points", str(len(self.points))), ("seed", self.seed)]


def grid_points(grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]
                ) -> tuple[dict[str, Any], ...]:
    """The points of a grid, in order.

    A mapping of name → values is the Cartesian product, the first name varying
    slowest (``itertools.product`` order); a sequence of mappings lists points as given.

    >>> grid_points({"a": [1, 2], "b": ["x", "y"]})
    ({'a': 1, 'b': 'x'}, {'a': 1, 'b': 'y'}, {'a': 2, 'b': 'x'}, {'a': 2, 'b': 'y'})
    """
    if isinstance(grid, Mapping):
        names = list(grid)
        axes = []
        for name in names:
            if not isinstance(name, str):
                raise InvalidArgument(f"grid names must be strings, got {describe(name)}")
            values = grid[name]
            if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
                raise InvalidArgument(
                    f"grid[{name!r}] must be a sequence of values, got {describe(values)}")
            if len(values) == 0:
                raise InvalidArgument(f"grid[{name!r}] is empty")
            axes.append(list(values))
        points = tuple(dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes))
    elif isinstance(grid, Sequence) and not isinstance(grid, str | bytes):
        listed: list[dict[str, Any]] = []
        for i, point in enumerate(grid):
            if not isinstance(point, Mapping) or not all(isinstance(k, str) for k in point):
                raise InvalidArgument(
                    f"grid[{i}] must be a mapping of argument names to values,"
                    f" got {describe(point)}")
            listed.append(dict(point))
        points = tuple(listed)
    else:
        raise InvalidArgument(
            "grid must be a mapping of names to value lists or a sequence of points,"
            f" got {describe(grid)}")
    if not points:
        raise InvalidArgument("grid has no points")
    if any("rng" in p for p in points):
        raise InvalidArgument("grid points must not set 'rng': sweep passes each point's seed")
    return points


def _evaluate(fn: Callable[..., R], point: dict[str, Any], seed: np.random.SeedSequence) -> R:
    return fn(**point, rng=seed)


def _show_progress(progress: bool | None) -> bool:
    if progress is not None:
        if not isinstance(progress, bool):
            raise InvalidArgument(f"progress must be None, True or False, got {describe(progress)}")
        return progress
    # Automatic: a terminal, outside CI, with tqdm installed.
    if os.environ.get("CI") or not sys.stderr.isatty():
        return False
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def sweep(
    fn: Callable[..., R],
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
    *,
    executor: Executor | None = None,
    rng: Seed = None,
    progress: bool | None = None,
) -> Sweep[R]:
    """Call ``fn(**point, rng=seed)`` for every grid point; results in grid order.

    ``seed`` is point i's child of the root ``SeedSequence`` (``root.spawn``); ``rng``
    is the root (an int, ``SeedSequence``, ``Generator`` or ``None``).  ``executor``:
    any ``concurrent.futures.Executor`` (``fn`` must then be picklable, e.g. defined at
    module level); serial when ``None``, inside :func:`~symgrad.numeric.reuse_memory`.
    ``progress``: a tqdm bar on stderr; ``None`` shows it only on a terminal outside CI
    (``CI`` unset) when tqdm is installed.
    """
    if not callable(fn):
        raise InvalidArgument(f"fn must be callable, got {describe(fn)}")
    # An Executor, or anything with its submit() (some cluster pools do not subclass it).
    if executor is not None and not isinstance(executor, Executor) and not callable(
        getattr(executor, "submit", None)
    ):
        raise InvalidArgument(
                f"executor must be a concurrent.futures.Executor or None, got {describe(executor)}")
    points = grid_points(grid)
    root = root_seed(rng)
    # Spawn from a copy so the caller's SeedSequence is left as it was: same seed, same sweep.
    seeds = tuple(
        np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key, pool_size=root.pool_size)
        .spawn(len(points))
    )
    show = _show_progress(progress)
    bar: Any = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=len(points), file=sys.stderr, desc="sweep", leave=False)
    try:
        results: list[R]
        if executor is None:
            results = []
            with reuse_memory():  # each simulation writes into the previous one's arrays
                for point, seed in zip(points, seeds, strict=True):
                    results.append(_evaluate(fn, point, seed))
                    if bar is not None:
                        bar.update(1)
        else:
            futures: list[Future[R]] = [
                executor.submit(_evaluate, fn, point, seed)
                for point, seed in zip(points, seeds, strict=True)
            ]
            if bar is not None:
                for _ in as_completed(futures):
                    bar.update(1)
            results = [f.result() for f in futures]
    finally:
        if bar is not None:
            bar.close()
    return Sweep(points=points, results=tuple(results), seeds=seeds, seed=seed_label(root))
