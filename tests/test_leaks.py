"""Realistic leaks found end to end: take a reference point after a warm-up, repeat the
leaking step, census the survivors, and ask why the leaked kind is alive. The shortest
path must name the container that holds it."""

from __future__ import annotations

import functools
import logging
import re
import sys
import threading
from typing import Any, Callable

ROUNDS = 25
_CACHE: list[object] = []


class Record:
    def __init__(self, n: int) -> None:
        self.n = n
        self.data = bytearray(128)


class Service:
    @functools.lru_cache(maxsize=None)  # noqa: B019 - the leak under test
    def lookup(self, key: int) -> list[int]:
        return [key]


class EventBus:
    listeners: list[Callable[[], int]] = []


def kind_of(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def survivors_of(h: Any, step: Callable[[], None], rounds: int = ROUNDS) -> Any:
    step()  # warm caches and containers
    h.setref()
    for _ in range(rounds):
        step()
    return h.heap()


def row_of(survivors: Any, name: str) -> Any:
    names = [r.name for r in survivors.rows]
    assert name in names, names
    return survivors[names.index(name)]


def paths_to(leaked: Any) -> list[str]:
    sp = leaked.sp
    assert sp.numpaths >= 1
    return [str(p) for p in sp.iter(0, 5)]


def test_module_level_cache_list(h):
    def step() -> None:
        _CACHE.append(Record(len(_CACHE)))

    survivors = survivors_of(h, step)
    leaked = row_of(survivors, kind_of(Record))
    assert leaked.count == ROUNDS
    paths = paths_to(leaked)
    assert all("['_CACHE'][" in p for p in paths), paths
    holders = leaked.referrers - survivors
    assert holders.count == 1 and _CACHE in holders
    assert holders.domisize >= leaked.size
    _CACHE.clear()


def test_lru_cache_on_a_method_holds_self(h):
    def step() -> None:
        Service().lookup(1)

    survivors = survivors_of(h, step)
    leaked = row_of(survivors, kind_of(Service))
    assert leaked.count == ROUNDS
    paths = paths_to(leaked)
    # the cached method (in the class dict) holds its cache, whose keys hold self
    assert all("['Service']" in p and "['lookup']" in p and ".keys()[" in p for p in paths), paths
    Service.lookup.cache_clear()


def test_logging_handler_added_per_call(h):
    name = "heapscope.test.leaky"

    def step() -> None:  # no local holds the logger: only logging's registry does
        logging.getLogger(name).addHandler(logging.NullHandler())

    try:
        survivors = survivors_of(h, step)
        leaked = row_of(survivors, "logging.NullHandler")
        assert leaked.count == ROUNDS
        paths = paths_to(leaked)
        # 3.11+: `.handlers[i]` on the logger; 3.10: `.__dict__['handlers'][i]`
        assert all(f"['{name}']" in p and "handlers" in p for p in paths), paths
    finally:
        logging.getLogger(name).handlers.clear()


def test_closures_in_a_callback_registry(h):
    def step() -> None:
        payload = bytearray(300)
        EventBus.listeners.append(lambda: len(payload))

    try:
        survivors = survivors_of(h, step)
        leaked = survivors & h.Type(bytearray)
        assert leaked.count == ROUNDS
        paths = paths_to(leaked)
        assert all("['listeners'][" in p and ".__closure__[0].cell_contents" in p for p in paths), paths
        byvia = leaked.byvia
        assert [r.name for r in byvia.rows] == ["'.cell_contents'"]
    finally:
        EventBus.listeners.clear()


def test_cycle_held_by_another_threads_frame(h):
    ready, stop = threading.Event(), threading.Event()

    def worker() -> None:
        node: dict[str, Any] = {"payload": bytearray(4000)}
        node["self"] = node  # a reference cycle, alive only while this frame runs
        ready.set()
        stop.wait()

    h.setref()
    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    try:
        assert ready.wait(10)
        survivors = h.heap()
        # selected by kind, so no local of this test holds it (that would be a path too)
        payload = survivors & h.Type(bytearray) & h.Size(sys.getsizeof(bytearray(4000)))
        assert payload.count == 1
        paths = paths_to(payload)
        # by the thread's name; its frame (3.10: the top frame object, then f_back)
        pattern = re.compile(r"Root\.thread\('([^']*)'\)\.frame\([^)]*\)(\.f_back)*\.f_locals\['node'\]\['payload'\]$")
        matches = [pattern.search(p) for p in paths]
        assert any(matches), paths
        assert any(m.group(1) == thread.name for m in matches if m), (paths, thread.name)
    finally:
        stop.set()
        thread.join(10)
