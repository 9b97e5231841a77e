"""Writing the calling process's heap to a snapshot file (``heapscope.dump``).

Apart from :mod:`heapscope.snapshot` (reading, comparing) because a live session dumps
(``h.dump(path)``) and a snapshot is a session: the writer needs a live source, not the
session, so the session imports it without an import cycle.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import sys
from typing import TYPE_CHECKING, NamedTuple

from . import _native, kind_names
from ._version import __version__
from .errors import SnapshotError
from .hidden import hidden_types
from .kinds import _mro
from .rss import current_rss
from .sources import LiveSource

if TYPE_CHECKING:
    from .session import Session

#: Texts of values (str, bytes, numbers) are cut to this many characters.
TEXT_CAP = 200


def _rss() -> int:
    """The RSS now; where it cannot be read, the peak RSS (more than nothing)."""
    rss = current_rss()
    if rss is not None:
        return rss
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _metadata(count: int) -> list[tuple[str, str]]:
    free_threaded = bool(getattr(sys, "_is_gil_enabled", lambda: True)() is False)
    return [
        ("python_version", sys.version.split()[0]),
        ("python_implementation", sys.implementation.name),
        ("python_build", "free-threaded" if free_threaded else "default"),
        ("platform", sys.platform),
        ("pid", str(os.getpid())),
        ("argv", json.dumps(list(sys.argv))),
        ("hostname", socket.gethostname()),
        ("time", datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")),
        ("rss", str(_rss())),
        ("heapscope_version", __version__),
        ("objects", str(count)),
    ]


def _type_table(types: list[type]) -> list[tuple[int, str, str, str, list[int]]]:
    """The graph's types, then those only their MROs name: ``(address, Heapy name,
    __module__, __qualname__, MRO after the type as indices into this table)``. Read
    with type's own getters: no metaclass code runs."""
    table = list(types)
    index = {id(t): i for i, t in enumerate(table)}
    out = []
    i = 0
    while i < len(table):
        t = table[i]
        mro_ids = []
        for base in _mro(t)[1:]:
            k = index.get(id(base))
            if k is None:
                k = index[id(base)] = len(table)
                table.append(base)
            mro_ids.append(k)
        module = type.__dict__["__module__"].__get__(t)
        qualname = type.__dict__["__qualname__"].__get__(t)
        out.append((
            id(t),
            kind_names.type_name(t),
            module if isinstance(module, str) else "",
            qualname if isinstance(qualname, str) else "",
            mro_ids,
        ))
        i += 1
    return out


def _threads() -> list[tuple[int, str]]:
    from .root import thread_names

    return sorted(thread_names().items())


def _sites(graph: _native.LiveGraph) -> list[tuple[str, int, list[int]]]:
    """Allocation sites of the nodes tracemalloc recorded (when it is tracing):
    ``(filename, lineno, node addresses)``."""
    import tracemalloc

    if not tracemalloc.is_tracing():
        return []
    from .relations import _site

    by_site: dict[tuple[str, int], list[int]] = {}
    for obj in graph.full().objects():
        site = _site(obj)  # the frame Prod classifies by, as live
        if site is not None:
            by_site.setdefault(site, []).append(id(obj))
    return [(f, line, addrs) for (f, line), addrs in by_site.items()]


class SnapshotTotals(NamedTuple):
    """What a dump wrote: how many objects, and their total size in bytes."""

    objects: int
    size: int  # the objects' total size (not the graph's own memory)


def dump(path: str | os.PathLike[str], session: Session | None = None) -> None:
    """Write the calling process's heap to ``path`` (a ``.hsnap`` file), atomically: a
    dump that fails or is killed half-way leaves nothing at ``path``. Everything
    ``heap()`` would see is written, plus the objects alive but unreachable from the
    roots (marked so; no collection is run first). Allocation sites are included when
    tracemalloc is tracing. Works from any thread: the capture holds the GIL, so the
    other threads stand between bytecodes (or in C code that does not touch objects)."""
    write_snapshot(path, session)


def write_snapshot(path: str | os.PathLike[str], session: Session | None = None) -> SnapshotTotals:
    """:func:`dump`, returning how many objects it wrote and their size."""
    if session is not None and not isinstance(session._source, LiveSource):
        raise SnapshotError("a snapshot cannot be dumped again: copy its file instead")
    source = session._source if session is not None else LiveSource(hidden_types)
    assert isinstance(source, LiveSource)
    graph = source.everything()
    # what only the seeds (the collector's objects) reached: alive, unreachable from
    # the roots (the walk's order tells; test_snapshot checks it against heapu's way)
    unreachable = graph.seeded_only()
    graph.write_snapshot(
        os.fspath(path),
        meta=_metadata(graph.node_count),
        types=_type_table(graph.type_objects()),
        unreachable=unreachable,
        threads=_threads(),
        sites=_sites(graph),
        text_cap=TEXT_CAP,
    )
    return SnapshotTotals(graph.node_count, graph.full().size)
