"""Shared test configuration: Hypothesis profiles, and a fixture that cuts every layer
of a simulation into row blocks on three threads.

Hypothesis loads its built-in ``ci`` profile by itself when ``CI`` is set
(derandomized, no deadline).  Locally the ``dev`` profile below applies.
"""

import importlib.util
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
if not os.environ.get("CI"):
    settings.load_profile("dev")

#: The torch tests import torch; without it they cannot even be collected.  They are
#: deselected by default (``-m 'not slow and not torch'``) and run by ``pytest -m torch``,
#: which refuses to start without torch rather than skip them.
_TORCH = importlib.util.find_spec("torch") is not None
collect_ignore_glob = [] if _TORCH else ["frameworks/test_torch_*.py"]


def pytest_configure(config: pytest.Config) -> None:
    if "torch" in (config.option.markexpr or "").replace("not torch", "") and not _TORCH:
        raise pytest.UsageError("the torch tests need PyTorch: pip install torch")


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
