"""Time what a user waits for before symgrad does anything: `import symgrad`, the CLI's
`--help`, and the first use of a question, each in a fresh interpreter.

Run:  python benchmarks/import_speed.py [--against DIR] [--runs N]

With ``--against DIR`` (another source tree of symgrad, e.g. an older commit exported:
``mkdir DIR && git archive <commit> | tar -x -C DIR``) both trees are timed in
alternating pairs, A B A B …, so a drift of the machine's speed hits both alike, and the
median of the pairwise ratios is printed.  Each command also reports which heavy
libraries it loaded (SymPy, NumPy, SciPy, matplotlib, mpmath, flint).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
HEAVY = ("sympy", "numpy", "scipy", "matplotlib", "mpmath", "flint")

COMMANDS = {
    "import symgrad": "import symgrad",
    "symgrad --help": "import sys; sys.argv = ['symgrad', '--help']\n"
                      "try:\n    from symgrad.cli import main; main()\nexcept SystemExit: pass",
    "first max_slope('sigmoid')": "import symgrad; symgrad.max_slope('sigmoid')",
}


def _time(tree: Path, code: str) -> tuple[float, list[str]]:
    """Wall seconds of a fresh interpreter running ``code`` with ``tree`` first on the
    path, and the heavy libraries it had loaded at the end."""
    script = (code + "\nimport sys, json\n"
              f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    env = dict(os.environ, PYTHONPATH=str(tree))
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd="/", check=True,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - began
    return seconds, json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another symgrad checkout to compare")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command (7)")
    args = parser.parse_args()
    trees = [("this tree", HERE)] + ([("against", args.against)] if args.against else [])
    print(f"{'command':<28}" + "".join(f"{name:>14}" for name, _ in trees)
          + ("       ratio" if args.against else "") + "   heavy libraries loaded (this tree)")
    for label, code in COMMANDS.items():
        times: dict[str, list[float]] = {name: [] for name, _ in trees}
        loaded: list[str] = []
        for _, tree in trees:  # warm the file cache once per tree
            _time(tree, code)
        for _ in range(args.runs):
            for name, tree in trees:
                seconds, found = _time(tree, code)
                times[name].append(seconds)
                if name == "this tree":
                    loaded = found
        medians = {name: statistics.median(v) for name, v in times.items()}
        row = f"{label:<28}" + "".join(f"{medians[name]:13.3f}s" for name, _ in trees)
        if args.against:
            ratios = [a / b for a, b in zip(times["this tree"], times["against"], strict=True)]
            row += f"   ×{statistics.median(ratios):8.3f}"
        print(row + "   " + (", ".join(loaded) or "none"))


if __name__ == "__main__":
    main()
