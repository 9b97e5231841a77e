"""Exact text of the printed tables, and the same text as guppy3 on the same objects."""

from __future__ import annotations

import sys

import pytest

from heapscope import hpy

from .conftest import normalise

FLOATS = [0.5 + i for i in range(12)]


def test_set_table_exact_text():
    h = hpy()
    x = h.idset(FLOATS + ["ab", "cd"])
    s2 = 2 * sys.getsizeof("ab")  # str sizes differ between versions
    total = 288 + s2
    assert str(x) == (
        f"Partition of a set of 14 objects. Total size = {total} bytes.\n"
        " Index  Count   %     Size   % Cumulative  % Kind (class / dict of class)\n"
        f"     0     12  86      288 {round(28800 / total):3d}       288 {round(28800 / total):3d} float\n"
        f"     1      2  14 {s2:8d} {round(s2 * 100 / total):3d} {total:9d} 100 str"
    )


def test_paging_exact_text():
    h = hpy()
    x = h.idset(FLOATS).byid
    first = str(x).splitlines()
    assert first[0] == "Set of 12 <float> objects. Total size = 288 bytes."
    assert first[1] == " Index     Size   %   Cumulative  %   Value"
    assert first[2] == "     0       24   8.3        24   8.3 0.5"
    assert first[-1] == "<2 more rows. Type e.g. '_.more' to view.>"
    assert str(x.more) == (
        " Index     Size   %   Cumulative  %   Value\n"
        "    10       24   8.3       264  91.7 10.5\n"
        "    11       24   8.3       288 100.0 11.5"
    )


def test_bysize_and_unity_exact_text():
    h = hpy()
    x = h.idset(FLOATS)
    assert str(x.bysize).splitlines()[2] == "     0     12 100      288 100       288 100        24"
    assert str(x.byunity).splitlines()[1:] == [
        " Index  Count   %     Size   % Cumulative  % <unclassified>",
        "     0     12 100      288 100       288 100 <Anything>",
    ]


def test_mixed_byid_exact_text():
    h = hpy()
    lst: list = []
    x = h.iso(1.5, lst, "a")
    ls, ss = sys.getsizeof(lst), sys.getsizeof("a")
    t = ls + ss + 24
    assert normalise(str(x.byid)) == (
        f"Set of 3 <mixed> objects. Total size = {t} bytes.\n"
        " Index     Size   %   Cumulative  %   Brief\n"
        f"     0 {ls:8d} {ls * 100 / t:5.1f} {ls:9d} {ls * 100 / t:5.1f} list: 0xADDR*0\n"
        f"     1 {ss:8d} {ss * 100 / t:5.1f} {ls + ss:9d} {(ls + ss) * 100 / t:5.1f} str: 'a'\n"
        f"     2       24 {2400 / t:5.1f} {t:9d} 100.0 float: 1.5"
    )


def test_empty_set():
    h = hpy()
    assert str(h.iso()) == "Partition of a set of 0 objects. Total size = 0 bytes."


@pytest.mark.parametrize("er", ["byclodo", "bytype", "bysize", "byid", "byunity"])
def test_same_text_as_guppy3(er):
    guppy = pytest.importorskip("guppy")
    objs = FLOATS + ["ab", "cd", "a longer string"] + [(1, 2), (3,), [1], [2, 3], {"k": 1}, b"xyz"]
    ours = str(getattr(hpy().idset(objs), er).all)
    theirs = str(getattr(guppy.hpy().idset(objs), er).all)
    assert normalise(ours) == normalise(theirs)
