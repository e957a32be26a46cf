"""Generated junk thrown at every public function: a result or InvalidArgument, nothing else,
and never a hang.

Every public callable (the façade's functions and the public subpackages' functions) is
called with arguments drawn from a pool of careless and hostile values — NaN, ±∞, huge and
tiny numbers, negative sizes, wrong types, complex and undefined SymPy objects, nested
containers — mixed with plausible ones, so that calls reach past the first check.  A call
must return or raise :class:`symgrad.errors.InvalidArgument` within the time budget.
"""

from __future__ import annotations

import inspect
import math
import signal
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad
import symgrad.activations
import symgrad.claims
import symgrad.depth
import symgrad.initialization
import symgrad.meanfield
import symgrad.numeric
import symgrad.recurrent
import symgrad.reports
import symgrad.slopes
import symgrad.spectrum
from symgrad.errors import InvalidArgument

MODULES = (symgrad.activations, symgrad.slopes, symgrad.depth, symgrad.recurrent,
           symgrad.initialization, symgrad.meanfield, symgrad.spectrum, symgrad.numeric,
           symgrad.claims, symgrad.reports)

#: Seconds one call may take (a refusal is immediate; a legitimate computation on the
#: plausible values below takes well under this) ...
BUDGET = 20
#: ... except the calls whose docstrings state a longer budget: every cross-check, the
#: whole-catalogue gain table, two training runs.
BUDGETS = {"symgrad.crosscheck": 600, "symgrad.numeric.crosscheck": 600,
           "symgrad.gain_table": 120, "symgrad.initialization.gain_table": 120,
           "symgrad.compare": 60, "symgrad.numeric.compare": 60}

JUNK: list[Any] = [
    None, True, False, 0, -1, 1, 3, 2**63, 10**20, -(10**20), 10**4000,
    0.0, -0.0, 5e-324, 1e-300, 1e308, -1e308, 1.5, math.nan, math.inf, -math.inf,
    Fraction(5, 3), "", " ", "x", "1/0", "nan", "10^10^10", "relu", "tanh", "sigmoid",
    [], [1, 2], [[1, 2], [3]], [[0.5, 0.0], [0.0, 0.5]], {}, {"a": 5}, (1,), {1, 2},
    complex(1, 1), sympy.I, sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.Symbol("x"),
    sympy.Rational(1, 3), sympy.sqrt(2), sympy.Symbol("z") ** 2, sympy.Function("f")(
        sympy.Symbol("z")),
    np.array([]), np.array([1.0, np.nan]), np.float64(np.nan), np.int64(-5), object(),
    lambda x: x, b"bytes",
]
#: Plausible values, so that a call gets past its first check and meets the next.
PLAUSIBLE: list[Any] = ["relu", "tanh", "sigmoid", 1, 2, 0.5, 0.1, 4, 10, 1e-3, 0]


def _public_functions() -> list[tuple[str, Callable[..., Any]]]:
    found: dict[str, Callable[..., Any]] = {}
    for name in symgrad.__all__:
        value = getattr(symgrad, name)
        if inspect.isfunction(value):
            found[f"symgrad.{name}"] = value
    for module in MODULES:
        for name in getattr(module, "__all__", []):
            value = getattr(module, name)
            if inspect.isfunction(value) and value not in found.values():
                found[f"{module.__name__}.{name}"] = value
    # Functions that write files, start pools or only wrap a strategy are exercised by their
    # own tests with their own junk tables.
    skip = {"symgrad.reports.build_reports", "symgrad.numeric.sweep", "symgrad.sweep",
            "symgrad.reports.render_reports", "symgrad.reports.check_reports"}
    return sorted((k, v) for k, v in found.items() if k not in skip)


FUNCTIONS = _public_functions()


def _arguments(fn: Callable[..., Any]) -> st.SearchStrategy[tuple[list[Any], dict[str, Any]]]:
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    value = st.one_of(st.sampled_from(JUNK), st.sampled_from(PLAUSIBLE))

    @st.composite
    def draw(d: Any) -> tuple[list[Any], dict[str, Any]]:
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for p in params:
            required = p.default is p.empty
            if not required and not d(st.booleans()):
                continue
            v = d(value)
            if p.kind is p.KEYWORD_ONLY:
                kwargs[p.name] = v
            else:
                args.append(v)
        return args, kwargs

    return draw()


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Hang


def _junk_check(name: str, fn: Callable[..., Any], examples: int) -> None:
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(_arguments(fn))
    def check(call: tuple[list[Any], dict[str, Any]]) -> None:
        args, kwargs = call
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(BUDGETS.get(name, BUDGET))
        try:
            fn(*args, **kwargs)
        except InvalidArgument as exc:
            assert str(exc).strip(), "an InvalidArgument must say what is allowed"
        except _Hang:
            pytest.fail(f"{name}{_show(args, kwargs)} ran past {BUDGETS.get(name, BUDGET)} s")
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)

    check()


@pytest.mark.parametrize("name,fn", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_junk_gives_a_result_or_invalid_argument(name: str, fn: Callable[..., Any]) -> None:
    _junk_check(name, fn, examples=6)


@pytest.mark.slow
@pytest.mark.parametrize("name,fn", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_more_junk_gives_a_result_or_invalid_argument(name: str, fn: Callable[..., Any]) -> None:
    _junk_check(name, fn, examples=60)


def _show(args: list[Any], kwargs: dict[str, Any]) -> str:
    inner = [repr(a)[:60] for a in args] + [f"{k}={v!r}"[:60] for k, v in kwargs.items()]
    return "(" + ", ".join(inner) + ")"
