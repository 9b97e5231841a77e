"""The viewer's JSON API (docs/viewer.md, "JSON API"): a request's path and query to the
answer of the file it names, as a dict for ``json.dumps``.

Parameters are checked here (a bad one is a :class:`RequestError`, 400; an unknown path,
file, row or object, 404); the answers come from :class:`SnapshotView` and
:class:`ProfileView`, each under its file's lock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..snapshot import diff
from .loaded_files import LoadedFile
from .profile_view import ProfileView
from .request_error import RequestError
from .snapshot_view import SnapshotView, parse_address

Query = dict[str, list[str]]

MAX_COUNT = 10_000  # most rows, objects or children one page may ask for
COMPARE_KINDS = 50  # kinds listed for new, freed and survivors


def _param(query: Query, name: str, default: str | None = None) -> str:
    values = query.get(name)
    if not values:
        if default is None:
            raise RequestError(f"missing parameter {name}=")
        return default
    if len(values) > 1:
        raise RequestError(f"parameter {name}= given {len(values)} times")
    return values[0]


def _int_param(query: Query, name: str, default: int | None = None, lowest: int = 0, highest: int | None = None) -> int:
    text = _param(query, name, None if default is None else str(default))
    try:
        value = int(text)
    except ValueError:
        raise RequestError(f"{name}={text!r}: expected a whole number") from None
    if value < lowest or (highest is not None and value > highest):
        top = "" if highest is None else f" and at most {highest}"
        raise RequestError(f"{name}={value}: must be at least {lowest}{top}")
    return value


def _optional_int(query: Query, name: str) -> int | None:
    return _int_param(query, name) if name in query else None


class ViewerApi:
    """The endpoints over the files given (``compare``: the two snapshot indices the
    command line compares, or None)."""

    def __init__(self, files: list[LoadedFile], compare: tuple[int, int] | None = None) -> None:
        self.files = files
        self.compare = compare
        self._compared: dict[tuple[int, int], dict[str, Any]] = {}
        self._routes: list[tuple[re.Pattern[str], Callable[..., dict[str, Any]]]] = [
            (re.compile(r"/api/files"), self._files),
            (re.compile(r"/api/snapshot/(\d+)/census"), self._census),
            (re.compile(r"/api/snapshot/(\d+)/row"), self._row),
            (re.compile(r"/api/snapshot/(\d+)/row/summary"), self._row_summary),
            (re.compile(r"/api/snapshot/(\d+)/object/([^/]+)"), self._object),
            (re.compile(r"/api/snapshot/(\d+)/domtree"), self._domtree),
            (re.compile(r"/api/snapshot/(\d+)/suspects"), self._suspects),
            (re.compile(r"/api/compare"), self._compare),
            (re.compile(r"/api/profile/(\d+)/series"), self._series),
            (re.compile(r"/api/profile/(\d+)/diff"), self._profile_diff),
        ]

    def handle(self, path: str, query: Query) -> dict[str, Any]:
        """The answer to GET ``path`` (without the query string) with ``query``."""
        for pattern, endpoint in self._routes:
            m = pattern.fullmatch(path)
            if m is not None:
                return endpoint(query, *m.groups())
        raise RequestError(f"no such API endpoint: {path}", 404)

    # -- files ------------------------------------------------------------------------
    def _file(self, index: str) -> LoadedFile:
        i = int(index)
        if not 0 <= i < len(self.files):
            raise RequestError(f"no file {i}: the viewer serves files 0..{len(self.files) - 1}", 404)
        return self.files[i]

    def _snapshot(self, index: str) -> SnapshotView:
        view = self._file(index).view
        if not isinstance(view, SnapshotView):
            raise RequestError(f"file {index} is a profile, not a snapshot", 404)
        return view

    def _profile(self, index: str) -> ProfileView:
        view = self._file(index).view
        if not isinstance(view, ProfileView):
            raise RequestError(f"file {index} is a snapshot, not a profile", 404)
        return view

    def _files(self, query: Query) -> dict[str, Any]:
        return {
            "files": [f.describe() for f in self.files],
            "compare": list(self.compare) if self.compare is not None else None,
        }

    # -- snapshots ----------------------------------------------------------------------
    def _census(self, query: Query, index: str) -> dict[str, Any]:
        view = self._snapshot(index)
        by = _param(query, "by", "clodo")
        start = _int_param(query, "start", 0)
        count = _int_param(query, "count", 50, highest=MAX_COUNT)
        sort = _param(query, "sort", "size")
        order = _param(query, "order", "desc")
        text = _param(query, "filter", "")
        with view.lock:
            return view.census(by, start, count, sort, order, text)

    def _row(self, query: Query, index: str) -> dict[str, Any]:
        view = self._snapshot(index)
        by = _param(query, "by", "clodo")
        kind = _param(query, "kind")
        row_index = _optional_int(query, "index")
        start = _int_param(query, "start", 0)
        count = _int_param(query, "count", 50, highest=MAX_COUNT)
        with view.lock:
            return view.row(by, kind, row_index, start, count)

    def _row_summary(self, query: Query, index: str) -> dict[str, Any]:
        view = self._snapshot(index)
        by = _param(query, "by", "clodo")
        return view.row_summary(by, _param(query, "kind"), _optional_int(query, "index"))

    def _object(self, query: Query, index: str, address: str) -> dict[str, Any]:
        view = self._snapshot(index)
        where = parse_address(address)
        with view.lock:
            return view.object(where)

    def _domtree(self, query: Query, index: str) -> dict[str, Any]:
        view = self._snapshot(index)
        node = _param(query, "node", "root")
        start = _int_param(query, "start", 0)
        count = _int_param(query, "count", 50, highest=MAX_COUNT)
        with view.lock:
            return view.domtree(node, start, count)

    def _suspects(self, query: Query, index: str) -> dict[str, Any]:
        view = self._snapshot(index)
        with view.lock:
            return view.suspects()

    def _compare(self, query: Query) -> dict[str, Any]:
        a = _int_param(query, "a", None if self.compare is None else self.compare[0])
        b = _int_param(query, "b", None if self.compare is None else self.compare[1])
        if a == b:
            raise RequestError(f"a={a} and b={b}: compare two different snapshots")
        va, vb = self._snapshot(str(a)), self._snapshot(str(b))
        first, second = (va, vb) if a < b else (vb, va)  # one lock order: no deadlock
        with first.lock, second.lock:
            if (a, b) not in self._compared:
                self._compared[(a, b)] = {"a": a, "b": b, **_comparison(va, vb)}
            return self._compared[(a, b)]

    # -- profiles -----------------------------------------------------------------------
    def _series(self, query: Query, index: str) -> dict[str, Any]:
        view = self._profile(index)
        by = _param(query, "by", "size")
        top = _int_param(query, "top", 8, lowest=1, highest=1000)
        with view.lock:
            return view.series(by, top)

    def _profile_diff(self, query: Query, index: str) -> dict[str, Any]:
        view = self._profile(index)
        a = _int_param(query, "a")
        b = _int_param(query, "b")
        with view.lock:
            return view.diff(a, b)


def _set(x: Any) -> dict[str, Any] | None:
    if x is None:
        return None
    rows = x.byclodo.rows
    return {
        "count": x.count,
        "size": x.size,
        "kinds": [{"kind": r.name, "count": r.count, "size": r.size} for r in rows[:COMPARE_KINDS]],
        "total_kinds": len(rows),
    }


def _comparison(a: SnapshotView, b: SnapshotView) -> dict[str, Any]:
    d = diff(a.snap, b.snap)
    return {
        "a_path": a.snap.path,
        "b_path": b.snap.path,
        "same_process": d.same_process,
        "new": _set(d.new),
        "freed": _set(d.freed),
        "survivors": _set(d.survivors),
        "by_kind": [
            {"kind": name, "count_change": dcount, "size_change": dsize} for name, dcount, dsize in d.by_kind.rows
        ],
    }
