"""simulate on architectures: the dispatch, lanes, memory reuse, records; and the
cross-check rows of predict against simulate."""

import json

import numpy as np
import pytest

import symgrad
from symgrad import InvalidArgument
from symgrad import networks as nw
from symgrad.numeric import reuse_memory
from symgrad.numeric._rng import root_seed
from symgrad.numeric.checks.networks import check_networks, network_rows, standard_networks
from symgrad.numeric.networks import simulate_network

PRE_LN = nw.pre_ln("relu", 5, sigma_b=0.1)
MIXED = nw.serial(nw.dense(1.2), nw.activation("tanh"),
                  nw.repeat(nw.residual(nw.serial(nw.layernorm(eps=0.01), nw.activation("gelu"),
                                                  nw.dense(1), nw.activation("silu"),
                                                  nw.dense(0.5, 0.2))), 3),
                  nw.post_ln("tanh", 2))


def test_simulate_dispatches_on_an_architecture():
    a = symgrad.simulate(PRE_LN, width=32, batch=8, rng=3)
    b = simulate_network(PRE_LN, width=32, batch=8, rng=3)
    assert isinstance(a, symgrad.NetworkSimulation)
    assert np.array_equal(a.grad_h_sq, b.grad_h_sq) and np.array_equal(a.grad_w_sq, b.grad_w_sq)
    # an activation still runs the MLP
    assert isinstance(symgrad.simulate("tanh", width=8, depth=2, sigma_w=1.0, batch=4, rng=0),
                      symgrad.Simulation)


@pytest.mark.parametrize("net", [PRE_LN, MIXED], ids=["pre-LN", "mixed"])
def test_row_blocks_on_three_threads_match_one_block(net, blocks_on_three_threads):
    # 300 rows on three lanes against the same network in one lane (the cut only changes
    # which rows each GEMM call sees): statistics summed per row agree to rounding.
    many = simulate_network(net, width=48, batch=300, rng=7)
    again = simulate_network(net, width=48, batch=300, rng=7)
    import symgrad.numeric._parallel as parallel
    saved = parallel.MIN_WORK
    parallel.MIN_WORK = 1 << 62
    try:
        single = simulate_network(net, width=48, batch=300, rng=7)
    finally:
        parallel.MIN_WORK = saved
    for name in ("second_moment", "grad_h_sq", "grad_w_sq", "grad_z_sq", "preact_second_moment"):
        a, b = getattr(many, name), getattr(single, name)
        assert np.allclose(a, b, rtol=1e-12, atol=0, equal_nan=True), name
        assert np.array_equal(a, getattr(again, name), equal_nan=True), name  # deterministic


def test_reused_memory_gives_the_same_numbers():
    plain = [simulate_network(MIXED, width=64, batch=96, rng=s) for s in range(3)]
    with reuse_memory():
        reused = [simulate_network(MIXED, width=64, batch=96, rng=s) for s in range(3)]
    for p, r in zip(plain, reused, strict=True):
        assert np.array_equal(p.grad_h_sq, r.grad_h_sq) and np.array_equal(p.grad_w_sq,
                                                                          r.grad_w_sq)


def test_cached_parameters_and_plans_depend_on_the_depth_and_the_network(monkeypatch):
    # σ_w = 2/√L and a residual scale 1/L through shared blocks at depths 3 and 8: the
    # cached values (and the cached block plan) of the first network must not leak into
    # the second.  Reference: the second network with the caches emptied, σ_w substituted
    # afresh and the scales and epsilons left to the lanes (Lane.param).
    import sympy

    import symgrad.numeric.networks as module
    layer = nw.residual(nw.serial(nw.layernorm(eps=0.01), nw.dense(2 / sympy.sqrt(nw.L), 0.1),
                                  nw.activation("tanh")), scale=1 / nw.L)
    short, deep = nw.repeat(layer, 3), nw.repeat(layer, 8)
    simulate_network(short, width=16, batch=8, rng=2)
    cached = simulate_network(deep, width=16, batch=8, rng=2)
    module._PLANS.clear()
    plan = module._plan
    monkeypatch.setattr(module, "_plan", lambda net: plan(net)._replace(params=()))
    monkeypatch.setattr(module, "_param", lambda e, depth: float(e.subs(nw.L, depth)))
    fresh = simulate_network(deep, width=16, batch=8, rng=2)
    assert len(cached.grad_w_sq) == 8
    for name in ("second_moment", "grad_h_sq", "grad_w_sq"):
        assert np.array_equal(getattr(cached, name), getattr(fresh, name)), name


def test_weights_re_drawn_in_the_backward_pass_give_the_same_numbers(monkeypatch):
    import symgrad.numeric.networks as module
    kept = simulate_network(MIXED, width=32, batch=16, rng=1)
    monkeypatch.setattr(module, "_KEEP_WEIGHTS_BYTES", -1)
    redrawn = simulate_network(MIXED, width=32, batch=16, rng=1)
    assert np.array_equal(kept.grad_h_sq, redrawn.grad_h_sq)
    assert np.array_equal(kept.grad_w_sq, redrawn.grad_w_sq)


def test_record_is_simulated_and_json_ready():
    sim = simulate_network(PRE_LN, width=16, batch=4, rng=0, trace=True)
    assert {how.kind.value for how in sim.provenance.values()} == {"simulated"}
    assert set(sim.provenance) >= {"grad_h_sq", "grad_w_sq", "second_moment", "loss"}
    data = json.loads(json.dumps(sim.as_dict()))
    assert len(data["grad_h_sq"]) == 6 and len(data["hidden"]) == 6
    assert data["hidden"][0] == np.asarray(sim.hidden[0]).tolist()
    assert sim.jacobian[-1] == 1.0


@pytest.mark.parametrize("call, message", [
    (lambda: symgrad.simulate(PRE_LN, width=8, batch=4, depth=3), "depth"),
    (lambda: symgrad.simulate(PRE_LN, width=8, batch=4, sigma_w=1.0), "sigma_w"),
    (lambda: symgrad.simulate(PRE_LN, width=[8, 8], batch=4), "one size"),
    (lambda: symgrad.simulate("tanh", width=8, batch=4), "needs depth"),
    (lambda: symgrad.simulate("tanh", width=8, depth=2, sigma_w=1.0, batch=4, trace=True),
     "architectures"),
    (lambda: simulate_network("relu", width=8, batch=4), "must be a block"),
    (lambda: simulate_network(PRE_LN, width=0, batch=4), "width"),
    (lambda: simulate_network(PRE_LN, width=8, batch=9000), "at most 8192"),
    (lambda: simulate_network(nw.bn_mlp("relu", 2), width=8, batch=1), "batch >= 2"),
    (lambda: simulate_network(PRE_LN, width=8192, batch=8192), "GiB"),
    (lambda: simulate_network(PRE_LN, width=8, batch=4, inputs="x"), "inputs"),
    (lambda: simulate_network(PRE_LN, width=8, batch=4, upstream=np.full((4, 8), np.nan)),
     "finite"),
    (lambda: simulate_network(PRE_LN, width=8, batch=4, trace=1), "trace"),
])
def test_invalid_arguments(call, message):
    with pytest.raises(InvalidArgument, match=message):
        call()


@pytest.mark.slow
def test_every_architecture_row_passes():
    rows = check_networks(root_seed(7), 4.5)
    bad = [r for r in rows if not r.ok]
    assert not bad, "\n".join(f"{r.quantity}: {r.measured} vs {r.predicted} (rel {r.rel_error:.3g}"
                              f" > tol {r.tolerance:.3g})" for r in bad)


@pytest.mark.parametrize("index", [0, 5, 7])
def test_relu_pre_ln_and_batchnorm_rows_agree(index):
    label, net, options = standard_networks()[index]
    for row in network_rows(label, net, root_seed(index), 4.5, **options):
        assert row.ok, (row.measured, row.predicted, row.rel_error, row.tolerance)
        assert row.tolerance < 0.5  # the row says something: not a blanket tolerance
