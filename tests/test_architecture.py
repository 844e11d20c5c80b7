"""The shape of the code, checked by walking every module's imports (lazy ones inside functions included,
`if TYPE_CHECKING:` blocks excluded): a straight stack of layers with one-way arrows, no import circle between or
inside packages, Qt only in robotapp/gui, no two source files with one name. See docs/architecture.md."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hardware", "calibration", "policies", "robotapp")
# The stack, bottom first: a module may import only from its own layer's package or a layer below.
LAYERS = [
    ["hardware"],
    ["calibration"],
    ["policies"],
    ["robotapp.dataset"],
    ["robotapp.core"],
    ["robotapp.eval", "robotapp.setup"],
    ["robotapp.services", "robotapp.jobs"],
    ["robotapp.terminal", "robotapp.gui"],
    ["robotapp.cli"],
    ["robotapp"],  # robotapp/__init__.py and __main__.py
]
QT = ("PySide6", "pyqtgraph", "shiboken6")


def _modules() -> dict[str, Path]:
    mods = {}
    for top in PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = path
    return mods


MODULES = _modules()


def _imports(name: str, path: Path) -> list[str]:
    """Every module named by an import in this file (absolute names), type-checking-only imports left out."""
    tree = ast.parse(path.read_text())
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for a in node.names:  # `from pkg import module` names the module; `from mod import name`, the module
                out.append(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base)
    return out


def _resolve(target: str) -> str | None:
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


GRAPH: dict[str, set[str]] = {m: {r for t in _imports(m, p) if (r := _resolve(t)) and r != m}
                              for m, p in MODULES.items()}
RAW_IMPORTS = {m: _imports(m, p) for m, p in MODULES.items()}


def _cycles(nodes: set[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
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

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def _layer(module: str) -> int:
    best, rank = -1, None
    for i, layer in enumerate(LAYERS):
        for prefix in layer:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    assert rank is not None, f"{module} is in no layer"
    return rank


def test_no_import_circle_between_modules():
    assert _cycles(set(GRAPH), GRAPH) == []


def _packages() -> list[str]:
    return sorted(m for m, p in MODULES.items() if p.name == "__init__.py")


@pytest.mark.parametrize("package", ["<top>", *_packages()])
def test_no_import_circle_between_the_parts_of_a_package(package):
    """Each package's children (modules and subpackages, taken whole) import one another one way only."""
    depth = 0 if package == "<top>" else package.count(".") + 1

    def child(m: str) -> str | None:
        if package != "<top>" and not m.startswith(package + "."):
            return None
        parts = m.split(".")
        return ".".join(parts[:depth + 1]) if len(parts) > depth else None

    edges: dict[str, set[str]] = defaultdict(set)
    for m, targets in GRAPH.items():
        a = child(m)
        for t in targets:
            b = child(t)
            if a and b and a != b:
                edges[a].add(b)
    nodes = {c for m in GRAPH if (c := child(m))}
    assert _cycles(nodes, edges) == []


def test_every_import_goes_down_the_stack():
    wrong = [f"{m} -> {t}" for m, targets in GRAPH.items() for t in targets
             if _layer(t) > _layer(m) or (_layer(t) == _layer(m) and _part(t) != _part(m))]
    assert wrong == []


def _part(module: str) -> str:
    """The layer entry a module belongs to (robotapp.eval and robotapp.setup share a layer but not a part)."""
    return max((p for layer in LAYERS for p in layer if module == p or module.startswith(p + ".")), key=len)


def test_qt_only_in_the_gui():
    users = sorted(m for m, names in RAW_IMPORTS.items() if not m.startswith("robotapp.gui")
                   and any(n.split(".")[0] in QT for n in names))
    assert users == []


def test_no_two_source_files_share_a_name():
    by_name = defaultdict(list)
    for m, p in MODULES.items():
        if p.name not in ("__init__.py", "__main__.py"):
            by_name[p.name].append(m)
    assert {n: ms for n, ms in by_name.items() if len(ms) > 1} == {}


def test_the_checks_see_the_code():
    """A walk that found nothing would pass every test above."""
    assert len(MODULES) > 150
    assert "robotapp.core.session" in GRAPH["robotapp.terminal.session_commands"]
    assert _cycles({"a", "b"}, {"a": {"b"}, "b": {"a"}}) == [["a", "b"]]
