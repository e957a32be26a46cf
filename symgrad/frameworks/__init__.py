"""Real models: the PyTorch bridge, and the record any framework's bridge returns.

``from symgrad.frameworks.torch import diagnose, to_torch, init_`` (PyTorch is the
optional extra ``torch``; neither ``import symgrad`` nor this package imports it).

=====================  ==========================================================
module                 question
=====================  ==========================================================
``diagnosis``          the :class:`Diagnosis` record: measured norms, prediction, law,
                       verdict — framework-neutral
``architecture``       recognised layers → a :mod:`symgrad.networks` architecture
``torch``              PyTorch: ``diagnose``, ``to_torch``, ``init_``
=====================  ==========================================================

A JAX bridge follows the same record: it measures the same per-layer batch means
(:class:`LayerStats`, e.g. from ``jax.vjp`` of each layer), describes a recognised
model with :mod:`~symgrad.frameworks.architecture`'s specs, and calls
:func:`~symgrad.frameworks.diagnosis.diagnosis`.

A toy measurement (the gradient shrinks fourfold per layer going down):

>>> rows = [LayerStats(f"{i}", "Linear", 1.0, 0.25 ** (4 - i), grad_weight_sq=1.0,
...                    grad_weight_sq_per_example=1.0) for i in range(5)]
>>> d = diagnosis(rows, model="toy", items=None, q0=1.0, batch=8, loss="given")
>>> d.verdict.trend.value, round(d.fit.factor, 3), d.verdict.layers
('vanishing', 0.25, ('0', '1'))
"""

from symgrad.frameworks.diagnosis import DepthFit, Diagnosis, LayerStats, Trend, Verdict, diagnosis

__all__ = ["DepthFit", "Diagnosis", "LayerStats", "Trend", "Verdict", "diagnosis"]
