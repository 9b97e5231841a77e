"""Snapshot files: a heap dumped to a ``.hsnap`` file, analysed anywhere, compared.

``heapscope.dump(path)`` writes the calling process's heap: everything ``heap()`` would
see, plus what only the cycle collector knows of (``heapu()``'s part, marked as such),
with every reference labelled, sizes, types (module, qualname, MRO), roots, threads,
short value texts and metadata. ``heapscope.load(path)`` gives a :class:`Snapshot`: a
session with the same API (``heap()``, partitions, ``sp``, ``rp``, dominators, ...)
answered from the file. Objects of a snapshot are node proxies (type, address, size,
short text); nothing of the program needs to be importable. The format is specified in
docs/snapshot-format.md. The writer is :mod:`heapscope.snapshot_writer`.

``Snapshot.export`` (and :func:`export`) writes a snapshot for other tools: Chrome
DevTools' ``.heapsnapshot``, JSON lines, or a directory of Parquet tables
(docs/exports.md).
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Literal

from . import _native
from .errors import DifferentHeapsError
from .hidden import hidden_type
from .identity_set import IdentitySet
from .root import RootState
from .session import Session
from .snapshot_writer import dump as dump  # re-exported: heapscope.snapshot.dump
from .sources import SnapshotSource

#: The first bytes of every snapshot file.
MAGIC = b"\x89HSN\r\n\x1a\n"

#: The formats :meth:`Snapshot.export` writes (docs/exports.md).
ExportFormat = Literal["heapsnapshot", "jsonl", "parquet"]
EXPORT_FORMATS: tuple[str, ...] = ("heapsnapshot", "jsonl", "parquet")


def is_snapshot_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` starts with the snapshot magic (any version)."""
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


@hidden_type
class Snapshot(Session):
    """A session over a snapshot file (:func:`load`): the API of ``hpy()``, answered
    from the file. ``info`` is the metadata the dump recorded."""

    __slots__ = ()

    def __init__(self, graph: _native.LiveGraph, path: str) -> None:
        super().__init__(SnapshotSource(graph, path))
        self.default_reprefix = "snap."
        self.Root = RootState(graph.roots, lambda: dict(graph.threads()))

    @property
    def info(self) -> dict[str, Any]:
        """What the dump recorded: Python version and build, pid, argv, hostname, time,
        RSS, heapscope version, object count (values as written; argv as a list)."""
        meta: dict[str, Any] = dict(self._source_graph().meta())
        if "argv" in meta:
            try:
                meta["argv"] = json.loads(meta["argv"])
            except ValueError:
                pass
        return meta

    @property
    def path(self) -> str:
        source = self._source
        assert isinstance(source, SnapshotSource)
        return source.path

    def at(self, *addresses: int) -> Any:
        """The set of the snapshot's objects at these addresses (as printed in tables and
        paths: ``snap.at(0x7f...)``); addresses of no object are ignored."""
        return IdentitySet(self._source_graph().set_of_addresses(list(addresses)), self)

    def export(
        self,
        path: str | os.PathLike[str],
        format: ExportFormat = "heapsnapshot",
        progress: Callable[[int, int], object] | None = None,
    ) -> None:
        """Write this snapshot for another tool (docs/exports.md): ``"heapsnapshot"``
        (Chrome DevTools' Memory panel, memlab), ``"jsonl"`` (one JSON object per line,
        meliae's keys and more) or ``"parquet"`` (a directory of tables with retained
        sizes and dominators, for DuckDB, polars or pandas). Every object is written,
        the unreachable part (``heapu()``) included and marked.

        The output appears at ``path`` only when complete. ``progress(done, total)`` is
        called now and then from the exporting thread; an exception it raises, or
        Ctrl-C, stops the export, leaves nothing at ``path`` and propagates. A Parquet
        export replaces an existing directory only if it holds nothing but such tables.
        """
        if format not in EXPORT_FORMATS:
            raise ValueError(
                f"unknown export format {format!r}: use one of {', '.join(map(repr, EXPORT_FORMATS))}"
            )
        if progress is not None and not callable(progress):
            raise TypeError(f"progress must be callable(done, total), not {type(progress).__name__}")
        self._source_graph().export(format, os.fspath(path), progress)

    def _source_graph(self) -> _native.LiveGraph:
        source = self._source
        assert isinstance(source, SnapshotSource)
        return source.graph

    def __repr__(self) -> str:
        info = self.info
        return (
            f"<heapscope snapshot {self.path!r}: {info.get('objects', '?')} objects, "
            f"pid {info.get('pid', '?')} on {info.get('hostname', '?')} at {info.get('time', '?')}>"
        )


def load(path: str | os.PathLike[str]) -> Snapshot:
    """Read a snapshot file written by :func:`dump`. A damaged, truncated, foreign or
    newer file raises :class:`~heapscope.SnapshotFormatError` naming the problem."""
    where = os.fspath(path)
    graph = _native.read_snapshot(where)
    return Snapshot(graph, where)


def export(
    snapshot: Snapshot | str | os.PathLike[str],
    path: str | os.PathLike[str],
    format: ExportFormat = "heapsnapshot",
    progress: Callable[[int, int], object] | None = None,
) -> None:
    """Export a snapshot (a ``.hsnap`` path or a loaded :class:`Snapshot`) to ``path``
    in ``format``: see :meth:`Snapshot.export`."""
    snap = snapshot if isinstance(snapshot, Snapshot) else load(snapshot)
    snap.export(path, format, progress)


@hidden_type
class SnapshotDiff:
    """What changed between two snapshots (:func:`diff`). Of one process, objects are
    matched by identity (address and type): ``new`` (in ``b`` only, a set of ``b``),
    ``freed`` (in ``a`` only, a set of ``a``) and ``survivors`` (in both, as a set of
    ``b``). Of different processes only kinds compare: ``by_kind`` only."""

    __slots__ = ("a", "b", "same_process", "new", "freed", "survivors", "leaking", "by_kind")

    def __init__(self, a: Snapshot, b: Snapshot, c: Snapshot | None) -> None:
        self.a, self.b = a, b
        self.same_process = _same_process(a, b) and (c is None or _same_process(b, c))
        self.new = self.freed = self.survivors = self.leaking = None
        ha, hb = a.heap(), b.heap()
        #: Heapy's census difference table: ``b.heap().stat - a.heap().stat``.
        self.by_kind = hb.stat - ha.stat
        if not self.same_process:
            return
        new_nodes, survivor_nodes = _split_by_identity(hb._nodes, ha._nodes)
        freed_nodes, _ = _split_by_identity(ha._nodes, hb._nodes)
        self.new = type(hb)(new_nodes, b)
        self.survivors = type(hb)(survivor_nodes, b)
        self.freed = type(ha)(freed_nodes, a)
        if c is not None:
            # the leak signature: new in b, still there in c
            hc = c.heap()
            _, still = _split_by_identity(hc._nodes, new_nodes)
            self.leaking = type(hc)(still, c)

    def grown(self, limit: int = 5) -> list[tuple[str, int, int, str]]:
        """The kinds whose total size grew most, ``(kind, count change, size change,
        shortest path of one new object of that kind or '')``."""
        rows = [(name, dcount, dsize) for name, dcount, dsize in self.by_kind.rows if dsize > 0]
        rows.sort(key=lambda r: -r[2])
        new_rows = self.new.byclodo if self.new is not None else None
        row_of = {r[0]: i for i, r in enumerate(new_rows.rows)} if new_rows is not None else {}
        out = []
        for name, dcount, dsize in rows[:limit]:
            path = ""
            if new_rows is not None and name in row_of:
                first = new_rows[row_of[name]]._nodes.addresses()[0]
                paths = self.b.at(first).sp
                path = str(paths[0]).strip() if paths.numpaths else ""
            out.append((name, dcount, dsize, path))
        return out

    def __str__(self) -> str:
        lines = []
        if self.same_process:
            assert self.new is not None and self.freed is not None and self.survivors is not None
            lines.append(
                f"Snapshots of one process (pid {self.a.info.get('pid')}): compared by identity "
                "(address and type)."
            )
            lines.append(f"New: {self.new.count} objects, {self.new.size} bytes.")
            lines.append(f"Freed: {self.freed.count} objects, {self.freed.size} bytes.")
            lines.append(f"Survivors: {self.survivors.count} objects, {self.survivors.size} bytes.")
            if self.leaking is not None:
                lines.append(
                    f"Leak signature (new in the second, alive in the third): {self.leaking.count} objects, "
                    f"{self.leaking.size} bytes."
                )
        else:
            lines.append(
                "Snapshots of different processes: compared by kind only (objects cannot be matched "
                "by identity across processes)."
            )
        lines.append(str(self.by_kind))
        grown = self.grown()
        if grown:
            lines.append("Kinds that grew most:")
            for name, dcount, dsize, path in grown:
                lines.append(f"  {name}: {dcount:+d} objects, {dsize:+d} bytes" + (f"\n    {path}" if path else ""))
        return "\n".join(lines)

    __repr__ = __str__


def _same_process(a: Snapshot, b: Snapshot) -> bool:
    ia, ib = a.info, b.info
    return (ia.get("pid"), ia.get("hostname")) == (ib.get("pid"), ib.get("hostname"))


def _split_by_identity(x: _native.NodeSet, ref: _native.NodeSet) -> tuple[_native.NodeSet, _native.NodeSet]:
    """``x`` split into (members not in ``ref``, members in ``ref``), matching objects of
    two graphs by address and type."""
    addrs, types = ref.address_type_pairs()
    absent = x.without_pairs(addrs, types)
    return absent, x.difference(absent)


def diff(a: Snapshot | str | os.PathLike[str], b: Snapshot | str | os.PathLike[str],
         c: Snapshot | str | os.PathLike[str] | None = None) -> SnapshotDiff:
    """Compare two snapshots (paths or loaded); with a third, also report the leak
    signature: objects new in ``b`` that are still alive in ``c``."""
    sa = a if isinstance(a, Snapshot) else load(a)
    sb = b if isinstance(b, Snapshot) else load(b)
    sc = c if isinstance(c, Snapshot) or c is None else load(c)
    if sa is sb:
        raise DifferentHeapsError("diff compares two different snapshots")
    return SnapshotDiff(sa, sb, sc)
