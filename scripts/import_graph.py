#!/usr/bin/env python3
"""The import graph of python/heapscope, read with ``ast``, and its cycles.

An edge ``a -> b`` is an import of heapscope's module ``b`` anywhere in ``a`` (module
level or inside a function): ``from .b import ...``, ``from . import b``, and their
absolute spellings. ``from . import name`` where ``name`` is no module (``__version__``)
imports the package itself (``__init__``). Imports under ``if TYPE_CHECKING:`` are left
out unless ``--all`` is given: they never run, so they form no runtime cycle.

Prints the strongly connected components with more than one module (each is an import
cycle), and exits with 1 if there is one. ``tests/test_import_graph.py`` runs the same
check.

    scripts/import_graph.py            runtime imports
    scripts/import_graph.py --all      also the TYPE_CHECKING ones
    scripts/import_graph.py --edges    also print every edge
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

PACKAGE = "heapscope"
PACKAGE_DIR = Path(__file__).resolve().parent.parent / "python" / PACKAGE


def _is_type_checking(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _imports(tree: ast.AST, modules: set[str], include_type_checking: bool) -> set[str]:
    """The package's modules that ``tree`` imports, at any depth."""
    found: set[str] = set()

    def target(dotted: str) -> str | None:
        # "kinds", "kinds.x" -> "kinds"; "" (the package itself) -> "__init__"
        head = dotted.split(".")[0] if dotted else "__init__"
        return head if head in modules else None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test) and not include_type_checking:
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                base = node.module or ""
            elif node.level == 0 and node.module and (node.module + ".").startswith(PACKAGE + "."):
                base = node.module[len(PACKAGE) + 1 :]
            else:
                base = None
            if base is not None:
                if base == "":
                    # from . import a, b: submodules, or names of the package itself
                    for alias in node.names:
                        found.add(alias.name if alias.name in modules else "__init__")
                elif (t := target(base)) is not None:
                    found.add(t)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if (alias.name + ".").startswith(PACKAGE + "."):
                    if (t := target(alias.name[len(PACKAGE) + 1 :])) is not None:
                        found.add(t)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(package_dir: Path = PACKAGE_DIR, include_type_checking: bool = False) -> dict[str, set[str]]:
    """Module name (file stem) -> the package's modules it imports."""
    files = {p.stem: p for p in sorted(package_dir.glob("*.py"))}
    modules = set(files) | {p.name.split(".")[0] for p in package_dir.glob("*.so")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[name] = _imports(tree, modules, include_type_checking) - {name}
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, each sorted, largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
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
            components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(components, key=lambda c: (-len(c), c))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The components that are import cycles (more than one module)."""
    return [c for c in strongly_connected(graph) if len(c) > 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="count imports under TYPE_CHECKING too")
    parser.add_argument("--edges", action="store_true", help="print every edge")
    args = parser.parse_args(argv)
    graph = import_graph(include_type_checking=args.all)
    if args.edges:
        for name in sorted(graph):
            print(f"{name} -> {', '.join(sorted(graph[name])) or '-'}")
    found = cycles(graph)
    what = "imports (TYPE_CHECKING included)" if args.all else "runtime imports"
    if not found:
        print(f"no import cycle among {len(graph)} modules ({what})")
        return 0
    print(f"import cycles among {len(graph)} modules ({what}):")
    for component in found:
        inner = {m: sorted(graph[m] & set(component)) for m in component}
        print(f"  {len(component)} modules: {', '.join(component)}")
        for m, targets in inner.items():
            print(f"    {m} -> {', '.join(targets)}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
