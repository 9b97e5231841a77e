"""Relations computed in Python: findex, biper, Idset, Prod (tracemalloc)."""

from __future__ import annotations

import tracemalloc

import pytest

import heapscope
from heapscope import hpy

from .conftest import normalise

OBJS = [1.5, 2.5, [], [1], "ab", {}]


class Made:
    # __slots__: CPython 3.11's tracemalloc.get_object_traceback misses instances with a
    # managed __dict__ (they read as "unknown" there); slotted instances work everywhere.
    __slots__ = ("a",)


@pytest.mark.parametrize("which", ["findex", "biper", "byidset"])
def test_same_text_as_guppy3(which):
    guppy = pytest.importorskip("guppy")
    results = []
    for mod in (hpy(), guppy.hpy()):
        x = mod.idset(OBJS)
        if which == "findex":
            y = x.by(mod.findex(mod.Type(float), mod.Type(list)))
        elif which == "biper":
            y = x.by(mod.iso(OBJS[0], OBJS[2]).biper)  # two kinds: each brief has one member
        else:
            y = x.byidset
        results.append(normalise(str(y.all)))
    assert results[0] == results[1]


def test_findex_kinds_select_their_rows():
    h = hpy()
    x = h.idset(OBJS)
    f = h.findex(h.Type(float), h.Type(list) | h.Type(float))
    y = x.by(f)
    for i in range(len(y)):
        k = y[i].kind
        assert (x & k) == y[i]
        assert all(o in k for o in y[i].nodes)
    assert (x & f(1)).count == 2  # floats went to class 0
    assert (x & f(2)).count == 2  # str and dict match neither
    assert repr(f(0)).endswith("findex(h.Type(float), (h.Type(list) | h.Type(float)))(0)") or "findex(" in repr(f(0))


def test_prod_needs_tracemalloc():
    assert not tracemalloc.is_tracing()
    with pytest.raises(heapscope.TracemallocNotTracingError, match="tracemalloc.start"):
        str(hpy().idset(OBJS).byprod)


def test_prod_classifies_by_allocation_line():
    before = [Made() for _ in range(3)]
    tracemalloc.start()
    try:
        after = [Made() for _ in range(4)]; line = _line()  # noqa: E702 - same line on purpose
        h = hpy()
        x = h.idset(before + after)
        rows = {r.name: r.count for r in x.byprod.rows}
        site = f"{__file__}:{line}"
        assert rows == {site: 4, "unknown": 3}
        assert (x & h.Prod(__file__, line)).count == 4
        assert (x & h.Prod(site)).count == 0  # one string is a file name prefix, as in guppy3
        assert (x & h.Prod(__file__)).count == 4
        assert (x & h.Prod()).count == 3
        assert after[0] in h.Prod(__file__, line) and before[0] not in h.Prod(__file__, line)
    finally:
        tracemalloc.stop()


def _line() -> int:
    import sys

    return sys._getframe(1).f_lineno


class Owned:
    def __init__(self) -> None:
        self.a = 1


def test_dictof_relation_as_guppy3():
    guppy = pytest.importorskip("guppy")
    import sys

    o = Owned()
    objs = [1.5, [], {}, o.__dict__, sys.__dict__, sys]
    g = guppy.hpy()
    ours = hpy().idset(objs).by(hpy().Type.dictof)
    assert str(ours.all) == str(g.idset(objs).by(g.Type.dictof).all)
    # with the owner itself: same rows (its size differs on 3.13, where heapscope counts
    # the inline values; docs/differences.md)
    objs.append(o)
    ours = hpy().idset(objs).by(hpy().Type.dictof)
    theirs = g.idset(objs).by(g.Type.dictof)
    assert sorted((r.name, r.count) for r in ours.rows) == sorted(
        (r.name, r.count) for r in theirs.partition.get_rows()
    )
    for i in range(len(ours)):
        assert (hpy().idset(objs) & ours[i].kind) == ours[i]
