"""Time `symgrad report`: seconds per report, cold and with derivations cached.

Run:  python benchmarks/report_speed.py

Prints one row per report (first build in a fresh process, then a second build in the
same process, where the cached derivations are reused and only rendering and figures
are redone), the share of the total, and the wall time of the whole command in a
fresh interpreter (imports included), serially and with one worker per core.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from symgrad.reports import Timing, render_reports


def _run() -> dict[str, float]:
    timings: list[Timing] = []
    render_reports(timings=timings)
    return {t.name: t.seconds for t in timings}


def main() -> None:
    cold = _run()
    warm = _run()
    total = sum(cold.values())
    width = max(len(name) for name in cold)
    print(f"{'report':<{width}}  {'cold s':>8}  {'cached s':>8}  {'cold/cached':>11}  {'share':>6}")
    for name, seconds in sorted(cold.items(), key=lambda kv: -kv[1]):
        ratio = seconds / warm[name] if warm[name] > 0 else float("inf")
        print(f"{name:<{width}}  {seconds:8.2f}  {warm[name]:8.2f}  {ratio:11.1f}  "
              f"{seconds / total:6.1%}")
    print(f"{'total':<{width}}  {total:8.2f}  {sum(warm.values()):8.2f}")
    walls = {}
    for jobs in (1, os.cpu_count() or 1):
        with tempfile.TemporaryDirectory() as tmp:
            began = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "symgrad", "report", "--jobs", str(jobs),
                 "--out", os.path.join(tmp, "proofs")],
                check=True, stdout=subprocess.DEVNULL,
            )
            walls[jobs] = time.perf_counter() - began
    for jobs, wall in walls.items():
        print(f"`symgrad report --jobs {jobs}` in a fresh interpreter: {wall:.1f} s wall "
              f"(×{walls[1] / wall:.2f})")


if __name__ == "__main__":
    main()
