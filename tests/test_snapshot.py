"""Snapshot files: one graph, two sources.

A program dumps its heap in one process; another process that cannot import the
program's modules loads the file and must give the same answers as the live heap gave
(census rows, partitions, paths, reference patterns, dominators), with nothing but the
file. Damaged files give clean errors; a dump killed half-way leaves nothing; diff finds
what was added between two dumps."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import heapscope
from heapscope import SnapshotError, SnapshotFormatError, hpy

# The program: its module lives in a directory only the dumping process can import.
APP = '''
class Order:
    def __init__(self, i, customer):
        self.i = i
        self.customer = customer
        self.note = "order number %d for a customer with a long name" % i
        self.lines = [i, i * 2.5, ("sku", i)]

class Customer:
    __slots__ = ("name", "orders")
    def __init__(self, name):
        self.name = name
        self.orders = []

CUSTOMERS = [Customer("c%d" % k) for k in range(7)]
ORDERS = []
for i in range(300):
    c = CUSTOMERS[i % 7]
    o = Order(i, c)
    c.orders.append(o)
    ORDERS.append(o)
CACHE = {("key", i): b"\\x00payload" * (i % 5) for i in range(50)}
'''

# Queries asked of both sources; `s` is the session (live or snapshot), `K` resolves
# a class name to a kind argument, `one` is the set of the object at an address.
QUERIES = '''
def answers(s, K, one, addrs):
    sel = s.heap() & (s.Clodo(K("shopapp.Order")) | s.Clodo(dictof=K("shopapp.Order"))
                      | s.Clodo(K("shopapp.Customer")))
    out = {}
    out["count"] = sel.count
    out["size"] = sel.size
    out["byclodo"] = str(sel.byclodo)
    out["bytype"] = str(sel.bytype)
    out["bysize"] = str(sel.bysize)
    out["byrcs"] = str(sel.byrcs)
    out["byvia"] = str(sel.byvia)
    out["alt"] = (s.heap() & s.Type(K("shopapp.Order")).alt("<=")).count
    order = one(addrs["order"])
    out["sp"] = str(order.sp)
    out["rp"] = str(order.rp)
    out["domisize_orders"] = one(addrs["orders"]).domisize
    out["dominos_orders"] = one(addrs["orders"]).dominos.count
    out["note_byid"] = str(one(addrs["note"]).byid)
    out["cache_keys_byid"] = str(one(*addrs["keys"]).byid)
    out["retained_orders"] = s.dominator_tree().retained_size(one(addrs["orders"]).theone)
    customers = s.heap() & s.Clodo(K("shopapp.Customer"))
    out["customers_byid"] = str(customers.byid)
    out["customers_rows"] = [(r.index, r.name, r.count, r.size, r.cumulsize) for r in customers.bysize.get_rows()]
    out["order_referrers"] = str(order.referrers.byclodo)
    out["order_referents"] = str(order.referents.bytype)
    out["order_imdom"] = str(order.imdom.byclodo)
    out["orders_dominos"] = str(one(addrs["orders"]).dominos.byclodo)
    out["size_alt"] = (sel & s.Size(60).alt(">")).count
    out["product"] = str(sel.by(s.Type & s.Size))
    out["parts"] = [(p.count, p.size) for p in sel.bytype.parts]
    out["sp_avoided"] = str(order.sp.avoided(0)) if order.sp.numpaths else ""
    out["via_kind"] = (sel & s.Via("[123]").alt(">=")).count
    return out
'''

DUMP = '''
import json, sys
sys.path.insert(0, sys.argv[1])
import shopapp
import heapscope
exec(open(sys.argv[3]).read())
h = heapscope.hpy()
h.reprefix = "h."
addrs = {
    "order": id(shopapp.ORDERS[123]),
    "orders": id(shopapp.ORDERS),
    "note": id(shopapp.ORDERS[5].note),
    "keys": [id(k) for k in list(shopapp.CACHE)[:4]],
}
def one(*a):
    return h.idset([o for o in (shopapp.ORDERS[123], shopapp.ORDERS, shopapp.ORDERS[5].note,
                                *list(shopapp.CACHE)[:4]) if id(o) in a])
live = answers(h, lambda name: getattr(shopapp, name.split(".")[1]), one, addrs)
heapscope.dump(sys.argv[2])
json.dump({"live": live, "addrs": addrs}, sys.stdout)
'''

LOAD = '''
import json, sys
import heapscope
exec(open(sys.argv[3]).read())
try:
    import shopapp
    raise SystemExit("the loading process must not be able to import the program")
except ImportError:
    pass
addrs = json.loads(sys.argv[2])
snap = heapscope.load(sys.argv[1])
snap.reprefix = "h."
got = answers(snap, lambda name: name, snap.at, addrs)
got["info"] = {k: snap.info[k] for k in ("pid", "python_version", "objects")}
json.dump(got, sys.stdout)
'''


def run(code: str, *args: str, cwd: str | None = None, timeout: float = 300) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The program dumped in one process and loaded in another: both answers."""
    base = tmp_path_factory.mktemp("snapshot")
    app_dir = base / "app"
    app_dir.mkdir()
    (app_dir / "shopapp.py").write_text(APP)
    queries = base / "queries.py"
    queries.write_text(QUERIES)
    path = base / "shop.hsnap"
    dumped = json.loads(run(DUMP, str(app_dir), str(path), str(queries)))
    loaded = json.loads(run(LOAD, str(path), json.dumps(dumped["addrs"]), str(queries), cwd=str(base)))
    return {"live": dumped["live"], "snap": loaded, "path": path}


@pytest.mark.parametrize(
    "query",
    ["count", "size", "byclodo", "bytype", "bysize", "byrcs", "byvia", "alt", "sp", "rp", "domisize_orders",
     "dominos_orders", "note_byid", "cache_keys_byid", "retained_orders", "customers_byid", "customers_rows",
     "order_referrers", "order_referents", "order_imdom", "orders_dominos", "size_alt", "product", "parts",
     "sp_avoided", "via_kind"],
)
def test_a_loaded_snapshot_answers_as_the_live_heap(program: dict[str, Any], query: str) -> None:
    live, snap = program["live"][query], program["snap"][query]
    assert snap == live


def test_the_answers_are_about_the_program(program: dict[str, Any]) -> None:
    live = program["live"]
    orders_and_customers = 300 + 7  # and the orders' dicts where they exist (3.10; 3.11+ inline values)
    assert live["count"] in (orders_and_customers, orders_and_customers + 300)
    assert "   300 " in live["byclodo"] and "shopapp.Order" in live["byclodo"]
    assert "['ORDERS'][123]" in live["sp"]
    assert "'order number...h a long name'" in live["note_byid"]  # a limited repr, as Heapy's
    assert program["snap"]["info"]["python_version"] == sys.version.split()[0]
    assert live["via_kind"] == 1 and live["size_alt"] >= 1 and len(live["parts"]) >= 2
    assert "shopapp.Customer" in live["customers_byid"] and "list" in live["order_referrers"]
    assert "h.Root" in live["sp_avoided"] or "No path" in live["sp_avoided"]


# -- in one process -------------------------------------------------------------------


class Node:
    def __init__(self, parent: Any = None) -> None:
        self.parent = parent
        self.children: list[Any] = []


TREE = [Node()]
for _i in range(200):
    TREE.append(Node(TREE[_i // 3]))
    TREE[_i // 3].children.append(TREE[-1])


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("one") / "here.hsnap"
    heapscope.dump(path)
    return heapscope.load(path)


def test_snapshot_census_is_heap_plus_the_unreachable_part_flagged(snap: Any) -> None:
    x = snap.heap()
    assert x.count > 10_000
    assert snap.heapu().count >= 0
    info = snap.info
    assert info["pid"] == str(os.getpid()) and int(info["objects"]) == x.count + snap.heapu().count
    assert info["argv"] == sys.argv and info["python_build"] in ("default", "free-threaded")
    assert int(info["rss"]) > 0 and info["heapscope_version"] == heapscope.__version__


def test_kinds_by_name_and_proxies(snap: Any) -> None:
    name = f"{__name__}.Node"
    nodes = snap.heap() & snap.Clodo(name)
    assert nodes.count == len(TREE)
    h = hpy()
    assert (snap.heap() & snap.Clodo(dictof=name)).count == (h.heap() & h.Clodo(dictof=Node)).count
    assert (snap.heap() & snap.Type(Node)).count == len(TREE)  # a live type, by its name
    one = snap.at(id(TREE[7]))
    proxy = one.theone
    assert proxy.address == id(TREE[7]) and proxy.type_name == name and proxy.size == h.iso(TREE[7]).size
    assert proxy in snap.Clodo(name) and proxy.type.name == name and proxy.type.mro[-1] == "object"
    assert repr(snap.Clodo(name)) == f"snap.Clodo({name!r})"
    assert snap.Clodo(name) == snap.Clodo(name)
    with pytest.raises(SnapshotError, match="proxy"):
        proxy.children
    with pytest.raises(heapscope.NoSuchTypeError, match="no.such.Type"):
        snap.Type("no.such.Type")
    with pytest.raises(SnapshotError):
        snap.iso(TREE[7])
    with pytest.raises(heapscope.DifferentHeapsError):
        one & hpy().iso(TREE[7])
    with pytest.raises(SnapshotError, match="dumped again"):
        heapscope.dump(os.devnull, snap)


def test_texts_of_values(snap: Any) -> None:
    s = "x" * 100
    big = 10**30
    sample = {
        "s": s, "u": "clé ✓", "b": b"\x00\xffab", "f": 2.5, "i": big, "neg": -(2**63), "small": 7 + 0,
        "q": "it's " + "q" * 40, "dq": 'say "hi"', "bs": "a\\b" * 20, "tab": "a\tb",
        "28": "a" * 28, "29": "b" * 29, "30": "c" * 30, "mid'": "d" * 20 + "'" + "e" * 20,
        "list": [1, 2, 3], "tuple": (1, "x"), "dict": {"k": 1}, "none": None, "true": True,
        "cplx": 1 + 2j, "lb": b"z" * 1000,
    }
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"texts-{os.getpid()}.hsnap"
    try:
        heapscope.dump(path)
        here = heapscope.load(path)
        from heapscope import kind_names

        for key, value in sample.items():
            got = kind_names.render(here.at(id(value)).theone)
            assert got == kind_names.render(value), key
    finally:
        path.unlink(missing_ok=True)
    del sample


# -- bad input ------------------------------------------------------------------------


def variants(good: bytes) -> list[tuple[str, bytes]]:
    n = len(good)
    out = [
        ("empty", b""),
        ("text file", b"hello, this is not a snapshot\n" * 10),
        ("magic only", good[:8]),
        ("header only", good[:16]),
        ("newer version", good[:8] + (99).to_bytes(4, "little") + good[12:]),
        ("version 0", good[:8] + (0).to_bytes(4, "little") + good[12:]),
        ("no END section", good[:-13]),
        ("trailing garbage", good + b"junk"),
        ("gzip magic", b"\x1f\x8b\x08" + good[3:]),
    ]
    for frac in (0.1, 0.3, 0.5, 0.7, 0.9, 0.99):
        out.append((f"truncated at {frac}", good[: int(n * frac)]))
    for pos in (20, n // 7, n // 3, n // 2, (2 * n) // 3, n - 20):
        flipped = bytearray(good)
        flipped[pos] ^= 0x40
        out.append((f"bit flipped at {pos}", bytes(flipped)))
    return out


def test_twenty_damaged_files_give_clean_errors(tmp_path: Path) -> None:
    good_path = tmp_path / "good.hsnap"
    run(f"import heapscope; KEEP = list(range(5000)); heapscope.dump({str(good_path)!r})")
    good = good_path.read_bytes()
    cases = variants(good)
    assert len(cases) >= 20
    for name, data in cases:
        p = tmp_path / "bad.hsnap"
        p.write_bytes(data)
        # a fresh process per file: a crash would show as a failed run, not a lost test run
        code = textwrap.dedent(f"""
            import heapscope
            from heapscope._native import read_snapshot
            try:
                read_snapshot({str(p)!r})
            except heapscope.SnapshotFormatError as e:
                print("error:", e)
            else:
                print("read")
        """)
        out = run(code)
        assert out.startswith("error:"), (name, out)
        if name == "newer version":
            assert "version 99" in out and "upgrade heapscope" in out
    # a text file given to heapscope.load is read as Stat records (Heapy's load)
    with pytest.raises(heapscope.StatFormatError):
        heapscope.load(_write(tmp_path / "t.txt", "hello\n"))


def _write(p: Path, text: str) -> Path:
    p.write_text(text)
    return p


def test_file_system_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.hsnap"):
        heapscope.load(tmp_path / "missing.hsnap")
    with pytest.raises(FileNotFoundError):
        heapscope.dump(tmp_path / "no" / "such" / "dir" / "x.hsnap")
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            with pytest.raises(PermissionError, match="locked"):
                heapscope.dump(locked / "x.hsnap")
        finally:
            locked.chmod(0o700)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]  # no temporary file left


def test_a_dump_killed_half_way_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "big.hsnap"
    code = textwrap.dedent(f"""
        import heapscope
        KEEP = [(i, str(i), [i]) for i in range(1_500_000)]
        print("built", flush=True)
        heapscope.dump({str(target)!r})
        print("dumped", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "built"
        deadline = time.monotonic() + 60
        # kill it while the temporary file is being written
        while not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
            assert time.monotonic() < deadline and proc.poll() is None, "the dump finished before it was killed"
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert not target.exists()


# -- comparing snapshots --------------------------------------------------------------


def test_diff_finds_what_was_added_and_the_leak_signature(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import heapscope
        class Leak:
            pass
        class Temp:
            pass
        LEAKED = []
        heapscope.dump({str(tmp_path / 'a.hsnap')!r})
        LEAKED.extend(Leak() for _ in range(250))
        TEMP = [Temp() for _ in range(100)]
        heapscope.dump({str(tmp_path / 'b.hsnap')!r})
        del TEMP
        heapscope.dump({str(tmp_path / 'c.hsnap')!r})
    """)
    run(code)
    d = heapscope.diff(tmp_path / "a.hsnap", tmp_path / "b.hsnap", tmp_path / "c.hsnap")
    assert d.same_process
    b = d.b
    assert (d.new & b.Clodo("__main__.Leak")).count == 250
    assert (d.new & b.Clodo("__main__.Temp")).count == 100
    assert (d.survivors & b.Clodo("__main__.Leak")).count == 0
    assert (d.leaking & d.leaking._session.Clodo("__main__.Leak")).count == 250
    assert (d.leaking & d.leaking._session.Type("__main__.Temp")).count == 0
    text = str(d)
    assert "compared by identity" in text and "__main__.Leak" in text
    grown = {name: (dc, path) for name, dc, _ds, path in d.grown(10)}
    assert grown["__main__.Leak"][0] == 250 and "['LEAKED']" in grown["__main__.Leak"][1]


def test_diff_of_different_processes_compares_kinds_only(tmp_path: Path) -> None:
    for name, n in (("one", 10), ("two", 40)):
        run(f"import heapscope\nclass Thing: pass\nKEEP = [Thing() for _ in range({n})]\n"
            f"heapscope.dump({str(tmp_path / (name + '.hsnap'))!r})")
    d = heapscope.diff(tmp_path / "one.hsnap", tmp_path / "two.hsnap")
    assert not d.same_process and d.new is None
    assert "compared by kind only" in str(d)
    rows = {name: (dc, ds) for name, dc, ds in d.by_kind.rows}
    assert rows["__main__.Thing"][0] == 30


def test_allocation_sites_are_recorded_when_tracemalloc_traces(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import tracemalloc
        tracemalloc.start()
        import heapscope
        KEEP = [bytearray(64) for _ in range(40)]  # no pre-header: tracemalloc finds each
        h = heapscope.hpy()
        live = str((h.heap() & h.Type(bytearray)).byprod)
        heapscope.dump({str(tmp_path / 'sites.hsnap')!r})
        print(live)
    """)
    live = run(code).strip()
    snap = heapscope.load(tmp_path / "sites.hsnap")
    got = str((snap.heap() & snap.Type("bytearray")).byprod)
    assert got == live and "<string>:5" in got
    # without sites, Prod says why
    run(f"import heapscope\nheapscope.dump({str(tmp_path / 'none.hsnap')!r})")
    plain = heapscope.load(tmp_path / "none.hsnap")
    with pytest.raises(heapscope.TracemallocNotTracingError, match="recorded no allocation sites"):
        str(plain.heap().byprod)


def test_root_of_a_snapshot(snap: Any) -> None:
    root = snap.Root
    modules = root.i0_modules
    assert modules.type_name == "dict" and snap.at(modules.address).count == 1
    assert "i0_modules" in dir(root)
    main_thread = root.thread("MainThread")
    assert main_thread.frames  # the dump's own frames are skipped, the test's are there
    assert isinstance(root.i0_types, dict)
    with pytest.raises(AttributeError):
        root.no_such_member


def test_what_only_the_seeds_reach_is_the_unreachable_part() -> None:
    """A dump flags as unreachable what its walk met only from the collector's objects;
    that must be exactly what heapu's closure computes."""
    import gc

    from heapscope.session import hidden_types
    from heapscope.sources import LiveSource

    gc.disable()
    try:
        for _ in range(50):  # cyclic garbage: alive until collected, unreachable
            a: list[Any] = []
            a.append([a, object()])
        del a
        graph = LiveSource(hidden_types).everything()
        seeded = graph.seeded_only()
        assert seeded.count >= 100
        assert seeded.equals(graph.unreachable(hidden_types()))
    finally:
        gc.enable()
        gc.collect()


def test_whole_heap_reports_of_a_snapshot(snap: Any) -> None:
    tree = snap.dominator_tree()
    tree_list = snap.at(id(TREE)).theone
    assert tree.retained_size(tree_list) == snap.at(id(TREE)).domisize
    text = str(snap.largest_retainers(5))
    assert text.startswith("Largest retainers in a heap of")
    suspects = snap.leak_suspects(min_share=0.01, limit=3)
    assert len(suspects) >= 1  # the modules' dicts retain more than 1% each
    assert "kept alive by: snap.Root" in str(suspects)
