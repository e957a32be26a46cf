"""Beyond the mean: the Jacobian's singular-value spectrum and the finite-width spread of
gradient norms.

=========================  =====================================================
module                     question
=========================  =====================================================
``jacobian``               :func:`jacobian_spectrum`: moments, edge, density of JJᵀ
``moments``                m_k by S-transforms and Lagrange inversion (exact)
``edge``                   λ_max: where the inverse M-transform turns
``density``                ρ(λ) by Stieltjes inversion, checked against m_0, m_1, m_2
``design``                 :func:`isometry_point`: a critical point with a tight spectrum
``critical``               :func:`critical_point`: the critical line at a given q*, exactly
``gradnorm``               :func:`gradient_norm_distribution`: E ln X, Var ln X at width n
=========================  =====================================================

>>> from symgrad.spectrum import jacobian_spectrum
>>> jacobian_spectrum("identity", sigma_w=1, depth=2, density_points=0).moments
(1, 3, 12, 55)
"""

from symgrad.spectrum.critical import CriticalLinePoint, critical_point
from symgrad.spectrum.design import IsometryPoint, isometry_point
from symgrad.spectrum.gradnorm import GradientNormLaw, NormLawMethod, gradient_norm_distribution
from symgrad.spectrum.jacobian import JacobianSpectrum, Weights, jacobian_spectrum

__all__ = [
    "CriticalLinePoint",
    "GradientNormLaw",
    "IsometryPoint",
    "JacobianSpectrum",
    "NormLawMethod",
    "Weights",
    "critical_point",
    "gradient_norm_distribution",
    "isometry_point",
    "jacobian_spectrum",
]
