"""How fast is the mean-field fast mode, against a straightforward mpmath.quad iteration?

Run:  python benchmarks/meanfield_speed.py            (full: 100 × 100 diagram, 2 workers)
      python benchmarks/meanfield_speed.py --quick    (smaller baseline sample)

Prints, measured in the same run and side by side:

1. one fast-mode solve (q*, χ₁) of ``mean_field(act, sigma_w, sigma_b, mode="fast",
   correlation=False)`` for tanh, gelu and sigmoid (median of 30 calls) — target ≤ 5 ms —
   and, last column, the full record including c* (a 2-D quadrature in the chaotic phase);
2. the same quantities by a straightforward fixed-point iteration q ← G(q) with
   ``mpmath.quad`` at 15 digits until |Δq| ≤ 1e-12·q, then χ₁ — and the ratio;
3. a 100 × 100 phase diagram of tanh (σ_w ∈ [0.1, 4], σ_b ∈ [0, 2]) with the critical
   line, serial and on a 2-process pool — target ≤ 10 s on 2 cores — against the
   mpmath iteration's time per point times 10 000 (estimated from a sample), as a ratio;
4. the largest relative difference between the two methods on the sample.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import mpmath
import numpy as np

from symgrad import activation, mean_field, phase_diagram


def mpmath_iteration(name: str, sw: float, sb: float) -> tuple[float, float]:
    """The textbook way: iterate q ← σ_w²·E[φ(√q Z)²] + σ_b² with mpmath.quad."""
    act = activation(name)
    with mpmath.workdps(15):
        w2, b2 = mpmath.mpf(sw) ** 2, mpmath.mpf(sb) ** 2

        def moment(q: Any, f: Any) -> Any:
            r = mpmath.sqrt(q)
            return mpmath.quad(lambda t: f(r * t) ** 2 * mpmath.npdf(t),
                               [-mpmath.inf, 0, mpmath.inf])

        q = mpmath.mpf(1)
        for _ in range(2000):
            new = w2 * moment(q, act.mpmath) + b2
            if abs(new - q) <= 1e-12 * max(q, mpmath.mpf(1e-300)) or new < 1e-30:
                q = new
                break
            q = new
        return float(q), float(w2 * moment(q, act.mpmath_prime))


def time_fast(name: str, sw: float, sb: float, *, correlation: bool, repeat: int = 30) -> float:
    mean_field(name, sigma_w=sw, sigma_b=sb, mode="fast")  # warm the caches
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        mean_field(name, sigma_w=sw, sigma_b=sb, mode="fast", correlation=correlation)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller baseline sample")
    args = parser.parse_args()

    print("one solve (q*, χ₁), fast mode vs mpmath.quad iteration")
    print(f"{'activation':<10} {'σ_w':>5} {'σ_b':>5} {'fast ms':>9} {'mpmath ms':>10} "
          f"{'ratio':>8} {'max rel diff':>13} {'+ c* (2-D) ms':>14}")
    for name, sw, sb in (("tanh", 1.5, 0.05), ("gelu", 1.3, 0.3), ("sigmoid", 3.0, 0.5)):
        fast = time_fast(name, sw, sb, correlation=False)
        full = time_fast(name, sw, sb, correlation=True, repeat=5)
        t = time.perf_counter()
        q_ref, chi_ref = mpmath_iteration(name, sw, sb)
        slow = time.perf_counter() - t
        mf = mean_field(name, sigma_w=sw, sigma_b=sb, mode="fast")
        diff = max(abs(float(mf.q_star) / q_ref - 1), abs(float(mf.chi1) / chi_ref - 1))
        print(f"{name:<10} {sw:>5g} {sb:>5g} {fast * 1e3:>9.2f} {slow * 1e3:>10.0f} "
              f"{slow / fast:>8.0f} {diff:>13.1e} {full * 1e3:>14.1f}")

    sw_axis, sb_axis = np.linspace(0.1, 4.0, 100), np.linspace(0.0, 2.0, 100)
    phase_diagram("tanh", sigma_w=sw_axis[:3], sigma_b=sb_axis[:2])  # warm the caches
    t = time.perf_counter()
    serial = phase_diagram("tanh", sigma_w=sw_axis, sigma_b=sb_axis)
    t_serial = time.perf_counter() - t
    with ProcessPoolExecutor(2) as pool:
        phase_diagram("tanh", sigma_w=sw_axis[:3], sigma_b=sb_axis[:2], executor=pool)
        t = time.perf_counter()
        pooled = phase_diagram("tanh", sigma_w=sw_axis, sigma_b=sb_axis, executor=pool)
        t_pool = time.perf_counter() - t
    same = np.array_equal(serial.chi1, pooled.chi1)
    rng = np.random.default_rng(0)
    k = 4 if args.quick else 12
    sample = [(int(i), int(j)) for i, j in zip(rng.integers(0, 100, k), rng.integers(0, 100, k),
                                               strict=True)]
    t = time.perf_counter()
    diffs = []
    for i, j in sample:
        _, chi = mpmath_iteration("tanh", float(sw_axis[j]), float(sb_axis[i]))
        diffs.append(abs(serial.chi1[i, j] / chi - 1))
    per_point = (time.perf_counter() - t) / k
    estimate = per_point * 10_000
    print()
    print("100 × 100 phase diagram of tanh (χ₁ on the grid + the critical line)")
    print(f"  fast, serial          {t_serial:8.2f} s")
    print(f"  fast, 2 processes     {t_pool:8.2f} s   (identical χ₁: {same})")
    print(f"  mpmath iteration      {estimate:8.0f} s   (estimated: {per_point * 1e3:.0f} ms "
          f"per point × 10 000, from {k} sampled points)")
    print(f"  ratio (mpmath / fast, 2 processes)  {estimate / t_pool:8.0f}")
    print(f"  max rel diff of χ₁ on the sample    {max(diffs):8.1e}  (the iteration stops at "
          "|Δq| ≤ 1e-12·q, slower to converge near the line)")


if __name__ == "__main__":
    main()
