"""The derivation steps of a :class:`~symgrad.spectrum.jacobian.JacobianSpectrum`, as SymPy.

>>> from symgrad.spectrum.jacobian import Weights
>>> s_transform_step(Weights.GAUSSIAN, sympy.Integer(2)).math
Eq(S_{WW^T}(w), 1/(4*w + 4))
"""

from __future__ import annotations

from typing import Any

import sympy

from symgrad.records import Step

__all__ = ["display", "s_transform_step", "spectrum_steps"]

_W = sympy.Symbol("w")


def display(value: Any) -> Any:
    """A number as a step shows it: a rational of more than 20 digits (a 30-digit σ_w, its
    square) as a 15-digit Float, anything else as it is."""
    e = sympy.sympify(value)
    if e.is_Rational and len(str(e.p)) + len(str(e.q)) > 20:
        return sympy.Float(e, 15)
    return e


def s_transform_step(weights: Any, sigma_w: sympy.Expr) -> Step:
    """S_{WWᵀ}: Marchenko–Pastur for Gaussian weights, a constant for orthogonal ones."""
    gaussian = weights.value == "gaussian"
    scale = display(sigma_w**2)
    rhs = 1 / (scale * (1 + _W)) if gaussian else 1 / scale
    text = ("S-transform of WWᵀ (Marchenko–Pastur, ratio 1)" if gaussian
            else "S-transform of WWᵀ = σ_w² I (orthogonal weights)")
    return Step(text, sympy.Eq(sympy.Function("S_{WW^T}")(_W), rhs, evaluate=False))


def spectrum_steps(sigma_w: Any, q_star: Any, mu: Any, comp: Any, depth: Any, weights: Any,
                   count: int) -> list[Step]:
    """Fixed point, slope moments, S-transforms, Lagrange inversion, moments, variance.

    The equations are built with ``evaluate=False``: each is a statement to show (a symbol
    equal to a value), and deciding it would only compare them, for milliseconds each."""
    steps = [Step("Mean-field fixed point (the law of every h_l)",
                  sympy.Eq(sympy.Symbol("q^*"), q_star, evaluate=False))]
    for k, value in enumerate(mu.values[:count], start=1):
        steps.append(Step(f"Slope moment μ_{k} = E[φ'(√q* Z)^{2 * k}]",
                          sympy.Eq(sympy.Symbol(f"\\mu_{k}"), value, evaluate=False)))
    steps.append(s_transform_step(weights, sigma_w))
    steps.append(Step("S-transform of D² from M_{D²}(z) = Σ μ_k z^k, S = M⁻¹(w)(1 + w)/w; "
                      "free factors multiply their S-transforms over the L layers",
                      r"S_{JJ^T}(w) = \prod_{l=1}^{L} S_{WW^T}(w)\,S_{D^2}(w)"))
    steps.append(Step("Lagrange inversion of M = z(1 + M)/S_{JJᵀ}(M), with S̃ = S/S(0) and "
                      "m_1 = χ₁^L",
                      r"\frac{m_k}{m_1^k} = \frac{1}{k}[w^{k-1}]\,(1+w)^k\,"
                      r"\tilde S(w)^{-Lk}"))
    for k, value in enumerate(comp.moments[:count], start=1):
        steps.append(Step(f"m_{k} at depth {depth}",
                          sympy.Eq(sympy.Symbol(f"m_{k}"), value, evaluate=False)))
    steps.append(Step("Spread of the spectrum relative to its mean",
                      sympy.Eq(sympy.Symbol(r"\frac{m_2}{m_1^2} - 1"), comp.variance,
                               evaluate=False)))
    return steps
