"""The report pipeline: derive (records) → render (Markdown, SVG) → write ``proofs/``.

A :class:`Report` names a builder that returns its files as :class:`Output` s (path
relative to the output directory, bytes).  :func:`generate` runs the builders in
registry order; :func:`write` puts the files in place atomically (everything is
generated in memory first, written to a temporary directory beside the target,
then swapped in, so a failure at any point leaves the previous ``proofs/`` intact);
:func:`check` compares without writing and returns a unified diff.

Output is deterministic: builders use fixed seeds and sorted iteration, figures come
from symgrad's own SVG plotter :mod:`symgrad._core.plot`, and nothing carries a timestamp.
"""

from __future__ import annotations

import difflib
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from symgrad._core.validate import describe
from symgrad.errors import InvalidArgument
from symgrad.numeric._parallel import blas_one_thread

__all__ = [
    "INDEX",
    "Output",
    "Report",
    "Timing",
    "check",
    "generate",
    "write",
]

#: The index file every run writes.
INDEX = "README.md"
#: The reports that take longest to build, longest first (measured): with ``--jobs N``
#: the pool starts them first.  Only the order of the work depends on it, never the
#: output; a report not named here comes after these, in the order given.
LONGEST = {name: i for i, name in enumerate((
    "networks-init", "activation-selu", "spectrum-isometry", "meanfield", "initialization",
    "networks-plain", "networks-residual", "networks-normalized", "spectrum-finite-width",
    "chain-4-layer-sigmoid", "weight-bound", "activation-tanh", "activation-silu",
    "activation-mish", "activation-softsign", "activation-gelu", "activation-sigmoid",
))}


@dataclass(frozen=True)
class Output:
    """One generated file: a POSIX path relative to the output directory, and its bytes."""
    path: str
    content: bytes

    @staticmethod
    def text(path: str, text: str) -> Output:
        return Output(path, text.encode("utf-8"))


@dataclass(frozen=True)
class Report:
    """A registered report: its ``name`` (for ``--only``), index entry and builder."""
    name: str
    title: str
    blurb: str
    group: str
    build: Callable[[], Sequence[Output]] = field(repr=False, compare=False)
    #: What the index shows of this report beyond its title (an activation's at-a-glance
    #: cells), computed right after ``build`` in the same process, whose caches then hold
    #: the records it is made of; None when the index shows nothing more.
    summary: Callable[[], Any] | None = field(default=None, repr=False, compare=False)

    @property
    def path(self) -> str:
        return f"{self.name}.md"


@dataclass(frozen=True)
class Timing:
    """How long one report took to build (seconds) and how many files it wrote."""
    name: str
    seconds: float
    files: int


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (JupyterLab, VS Code, nbclient)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class _Progress:
    """``[3/25] name … 1.2 s`` on stderr on a terminal, a tqdm bar in a notebook
    (``tqdm.auto``, when tqdm is installed); nothing in CI or when piped."""
    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total = total
        self.stream = stream
        self.bar: Any = None
        if stream is None and not os.environ.get("CI"):
            if in_notebook():
                try:
                    from tqdm.auto import tqdm
                except ImportError:
                    tqdm = None
                if tqdm is not None:
                    self.bar = tqdm(total=total, desc="symgrad report", leave=False)
            elif sys.stderr.isatty():
                self.stream = sys.stderr

    def start(self, i: int, name: str) -> None:
        if self.bar is not None:
            self.bar.n = i - 1
            self.bar.set_postfix_str(name)
        if self.stream is not None:
            self.stream.write(f"\r[{i}/{self.total}] {name} …\x1b[K")
            self.stream.flush()

    def done(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.stream is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def select(reports: Sequence[Report], only: Iterable[str] | None) -> list[Report]:
    """The reports named in ``only`` (all when None), in registry order."""
    if only is None:
        return list(reports)
    wanted = list(only)
    known = {r.name for r in reports}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise InvalidArgument(
            f"unknown report {describe(unknown[0])}; known reports: {', '.join(sorted(known))}"
        )
    return [r for r in reports if r.name in wanted]


#: ``index(listed, summaries)``: the index page, from the listed reports and the summaries
#: (report name → what its ``summary`` returned) of those that have one.
Index = Callable[[Sequence[Report], Mapping[str, Any]], Output]
#: What one task returns: the report's files, its seconds, its summary (or None).
Built = tuple[list[Output], float, Any]


def _timed(build: Callable[[], Sequence[Output]] | None,
           summary: Callable[[], Any] | None = None) -> Built:
    """Run one builder, then its summary, and time both (module level, so a process pool
    can call it), with NumPy's BLAS held to one thread: the reports' products are small,
    and a BLAS that spreads each over the cores (beside another worker, or on a busy
    machine) spends more time handing off and spinning than multiplying (the training
    report: 2 s on one thread, 6–26 s on two on a shared 2-core machine; the same bytes)."""
    began = time.perf_counter()
    with blas_one_thread():
        outputs = list(build()) if build is not None else []
        summed = summary() if summary is not None else None
    return outputs, time.perf_counter() - began, summed


def _missing(listed: Sequence[Report], built: Sequence[Report]) -> list[Report]:
    """The listed reports with a summary that are not being built (``--only``)."""
    names = {r.name for r in built}
    return [r for r in listed if r.summary is not None and r.name not in names]


def _run_parallel(
    reports: Sequence[Report], extra: Sequence[Report], jobs: int, bar: _Progress,
) -> tuple[list[Built], list[Built]]:
    """Every builder (with its summary) on a pool of ``jobs`` fresh interpreters, longest
    first; then the summaries of ``extra`` (listed in the index, not built).  Results in
    the given order.

    Builders are module-level functions (or partials of them), so they pickle by
    reference.  ``spawn`` workers start clean (no forked BLAS threads); the outputs do
    not depend on which worker built them, nor on the order the pool takes them in.
    """
    tasks = [(r.build, r.summary) for r in reports] + [(None, r.summary) for r in extra]
    names = [r.name for r in reports] + [r.name for r in extra]
    results: list[Built | None] = [None] * len(tasks)
    context = multiprocessing.get_context("spawn")
    # The longest reports first (their measured order, LONGEST), so that no worker
    # starts a long one while the other runs out of work.
    order = sorted(range(len(tasks)), key=lambda i: LONGEST.get(names[i], len(LONGEST)))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(_timed, *tasks[i]): i for i in order}
        for done, future in enumerate(as_completed(futures), 1):
            i = futures[future]
            results[i] = future.result()
            bar.start(done, names[i])
    got = [r for r in results if r is not None]
    return got[:len(reports)], got[len(reports):]


def generate(
    reports: Sequence[Report],
    *,
    index: Index | None = None,
    listed: Sequence[Report] | None = None,
    progress: TextIO | None = None,
    timings: list[Timing] | None = None,
    summaries: dict[str, Any] | None = None,
    jobs: int = 1,
) -> dict[str, bytes]:
    """Build ``reports`` in memory: path → bytes, plus the index when given (listing
    ``listed``, by default ``reports``).  Each report's summary is computed beside it
    (and stored in ``summaries`` when given); the index is made from them.

    ``jobs`` > 1 builds them on that many worker processes, longest first (the result is
    identical; derivations cached in one report are then not shared with reports built
    in another worker).  Two reports writing the same path is an error (it would make
    the result depend on order).
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InvalidArgument(f"jobs must be an integer >= 1, got {describe(jobs)}")
    listed = reports if listed is None else listed
    extra = _missing(listed, reports) if index is not None else []
    files: dict[str, bytes] = {}
    bar = _Progress(len(reports) + len(extra), progress)
    try:
        if jobs > 1 and len(reports) + len(extra) > 1:
            built, more = _run_parallel(reports, extra, min(jobs, len(reports) + len(extra)),
                                        bar)
        else:
            built, more = [], []
            for i, report in enumerate(reports, 1):
                bar.start(i, report.name)
                built.append(_timed(report.build, report.summary))
            for report in extra:
                more.append(_timed(None, report.summary))
    finally:
        bar.done()
    found = {} if summaries is None else summaries
    for report, (outputs, seconds, summed) in zip(reports, built, strict=True):
        for out in outputs:
            if out.path in files:
                raise InvalidArgument(f"report {report.name} writes {out.path} twice")
            files[out.path] = out.content
        if timings is not None:
            timings.append(Timing(report.name, seconds, len(outputs)))
        if report.summary is not None:
            found[report.name] = summed
    for report, (_, _, summed) in zip(extra, more, strict=True):
        found[report.name] = summed
    if index is not None:
        entry = index(listed, found)
        files[entry.path] = entry.content
    return dict(sorted(files.items()))


def _read_tree(root: Path) -> dict[str, bytes]:
    if not root.is_dir():
        return {}
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def write(out: Path, files: dict[str, bytes], *, replace_all: bool = True) -> None:
    """Write ``files`` under ``out`` atomically.

    With ``replace_all`` the directory afterwards holds exactly ``files`` (stale files
    go); otherwise ``files`` are added to or overwrite what ``out`` holds.  The new
    tree is assembled in a temporary directory beside ``out`` and swapped in with two
    renames; if anything fails, ``out`` is left as it was.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InvalidArgument(f"--out {str(out)!r} exists and is not a directory")
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=parent))
    backup: Path | None = None
    try:
        if out.is_dir() and not replace_all:
            shutil.copytree(out, staging, dirs_exist_ok=True)
        for rel, content in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        staging.chmod(0o755)
        if out.is_dir():
            backup = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=parent))
            backup.rmdir()
            os.rename(out, backup)
        try:
            os.rename(staging, out)
        except OSError:
            if backup is not None:
                os.rename(backup, out)
                backup = None
            raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)


def check(out: Path, files: dict[str, bytes], *, replace_all: bool = True) -> str:
    """The unified diff from what ``out`` holds to ``files`` ("" when current).

    With ``replace_all``, files under ``out`` that would no longer be generated count
    as drift too.
    """
    out = Path(out)
    current = _read_tree(out)
    paths = sorted(set(files) | (set(current) if replace_all else set()))
    chunks: list[str] = []
    for rel in paths:
        old, new = current.get(rel), files.get(rel)
        if old == new:
            continue
        chunks.extend(_diff(f"{out.as_posix()}/{rel}", old, new))
    return "".join(chunks)


def _diff(name: str, old: bytes | None, new: bytes | None) -> list[str]:
    try:
        old_lines = old.decode("utf-8").splitlines(keepends=True) if old is not None else []
        new_lines = new.decode("utf-8").splitlines(keepends=True) if new is not None else []
    except UnicodeDecodeError:
        return [f"Binary file {name} differs\n"]
    lines = list(
        difflib.unified_diff(
            old_lines,
            new_lines,
            fromfile=f"a/{name}" if old is not None else "/dev/null",
            tofile=f"b/{name}" if new is not None else "/dev/null",
        )
    )
    return [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in lines]
