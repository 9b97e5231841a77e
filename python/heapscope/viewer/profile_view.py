"""One Stat profile file's answers (``heapscope.profile``, guppy3's dumps): the series of
its censuses over time and the difference between two of them.

A profile may still be written to (live mode): every answer first reads what was
appended since the last one, from the byte offset where the last complete record ended
(a record being written is left for the next read), so a growing file costs only its
new part.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ..errors import StatFormatError
from ..stat import END, Stat, load_all
from .request_error import RequestError

SERIES_BY = ("size", "count")
OTHER = "other"
LINES = "<lines>"  # where load_all says records read from lines come from


class ProfileView:
    """The records of one profile file, re-read as it grows."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.records: list[Stat] = []
        self._offset = 0
        self.refresh()

    def refresh(self) -> None:
        """Reads the complete records appended since the last read (raises
        StatFormatError, OSError for a damaged or unreadable file)."""
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            data = f.read()
        end = data.rfind(END.encode())
        if end < 0:
            return
        newline = data.find(b"\n", end)
        if newline < 0:
            return  # the end line is still being written
        complete = data[: newline + 1]
        try:
            self.records.extend(load_all(complete.decode("utf-8").splitlines(keepends=True)))
        except StatFormatError as e:  # it names "<lines>": name the file
            raise StatFormatError(f"{self.path}: {str(e).removeprefix(LINES + ': ')}") from None
        self._offset += len(complete)

    def meta(self) -> dict[str, Any]:
        return {"records": len(self.records), "size": os.path.getsize(self.path)}

    def series(self, by: str, top: int) -> dict[str, Any]:
        if by not in SERIES_BY:
            raise RequestError(f"unknown by={by!r}: use size or count")
        self.refresh()
        column = 2 if by == "size" else 1
        records = self.records
        values: dict[str, list[int]] = {}
        for t, st in enumerate(records):
            for row in st.rows:
                name = row[0]
                series = values.get(name)
                if series is None:
                    series = values[name] = [0] * len(records)
                series[t] += row[column]
        ranked = sorted(values, key=lambda name: (-max(values[name]), name))
        shown, rest = ranked[:top], ranked[top:]
        kinds = [{"kind": name, "values": values[name]} for name in shown]
        if rest:
            kinds.append({"kind": OTHER, "values": [sum(values[name][t] for name in rest) for t in range(len(records))]})
        return {
            "by": by,
            "times": [st.timemade for st in records],
            "total": [st.size if by == "size" else st.count for st in records],
            "kinds": kinds,
            "records": len(records),
        }

    def diff(self, a: int, b: int) -> dict[str, Any]:
        self.refresh()
        n = len(self.records)
        for name, i in (("a", a), ("b", b)):
            if not 0 <= i < n:
                raise RequestError(f"{name}={i}: the profile has records 0..{n - 1}", 404)
        change = self.records[b] - self.records[a]
        return {
            "a": a,
            "b": b,
            "rows": [{"kind": name, "count_change": dc, "size_change": ds} for name, dc, ds in change.rows],
            "text": str(change),
        }
