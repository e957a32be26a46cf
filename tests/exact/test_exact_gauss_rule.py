"""The panel rule's Gauss–Legendre nodes: the stored ones are NumPy's leggauss."""

import numpy as np
import pytest

from symgrad._exact.gauss_rule import _legendre
from symgrad._exact.legendre_nodes import NODES


@pytest.mark.parametrize("n", sorted(NODES))
def test_stored_nodes_are_leggauss_and_integrate_degree_2n_minus_1(n):
    x, w = _legendre(n)
    ref_x, ref_w = np.polynomial.legendre.leggauss(n)
    # Bit for bit with the NumPy they were read from; within an ulp on any other.
    assert np.max(np.abs(x - ref_x)) <= 2.3e-16 and np.max(np.abs(w - ref_w)) <= 1.2e-16
    for k in range(2 * n):
        exact = 2 / (k + 1) if k % 2 == 0 else 0.0  # ∫_{−1}^{1} x^k dx
        assert abs(float(np.dot(w, x**k)) - exact) <= 1e-14, k


def test_other_sizes_come_from_leggauss():
    x, w = _legendre(5)
    ref_x, ref_w = np.polynomial.legendre.leggauss(5)
    assert np.array_equal(x, ref_x) and np.array_equal(w, ref_w)
