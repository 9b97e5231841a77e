"""Shortest paths (x.sp) and reference patterns (x.rp): counts, order, paging, avoided
routes and Heapy's exact text (addresses normalised)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import types
import weakref
from typing import Any

import pytest

from .conftest import normalise

KEEP: list[object] = []


def layered(width: int, length: int) -> tuple[list, list]:
    """A DAG: a top list holding `width` lists, each holding every list of the next layer,
    `length` layers deep; returns the top and the last layer."""
    layer = [[] for _ in range(width)]
    last = layer
    for _ in range(length - 1):
        layer = [list(layer) for _ in range(width)]
    return list(layer), last


def test_numpaths_is_exact_and_big(h):
    top, last = layered(10, 20)
    sp = h.iso(*last).get_shpaths(src=h.iso(top))
    assert sp.numpaths == 10**20  # beyond 64 bits
    assert str(sp[0]) == "Src" + "[0]" * 20
    assert str(sp[10**20 - 1]) == "Src" + "[9]" * 20
    assert str(sp[-1]) == str(sp[10**20 - 1])
    assert str(sp[12345]) == "Src" + "[0]" * 15 + "[1][2][3][4][5]"
    with pytest.raises(IndexError):
        sp[10**20]
    with pytest.raises(IndexError):
        sp[-(10**20) - 1]
    assert len(sp[7]) == 20


def test_paths_print_ten_at_a_time(h):
    target = object()
    holder = [target] * 12
    sp = h.iso(target).get_shpaths(src=h.iso(holder))
    assert sp.numpaths == 12  # multi-references count as separate paths
    lines = str(sp).splitlines()
    assert lines[0] == " 0: Src[0]" and lines[9] == " 9: Src[9]"
    assert lines[10] == "<... 2 more paths ...>"
    assert str(sp.more).splitlines() == ["10: Src[10]", "11: Src[11]"]
    assert str(sp.more.more) == "<No more paths>"
    assert [str(p) for p in sp.iter(10)] == ["Src[10]", "Src[11]"]


def test_avoided_finds_the_next_route(h):
    target = object()
    holder = [{"x": target}, [[target]]]
    sp = h.iso(target).get_shpaths(src=h.iso(holder))
    assert [str(p) for p in sp.iter()] == ["Src[0]['x']"]
    assert [str(p) for p in sp.avoided(0).iter()] == ["Src[1][0][0]"]
    assert [str(p) for p in sp.avoided(1).iter()] == ["Src[1][0][0]"]
    assert sp.avoided(0).avoided(0).numpaths == 0
    assert str(sp.avoided(0).avoided(0)) == (
        "<No path from the source: every route passes through the avoided objects or references>"
    )
    # the same by avoiding a node or an edge given as a pair of objects
    assert [str(p) for p in h.iso(target).get_shpaths(src=h.iso(holder), avoid_nodes=h.iso(holder[0])).iter()] == [
        "Src[1][0][0]"
    ]
    avoid = [(holder[0], target)]
    assert str(h.iso(target).get_shpaths(src=h.iso(holder), avoid_edges=avoid)[0]) == "Src[1][0][0]"


def test_sp_from_the_root_and_several_sources(h):
    KEEP.append(bytearray(b"kept"))
    sp = h.iso(KEEP[-1]).sp
    # one global: one path, through sys.modules (the running test's frame, whose
    # f_globals and f_func.__globals__ are this module's dict, is not a second route)
    assert [str(p) for p in sp.iter()] == [f"hpy().Root.i0_modules['{__name__}'].__dict__['KEEP'][0]"]
    assert sp.numpaths == 1
    a, b = [KEEP[-1]], [KEEP[-1]]
    pin = [str(p) for p in h.iso(KEEP[-1]).get_shpaths(src=h.iso(a, b)).iter()]
    # several sources: each path starts with its source's brief
    assert [normalise(p) for p in pin] == ["<1 list: 0xADDR*1>[0]", "<1 list: 0xADDR*1>[0]"]
    out = [str(p) for p in h.iso(a).pathsout.iter()]
    assert out == ["Src[0]"]  # (an instance of a static type does not refer to its type)
    KEEP.clear()


def _rp_lines(rp) -> list[str]:
    return normalise(str(rp)).splitlines()


def test_rp_text_and_rows(h):
    def build() -> list:
        target = bytearray(7)
        return [[target] for _ in range(3)]

    lists = build()
    rp = h.iso(lists[0][0]).get_rp(depth=2)
    # `lists` is a local of this test: held by its frame object on 3.10 (so the depth
    # limit shows), by the thread's frame roots on 3.11+ (no referrer: [R])
    last = "[R]" if sys.version_info >= (3, 11) else "[+]"
    assert _rp_lines(rp) == [
        "Reference Pattern by <[dict of] class>.",
        " 0: _ --- [-] 1 bytearray: 0xADDR",
        " 1: a      [-] 3 list: 0xADDR*1, 0xADDR*1, 0xADDR*1",
        f" 2: aa ---- {last} 1 list: 0xADDR*3",
    ]
    assert rp.a.count == 3 and rp[2] == rp.aa and rp._.count == 1
    assert len(rp) == 3
    with pytest.raises(AttributeError):
        rp.zz
    assert str(rp.more) == ""


def test_rp_markers_seen_and_stop(h):
    target = bytearray(3)
    inner = [target]
    d = {"t": target, "inner": inner}
    KEEP.append(d)
    del d, inner
    rp = h.iso(target).get_rp(depth=4)
    lines = _rp_lines(rp)
    names = [ln.split(":")[1].split()[0] for ln in lines[1:]]
    assert names[:2] == ["_", "a"]
    # the dict refers to the target and to the list that refers to it: shown once
    assert any("[^ " in ln for ln in lines), lines
    # the module-level KEEP list is held by a module's dict: a stop kind
    assert any(ln.endswith(f"[S] 1 dict of module: {__name__}") for ln in lines), lines
    # rows are generated lazily: rp.reset() starts again
    rp.reset()
    assert _rp_lines(rp) == lines
    KEEP.clear()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="3.10 locals are held by frame objects (a stop kind)")
def test_rp_root_marker(h):
    only_local = bytearray(5)  # held by this frame's locals: a root, no referrer
    lines = _rp_lines(h.iso(only_local).rp)
    assert lines[1] == " 0: _ --- [R] 1 bytearray: 0xADDR"


def test_rp_by_type_and_imdom(h):
    def build() -> dict:
        target = bytearray(2)
        return {"a": [target], "b": [target]}

    holder = build()
    KEEP.append(holder)
    t = h.iso(holder["a"][0])  # no local refers to the target itself (3.10: frames do)
    rp = t.get_rp(er=h.Type, depth=1)
    assert _rp_lines(rp)[0] == "Reference Pattern by <type>."
    assert _rp_lines(rp)[2] == " 1: a      [+] 2 list: 0xADDR*1, 0xADDR*1"
    # both lists are reached only through the dict: each is its own immediate dominator
    assert t.imdom.count == 2
    rp_imdom = t.get_rp(imdom=True, depth=1)
    assert " 1: a " in _rp_lines(rp_imdom)[2]
    KEEP.clear()


def test_queries_follow_the_heap_and_keep_nothing_alive(h):
    import gc
    import weakref

    class T:
        pass

    t = T()
    holder_a = [t]
    assert "['holder_a']" in str(h.iso(t).pathsin) or h.iso(t).referrers.count >= 1
    holder_b = {"k": t}
    del holder_a
    kinds = {r.name for r in h.iso(t).referrers.rows}
    assert "dict (no owner)" in kinds and "list" not in kinds, kinds
    assert holder_b["k"] is t
    u = T()
    ref = weakref.ref(u)
    str(h.iso(u).sp)
    del u
    gc.collect()
    assert ref() is None  # no capture outlives the query


def test_avoided_uses_its_own_capture(h):
    t = bytearray(1)
    holder = [{"x": t}, [[t]]]
    sp = h.iso(t).get_shpaths(src=h.iso(holder))
    str(h.iso(bytearray(2)).sp)  # another query in between
    assert [str(p) for p in sp.avoided(0).iter()] == ["Src[1][0][0]"]


def test_rp_marks_a_cycle_back_to_the_top(h):
    class Slot:
        __slots__ = ("other",)

    def build() -> Slot:
        a, b = Slot(), Slot()
        a.other, b.other = b, a
        return a

    KEEP.append(build())
    rp = h.iso(KEEP[-1].other).get_rp(depth=3)
    lines = _rp_lines(rp)
    # _ = b; its referrer a is referred to by KEEP and by b: the top row, shown once
    assert any(ln.split()[1].startswith("a") and f"[^ 0] 1 {__name__}.Slot" in ln for ln in lines), lines
    KEEP.clear()


# -- readable paths: one root edge per object, interpreter roots first, frame names,
# -- long paths elided, the reason when there is none


def run_script(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_global_of_main_has_guppy3s_one_path():
    # the issue's case: __main__'s global seen from three running frames of __main__
    out = run_script(
        """
        from heapscope import hpy
        h = hpy()
        class Leaf: pass
        x = Leaf()
        def f():
            def g():
                print(h.iso(x).sp)
                print(h.iso(x).sp.numpaths)
            g()
        f()
        """
    )
    assert out.splitlines() == [" 0: h.Root.i0_modules['__main__'].__dict__['x']", "1"]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="3.10 frames are objects: their members are no root edges")
def test_an_object_named_by_several_roots_counts_once(h):
    # exec'd code whose globals and locals are one plain dict: that dict is the running
    # frame's .f_globals and .f_locals, and this test's local `d`: three root edges
    d: dict[str, Any] = {"h": h, "t": bytearray(13)}
    exec("sp = h.iso(t).sp\ntexts = [str(p) for p in sp.iter()]", d)
    # (pytest's own __main__ also runs a '<module>' frame: this one is numbered)
    assert d["texts"] == ["hpy().Root.thread('MainThread').frame('<module>', 0).f_globals['t']"]


class Held:
    """An object a thread's frame holds (the test finds it through a weak reference)."""


def _in_thread(target: Any, name: str) -> tuple[threading.Thread, threading.Lock]:
    """Runs target(lock, ready) in a thread named `name` until the lock is released;
    returns once target set ready."""
    lock = threading.Lock()
    lock.acquire()
    ready = threading.Event()

    def run() -> None:
        target(lock, ready)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    assert ready.wait(10)
    return thread, lock


def test_a_threads_frame_is_named_by_thread_and_function(h):
    box: list[Any] = []

    def handler(lock: threading.Lock, ready: threading.Event) -> None:
        mine = Held()  # held only by this frame
        box.append(weakref.ref(mine))
        ready.set()
        lock.acquire()  # blocks in C: this is the thread's most recent frame

    thread, lock = _in_thread(handler, "hs-worker")
    try:
        target = h.iso(box[0]())
        sp = target.sp
        text = "hpy().Root.thread('hs-worker').frame('handler').f_locals['mine']"
        assert [str(p) for p in sp.iter()] == [text]
        assert str(sp) == " 0: " + text
        # the path evaluates back to the object while the thread runs
        from heapscope import hpy

        assert eval(text, {"hpy": hpy}) is target.theone
        assert hpy().Root.thread(thread.ident).frame("handler") is not None
    finally:
        lock.release()
        thread.join(10)


def test_a_recursive_frame_is_numbered(h):
    box: list[Any] = []

    def rec(n: int, lock: threading.Lock, ready: threading.Event) -> None:
        if n:
            return rec(n - 1, lock, ready)
        deep = Held()
        box.append(weakref.ref(deep))
        ready.set()
        lock.acquire()

    thread, lock = _in_thread(lambda lock, ready: rec(3, lock, ready), "hs-recursive")
    try:
        target = h.iso(box[0]())
        (text,) = [str(p) for p in target.sp.iter()]
        if sys.version_info >= (3, 11):
            # four frames run rec: the most recent (number 0) holds it
            assert text == "hpy().Root.thread('hs-recursive').frame('rec', 0).f_locals['deep']"
        else:  # the most recent frame is the thread's one frame root
            assert text == "hpy().Root.thread('hs-recursive').frame('rec').f_locals['deep']"
        from heapscope import hpy

        assert eval(text, {"hpy": hpy}) is target.theone
        frames = hpy().Root.thread("hs-recursive").frames
        if sys.version_info >= (3, 11):
            assert [co for _, co in frames[:4]] == ["rec"] * 4 and frames[4][1] == "<lambda>"
    finally:
        lock.release()
        thread.join(10)


def test_root_names_in_both_forms():
    from heapscope.root import RootNamer, parse_root

    code = (lambda: None).__code__  # co_name '<lambda>'
    ident = threading.main_thread().ident
    roots = [
        ("i0_modules", None),
        (f"i0_t{ident}_f0:handler.f_locals['x']", None),  # with the code's name
        (f"i0_t{ident}_f1.f_code", code),  # without it: found through f_code
        (f"i0_t{ident}_f1.f_locals ['c']", None),
        (f"i0_t{ident}_f2:walk", None),
        (f"i0_t{ident}_f3:walk->f_valuestack[2]", None),
        (f"i0_t{ident}_f4.f_globals", None),  # unknown function
        (f"i0_t{ident}_exc_value", None),
        ("i0_t12345_f0:run.f_locals['y']", None),  # a thread threading does not know
    ]
    namer = RootNamer(roots)
    texts = [namer.text(name) for name, _ in roots]
    main = ".thread('MainThread')"
    assert texts == [
        ".i0_modules",
        f"{main}.frame('handler').f_locals['x']",
        f"{main}.frame('<lambda>').f_code",
        f"{main}.frame('<lambda>').f_locals ['c']",
        f"{main}.frame('walk', 2)",
        f"{main}.frame('walk', 3)->f_valuestack[2]",
        f"{main}.frame(4).f_globals",
        f"{main}.exc_value",
        ".thread(12345).frame('run').f_locals['y']",
    ]
    r = parse_root(f"i0_t{ident}_f3:walk->f_valuestack[2]")
    assert (r.thread, r.frame, r.co_name, r.member) == (ident, 3, "walk", "->f_valuestack[2]")
    assert parse_root("i0_modules").thread is None


class Node:
    __slots__ = ("next",)

    def __init__(self, nxt: Node | None) -> None:
        self.next = nxt


def test_a_million_step_path_prints_elided(h):
    n = 1_000_000
    head = None
    for _ in range(n):
        head = Node(head)
    KEEP.append(head)
    last = head
    while last.next is not None:
        last = last.next
    target = h.iso(last)
    del head, last
    try:
        sp = target.sp
        assert sp.numpaths == 1
        p = sp[0]
        start = f"hpy().Root.i0_modules['{__name__}'].__dict__['KEEP'][0]"
        # root, ['tests.test_paths'], .__dict__, ['KEEP'], [0], then n - 1 times .next
        assert len(p) == 5 + n - 1
        full = str(p)
        assert full == p.full and full.startswith(start + ".next.next") and full.endswith(".next")
        assert len(full) == len(start) + 5 * (n - 1)
        brief = start + ".next" * 5 + f" ... {len(p) - 20:,} more steps ..." + " .next" + ".next" * 9
        assert p.brief == brief == repr(p)
        assert str(sp) == " 0: " + brief
        assert "999,984 more steps" in brief
    finally:
        KEEP.clear()


def test_leak_suspects_and_largest_retainers_name_objects_alike(h):
    mod = types.ModuleType("hs_two_caches")
    mod.a = [bytearray(10_000) for _ in range(1500)]  # type: ignore[attr-defined]
    mod.b = [bytearray(10_000) for _ in range(1500)]  # type: ignore[attr-defined]
    sys.modules["hs_two_caches"] = mod
    # `mod` stays referred to from this frame too: sys.modules then does not dominate the
    # module alone, so whatever else sys.modules alone holds (it depends on what the test
    # session imported) does not change which object is the suspect; the shortest path
    # still goes through sys.modules (interpreter roots come first)
    try:
        suspects = h.leak_suspects()
        table = h.largest_retainers(20)
        # two halves: no single list keeps 90% of the module's dict, so the dict is named
        ours_found = [s for s in suspects if s.name == "dict of module: hs_two_caches"]
        assert len(ours_found) == 1, f"{suspects}\n{table}"
        (ours,) = ours_found
        assert ours.path == "hpy().Root.i0_modules['hs_two_caches'].__dict__"
        lines = str(suspects).splitlines()
        assert any(ln.startswith(" 0: dict of module: hs_two_caches retains ") for ln in lines), lines
        assert not any("<1 " in ln for ln in lines), lines
        rows = [r for r in table if r.object is ours.object]
        assert [f"{r.kind}: {r.shown}" for r in rows] == ["dict of module: hs_two_caches"]
        assert any(ln.endswith("  dict of module: hs_two_caches") for ln in str(table).splitlines())
        # every suspect is named as its row in the table
        for s in suspects:
            for r in table:
                if r.object is s.object:
                    assert s.name == f"{r.kind}: {r.shown}"
    finally:
        del sys.modules["hs_two_caches"]


def test_no_path_says_why(h):
    lonely = h.iso(bytearray(23))  # held only by the set itself (hidden): no root reaches it
    sp = lonely.sp
    assert sp.numpaths == 0
    assert str(sp) == (
        "<No path from the roots: they are not reachable from the roots (held only by "
        "unreachable cycles, untraversable containers or C code); see hpy().heapu()>"
    )
    assert sp.reason == str(sp) and str(sp.more) == str(sp)
    assert str(h.iso().sp) == "<No path: the set is empty>"
    KEEP.append(bytearray(29))
    try:
        kept = h.iso(KEEP[-1]).sp
        assert kept.reason is None and kept.numpaths == 1
        assert str(kept.avoided(0)).startswith(" 0: hpy().Root.")  # the next route
        blocked = h.iso(KEEP[-1]).get_shpaths(avoid_nodes=h.iso(KEEP))
        assert str(blocked) == (
            "<No path from the roots: every route passes through the avoided objects or references>"
        )
    finally:
        KEEP.clear()


def test_a_static_type_no_module_names_starts_at_i0_types(h):
    # line_iterator is a C type no module exposes: only its own slot wrappers refer to
    # it, and the interpreter keeps it alive. Its path starts at the static-type root.
    lines = test_a_static_type_no_module_names_starts_at_i0_types.__code__.co_lines()
    assert not type(lines).__flags__ & (1 << 9)
    texts = [str(p) for p in h.iso(type(lines)).sp.iter()]  # (no local holds the type)
    assert texts == ["hpy().Root.i0_types['line_iterator']"], texts
    assert eval(texts[0], {"hpy": lambda: h}) is type(lines)
    assert h.Root.i0_types["int"] is int and "line_iterator" in h.Root.i0_types
    with pytest.raises(KeyError, match="no static type named 'nonesuch'"):
        h.Root.i0_types["nonesuch"]
    # what the type holds is reached through it
    assert [str(p) for p in h.iso(type(lines).__dict__["__next__"]).sp.iter()] == [
        "hpy().Root.i0_types['line_iterator'].__dict__['__next__']"
    ]
    del lines
