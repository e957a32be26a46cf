"""Does a network that runs agree?  The numeric layer.

NumPy float64, explicit ``rng`` (an int seed, ``SeedSequence`` or ``Generator``; no
global random state), backward passes written by hand and tested against finite
differences, loops over layers only (the cost is BLAS-bound).

>>> from symgrad.numeric import simulate
>>> simulate("tanh", width=32, depth=2, sigma_w=1.0, batch=4, rng=0).grad_a_sq.shape
(2,)
"""

from symgrad.numeric.mlp import Simulation, simulate
from symgrad.numeric.weights import Init, draw_weights, weight_variance

__all__ = ["Init", "Simulation", "draw_weights", "simulate", "weight_variance"]
