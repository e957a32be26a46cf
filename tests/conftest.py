"""Shared test configuration: Hypothesis profiles.

Hypothesis loads its built-in ``ci`` profile by itself when ``CI`` is set
(derandomized, no deadline).  Locally the ``dev`` profile below applies.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
if not os.environ.get("CI"):
    settings.load_profile("dev")
