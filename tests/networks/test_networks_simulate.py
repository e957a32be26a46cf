"""predict against simulate_network: the cross-check rows (z·SE + second-order allowance)."""

import pytest

from symgrad.numeric._rng import root_seed
from symgrad.numeric.checks.networks import check_networks, network_row, standard_networks


@pytest.mark.slow
def test_every_architecture_row_passes():
    rows = check_networks(root_seed(7), 4.5)
    bad = [r for r in rows if not r.ok]
    assert not bad, "\n".join(f"{r.quantity}: {r.measured} vs {r.predicted} (rel {r.rel_error:.3g}"
                              f" > tol {r.tolerance:.3g})" for r in bad)


@pytest.mark.parametrize("index", [1, 5, 7])
def test_issue_net_pre_ln_and_batchnorm_agree(index):
    label, net, options = standard_networks()[index]
    row = network_row(label, net, root_seed(index), 4.5, width=128,
                      batch=int(options.get("batch", 32)), k=6)
    assert row.ok, (row.measured, row.predicted, row.rel_error, row.tolerance)
    assert row.tolerance < 0.6  # the row says something: not a blanket tolerance
