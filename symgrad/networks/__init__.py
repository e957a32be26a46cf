"""What do residual, normalised, finite-depth architectures do?  Blocks, predict, laws.

=====================  ==========================================================
module                 question
=====================  ==========================================================
``blocks``             architectures as values (``dense``, ``activation``, …)
``prediction``         per-layer second moments, gradient norms and Jacobians
``laws``               the depth law of J^{L,0}: exponential, power, stretched, bounded
``advice``             which σ_w and σ_b keep gradients within a band at a given depth
``recipes``            mlp, resnet, pre_ln, post_ln, bn_mlp; Fixup, ReZero/SkipInit
``spec``               architectures written as text (``parse_network``)
=====================  ==========================================================

>>> from symgrad import networks
>>> import sympy
>>> block = networks.serial(networks.dense(sympy.sqrt(2)), networks.activation("relu"))
>>> net = networks.repeat(block, 10)
>>> networks.predict(net).law.kind.value
'bounded'
"""

from symgrad.networks.advice import InitAdvice, framework_gains, recommend_init
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
from symgrad.networks.recipes import bn_mlp, fixup, mlp, post_ln, pre_ln, resnet, rezero
from symgrad.networks.spec import parse_network

__all__ = [
    "Activate",
    "BatchNorm",
    "Block",
    "Dense",
    "DepthLaw",
    "Init",
    "InitAdvice",
    "L",
    "LawKind",
    "LayerNorm",
    "Prediction",
    "Repeat",
    "Residual",
    "Serial",
    "activation",
    "batchnorm",
    "bn_mlp",
    "dense",
    "depth_law",
    "fixup",
    "framework_gains",
    "layernorm",
    "mlp",
    "parse_network",
    "post_ln",
    "pre_ln",
    "predict",
    "recommend_init",
    "repeat",
    "residual",
    "resnet",
    "rezero",
    "serial",
]
