"""Zero observer effect: heap() creates no instance dicts and no frame objects."""

from __future__ import annotations

import gc
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
