"""The types whose instances are heapscope's own: every live capture hides them.

A capture must not report nor walk through the session's own objects (its sets, kinds,
tables, paths, reference points), or looking would change what is seen. Each such class
registers itself where it is defined (``@hidden_type``); the native types are
registered here. A leaf module (it imports only ``_native``), so the session lists the
hidden types without importing every module that defines one.
"""

from __future__ import annotations

from typing import TypeVar

from . import _native

T = TypeVar("T", bound=type)

_registered: list[type] = []


def hidden_type(cls: T) -> T:
    """Class decorator: instances of ``cls`` and of its subclasses are hidden."""
    if not any(c is cls for c in _registered):
        _registered.append(cls)
    return cls


def hidden_types() -> list[type]:
    """The registered types and their subclasses, without repeats. Read at each capture:
    a subclass made since (a kind defined by a user) is hidden too."""
    out: list[type] = []
    seen: set[int] = set()
    stack = list(reversed(_registered))
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        out.append(t)
        stack.extend(reversed(type.__subclasses__(t)))
    return out


for _t in (
    _native.NodeProxy,
    _native.TypeRef,
    _native.LiveGraph,
    _native.NodeSet,
    _native.ShortestPaths,
    _native.Partition,
    _native.IdRows,
):
    hidden_type(_t)
del _t
