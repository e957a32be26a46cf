"""Shared test configuration: Hypothesis profiles, and a fixture that cuts every layer
of a simulation into row blocks on three threads.

Hypothesis loads its built-in ``ci`` profile by itself when ``CI`` is set
(derandomized, no deadline).  Locally the ``dev`` profile below applies.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
if not os.environ.get("CI"):
    settings.load_profile("dev")


@pytest.fixture
def blocks_on_three_threads(monkeypatch):
    """Row blocks for any layer, on a 3-thread pool, whatever the machine."""
    import symgrad.numeric._parallel as parallel
    import symgrad.numeric._rng as rng_module

    pool = ThreadPoolExecutor(3)
    monkeypatch.setattr(parallel, "MIN_WORK", 0)
    monkeypatch.setattr(rng_module, "_pool", lambda: pool)
    monkeypatch.setattr(rng_module, "worker_count", lambda: 3)
    yield
    pool.shutdown()
