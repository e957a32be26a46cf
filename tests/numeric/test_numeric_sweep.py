"""sweep(): grid order, per-point seeds independent of the executor, progress rules."""

from __future__ import annotations

import importlib
import io
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from symgrad.numeric import simulate, sweep
from symgrad.numeric.grid import _show_progress


def point_value(a, b, rng):
    """Module level, so process pools can pickle it: depends on the point and its seed."""
    draw = np.random.default_rng(rng).standard_normal()
    return (a, b, float(draw))


def decay(sigma_w, rng):
    return simulate("tanh", width=32, depth=4, sigma_w=sigma_w, batch=4, rng=rng).decay_per_layer()


GRID = {"a": [1, 2, 3], "b": ["x", "y"]}


def _optional(module: str) -> Any:
    """An optional extra: CI installs every extra (.ci/run), so there a missing one fails
    instead of skipping; elsewhere the test is skipped."""
    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


def test_serial_grid_order_and_seeds():
    out = sweep(point_value, GRID, rng=5)
    assert [r[:2] for r in out.results] == [(1, "x"), (1, "y"), (2, "x"), (2, "y"), (3, "x"),
                                            (3, "y")]
    # Point i's seed is child i of the root: SeedSequence(5).spawn(6)[i].
    expected = [np.random.default_rng(s).standard_normal()
                for s in np.random.SeedSequence(5).spawn(6)]
    assert [r[2] for r in out.results] == expected
    assert sweep(point_value, GRID, rng=5).results == out.results
    assert sweep(point_value, GRID, rng=6).results != out.results


def test_explicit_points_and_caller_seed_left_untouched():
    root = np.random.SeedSequence(9)
    first = sweep(point_value, [{"a": 1, "b": 2}, {"a": 0, "b": 0}], rng=root)
    second = sweep(point_value, [{"a": 1, "b": 2}, {"a": 0, "b": 0}], rng=root)
    assert first.results == second.results
    assert root.n_children_spawned == 0


def test_process_pool_gives_the_serial_results():
    serial = sweep(decay, {"sigma_w": [0.5, 1.0, 2.0, 3.0]}, rng=1)
    # "spawn": no fork of a process that may hold threads (BLAS, the RNG pool).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        parallel = sweep(decay, {"sigma_w": [0.5, 1.0, 2.0, 3.0]}, rng=1, executor=pool)
    assert parallel.results == serial.results


def test_thread_pool_gives_the_serial_results():
    serial = sweep(point_value, GRID, rng=2)
    with ThreadPoolExecutor(max_workers=3) as pool:
        assert sweep(point_value, GRID, rng=2, executor=pool).results == serial.results


def test_dask_local_cluster_gives_the_serial_results():
    distributed = _optional("distributed")
    serial = sweep(point_value, GRID, rng=3)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        out = sweep(point_value, GRID, rng=3, executor=client.get_executor())
    assert out.results == serial.results


def test_progress_only_on_a_terminal_outside_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert _show_progress(None) is False
    monkeypatch.delenv("CI")
    monkeypatch.setattr("sys.stderr", io.StringIO())  # not a terminal
    assert _show_progress(None) is False
    assert _show_progress(True) is True and _show_progress(False) is False


def test_forced_progress_writes_to_stderr(capsys):
    _optional("tqdm")
    sweep(point_value, GRID, rng=0, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and "sweep" in captured.err
