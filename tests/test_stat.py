"""Stat: frozen partitions, difference tables, dump/load in Heapy's (guppy3's) format."""

from __future__ import annotations

import gc
import sys
import weakref

import pytest

import heapscope
from heapscope import hpy

from .conftest import normalise

A_OBJS = [float(i) for i in range(5)] + ["ab", [1]]
B_OBJS = [float(i) for i in range(3)] + [(1, 2)]


def test_difference_table_exact_text():
    h = hpy()
    d = h.iso(*A_OBJS).diff(h.iso(*B_OBJS))
    s_str, s_list, s_tuple = sys.getsizeof("ab"), sys.getsizeof([1]), sys.getsizeof((1, 2))
    a_size, b_size = 5 * 24 + s_str + s_list, 3 * 24 + s_tuple
    rows = sorted([("list", 1, s_list), ("tuple", -1, -s_tuple), ("str", 1, s_str), ("float", 2, 48)],
                  key=lambda r: abs(r[2]), reverse=True)
    assert d.rows == rows
    expected = [
        "Summary of difference operation (A-B).",
        "        Count     Size",
        "  A         7 %8d" % a_size,
        "  B         4 %8d" % b_size,
        "  A-B       3 %8d  = %9.3g %% of B" % (a_size - b_size, (a_size - b_size) * 100.0 / b_size),
        "",
        "Differences by kind, largest absolute size diffs first.",
        " Index  Count     Size  Cumulative  % of B Kind (class / dict of class)",
    ]
    cumul = 0
    for i, (name, count, size) in enumerate(rows):
        cumul += size
        expected.append("%6d %6d %8d %9d %9.3g %s" % (i, count, size, cumul, cumul * 100.0 / b_size, name))
    assert str(d) == "\n".join(expected)


@pytest.mark.parametrize("er", ["byclodo", "byid", "bysize"])
def test_same_text_as_guppy3(er):
    guppy = pytest.importorskip("guppy")
    g = guppy.hpy()
    h = hpy()
    ours = getattr(h.idset(A_OBJS), er).stat
    theirs = getattr(g.idset(A_OBJS), er).stat
    assert normalise(str(ours.all)) == normalise(str(theirs.all))
    if er != "byid":
        ours_d = ours - getattr(h.idset(B_OBJS), er).stat
        theirs_d = theirs - getattr(g.idset(B_OBJS), er).stat
        assert str(ours_d.all) == str(theirs_d.all)


@pytest.mark.parametrize("er", ["byclodo", "byid", "bytype"])
def test_dump_load_round_trip_both_directions(tmp_path, er):
    guppy = pytest.importorskip("guppy")
    g = guppy.hpy()
    h = hpy()
    ours = getattr(h.idset(A_OBJS), er).stat
    ours_file = tmp_path / "ours.hpy"
    ours.dump(ours_file)
    if er != "byid":
        (ours - getattr(h.idset(B_OBJS), er).stat).dump(ours_file)
    with open(ours_file) as f:  # guppy3 keeps a file it opened itself open
        loaded_by_guppy = g.load(f)
        assert normalise(str(loaded_by_guppy.all)) == normalise(str(ours.all))

    theirs = getattr(g.idset(A_OBJS), er).stat
    theirs_file = tmp_path / "theirs.hpy"
    theirs.dump(str(theirs_file))
    theirs.dump(str(theirs_file))
    loaded = list(h.loadall(theirs_file))
    assert len(loaded) == 2
    assert normalise(str(loaded[1].all)) == normalise(str(theirs.all))
    assert loaded[0].timemade == pytest.approx(theirs.timemade, abs=1e-5)

    records = list(heapscope.load_all(ours_file))
    assert str(records[0].all) == str(ours.all)
    if er != "byid":
        assert records[1].format == "DiffFormat"


def test_indexing():
    st = hpy().idset(A_OBJS).stat
    assert len(st) == 3
    assert st[0].count == 5 and st[-1].count == 1
    assert st[0:2].count == 6 and len(st[0:2]) == 2
    with pytest.raises(IndexError):
        st[3]


def test_stat_holds_no_references():
    class Thing:
        pass

    t = Thing()
    ref = weakref.ref(t)
    st = hpy().iso(t).stat
    del t
    gc.collect()
    assert ref() is None
    assert st.count == 1


@pytest.mark.parametrize(
    "text, message",
    [
        (".loader: _load_stat\n.format: SetFormat\n.count: 1\n", "truncated"),
        ("garbage\n", "not a Stat record line"),
        (".loader: _load_stat\n.format: SetFormat\n.count: 1\n.size: 2\n.numrows: 2\n.r: 1 2 x\n.end: .loader: _load_stat\n",
         "numrows"),
        (".loader: _load_stat\n.format: Nope\n.count: 1\n.size: 2\n.end: .loader: _load_stat\n", "unknown stat format"),
        (".loader: _load_stat\n.format: SetFormat\n.size: 2\n.end: .loader: _load_stat\n", "lacks the .count"),
        (".loader: _load_stat\n.format: SetFormat\n.count: x\n.size: 2\n.end: .loader: _load_stat\n", "malformed"),
    ],
)
def test_corrupt_records_raise_clear_errors(tmp_path, text, message):
    path = tmp_path / "bad.hpy"
    path.write_text(text)
    with pytest.raises(heapscope.StatFormatError, match=message):
        hpy().load(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.hpy"
    path.write_text("")
    assert list(hpy().loadall(path)) == []
    with pytest.raises(heapscope.HeapscopeError, match="no Stat record"):
        hpy().load(path)
