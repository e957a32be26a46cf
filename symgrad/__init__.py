"""symgrad: the vanishing and exploding gradient problem, made exact.

The façade: every public name, loaded on first use (PEP 562), so ``import symgrad``
and ``symgrad --help`` stay cheap — the numeric layer and the report pages load only
when a name that needs them is used.  The questions live in subpackages
(``symgrad.activations``, ``symgrad.slopes``, ``symgrad.depth``, …); see the README.

>>> import symgrad
>>> symgrad.max_slope("sigmoid").value
1/4
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# ---- a clone shadowing the package ----
# `git clone … symgrad` makes ./symgrad the repository's root, which holds the package in
# ./symgrad/symgrad.  A script run from the parent directory then finds ./symgrad first
# and imports it as a namespace package (it has no __init__.py): `from symgrad import
# max_slope` fails with "cannot import name 'max_slope' from 'symgrad' (unknown
# location)" and nothing of symgrad runs to explain it (the README says so).  When this
# file does run under another name — `import symgrad.symgrad`, the usual next attempt —
# it says what happened instead of failing later on a confusing import.
if __name__ != "symgrad":
    import os as _os

    _clone = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
    raise ImportError(
        f"symgrad is being imported as {__name__!r}: the directory {_clone!r} (a clone of "
        "the symgrad repository) shadows the package because a script runs from its parent"
        " directory, where the clone's folder is itself called 'symgrad'. Run the script "
        f"from another directory, or rename the clone (git clone … symgrad-repo), or install"
        f" it (pip install -e {_clone!r}) and run from elsewhere; then `import symgrad`.")

# Where each public name lives: its question's package.
_HOMES: dict[str, tuple[str, ...]] = {
    "symgrad.activations": (
        "Activation", "activation", "activation_names", "register_activation",
        "unregister_activation", "z",
    ),
    "symgrad.depth": (
        "Architecture", "ChainRow", "ChainTrace", "DepthThreshold", "FixedPoint",
        "GradientProduct", "Growth", "WeightBound", "chain_trace", "clip", "clipping_facts",
        "exploding_depth", "fixed_point", "gradient_product", "residual_block",
        "residual_lower_bound", "residual_negative_cases", "residual_product", "residual_trace",
        "vanishing_depth", "weight_bound",
    ),
    "symgrad.errors": (
        "InvalidArgument", "NoClosedForm", "SymgradError",
    ),
    "symgrad.initialization": (
        "FanMode", "Gain", "GainTable", "InitVariance", "MomentFactor", "Principle", "gain",
        "gain_table", "he_variance", "moment_factor", "second_moment", "xavier_variance",
    ),
    "symgrad.meanfield": (
        "CriticalPoint", "MeanField", "MeanFieldMode", "Phase", "PhaseDiagram",
        "VarianceFixedPoint", "critical_sigma_w", "mean_field", "phase_diagram",
    ),
    "symgrad.networks": (
        "DepthLaw", "InitAdvice", "LawKind", "Prediction", "predict", "recommend_init",
    ),
    "symgrad.numeric": ("Simulation", "compare", "simulate", "sweep", "train"),
    "symgrad.numeric.networks": ("NetworkSimulation",),
    "symgrad.numeric.checks": ("crosscheck",),
    "symgrad.recurrent": (
        "SpectralCondition", "after_steps", "bptt_jacobian", "gru_update_path", "lstm_carousel",
        "pascanu_conditions",
    ),
    "symgrad.spectrum": (
        "GradientNormLaw", "JacobianSpectrum", "gradient_norm_distribution", "isometry_point",
        "jacobian_spectrum",
    ),
    "symgrad.slopes": (
        "EPSILON", "ExpectedSlope", "MaxSlope", "PointSlope", "Reach", "Saturation",
        "expected_slope", "max_slope", "saturation", "slope",
    ),
}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}
#: Subpackages served by name (``symgrad.networks`` holds the architecture constructors,
#: whose names — ``activation``, ``dense`` — would clash at the top level).
_SUBPACKAGES = ("networks",)

__all__ = [
    "EPSILON",
    "Activation",
    "Architecture",
    "ChainRow",
    "ChainTrace",
    "CriticalPoint",
    "DepthLaw",
    "DepthThreshold",
    "ExpectedSlope",
    "FanMode",
    "FixedPoint",
    "Gain",
    "GainTable",
    "GradientNormLaw",
    "GradientProduct",
    "Growth",
    "InitAdvice",
    "InitVariance",
    "InvalidArgument",
    "JacobianSpectrum",
    "LawKind",
    "MaxSlope",
    "MeanField",
    "MeanFieldMode",
    "MomentFactor",
    "NetworkSimulation",
    "NoClosedForm",
    "Phase",
    "PhaseDiagram",
    "PointSlope",
    "Prediction",
    "Principle",
    "Reach",
    "Saturation",
    "Simulation",
    "SpectralCondition",
    "SymgradError",
    "VarianceFixedPoint",
    "WeightBound",
    "activation",
    "activation_names",
    "after_steps",
    "bptt_jacobian",
    "chain_trace",
    "clip",
    "clipping_facts",
    "compare",
    "critical_sigma_w",
    "crosscheck",
    "expected_slope",
    "exploding_depth",
    "fixed_point",
    "gain",
    "gain_table",
    "gradient_norm_distribution",
    "gradient_product",
    "gru_update_path",
    "he_variance",
    "isometry_point",
    "jacobian_spectrum",
    "lstm_carousel",
    "max_slope",
    "mean_field",
    "moment_factor",
    "networks",
    "pascanu_conditions",
    "phase_diagram",
    "predict",
    "recommend_init",
    "register_activation",
    "residual_block",
    "residual_lower_bound",
    "residual_negative_cases",
    "residual_product",
    "residual_trace",
    "saturation",
    "second_moment",
    "simulate",
    "slope",
    "sweep",
    "train",
    "unregister_activation",
    "vanishing_depth",
    "weight_bound",
    "xavier_variance",
    "z",
]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"symgrad.{name}")
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'symgrad' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what the type checker and IDEs see
    from symgrad import networks
    from symgrad.activations import (
        Activation,
        activation,
        activation_names,
        register_activation,
        unregister_activation,
        z,
    )
    from symgrad.depth import (
        Architecture,
        ChainRow,
        ChainTrace,
        DepthThreshold,
        FixedPoint,
        GradientProduct,
        Growth,
        WeightBound,
        chain_trace,
        clip,
        clipping_facts,
        exploding_depth,
        fixed_point,
        gradient_product,
        residual_block,
        residual_lower_bound,
        residual_negative_cases,
        residual_product,
        residual_trace,
        vanishing_depth,
        weight_bound,
    )
    from symgrad.errors import (
        InvalidArgument,
        NoClosedForm,
        SymgradError,
    )
    from symgrad.initialization import (
        FanMode,
        Gain,
        GainTable,
        InitVariance,
        MomentFactor,
        Principle,
        gain,
        gain_table,
        he_variance,
        moment_factor,
        second_moment,
        xavier_variance,
    )
    from symgrad.meanfield import (
        CriticalPoint,
        MeanField,
        MeanFieldMode,
        Phase,
        PhaseDiagram,
        VarianceFixedPoint,
        critical_sigma_w,
        mean_field,
        phase_diagram,
    )
    from symgrad.networks import (
        DepthLaw,
        InitAdvice,
        LawKind,
        Prediction,
        predict,
        recommend_init,
    )
    from symgrad.numeric import (
        Simulation,
        compare,
        simulate,
        sweep,
        train,
    )
    from symgrad.numeric.checks import crosscheck
    from symgrad.numeric.networks import NetworkSimulation
    from symgrad.recurrent import (
        SpectralCondition,
        after_steps,
        bptt_jacobian,
        gru_update_path,
        lstm_carousel,
        pascanu_conditions,
    )
    from symgrad.slopes import (
        EPSILON,
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
    from symgrad.spectrum import (
        GradientNormLaw,
        JacobianSpectrum,
        gradient_norm_distribution,
        isometry_point,
        jacobian_spectrum,
    )
