"""Leak checks that explain themselves: ``assert_no_leaks`` and the pytest plugin's engine.

A check runs the code once to warm caches (``warmup`` rounds), takes a reference point,
runs it ``rounds`` more times and takes a census of what survived. Kinds with at least
one survivor per round, and one more per round over the second half, grew with the
rounds: those are the leak. The report gives, per kind, whole counts and sizes per
round, and for the largest kinds the shortest reference path that keeps them alive and
the size that freeing them would give back. It holds no object and no address, so it
reads the same from run to run and fits in a CI log.

::

    with heapscope.assert_no_leaks(rounds=100) as rounds:
        for _ in rounds:                             # a warm-up round, then 100 checked
            handle_request()

    @heapscope.assert_no_leaks(rounds=5)            # warm-up call + 5 checked calls
    def test_handler():
        handle_request()

Not reported:

* objects that existed before the reference point (fixtures, caches filled by the
  warm-up);
* what the test runner keeps: objects of pytest's or pluggy's types, of their code
  (functions, generators, running frames), and what those keep directly or through
  containers that only they and other containers refer to: lists, tuples, dicts,
  sets, bound methods and cells (pytest's warning recorder list, which ``warnings``
  reaches through a bound ``append``; captured log records). A module's list that the
  runner happens to refer to stays the module's;
* what a bounded cache holds: ``functools.lru_cache(maxsize=N)`` wrappers and the
  standard library's bounded caches (``re._cache``, ...); a container that looks like
  a cache but is not known to be bounded is reported with a note on how to allow it;
* ``allow=``: kinds (``h.Type(dict)``), types or kind names (``"logging.LogRecord"``)
  to ignore, and containers (any other object, such as ``re._cache`` or an
  ``lru_cache``-decorated function) whose contents are ignored: what only they keep.
"""

from __future__ import annotations

import functools
import gc
import itertools
import os
import re
import sys
import types
from collections import deque
from typing import Any, Callable, Iterable, NamedTuple, TypeVar

from .errors import HeapscopeError
from .hidden import hidden_type

#: Kinds reported with a path and retained size (the rest are listed only).
EXPLAINED_KINDS = 3
#: Packages of the test runner: objects of their types and of their code are the runner's
#: (heapscope's own objects are hidden and its frames skipped by every capture).
RUNNER_PACKAGES = ("_pytest", "pytest", "pluggy")
#: The standard library's module-level caches that never grow past a maximum size
#: (``(module, global)``; absent ones are skipped). ``lru_cache`` wrappers with a
#: ``maxsize`` (``re._compile_template``, ``fnmatch._compile_pattern``, typing's caches)
#: are recognised by type.
BOUNDED_STDLIB_CACHES = (
    ("re", "_cache"),  # 512 compiled patterns (3.12+: LRU)
    ("re", "_cache2"),  # 3.12+: 256 more, FIFO
    ("_strptime", "_regex_cache"),  # 5 format regexes, cleared when full
    ("urllib.parse", "_parse_cache"),  # 3.10: 20 urlsplit results, cleared when full
)
#: Standard-library objects whose lists stay bounded: a ``sqlite3.Connection`` keeps weak
#: references to its cursors (and statements, blobs) in lists it purges of dead ones
#: every 200 creations.
BOUNDED_STDLIB_LISTS = (("_sqlite3", "Connection"),)
#: Words in a container's name or type that make it look like a cache.
CACHE_WORDS = re.compile(r"cache|memo|lru", re.IGNORECASE)

F = TypeVar("F", bound=Callable[..., Any])


class LeakError(HeapscopeError, AssertionError):
    """Objects survived the rounds of a leak check; the message explains why."""

    def __init__(self, report: LeakReport, note: str | None = None) -> None:
        super().__init__(str(report) if note is None else f"{report}\n{note}")
        self.report = report


@hidden_type
class LeakedKind(NamedTuple):
    """One kind that grew with the rounds (``count``/``size``: over all the rounds)."""

    name: str
    count: int
    size: int
    path: str | None  # shortest path from the roots (rendered), for explained kinds
    retained: int | None  # bytes freed with them (their dominos), for explained kinds
    note: str | None = None  # e.g. the container looks like a cache: how to allow it


@hidden_type
class LeakReport:
    """What a leak check found; ``str()`` is the failure message."""

    def __init__(self, what: str, rounds: int, kinds: list[LeakedKind], warmup: int = 1) -> None:
        self.what = what
        self.rounds = rounds
        self.kinds = kinds
        self.warmup = warmup

    def __bool__(self) -> bool:
        return bool(self.kinds)

    def __str__(self) -> str:
        if not self.kinds:
            return f"heapscope: no object kind grew over {self.rounds} rounds of {self.what}"
        count = sum(k.count for k in self.kinds)
        size = sum(k.size for k in self.kinds)
        # whole numbers per round: a kind counts when it has at least one per round
        lines = [
            f"heapscope: {self.what} leaks {count // self.rounds} objects ({size // self.rounds} bytes) "
            f"per round over {self.rounds} rounds ({count} objects, {size} bytes in all)"
            + ("" if self.warmup else ", without a warm-up round")
            + "; kinds that grew with the rounds:",
            "      Count   Size  per round, kind",
        ]
        for k in self.kinds:
            lines.append(f"  {k.count // self.rounds:9d} {k.size // self.rounds:6d}  {k.name}")
        for k in self.kinds:
            if k.path is None:
                continue
            lines.append(f"Why {k.name} is alive:")
            lines.append(f"  kept alive by: {k.path}")
            lines.append(f"  retained: {k.retained} bytes would be freed with them")
            if k.note:
                lines.append(f"  note: {k.note}")
        if not self.warmup:
            lines.append(
                "(no warm-up round: one-time costs of the first round, such as lazy imports, count; "
                "iterate the rounds in the block, `with assert_no_leaks(rounds=n) as rounds: for _ in rounds: ...`, "
                "to have one)"
            )
        return "\n".join(lines)

    __repr__ = __str__


# -- reading objects without running their code -----------------------------------------

_MODULE_DICT: Any = vars(types.ModuleType)["__dict__"]
_TYPE_NAME: Any = vars(type)["__name__"]
_TYPE_MODULE: Any = vars(type)["__module__"]
_CODE_ATTR = {
    types.FunctionType: "__code__",
    types.GeneratorType: "gi_code",
    types.CoroutineType: "cr_code",
    types.AsyncGeneratorType: "ag_code",
    types.FrameType: "f_code",
}


def _module_globals(name: str) -> dict[str, Any]:
    """The globals of the module ``sys.modules[name]`` (empty when absent), read through
    the module type's own descriptor."""
    module = sys.modules.get(name)
    if not issubclass(type(module), types.ModuleType):  # no attribute of it is looked up
        return {}
    namespace = _MODULE_DICT.__get__(module)
    return namespace if type(namespace) is dict else {}


def _runner_dirs() -> tuple[str, ...]:
    """The directories of the runner's packages that are imported."""
    dirs = []
    for name in RUNNER_PACKAGES:
        file = _module_globals(name).get("__file__")
        if type(file) is str:
            dirs.append(os.path.dirname(os.path.abspath(file)) + os.sep)
    return tuple(dirs)


def _code_file(obj: object) -> str:
    """The file of the code a function, generator, coroutine or frame runs ('' for
    other objects). These types cannot be subclassed: their own descriptors answer."""
    attr = _CODE_ATTR.get(type(obj))
    code = getattr(obj, attr, None) if attr is not None else None
    return code.co_filename if type(code) is types.CodeType else ""


def _in_runner(type_or_kind_name: str) -> bool:
    return type_or_kind_name.split(".", 1)[0] in RUNNER_PACKAGES


def _runner_object(obj: object, dirs: tuple[str, ...]) -> bool:
    """An instance of a runner's type, or a function/generator/frame of its code."""
    module = _TYPE_MODULE.__get__(type(obj))  # type's own descriptor: no metaclass code
    return (type(module) is str and _in_runner(module)) or bool(dirs and _code_file(obj).startswith(dirs))


# -- what is left out -------------------------------------------------------------------


def _runner_owners(everything: Any, dirs: tuple[str, ...]) -> tuple[Any, list[str]]:
    """The runner's objects in a capture with edges, as a native set: instances of its
    types (and their ``__dict__``s), its functions, generators and frames; and the names
    of the root members of its running frames (on 3.11+ frames are root members, not
    objects)."""
    from .root import parse_root

    h = everything._session
    graph = everything._nodes.graph
    owners = graph.set_of([])
    part = everything._nodes.partition("Clodo")
    for i, (name, _count, _size, _obj) in enumerate(part.rows()):
        if _in_runner(name[len("dict of ") :] if name.startswith("dict of ") else name):
            owners = owners.union(part.rows_set(i, i + 1))
    if not dirs:
        return owners, []
    coded = everything & (
        h.Type(types.FunctionType)
        | h.Type(types.GeneratorType)
        | h.Type(types.CoroutineType)
        | h.Type(types.AsyncGeneratorType)
        | h.Type(types.FrameType)
    )
    owners = owners.union(graph.set_of([o for o in coded.nodes if _code_file(o).startswith(dirs)]))
    members = [(parse_root(name), obj) for name, obj in graph.roots()]
    frames = set()
    for r, obj in members:
        if r.frame is not None and r.member in ("", ".f_code"):
            code = obj.f_code if type(obj) is types.FrameType else obj
            if type(code) is types.CodeType and code.co_filename.startswith(dirs):
                frames.add((r.thread, r.frame))
    return owners, [r.name for r, _ in members if r.frame is not None and (r.thread, r.frame) in frames]


def _containers(everything: Any) -> Any:
    """The objects through which an owner keeps what they hold: lists, tuples, sets,
    deques, dicts that are nobody's ``__dict__``, cells and bound methods."""
    h = everything._session
    kinds = (
        h.Clodo(dictof=())
        | h.Type(list)
        | h.Type(tuple)
        | h.Type(set)
        | h.Type(frozenset)
        | h.Type(deque)
        | h.Type(types.CellType)
        | h.Type(types.MethodType)
        | h.Type(types.BuiltinMethodType)
    )
    return (everything & kinds)._nodes


def _lru_maxsize(wrapper: object) -> int | None:
    """The maxsize of a ``functools.lru_cache`` wrapper (None: unbounded or unknown),
    from the C wrapper's own ``cache_info`` (it runs functools' namedtuple only)."""
    lru_type = getattr(functools, "_lru_cache_wrapper", None)
    if not isinstance(lru_type, type) or type(wrapper) is not lru_type:
        return None
    try:
        maxsize = vars(lru_type)["cache_info"](wrapper).maxsize
    except Exception:
        return None
    return maxsize if type(maxsize) is int else None


def _bounded_lru_contents(everything: Any, survivors: Any) -> Any:
    """What the bounded ``lru_cache`` wrappers of the heap refer to, except their
    function and ``__dict__``: their cache dict, keys and results (native set)."""
    from . import _native

    graph = everything._nodes.graph
    lru_type = getattr(functools, "_lru_cache_wrapper", None)
    if not isinstance(lru_type, type):
        return graph.set_of([])
    wrappers = []
    inner = []
    # a wrapper made during the rounds is itself a survivor (a leak), not a known cache
    for w in (everything & everything._session.Type(lru_type)).nodes:
        if survivors.contains_object(w) or _lru_maxsize(w) is None:
            continue
        attrs = _native.owned_dict(w)
        wrapped = attrs.get("__wrapped__") if type(attrs) is dict else None
        if wrapped is None:
            continue  # its function is not known: not left out
        wrappers.append(w)
        inner += [attrs, wrapped]
    if not wrappers:
        return graph.set_of([])
    return graph.set_of(wrappers).referents().difference(graph.set_of(inner))


def _known_caches(registries: bool) -> list[Any]:
    """The standard library's bounded module-level caches and, when ``registries``,
    every module's ``__warningregistry__`` (the "default" action's record of the
    warnings already shown: cleared whenever the warning filters change, which pytest
    does for every test)."""
    found = []
    for module, name in BOUNDED_STDLIB_CACHES:
        value = _module_globals(module).get(name)
        if type(value) is dict:
            found.append(value)
    if registries:
        for name in list(sys.modules):
            value = _module_globals(name).get("__warningregistry__") if type(name) is str else None
            if type(value) is dict:
                found.append(value)
    return found


def _bounded_lists(everything: Any) -> Any:
    """The lists that the standard library's objects of ``BOUNDED_STDLIB_LISTS`` refer
    to (native set)."""
    h = everything._session
    graph = everything._nodes.graph
    found = graph.set_of([])
    for module, name in BOUNDED_STDLIB_LISTS:
        cls = _module_globals(module).get(name)
        if isinstance(cls, type):
            holders = everything & h.Type(cls)
            if holders.count:
                found = found.union((holders.referents & h.Type(list))._nodes)
    return found


def _left_out(survivors: Any, allow_objects: list[Any], registries: bool) -> Any:
    """The survivors less what the runner, bounded caches and allowed containers keep
    (in one capture with edges)."""
    from .identity_set import IdentitySet

    h = survivors._session
    nodes = h._in_edge_graph(survivors._nodes)
    graph = nodes.graph
    everything = IdentitySet(graph.full(), h)
    owners, owner_roots = _runner_owners(everything, _runner_dirs())
    # caches and allowed containers are owners too: what the runner and they keep
    # together (a warning's message, recorded by pytest and a key of a warning registry)
    # is left out as well
    owners = owners.union(graph.set_of(_known_caches(registries) + allow_objects))
    owners = owners.union(_bounded_lru_contents(everything, nodes)).union(_bounded_lists(everything))
    held = owners.kept_through(_containers(everything), owner_roots)
    return IdentitySet(nodes.difference(held), h)


# -- explaining a kind ------------------------------------------------------------------


def _stable(path: str) -> str:
    """A path without run-specific parts: thread ids in root names (a thread named only
    by its id), addresses in the reprs of dict keys."""
    path = re.sub(r"\.i0_t\d+_", ".i0_t<tid>_", path)
    path = re.sub(r"\.thread\(\d+\)", ".thread(<tid>)", path)
    return re.sub(r"0x[0-9a-fA-F]+", "0x...", path)


def _is_allowed(name: str, allow: Iterable[Any]) -> bool:
    for a in allow:
        if isinstance(a, str) and a == name:
            return True
        if isinstance(a, type) and name in (a.__qualname__, f"{a.__module__}.{a.__qualname__}"):
            return True
    return False


def _held_by_runner(path: Any, dirs: tuple[str, ...]) -> bool:
    """Whether a path passes through the test runner's objects (pytest's items, log
    capture, stash, its functions and generators; pluggy; heapscope) or starts in one
    of their modules: what only they keep is theirs."""
    if any(_runner_object(obj, dirs) for obj in path.objects):
        return True
    head = path.brief.split(".__dict__", 1)[0]
    return any(f"['{m}']" in head or f"['{m}." in head for m in (*RUNNER_PACKAGES, "heapscope"))


def _readable_path(sp: Any) -> Any:
    """Among the first shortest paths, one through ``sys.modules`` if there is one: of
    equally short paths it is the one a reader recognises (``i0_modules['app']...``)."""
    first = None
    for p in sp.iter(0, 32):
        if first is None:
            first = p
        if ".i0_modules[" in p.brief:
            return p
    return first


def _expression(path: str) -> str:
    """A path to a module global written as Python (``re._cache``,
    ``app.Service.lookup``); other paths as they are (they evaluate with heapscope)."""
    m = re.match(r"(?:\w+\(\)\.)?Root\.i0_modules\['([A-Za-z_][\w.]*)'\]((?:\.__dict__\['[A-Za-z_]\w*'\])+)\Z", path)
    if m is None:
        return path
    return m.group(1) + "".join("." + n for n in re.findall(r"\['(\w+)'\]", m.group(2)))


def _cache_note(chosen: Any, survivors: Any) -> str | None:
    """A note when what holds the leaked objects looks like a cache, saying how to allow
    it. The holder is the last object on the path older than the reference point (or
    the last ``lru_cache`` wrapper among those: its cache dict is no name to allow)."""
    older = list(itertools.takewhile(lambda obj: not survivors._contains(obj), chosen.objects))
    lru_type = getattr(functools, "_lru_cache_wrapper", None)
    wrappers = [obj for obj in older if type(obj) is lru_type]
    holder = wrappers[-1] if wrappers else older[-1] if older else None
    if holder is None:
        return None
    path = _readable_path(survivors._session.iso(holder).sp)
    where = _expression(_stable(path.brief)) if path is not None else "the container"
    if wrappers:
        if _lru_maxsize(holder) is not None:
            return None
        return (
            f"{where} is an unbounded functools.lru_cache (maxsize=None): every distinct call stays "
            f"cached (on a method: every self); give it a maxsize, or leave out what it holds with "
            f"allow=[{where}]"
        )
    last_step = re.split(r"\.|->|\[", where)[-1]
    if not CACHE_WORDS.search(last_step + " " + _TYPE_NAME.__get__(type(holder))):
        return None
    return (
        f"{where} looks like a cache: if it is bounded (it stops growing at a maximum size), "
        f"leave out what it holds with allow=[{where}]"
    )


def _report(
    h: Any,
    rounds: int,
    allow: Iterable[Any],
    what: str,
    mid: tuple[list[int], list[int]] | None = None,
    warmup: int = 1,
    registries: bool = False,
) -> LeakReport:
    """The kinds among the survivors with at least one object per round (and, given the
    census ``mid`` taken before the last ``rounds - rounds // 2`` rounds as address/type
    pairs, with at least one object per such round born after it)."""
    from .kinds import UniSet

    allow = list(allow)
    kinds_allowed = [a for a in allow if isinstance(a, UniSet)]
    objects_allowed = [a for a in allow if not isinstance(a, (str, type, UniSet))]
    survivors = h.heap()
    for k in kinds_allowed:
        survivors = survivors - k
    survivors = _left_out(survivors, objects_allowed, registries)
    late: dict[str, int] | None = None
    if mid is not None:
        born = survivors._wrap(survivors._nodes.without_pairs(*mid))
        late = {r.name: r.count for r in born.rows}
    second = rounds - rounds // 2
    dirs = _runner_dirs()
    kinds: list[LeakedKind] = []
    for i, row in enumerate(survivors.rows):
        if row.count < rounds or _is_allowed(row.name, allow):
            continue
        if late is not None and late.get(row.name, 0) < second:
            continue
        leaked = survivors[i]
        path: str | None = None
        retained: int | None = None
        note: str | None = None
        sp = leaked.sp
        if sp.numpaths:
            chosen = _readable_path(sp)
            if _held_by_runner(chosen, dirs):
                continue  # the runner's own records (pytest's, ours)
            text = _stable(chosen.brief)
            explained = [k.path for k in kinds if k.path is not None]
            # a kind reached through an explained kind's objects needs no second story
            if len(explained) < EXPLAINED_KINDS and not any(text.startswith(p) for p in explained):
                path = text
                retained = leaked.domisize
                note = _cache_note(chosen, survivors)
        kinds.append(LeakedKind(row.name, row.count, row.size, path, retained, note))
    return LeakReport(what, rounds, kinds, warmup)


# -- running the rounds -----------------------------------------------------------------


def _count(name: str, value: object, least: int) -> int:
    if type(value) is not int or value < least:
        raise ValueError(f"{name} must be an int >= {least}, not {value!r}")
    return value


@hidden_type
class Rounds:
    """The rounds of one check, as an iterator: ``warmup`` rounds, the reference point,
    ``rounds`` checked rounds (a census of their survivors half way), then
    :meth:`report`. ``for i in rounds: ...`` runs the body once per round."""

    __slots__ = ("_session", "rounds", "warmup", "_next", "_mid", "finished")

    def __init__(self, rounds: int = 5, warmup: int = 1) -> None:
        from .session import hpy

        self.rounds = _count("rounds", rounds, 1)
        self.warmup = _count("warmup", warmup, 0)
        self._session = hpy()
        self._next = 0
        self._mid: tuple[list[int], list[int]] | None = None
        self.finished = False

    def __iter__(self) -> Rounds:
        return self

    def __next__(self) -> int:
        i = self._next
        if i >= self.warmup + self.rounds:
            self.finished = True
            raise StopIteration
        if i == self.warmup:
            self.start()
        elif i == self.warmup + self.rounds // 2:
            # the first half's survivors, without keeping them alive
            self._mid = self._session.heap()._nodes.address_type_pairs()
        self._next = i + 1
        return i

    @property
    def checked(self) -> int:
        """The checked rounds begun so far."""
        return max(0, self._next - self.warmup)

    def start(self) -> None:
        """Takes the reference point now (after collecting garbage)."""
        h = self._session
        h.clearref()
        gc.collect()
        h.setref()

    def report(self, allow: Iterable[Any] = (), what: str = "the code", registries: bool = False) -> LeakReport:
        """The kinds that grew with the rounds; drops the reference point."""
        h = self._session
        try:
            with h._edge_scope():  # one capture with edges explains every kind
                return _report(h, self.rounds, allow, what, self._mid, self.warmup, registries)
        finally:
            h.clearref()

    def __repr__(self) -> str:
        return f"<heapscope rounds: {self.checked} of {self.rounds} checked after {self.warmup} warm-up>"


def check(
    run: Callable[[], Any],
    rounds: int = 5,
    allow: Iterable[Any] = (),
    what: str = "the code",
    warmup: int = 1,
    registries: bool = False,
) -> LeakReport:
    """Runs ``run`` ``warmup`` times, sets a reference point, runs it ``rounds`` more
    times and reports the kinds that grew with the rounds. ``registries``: leave out
    what modules' ``__warningregistry__`` hold (pytest resets them for every test)."""
    state = Rounds(rounds, warmup)
    for _ in state:
        run()
    return state.report(allow, what, registries)


@hidden_type
class assert_no_leaks:  # noqa: N801 - used like a function
    """A leak check as a context manager or a decorator; raises :class:`LeakError` with
    the report when kinds grew with the rounds.

    * ``with assert_no_leaks(rounds=n) as rounds: for _ in rounds: body`` runs the body
      ``warmup + n`` times (``warmup=1`` by default): the reference point is taken after
      the warm-up rounds, so one-time costs (lazy imports, caches filled once) are not
      reported.
    * ``with assert_no_leaks(rounds=n): ...`` (a block that does not iterate the rounds)
      takes the reference point on entry: the block runs its n rounds itself, without a
      warm-up, and the report says so.
    * ``@assert_no_leaks(rounds=n)`` calls the function ``warmup`` times, then n times.
    """

    def __init__(self, rounds: int = 1, allow: Iterable[Any] = (), warmup: int = 1) -> None:
        self.rounds = _count("rounds", rounds, 1)
        self.warmup = _count("warmup", warmup, 0)
        self.allow = tuple(allow)
        self._state: Rounds | None = None

    def __enter__(self) -> Rounds:
        self._state = Rounds(self.rounds, self.warmup)
        # a reference point now for a block that does not iterate the rounds; iterating
        # them takes it again after the warm-up
        self._state.start()
        return self._state

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        state, self._state = self._state, None
        assert state is not None, "assert_no_leaks.__exit__ without __enter__"
        if exc_type is not None:
            state._session.clearref()
            return
        if state.checked and not state.finished:
            state._session.clearref()
            raise HeapscopeError(
                f"assert_no_leaks: the block left its rounds after {state.checked} of {state.rounds} "
                "checked rounds; run them all (`for _ in rounds:` without break) to be checked"
            )
        if not state.checked:
            if state._next:  # only warm-up rounds ran
                state._session.clearref()
                raise HeapscopeError(f"assert_no_leaks: the block ran no checked round (warmup={state.warmup})")
            state.warmup = 0  # the block ran its rounds itself, after the reference point
        report = state.report(self.allow, "the block")
        if report:
            raise LeakError(report)

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            report = check(lambda: fn(*args, **kwargs), self.rounds, self.allow, fn.__qualname__, self.warmup)
            if report:
                raise LeakError(report)

        return wrapper  # type: ignore[return-value]
