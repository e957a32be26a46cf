"""The package's layers, enforced: imports point down only, never in a circle.

    cli → reports → claims, frameworks → numeric.checks → questions → _exact → records
        → _core → errors, types

The questions (activations, slopes, depth, recurrent, initialization, meanfield,
networks, spectrum, numeric) share one layer; between them the package graph must have
no cycle.  Every import of a symgrad module is at module top (a lazy façade loads by
name through ``importlib`` instead); inside functions only optional extras are imported.
Each failure names the importing file, the line and the imported module.  No module is
longer than 400 lines.
"""

from __future__ import annotations

import ast
import pathlib
from collections import defaultdict

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "symgrad"

QUESTIONS = ("activations", "slopes", "depth", "recurrent", "initialization", "meanfield",
             "networks", "spectrum", "numeric")
#: Layer of each top-level part of the package (higher may import lower, never the reverse).
RANK = {"errors": 0, "types": 0, "_core": 1, "records": 2, "_exact": 3,
        **dict.fromkeys(QUESTIONS, 4), "numeric.checks": 5, "claims": 6, "frameworks": 6,
        "strategies": 6, "reports": 7, "cli": 8, "__main__": 8}
#: Imports allowed inside functions: optional extras, loaded only when used.
OPTIONAL = ("matplotlib", "cycler", "torch", "tqdm", "dask", "distributed", "IPython", "scipy")
#: Modules that load other symgrad modules by name (lazy façades and tables of names).
BY_NAME = {"symgrad/__init__.py", "symgrad/cli/main.py", "symgrad/numeric/checks/table.py",
           "symgrad/numeric/__init__.py"}


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _part(module: str) -> str:
    """The layer key of a module: its top-level part (numeric.checks kept apart)."""
    rest = module.split(".")[1:]
    if rest[:2] == ["numeric", "checks"]:
        return "numeric.checks"
    return rest[0] if rest else "__init__"


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(path: pathlib.Path) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(module-level symgrad imports, imports inside functions), as (line, module)."""
    tree = ast.parse(path.read_text())
    top: list[tuple[int, str]] = []
    inner: list[tuple[int, str]] = []
    here = _module_name(path)

    def targets(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        base = node.module or ""
        if node.level:
            package = here.split(".")[: len(here.split(".")) - node.level
                                     + (1 if path.name == "__init__.py" else 0)]
            base = ".".join([*package, *([base] if base else [])])
        found = []
        for alias in node.names:
            full = f"{base}.{alias.name}"
            found.append(full if full in MODULES else base)
        return found

    def visit(node: ast.AST, depth: int, guarded: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # seen by the type checker only
            if isinstance(child, ast.Import | ast.ImportFrom):
                for target in targets(child):
                    (inner if depth else top).append((child.lineno, target))
            deeper = depth + isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef
                                        | ast.Lambda)
            visit(child, deeper, guarded)

    visit(tree, 0, False)
    return ([(n, m) for n, m in top if m.startswith("symgrad")], inner)


GRAPH: dict[str, list[tuple[int, str]]] = {name: _imports(p)[0] for name, p in MODULES.items()}


def test_every_module_has_a_layer() -> None:
    unknown = sorted({_part(m) for m in MODULES} - set(RANK) - {"__init__"})
    assert not unknown, f"parts of symgrad without a layer in RANK: {unknown}"


def test_imports_point_down() -> None:
    upward = []
    for name, edges in GRAPH.items():
        if name == "symgrad":
            continue
        for line, target in edges:
            if target == "symgrad":
                upward.append(f"{MODULES[name]}:{line} imports the façade `symgrad`")
                continue
            if RANK[_part(target)] > RANK[_part(name)]:
                upward.append(f"{MODULES[name]}:{line} ({_part(name)}) imports {target} "
                              f"({_part(target)}, a higher layer)")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_no_import_cycles_between_modules() -> None:
    graph = {name: {t for _, t in edges if t != name} for name, edges in GRAPH.items()}
    assert not _cycles(graph), f"import cycles: {_cycles(graph)}"


def test_no_cycles_between_questions() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for name, edges in GRAPH.items():
        for _, target in edges:
            a, b = _part(name), _part(target)
            if a != b and a in QUESTIONS and b in QUESTIONS:
                graph[a].add(b)
    assert not _cycles(graph), f"questions importing each other in a circle: {_cycles(graph)}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_at_module_top(name: str) -> None:
    hidden = [f"{MODULES[name]}:{line} imports {target} inside a function"
              for line, target in _imports(MODULES[name])[1]
              if target.split(".")[0] not in OPTIONAL]
    assert not hidden, "\n".join(hidden)


def test_lazy_loading_only_where_declared() -> None:
    users = {str(p.relative_to(ROOT.parent)) for p in MODULES.values()
             if "import_module(" in p.read_text()}
    assert users <= BY_NAME, f"importlib used outside the declared lazy places: {users - BY_NAME}"


#: A module says one thing; past this many lines it is split along its banners.
MAX_LINES = 400


def test_modules_within_the_line_limit() -> None:
    long = {str(p.relative_to(ROOT.parent)): n for p in MODULES.values()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by question): {long}"
