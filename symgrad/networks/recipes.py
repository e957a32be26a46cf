"""Architectures people build, and the initialisation recipes, as one-line values.

Families (every parameter may be a SymPy expression in the depth symbol :data:`L`):

=======================================  ==============================================
recipe                                   network (``depth`` copies of the block)
=======================================  ==============================================
``mlp(φ, depth, sigma_w, sigma_b)``      h_l = φ(W h_{l−1} + b)
``resnet(φ, depth, scale=s)``            h_l = h_{l−1} + s·(W φ(h_{l−1}) + b)
``pre_ln(φ, depth, scale=s)``            h_l = h_{l−1} + s·(W φ(LN(h_{l−1})) + b)
``post_ln(φ, depth)``                    h_l = LN(h_{l−1} + W φ(h_{l−1}) + b)
``bn_mlp(φ, depth, batch=None)``         h_l = φ(BN(W h_{l−1}))
=======================================  ==============================================

Recipes for deep residual networks, at initialisation:

* **ReZero / SkipInit** (Bachlechner et al. 2020; De and Smith 2020): the branch is
  multiplied by a scalar initialised at 0 — ``rezero(φ, depth)`` is
  ``resnet(φ, depth, scale=0)``, so every block is the identity: J^{L,0} = 1.
* **1/√L and 1/L branch multipliers**: ``resnet(φ, depth, scale=a/sqrt(L))`` keeps
  J^{L,0} bounded (→ e^{a²σ_w²/2} for relu), ``scale=a/L`` sends it to 1.
* **Fixup** (Zhang, Dauphin and Ma 2019): a branch of m dense layers,
  φ → W_1 → φ → W_2 … φ → W_m, with W_1 … W_{m−1} He-initialised and scaled by
  L^{−1/(2m−2)} and the last layer W_m initialised to 0 (``last=0``): at init J^{L,0} = 1
  and only the last layers receive gradient, the same amount in every block.  Once W_m
  has moved to a gain ε (``last=ε``, He-scaled) the relu branch's factor is
  ε²·L^{−1}·(the m − 1 scalings' L^{−1} cancel the 2^m of He against relu's 1/2^m), so
  J^{L,0} = (1 + ε²/L)^L → e^{ε²} for every m: the scaling makes the depth law bounded.

>>> import sympy
>>> from symgrad.networks import predict
>>> predict(fixup("relu", 30, m=3)).law.kind.value, predict(rezero("tanh", 30)).jacobian_exact
('bounded', 1)
>>> law = predict(resnet("relu", 40, scale=1 / sympy.sqrt(L))).law
>>> law.kind.value, law.constant
('bounded', exp(1/2))
"""

from __future__ import annotations

from typing import Any

import sympy

from symgrad._core.validate import as_positive_int
from symgrad.activations import Activation
from symgrad.errors import InvalidArgument
from symgrad.networks.blocks import (
    Block,
    Init,
    L,
    activation,
    batchnorm,
    dense,
    layernorm,
    repeat,
    residual,
    serial,
)

__all__ = ["bn_mlp", "fixup", "mlp", "post_ln", "pre_ln", "resnet", "rezero"]


def _act(act: Activation | str) -> Block:
    return activation(act)


def mlp(act: Activation | str, depth: int, *, sigma_w: Any = 1, sigma_b: Any = 0,
        init: Init | str = Init.GAUSSIAN) -> Block:
    """The plain MLP: ``repeat(serial(dense(σ_w, σ_b, init), activation(φ)), depth)``."""
    return repeat(serial(dense(sigma_w, sigma_b, init=init), _act(act)), depth)


def resnet(act: Activation | str, depth: int, *, sigma_w: Any = 1, sigma_b: Any = 0,
           scale: Any = 1) -> Block:
    """The plain residual stack h + s·(W φ(h) + b)."""
    return repeat(residual(serial(_act(act), dense(sigma_w, sigma_b)), scale=scale), depth)


def pre_ln(act: Activation | str, depth: int, *, sigma_w: Any = 1, sigma_b: Any = 0,
           scale: Any = 1) -> Block:
    """The pre-LN stack h + s·(W φ(LN(h)) + b) (transformers' arrangement)."""
    return repeat(residual(serial(layernorm(), _act(act), dense(sigma_w, sigma_b)),
                           scale=scale), depth)


def post_ln(act: Activation | str, depth: int, *, sigma_w: Any = 1, sigma_b: Any = 0) -> Block:
    """The post-LN stack LN(h + W φ(h) + b) (the original transformer's)."""
    return repeat(serial(residual(serial(_act(act), dense(sigma_w, sigma_b))), layernorm()),
                  depth)


def bn_mlp(act: Activation | str, depth: int, *, sigma_w: Any = 1,
           batch: int | None = None) -> Block:
    """Dense, batch norm, φ: ``repeat(serial(dense(σ_w), batchnorm(batch), φ), depth)``."""
    return repeat(serial(dense(sigma_w), batchnorm(batch), _act(act)), depth)


def rezero(act: Activation | str, depth: int, *, sigma_w: Any = 1) -> Block:
    """ReZero / SkipInit at initialisation: the branch multiplier is 0."""
    return resnet(act, depth, sigma_w=sigma_w, scale=0)


def fixup(act: Activation | str, depth: int, *, m: int = 2, last: Any = 0) -> Block:
    """Fixup's residual stack (module docstring): m dense layers per branch, the first
    m − 1 He-initialised with gain L^{−1/(2m−2)}, the last with gain ``last`` (0 at init)."""
    m = as_positive_int(m, "m", minimum=2)
    if m > 16:
        raise InvalidArgument(f"m must be at most 16 layers per branch, got {m}")
    scaled = L ** sympy.Rational(-1, 2 * m - 2)
    layers: list[Block] = []
    for _ in range(m - 1):
        layers += [_act(act), dense(scaled, init=Init.HE_NORMAL)]
    layers += [_act(act), dense(last, init=Init.HE_NORMAL)]
    return repeat(residual(serial(*layers)), depth)
