"""How long does a user wait for the first max_slope and saturation?  Today's code against
the code before the Arb engine was wired in, side by side, every call cold.

Run:  python benchmarks/exact_speed.py                 (every catalogue activation)
      python benchmarks/exact_speed.py --quick         (sigmoid, gelu_tanh, mish, selu)
      python benchmarks/exact_speed.py --old <commit>  (the "before" code; default: the
                                                        merge base of HEAD and main)

The old code is exported with ``git archive <commit>`` into a temporary directory and
imported from there (PYTHONPATH first), so both run in the same Python with the same
libraries.  Every number is one call in a fresh interpreter, imports done and nothing
computed yet — "the first max_slope" is what a user waits for — so SymPy's derivatives
of φ and every cache are paid inside the measured call:

* ``max_slope``: ``symgrad.max_slope(name)``;
* ``saturation``: ``symgrad.saturation(name, 1/100)``;
* ``E[φ'²]``: ``symgrad.expected_slope(name, power=2)``.

Target (issue 12): every catalogue activation's first max_slope and first saturation
≤ 1 s.  The machine is shared: run it on a quiet machine for absolute numbers; the
ratios carry over.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CODE = """
import json, sys, time, sympy
import symgrad
from symgrad import activation
assert symgrad.__file__.startswith({tree!r}), symgrad.__file__
act = activation({name!r})
t, c = time.perf_counter(), time.process_time()
{call}
print(json.dumps({{"t": time.perf_counter() - t, "cpu": time.process_time() - c}}))
"""

CALLS = {
    "max_slope": "symgrad.max_slope(act)",
    "saturation": "symgrad.saturation(act, sympy.Rational(1, 100))",
    "E[φ'²]": "symgrad.expected_slope(act, power=2)",
}


def fresh(tree: Path, name: str, what: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one cold call in a new interpreter importing symgrad from
    ``tree``."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    code = CODE.format(tree=str(tree), name=name, call=CALLS[what])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=900, env=env, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        return float("nan"), float("nan")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result["t"], result["cpu"]


def export(commit: str, into: Path) -> Path:
    """The package at ``commit``, unpacked under ``into`` (git archive: no worktree)."""
    archive = into / "old.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", commit, "symgrad"], stdout=out,
                       check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="four activations only")
    parser.add_argument("--old", default=None, help="commit of the 'before' code")
    args = parser.parse_args()
    old = args.old or subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"],
                                     capture_output=True, text=True,
                                     check=True).stdout.strip()
    sys.path.insert(0, str(ROOT))
    from symgrad import activation_names

    names = (["sigmoid", "gelu_tanh", "mish", "selu"] if args.quick
             else list(activation_names()))
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = export(old, Path(tmp))
        print(f"seconds, one cold call per cell (fresh interpreter); before = {old[:12]}, "
              "after = this worktree; each cell: wall / CPU; ratio = before/after (CPU)")
        head = f"{'activation':<13}"
        for what in CALLS:
            head += f"{what + ' before':>22}{'after':>13}{'ratio':>7}"
        print(head)
        worst, worst_cpu = 0.0, 0.0
        for name in names:
            row = f"{name:<13}"
            for what in CALLS:
                (bw, bc), (aw, ac) = fresh(old_tree, name, what), fresh(ROOT, name, what)
                if what != "E[φ'²]":
                    worst, worst_cpu = max(worst, aw), max(worst_cpu, ac)
                row += f"{bw:>14.2f} /{bc:>5.2f}{aw:>7.2f} /{ac:>5.2f}{bc / ac:>7.1f}"
            print(row, flush=True)
    verdict = "met" if worst <= 1.0 else "NOT met"
    print(f"slowest first max_slope or saturation after: {worst:.2f} s wall, {worst_cpu:.2f} s "
          f"CPU (target ≤ 1 s: {verdict} on wall time here; CPU time is what a quiet machine "
          "would show)")


if __name__ == "__main__":
    main()
