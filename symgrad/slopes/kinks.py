"""The kink convention, stated where it decides an answer.

At a kink b (φ continuous, φ' jumping) symgrad's φ'(b) is the value of the piece that
contains b — ReLU'(0) = 0, as the NumPy kernels and the deep-learning frameworks compute
it (:attr:`~symgrad.activations.record.Activation.derivative`).  Most answers do not
depend on that choice; when one does ("attained at 0", "0 is saturated"), the record
says so in its ``convention`` field and in a step.

>>> from symgrad.activations.registry import activation
>>> kink = activation("relu").kinks[0]
>>> convention_side(activation("relu"), kink)
'left'
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sympy

from symgrad._core.format import number_text, set_text
from symgrad._core.symbols import z
from symgrad._exact.signs import abs_exact, same, sign_of
from symgrad.activations.record import Activation, Kink, exact_limit

__all__ = ["CONVENTION", "convention_side", "kinks_of", "saturation_notes", "sup_notes"]

#: The convention, in words.
CONVENTION = ("φ' at a kink is the value of the piece that contains it (as the NumPy "
              "kernels and the deep-learning frameworks compute it)")


@lru_cache(maxsize=256)
def kinks_of(act: Activation) -> tuple[Kink, ...]:
    """The kinks of φ (breakpoints where the one-sided derivatives differ), decided by
    :func:`~symgrad._exact.signs.sign_of` (a 60-digit evaluation; SymPy's ``simplify`` only
    when that does not decide), so a long closed form such as SELU's costs milliseconds.

    >>> from symgrad.activations.registry import activation
    >>> [(k.at, k.left, k.right) for k in kinks_of(activation("relu"))]
    [(0, 0, 1)]
    """
    found = []
    for left, right in zip(act.pieces, act.pieces[1:], strict=False):
        dl = exact_limit(left.derivative, left.hi, "-")
        dr = exact_limit(right.derivative, right.lo, "+")
        if sign_of(dl - dr) != 0:
            found.append(Kink(left.hi, dl, dr))
    return tuple(found)


def convention_side(act: Activation, kink: Kink) -> str:
    """"left" or "right": whose one-sided value φ'(b) takes at the kink."""
    value = act.derivative.subs(z, kink.at)
    return "left" if same(value, kink.left) else "right"


def _jump(act: Activation, kink: Kink) -> tuple[str, sympy.Expr, sympy.Expr]:
    side = convention_side(act, kink)
    taken, other = (kink.left, kink.right) if side == "left" else (kink.right, kink.left)
    return side, taken, other


def sup_notes(act: Activation, equals_sup: Callable[[sympy.Expr], bool],
              argmax: sympy.Set) -> list[str]:
    """Sentences for each kink where the convention decides whether the sup is attained
    there (``equals_sup(v)``: |v| is provably the sup)."""
    notes = []
    for kink in kinks_of(act):
        side, taken, other = _jump(act, kink)
        hit, miss = equals_sup(taken), equals_sup(other)
        b = _signed(kink.at)
        other_side = "right" if side == "left" else "left"
        if hit and not miss:
            only = argmax == sympy.FiniteSet(kink.at)
            consequence = (f"so the sup is attained at z = {b} only under this convention: with "
                           f"the {other_side} piece's value {number_text(other)} it would be "
                           "approached there, not attained") if only else (
                f"so z = {b} belongs to the argmax {set_text(argmax)} only under this "
                "convention")
            notes.append(f"At the kink z = {b} φ' jumps from {number_text(kink.left)} to "
                         f"{number_text(kink.right)}; φ'({b}) = {number_text(taken)} is the "
                         f"{side} piece's value (the kink convention), {consequence}.")
        elif miss and not hit:
            notes.append(f"At the kink z = {b} φ' jumps from {number_text(kink.left)} to "
                         f"{number_text(kink.right)}; φ'({b}) = {number_text(taken)} is the "
                         f"{side} piece's value (the kink convention), so z = {b} is not in the "
                         f"argmax: the sup is attained on {set_text(argmax)} and only "
                         f"approached at z = {b} from the {other_side}.")
    return [f"Kink convention: {CONVENTION}.", *notes] if notes else []


def saturation_notes(act: Activation, eps: sympy.Expr, region: sympy.Set) -> list[str]:
    """Sentences for each kink whose membership in {|φ'| < ε} the convention decides."""
    notes = []
    for kink in kinks_of(act):
        side, taken, other = _jump(act, kink)
        below_taken, below_other = _below(taken, eps), _below(other, eps)
        if below_taken == below_other:
            continue
        b = _signed(kink.at)
        verdict = "belongs to" if below_taken else "is not in"
        flipped = "would not" if below_taken else "would"
        notes.append(f"At the kink z = {b}, φ'({b}) = {number_text(taken)} is the {side} "
                     f"piece's value (the kink convention), so z = {b} {verdict} the "
                     f"saturated set; with the other piece's value {number_text(other)} it "
                     f"{flipped}.")
    return [f"Kink convention: {CONVENTION}.", *notes] if notes else []


def _signed(value: sympy.Expr) -> str:
    text = number_text(value)
    return "−" + text[1:] if text.startswith("-") else text


def _below(value: sympy.Expr, eps: sympy.Expr) -> bool:
    return (sign_of(abs_exact(value) - eps) or 0) < 0
