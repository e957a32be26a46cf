"""predict for a 1000-block stack: time per call (target ≤ 50 ms), first call and warm.

Run:  python benchmarks/predict_speed.py              (1000 blocks, 5 rounds, before and after)
      python benchmarks/predict_speed.py --quick      (100 blocks, 3 rounds)
      python benchmarks/predict_speed.py --after-only (today's code only)

Each network is timed in a fresh interpreter per side and round (``import
symgrad.networks`` and building the network are not timed): the *first call* fills the
Gaussian tables of a numeric activation and derives the depth law in SymPy; *warm*
calls (median of 5) reuse both (the tables are kept per process, laws are cached per
repeated block and entering state).  The "before" side is the code this speed work
started from (a git worktree of ``BASE``, made on first use); the two sides run
alternately, network by network and round after round, so a busy machine slows both
alike.  The table shows medians over rounds of the wall time (what a user waits) and of
the process CPU time (what other jobs on a shared machine inflate least), the ratio
before/after, the least first-call CPU time of the rounds (on a loaded machine the
best estimate of the work itself), and whether the two sides' records are identical
(``as_dict()`` as JSON).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from typing import Any

from _before import AFTER, add_before_argument, ensure_before, run_worker

#: The commit the first-call work started from.
BASE = "9d70ecf"

NETS = {
    "pre-LN relu": "pre_ln(relu, DEPTH)",
    "pre-LN gelu": "pre_ln(gelu, DEPTH)",
    "plain tanh, σ_w = 1.2": "mlp(tanh, DEPTH, sigma_w=1.2)",
    "plain gelu, advised (1.398, 0.7)": "mlp(gelu, DEPTH, sigma_w=1.398, sigma_b=0.7)",
    "BatchNorm relu": "bn_mlp(relu, DEPTH)",
    "residual tanh": "resnet(tanh, DEPTH)",
    "post-LN tanh": "post_ln(tanh, DEPTH)",
    "Fixup relu, m = 3": "fixup(relu, DEPTH, m=3, last=0.5)",
}


def worker(spec: str, depth: int) -> dict[str, Any]:
    from symgrad import networks as nw

    net = nw.parse_network(spec.replace("DEPTH", str(depth)))
    wall, cpu = time.perf_counter(), time.process_time()
    p = nw.predict(net)
    first, first_cpu = time.perf_counter() - wall, time.process_time() - cpu
    warm = []
    for _ in range(5):
        wall = time.perf_counter()
        nw.predict(net)
        warm.append(time.perf_counter() - wall)
    record = json.dumps(p.as_dict(), sort_keys=True, default=str)
    law = "none" if p.law is None else f"{p.law.kind.value} ({p.law.how('constant').kind.value})"
    return {"first": first, "first_cpu": first_cpu, "warm": statistics.median(warm),
            "law": law, "digest": hashlib.sha256(record.encode()).hexdigest()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 blocks, 3 rounds")
    parser.add_argument("--rounds", type=int, help="fresh-interpreter rounds per side and"
                        " network (default 5, 3 with --quick)")
    parser.add_argument("--after-only", action="store_true", help="time today's code only")
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--depth", type=int, default=1000, help=argparse.SUPPRESS)
    add_before_argument(parser, base=BASE, default="/tmp/symgrad-before-predict")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.spec, args.depth)))
        return
    depth = 100 if args.quick else 1000
    rounds = args.rounds or (3 if args.quick else 5)
    sides = {"after": AFTER}
    if not args.after_only:
        sides = {"before": ensure_before(args.before, BASE), "after": AFTER}
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for _ in range(rounds):
        for name, spec in NETS.items():
            for side, tree in sides.items():
                runs.setdefault((side, name), []).append(run_worker(
                    tree, "predict_speed.py", ["--spec", spec, "--depth", str(depth)]))

    def med(side: str, name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[(side, name)]) * 1e3

    print(f"predict, {depth} blocks: ms, median over {rounds} fresh interpreters per side"
          f" (python {sys.version.split()[0]})")
    if args.after_only:
        print("| network | law | first call | first call, CPU | warm (median of 5) |")
        print("| --- | --- | ---: | ---: | ---: |")
        for name in NETS:
            print(f"| {name} | {runs[('after', name)][0]['law']} | "
                  f"{med('after', name, 'first'):.1f} | {med('after', name, 'first_cpu'):.1f}"
                  f" | {med('after', name, 'warm'):.1f} |")
        return
    print("| network | law | first, before | first, after | ratio | first CPU, before | "
          "first CPU, after | ratio | least first CPU, before / after | warm, before | "
          "warm, after | same record |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for name in NETS:
        fb, fa = med("before", name, "first"), med("after", name, "first")
        cb, ca = med("before", name, "first_cpu"), med("after", name, "first_cpu")
        digests = {r["digest"] for side in sides for r in runs[(side, name)]}
        lb, la = (min(r["first_cpu"] for r in runs[(side, name)]) * 1e3
                  for side in ("before", "after"))
        print(f"| {name} | {runs[('after', name)][0]['law']} | {fb:.1f} | {fa:.1f} | "
              f"{fb / fa:.1f} | {cb:.1f} | {ca:.1f} | {cb / ca:.1f} | {lb:.1f} / {la:.1f} | "
              f"{med('before', name, 'warm'):.1f} | {med('after', name, 'warm'):.1f} | "
              f"{'yes' if len(digests) == 1 else 'NO'} |")


if __name__ == "__main__":
    main()
