"""Referrers, referents and dict owners, from a reverse graph built in Rust."""

from __future__ import annotations

import gc

from heapscope import hpy


class Thing:
    pass


HOLD_LIST: list = []
HOLD_DICT: dict = {}


def test_referrers_are_the_holders():
    o = Thing()
    HOLD_LIST.append(o)
    HOLD_DICT["k"] = o
    holder_tuple = (o, 1)
    try:
        h = hpy()
        h.heap()
        refs = h.iso(o).referrers
        ids = {id(r) for r in refs.nodes}
        assert {id(HOLD_LIST), id(HOLD_DICT), id(holder_tuple)} <= ids
        for r in refs.nodes:
            assert any(x is o for x in gc.get_referents(r)), type(r)
    finally:
        HOLD_LIST.clear()
        HOLD_DICT.clear()


def test_referents_follow_traverse_and_types():
    a, b = Thing(), Thing()
    pair = [a, b]
    h = hpy()
    got = {id(r) for r in h.iso(pair).referents.nodes}
    # instances of static types do not refer to their type (as in CPython and Heapy);
    # instances of heap types do
    assert got == {id(a), id(b)}
    assert h.iso([]).referents.count == 0
    assert {id(r) for r in h.iso(a).referents.nodes} >= {id(Thing)}


def test_owners_without_materialising():
    t = Thing()
    t.x = 1
    d = t.__dict__  # materialised on purpose: it is a real object now
    h = hpy()
    assert h.iso(d).owners.theone is t
    assert h.iso({}).owners.count == 0


def test_objects_created_after_the_edge_capture_still_get_referrers():
    h = hpy()
    first = Thing()
    holder = [first]
    assert h.iso(first).referrers.count >= 1
    later = Thing()
    holder.append(later)
    assert any(r is holder for r in h.iso(later).referrers.nodes)


SHARED = [9]
VIA_LIST = [SHARED]
VIA_TUPLE = (SHARED,)


def test_rcs_classes_by_referrer_kinds():
    h = hpy()
    x = h.iso(SHARED, VIA_LIST)
    rows = {r.name: r.count for r in x.byrcs.rows}
    assert rows["dict of module, list, tuple"] == 1  # SHARED: module globals, VIA_LIST, VIA_TUPLE
    assert str(x.byrcs).splitlines()[1].endswith("Referrers by Kind (class / dict of class)")
    y = x.byrcs
    for i in range(len(y)):
        assert (x & y[i].kind) == y[i]
    k = h.Rcs(h.Clodo(list), h.Clodo(tuple), h.Clodo(dictof=type(gc)))
    assert (x & k).theone is SHARED
    assert SHARED in k and VIA_LIST not in k
    assert repr(h.Clodo.sokind(h.Clodo(list)).refdby) == repr(h.Rcs(h.Clodo(list)))
    assert h.Clodo.sokind(h.Clodo(list)).refdby.brief == "<referred by: list>"
    assert repr(h.Type.refdby).endswith("Type.refdby")


def test_rcs_alt_compares_referrer_class_sets():
    h = hpy()
    x = h.iso(SHARED, VIA_LIST)
    only_module = h.Rcs(h.Clodo(dictof=type(gc)))
    assert (x & only_module).theone is VIA_LIST
    fewer = h.Rcs(h.Clodo(list), h.Clodo(tuple), h.Clodo(dictof=type(gc))).alt("<=")
    assert (x & fewer).count == 2
    assert (x & only_module.alt(">")).theone is SHARED
    assert only_module.alt(">").brief == "<referred by more than: dict of module>"  # as guppy3
