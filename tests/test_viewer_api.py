"""The viewer's server and JSON API (docs/viewer.md, "JSON API"): every endpoint over
snapshots and a profile dumped by a program with known classes, checked against the
Python API on the same files; the token; malformed requests; two clients at once; and
``heapscope view`` as a command."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

import heapscope
from heapscope.cli.main import main
from heapscope.viewer import server as server_module
from heapscope.viewer.loaded_files import open_file
from heapscope.viewer.server import ViewerServer

PROGRAM = """
import sys, heapscope
from heapscope import hpy

class Widget:
    __slots__ = ("name", "payload")  # no instance dict on any version (3.10 would make one)

    def __init__(self, i):
        self.name = f"widget-{i}"
        self.payload = [i] * 10

class Cache:
    def __init__(self):
        self.items = {}

CACHE = Cache()
HOARD = [bytes(2000) for _ in range(4000)]   # a leak suspect: most of the heap
profile = sys.argv[3]
for i in range(300):
    CACHE.items[i] = Widget(i)
hpy().heap().stat.dump(profile)
heapscope.dump(sys.argv[1])
for i in range(300, 500):
    CACHE.items[i] = Widget(i)
del CACHE.items[0]
hpy().heap().stat.dump(profile)
heapscope.dump(sys.argv[2])
HOARD.extend(bytes(2000) for _ in range(1000))
hpy().heap().stat.dump(profile)
"""

WIDGET = "__main__.Widget"


@pytest.fixture(scope="module")
def dumped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("viewer")
    paths = {"a": str(d / "a.hsnap"), "b": str(d / "b.hsnap"), "profile": str(d / "mem.hpy")}
    subprocess.run([sys.executable, "-c", PROGRAM, paths["a"], paths["b"], paths["profile"]], check=True, timeout=300)
    return paths


class Client:
    """GETs from a running viewer: ``(status, JSON document)``."""

    def __init__(self, server: ViewerServer) -> None:
        self.server = server
        self.base = f"http://127.0.0.1:{server.port}"

    def get(self, path: str, token: str | None = "", header: str | None = None) -> tuple[int, Any]:
        token = self.server.token if token == "" else token
        url = self.base + path
        if token is not None:
            url += ("&" if "?" in path else "?") + f"token={token}"
        request = urllib.request.Request(url, headers={"X-Heapscope-Token": header} if header else {})
        try:
            with urllib.request.urlopen(request, timeout=120) as reply:
                body = reply.read()
                return reply.status, json.loads(body) if reply.headers.get_content_type() == "application/json" else body
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def ok(self, path: str) -> Any:
        status, document = self.get(path)
        assert status == 200, document
        return document


@pytest.fixture(scope="module")
def client(dumped: dict[str, str]) -> Iterator[Client]:
    files = [open_file(i, dumped[name]) for i, name in enumerate(("a", "b", "profile"))]
    server = ViewerServer(files, compare=(0, 1))
    server.start_in_thread()
    yield Client(server)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def snap_a(dumped: dict[str, str]) -> Any:
    return heapscope.load(dumped["a"])


def test_files_lists_each_file_with_its_kind_and_meta(client, dumped):
    doc = client.ok("/api/files")
    assert doc["compare"] == [0, 1]
    assert [(f["index"], f["path"], f["kind"]) for f in doc["files"]] == [
        (0, dumped["a"], "snapshot"), (1, dumped["b"], "snapshot"), (2, dumped["profile"], "profile")
    ]
    assert doc["files"][0]["meta"] == json.loads(json.dumps(heapscope.load(dumped["a"]).info))
    assert doc["files"][2]["meta"]["records"] == 3


def test_census_is_the_partition_sorted_filtered_and_paged(client, snap_a):
    x = snap_a.heap()
    rows = x.bytype.rows
    doc = client.ok("/api/snapshot/0/census?by=type&count=5")
    assert (doc["by"], doc["total_count"], doc["total_size"], doc["matching_rows"]) == ("type", x.count, x.size, len(rows))
    assert [(r["index"], r["kind"], r["count"], r["size"]) for r in doc["rows"]] == [
        (i, r.name, r.count, r.size) for i, r in enumerate(rows[:5])
    ]
    widget = client.ok("/api/snapshot/0/census?filter=WIDGET")
    w = x & snap_a.Clodo(WIDGET)
    assert widget["matching_rows"] == 1 and [(r["kind"], r["count"], r["size"]) for r in widget["rows"]] == [
        (WIDGET, 300, w.size)
    ]
    by_count = client.ok("/api/snapshot/0/census?sort=count&order=asc&start=3&count=4")["rows"]
    clodo = x.byclodo.rows
    expected = sorted(range(len(clodo)), key=lambda i: clodo[i].count)[3:7]
    assert [r["index"] for r in by_count] == expected
    assert [r["kind"] for r in by_count] == [clodo[i].name for i in expected]
    names = [r["kind"] for r in client.ok("/api/snapshot/0/census?sort=name&count=10000")["rows"]]
    assert names == sorted(names, reverse=True)


def test_row_lists_members_by_retained_size_with_referrers_and_paths(client, snap_a):
    w = snap_a.heap() & snap_a.Clodo(WIDGET)
    tree = snap_a.dominator_tree()
    doc = client.ok(f"/api/snapshot/0/row?kind={WIDGET}&start=0&count=500")
    assert (doc["kind"], doc["count"], doc["size"]) == (WIDGET, w.count, w.size)
    retained = {o.address: tree.retained_size(o) for o in w.nodes}
    assert {o["address"]: o["retained"] for o in doc["objects"]} == retained
    assert [o["retained"] for o in doc["objects"]] == sorted(retained.values(), reverse=True)
    assert all(o["type"] == WIDGET for o in doc["objects"])
    assert "referrer_kinds" not in doc  # the summary is a request of its own
    page = client.ok(f"/api/snapshot/0/row?kind={WIDGET}&start=10&count=5")["objects"]
    assert page == doc["objects"][10:15]


def test_row_summary_is_rcs_via_and_the_shortest_paths(client, snap_a):
    w = snap_a.heap() & snap_a.Clodo(WIDGET)
    doc = client.ok(f"/api/snapshot/0/row/summary?kind={WIDGET}")
    assert (doc["kind"], doc["count"], doc["size"]) == (WIDGET, w.count, w.size)
    assert doc["referrer_kinds"] == [{"kind": r.name, "count": r.count, "size": r.size} for r in w.byrcs.rows[:20]]
    assert doc["via"] == [{"label": r.name, "count": r.count, "size": r.size} for r in w.byvia.rows[:20]]
    sp = w.sp
    assert doc["numpaths"] == sp.numpaths == 300
    assert doc["paths"] == [p.brief for p in sp.iter(0, 10)]
    assert doc["no_path_reason"] is None
    by_type = client.ok("/api/snapshot/0/row/summary?by=type&kind=list")
    lists = snap_a.heap() & snap_a.Type("list")
    assert by_type["count"] == lists.count
    assert by_type["referrer_kinds"] == [{"kind": r.name, "count": r.count, "size": r.size} for r in lists.byrcs.rows[:20]]


def test_the_server_prepares_the_first_clicks_while_it_serves(dumped, snap_a):
    """The warm-up makes the census members, the tree, the suspects and the largest rows'
    summaries; answers made after it are the ones made without it; closing joins it."""
    files = [open_file(0, dumped["a"])]
    server = ViewerServer(files)
    thread = server.start_in_thread()
    try:
        assert server.warm_up.finished.wait(120)
        x = snap_a.heap()
        largest = [r.name for r in x.byclodo.rows[:3]]
        assert server.warm_up.done == [
            "census rows", "dominator tree", "leak suspects", "census partitions", *(f"summary of {name}" for name in largest)
        ]
        client = Client(server)
        first = x & snap_a.Clodo(largest[0])
        doc = client.ok(f"/api/snapshot/0/row/summary?kind={urllib.request.quote(largest[0])}")
        assert doc["numpaths"] == first.sp.numpaths
        assert doc["via"] == [{"label": r.name, "count": r.count, "size": r.size} for r in first.byvia.rows[:20]]
        assert client.ok("/api/snapshot/0/suspects")["suspects"][0]["retained"] == snap_a.leak_suspects().suspects[0].retained
    finally:
        server.shutdown()
        server.server_close()
    thread.join(10)
    assert not thread.is_alive() and not any(t.name == "heapscope-viewer-warm-up" for t in threading.enumerate())


def test_object_has_labelled_referrers_referents_and_its_dominator(client, snap_a):
    w = (snap_a.heap() & snap_a.Clodo(WIDGET)).nodes[0]
    one = snap_a.at(w.address)
    doc = client.ok(f"/api/snapshot/0/object/{w.address:#x}")
    assert client.ok(f"/api/snapshot/0/object/{w.address}") == doc  # decimal too
    tree = snap_a.dominator_tree()
    assert (doc["address"], doc["type"], doc["kind"], doc["size"]) == (w.address, WIDGET, WIDGET, w.size)
    assert doc["retained"] == tree.retained_size(w)
    assert doc["dominator"] == tree.immediate_dominator(w).address
    labels = {r["label"]: r["address"] for r in doc["referents"]}
    assert {".name", ".payload", "->ob_type"} <= set(labels)
    assert {a for a in labels.values()} == set(one.referents._nodes.addresses())
    assert one.referents.count == len(doc["referents"]) and doc["referents_more"] == 0
    (holder,) = doc["referrers"]
    assert holder["address"] == one.referrers.theone.address and holder["type"] == "dict"
    assert holder["label"].startswith("[") and holder["label"].endswith("]")
    assert doc["paths"] == [p.brief for p in one.sp.iter(0, 5)]
    assert doc["paths"][0].endswith(holder["label"])
    dominated = tree.dominated(w)
    assert doc["retained_kinds"] == [
        {"kind": r.name, "count": r.count, "size": r.size} for r in dominated.byclodo.rows[:10]
    ]


def test_domtree_children_are_the_dominator_tree_largest_first(client, snap_a):
    tree = snap_a.dominator_tree()
    graph = tree._graph
    top = client.ok("/api/snapshot/0/domtree?node=root&count=20")
    assert top["node"] == "root" and len(top["children"]) == 20
    retained = [c["retained"] for c in top["children"]]
    assert retained == sorted(retained, reverse=True)
    for c in top["children"]:
        o = snap_a.at(c["address"]).theone
        assert graph.immediate_dominator(o)[0] == "root"
        assert c["retained"] == tree.retained_size(o)
        assert c["share"] == pytest.approx(c["retained"] / tree.total_size)
    # the largest retainer of all is on the top level
    assert top["children"][0]["address"] == tree.largest(1)[0].object.address
    biggest = next(c for c in top["children"] if c["children_count"] > 1)
    o = snap_a.at(biggest["address"]).theone
    kids = graph.dominator_children(o, 10**6)
    doc = client.ok(f"/api/snapshot/0/domtree?node={biggest['address']:#x}&start=1&count=3")
    assert doc["total_children"] == len(kids) == biggest["children_count"]
    assert [(c["address"], c["retained"]) for c in doc["children"]] == [(k.address, r) for k, r in kids[1:4]]


@pytest.mark.parametrize("kind", [WIDGET, "str", "list"])
def test_row_objects_are_a_brute_force_sort_by_retained_size(client, snap_a, kind):
    """The native paging (a selection per page) against a full sort in Python: largest
    retained first, ties by node id, every page a slice of the one order."""
    x = snap_a.heap() & snap_a.Clodo(kind)
    assert x.count > 100
    tree = snap_a.dominator_tree()
    graph = tree._graph
    want = sorted(x.nodes, key=lambda o: (-tree.retained_size(o), graph.node_id(o)))
    want_rows = [(o.address, tree.retained_size(o)) for o in want]
    quoted = urllib.request.quote(kind)
    rows = []
    for start in range(0, len(want) + 1, 5000):
        doc = client.ok(f"/api/snapshot/0/row?kind={quoted}&start={start}&count=5000")
        rows += [(o["address"], o["retained"]) for o in doc["objects"]]
    assert rows == want_rows
    for start, count in ((0, 1), (7, 13), (len(want) - 3, 10), (len(want) + 2, 4)):
        page = client.ok(f"/api/snapshot/0/row?kind={quoted}&start={start}&count={count}")["objects"]
        assert [(o["address"], o["retained"]) for o in page] == want_rows[start : start + count]


def test_domtree_root_level_is_every_root_child_with_an_exact_total(client, snap_a):
    """The top level's total and order against the immediate dominators of every
    reachable object, computed one object at a time."""
    tree = snap_a.dominator_tree()
    graph = tree._graph
    heap = snap_a.heap()
    assert heap.count == graph.reachable_from_roots().count
    by_root = [o for o in heap.nodes if graph.immediate_dominator(o)[0] == "root"]
    assert len(by_root) > 1
    by_root.sort(key=lambda o: (-tree.retained_size(o), graph.node_id(o)))
    first = client.ok("/api/snapshot/0/domtree?node=root&count=3")
    assert first["total_children"] == len(by_root) and first["total_children_exact"] is True
    rows = []
    for start in range(0, len(by_root) + 1, 1000):
        doc = client.ok(f"/api/snapshot/0/domtree?node=root&start={start}&count=1000")
        assert doc["total_children"] == len(by_root)
        rows += [(c["address"], c["retained"]) for c in doc["children"]]
    assert rows == [(o.address, tree.retained_size(o)) for o in by_root]


def test_native_pages_refuse_a_set_of_another_graph(dumped, snap_a):
    other = heapscope.load(dumped["b"])
    graph = snap_a.dominator_tree()._graph
    with pytest.raises(ValueError, match="another graph"):
        graph.largest_retained_in(other.heap()._nodes, 0, 5)
    page, total = graph.largest_retained_in(snap_a.heap()._nodes, 0, 5)
    assert total == snap_a.heap().count and len(page) == 5


def test_suspects_are_the_leak_suspects(client, snap_a):
    found = snap_a.leak_suspects()
    doc = client.ok("/api/snapshot/0/suspects")
    assert len(found) >= 1, "the program's hoard should be a suspect"
    assert [(s["address"], s["name"], s["retained"], s["objects"], s["path"]) for s in doc["suspects"]] == [
        (s.object.address, s.name, s.retained, s.dominated.count, s.path) for s in found.suspects
    ]
    assert doc["suspects"][0]["retained_kinds"][0]["kind"] == "bytes"


def test_compare_is_the_snapshot_diff(client, dumped):
    d = heapscope.diff(dumped["a"], dumped["b"])
    doc = client.ok("/api/compare?a=0&b=1")
    assert doc["same_process"] is True
    for name in ("new", "freed", "survivors"):
        x = getattr(d, name)
        assert (doc[name]["count"], doc[name]["size"]) == (x.count, x.size)
        assert doc[name]["kinds"] == [{"kind": r.name, "count": r.count, "size": r.size} for r in x.byclodo.rows[:50]]
    assert doc["by_kind"] == [{"kind": k, "count_change": c, "size_change": s} for k, c, s in d.by_kind.rows]
    widgets = next(r for r in doc["new"]["kinds"] if r["kind"] == WIDGET)
    assert widgets["count"] == 200
    assert client.ok("/api/compare") == doc  # the command line's pair by default


def test_profile_series_and_diff(client, dumped):
    records = list(heapscope.load_all(dumped["profile"]))
    doc = client.ok("/api/profile/2/series?by=size&top=3")
    assert doc["records"] == 3 and doc["times"] == [st.timemade for st in records]
    assert doc["total"] == [st.size for st in records]
    names = [k["kind"] for k in doc["kinds"]]
    assert names[:3] == ["bytes", "str", "types.CodeType"] or len(names) == 4
    assert names[-1] == "other"
    for t in range(3):
        assert sum(k["values"][t] for k in doc["kinds"]) == sum(r[2] for r in records[t].rows)
    by_bytes = dict(next(k for k in doc["kinds"] if k["kind"] == "bytes"), kind="bytes")
    assert by_bytes["values"] == [sum(r[2] for r in st.rows if r[0] == "bytes") for st in records]
    counts = client.ok("/api/profile/2/series?by=count&top=1000")
    assert counts["total"] == [st.count for st in records] and counts["kinds"][-1]["kind"] != "other"
    change = records[2] - records[0]
    diff = client.ok("/api/profile/2/diff?a=0&b=2")
    assert diff["text"] == str(change)
    assert diff["rows"] == [{"kind": k, "count_change": c, "size_change": s} for k, c, s in change.rows]
    assert client.get("/api/profile/2/diff?a=0&b=3")[0] == 404


def test_a_growing_profile_is_re_read_from_where_it_ended(tmp_path, dumped):
    path = tmp_path / "live.hpy"
    shutil.copy(dumped["profile"], path)
    records = list(heapscope.load_all(path))
    server = ViewerServer([open_file(0, str(path))])
    server.start_in_thread()
    try:
        c = Client(server)
        assert c.ok("/api/profile/0/series")["records"] == 3
        text = "".join(line + "\n" for line in records[1].records())
        cut = len(text) // 2
        with open(path, "a", encoding="utf-8") as f:
            f.write(text[:cut])  # a record being written: not read yet
        assert c.ok("/api/profile/0/series")["records"] == 3
        with open(path, "a", encoding="utf-8") as f:
            f.write(text[cut:])
        grown = c.ok("/api/profile/0/series?by=count")
        assert grown["records"] == 4 and grown["total"][3] == records[1].count
        assert c.ok("/api/files")["files"][0]["meta"]["records"] == 4
    finally:
        server.shutdown()
        server.server_close()


def test_requests_need_the_token(client):
    for token in (None, "wrong", client.server.token[:-1]):
        for path in ("/api/files", "/", "/assets/app.js", "/nope"):
            status, doc = client.get(path, token=token)
            assert status == 403 and "token" in doc["error"], (path, token)
    assert client.get("/api/files", token=None, header=client.server.token)[0] == 200
    assert client.get("/api/files", token=None, header="wrong")[0] == 403


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/nothing", 404),
        ("/elsewhere", 404),
        ("/api/snapshot/9/census", 404),
        ("/api/snapshot/2/census", 404),  # a profile
        ("/api/profile/0/series", 404),  # a snapshot
        ("/api/snapshot/0/census?by=colour", 400),
        ("/api/snapshot/0/census?start=-1", 400),
        ("/api/snapshot/0/census?count=many", 400),
        ("/api/snapshot/0/census?sort=age", 400),
        ("/api/snapshot/0/census?order=up", 400),
        ("/api/snapshot/0/row?kind=no.such.Kind", 404),
        ("/api/snapshot/0/row", 400),  # no kind
        ("/api/snapshot/0/row?kind=str&index=0&index=1", 400),
        ("/api/snapshot/0/row/summary", 400),  # no kind
        ("/api/snapshot/0/row/summary?kind=no.such.Kind", 404),
        ("/api/snapshot/0/row/summary?kind=str&by=colour", 400),
        ("/api/snapshot/2/row/summary?kind=str", 404),  # a profile
        ("/api/snapshot/0/object/0x12", 404),
        ("/api/snapshot/0/object/zebra", 400),
        ("/api/snapshot/0/domtree?node=0x12", 404),
        ("/api/snapshot/0/domtree?node=zebra", 400),
        ("/api/compare?a=0&b=0", 400),
        ("/api/compare?a=0&b=2", 404),
        ("/api/profile/2/series?by=weight", 400),
        ("/api/profile/2/series?top=0", 400),
        ("/api/profile/2/diff?a=0", 400),
        ("/assets/..%2f__init__.py", 404),
        ("/assets/../server.py", 404),
    ],
)
def test_malformed_requests_are_json_errors_and_the_server_goes_on(client, path, status):
    got, doc = client.get(path)
    assert got == status and isinstance(doc["error"], str) and doc["error"], doc
    assert client.get("/api/files")[0] == 200


def test_a_failing_handler_is_a_500_and_the_server_goes_on(client, monkeypatch):
    view = client.server.api.files[0].view

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(view, "suspects", broken)
    monkeypatch.setattr(sys, "stderr", open(os.devnull, "w"))  # the traceback the server prints
    try:
        status, doc = client.get("/api/snapshot/0/suspects")
    finally:
        sys.stderr.close()
    assert status == 500 and "boom" in doc["error"]
    monkeypatch.undo()
    assert client.get("/api/snapshot/0/suspects")[0] == 200


def test_static_files_come_from_the_assets_directory(client, tmp_path, monkeypatch):
    (tmp_path / "index.html").write_text("<!doctype html><title>heapscope</title>")
    (tmp_path / "app.js").write_text("console.log(1)")
    monkeypatch.setattr(server_module, "ASSETS", tmp_path)
    assert client.get("/") == (200, b"<!doctype html><title>heapscope</title>")
    assert client.get("/assets/app.js") == (200, b"console.log(1)")
    assert client.get("/assets/other.js")[0] == 404


def test_two_clients_at_once_get_the_answers_one_gets(client, snap_a):
    w = (snap_a.heap() & snap_a.Clodo(WIDGET)).nodes[3]
    paths = [
        "/api/snapshot/0/census?by=module",
        "/api/snapshot/1/census?by=size&sort=count",
        f"/api/snapshot/1/row?kind={WIDGET}&count=20",
        f"/api/snapshot/1/row/summary?kind={WIDGET}",
        "/api/snapshot/0/row/summary?kind=list",
        f"/api/snapshot/0/object/{w.address}",
        "/api/snapshot/1/domtree",
        "/api/profile/2/series",
    ]
    alone = {p: client.ok(p) for p in paths}
    answers: list[tuple[str, Any]] = []
    failures: list[BaseException] = []

    def browse(order: list[str]) -> None:
        try:
            for _ in range(3):
                for p in order:
                    answers.append((p, client.ok(p)))
        except BaseException as e:  # noqa: BLE001 - reported by the test
            failures.append(e)

    threads = [threading.Thread(target=browse, args=(paths[i:] + paths[:i],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not failures and len(answers) == 4 * 3 * len(paths)
    for p, doc in answers:
        assert doc == alone[p], p


# Ctrl-C as at a terminal: a test run started in the background inherits SIGINT ignored
VIEW = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from heapscope.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_view_command_prints_the_url_serves_and_stops_on_ctrl_c(dumped):
    child = subprocess.Popen(
        [sys.executable, "-c", VIEW, "view", dumped["a"], dumped["profile"], "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        prefix = "heapscope view: serving 2 file(s) at http://127.0.0.1:"
        assert line.startswith(prefix) and line.endswith(" (Ctrl-C stops)\n"), line
        url = line.split(" at ", 1)[1].split(" ")[0]
        api = url.replace("/?token=", "/api/files?token=")
        with urllib.request.urlopen(api, timeout=60) as reply:
            assert [f["kind"] for f in json.loads(reply.read())["files"]] == ["snapshot", "profile"]
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    assert out == "" and err == "heapscope view: stopped\n"


def test_view_of_a_bad_file_is_one_line_and_exit_2(tmp_path, dumped, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    torn = tmp_path / "torn.hsnap"
    torn.write_bytes(Path(dumped["a"]).read_bytes()[:5000])
    bad_profile = tmp_path / "bad.hpy"
    bad_profile.write_text(".loader: _load_stat\n.format: SetFormat\nnonsense\n.end: .loader: _load_stat\n")
    cut_profile = tmp_path / "cut.hpy"
    cut_profile.write_text(Path(dumped["profile"]).read_text()[:300])
    for path, says in [
        (tmp_path / "missing.hsnap", "no such file"),
        (tmp_path, "is a directory"),
        (text, "neither a heapscope snapshot"),
        (torn, str(torn)),
        (bad_profile, "not a Stat record line"),
        (cut_profile, "no complete Stat record"),
    ]:
        assert main(["view", str(path), "--no-browser"]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1, err
        assert err.startswith(f"heapscope view: error: {path}") and says in err, err
