"""φ' of every catalogue activation written by hand in mpmath (default parameters), and
the helpers the proven-digit tests use: nothing here imports symgrad.

The derivatives are differentiated on paper from the published definitions; at a kink
they take the value of the piece containing it (left pieces: ReLU'(0) = 0).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

import mpmath as mp

Fn = Callable[[Any], Any]


def _sig(x: Any) -> Any:
    return 1 / (1 + mp.exp(-x))


def _selu_constants() -> tuple[Any, Any]:
    """(λ, α) of SELU in closed form (Klambauer et al. 2017, eq. 14)."""
    e1 = mp.erfc(1 / mp.sqrt(2))
    alpha = -mp.sqrt(2 / mp.pi) / (e1 * mp.exp(mp.mpf(1) / 2) - 1)
    lam = (1 - e1 * mp.sqrt(mp.e)) * mp.sqrt(2 * mp.pi) * (
        2 * mp.erfc(mp.sqrt(2)) * mp.e**2 + mp.pi * e1**2 * mp.e
        - 2 * (2 + mp.pi) * e1 * mp.sqrt(mp.e) + mp.pi + 2) ** (-mp.mpf(1) / 2)
    return lam, alpha


def _gelu_tanh(x: Any) -> Any:
    # φ = x/2·(1 + tanh u), u = c(x + k x³): φ' = (1 + tanh u)/2 + x/2·sech²(u)·c(1 + 3k x²)
    c, k = mp.sqrt(2 / mp.pi), mp.mpf(44715) / 10**6
    u = c * (x + k * x**3)
    return (1 + mp.tanh(u)) / 2 + x / 2 / mp.cosh(u) ** 2 * c * (1 + 3 * k * x**2)


def _mish(x: Any) -> Any:
    # φ = x·tanh(sp), sp = log(1 + e^x), sp' = σ(x): φ' = tanh(sp) + x·sech²(sp)·σ(x)
    sp = mp.log1p(mp.exp(x))
    return mp.tanh(sp) + x / mp.cosh(sp) ** 2 * _sig(x)


def _selu(x: Any) -> Any:
    lam, alpha = _selu_constants()
    return lam * alpha * mp.exp(x) if x <= 0 else lam


HAND: dict[str, Fn] = {
    "identity": lambda x: mp.mpf(1),
    "sigmoid": lambda x: _sig(x) * (1 - _sig(x)),
    "tanh": lambda x: 1 / mp.cosh(x) ** 2,
    "erf": lambda x: 2 / mp.sqrt(mp.pi) * mp.exp(-x * x),
    "softsign": lambda x: 1 / (1 + abs(x)) ** 2,
    "hard_sigmoid": lambda x: mp.mpf(1) / 6 if -3 < x <= 3 else mp.mpf(0),
    "hard_tanh": lambda x: mp.mpf(1) if -1 < x <= 1 else mp.mpf(0),
    "leaky_relu": lambda x: mp.mpf(1) / 100 if x <= 0 else mp.mpf(1),
    "relu": lambda x: mp.mpf(0) if x <= 0 else mp.mpf(1),
    "elu": lambda x: mp.exp(x) if x <= 0 else mp.mpf(1),
    "selu": _selu,
    "gelu": lambda x: mp.ncdf(x) + x * mp.npdf(x),
    "gelu_tanh": _gelu_tanh,
    "softplus": _sig,
    "swish": lambda x: _sig(x) * (1 + x * (1 - _sig(x))),
    "silu": lambda x: _sig(x) * (1 + x * (1 - _sig(x))),
    "mish": _mish,
}


def decimal_of(x: Any, digits: int = 90) -> Decimal:
    with mp.workdps(digits + 5):
        return Decimal(mp.nstr(x, digits, min_fixed=-(10**9), max_fixed=10**9))


def assert_proven(text: str, reference: Any) -> None:
    """The printed string is the reference rounded (half to even) at the string's last
    place: every printed digit is right."""
    shown = Decimal(text)
    places = shown.as_tuple().exponent
    assert isinstance(places, int)
    with localcontext() as ctx:
        ctx.prec = 200
        rounded = decimal_of(reference).quantize(Decimal(1).scaleb(places), ROUND_HALF_EVEN)
    assert rounded == shown, f"printed {text}, but the reference rounds to {rounded}"


def significant(text: str) -> int:
    """Significant digits of a printed decimal."""
    mantissa = text.lower().split("e")[0].lstrip("-").replace(".", "").lstrip("0")
    return len(mantissa)
