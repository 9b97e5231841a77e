"""Exports of a snapshot: Chrome DevTools' .heapsnapshot, JSON lines and Parquet.

A program with known objects dumps its heap in another process; this one loads the
file and exports it in each format. Each output is read back with a reader that knows
nothing of heapscope (json, DuckDB, polars) and must say what the snapshot says:
every object once, the census by type to the byte, references with their labels, a
path from the roots to a known object. An export that fails or is cancelled (by the
progress callback or Ctrl-C) leaves nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

import heapscope
from heapscope import SnapshotError

APP = '''
import json, sys
import heapscope

class Leaf:
    def __init__(self, name, weight):
        self.name = name
        self.weight = weight

def needle():
    # made at run time: no code object's constant, no global refers to it
    return "".join(["n \\"q\\" ", chr(92), " \\t é 雪 ", chr(1)])  # a repr recorded whole

REGISTRY = {"alpha": [Leaf(needle(), 1.5)] + [Leaf("leaf %d" % i, i) for i in range(400)],
            "beta": tuple(range(1000, 1300))}
ADDRS = json.dumps({"needle": id(REGISTRY["alpha"][0].name), "alpha": id(REGISTRY["alpha"]),
                    "leaf": id(REGISTRY["alpha"][0]), "needle_repr": repr(REGISTRY["alpha"][0].name)})
heapscope.dump(sys.argv[1])
print(ADDRS)
'''


@pytest.fixture(scope="module")
def dumped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("export")
    (base / "app.py").write_text(APP)
    path = base / "app.hsnap"
    proc = subprocess.run(
        [sys.executable, "-c", "import app", str(path)], capture_output=True, text=True, timeout=300, cwd=base
    )
    # "import app" runs the module with argv ['-c', path]
    assert proc.returncode == 0, proc.stderr[-4000:]
    addrs = json.loads(proc.stdout)
    snap = heapscope.load(path)
    return {"snap": snap, "path": path, "addrs": addrs, "base": base}


@pytest.fixture(scope="module")
def exported(dumped: dict[str, Any]) -> dict[str, Path]:
    snap = dumped["snap"]
    out = dumped["base"] / "out"
    out.mkdir()
    paths = {"heapsnapshot": out / "app.heapsnapshot", "jsonl": out / "app.jsonl", "parquet": out / "app.parquet"}
    for fmt, p in paths.items():
        snap.export(p, fmt)
    return paths


def census(snap: Any) -> dict[str, tuple[int, int]]:
    """The snapshot's census by type of what heap() sees: name -> (count, size)."""
    return {r.name: (r.count, r.size) for r in snap.heap().bytype.get_rows()}


def jsonl_objects(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def object_count(snap: Any) -> int:
    return snap.heap().count + snap.heapu().count


# -- JSON lines ---------------------------------------------------------------------------


def test_jsonl_is_one_line_per_object_with_the_census_and_references(dumped: dict[str, Any], exported: dict[str, Path]) -> None:
    snap, addrs = dumped["snap"], dumped["addrs"]
    lines = exported["jsonl"].read_text(encoding="utf-8").splitlines()
    assert len(lines) == object_count(snap) == int(snap.info["objects"])
    objs = [json.loads(line) for line in lines]
    assert [o["id"] for o in objs] == list(range(len(objs)))
    by_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for o in objs:
        if not o.get("unreachable"):
            by_type[o["type"]][0] += 1
            by_type[o["type"]][1] += o["size"]
    assert {k: tuple(v) for k, v in by_type.items()} == census(snap)
    assert sum(1 for o in objs if o.get("unreachable")) == snap.heapu().count
    by_address = {o["address"]: o for o in objs}
    alpha = by_address[addrs["alpha"]]
    assert alpha["type"] == "list" and alpha["len"] == 401
    # references in the order recorded (a list's last item first), each with its label
    assert dict(zip(alpha["labels"], alpha["refs"]))["[0]"] == addrs["leaf"]
    assert sorted(alpha["labels"]) == sorted(f"[{i}]" for i in range(401))
    leaf = by_address[addrs["leaf"]]
    assert leaf["type"] == "app.Leaf" and leaf["size"] == snap.at(addrs["leaf"]).size
    needle = by_address[addrs["needle"]]
    if sys.version_info >= (3, 11):  # the attribute is the instance's (inline or managed values)
        holder, label = leaf, ".name"
    else:  # 3.10: attributes live in the instance's own __dict__
        holder, label = by_address[leaf["refs"][leaf["labels"].index(".__dict__")]], "['name']"
    assert addrs["needle"] in holder["refs"]
    assert holder["labels"][holder["refs"].index(addrs["needle"])] == label
    assert needle["type"] == "str" and needle["value"] == dumped["addrs"]["needle_repr"]
    modules = [o for o in objs if o["type"] == "module" and o.get("name") == "app"]
    assert len(modules) == 1
    assert any("i0_modules" in o.get("roots", []) for o in objs)


# -- Chrome DevTools ----------------------------------------------------------------------


def read_heapsnapshot(path: Path) -> dict[str, Any]:
    """Nodes and edges as a DevTools reader decodes them."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    meta = doc["snapshot"]["meta"]
    nf, ef = len(meta["node_fields"]), len(meta["edge_fields"])
    assert meta["node_fields"] == ["type", "name", "id", "self_size", "edge_count", "trace_node_id", "detachedness"]
    assert meta["edge_fields"] == ["type", "name_or_index", "to_node"]
    node_types, edge_types = meta["node_types"][0], meta["edge_types"][0]
    strings = doc["strings"]
    raw, raw_edges = doc["nodes"], doc["edges"]
    nodes, out_edges = [], []
    e = 0
    for i in range(0, len(raw), nf):
        t, name, nid, size, count = raw[i : i + 5]
        nodes.append((node_types[t], strings[name], nid, size))
        mine = []
        for _ in range(count):
            et, nm, to = raw_edges[e : e + 3]
            kind = edge_types[et]
            mine.append((kind, nm if kind in ("element", "hidden") else strings[nm], to // nf))
            assert to % nf == 0
            e += ef
        out_edges.append(mine)
    assert e == len(raw_edges)
    assert doc["snapshot"]["node_count"] == len(nodes) and doc["snapshot"]["edge_count"] * ef == len(raw_edges)
    return {"nodes": nodes, "edges": out_edges, "doc": doc}


def test_heapsnapshot_has_every_object_and_a_path_to_a_known_one(dumped: dict[str, Any], exported: dict[str, Path]) -> None:
    snap, addrs = dumped["snap"], dumped["addrs"]
    hs = read_heapsnapshot(exported["heapsnapshot"])
    nodes, edges = hs["nodes"], hs["edges"]
    extra = 2 if snap.heapu().count else 1
    assert len(nodes) == object_count(snap) + extra
    assert nodes[0][0] == "synthetic"
    ids = [n[2] for n in nodes]
    assert len(set(ids)) == len(ids) and all(i % 2 == 1 and i < 2**32 for i in ids)
    # DevTools' Summary groups objects by name: the instances of app.Leaf as in the census
    leaves = Counter(n[1] for n in nodes if n[0] == "object")["app.Leaf"]
    assert leaves == census(snap)["app.Leaf"][0] == 401
    # a breadth-first search from the synthetic root reaches every node, and the needle
    # str through the registry: a property 'alpha', an element 0, a property name
    parent: dict[int, tuple[int, Any]] = {0: (-1, None)}
    frontier = [0]
    while frontier:
        nxt = []
        for v in frontier:
            for kind, name, to in edges[v]:
                if to not in parent:
                    parent[to] = (v, name)
                    nxt.append(to)
        frontier = nxt
    assert len(parent) == len(nodes)
    text = dumped["addrs"]["needle_repr"][1:-1]
    found = [i for i, n in enumerate(nodes) if n[0] == "string" and n[1] == text]
    assert len(found) == 1, "the str is named by its text (the repr's inside)"
    route = []
    at = found[0]
    while at != 0:
        at, name = parent[at]
        route.append(name)
    route.reverse()
    assert route[0] == "i0_modules" or route[0].startswith("i0_")
    # 3.10 keeps attributes in the instance's own __dict__: one more step
    name = "name" if sys.version_info >= (3, 11) else "'name'"
    for step in ("'alpha'", 0, name):
        assert step in route, route
    assert route.index("'alpha'") < route.index(0) < route.index(name)
    assert route[-1] == name
    # the leaf's node holds its size
    leaf_at = parent[found[0]][0]
    if sys.version_info < (3, 11):
        assert nodes[leaf_at][1] == "dict of app.Leaf" and route[-2] == "__dict__"
        leaf_at = parent[leaf_at][0]
    assert nodes[leaf_at][1] == "app.Leaf" and nodes[leaf_at][3] == snap.at(addrs["leaf"]).size
    for key in ("trace_function_infos", "trace_tree", "samples", "locations"):
        assert hs["doc"][key] == []


# -- Parquet ------------------------------------------------------------------------------


def test_parquet_census_by_duckdb_equals_the_snapshot(dumped: dict[str, Any], exported: dict[str, Path]) -> None:
    duckdb = pytest.importorskip("duckdb")
    snap, addrs = dumped["snap"], dumped["addrs"]
    d = exported["parquet"]
    assert sorted(p.name for p in d.iterdir()) == ["edges.parquet", "objects.parquet", "roots.parquet", "types.parquet"]
    con = duckdb.connect()
    con.execute(f"CREATE VIEW objects AS SELECT * FROM '{d / 'objects.parquet'}'")
    con.execute(f"CREATE VIEW types AS SELECT * FROM '{d / 'types.parquet'}'")
    con.execute(f"CREATE VIEW edges AS SELECT * FROM '{d / 'edges.parquet'}'")
    rows = con.execute(
        "SELECT t.name, count(*), sum(o.size) FROM objects o JOIN types t ON o.type = t.id "
        "WHERE o.reachable GROUP BY t.name"
    ).fetchall()
    assert {name: (count, int(size)) for name, count, size in rows} == census(snap)
    count, size = con.execute("SELECT count(*), sum(size) FROM objects WHERE NOT reachable").fetchone()
    assert (count, int(size or 0)) == (snap.heapu().count, snap.heapu().size)
    assert con.execute("SELECT count(*) FROM objects").fetchone()[0] == object_count(snap)
    # retained sizes and dominators: the registry's list as the snapshot's tree says
    alpha_id, retained, dom = con.execute(
        "SELECT id, retained_size, dominator FROM objects WHERE address = ?", [addrs["alpha"]]
    ).fetchone()
    tree = snap.dominator_tree()
    assert retained == tree.retained_size(snap.at(addrs["alpha"]).theone)
    dominated = con.execute("SELECT count(*) FROM objects WHERE dominator = ?", [alpha_id]).fetchone()[0]
    assert dominated >= 401  # the leaves are its alone
    # the dominator column and the retained sizes agree: a subtree's sizes add up
    subtree = con.execute(
        "WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL SELECT o.id FROM objects o JOIN sub ON o.dominator = sub.id) "
        "SELECT count(*), sum(o.size) FROM sub JOIN objects o USING (id)",
        [alpha_id],
    ).fetchone()
    assert int(subtree[1]) == retained and subtree[0] > dominated
    assert con.execute(
        "SELECT count(*) FROM objects WHERE NOT reachable AND (dominator IS NOT NULL OR retained_size <> 0)"
    ).fetchone()[0] == 0
    # edges: the list's items in order, with their labels, and one row per reference
    items = dict(con.execute(
        "SELECT e.label, o.address FROM edges e JOIN objects o ON e.dst = o.id WHERE e.src = ?", [alpha_id]
    ).fetchall())
    assert len(items) == 401 and items["[0]"] == addrs["leaf"]
    refs = sum(len(o["refs"]) for o in jsonl_objects(exported["jsonl"]))
    assert con.execute("SELECT count(*) FROM edges").fetchone()[0] == refs
    needle = con.execute("SELECT value FROM objects WHERE address = ?", [addrs["needle"]]).fetchone()[0]
    assert needle == addrs["needle_repr"]
    leaf_type = con.execute("SELECT module, qualname FROM types WHERE name = 'app.Leaf'").fetchone()
    assert leaf_type == ("app", "Leaf")
    roots = con.execute(f"SELECT count(*) FROM '{d / 'roots.parquet'}'").fetchone()[0]
    named = sum(len(o.get("roots", [])) for o in jsonl_objects(exported["jsonl"]))
    assert roots == named > 0


def test_parquet_reads_in_polars_with_the_same_census(dumped: dict[str, Any], exported: dict[str, Path]) -> None:
    pl = pytest.importorskip("polars")
    snap = dumped["snap"]
    d = exported["parquet"]
    objects = pl.read_parquet(d / "objects.parquet")
    types = pl.read_parquet(d / "types.parquet")
    assert objects.height == object_count(snap)
    assert objects.schema["dominator"] == pl.Int64 and objects.schema["reachable"] == pl.Boolean
    by = (
        objects.filter(pl.col("reachable"))
        .join(types, left_on="type", right_on="id")
        .group_by("name")
        .agg(pl.len().alias("count"), pl.col("size").sum().alias("size"))
    )
    assert {r["name"]: (r["count"], r["size"]) for r in by.iter_rows(named=True)} == census(snap)
    assert pl.read_parquet(d / "edges.parquet").columns == ["src", "dst", "label"]


# -- progress, cancellation, errors --------------------------------------------------------


@pytest.mark.parametrize("fmt", ["heapsnapshot", "jsonl", "parquet"])
def test_progress_is_reported_and_an_exception_in_it_cancels_leaving_nothing(
    dumped: dict[str, Any], tmp_path: Path, fmt: str
) -> None:
    snap = dumped["snap"]
    target = tmp_path / f"out.{fmt}"
    seen: list[tuple[int, int]] = []
    snap.export(target, fmt, progress=lambda done, total: seen.append((done, total)))
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] > 0
    assert all(a[0] <= b[0] and a[1] == b[1] for a, b in zip(seen, seen[1:]))
    assert [p.name for p in tmp_path.iterdir()] == [target.name]

    class Stop(Exception):
        pass

    def stop_half_way(done: int, total: int) -> None:
        if done >= total // 2:
            raise Stop(done)

    again = tmp_path / f"again.{fmt}"
    with pytest.raises(Stop):
        snap.export(again, fmt, progress=stop_half_way)
    assert [p.name for p in tmp_path.iterdir()] == [target.name], "no temporary, no partial output"

    def interrupt(done: int, total: int) -> None:
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        snap.export(target, fmt, progress=interrupt)
    assert [p.name for p in tmp_path.iterdir()] == [target.name], "the previous export stays whole"


CTRL_C = '''
import os, signal, sys, threading, traceback
import heapscope
# Ctrl-C as at a terminal: a test run started in the background inherits SIGINT ignored
signal.signal(signal.SIGINT, signal.default_int_handler)
snap = heapscope.load(sys.argv[1])
out = sys.argv[2]
where = "never interrupted"
# The signal can also land between two exports (the loop is Python): then try again.
for attempt in range(5):
    threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    try:
        for _ in range(10_000):
            snap.export(out, "heapsnapshot")
            os.unlink(out)
        break
    except KeyboardInterrupt:
        where = traceback.extract_tb(sys.exc_info()[2])[-1].line
        if "export(" in where:
            break
        if os.path.exists(out):
            os.unlink(out)
print(where)
print(sorted(os.listdir(os.path.dirname(out))))
'''


def test_ctrl_c_during_an_export_without_a_callback_cancels_it(dumped: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "big.heapsnapshot"
    proc = subprocess.run(
        [sys.executable, "-c", CTRL_C, str(dumped["path"]), str(out)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    where, listing = proc.stdout.splitlines()
    # raised inside the native export (the GIL released, the signal seen at a progress
    # report), not between two exports; no temporary is left in the directory. The
    # export checks for signals last after its fsync: only a signal during the rename
    # that follows finds the export done (and whole)
    assert "export(" in where, where
    assert listing == "[]" or (listing == "['big.heapsnapshot']" and json.loads(out.read_text())["nodes"])


def test_bad_format_and_file_system_errors_are_clear(dumped: dict[str, Any], tmp_path: Path) -> None:
    snap = dumped["snap"]
    with pytest.raises(ValueError, match="unknown export format 'csv'.*'heapsnapshot', 'jsonl', 'parquet'"):
        snap.export(tmp_path / "x.csv", "csv")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="an export format is one of"):
        snap._source_graph().export("csv", str(tmp_path / "x.csv"))
    with pytest.raises(TypeError, match="progress must be callable"):
        snap.export(tmp_path / "x.jsonl", "jsonl", progress=3)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="no-such-dir"):
        snap.export(tmp_path / "no-such-dir" / "x.jsonl", "jsonl")
    # a directory that is not a Parquet export is not replaced
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(OSError, match="will not replace"):
        snap.export(mine, "parquet")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    # a previous Parquet export is replaced
    pq = tmp_path / "pq"
    snap.export(pq, "parquet")
    snap.export(pq, "parquet")
    assert sorted(p.name for p in pq.iterdir()) == ["edges.parquet", "objects.parquet", "roots.parquet", "types.parquet"]
    # a live graph has no snapshot notes: dump first
    live = heapscope.hpy()._source.everything()
    with pytest.raises(SnapshotError, match="only a snapshot can be exported"):
        live.export("jsonl", str(tmp_path / "live.jsonl"))
    del live


def test_export_function_takes_a_path_or_a_snapshot(dumped: dict[str, Any], tmp_path: Path) -> None:
    heapscope.export(dumped["path"], tmp_path / "a.jsonl", "jsonl")
    heapscope.export(dumped["snap"], os.fspath(tmp_path / "b.jsonl"), format="jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
