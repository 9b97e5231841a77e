"""All threads' frames are roots; other threads mutating objects do not break a walk."""

from __future__ import annotations

import threading

from heapscope import hpy


class OnlyInThread:
    pass


def test_object_held_only_by_other_thread_frame_is_found():
    ready = threading.Event()
    stop = threading.Event()
    holder: list = []

    def worker() -> None:
        mine = OnlyInThread()  # referenced only from this frame
        holder.append(id(mine))
        ready.set()
        stop.wait()
        del mine

    t = threading.Thread(target=worker)
    t.start()
    ready.wait()
    try:
        h = hpy()
        x = h.heap()
        found = [o for o in x.bytype[0:len(x.bytype)].nodes if type(o) is OnlyInThread]
        assert len(found) == 1 and id(found[0]) == holder[0]
        roots = dir(h.Root)
        assert sum(1 for r in roots if r.startswith("i0_t") and "_f0:" in r) >= 2
    finally:
        stop.set()
        t.join()


def test_walk_survives_concurrent_mutation():
    stop = threading.Event()
    shared: dict = {}

    def mutator() -> None:
        i = 0
        while not stop.is_set():
            shared[i % 1000] = [i] * (i % 7)
            if i % 3 == 0:
                shared.pop((i * 7) % 1000, None)
            i += 1

    threads = [threading.Thread(target=mutator) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        h = hpy()
        for _ in range(15):
            x = h.heap()
            assert x.count > 1000
            str(x.bysize)
    finally:
        stop.set()
        for t in threads:
            t.join()
