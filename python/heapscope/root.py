"""``h.Root``: the interpreter's root members, the first step of every path.

Members are named as Heapy names them: ``i0_modules``, ``i0_sysdict``, ``i0_builtins``,
... for the interpreter and ``i0_t<thread id>_<field>`` for each thread. A thread's
frames are ``i0_t<tid>_f<n>`` (n = 0 for the most recent frame; the capture may add the
code's name: ``i0_t<tid>_f<n>:<co_name>``), with their members after it:
``.f_locals['x']``, ``.f_locals ['x']`` (a cell), ``.f_code``, ``.f_func``,
``.f_globals``, ``->f_valuestack[i]``, or nothing for the frame object itself. On 3.11+ a
frame that has no frame object is not given one (that would change the heap): its
members are reached here through a read-only :class:`FrameMembers` view.

Paths print thread members by thread name and frames by function name::

    h.Root.thread('MainThread').frame('handler').f_locals['x']
    h.Root.thread('worker-1').exc_value
    h.Root.thread(140087351662272).frame('walk', 3).f_locals['node']

``thread(...)`` takes the thread's name from threading's registry when that name is
unique among the running threads, else its id (``threading.get_ident()``).
``frame('handler')`` names the frame by its function when only one frame of that thread
runs that function; otherwise ``frame('walk', 3)`` adds the frame's number (0 = most
recent, heapscope's own frames not counted); ``frame(3)`` when the function is unknown.
The same calls on ``h.Root`` evaluate back to the frame (its frame object when it has
one) while the thread still runs it. Rendering looks names up without running user code
(plain reads of threading's registry and of the objects' own attributes).
"""

from __future__ import annotations

import os
import re
import sys
import types
from typing import Any, Callable, Iterable, NamedTuple

from . import _native
from .hidden import hidden_type

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

_THREAD_MEMBER = re.compile(r"i(\d+)_t(\d+)_(.+)\Z", re.S)
# f<n>, an optional :<co_name>, then the member (.f_x, .f_locals['x'], ->f_valuestack[i])
_FRAME = re.compile(r"f(\d+)(?::(.*?))?((?:\.f_\w+(?: ?\[.*\])?|->f_valuestack\[\d+\])?)\Z", re.S)
_LOCAL = re.compile(r"f_locals ?\['(.*)'\]\Z", re.S)


class RootName(NamedTuple):
    """A root member's name, parsed. ``thread`` is None for an interpreter member;
    ``frame`` is None for a thread member that is not a frame's."""

    name: str
    thread: int | None
    field: str  # the interpreter's or the thread's member ('modules', 'dict'); '' for frames
    frame: int | None
    co_name: str | None  # from the name (:<co_name>), when given
    member: str  # after the frame: '.f_locals['x']', '->f_valuestack[2]', '' (the frame)

    @property
    def head(self) -> str:
        """The frame's name without its code name and member: ``i0_t<tid>_f<n>``."""
        m = _THREAD_MEMBER.match(self.name)
        assert m is not None and self.frame is not None
        return f"i{m.group(1)}_t{self.thread}_f{self.frame}"


def parse_root(name: str) -> RootName:
    m = _THREAD_MEMBER.match(name)
    if m is None:
        field = name.split("_", 1)[1] if re.match(r"i\d+_", name) else name
        return RootName(name, None, field, None, None, "")
    tid, rest = int(m.group(2)), m.group(3)
    f = _FRAME.match(rest)
    if f is None:
        return RootName(name, tid, rest, None, None, "")
    return RootName(name, tid, "", int(f.group(1)), f.group(2), f.group(3))


# -- reading names without running user code ------------------------------------------


def _plain_attr(obj: object, name: str) -> Any:
    """``obj``'s own attribute ``name`` when no class of it defines ``name`` (so no
    descriptor or property can run); None otherwise."""
    try:
        mro = type.__dict__["__mro__"].__get__(type(obj))
        for klass in mro:
            if name in type.__dict__["__dict__"].__get__(klass):
                return None
        return object.__getattribute__(obj, name)
    except Exception:
        return None


def _threads() -> dict[int, object]:
    """threading's registry of running threads ({ident: Thread}), read as plain dicts."""
    mod = sys.modules.get("threading")
    if not isinstance(mod, types.ModuleType):
        return {}
    active = types.ModuleType.__dict__["__dict__"].__get__(mod).get("_active")
    return dict(active) if type(active) is dict else {}


def thread_names() -> dict[int, str]:
    """The running threads' names by id, from threading's registry."""
    names: dict[int, str] = {}
    for ident, thread in _threads().items():
        name = _plain_attr(thread, "_name")
        if type(ident) is int and type(name) is str:
            names[ident] = name
    return names


def _code_name(obj: object) -> str | None:
    """The function name of a frame object or code object."""
    if isinstance(obj, types.FrameType):
        obj = obj.f_code
    if isinstance(obj, types.CodeType):
        return obj.co_name
    return None


def _frames_of(roots: Iterable[tuple[str, Any]]) -> dict[int, dict[int, str | None]]:
    """{thread id: {frame number: function name or None}} over root members given as
    ``(name, object or None)``: the name from ``:<co_name>``, else from the frame object
    or its ``.f_code`` member."""
    frames: dict[int, dict[int, str | None]] = {}
    for name, obj in roots:
        r = parse_root(name)
        if r.thread is None or r.frame is None:
            continue
        known = frames.setdefault(r.thread, {})
        co = r.co_name
        if co is None and obj is not None and r.member in ("", ".f_code"):
            co = _code_name(obj)
        if known.get(r.frame) is None:
            known[r.frame] = co
    return frames


class RootNamer:
    """Writes root members as paths show them (``.i0_modules``,
    ``.thread('MainThread').frame('handler').f_locals['x']``); built once per path set
    from the capture's root members."""

    def __init__(self, roots: Iterable[tuple[str, Any]], threads: dict[int, str] | None = None) -> None:
        """``threads``: the thread names by id (None: from the running interpreter)."""
        self._frames = _frames_of(roots)
        names = thread_names() if threads is None else threads
        counts: dict[str, int] = {}
        for n in names.values():
            counts[n] = counts.get(n, 0) + 1
        self._threads = {t: n for t, n in names.items() if counts[n] == 1}

    def thread(self, tid: int) -> str:
        name = self._threads.get(tid)
        return f"thread({name!r})" if name is not None else f"thread({tid})"

    def frame(self, tid: int, n: int) -> str:
        frames = self._frames.get(tid, {})
        co = frames.get(n)
        if co is None:
            return f"frame({n})"
        if sum(1 for c in frames.values() if c == co) == 1:
            return f"frame({co!r})"
        return f"frame({co!r}, {n})"

    def text(self, name: str) -> str:
        """The root member as it follows ``h.Root`` in a path."""
        r = parse_root(name)
        if r.thread is None:
            return "." + name
        if r.frame is None:
            return f".{self.thread(r.thread)}.{r.field}"
        return f".{self.thread(r.thread)}.{self.frame(r.thread, r.frame)}{r.member}"


# -- evaluating h.Root... ---------------------------------------------------------------


class FrameMembers:
    """The named members of one live frame that has no frame object: ``.f_code``,
    ``.f_func``, ``.f_globals``, ``.f_builtins``, and ``.f_locals``, a read-only mapping
    of its local and cell variables (or its own ``f_locals`` dict when it has one and no
    fast locals, as a module's frame)."""

    __slots__ = ("name", "members")

    def __init__(self, name: str, members: dict[str, Any]) -> None:
        self.name = name
        self.members = members

    def __getattr__(self, attr: str) -> Any:
        if attr == "f_locals":
            fast = {}
            for key, value in self.members.items():
                m = _LOCAL.match(key)
                if m is not None:
                    fast[m.group(1)] = value
            if not fast and "f_locals" in self.members:
                return self.members["f_locals"]
            return types.MappingProxyType(fast)
        try:
            return self.members[attr]
        except KeyError:
            raise AttributeError(attr) from None

    def __dir__(self) -> list[str]:
        return sorted(set(self.members) | {"f_locals"})

    def __repr__(self) -> str:
        return f"<frame members {self.name}: {', '.join(sorted(self.members))}>"


def _live_members() -> list[tuple[str, Any]]:
    return list(_native.root_members(PACKAGE_DIR))


class ThreadRoot:
    """One thread's root members: ``.frame(...)`` and the thread state's members
    (``.dict``, ``.exc_value``, ``.context``, ...); live, or a snapshot's."""

    __slots__ = ("ident", "_roots")

    def __init__(self, ident: int, roots: Callable[[], list[tuple[str, Any]]] = _live_members) -> None:
        self.ident = ident
        self._roots = roots

    def _members(self) -> list[tuple[RootName, Any]]:
        out = []
        for name, obj in self._roots():
            r = parse_root(name)
            if r.thread == self.ident:
                out.append((r, obj))
        return out

    @property
    def frames(self) -> list[tuple[int, str | None]]:
        """``(number, function name)`` of the thread's frames, most recent first."""
        members = [(r.name, obj) for r, obj in self._members()]
        return sorted(_frames_of(members).get(self.ident, {}).items())

    def frame(self, key: int | str, index: int | None = None) -> Any:
        """The frame numbered ``key`` or running the function named ``key`` (``index``
        picks one of several): its frame object if it has one, else its members."""
        members = self._members()
        named = _frames_of((r.name, obj) for r, obj in members).get(self.ident, {})
        if isinstance(key, int):
            number = key
        else:
            numbers = [n for n, co in named.items() if co == key]
            if index is not None:
                numbers = [n for n in numbers if n == index]
            if len(numbers) != 1:
                known = ", ".join(f"{n}: {co}" for n, co in sorted(named.items()))
                what = "no frame" if not numbers else "several frames"
                raise LookupError(f"{what} of thread {self.ident} running {key!r} (frames: {known})")
            number = numbers[0]
        if number not in named:
            raise LookupError(f"thread {self.ident} has no frame {number}")
        parts: dict[str, Any] = {}
        head = ""
        for r, obj in members:
            if r.frame != number:
                continue
            head = r.head
            if r.member == "":
                return obj  # the frame object
            parts[r.member[1:] if r.member.startswith(".") else r.member] = obj
        return FrameMembers(head, parts)

    def __getattr__(self, field: str) -> Any:
        for r, obj in self._members():
            if r.frame is None and r.field == field:
                return obj
        raise AttributeError(f"thread {self.ident} has no root member {field!r}")

    def __dir__(self) -> list[str]:
        return sorted({r.field for r, _ in self._members() if r.frame is None} | {"frame", "frames"})

    def __repr__(self) -> str:
        return f"<heapscope thread root {self.ident}>"


_HEAPTYPE = 1 << 9


class StaticTypes:
    """``h.Root.i0_types``: the interpreter's static (C-defined, non-heap) types by their
    C name (``tp_name``: ``'int'``, ``'numpy.ndarray'``). A static type that nothing in the
    heap references is kept by the interpreter itself, so paths to it start here. Found
    through the subclass registries from ``object``, read with ``type``'s own
    descriptors (no metaclass code runs)."""

    __slots__ = ()

    @staticmethod
    def _all() -> dict[str, type]:
        attr = type.__dict__
        found: dict[str, type] = {}
        seen: set[int] = set()
        stack: list[type] = [object]
        while stack:
            t = stack.pop()
            if id(t) in seen:
                continue
            seen.add(id(t))
            stack.extend(attr["__subclasses__"](t))
            if attr["__flags__"].__get__(t) & _HEAPTYPE:
                continue
            module = attr["__module__"].__get__(t)
            name = attr["__name__"].__get__(t)
            c_name = name if module == "builtins" or type(module) is not str else f"{module}.{name}"
            found.setdefault(c_name, t)
        return found

    def __getitem__(self, name: str) -> type:
        try:
            return self._all()[name]
        except KeyError:
            raise KeyError(f"no static type named {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._all()

    def keys(self) -> list[str]:
        return sorted(self._all())

    def __repr__(self) -> str:
        return f"<heapscope static types: {len(self._all())}>"


@hidden_type
class RootState:
    """View of the root members: of the running interpreter (looked up afresh on each
    access), or of a snapshot (``roots``: its root members; ``threads``: its thread
    names)."""

    __slots__ = ("_roots", "_threads")

    def __init__(
        self,
        roots: Callable[[], list[tuple[str, Any]]] = _live_members,
        threads: Callable[[], dict[int, str]] = thread_names,
    ) -> None:
        self._roots = roots
        self._threads = threads

    def _members(self) -> dict[str, Any]:
        top: dict[str, Any] = {}
        frames: dict[str, dict[str, Any]] = {}
        for name, obj in self._roots():
            r = parse_root(name)
            if r.frame is None:
                top.setdefault(name, obj)
                continue
            # a frame as named (i0_t<tid>_f<n>:<co_name>) and without its code's name
            heads = (name[: len(name) - len(r.member)], r.head)
            for head in heads:
                if r.member:
                    key = r.member[1:] if r.member.startswith(".") else r.member
                    frames.setdefault(head, {})[key] = obj
                else:
                    top.setdefault(head, obj)
        for head, members in frames.items():
            top.setdefault(head, FrameMembers(head, members))
        return top

    def thread(self, key: int | str) -> ThreadRoot:
        """A thread's root members, by its name (unique among the running threads) or
        its id."""
        if isinstance(key, int):
            return ThreadRoot(key, self._roots)
        idents = [t for t, n in self._threads().items() if n == key]
        if len(idents) != 1:
            what = "no running thread" if not idents else "several running threads"
            raise LookupError(f"{what} named {key!r}: use its id, h.Root.thread(ident)")
        return ThreadRoot(idents[0], self._roots)

    def __dir__(self) -> list[str]:
        return sorted(self._members()) + ["i0_types", "thread"]

    def __getattr__(self, name: str) -> Any:
        if name == "i0_types":
            if self._roots is _live_members:
                return StaticTypes()
            head = "i0_types['"
            return {n[len(head) : -2]: obj for n, obj in self._roots() if n.startswith(head)}
        members = self._members()
        try:
            return members[name]
        except KeyError:
            raise AttributeError(f"no root member {name!r}") from None

    def __repr__(self) -> str:
        return "<heapscope root: " + ", ".join(sorted(self._members())[:6]) + ", ...>"
