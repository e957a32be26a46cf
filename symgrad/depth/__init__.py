"""After L layers?  Fixed points, the gradient product in closed form, bounds,
chain traces, the residual highway and clipping.

>>> from symgrad.depth import vanishing_depth
>>> vanishing_depth(0.5, 0.125).depth
4
"""

from symgrad.depth.bounds import (
    DepthThreshold,
    Growth,
    WeightBound,
    exploding_depth,
    vanishing_depth,
    weight_bound,
)
from symgrad.depth.clipping import (
    clip,
    clipping_facts,
)
from symgrad.depth.fixed_point import FixedPoint, fixed_point
from symgrad.depth.product import GradientProduct, gradient_product
from symgrad.depth.residual import (
    ResidualBlock,
    ResidualProduct,
    residual_block,
    residual_lower_bound,
    residual_negative_cases,
    residual_product,
)
from symgrad.depth.trace import (
    Architecture,
    ChainRow,
    ChainTrace,
    chain_trace,
    residual_trace,
)

__all__ = [
    "Architecture",
    "ChainRow",
    "ChainTrace",
    "DepthThreshold",
    "FixedPoint",
    "GradientProduct",
    "Growth",
    "ResidualBlock",
    "ResidualProduct",
    "WeightBound",
    "chain_trace",
    "clip",
    "clipping_facts",
    "exploding_depth",
    "fixed_point",
    "gradient_product",
    "residual_block",
    "residual_lower_bound",
    "residual_negative_cases",
    "residual_product",
    "residual_trace",
    "vanishing_depth",
    "weight_bound",
]
