"""How fast is ``chain_trace`` at depth 10⁶, against a naive mpmath loop?

Run:  python benchmarks/chain_depth.py            (depth 10⁶, about two minutes)
      python benchmarks/chain_depth.py --quick    (depth 10⁵, a smoke run)

For each chain it prints, measured in the same run and side by side:

1. ``chain_trace`` (one checkpointed forward pass; rows built on demand) plus reading
   the first row and ``ratio()``;
2. a naive loop at the same precision that keeps every z_k and a_k as mpf, then runs
   the backward pass and keeps every ∂L/∂a_k (what a direct transcription does);
3. the ratio of the two times, and the peak Python memory of each (``tracemalloc``,
   measured at a tenth of the depth, where it is linear);
4. that both give the same log₁₀|∂L/∂a_1| (to 20 digits).

Chains: sigmoid w = 0.5 (reaches its fixed point: the tail is a power), ReLU w = 0.5
from x = 1 (z_k = 2^−k never repeats, but the chain is homogeneous: the tail is a
scaled cycle), tanh w = 1 (drifts to 0 like √(3/2k): every layer is computed) and
sigmoid with 10⁶ distinct per-layer weights in [0.5, 1.1] (every layer is computed,
including reading the weights).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import mpmath
import numpy as np

from symgrad import activation, chain_trace

CHAINS = (("sigmoid", "0.5"), ("relu", "0.5"), ("tanh", "1"), ("sigmoid", "per-layer"))


def weights(spec: str, depth: int) -> list[str] | str:
    """A constant weight, or per-layer weights drawn uniformly from [0.5, 1.1] with six
    decimals (seed 0; nearly all distinct, never stationary)."""
    if spec != "per-layer":
        return spec
    drawn = np.random.default_rng(0).uniform(0.5, 1.1, size=depth)
    return [f"{v:.6f}" for v in drawn]


def naive(name: str, depth: int, spec: str) -> mpmath.mpf:
    act = activation(name)
    digits = 30 + 10 + len(str(depth))  # the same working precision as chain_trace
    with mpmath.workdps(digits):
        given = weights(spec, depth)
        ws = [mpmath.mpf(v) for v in given] if isinstance(given, list) else [
            mpmath.mpf(given)] * depth
        zs, acts = [], [mpmath.mpf(1)]
        for k in range(depth):
            zs.append(ws[k] * acts[-1])
            acts.append(act.mpmath(zs[-1]))
        grads = [mpmath.mpf(0)] * depth
        g = mpmath.mpf(1)
        for k in reversed(range(depth)):
            grads[k] = g
            g = g * act.mpmath_prime(zs[k]) * ws[k]
        return mpmath.log10(abs(grads[0]))


def fast(name: str, depth: int, spec: str) -> mpmath.mpf:
    given = weights(spec, depth)
    trace = chain_trace(name, depth=depth, weight=[float(v) for v in given]
                        if isinstance(given, list) else float(given))
    trace.ratio()
    return trace.rows[0].log10_grad


def timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def peak_mib(fn, *args) -> float:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="depth 10^5 instead of 10^6")
    parser.add_argument("--only", metavar="N", type=int, action="append",
                        help="run only chain number N (1-4; repeatable)")
    args = parser.parse_args()
    depth = 10**5 if args.quick else 10**6
    print(f"depth {depth}, 30 digits (+ guard digits), mpmath backend {mpmath.libmp.BACKEND}")
    print(f"{'chain':<22}{'chain_trace s':>14}{'naive s':>10}{'ratio':>8}"
          f"{'MiB trace':>11}{'MiB naive':>11}   log10|dL/da_1|")
    for number, (name, w) in enumerate(CHAINS, start=1):
        if args.only and number not in args.only:
            continue
        t_fast, v_fast = timed(fast, name, depth, w)
        t_naive, v_naive = timed(naive, name, depth, w)
        with mpmath.workdps(25):
            agree = abs(v_fast - v_naive) <= mpmath.mpf(10) ** -20 * abs(v_naive)
        m_fast = peak_mib(fast, name, depth // 10, w)
        m_naive = peak_mib(naive, name, depth // 10, w)
        print(f"{name + ' w=' + w:<22}{t_fast:>14.2f}{t_naive:>10.2f}{t_naive / t_fast:>8.1f}"
              f"{m_fast:>11.1f}{m_naive:>11.1f}   {mpmath.nstr(v_fast, 12)}"
              f"{'' if agree else '  (DISAGREES with the naive loop)'}")


if __name__ == "__main__":
    main()
