"""Where does `symgrad report`'s time go, today against before, and whose part is it?

Run:  python benchmarks/report_speed.py            (per-report and per-part, plus walls)
      python benchmarks/report_speed.py --quick    (no fresh-interpreter walls)

Each side (today's tree; the base commit's worktree, see ``_before.py``) runs in a fresh
interpreter and builds every report once, in registry order, one ``render_reports``
call per report (so a report that fails is timed up to its failure and the others still
run; the caches a full run shares carry over from report to report as they do there).

Two tables: seconds per report, and seconds per *part*, where every call of a library
entry point is charged to its part, exclusive of the entry points it calls in turn
(``max_slope`` inside ``weight_bound`` counts as certified slopes, not as depth bounds):

* mean field — ``mean_field``, ``phase_diagram``, ``critical_sigma_w`` (the fast solver
  and c*: this branch);
* chain traces — ``chain_trace``, ``residual_trace`` (the Arb engine: this branch);
* certified slopes — ``max_slope``, ``saturation``, ``expected_slope``, ``slope`` (the
  certified engine, wired by another branch);
* depth closed forms — ``gradient_product``, ``fixed_point``, ``weight_bound``,
  ``vanishing_depth``, and ``gain``, ``moment_factor``;
* simulations — ``simulate``, ``crosscheck``, ``simulate_chain``, ``compare``;
* figures — ``Figure.svg`` (symgrad's own SVG plotter; ``figure_svg``, matplotlib, before);
* the rest — rendering, SymPy derivations, imports.

Then the wall time of ``python -m symgrad report --jobs N`` for N = 1 and 2 (target:
≤ 15 s on 2 cores).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from _before import AFTER, add_before_argument, ensure_before

PARTS: dict[str, tuple[str, ...]] = {
    "mean field": ("symgrad.meanfield.field:mean_field", "symgrad.meanfield.phase:phase_diagram",
                   "symgrad.meanfield.criticality:critical_sigma_w"),
    "chain traces": ("symgrad.depth.trace:chain_trace", "symgrad.depth.trace:residual_trace"),
    "certified slopes": ("symgrad.slopes.sup:max_slope", "symgrad.slopes.saturation:saturation",
                         "symgrad.slopes.gaussian:expected_slope", "symgrad.slopes.point:slope"),
    "depth closed forms": ("symgrad.depth.product:gradient_product",
                           "symgrad.depth.fixed_point:fixed_point",
                           "symgrad.depth.bounds:weight_bound",
                           "symgrad.depth.bounds:vanishing_depth",
                           "symgrad.initialization.gains:gain",
                           "symgrad.initialization.gains:moment_factor"),
    "simulations": ("symgrad.numeric.mlp:simulate", "symgrad.numeric.checks.table:crosscheck",
                    "symgrad.numeric.chain:simulate_chain", "symgrad.numeric.training:compare"),
    "figures": ("symgrad._core.plot:Figure.svg", "symgrad.reports.figures:figure_svg"),
}
OWNER = {"mean field": "this branch", "chain traces": "this branch",
         "certified slopes": "certified engine (other branch)",
         "depth closed forms": "others", "simulations": "others (numeric)",
         "figures": "rendering", "the rest": "rendering, SymPy, imports"}


class _Clock:
    """Exclusive time per part: entering a tracked call pauses the caller's part."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.stack: list[list[Any]] = []  # [part, started, time of tracked children]

    def wrap(self, part: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            frame = [part, time.perf_counter(), 0.0]
            self.stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                self.stack.pop()
                spent = time.perf_counter() - frame[1]
                self.totals[part] = self.totals.get(part, 0.0) + spent - frame[2]
                if self.stack:
                    self.stack[-1][2] += spent

        timed.__wrapped__ = fn  # type: ignore[attr-defined]
        timed.__name__ = getattr(fn, "__name__", "timed")
        timed.__doc__ = fn.__doc__
        return timed


def worker() -> dict[str, Any]:
    began = time.perf_counter()
    clock = _Clock()
    for part, targets in PARTS.items():
        for target in targets:
            module_name, name = target.split(":")
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            *path, last = name.split(".")  # "Figure.svg": a method, wrapped on its class
            owner: Any = module
            for attribute in path:
                owner = getattr(owner, attribute, None)
            if owner is not None and hasattr(owner, last):
                setattr(owner, last, clock.wrap(part, getattr(owner, last)))
    # Packages re-export the entry points: point their names at the wrapped ones too.
    for package in ("symgrad.meanfield", "symgrad.depth", "symgrad.slopes", "symgrad.numeric",
                    "symgrad.initialization", "symgrad"):
        module = importlib.import_module(package)
        for targets in PARTS.values():
            for target in targets:
                module_name, name = target.split(":")
                source = sys.modules.get(module_name)
                if source is not None and name in getattr(module, "__dict__", {}):
                    setattr(module, name, getattr(source, name))
    from symgrad.reports import Timing, render_reports, report_names

    imported = time.perf_counter() - began
    reports: dict[str, Any] = {}
    for name in report_names():
        timings: list[Timing] = []
        start = time.perf_counter()
        try:
            render_reports([name], timings=timings)
            reports[name] = {"seconds": time.perf_counter() - start, "error": None}
        except Exception as exc:  # a failing report is a result here
            reports[name] = {"seconds": time.perf_counter() - start,
                             "error": f"{type(exc).__name__}: {exc}"[:120]}
    total = time.perf_counter() - began
    parts = dict(clock.totals)
    parts["the rest"] = total - sum(parts.values())
    return {"reports": reports, "parts": parts, "total": total, "imports": imported}


def _wall(tree: str, jobs: int) -> tuple[float, bool]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "symgrad", "report", "--jobs", str(jobs),
                               "--out", os.path.join(tmp, "proofs")], env=env, cwd="/",
                              capture_output=True, check=False)
        return time.perf_counter() - began, done.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the fresh-interpreter walls")
    add_before_argument(parser)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker()))
        return
    before = ensure_before(args.before)
    runs = {}
    for side, tree in (("before", before), ("after", AFTER)):
        env = dict(os.environ, PYTHONPATH=str(tree))
        out = subprocess.run([sys.executable, __file__, "--worker"], env=env, cwd="/",
                             capture_output=True, text=True, check=True)
        runs[side] = json.loads(out.stdout.strip().splitlines()[-1])
    b, a = runs["before"], runs["after"]
    print("| report | before s | after s | ratio | note |")
    print("| --- | ---: | ---: | ---: | --- |")
    def slowest(name: str) -> float:
        return -float(b["reports"].get(name, {"seconds": 0.0})["seconds"])

    for name in sorted(a["reports"], key=slowest):
        rb, ra = b["reports"].get(name), a["reports"][name]
        note = "; ".join(f"{side} fails: {r['error']}"
                         for side, r in (("before", rb), ("after", ra)) if r and r["error"])
        sb = rb["seconds"] if rb else float("nan")
        print(f"| {name} | {sb:.2f} | {ra['seconds']:.2f} | {sb / ra['seconds']:.1f} | {note} |")
    print(f"| total (one process, imports included) | {b['total']:.1f} | {a['total']:.1f} | "
          f"{b['total'] / a['total']:.1f} | |")
    print()
    print("| part (exclusive seconds) | whose | before s | after s | ratio |")
    print("| --- | --- | ---: | ---: | ---: |")
    for part in [*PARTS, "the rest"]:
        pb, pa = b["parts"].get(part, 0.0), a["parts"].get(part, 0.0)
        ratio = f"{pb / pa:.1f}" if pa > 0 else "-"
        print(f"| {part} | {OWNER[part]} | {pb:.2f} | {pa:.2f} | {ratio} |")
    if args.quick:
        return
    print()
    print("| `symgrad report --jobs N`, fresh interpreter | before s | after s |")
    print("| --- | ---: | ---: |")
    for jobs in (1, os.cpu_count() or 1):
        wb, okb = _wall(str(before), jobs)
        wa, oka = _wall(str(AFTER), jobs)
        print(f"| --jobs {jobs} | {wb:.1f}{'' if okb else ' (fails)'} | "
              f"{wa:.1f}{'' if oka else ' (fails)'} |")


if __name__ == "__main__":
    main()
