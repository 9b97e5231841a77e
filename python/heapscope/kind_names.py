"""Heapy's names for kinds and its one-line renderings of objects (for byid rows).

Types are named as Heapy names them: builtins by their bare name (``int``), types of
the ``types`` module as ``types.CodeType`` (``module`` and ``function`` stay short),
everything else ``module.name``. Names are computed once per type by the capture.
"""

from __future__ import annotations

import builtins
import os
import reprlib
import types
from typing import Any, Callable, Iterable

from . import _native

_SHORT = {types.ModuleType: "module", types.FunctionType: "function"}
_INV: dict[type, str] = {}
for _k, _v in sorted(types.__dict__.items()):
    if isinstance(_v, type):
        _INV[_v] = f"types.{_k}"
for _k, _v in sorted(builtins.__dict__.items()):
    if isinstance(_v, type):
        _INV[_v] = _k


def type_name(t: type) -> str:
    """Heapy's kind name of a type (a snapshot's type: its recorded name). Never raises
    (hostile metaclasses included)."""
    if type(t) is _native.TypeRef:
        return str(t.name)
    try:
        short = _SHORT.get(t)
        if short is not None:
            return short
        named = _INV.get(t)
        if named is not None:
            return named
    except TypeError:  # unhashable metaclass instance
        pass
    name = type.__dict__["__name__"].__get__(t)
    module = type.__dict__["__module__"].__get__(t)
    if not isinstance(module, str):
        module = _module_from_repr(t)
    if module is None:
        return f"<unknown module>.{name}"
    return f"{module}.{name}"


def _module_from_repr(t: type) -> str | None:
    """The module of a type whose ``__dict__['__module__']`` is not a str (Cython's
    function types keep a member descriptor there): type's own repr (C code, no
    metaclass involved) is ``<class 'module.qualname'>``."""
    try:
        text = type.__repr__(t)
        qualname = type.__dict__["__qualname__"].__get__(t)
    except Exception:
        return None
    head, tail = "<class '", "." + str(qualname) + "'>"
    if text.startswith(head) and text.endswith(tail) and len(text) > len(head) + len(tail):
        return text[len(head) : -len(tail)]
    return None


def _address(x: Any) -> str:
    return hex(id(x))


def _address_len(x: Any) -> str:
    return f"{hex(id(x))}*{len(x)}"


def _code(x: types.CodeType) -> str:
    return f"{os.path.basename(x.co_filename)}:{x.co_firstlineno}:{x.co_name}"


def _frame(x: types.FrameType) -> str:
    return f"<{x.f_code.co_name} at {hex(id(x))}>"


def _function(x: types.FunctionType) -> str:
    return f"{x.__module__}.{x.__name__}"


def _builtin_function(x: types.BuiltinFunctionType) -> str:
    m = x.__module__
    return x.__name__ if m in (None, "builtins") else f"{m}.{x.__name__}"


def _method(x: types.MethodType) -> str:
    cn = type_name(x.__self__.__class__)
    cn = f"<{cn} at {hex(id(x.__self__))}>"
    return f"{cn}.{x.__func__.__name__}"


def _module(x: types.ModuleType) -> str:
    return str(x.__name__)


def _traceback(x: types.TracebackType) -> str:
    return f"<in frame {_frame(x.tb_frame)} at {hex(id(x))}>"


Render = Callable[[Any], str]

# render function, column header, sort key within one size (Heapy's sortrender)
_RENDERS: dict[type, tuple[Render, str]] = {
    bool: (repr, "Value"),
    complex: (repr, "Value"),
    float: (repr, "Value"),
    int: (repr, "Value"),
    type(None): (repr, "Value"),
    dict: (_address_len, "Address*Length"),
    list: (_address_len, "Address*Length"),
    tuple: (_address_len, "Address*Length"),
    types.BuiltinFunctionType: (_builtin_function, "Name"),
    types.CodeType: (_code, "File:Line:Name"),
    types.FrameType: (_frame, "Name at Address"),
    types.FunctionType: (_function, "Name"),
    types.MethodType: (_method, "Type/<Type at address> . method"),
    types.ModuleType: (_module, "Name"),
    types.TracebackType: (_traceback, "Frame at Address"),
    bytes: (reprlib.repr, "Representation (limited)"),
    str: (reprlib.repr, "Representation (limited)"),
    type: (type_name, "Name"),
}


def _proxy_render(x: Any) -> str:
    """A snapshot object's rendering: the text the dump recorded (values, module
    names; ``*length`` after the address for containers), else its address."""
    text = x.text
    if text is None:
        return hex(x.address)
    if text.startswith("*"):  # a container's length, shown after its address
        return hex(x.address) + text
    return text


#: The column headers by kind name, for a snapshot's types.
_HEADERS_BY_NAME = {type_name(t): header for t, (_fn, header) in _RENDERS.items()}


def renderer(t: type) -> tuple[Render, str]:
    """How Heapy renders one object of type ``t`` in a byid row, and the column header."""
    if type(t) is _native.TypeRef:
        return (_proxy_render, _HEADERS_BY_NAME.get(t.name, "Address"))
    found = _RENDERS.get(t)
    if found is not None:
        return found
    if isinstance(t, type) and issubclass(t, type):
        return (type_name, "Name")
    return (_address, "Address")


def render(x: Any) -> str:
    """One object's byid rendering; never raises."""
    if type(x) is _native.NodeProxy:
        return _proxy_render(x)
    fn, _ = renderer(type(x))
    try:
        return fn(x)
    except Exception:  # noqa: BLE001 - a hostile object must not break a table
        return _address(x)


_BY_VALUE = (int, float, bool, str, bytes)


def sort_style(t: type) -> str:
    """How Heapy's sortrender orders objects of exactly type ``t`` within one size:
    ``value`` (real numbers, strings, bytes), ``address`` (kinds rendered by address)
    or ``render`` (by their rendering)."""
    if type(t) is _native.TypeRef:
        # a snapshot has texts, not values: values sort by their text
        return "render" if _HEADERS_BY_NAME.get(t.name, "Address") != "Address" else "address"
    if any(t is v for v in _BY_VALUE):
        return "value"
    return "address" if renderer(t)[1].startswith("Address") else "render"


def sort_key(x: Any) -> Any:
    """Order within one size class, as Heapy's sortrender (see :func:`sort_style`)."""
    style = sort_style(type(x))
    if style == "value":
        return (0, x)
    if style == "address":
        return (1, id(x))
    return (2, render(x))


def module_dict_names(dicts: Iterable[Any]) -> list[str] | None:
    """The names of the modules (in ``sys.modules``) whose ``__dict__`` each of ``dicts``
    is, as Heapy names a ``dict of module`` in a summary; None when one is not found
    there. Dict pointers are read without materialising anything."""
    import sys

    from ._native import owned_dict

    modules = {}
    for m in list(sys.modules.values()):
        if type(m) is types.ModuleType:
            modules[id(owned_dict(m))] = m
    names = []
    for d in dicts:
        owner = modules.get(id(d))
        if owner is None:
            return None
        names.append(render(owner))
    return names


def join_within(rendered: Iterable[str], max_length: int) -> str:
    """Heapy's member list in a summary: renderings taken in order while they fit in
    ``max_length`` (the last one taken gets ``...`` when some are left out), then sorted
    and joined by ``, ``."""
    strs: list[str] = []
    total = 0
    for rs in rendered:
        if total and total + len(rs) + 2 >= max_length:
            strs[-1] += "..."
            break
        total += len(rs) + 2
        strs.append(rs)
    strs.sort()
    return ", ".join(strs)
