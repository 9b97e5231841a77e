"""Dominators: Heapy's x.dominos / x.domisize / x.imdom, and the whole-heap dominator
tree (retained sizes, largest retainers, leak suspects) checked against them."""

from __future__ import annotations

import gc
import random
import sys

import pytest

BIG: list[object] = []


class Payload:
    def __init__(self, i: int) -> None:
        self.i = i
        self.blob = bytearray(64)


def test_dominos_of_a_container(h):
    def build() -> list:
        shared = bytearray(10)
        return [[bytearray(100), shared], shared]

    outer = build()  # no other local may hold its parts: locals are roots
    dom = h.iso(outer[0]).dominos
    # the inner list and its private bytearray; the shared one is still held by outer
    assert dom.count == 2
    assert outer[0][0] in dom and outer[0] in dom and outer[1] not in dom
    assert h.iso(outer[0]).domisize == sys.getsizeof(outer[0]) + sys.getsizeof(outer[0][0])
    whole = h.iso(outer).dominos
    assert whole.count == 4
    size = h.iso(outer).domisize  # before any local holds the parts
    assert size == sum(sys.getsizeof(o) for o in (outer, outer[0], outer[0][0], outer[1]))


def test_imdom_are_the_nearest_referrers(h):
    def build() -> dict:
        t = bytearray(1)
        a = [t]
        return {"a": a, "b": [a, t]}

    d = build()
    t = h.iso(d["a"][0])  # no local refers to the target itself (3.10: frames do)
    # referrers of t: list a and list b; b is reached without passing through a, and a
    # is reached from the dict directly: both are immediate dominators
    assert t.imdom.count == 2
    # a's referrers are the dict and list b; b is only reached through the dict
    imdom = h.iso(d["a"]).imdom
    assert imdom.count == 1 and d in imdom


def test_retained_sizes_agree_with_heapy_domisize(h):
    """The tree (semi-NCA over the whole heap) against dominos (a reachability pass per
    object): two independent computations of what freeing one object gives back."""
    BIG[:] = [Payload(i) for i in range(200)]
    gc.collect()
    x = h.heap()
    tree = h.dominator_tree()
    objects = x.nodes
    rng = random.Random(7)
    sample = rng.sample(objects, 150) + [BIG, BIG[0], BIG[0].blob]
    # Heapy's dominos of each object on the tree's own capture (later captures see the
    # sample list and this frame's locals as new referrers)
    capture = tree._graph
    for obj in sample:
        nodes, found = capture.translate(h.iso(obj)._nodes)
        if not found:
            continue  # created after the tree's capture
        assert tree.retained_size(obj) == nodes.dominos().size, (type(obj), obj if isinstance(obj, (int, str)) else "")
    # the list retains every payload and its bytearray
    retained = tree.dominated(BIG)
    assert all(p in retained and p.blob in retained for p in BIG)
    assert tree.retained_size(BIG) == retained.size
    assert tree.immediate_dominator(BIG[0]) is BIG
    # 3.10 keeps attributes in a real __dict__, which then holds the bytearray
    owner = BIG[0] if sys.version_info >= (3, 11) else vars(BIG[0])
    assert tree.immediate_dominator(BIG[0].blob) is owner
    assert tree.dominated(BIG[0]).count == 2 + (0 if sys.version_info >= (3, 11) else 1)  # + __dict__ on 3.10
    BIG.clear()


def test_largest_retainers_and_leak_suspects(h):
    BIG[:] = [Payload(i) for i in range(20000)]
    table = h.largest_retainers(5)
    assert len(table) == 5
    sizes = [r.retained for r in table]
    assert sizes == sorted(sizes, reverse=True)
    assert any(r.object is BIG for r in table)
    text = str(table)
    assert text.splitlines()[1] == " Index   Retained   %   Objects  Kind: object"
    tree = h.dominator_tree()
    share = tree.retained_size(BIG) / tree.total_size  # the suite's heap size varies
    suspects = h.leak_suspects(min_share=share * 0.9)
    found = [s for s in suspects if s.object is BIG]
    assert len(found) == 1, str(suspects)
    top = found[0]
    assert top.path.endswith("['BIG']"), top.path
    report = str(suspects)
    assert "retains" in report and "kept alive by: " in report and "20000 test_retention.Payload" in report.replace(
        "tests.test_retention", "test_retention"
    )
    with pytest.raises(ValueError):
        h.leak_suspects(min_share=0)
    BIG.clear()


def test_leak_suspects_report_a_container_once(h):
    import types

    module = types.ModuleType("suspect_chain")
    module.CACHE = [bytearray(1000) for _ in range(3000)]
    sys.modules["suspect_chain"] = module
    try:
        # the cache (3 MB) is a suspect at half its share of the heap, however much the
        # rest of the test session has imported
        share = min(0.05, 0.5 * h.iso(module.CACHE).domisize / h.heap().size)
        suspects = h.leak_suspects(min_share=share, limit=10)
        cache = [s for s in suspects if s.object is module.CACHE]
        assert len(cache) == 1, str(suspects)
        assert len({id(s.object) for s in suspects}) == len(suspects)
        # through sys.modules, or (3.12+, equally short) this frame's local `module`
        assert cache[0].path.endswith(".__dict__['CACHE']"), cache[0].path
    finally:
        del sys.modules["suspect_chain"]
