"""Odd objects, deep structures and a broad stdlib heap must never break a capture."""

from __future__ import annotations

import sys

from heapscope import hpy

from .conftest import normalise, table_rows


class Hostile:
    def __getattribute__(self, name):  # noqa: ANN001, ANN204
        raise RuntimeError("no attribute access")

    def __eq__(self, other):  # noqa: ANN001, ANN204
        raise RuntimeError("no comparisons")

    def __hash__(self):  # noqa: ANN204
        raise RuntimeError("no hashing")


class HostileMeta(type):
    def __getattribute__(cls, name):  # noqa: ANN001, ANN204, N805
        if name in ("__name__", "__module__", "__qualname__"):
            raise RuntimeError("hostile metaclass")
        return super().__getattribute__(name)


class WithHostileMeta(metaclass=HostileMeta):
    pass


def test_hostile_objects_are_counted():
    keep = [Hostile() for _ in range(5)] + [WithHostileMeta() for _ in range(3)]
    h = hpy()
    x = h.heap()
    rows = table_rows(x)
    assert rows[f"{__name__}.Hostile"][0] == 5
    assert rows[f"{__name__}.WithHostileMeta"][0] == 3
    assert keep[0] in x
    assert "Hostile" in str(x.byid.all) or x.byid.count > 0


def test_deep_linked_list_does_not_overflow():
    n = 2_000_000  # iterative walk: depth never matters (10M behaves the same, slower)
    head: list | None = None
    for _ in range(n):
        head = [head]
    h = hpy()
    h.setref(light=True)
    node = [head]
    x = h.heap()
    assert table_rows(x.bytype)["list"][0] >= 1
    full = h.heap().count
    h.clearref()
    assert h.heap().count > n
    del head, node, x, full


def test_broad_stdlib_heap():
    import asyncio  # noqa: F401
    import decimal  # noqa: F401
    import email.mime.text  # noqa: F401
    import http.client  # noqa: F401
    import json  # noqa: F401
    import logging.handlers  # noqa: F401
    import sqlite3  # noqa: F401
    import unittest  # noqa: F401
    import xml.etree.ElementTree  # noqa: F401
    import ctypes  # noqa: F401
    import array  # noqa: F401
    import mmap  # noqa: F401

    h = hpy()
    x = h.heap()
    for er in ("byclodo", "bytype", "bysize", "bymodule", "byunity"):
        part = getattr(x, er)
        rows = table_rows(part)
        assert sum(c for c, _ in rows.values()) == x.count
        assert sum(s for _, s in rows.values()) == x.size
    mods = table_rows(x.bymodule)
    assert all(name in mods for name in ("sqlite3", "decimal", "asyncio"))
    u = h.heapu()
    assert u.count >= 0 and str(u)
    assert sys.modules["json"] in x


class RaisingReprKey:
    def __hash__(self) -> int:
        return 1

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


VICTIM: dict[str, object] = {}


class MutatingReprKey:
    """Its repr empties a dict and creates objects while labels are being rendered."""

    def __hash__(self) -> int:
        return 2

    def __repr__(self) -> str:
        VICTIM.clear()
        VICTIM.update({f"k{i}": [i] * 10 for i in range(50)})
        return "MutatingReprKey()"


def test_hostile_dict_keys_while_labelling():
    VICTIM.update({f"v{i}": bytearray(i) for i in range(50)})
    held = {RaisingReprKey(): bytearray(3), MutatingReprKey(): bytearray(4)}
    h = hpy()
    x = h.iso(*held.values())
    rows = sorted(normalise(r.name) for r in x.byvia.rows)
    # keys of user types are shown by type and address: their __repr__ never runs
    assert rows == ["'[<MutatingReprKey object at 0xADDR>]'", "'[<RaisingReprKey object at 0xADDR>]'"], rows
    assert len(VICTIM) == 50 and "v0" in VICTIM
    # the labels of the whole heap survive the mutation too
    whole = h.heap().byvia
    assert len(whole) > 10
