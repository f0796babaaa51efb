"""The layers of docs/architecture.md, checked on the source: every import counts, lazy ones included.

An import inside a function is still a dependency (it runs the first time the function does), so the graph
is built from every `import` statement in a module, not only the module-level ones.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "navtalk_desktop"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE
QT_ROOTS = ("PySide6", "shiboken6", "qasync", "superqt", "pyqtgraph")


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _runtime_nodes(tree: ast.AST):
    """Every node but those under `if TYPE_CHECKING:` (annotations only, never imported at run time)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                todo.extend(child.orelse)
            else:
                todo.append(child)


def _imports(path: Path, root: Path = ROOT) -> set[str]:
    """Absolute names of everything the file imports (relative imports resolved)."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from . import x` / `from .pkg import mod` may name submodules: keep them as candidates.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = {_module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps = set()
        for target in _imports(path, root):
            # The longest prefix that is one of our modules is the dependency.
            parts = target.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            if parts and ".".join(parts) != name:
                deps.add(".".join(parts))
        graph[name] = deps
    return graph


def _external(path: Path) -> set[str]:
    return {t.split(".")[0] for t in _imports(path) if not t.startswith(PACKAGE)}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "(package)"


GRAPH = _graph()
FILES = {_module_name(p): p for p in ROOT.rglob("*.py")}

FORBIDDEN = {  # layer -> layers it must never import
    "core": {"ui", "cli", "simulator", "kling_session", "selftest"},
    "simulator": {"ui", "cli", "kling_session", "selftest"},
    "kling_session": {"ui", "cli", "selftest"},
    "ui": {"cli"},
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer):
    wrong = sorted(f"{m} -> {d}" for m, deps in GRAPH.items() if _layer(m) == layer
                   for d in deps if _layer(d) in FORBIDDEN[layer])
    assert not wrong, f"{layer} must not import {sorted(FORBIDDEN[layer])}:\n" + "\n".join(wrong)


def test_core_and_simulator_know_nothing_of_qt():
    wrong = sorted(f"{m} imports {sorted(_external(p) & set(QT_ROOTS))}" for m, p in FILES.items()
                   if _layer(m) in ("core", "simulator", "kling_session") and _external(p) & set(QT_ROOTS))
    assert not wrong, "\n".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _is_package(name: str) -> bool:
    return FILES[name].name == "__init__.py"


def test_no_import_cycles_between_modules():
    # A package's __init__ re-exporting its own modules lazily is not a cycle of design: leave it out.
    graph = {m: {d for d in deps if not (_is_package(d) and m.startswith(d + "."))}
             for m, deps in GRAPH.items()}
    graph = {m: {d for d in deps if not (_is_package(m) and d.startswith(m + "."))} for m, deps in graph.items()}
    assert not _cycles(graph), "import cycles:\n" + "\n".join(" <-> ".join(c) for c in _cycles(graph))


def test_no_import_cycles_between_layers():
    layers: dict[str, set[str]] = {}
    for m, deps in GRAPH.items():
        layers.setdefault(_layer(m), set()).update(_layer(d) for d in deps if _layer(d) != _layer(m))
    layers.pop("(package)", None)
    for deps in layers.values():
        deps.discard("(package)")
    assert not _cycles(layers), f"layers import each other: {_cycles(layers)}"


def test_the_checker_sees_planted_violations(tmp_path):
    """A lazy relative import forming a cycle, and a lazy Qt import in core, are both found."""
    root = tmp_path / PACKAGE
    (root / "core").mkdir(parents=True)
    (root / "simulator").mkdir()
    for init in (root, root / "core", root / "simulator"):
        (init / "__init__.py").write_text("")
    (root / "core" / "connect.py").write_text("def f():\n    from ..simulator import server\n"
                                              "    from PySide6 import QtCore\n")
    (root / "simulator" / "server.py").write_text("from typing import TYPE_CHECKING\nfrom ..core.connect import f\n"
                                                  "if TYPE_CHECKING:\n    from ..core import typing_only\n")
    graph = _graph(root)
    assert f"{PACKAGE}.simulator.server" in graph[f"{PACKAGE}.core.connect"]
    assert _cycles(graph) == [[f"{PACKAGE}.core.connect", f"{PACKAGE}.simulator.server"]]
    assert "PySide6.QtCore" in _imports(root / "core" / "connect.py", root)
    assert not any("typing_only" in name for name in _imports(root / "simulator" / "server.py", root))
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert "navtalk_desktop.core.ffmpeg" in GRAPH["navtalk_desktop.core.export"]
