"""How fast is a full mean-field record in fast mode, today against before?

Run:  python benchmarks/meanfield_speed.py            (9 rounds, 30 calls each)
      python benchmarks/meanfield_speed.py --quick    (3 rounds, 10 calls each)

For each case, ``mean_field(act, sigma_w=…, sigma_b=…, mode="fast")`` — the full record:
q*, χ₁, c*, χ_c*, ξ_c, ξ_∇ (c* is the 2-D part, computed in the chaotic phase) — and the
same with ``correlation=False`` (q*, χ₁ only), each the median CPU time of N calls after
one warm call (process time, so other jobs on a shared machine do not count), in a fresh
interpreter per side.  The two sides run alternately, round after round,
so a busy machine slows both alike; the table shows the median over rounds, the ratio
before/after, and how far the two sides' numbers are apart relative to the larger of
their error estimates (≤ 1 means they agree within what they claim).  Target: ≤ 5 ms.
The last table times a 100 × 100 tanh phase diagram (serial) the same way.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from _before import AFTER, add_before_argument, ensure_before, run_worker

CASES = (
    ("tanh", 1.5, 0.05), ("tanh", 10.0, 0.5), ("tanh", 1.1, 0.02), ("gelu", 1.3, 0.3),
    ("sigmoid", 3.0, 0.5), ("hard_tanh", 2.0, 0.1), ("selu", 1.2, 0.1), ("erf", 2.0, 0.2),
)
NUMBERS = ("q_star", "chi1", "c_star", "chi_c")


def _median_ms(fn: Any, calls: int) -> float:
    """Median CPU milliseconds of one call (CPU time: other jobs on a shared machine do
    not count; on an idle one it equals the wall time)."""
    fn()
    times = []
    for _ in range(calls):
        began = time.process_time()
        fn()
        times.append(time.process_time() - began)
    return statistics.median(times) * 1e3


def worker(calls: int, diagram: bool) -> dict[str, Any]:
    import numpy as np

    from symgrad import mean_field, phase_diagram

    out: dict[str, Any] = {"cases": {}}
    for name, sw, sb in CASES:
        mf = mean_field(name, sigma_w=sw, sigma_b=sb, mode="fast")
        full = _median_ms(lambda n=name, w=sw, b=sb: mean_field(n, sigma_w=w, sigma_b=b,
                                                                 mode="fast"), calls)
        part = _median_ms(lambda n=name, w=sw, b=sb: mean_field(
            n, sigma_w=w, sigma_b=b, mode="fast", correlation=False), calls)
        out["cases"][f"{name} {sw:g} {sb:g}"] = {
            "full_ms": full, "part_ms": part, "phase": mf.phase.value,
            "values": {k: float(getattr(mf, k)) for k in NUMBERS},
            "errors": {k: mf.error(k) for k in NUMBERS},
        }
    if diagram:
        sw_axis, sb_axis = np.linspace(0.1, 4.0, 100), np.linspace(0.0, 2.0, 100)
        phase_diagram("tanh", sigma_w=sw_axis[:3], sigma_b=sb_axis[:2])
        began = time.process_time()
        phase_diagram("tanh", sigma_w=sw_axis, sigma_b=sb_axis)
        out["diagram_s"] = time.process_time() - began
    return out


def _apart(a: dict[str, Any], b: dict[str, Any]) -> float:
    """max over the numbers of |a − b| / max(error estimates, 1e-15·|value|)."""
    worst = 0.0
    for k in NUMBERS:
        va, vb = a["values"][k], b["values"][k]
        if va != va and vb != vb:  # both NaN
            continue
        scale = max(a["errors"][k] * abs(va), b["errors"][k] * abs(vb), 1e-15 * abs(va),
                    1e-300)
        worst = max(worst, abs(va - vb) / scale)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 10 calls")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--diagram", action="store_true", help=argparse.SUPPRESS)
    add_before_argument(parser)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.calls, args.diagram)))
        return
    before = ensure_before(args.before)
    rounds, calls = (3, 10) if args.quick else (9, args.calls)
    runs: dict[str, list[Any]] = {"before": [], "after": []}
    for r in range(rounds):
        for side, tree in (("before", before), ("after", AFTER)):
            flags = ["--calls", str(calls)] + (["--diagram"] if r < 3 else [])
            runs[side].append(run_worker(tree, "meanfield_speed.py", flags))

    def med(side: str, case: str, key: str) -> float:
        return statistics.median(run["cases"][case][key] for run in runs[side])

    print(f"mean_field(..., mode='fast'), CPU ms: median of {calls} calls, median over "
          f"{rounds} alternating rounds")
    print("| case | phase | full record, before | full record, after | ratio | "
          "q*, χ₁ only, before | q*, χ₁ only, after | ratio | apart / error |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for case in runs["after"][0]["cases"]:
        fb, fa = med("before", case, "full_ms"), med("after", case, "full_ms")
        pb, pa = med("before", case, "part_ms"), med("after", case, "part_ms")
        phase = runs["after"][0]["cases"][case]["phase"]
        apart = _apart(runs["before"][0]["cases"][case], runs["after"][0]["cases"][case])
        print(f"| {case} | {phase} | {fb:.2f} | {fa:.2f} | {fb / fa:.1f} | {pb:.2f} | "
              f"{pa:.2f} | {pb / pa:.1f} | {apart:.2f} |")
    db = statistics.median(run["diagram_s"] for run in runs["before"] if "diagram_s" in run)
    da = statistics.median(run["diagram_s"] for run in runs["after"] if "diagram_s" in run)
    print()
    print("| 100 × 100 tanh phase diagram, serial, CPU s | before | after | ratio |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| seconds (median of {min(rounds, 3)} rounds) | {db:.2f} | {da:.2f} | "
          f"{db / da:.1f} |")


if __name__ == "__main__":
    main()
