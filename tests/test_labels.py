"""Edge labels (Heapy's relations), checked through paths from a chosen source: every
relation kind the capture shim names, on every supported Python."""

from __future__ import annotations

import functools
import sys
import types

import pytest

from .conftest import table_rows

PY311 = sys.version_info >= (3, 11)


def labels(h, target: object, holder: object) -> list[str]:
    """How ``holder`` refers to ``target``: the shortest paths from it, as text."""
    paths = h.iso(target).get_shpaths(src=h.iso(holder))
    return sorted(str(p) for p in paths.iter())


class Slotted:
    __slots__ = ("a", "b")


class Plain:
    pass


def finished_frame() -> tuple[types.FrameType, Plain, Plain]:
    """A frame object that outlived its call (it then owns its locals), its plain local
    and its cell variable's value; f_locals is never read (that would copy the locals
    into a dict on 3.10-3.12)."""
    local = Plain()
    cellvar = Plain()

    def inner() -> Plain:
        return cellvar

    assert inner() is cellvar
    return sys._getframe(), local, cellvar


def test_containers(h):
    a, b = Plain(), Plain()
    lst = [a, b]
    tup = (a, b)
    d = {"k": a}
    keyed = {Plain: 1}  # non-str keys are traversed (str keys are not: dict_traverse)
    st = {a}
    assert labels(h, b, lst) == ["Src[1]"]
    assert labels(h, b, tup) == ["Src[1]"]
    assert labels(h, a, d) == ["Src['k']"]
    assert labels(h, Plain, keyed) == ["Src.keys()[0]"]
    assert labels(h, a, st) == ["list(Src)[0]"]


def test_instances(h):
    s = Slotted()
    s.a, s.b = Plain(), Plain()
    assert labels(h, s.b, s) == ["Src.b"]
    p = Plain()
    p.x = Plain()
    # 3.11+ keep attributes in managed/inline values (no dict is created by the walk)
    assert labels(h, p.x, p) == (["Src.x"] if PY311 else ["Src.__dict__['x']"])
    assert labels(h, Plain, p) == ["Src->ob_type"]
    p.__dict__  # materialise the dict: now it holds the attribute
    assert labels(h, vars(p), p) == ["Src.__dict__"]


def test_functions_cells_methods(h):
    def outer():
        v = Plain()

        def inner(a=Plain(), *, k=Plain()):
            return v

        return inner

    fn = outer()
    fn.attr = Plain()
    assert labels(h, fn.__code__, fn) == ["Src.__code__"]
    assert labels(h, fn.__closure__, fn) == ["Src.__closure__"]
    assert labels(h, fn.__defaults__, fn) == ["Src.__defaults__"]
    assert labels(h, fn.__kwdefaults__, fn) == ["Src.__kwdefaults__"]
    assert labels(h, fn.__dict__, fn) == ["Src.__dict__"]
    assert labels(h, globals(), fn) == ["Src.__globals__"]
    cell = fn.__closure__[0]
    assert labels(h, cell.cell_contents, cell) == ["Src.cell_contents"]
    p = Plain()
    bound = p.__repr__
    assert labels(h, p, bound) == ["Src.__self__"]
    method = types.MethodType(outer, p)
    assert labels(h, outer, method) == ["Src.__func__"]
    assert labels(h, outer.__code__.co_consts, outer.__code__) == ["Src.co_consts"]
    wrapped = functools.partial(outer, p)
    assert labels(h, p, wrapped) == ["Src.args[0]"]


def test_types_modules_mappingproxy(h):
    class K(Plain):
        pass

    assert labels(h, K.__mro__, K) == ["Src.__mro__"]
    assert labels(h, K.__bases__, K) == ["Src.__bases__"]
    assert labels(h, Plain, K) == ["Src.__base__"]
    assert "Src.__dict__" in [str(p) for p in h.iso(K).pathsout.iter()]
    assert labels(h, vars(types), types) == ["Src.__dict__"]
    d = {"x": 1}
    proxy = types.MappingProxyType(d)
    assert labels(h, d, proxy) == ["Src->mapping"]


def test_frames_tracebacks_exceptions(h):
    frame, local, cellvar = finished_frame()
    assert labels(h, local, frame) == ["Src.f_locals['local']"]
    assert labels(h, frame.f_code, frame) == ["Src.f_code"]
    # the cell variable: the frame holds the cell (note the space), the cell the value
    from_frame = [p for p in labels(h, cellvar, frame) if not p.startswith("Src.f_back")]  # 3.10: our caller
    assert from_frame == ["Src.f_locals ['cellvar'].cell_contents"]
    try:
        raise ValueError(Plain())
    except ValueError as e:
        err = e
    tb = err.__traceback__
    assert labels(h, tb.tb_frame, tb) == ["Src.tb_frame"]
    assert labels(h, tb, err) == ["Src.__traceback__"]
    assert labels(h, err.args, err) == ["Src.args"]


def test_roots_and_local_variables(h):
    assert str(h.iso(sys.modules).sp[0]) == "hpy().Root.i0_modules"
    mine = Plain()
    paths = [str(p) for p in h.iso(mine).sp.iter()]
    # a local of this (running) test function: a root on 3.11+, through its frame on 3.10
    assert paths == ["hpy().Root.thread('MainThread').frame('test_roots_and_local_variables').f_locals['mine']"]


@pytest.mark.parametrize("key", ["name", 3, (1, "x")])
def test_dict_keys_render_with_repr(h, key):
    value = Plain()
    d = {key: value}
    assert labels(h, value, d) == [f"Src[{key!r}]"]


def test_byvia_table_and_via_kinds(h):
    class Node:
        pass

    holder = {"first": Node(), "second": Node()}
    holder["again"] = holder["first"]
    items = [Node(), Node()]
    x = h.iso(*holder.values(), *items)
    assert str(x.byvia).splitlines()[1].endswith(" Referred Via:")
    names = sorted(table_rows(x.byvia))
    # multiply referred objects list every label, sorted, as Heapy's Via rows do
    assert names == sorted(["\"['again']\", \"['first']\"", "\"['second']\"", "'[0]'", "'[1]'"])
    kind = h.Via("['second']")
    assert (x & kind).theone is holder["second"]
    # membership counts every reference, also a local's (and pytest's assertion
    # temporaries): `holder["second"] in kind` is checked without either
    assert eval('holder["second"] in kind', {"holder": holder, "kind": kind})
    assert not eval("items[0] in kind", {"items": items, "kind": kind})
    assert (x & h.Via("_[0]")).theone is items[0]  # Heapy's '_' prefix is accepted
    assert (x & h.Via("['first']").alt(">=")).theone is holder["first"]
    assert (x & h.Via("['first']", "['again']", "[0]").alt("<")).count == 2  # strict subsets
    assert (x & h.Via("['nothing']")).count == 0
    assert repr(kind) == "hpy().Via(\"['second']\")"
    assert eval(repr(kind), {"hpy": lambda: h}) == kind
    assert len(x.byvia) == 4
    assert (x & x.byvia.kind).count == x.count
    assert (x & x.byvia[0].kind).count == 1
    with pytest.raises(TypeError):
        h.Via(3)
