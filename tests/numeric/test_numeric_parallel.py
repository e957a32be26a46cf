"""The pieces under simulate's speed: in-place (φ, φ') kernels, weights drawn into given
memory, row blocks, and the BLAS thread limit held while blocks run."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from threadpoolctl import threadpool_info

import symgrad.numeric._parallel as parallel
import symgrad.numeric._rng as rng_module
from symgrad import activation, activation_names, register_activation, unregister_activation
from symgrad._core.symbols import z as Z
from symgrad.errors import InvalidArgument
from symgrad.numeric import Init, draw_weights, simulate
from symgrad.numeric._rng import root_seed

_EDGES = [0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324, 1e-8, -1e-8, 1.0, -1.0, 3.0, -3.0,
          18.0, -18.0, 40.0, -40.0, 700.0, -700.0, 1e4, -1e4]


def _points() -> np.ndarray:
    rs = np.random.default_rng(0)
    return np.concatenate([rs.standard_normal(2000) * 4, _EDGES]).reshape(-1, 4)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    # Bit for bit: equal values, and equal signs of zeros.
    return bool(np.array_equal(a, b) and np.array_equal(np.signbit(a), np.signbit(b)))


@pytest.mark.parametrize("name", activation_names())
@pytest.mark.parametrize("scratch", [False, True])
def test_numpy_into_is_bit_identical_to_numpy_and_numpy_prime(name, scratch):
    phi = activation(name)
    x = _points()
    value, slope = np.full_like(x, np.nan), np.full_like(x, np.nan)
    kw = dict(work=np.empty_like(x), mask=np.empty(x.shape, dtype=bool)) if scratch else {}
    phi.numpy_into(x, value, slope, **kw)
    assert _same(value, phi.numpy(x)), name
    assert _same(slope, phi.numpy_prime(x)), name


@pytest.mark.parametrize("family,params", [("leaky_relu", {"alpha": 0.2}),
                                           ("leaky_relu", {"alpha": -0.5}),
                                           ("elu", {"alpha": 2}), ("swish", {"beta": 3})])
def test_numpy_into_with_family_parameters(family, params):
    phi = activation(family, **params)
    x = _points()
    value, slope = np.empty_like(x), np.empty_like(x)
    phi.numpy_into(x, value, slope)
    assert _same(value, phi.numpy(x)) and _same(slope, phi.numpy_prime(x))


def test_numpy_into_for_a_users_activation():
    act = register_activation("cubic_soft", Z / (1 + Z**2) + sympy.Rational(1, 3) * Z)
    try:
        x = _points()
        value, slope = np.empty_like(x), np.empty_like(x)
        act.numpy_into(x, value, slope)
        assert _same(value, act.numpy(x)) and _same(slope, act.numpy_prime(x))
    finally:
        unregister_activation("cubic_soft")


@pytest.mark.parametrize("init", list(Init))
@pytest.mark.parametrize("shape", [(3, 5), (700, 400)])
def test_weights_drawn_into_given_memory_equal_fresh_ones(init, shape):
    fresh = draw_weights(init, *shape, sigma_w=1.3, seed=root_seed(4))
    out = np.full(shape, np.nan)
    got = draw_weights(init, *shape, sigma_w=1.3, seed=root_seed(4), out=out)
    assert got is out
    assert np.array_equal(out, fresh)


@pytest.mark.parametrize("out", [np.empty((4, 3)), np.empty((3, 4), dtype=np.float32),
                                 np.empty((3, 8))[:, ::2], np.empty((4, 3)).T])
def test_weights_refuse_unusable_memory(out):
    with pytest.raises(InvalidArgument, match="C-contiguous float64 array of shape"):
        draw_weights("gaussian", 3, 4, sigma_w=1.0, seed=root_seed(0), out=out)


@given(st.integers(1, 5000), st.integers(1, 16))
def test_row_blocks_cover_the_batch_in_order(batch, workers):
    blocks = parallel.row_blocks(batch, workers)
    assert blocks[0][0] == 0 and blocks[-1][1] == batch
    assert all(a[1] == b[0] for a, b in itertools.pairwise(blocks))
    assert 1 <= len(blocks) <= workers
    sizes = [hi - lo for lo, hi in blocks]
    assert max(sizes) - min(sizes) <= 1  # balanced
    assert len(blocks) == 1 or min(sizes) >= parallel.MIN_ROWS


def _blas_threads() -> list[int]:
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def test_blas_is_held_to_one_thread_while_blocks_run_and_restored(blocks_on_three_threads):
    before = _blas_threads()
    assert before, "threadpoolctl should see NumPy's BLAS"
    seen: list[list[int]] = []
    from symgrad.numeric.backprop import propagate

    rs = np.random.default_rng(0)
    ws = [rs.standard_normal((8, 8)) for _ in range(2)]

    def bias(layer):
        seen.append(_blas_threads())
        return np.zeros(8)

    phi = activation("tanh")
    propagate(phi, (8, 8, 8), ws.__getitem__, bias, rs.standard_normal((200, 8)),
              rs.standard_normal((200, 8)))
    assert seen and all(threads == [1] * len(before) for threads in seen)
    assert _blas_threads() == before
    # One block (a batch below 2·MIN_ROWS): one BLAS thread all the same, so that its
    # rounding cannot depend on whether another simulation holds the limit meanwhile.
    seen.clear()
    propagate(phi, (8, 8, 8), ws.__getitem__, bias, rs.standard_normal((20, 8)),
              rs.standard_normal((20, 8)))
    assert seen and all(threads == [1] * len(before) for threads in seen)
    assert _blas_threads() == before


def test_blas_limit_is_restored_after_an_error(blocks_on_three_threads):
    from symgrad.numeric.backprop import propagate

    before = _blas_threads()

    def weight(layer):
        raise RuntimeError("boom")

    rs = np.random.default_rng(0)
    with pytest.raises(RuntimeError, match="boom"):
        propagate(activation("relu"), (8, 8), weight, lambda layer: np.zeros(8),
                  rs.standard_normal((200, 8)), rs.standard_normal((200, 8)))
    assert _blas_threads() == before


def test_concurrent_simulations_share_the_limit_and_match_serial_runs(blocks_on_three_threads):
    before = _blas_threads()
    kwargs = dict(width=64, depth=4, sigma_w=1.1, batch=256)
    serial = [simulate("tanh", rng=seed, **kwargs) for seed in range(6)]
    start = threading.Barrier(3)

    def one(seed):
        if seed < 3:
            start.wait()  # the first three enter together
        return simulate("tanh", rng=seed, **kwargs)

    with ThreadPoolExecutor(3) as users:
        together = list(users.map(one, range(6)))
    assert _blas_threads() == before
    for a, b in zip(serial, together, strict=True):
        assert np.array_equal(a.grad_z_sq, b.grad_z_sq)
        assert np.array_equal(a.preact_second_moment, b.preact_second_moment)
        assert np.array_equal(a.saturated_fraction, b.saturated_fraction)


def test_statistics_do_not_depend_on_the_row_cut(monkeypatch, blocks_on_three_threads):
    """Statistics are summed per row, then over rows in one order: with the GEMM taken out
    of the picture (identity weights), any cut gives bit-identical numbers."""
    from symgrad.numeric.backprop import propagate

    rs = np.random.default_rng(3)
    n, batch = 16, 300
    eye = [np.eye(n) * 0.9 for _ in range(3)]
    x, g = rs.standard_normal((batch, n)), rs.standard_normal((batch, n))
    runs = []
    for workers in (1, 2, 3):
        monkeypatch.setattr(rng_module, "worker_count", lambda workers=workers: workers)
        runs.append(propagate(activation("sigmoid"), (n,) * 4, eye.__getitem__,
                              lambda layer: np.zeros(n), x, g))
    for other in runs[1:]:
        for field in ("mean", "second", "grad_z", "grad_a", "saturated", "slope_mean",
                      "slope_second"):
            assert np.array_equal(getattr(runs[0], field), getattr(other, field)), field
        assert runs[0].grad_input == other.grad_input and runs[0].loss == other.loss


def test_reuse_memory_hands_arrays_on_within_its_block_only():
    from symgrad.numeric import memory

    outside = memory.take(100)
    memory.give(outside)
    assert memory.take(100) is not outside  # nothing is kept outside a block
    with memory.reuse_memory():
        a = memory.take(1000)
        memory.give(a[:10].reshape(2, 5))  # a view gives back its whole base
        b = memory.take(600)
        assert b.base is a
        memory.give(b)
        with memory.reuse_memory():  # nesting keeps the same store
            assert memory.take(1000).base is a
        assert memory.take(2000).size == 2000  # too small a kept array is not used
    assert memory._LOCAL.free == []


def test_reuse_memory_is_per_thread():
    from symgrad.numeric import memory

    with memory.reuse_memory():
        mine = memory.take(500)
        memory.give(mine)
        with ThreadPoolExecutor(1) as other:
            theirs = other.submit(memory.take, 500).result()
        assert theirs.base is not mine and theirs is not mine
        assert memory.take(500).base is mine


@pytest.mark.parametrize("kwargs", [
    dict(width=40, depth=4, sigma_w=1.3, batch=200),
    dict(width=[30, 50, 20], depth=2, sigma_w=0.9, sigma_b=0.3, batch=150, batchnorm=True),
    dict(width=32, depth=3, sigma_w=0.7, batch=130, residual=True, init="he_uniform"),
])
def test_results_are_the_same_with_reused_memory(kwargs, blocks_on_three_threads):
    from symgrad.numeric import memory

    fields = ("grad_z_sq", "grad_a_sq", "preact_mean", "preact_second_moment",
              "saturated_fraction", "slope_mean", "slope_second_moment")
    plain = [simulate("gelu", rng=seed, **kwargs) for seed in range(3)]
    with memory.reuse_memory():
        # A bigger network first, so later calls get arrays holding its old numbers.
        simulate("tanh", width=64, depth=5, sigma_w=2.0, batch=256, rng=9)
        reused = [simulate("gelu", rng=seed, **kwargs) for seed in range(3)]
        assert memory._LOCAL.free  # the arrays really were handed on
    for a, b in zip(plain, reused, strict=True):
        for field in fields:
            assert np.array_equal(getattr(a, field), getattr(b, field)), field
        assert a.grad_input_sq == b.grad_input_sq


def test_recorded_weights_are_never_reused():
    from symgrad.numeric import memory

    with memory.reuse_memory():
        rec = simulate("tanh", width=16, depth=3, sigma_w=1.0, batch=8, rng=1, record=True)
        saved = [w.copy() for w in rec.weights]
        for seed in range(3):
            simulate("tanh", width=16, depth=3, sigma_w=1.0, batch=8, rng=seed + 5)
    assert all(np.array_equal(w, s) for w, s in zip(rec.weights, saved, strict=True))


def test_reuse_memory_does_not_pile_up_when_sizes_grow():
    from symgrad.numeric import memory

    def kept_bytes():
        return sum(arr.nbytes for arr in memory._LOCAL.free)

    kwargs = dict(width=128, sigma_w=1.0, batch=130)
    with memory.reuse_memory():
        simulate("tanh", depth=12, rng=0, **kwargs)
        one_call = kept_bytes()  # what the largest call of the sweep below keeps
    with memory.reuse_memory():
        for depth in range(1, 13):  # ascending: every call needs more than the last
            simulate("tanh", depth=depth, rng=0, **kwargs)
        assert kept_bytes() <= one_call
    with memory.reuse_memory():
        for size in range(1, 200):
            memory.give(memory.take(size), memory.take(1000 - size))
        assert len(memory._LOCAL.free) <= memory._MOST


def test_blas_limit_set_from_worker_threads_is_effective_and_restored():
    # threadpoolctl lets only one thread at a time change a process-wide OpenBLAS pool;
    # simulations on a user's thread pool must still get (and give back) the limit.
    before = _blas_threads()
    seen = []

    def fn(sigma_w, rng):
        from symgrad.numeric import backprop

        sim = simulate("tanh", width=512, depth=2, sigma_w=sigma_w, batch=256, rng=rng)
        seen.append(backprop.run_blocks is not None)
        return sim.grad_input_sq

    from symgrad.numeric import sweep

    with ThreadPoolExecutor(2) as users:
        threaded = sweep(fn, {"sigma_w": [0.5, 1.0, 1.5, 2.0]}, executor=users, rng=0)
    assert _blas_threads() == before
    serial = sweep(fn, {"sigma_w": [0.5, 1.0, 1.5, 2.0]}, rng=0)
    assert threaded.results == serial.results
    # ... and the user's own limits keep working in other threads afterwards.
    from threadpoolctl import threadpool_limits

    def own_limit():
        with threadpool_limits(1):
            return _blas_threads()

    with ThreadPoolExecutor(1) as other:
        assert other.submit(own_limit).result() == [1] * len(before)
    assert _blas_threads() == before


def test_same_result_from_any_calling_thread():
    # Shapes whose products round differently with one or two BLAS threads.
    def run():
        return simulate("tanh", width=[512, 700, 300, 512], depth=3, sigma_w=1.1, batch=200,
                        rng=0).grad_input_sq

    here = run()
    with ThreadPoolExecutor(1) as worker:
        there = [worker.submit(run).result() for _ in range(3)]
    assert there == [here] * 3


_FORK_SCRIPT = """
import multiprocessing, sys
from concurrent.futures import ProcessPoolExecutor
from symgrad.numeric import simulate

def fn(seed):
    return simulate("tanh", width=256, depth=2, sigma_w=1.0, batch=256, rng=seed).grad_input_sq

if __name__ == "__main__":
    first = fn(0)  # the parent's thread pools exist now
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as ex:
        children = list(ex.map(fn, [0, 1]))
    assert children[0] == first, (children, first)
    print("ok")
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="fork is POSIX-only")
def test_forked_children_do_not_wait_on_the_parents_threads(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "fork_after_blocks.py"
    script.write_text(_FORK_SCRIPT)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("batch", [20, 300])  # one block, several blocks
def test_blocks_keep_the_callers_errstate(batch, blocks_on_three_threads):
    from symgrad.numeric.backprop import propagate

    w = [np.full((4, 4), 1e200)]
    x = np.full((batch, 4), 1e200)  # z = 4e400: overflow in the GEMM

    def run():
        return propagate(activation("identity"), (4, 4), w.__getitem__,
                         lambda layer: np.zeros(4), x, np.ones((batch, 4)), use_bias=False)

    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        run()
    with np.errstate(all="ignore"):
        assert np.isinf(run().second[0])


def test_an_error_in_one_block_is_raised_after_every_block_stopped(blocks_on_three_threads):
    import time

    finished = []

    def task(k, lo, hi):
        if k == 0:
            raise ValueError("block 0")
        time.sleep(0.2)
        finished.append(k)

    with pytest.raises(ValueError, match="block 0"):
        parallel.run_blocks(task, [(0, 1), (1, 2), (2, 3)])
    assert sorted(finished) == [1, 2]


def test_a_users_activation_leaves_mpmath_precision_alone(blocks_on_three_threads):
    import mpmath

    # log(1 + e^z) overflows in float64 for large z, so the NumPy fallback redoes those
    # points in mpmath, from several row blocks at once.
    act = register_activation("naive_softplus", sympy.log(1 + sympy.exp(Z)))
    try:
        dps = mpmath.mp.dps
        for seed in range(3):
            simulate(act, width=64, depth=1, sigma_w=3000.0, batch=300, rng=seed)
            assert mpmath.mp.dps == dps
    finally:
        unregister_activation("naive_softplus")
