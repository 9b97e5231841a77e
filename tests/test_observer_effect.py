"""Zero observer effect: heap() creates no instance dicts and no frame objects."""

from __future__ import annotations

import gc
import sys
import threading
import types

from heapscope import hpy


class Attrs:
    def __init__(self, i: int) -> None:
        self.x = i
        self.y = str(i)


def count_dicts_and_frames() -> tuple[int, int]:
    gc.collect()
    objs = gc.get_objects()
    dicts = sum(1 for o in objs if type(o) is dict)
    frames = sum(1 for o in objs if type(o) is types.FrameType)
    return dicts, frames


def test_heap_materialises_no_dicts_or_frames():
    keep = [Attrs(i) for i in range(2000)]
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, daemon=True)
    t.start()
    h = hpy()
    h.heap()  # warm caches of our own
    try:
        before = count_dicts_and_frames()
        x = h.heap()
        print(x)
        x.bytype
        after = count_dicts_and_frames()
    finally:
        stop.set()
        t.join()
    assert after == before
    assert len(keep) == 2000



class Clé:
    def __init__(self) -> None:
        self.données = [1, 2, 3]  # a non-ASCII attribute name (managed values / dict)


# a function whose file name is not ASCII: the frame that calls heap() is checked
# against heapscope's own package directory
_FROM_ELSEWHERE = compile(
    "def measure(h, obj):\n"
    "    x = h.heap()\n"
    "    return str(x.byvia), str(h.iso(obj.données).sp), str(h.iso(obj).rp)\n",
    "/tmp/módulo_é.py",
    "exec",
)
_namespace: dict = {}
exec(_FROM_ELSEWHERE, _namespace)
measure = _namespace["measure"]


def test_non_ascii_names_get_no_utf8_cache():
    # PyUnicode_AsUTF8 caches a UTF-8 copy inside a non-ASCII str: reading frame-local
    # names, attribute names or file names that way makes them grow because we looked.
    obj = Clé()
    ready = threading.Event()
    stop = threading.Event()

    def worker(clé: object = obj) -> None:  # a running frame with a non-ASCII local
        ready.set()
        stop.wait()

    names = [
        n
        for n in (*worker.__code__.co_varnames, *Clé.__init__.__code__.co_names, measure.__code__.co_filename)
        if not n.isascii()
    ]
    assert len(names) == 3
    t = threading.Thread(target=worker, daemon=True)
    t.start()
    ready.wait()
    try:
        before = [sys.getsizeof(n) for n in names]
        texts = measure(hpy(), obj)
        after = [sys.getsizeof(n) for n in names]
    finally:
        stop.set()
        t.join()
    assert "données" in texts[1]
    assert after == before


class Finalized:
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.me = self  # a cycle: only the collector frees it

    def __del__(self) -> None:
        self.log.append("finalized")


def test_heap_runs_no_collection_and_counts_no_garbage(h):
    log: list[str] = []
    collections: list[str] = []

    def callback(phase: str, info: dict) -> None:
        collections.append(phase)

    was_enabled = gc.isenabled()
    gc.disable()  # no automatic collection while we look
    gc.callbacks.append(callback)
    try:
        Finalized(log)  # garbage at once: a cycle nothing reaches
        x = h.heap()
        assert collections == [] and log == []  # no finalizer, no gc callback ran
        assert "Finalized" not in str(x.bytype)  # garbage is not reachable from the roots
        assert sum(1 for o in gc.get_objects() if type(o) is Finalized) == 1  # still alive
        del x
        h.heapu()  # heapu() collects first: it would otherwise list garbage
        assert log == ["finalized"] and collections
    finally:
        gc.callbacks.remove(callback)
        if was_enabled:
            gc.enable()
