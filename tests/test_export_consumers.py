"""Real consumers read heapscope's Chrome DevTools export (``.heapsnapshot``) as we mean it.

Two readers: memlab (``tests/consumers/memlab_summary.js``: memlab's own parser and
dominator pass) and Chrome DevTools' heap snapshot code running in headless Chromium
(``tests/consumers/devtools_summary.py``: what the Memory panel's Summary view and
Retainers pane show). Each is first checked on a hand-written V8 snapshot whose answers
are known (``tests/consumers/v8_minimal.py``), then on an export of a small program's
heap, against heapscope's own census, dominator tree, referrers and shortest paths. docs/exports-consumers.md says what
the readers require of a file and how to open an export by hand.

The readers are found as .ci/install-consumers installs them: node with memlab in
$HEAPSCOPE_MEMLAB_DIR or .ci/memlab, Playwright and Chromium ($HEAPSCOPE_CHROMIUM or
Debian's). A missing one skips its tests, unless HEAPSCOPE_REQUIRE_CONSUMERS=1 (as
.ci/run sets after installing them), which makes it a failure.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import heapscope
from heapscope._native import NodeProxy
from heapscope.root import FrameMembers
from heapscope.snapshot import Snapshot

REPO = Path(__file__).resolve().parents[1]
CONSUMERS = REPO / "tests" / "consumers"
MEMLAB_SCRIPT = CONSUMERS / "memlab_summary.js"
REQUIRE = os.environ.get("HEAPSCOPE_REQUIRE_CONSUMERS") == "1"


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"heapscope_consumers_{name}", CONSUMERS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


v8_minimal = _load("v8_minimal")
devtools_summary = _load("devtools_summary")


def _unavailable(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"{reason} (HEAPSCOPE_REQUIRE_CONSUMERS=1: .ci/install-consumers should have installed it)")
    pytest.skip(reason)


def _memlab_dir() -> Path:
    return Path(os.environ.get("HEAPSCOPE_MEMLAB_DIR") or REPO / ".ci" / "memlab")


def need_memlab() -> str:
    """The node binary, once node and memlab are known to be there."""
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not installed (memlab runs on Node.js)")
        raise AssertionError  # not reached
    if not (_memlab_dir() / "node_modules" / "@memlab" / "core" / "package.json").is_file():
        _unavailable(
            f"memlab is not installed in {_memlab_dir()} (run .ci/install-consumers, "
            "or set HEAPSCOPE_MEMLAB_DIR to an npm prefix holding memlab)"
        )
    return node


def need_devtools() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright; no browser download needed)")
    if devtools_summary.find_chromium() is None:
        _unavailable("Chromium is not installed (apt-get install chromium, or set HEAPSCOPE_CHROMIUM)")


def memlab(path: Path, *extra: str) -> dict[str, Any]:
    node = need_memlab()
    env = dict(os.environ, HEAPSCOPE_MEMLAB_DIR=str(_memlab_dir()))
    done = subprocess.run(
        [node, str(MEMLAB_SCRIPT), str(path), *extra], capture_output=True, text=True, env=env, timeout=900
    )
    assert done.returncode == 0, f"memlab could not read {path}:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout)


def devtools(path: Path, top: int = 10) -> dict[str, Any]:
    need_devtools()
    return devtools_summary.summarize(path, top=top)


# -- the readers themselves, on files whose answers are known ----------------------------


@pytest.fixture(scope="module")
def handwritten(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(v8_minimal.write(tmp_path_factory.mktemp("v8") / "minimal.heapsnapshot"))


def test_memlab_reads_a_handwritten_snapshot(handwritten: Path) -> None:
    got = memlab(handwritten)
    want = v8_minimal.EXPECTED
    assert (got["node_count"], got["edge_count"], got["self_size_total"]) == (
        want["node_count"], want["edge_count"], want["self_size_total"])
    assert {k: {"count": v["count"], "self_size": v["self_size"]} for k, v in got["by_name"].items()} == want["by_name"]
    assert {n["id"]: n["retained_size"] for n in got["largest"]} == want["retained"]
    assert got["root"]["retained_size"] == want["self_size_total"]
    assert got["reachable_count"] == want["node_count"]


def test_devtools_reads_a_handwritten_snapshot(handwritten: Path) -> None:
    got = devtools(handwritten)
    assert (got["node_count"], got["edge_count"]) == (9, 12)
    assert got["root"]["retained_size"] == v8_minimal.EXPECTED["self_size_total"]
    assert got["unreachable_count"] == 0
    # the Summary view: object nodes by name, strings as (string), hidden as (system)
    rows = {k: (v["count"], v["self_size"], v["retained_size"]) for k, v in got["classes"].items()}
    assert rows == {
        "dict": (1, 64, 584), "list": (1, 56, 504), "type": (1, 400, 400), "Foo": (2, 96, 96),
        "(string)": (1, 54, 54), "(system)": (1, 16, 16),
    }


def test_readers_agree_on_a_snapshot_of_node(tmp_path: Path) -> None:
    node = need_memlab()
    path = tmp_path / "node.heapsnapshot"
    subprocess.run([node, "-e", f"require('v8').writeHeapSnapshot({json.dumps(str(path))})"], check=True, timeout=120)
    m = memlab(path, "--no-retained")
    d = devtools(path)
    assert m["node_count"] == d["node_count"] > 1000
    assert m["edge_count"] == d["edge_count"]


# -- an export of heapscope's --------------------------------------------------------------

PROGRAM = textwrap.dedent(
    """
    import sys
    import heapscope

    class HeapscopeExportMarker:
        def __init__(self, i):
            self.i = i * 1000            # an int of its own
            self.payload = b"x" * (i % 50)

    class HeapscopeExportHolder:
        __slots__ = ("items",)
        def __init__(self, items):
            self.items = items

    holder = HeapscopeExportHolder([HeapscopeExportMarker(i) for i in range(1234)])
    # non-ASCII texts, more than memlab's 4 MiB read chunks of them (names of str nodes)
    texts = [f"{i:06d}" + "\\u2713\\u6f22\\u00e9" * 8 for i in range(80000)]
    heapscope.dump(sys.argv[1])
    """
)

MARKER = "HeapscopeExportMarker"
HOLDER = "HeapscopeExportHolder"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Snapshot, Path]:
    if not hasattr(Snapshot, "export"):
        pytest.skip("heapscope.Snapshot has no export() yet (the .heapsnapshot exporter is not on this branch)")
    where = tmp_path_factory.mktemp("export")
    program = where / "program.py"
    program.write_text(PROGRAM)
    subprocess.run([sys.executable, str(program), str(where / "heap.hsnap")], check=True, timeout=300)
    snap = heapscope.load(where / "heap.hsnap")
    out = where / "heap.heapsnapshot"
    snap.export(out, format="heapsnapshot")
    return snap, out


def _row(snap: Snapshot, name: str) -> tuple[str, int, int]:
    """heapscope's census row of the class ``__main__.<name>``: kind name, count, size."""
    rows = [r for r in snap.heap().bytype.get_rows() if r.name == f"__main__.{name}"]
    assert len(rows) == 1, rows
    return rows[0].name, rows[0].count, rows[0].size


def _census(snap: Snapshot) -> tuple[int, int]:
    """Objects and bytes the export holds: heap() and the unreachable part, heapu()."""
    x, u = snap.heap(), snap.heapu()
    return x.count + u.count, x.size + u.size


def _holder_retained(snap: Snapshot) -> int:
    holder = (snap.heap() & snap.Clodo(f"__main__.{HOLDER}")).theone
    return int(snap.dominator_tree().retained_size(holder))


def _named(rows: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    """The row of ``name`` (nodes are named by heapscope's kind names)."""
    assert name in rows, f"no row {name!r}; rows like it: {sorted(k for k in rows if name.split('.')[-1] in k)}"
    return rows[name]


def test_export_keeps_to_what_readers_require(exported: tuple[Snapshot, Path]) -> None:
    """The file-level requirements of docs/exports-consumers.md, checked without a reader."""
    snap, path = exported
    raw = path.read_bytes()
    bad = next((i for i, b in enumerate(raw) if b >= 0x80), None)
    assert bad is None, (
        f"byte {bad} is not ASCII: memlab decodes the file in 4 MiB pieces and breaks a "
        "UTF-8 sequence cut between two (write non-ASCII as \\uXXXX, as V8 does)"
    )
    doc = json.loads(raw)
    assert list(doc)[:3] == ["snapshot", "nodes", "edges"] and list(doc)[-1] == "strings"
    head, meta = doc["snapshot"], doc["snapshot"]["meta"]
    nf, ef = len(meta["node_fields"]), len(meta["edge_fields"])
    for section in ("samples", "locations"):
        if meta.get(section[:-1] + "_fields"):
            assert section in doc, f"meta has {section[:-1]}_fields, so DevTools wants {section!r}"
    nodes, edges = doc["nodes"], doc["edges"]
    assert head["node_count"] * nf == len(nodes) and head["edge_count"] * ef == len(edges)
    types = meta["node_types"][meta["node_fields"].index("type")]
    fields = {f: meta["node_fields"].index(f) for f in ("type", "id", "self_size", "edge_count")}
    assert types[nodes[fields["type"]]] == "synthetic", "node 0 must be the root (both readers take node 0)"
    ids = nodes[fields["id"]::nf]
    assert len(set(ids)) == len(ids) and all(0 <= i < 2**32 for i in ids)
    assert all(0 <= s < 2**32 for s in nodes[fields["self_size"]::nf])
    assert sum(nodes[fields["edge_count"]::nf]) * ef == len(edges)
    to = meta["edge_fields"].index("to_node")
    assert all(t % nf == 0 and 0 <= t < len(nodes) for t in edges[to::ef])
    assert all(isinstance(v, int) for v in nodes) and all(isinstance(v, int) for v in edges)
    objects, size = _census(snap)
    ours = [i for i in range(0, len(nodes), nf) if types[nodes[i + fields["type"]]] != "synthetic"]
    assert len(ours) == objects
    assert sum(nodes[i + fields["self_size"]] for i in ours) == size


def test_memlab_reads_the_export(exported: tuple[Snapshot, Path]) -> None:
    snap, path = exported
    got = memlab(path)
    objects, size = _census(snap)
    synthetic = got["by_type"].get("synthetic", {"count": 0, "self_size": 0})
    assert got["node_count"] - synthetic["count"] == objects
    assert got["self_size_total"] - synthetic["self_size"] == size
    assert got["reachable_count"] == got["node_count"], "every node is to be reachable from node 0"
    assert got["root"]["retained_size"] == size
    name, count, size = _row(snap, MARKER)
    marker = _named(got["by_name"], name)
    assert (marker["count"], marker["self_size"]) == (count, size)
    holder = _named(got["by_name"], _row(snap, HOLDER)[0])
    assert holder["count"] == 1
    assert holder["retained_size"] == _holder_retained(snap)
    broken = [k for k in got["by_name"] if "\ufffd" in k]
    assert not broken, f"memlab read {len(broken)} names with broken UTF-8, e.g. {broken[:3]}"


def test_devtools_reads_the_export(exported: tuple[Snapshot, Path]) -> None:
    snap, path = exported
    got = devtools(path)
    objects, size = _census(snap)
    assert got["node_count"] >= objects
    assert got["root"]["retained_size"] == size
    name, count, size = _row(snap, MARKER)
    marker = _named(got["classes"], name)
    assert (marker["count"], marker["self_size"]) == (count, size)
    holder = _named(got["classes"], _row(snap, HOLDER)[0])
    assert holder["count"] == 1
    assert holder["retained_size"] == _holder_retained(snap)
    assert got["unreachable_count"] == 0, "DevTools mishandles nodes its root does not reach"


# -- retainers: what DevTools' Retainers pane shows for the marker objects ----------------


def _label(row: dict[str, Any]) -> str:
    """Heapy's label for a DevTools retainer row (docs/exports.md's mapping read back):
    ``[3]`` for an element edge, ``.name`` for an attribute, ``['key']`` for a dict value
    (keys are written by their repr; the keys here are strs), an internal edge's name as is."""
    kind, name = row["edge_type"], row["edge_name"]
    if kind == "element":
        return f"[{name}]"
    if kind == "property":
        return f"[{name}]" if name.startswith("'") else f".{name}"
    return name


def _via(x: Any) -> str:
    """The one label ``x`` (a one-object set) is referred to by, as heapscope says."""
    rows = [r.name for r in x.byvia.get_rows()]
    assert len(rows) == 1, rows
    label = ast.literal_eval(rows[0])  # the row names the label by its repr: "'[3]'"
    assert isinstance(label, str), rows
    return label


def _root_members(snap: Snapshot) -> Any:
    """The objects the roots name (node 0's edges in the export), frames' f_code and
    f_func included, as a set."""
    members = []
    for name in dir(snap.Root):
        member = getattr(snap.Root, name)
        if isinstance(member, FrameMembers):
            members += [v for v in member.members.values() if isinstance(v, NodeProxy)]
        elif isinstance(member, NodeProxy):
            members.append(member)
    return snap.iso(*members)


def test_devtools_retainers_of_the_export(exported: tuple[Snapshot, Path], tmp_path: Path) -> None:
    """Every marker object's Retainers pane in DevTools holds exactly what heapscope says
    refers to it (the same object, its class, the same label), and the path the pane opens
    by itself is a shortest path of heapscope's from the roots."""
    snap, path = exported
    need_devtools()
    name = _row(snap, MARKER)[0]
    got = devtools_summary.retainers(path, name)
    assert got["count"] == len(got["objects"]) == _row(snap, MARKER)[1]

    # pair objects by node id: the export writes the objects in the order the JSON lines
    # export numbers them, after node 0 (the root) and, when heapu() is not empty, node 1;
    # a node's id is 2 * its index + 1 (docs/exports.md)
    lines = tmp_path / "heap.jsonl"
    snap.export(lines, format="jsonl")
    with lines.open() as f:
        index = {o["address"]: o["id"] for o in map(json.loads, f)}
    first = 2 if snap.heapu().count else 1

    def node_id(obj: Any) -> int:
        return 2 * (index[obj.address] + first) + 1

    devtools_by_id = {o["id"]: o for o in got["objects"]}
    markers = (snap.heap() & snap.Clodo(name)).byid.parts
    for marker in markers:
        shown = devtools_by_id.pop(node_id(marker.theone))
        holder = marker.referrers
        assert holder.count == 1
        want = [{"class_name": str(holder.kind), "id": node_id(holder.theone), "label": _via(marker)}]
        have = [{"class_name": r["node"]["class_name"], "id": r["node"]["id"], "label": _label(r)}
                for r in shown["retainers"]]
        assert have == want, f"DevTools' retainers of {marker.theone}: {shown['retainers']}"
    assert not devtools_by_id, "DevTools lists objects of the class heapscope does not"
    # what the check above sees: one list holding each marker by its index
    rows = [o["retainers"][0] for o in got["objects"]]
    assert {(r["node"]["class_name"], r["edge_type"]) for r in rows} == {("list", "element")}
    assert sorted(int(r["edge_name"]) for r in rows) == list(range(len(markers)))

    # the path the pane expands on selecting the first marker: its retainer, that one's
    # first retainer, ... up to an object a root names (distance 1)
    shown = got["objects"][0]
    steps = shown["path"]
    assert [s["distance"] for s in steps] == list(range(shown["distance"] - 1, 0, -1))
    assert [s["node"]["class_name"] for s in steps[:3]] == ["list", _row(snap, HOLDER)[0], "dict of module"]
    # DevTools' distance counts edges from node 0, whose edges are the roots, and takes
    # every root alike: the marker's distance is heapscope's shortest path length from
    # the objects the roots name, plus one for the root's edge to the first of them. Here
    # that is the running frame's f_func (`<module>`), by `__globals__` (4 + 1 = 5).
    marker = next(m for m in markers if node_id(m.theone) == shown["id"])
    from_members = marker.get_shpaths(src=_root_members(snap))
    assert shown["distance"] == len(from_members[0]) + 1
    text = "".join(_label(s) for s in reversed(steps))
    assert any(str(p).endswith(text) for p in from_members.iter()), (text, from_members.all)
    along = [node_id(o) for o in from_members[0].objects]  # from the root member to the marker
    assert along == [s["node"]["id"] for s in reversed(steps)] + [shown["id"]]
    # heapscope's x.sp explains a module global through the interpreter's roots first
    # (i0_modules['__main__'].__dict__: one step more here), never shorter than DevTools
    assert str(marker.sp[0]).endswith(text[text.index("['holder']"):])
    assert len(marker.sp[0]) >= shown["distance"]
