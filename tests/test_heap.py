"""heap(): what it finds, what it hides, reference points."""

from __future__ import annotations

import gc
import sys
import weakref

import pytest

import heapscope
from heapscope import IdentitySet

from .conftest import table_rows


class Leaky:
    def __init__(self, i: int) -> None:
        self.i = i
        self.tag = "t"


CACHE: list[Leaky] = []


def test_heap_counts_new_instances(h):
    h.setref()
    CACHE[:] = [Leaky(i) for i in range(500)]
    try:
        x = h.heap()
        rows = table_rows(x)
        assert rows[f"{__name__}.Leaky"][0] == 500
        # the list itself is new too (the old list object was emptied in place)
        assert x.count >= 500
    finally:
        CACHE.clear()


def test_totals_match_rows(h):
    x = h.heap()
    rows = table_rows(x)
    assert sum(c for c, _ in rows.values()) == x.count
    assert sum(s for _, s in rows.values()) == x.size
    # kind names need not be unique (ctypes makes a CFunctionType class per prototype):
    # table_rows adds up rows of one name
    assert len({r.name for r in x.rows}) == len(rows)


def test_session_objects_are_hidden(h):
    first = h.heap()
    x = h.heap()
    assert h not in x
    assert first not in x
    assert x.count > 1000
    names = table_rows(x.bytype)
    for hidden in ("heapscope.session.Session", "heapscope.identity_set.IdentitySet", "heapscope._native.NodeSet",
                   "heapscope._native.LiveGraph", "builtins.LiveGraph"):
        assert hidden not in names


def test_objects_of_caller_frame_are_found(h):
    marker = Leaky(-1)
    x = h.heap()
    assert marker in x
    local_only = [object() for _ in range(3)]
    assert all(o in h.heap() for o in local_only)


def test_setref_light_and_exact_agree(h):
    h.setref()
    keep = [Leaky(i) for i in range(200)]
    exact = table_rows(h.heap())
    h.setref(light=True)
    assert f"{__name__}.Leaky" not in table_rows(h.heap())
    more = [Leaky(i) for i in range(50)]
    assert table_rows(h.heap())[f"{__name__}.Leaky"][0] == 50
    assert exact[f"{__name__}.Leaky"][0] == 200
    del keep, more


def test_clearref_restores_full_heap(h):
    full = h.heap().count
    h.setref()
    assert h.heap().count < full
    h.clearref()
    assert h.heap().count >= full - 50


def test_identity_set_basics(h):
    a, b = [1], [2]
    s = h.iso(a, b, "x")
    assert s.count == 3
    assert len(s.nodes) == 3
    assert a in s and b in s and [1] not in s
    one = h.iso(a)
    assert one.theone is a
    with pytest.raises(heapscope.NotOneObjectError):
        s.theone
    with pytest.raises(heapscope.HeapscopeError):
        h.iso().theone
    with pytest.raises(TypeError, match="not iterable by design"):
        iter(s)
    lists = s.bytype[0]
    assert isinstance(lists, IdentitySet)
    assert lists.count == 2 and lists.size == sys.getsizeof(a) + sys.getsizeof(b)


def test_set_algebra_within_and_across_captures(h):
    a, b, c = [1], [2], [3]
    ab = h.iso(a, b)
    bc = h.iso(b, c)
    assert (ab & bc).theone is b
    assert (ab | bc).count == 3
    assert (ab - bc).theone is a
    assert (ab ^ bc).count == 2
    assert ab.disjoint(h.iso(c))
    assert h.iso(a) < ab and ab <= ab and ab >= h.iso(b) and not ab < ab
    assert ab == h.iso(b, a)
    heap = h.heap()
    assert (heap & ab) == ab


def test_rows_and_paging(h):
    x = h.heap()
    n = len(x)
    assert n > 20
    first = str(x)
    lines = first.splitlines()
    assert lines[0].startswith("Partition of a set of ")
    assert lines[-1] == f"<{n - 10} more rows. Type e.g. '_.more' to view.>"
    page2 = str(x.more).splitlines()
    assert page2[0] == lines[1]
    assert page2[1].split()[0] == "10"
    assert str(x.more.more).splitlines()[1].split()[0] == "20"
    assert len(table_rows(x)) == len({r.name for r in x.rows}) and len(x.rows) == n
    last = x[-1]
    assert last.count >= 1
    assert x[0:3].count == sum(x[i].count for i in range(3))
    with pytest.raises(IndexError):
        x[n]


def test_other_partitions(h):
    x = h.heap()
    assert table_rows(x.byunity) == {"<Anything>": (x.count, x.size)}
    mods = table_rows(x.bymodule)
    assert "sys" in mods and mods["sys"][0] == 1
    assert mods["~module"][0] == x.count - len(sys.modules) or mods["~module"][0] < x.count
    sizes = table_rows(x.bysize)
    assert sum(c for c, _ in sizes.values()) == x.count
    types_ = table_rows(x.bytype)
    assert types_["dict"][0] >= sum(c for k, (c, _) in table_rows(x).items() if k.startswith("dict"))


def test_heapu_reports_unreachable_cycle(h):
    h.setref()
    # An object kept alive only by a C-level reference (a leaked refcount).
    import ctypes

    class Orphan:
        pass

    o = Orphan()
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(o))
    name = f"{__name__}.{Orphan.__qualname__}".replace(".<locals>", "")
    del o
    gc.collect()
    try:
        stat = h.heapu()
        assert any(r[0].endswith("Orphan") and r[1] == 1 for r in stat.rows), stat.all
    finally:
        for obj in gc.get_objects():
            if type(obj) is Orphan:
                ctypes.pythonapi.Py_DecRef(ctypes.py_object(obj))
        assert name


def test_root_members(h):
    names = dir(h.Root)
    for expected in ("i0_modules", "i0_sysdict", "i0_builtins"):
        assert expected in names
    assert h.Root.i0_modules is sys.modules
    assert h.Root.i0_sysdict is sys.__dict__
    assert any(n.startswith("i0_t") and "_f0:" in n for n in names)


def test_materialised_instance_dict_is_found_on_every_version(h):
    class WithDict:
        def __init__(self) -> None:
            self.a = 1

    o = WithDict()
    o.__dict__  # materialise, keep no reference to the dict itself
    x = h.heap()
    assert o.__dict__ in x
    assert (x & h.Clodo(dictof=WithDict)).count == 1
    assert o.__dict__ in h.Clodo(dictof=WithDict)


class _HeapThroughProperty:
    """Calls heap() from a property: the caller's frame then calls through C."""

    def __init__(self, session) -> None:
        self.session = session

    @property
    def heap(self):
        return self.session.heap()


def test_locals_of_a_frame_calling_through_c_are_found(h):
    only_here = Leaky(-5)  # referenced by this frame's locals alone
    x = _HeapThroughProperty(h).heap
    assert only_here in x
    got = sorted([0], key=lambda _: h.heap().count)  # a C function calling back
    assert got == [0]


def _capture_kept_in_a_local(rows: bool) -> weakref.ref:
    """Takes a heap in a frame whose locals then hold it (and, if ``rows``, row sets of
    one of its partitions); a weak reference to its capture."""
    h = heapscope.hpy()
    x = h.heap()
    parts = x.bytype.parts[1:] if rows else None  # noqa: F841 - held by this frame
    return weakref.ref(x._nodes.graph)


@pytest.mark.parametrize("rows", [False, True], ids=["set", "row_sets"])
def test_a_capture_its_nodes_refer_back_to_is_collected(rows: bool) -> None:
    """A capture holds every node; on 3.10 the caller's frame is one, and its locals then
    hold the result: a cycle through the capture, which the cycle collector frees (it
    once kept the whole captured heap alive until the process ended, and with it, e.g.,
    duckdb's module cleanup capsule, whose C++ static then crashed at exit)."""
    graph = _capture_kept_in_a_local(rows)
    gc.collect()
    assert graph() is None
