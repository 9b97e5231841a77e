"""No import cycle among heapscope's modules (scripts/import_graph.py).

Every ``from .x import`` (and ``from . import x``) counts, at module level or inside a
function, except under ``if TYPE_CHECKING:``: such imports never run. A cycle of imports
that run makes the modules' order of initialisation matter and is how one module ends
up importing every other; see docs/architecture.md (python/heapscope).
"""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path
from types import ModuleType

import heapscope

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "import_graph.py"
PACKAGE_DIR = Path(heapscope.__file__).resolve().parent  # the package under test


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_runtime_import_cycle() -> None:
    graph = _script().import_graph(PACKAGE_DIR)
    assert {"session", "identity_set", "kinds", "relations", "hidden"} <= set(graph)
    cycles = _script().cycles(graph)
    assert cycles == [], "runtime import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_hidden_registry_is_a_leaf() -> None:
    # every module registers its classes in it: it may import nothing of heapscope but
    # the extension
    graph = _script().import_graph(PACKAGE_DIR, include_type_checking=True)
    assert graph["hidden"] <= {"_native"}
    assert graph["_version"] == set()


def test_the_session_does_not_import_every_module() -> None:
    graph = _script().import_graph(PACKAGE_DIR)
    assert not graph["session"] & {"leaks", "profile", "snapshot", "__init__"}
    assert not graph["identity_set"] & {"paths", "reference_pattern", "relations", "retention", "session"}
    assert "relations" not in graph["kinds"]


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "heapscope"
    pkg.mkdir()
    for name, text in files.items():
        (pkg / f"{name}.py").write_text(textwrap.dedent(text))
    return pkg


def test_the_check_sees_function_level_imports_and_skips_type_checking(tmp_path: Path) -> None:
    script = _script()
    pkg = _package(tmp_path, {
        "__init__": "from .a import f\n",
        "a": """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from .c import C
            else:
                from . import d
            def f():
                from .b import g
                return g
        """,
        "b": "import heapscope.a\n",
        "c": "from .a import f\n",
        "d": "def h():\n    from . import __version__\n",
    })
    graph = script.import_graph(pkg)
    assert graph["a"] == {"b", "d"}
    assert graph["b"] == {"a"}
    assert graph["d"] == {"__init__"}
    assert script.cycles(graph) == [["__init__", "a", "b", "d"]]
    with_types = script.import_graph(pkg, include_type_checking=True)
    assert with_types["a"] == {"b", "c", "d"}
    assert script.cycles(with_types) == [["__init__", "a", "b", "c", "d"]]
