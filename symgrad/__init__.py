"""symgrad: the vanishing and exploding gradient problem, made exact."""

from symgrad.activations import (
    Activation,
    activation,
    activation_names,
    register_activation,
    unregister_activation,
    z,
)
from symgrad.bounds import (
    DepthThreshold,
    Growth,
    WeightBound,
    exploding_depth,
    vanishing_depth,
    weight_bound,
)
from symgrad.clipping import clip, clipping_facts
from symgrad.depth import FixedPoint, GradientProduct, fixed_point, gradient_product
from symgrad.errors import InvalidArgument, NoClosedForm, SymgradError
from symgrad.numeric import Simulation, compare, crosscheck, simulate, sweep, train
from symgrad.recurrent import (
    SpectralCondition,
    after_steps,
    bptt_jacobian,
    gru_update_path,
    lstm_carousel,
    pascanu_conditions,
)
from symgrad.residual import (
    residual_block,
    residual_lower_bound,
    residual_negative_cases,
    residual_product,
)
from symgrad.slopes import (
    ExpectedSlope,
    MaxSlope,
    PointSlope,
    Reach,
    Saturation,
    expected_slope,
    max_slope,
    saturation,
    slope,
)
from symgrad.trace import Architecture, ChainRow, ChainTrace, chain_trace, residual_trace

__all__ = [
    "Activation",
    "Architecture",
    "ChainRow",
    "ChainTrace",
    "DepthThreshold",
    "ExpectedSlope",
    "FixedPoint",
    "GradientProduct",
    "Growth",
    "InvalidArgument",
    "MaxSlope",
    "NoClosedForm",
    "PointSlope",
    "Reach",
    "Saturation",
    "Simulation",
    "SpectralCondition",
    "SymgradError",
    "WeightBound",
    "activation",
    "activation_names",
    "after_steps",
    "bptt_jacobian",
    "chain_trace",
    "clip",
    "clipping_facts",
    "compare",
    "crosscheck",
    "expected_slope",
    "exploding_depth",
    "fixed_point",
    "gradient_product",
    "gru_update_path",
    "lstm_carousel",
    "max_slope",
    "pascanu_conditions",
    "register_activation",
    "residual_block",
    "residual_lower_bound",
    "residual_negative_cases",
    "residual_product",
    "residual_trace",
    "saturation",
    "simulate",
    "slope",
    "sweep",
    "train",
    "unregister_activation",
    "vanishing_depth",
    "weight_bound",
    "z",
]
