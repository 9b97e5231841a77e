"""Leak checks that explain themselves: ``assert_no_leaks`` and the pytest plugin's engine.

A check runs the code once to warm caches, takes a reference point, runs it ``rounds``
more times and takes a census of what survived. Kinds with at least one survivor per
round grew with the rounds: those are the leak. The report gives, per kind, the count
and size per round, and for the largest kinds the shortest reference path that keeps
them alive and the size that freeing them would give back. It holds no object and no
address, so it reads the same from run to run and fits in a CI log.

::

    with heapscope.assert_no_leaks(rounds=100):      # the block runs the rounds itself
        for _ in range(100):
            handle_request()

    @heapscope.assert_no_leaks(rounds=5)            # warm-up call + 5 checked calls
    def test_handler():
        handle_request()

Objects that existed before the reference point (fixtures, caches filled by the warm-up)
are never reported; ``allow=`` takes kinds (``h.Type(dict)``), types or kind names
(``"logging.LogRecord"``) to ignore; objects kept alive only through pytest's or
heapscope's own modules are ignored.
"""

from __future__ import annotations

import functools
import gc
import re
from typing import Any, Callable, Iterable, NamedTuple, TypeVar

from .errors import HeapscopeError

#: Kinds reported with a path and retained size (the rest are listed only).
EXPLAINED_KINDS = 3
#: Root-path prefixes of objects held by the test runner, not by the code under test.
RUNNER_MODULES = ("_pytest", "pluggy", "heapscope")

F = TypeVar("F", bound=Callable[..., Any])


class LeakError(HeapscopeError, AssertionError):
    """Objects survived the rounds of a leak check; the message explains why."""

    def __init__(self, report: LeakReport) -> None:
        super().__init__(str(report))
        self.report = report


class LeakedKind(NamedTuple):
    """One kind that grew with the rounds."""

    name: str
    count: int
    size: int
    path: str | None  # shortest path from the roots (rendered), for explained kinds
    retained: int | None  # bytes freed with them (their dominos), for explained kinds


class LeakReport:
    """What a leak check found; ``str()`` is the failure message."""

    def __init__(self, what: str, rounds: int, kinds: list[LeakedKind]) -> None:
        self.what = what
        self.rounds = rounds
        self.kinds = kinds

    def __bool__(self) -> bool:
        return bool(self.kinds)

    def __str__(self) -> str:
        if not self.kinds:
            return f"heapscope: no object kind grew over {self.rounds} rounds of {self.what}"
        per_round = sum(k.count for k in self.kinds) / self.rounds
        lines = [
            f"heapscope: {self.what} leaks about {per_round:g} objects "
            f"({sum(k.size for k in self.kinds) // self.rounds} bytes) per round "
            f"over {self.rounds} rounds; kinds that grew with the rounds:",
            "      Count   Size  per round, kind",
        ]
        for k in self.kinds:
            lines.append(f"  {k.count / self.rounds:9g} {k.size // self.rounds:6d}  {k.name}")
        for k in self.kinds:
            if k.path is None:
                continue
            lines.append(f"Why {k.name} is alive:")
            lines.append(f"  kept alive by: {k.path}")
            lines.append(f"  retained: {k.retained} bytes would be freed with them")
        return "\n".join(lines)

    __repr__ = __str__


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


def _held_by_runner(path: Any) -> bool:
    """Whether a path passes through the test runner's objects (pytest's items, log
    capture, stash; pluggy; heapscope): what only they keep is theirs."""
    for obj in path.objects:
        module = getattr(type(obj), "__module__", "") or ""
        if module.split(".", 1)[0] in RUNNER_MODULES:
            return True
    head = path.brief.split(".__dict__", 1)[0]
    return any(f"['{m}']" in head or f"['{m}." in head for m in RUNNER_MODULES)


def _held_only_by_runner() -> list[int]:
    """Addresses of what the test runner alone keeps alive: the dominos (Heapy's "what
    would be freed with them") of every object whose type comes from pytest or pluggy,
    such as captured log records and fixture values."""
    from .session import hpy

    s = hpy()
    everything = s.heap()
    by_type = everything.bytype
    runner = None
    for i, row in enumerate(by_type.rows):
        if row.name.split(".", 1)[0] in RUNNER_MODULES[:2]:
            runner = by_type[i] if runner is None else runner | by_type[i]
    if runner is None:
        return []
    return runner.dominos._nodes.addresses()


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


def check(
    run: Callable[[], Any], rounds: int = 5, allow: Iterable[Any] = (), what: str = "the code", warm: bool = True
) -> LeakReport:
    """Runs ``run`` once (when ``warm``), sets a reference point, runs it ``rounds`` more
    times and reports the kinds that grew with the rounds."""
    from .session import hpy

    if not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a positive int, not {rounds!r}")
    h = hpy()
    if warm:
        run()
    gc.collect()
    h.setref()
    try:
        # Two halves: a kind leaks when it grows in the second half too, by at least one
        # object per round. Values that are only replaced (a module global updated by a
        # gc callback, a timestamp) survive the reference point but do not grow.
        first = rounds // 2
        for _ in range(first):
            run()
        before = {r.name: r.count for r in h.heap().rows} if first else None
        for _ in range(rounds - first):
            run()
        with h._edge_scope():  # one capture with edges explains every kind
            return _report(h, rounds, allow, what, before)
    finally:
        h.clearref()


def _report(
    h: Any, rounds: int, allow: Iterable[Any], what: str, before: dict[str, int] | None = None
) -> LeakReport:
    """The kinds among the survivors with at least one object per round (and, given the
    census ``before`` the last ``rounds - rounds // 2`` rounds, one more per such round)."""
    allow = list(allow)
    kinds_allowed = [a for a in allow if not isinstance(a, (str, type))]
    survivors = h.heap()
    for k in kinds_allowed:
        survivors = survivors - k
    runner_held = _held_only_by_runner()
    if runner_held:
        survivors = survivors._wrap(survivors._nodes.without_addresses(runner_held))
    second = rounds - rounds // 2
    kinds: list[LeakedKind] = []
    for i, row in enumerate(survivors.rows):
        if row.count < rounds or _is_allowed(row.name, allow):
            continue
        if before is not None and row.count - before.get(row.name, 0) < second:
            continue
        leaked = survivors[i]
        path: str | None = None
        retained: int | None = None
        sp = leaked.sp
        if sp.numpaths:
            chosen = _readable_path(sp)
            if _held_by_runner(chosen):
                continue  # the runner's own records (pytest's, ours)
            text = _stable(chosen.brief)
            explained = [k.path for k in kinds if k.path is not None]
            # a kind reached through an explained kind's objects needs no second story
            if len(explained) < EXPLAINED_KINDS and not any(text.startswith(p) for p in explained):
                path = text
                retained = leaked.domisize
        kinds.append(LeakedKind(row.name, row.count, row.size, path, retained))
    return LeakReport(what, rounds, kinds)


class assert_no_leaks:  # noqa: N801 - used like a function
    """``with assert_no_leaks(rounds=n): ...`` (the block runs its n rounds itself; a
    reference point is taken on entry) or ``@assert_no_leaks(rounds=n)`` (the function
    is called once to warm up, then n times). Raises :class:`LeakError` with the report
    when kinds grew with the rounds."""

    def __init__(self, rounds: int = 1, allow: Iterable[Any] = ()) -> None:
        if not isinstance(rounds, int) or rounds < 1:
            raise ValueError(f"rounds must be a positive int, not {rounds!r}")
        self.rounds = rounds
        self.allow = tuple(allow)
        self._session: Any = None

    def __enter__(self) -> assert_no_leaks:
        from .session import hpy

        self._session = hpy()
        gc.collect()
        self._session.setref()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        h, self._session = self._session, None
        try:
            if exc_type is None:
                with h._edge_scope():
                    report = _report(h, self.rounds, self.allow, "the block")
                if report:
                    raise LeakError(report)
        finally:
            h.clearref()

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            report = check(lambda: fn(*args, **kwargs), self.rounds, self.allow, what=fn.__qualname__)
            if report:
                raise LeakError(report)

        return wrapper  # type: ignore[return-value]
