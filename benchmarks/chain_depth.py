"""How fast is ``chain_trace`` at depth 10⁶, today (Arb balls) against before (mpmath)?

Run:  python benchmarks/chain_depth.py            (depth 10⁶; a few minutes: the old engine)
      python benchmarks/chain_depth.py --quick    (depth 10⁵, a smoke run)
      python benchmarks/chain_depth.py --naive    (also the naive mpmath loop, minutes more)

For each chain, in a fresh interpreter per side (today's tree, then the base commit's
export, see ``_before.py``): ``chain_trace(...)``, then reading the first row, the
ratio and log₁₀|∂L/∂a_1| — what ``symgrad chain`` prints.  The table gives both times,
their ratio, the peak Python memory (``tracemalloc``) at a tenth of the depth, both
sides' log₁₀|∂L/∂a_1| and ∂L/∂a_1 to 30 digits, whether they agree, and how many
significant digits today's enclosure of ∂L/∂a_1 proves (the target: 30, in ≤ 10 s for
the tanh chain).  ``--naive`` adds a loop that keeps every z_k, a_k and ∂L/∂a_k as mpf
at the same precision (what a direct transcription does).

Chains: sigmoid w = 0.5 (reaches its fixed point: the tail is a power), ReLU w = 0.5
(z_k = 2^−k: a scaled cycle), tanh w = 1 (drifts to 0 like √(3/2k), never repeats: every
layer is computed — the issue's case) and sigmoid with distinct per-layer weights in
[0.5, 1.1] (every layer computed, the weights read too).
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from typing import Any

from _before import AFTER, add_before_argument, ensure_before, run_worker

CHAINS = (("sigmoid", "0.5"), ("relu", "0.5"), ("tanh", "1"), ("sigmoid", "per-layer"))


def weights(spec: str, depth: int) -> list[float] | float:
    """A constant weight, or per-layer weights drawn uniformly from [0.5, 1.1] with six
    decimals (seed 0; nearly all distinct, never stationary)."""
    import numpy as np

    if spec != "per-layer":
        return float(spec)
    drawn = np.random.default_rng(0).uniform(0.5, 1.1, size=depth)
    return [float(f"{v:.6f}") for v in drawn]


def _trace(name: str, depth: int, spec: str) -> dict[str, Any]:
    import mpmath

    from symgrad import chain_trace

    given = weights(spec, depth)
    began, cpu = time.perf_counter(), time.process_time()
    trace = chain_trace(name, depth=depth, weight=given)
    first = trace.rows[0]
    ratio = trace.ratio()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    out = {"seconds": seconds, "cpu": cpu, "log10": mpmath.nstr(first.log10_grad, 30),
           "grad_a1": mpmath.nstr(first.grad_a, 30), "ratio": mpmath.nstr(ratio, 30)}
    if hasattr(first, "enclosure"):  # today's engine proves its digits
        out["proven_digits"] = first.enclosure("grad_a").digits
        out["proven_text"] = first.enclosure("grad_a").text()
    return out


def _naive(name: str, depth: int, spec: str) -> dict[str, Any]:
    import mpmath

    from symgrad import activation

    act = activation(name)
    digits = 30 + 10 + len(str(depth))  # the old engine's working precision
    began = time.perf_counter()
    with mpmath.workdps(digits):
        given = weights(spec, depth)
        ws = ([mpmath.mpf(repr(v)) for v in given] if isinstance(given, list)
              else [mpmath.mpf(repr(given))] * depth)
        zs, acts = [], [mpmath.mpf(1)]
        for k in range(depth):
            zs.append(ws[k] * acts[-1])
            acts.append(act.mpmath(zs[-1]))
        grads = [mpmath.mpf(0)] * depth
        g = mpmath.mpf(1)
        for k in reversed(range(depth)):
            grads[k] = g
            g = g * act.mpmath_prime(zs[k]) * ws[k]
        value = mpmath.log10(abs(grads[0]))
    return {"seconds": time.perf_counter() - began, "log10": mpmath.nstr(value, 30)}


def _peak_mib(fn: Any, *args: Any) -> float:
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def worker(name: str, depth: int, spec: str, naive: bool) -> dict[str, Any]:
    out = {"trace": _trace(name, depth, spec),
           "trace_mib": _peak_mib(_trace, name, depth // 10, spec)}
    if naive:
        out["naive"] = _naive(name, depth, spec)
    return out


def _agree(a: str, b: str, digits: int = 20) -> bool:
    import mpmath

    with mpmath.workdps(40):
        x, y = mpmath.mpf(a), mpmath.mpf(b)
        return bool(abs(x - y) <= mpmath.mpf(10) ** -digits * max(abs(x), abs(y)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="depth 10^5 instead of 10^6")
    parser.add_argument("--naive", action="store_true", help="also the naive mpmath loop")
    parser.add_argument("--only", metavar="N", type=int, action="append",
                        help="run only chain number N (1-4; repeatable)")
    parser.add_argument("--chain", nargs=3, metavar=("NAME", "DEPTH", "WEIGHT"),
                        help=argparse.SUPPRESS)
    add_before_argument(parser)
    args = parser.parse_args()
    if args.worker:
        name, depth, spec = args.chain
        print(json.dumps(worker(name, int(depth), spec, args.naive)))
        return
    before = ensure_before(args.before)
    depth = 10**5 if args.quick else 10**6
    print(f"depth {depth}, 30 digits; each side in a fresh interpreter")
    print("| chain | before s (CPU s) | after s (CPU s) | ratio (CPU) | MiB before | MiB after "
          "| proven digits (after) | agree | log10 \\|∂L/∂a_1\\| (after) |"
          + (" naive s |" if args.naive else ""))
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"
          + (" ---: |" if args.naive else ""))
    for number, (name, spec) in enumerate(CHAINS, start=1):
        if args.only and number not in args.only:
            continue
        flags = ["--chain", name, str(depth), spec]
        after = run_worker(AFTER, "chain_depth.py", [*flags, *(["--naive"] if args.naive
                                                                else [])])
        old = run_worker(before, "chain_depth.py", flags)
        ta, tb = after["trace"], old["trace"]
        same = _agree(ta["log10"], tb["log10"]) and _agree(ta["grad_a1"], tb["grad_a1"], 25)
        row = (f"| {name} w={spec} | {tb['seconds']:.2f} ({tb['cpu']:.2f}) | "
               f"{ta['seconds']:.2f} ({ta['cpu']:.2f}) | {tb['seconds'] / ta['seconds']:.1f} "
               f"({tb['cpu'] / ta['cpu']:.1f}) | {old['trace_mib']:.1f} | "
               f"{after['trace_mib']:.1f} | {ta.get('proven_digits', '?')} | "
               f"{'yes' if same else 'NO'} | {ta['log10'][:22]} |")
        if args.naive:
            nv = after["naive"]
            row += f" {nv['seconds']:.1f}{'' if _agree(nv['log10'], ta['log10']) else ' (!)'} |"
        print(row, flush=True)


if __name__ == "__main__":
    main()
