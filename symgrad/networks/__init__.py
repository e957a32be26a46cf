"""What do residual, normalised, finite-depth architectures do?  Blocks, predict, laws.

=====================  ==========================================================
module                 question
=====================  ==========================================================
``blocks``             architectures as values (``dense``, ``activation``, …)
``prediction``         per-layer second moments, gradient norms and Jacobians
``laws``               the depth law of J^{L,0}: exponential, power, stretched, bounded
``advice``             which σ_w keeps gradients within a band at a given depth
=====================  ==========================================================

>>> from symgrad import networks
>>> import sympy
>>> block = networks.serial(networks.dense(sympy.sqrt(2)), networks.activation("relu"))
>>> net = networks.repeat(block, 10)
>>> networks.predict(net).law.kind.value
'bounded'
"""

from symgrad.networks.blocks import (
    Activate,
    BatchNorm,
    Block,
    Dense,
    Init,
    L,
    LayerNorm,
    Repeat,
    Residual,
    Serial,
    activation,
    batchnorm,
    dense,
    layernorm,
    repeat,
    residual,
    serial,
)
from symgrad.networks.laws import DepthLaw, LawKind, depth_law
from symgrad.networks.prediction import Prediction, predict

__all__ = [
    "Activate",
    "BatchNorm",
    "Block",
    "Dense",
    "DepthLaw",
    "Init",
    "L",
    "LawKind",
    "LayerNorm",
    "Prediction",
    "Repeat",
    "Residual",
    "Serial",
    "activation",
    "batchnorm",
    "dense",
    "depth_law",
    "layernorm",
    "predict",
    "repeat",
    "residual",
    "serial",
]
