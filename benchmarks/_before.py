"""Run a benchmark's worker against today's code and against the code before a change.

The "before" code is an export of the commit the speed work started from (``BASE``),
written on first use to a directory outside the clone (``git archive BASE | tar -x``:
the repository itself is not touched, no worktree is registered); each side
runs in its own interpreter with ``PYTHONPATH`` pointing at its source tree, so both
import ``symgrad`` unchanged.  A worker prints one JSON document on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

#: The commit the speed branch started from (issue 12's "today's code").
BASE = "67b5bdc"
HERE = Path(__file__).resolve().parent
AFTER = HERE.parent


def ensure_before(path: str, base: str = BASE) -> Path:
    """The source tree of ``base`` at ``path`` (exported when missing)."""
    target = Path(path)
    if not (target / "symgrad" / "__init__.py").exists():
        print(f"exporting {base} to {target} for the 'before' column", file=sys.stderr)
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(AFTER), "archive", base],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def run_worker(tree: Path, script: str, args: list[str], *, timeout: float = 3600) -> Any:
    """``python benchmarks/<script> --worker …`` with ``tree`` first on the path; its JSON."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, str(HERE / script), "--worker", *args], env=env,
                         cwd="/", capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"worker {script} {args} in {tree} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def add_before_argument(parser: Any, *, base: str = BASE,
                        default: str = "/tmp/symgrad-before") -> None:
    parser.add_argument("--before", default=default, metavar="DIR",
                        help=f"source tree of the code before (exported from {base} if missing)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
