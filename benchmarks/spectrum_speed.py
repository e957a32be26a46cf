"""How fast are the Jacobian spectrum and its checks, against straightforward alternatives?

Run:  python benchmarks/spectrum_speed.py            (full: depth 100, width 2048)
      python benchmarks/spectrum_speed.py --quick    (smoke run: depth 20, width 512)

Prints, measured in the same run and side by side:

1. exact moments m_1 … m_6 of JJᵀ at depth 100 (``jacobian_spectrum(…, moments=6,
   density_points=0)``, relu Gaussian and orthogonal, linear Gaussian; median of 5 warm
   calls) — target ≤ 1 s — against free multiplicative convolution by the moment–cumulant
   formula on non-crossing partitions, one layer at a time in exact rationals (the
   textbook route), and the ratio;  the same moments as polynomials in a symbolic depth L;
2. the simulated spectrum check at width 2048 (relu, Gaussian, depth 4: ``spectrum_rows``
   at widths 2048 and 1024, 3 networks each) — its time is printed — and one network's
   Jacobian and singular values by ``simulate_jacobians`` against the same NumPy loop left
   to the BLAS's own threads, networks one after another;
3. the exact relu law of ln‖Ju‖² at widths 4096 (certified) and the tanh β-expansion; and
   10⁴ simulated gradient norms, row sampler against full matrices;
4. the cold first call of ``jacobian_spectrum`` (tanh, erf, gelu_tanh at σ_w = 1.2,
   σ_b = 0.1, depth 10, 4 moments, certified), each in a fresh interpreter, against the
   route before the exactness engine (``expected_slope`` for μ_1 … μ_4 at the same q*, also
   cold), with the share spent in ``mean_field``'s own first call.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from fractions import Fraction
from functools import cache
from math import comb, prod
from typing import Any

import numpy as np
import sympy

from symgrad.numeric._rng import root_seed
from symgrad.numeric.checks.spectrum import spectrum_rows
from symgrad.numeric.jacobian import simulate_gradient_norms, simulate_jacobians
from symgrad.spectrum import gradient_norm_distribution, jacobian_spectrum

# ---- the alternative: non-crossing partitions ----


def _partitions(items: list[int]) -> Any:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest):
        for i in range(len(part)):
            yield [*part[:i], [first, *part[i]], *part[i + 1:]]
        yield [[first], *part]


def _crossing(blocks: list[list[int]]) -> bool:
    for b1, b2 in itertools.combinations(blocks, 2):
        for a, c in itertools.combinations(sorted(b1), 2):
            for b, d in itertools.combinations(sorted(b2), 2):
                if a < b < c < d or b < a < d < c:
                    return True
    return False


@cache
def _nc(n: int) -> tuple[tuple[tuple[int, ...], ...], ...]:
    return tuple(tuple(tuple(sorted(b)) for b in p) for p in _partitions(list(range(n)))
                 if not _crossing(p))


@cache
def _kreweras(pi: tuple[tuple[int, ...], ...], n: int) -> tuple[tuple[int, ...], ...]:
    doubled = [[2 * i for i in b] for b in pi]
    options = [s for s in _nc(n) if not _crossing(doubled + [[2 * i + 1 for i in b] for b in s])]
    return min(options, key=len)


def _free_product(ma: list[Fraction], mb: list[Fraction]) -> list[Fraction]:
    kappa: list[Fraction] = []
    for n in range(1, len(ma) + 1):
        kappa.append(ma[n - 1] - sum((prod(kappa[len(b) - 1] for b in p) for p in _nc(n)
                                      if len(p) > 1), Fraction(0)))
    return [sum((prod(kappa[len(b) - 1] for b in p) * prod(mb[len(b) - 1] for b in
                                                           _kreweras(p, n))
                 for p in _nc(n)), Fraction(0)) for n in range(1, len(ma) + 1)]


def partitions_moments(mu: list[Fraction], sigma_w2: Fraction, depth: int, gaussian: bool
                       ) -> list[Fraction]:
    w = [sigma_w2**k * (comb(2 * k, k) // (k + 1) if gaussian else 1)
         for k in range(1, len(mu) + 1)]
    a = [Fraction(1)] * len(mu)
    for _ in range(depth):
        a = _free_product(_free_product(a, mu), w)
    return a


# ---- timing ----


def median_time(fn: Callable[[], Any], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def numpy_loop(width: int, depth: int, networks: int) -> None:
    """The same Jacobians and singular values, BLAS threads left alone, one net at a time."""
    gen = np.random.default_rng(0)
    for _ in range(networks):
        h = gen.standard_normal(width)
        jac = np.eye(width)
        for _ in range(depth):
            w = gen.standard_normal((width, width)) * math.sqrt(2.0 / width)
            jac = w @ ((h > 0)[:, None] * jac)
            h = w @ np.maximum(h, 0.0)
        np.linalg.svd(jac, compute_uv=False)


# ---- cold first calls, each in a fresh interpreter ----

_COLD = """
import json, sys, time, sympy
act = sys.argv[1]
sw, sb = sympy.Rational(6, 5), sympy.Rational(1, 10)
start = time.perf_counter()
from symgrad.meanfield import MeanFieldMode, mean_field
mf = mean_field(act, sigma_w=sw, sigma_b=sb, mode=MeanFieldMode.FAST, correlation=False)
meanfield = time.perf_counter() - start
if sys.argv[2] == "symgrad":
    from symgrad.spectrum import jacobian_spectrum
    s = jacobian_spectrum(act, sigma_w=sw, sigma_b=sb, depth=10, moments=4, density_points=0)
    kind = s.how("moments[4]").kind.value
else:
    from symgrad.slopes import expected_slope
    for k in range(1, 5):
        expected_slope(act, q=mf.q_star, power=2 * k, dps=20)
    kind = "estimated"
print(json.dumps({"total": time.perf_counter() - start, "meanfield": meanfield,
                  "kind": kind}))
"""


def cold(act: str, route: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", _COLD, act, route], capture_output=True,
                         text=True, check=True, timeout=900)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: smaller sizes")
    args = parser.parse_args()
    depth = 20 if args.quick else 100
    width = 512 if args.quick else 2048

    print(f"1. exact m_1 … m_6 at depth {depth}")
    print(f"{'case':<22} {'symgrad s':>10} {'partitions s':>13} {'ratio':>8} {'equal':>6}")
    half, two = Fraction(1, 2), Fraction(2)
    for name, sw, weights, mu, s2 in (
            ("relu, gaussian", sympy.sqrt(2), "gaussian", [half] * 6, two),
            ("relu, orthogonal", sympy.sqrt(2), "orthogonal", [half] * 6, two),
            ("identity, gaussian", sympy.Integer(1), "gaussian", [Fraction(1)] * 6,
             Fraction(1))):
        act = name.split(",")[0]
        ours = median_time(lambda act=act, sw=sw, weights=weights: jacobian_spectrum(
            act, sigma_w=sw, depth=depth, weights=weights, moments=6, density_points=0), 5)
        start = time.perf_counter()
        ref = partitions_moments(mu, s2, depth, weights == "gaussian")
        theirs = time.perf_counter() - start
        got = jacobian_spectrum(act, sigma_w=sw, depth=depth, weights=weights, moments=6,
                                density_points=0).moments
        same = list(got) == [sympy.Rational(r.numerator, r.denominator) for r in ref]
        print(f"{name:<22} {ours:>10.3f} {theirs:>13.2f} {theirs / ours:>7.0f}× {same!s:>6}")
    L = sympy.Symbol("L", positive=True)
    symbolic = median_time(lambda: jacobian_spectrum("relu", sigma_w=sympy.sqrt(2), depth=L,
                                                     moments=6, density_points=0), 3)
    print(f"   relu, symbolic depth L (m_k as polynomials in L, λ_max in closed form): "
          f"{symbolic:.3f} s")

    print(f"\n2. simulated spectrum check at width {width} (relu, Gaussian, depth 4)")
    start = time.perf_counter()
    rows = spectrum_rows(root_seed(0), 4.5, width=width, networks=3,
                         cases=(("relu", "gaussian", sympy.sqrt(2), sympy.Integer(0), 4),))
    total = time.perf_counter() - start
    print(f"   widths {width} and {width // 2}, 3 networks each: {total:.1f} s, "
          f"rows ok: {all(r.ok for r in rows)}")
    for r in rows:
        print(f"   {r.quantity}: measured {r.measured:.5g}, predicted {r.predicted:.5g}, "
              f"rel. error {r.rel_error:.2g} (tolerance {r.tolerance:.2g})")
    nets = 2
    ours = median_time(lambda: simulate_jacobians("relu", width=width, depth=4,
                                                  sigma_w=math.sqrt(2), networks=nets, rng=1),
                       1)
    theirs = median_time(lambda: numpy_loop(width, 4, nets), 1)
    print(f"   {nets} networks: simulate_jacobians {ours:.2f} s, plain NumPy loop "
          f"{theirs:.2f} s, ratio {theirs / ours:.2f}×")

    print("\n3. gradient norms")
    widths = (4096,) * 11 if not args.quick else (512,) * 11
    start = time.perf_counter()
    law = gradient_norm_distribution("relu", widths, sigma_w=sympy.sqrt(2))
    print(f"   exact relu law, widths {widths[0]} × {len(widths) - 1} layers: "
          f"{time.perf_counter() - start:.2f} s ({law.how('var_log').kind.value})")
    start = time.perf_counter()
    gradient_norm_distribution("tanh", (128,) * 11, sigma_w=1.3955839751549, sigma_b=0.3)
    print(f"   tanh β-expansion, widths 128 × 10 layers: {time.perf_counter() - start:.2f} s")
    shape = (64,) * 9
    times = {}
    for sampler in ("rows", "matrices"):
        start = time.perf_counter()
        simulate_gradient_norms("tanh", shape, sigma_w=1.3955839751549, sigma_b=0.3,
                                q_input=0.76347, networks=10_000, sampler=sampler, rng=2)
        times[sampler] = time.perf_counter() - start
    print(f"   10⁴ networks, widths 64 × 8 layers: rows {times['rows']:.2f} s, matrices "
          f"{times['matrices']:.2f} s, ratio {times['matrices'] / times['rows']:.1f}×")

    print("\n4. cold first call, fresh interpreter (σ_w = 1.2, σ_b = 0.1, depth 10, m_1 … m_4)")
    print(f"{'activation':<11} {'jacobian_spectrum s':>20} {'of which mean_field':>20} "
          f"{'expected_slope μ_1…μ_4 s':>25} {'ratio':>7}  moments")
    for act in ("tanh", "erf", "gelu_tanh") if not args.quick else ("tanh",):
        ours, theirs = cold(act, "symgrad"), cold(act, "expected_slope")
        print(f"{act:<11} {ours['total']:>20.2f} {ours['meanfield']:>20.2f} "
              f"{theirs['total']:>25.2f} {theirs['total'] / ours['total']:>6.1f}×  "
              f"{ours['kind']} (were {theirs['kind']})")


if __name__ == "__main__":
    main()
