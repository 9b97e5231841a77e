"""Shortest paths (x.sp) and reference patterns (x.rp): counts, order, paging, avoided
routes and Heapy's exact text (addresses normalised)."""

from __future__ import annotations

import sys

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
    assert str(sp.avoided(0).avoided(0)) == ""
    # the same by avoiding a node or an edge given as a pair of objects
    assert [str(p) for p in h.iso(target).get_shpaths(src=h.iso(holder), avoid_nodes=h.iso(holder[0])).iter()] == [
        "Src[1][0][0]"
    ]
    avoid = [(holder[0], target)]
    assert str(h.iso(target).get_shpaths(src=h.iso(holder), avoid_edges=avoid)[0]) == "Src[1][0][0]"


def test_sp_from_the_root_and_several_sources(h):
    KEEP.append(bytearray(b"kept"))
    sp = h.iso(KEEP[-1]).sp
    texts = [str(p) for p in sp.iter()]
    assert any(t.startswith("hpy().Root.i0_modules[") and t.endswith(".__dict__['KEEP'][0]") for t in texts) or any(
        t.endswith(".f_globals['KEEP'][0]") for t in texts
    ), texts
    a, b = [KEEP[-1]], [KEEP[-1]]
    pin = [str(p) for p in h.iso(KEEP[-1]).get_shpaths(src=h.iso(a, b)).iter()]
    # several sources: each path starts with its source's brief
    assert [normalise(p) for p in pin] == ["<1 list: 0xADDR*1>[0]", "<1 list: 0xADDR*1>[0]"]
    out = [str(p) for p in h.iso(a).pathsout.iter()]
    assert "Src[0]" in out and "Src->ob_type" in out
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
