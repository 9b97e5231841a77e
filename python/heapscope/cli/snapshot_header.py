"""The lines every file command prints first: which snapshot, of what process, when."""

from __future__ import annotations

from typing import Any

from ..snapshot import Snapshot


def describe(snap: Snapshot) -> str:
    """``Snapshot FILE: N objects, process RSS M MiB (pid P on HOST, Python V, TIME)``
    and the command line."""
    info = snap.info
    rss = info.get("rss")
    memory = f", process RSS {int(rss) / 2**20:.1f} MiB" if isinstance(rss, str) and rss.isdigit() else ""
    line = (
        f"Snapshot {snap.path}: {info.get('objects', '?')} objects{memory} "
        f"(pid {info.get('pid', '?')} on {info.get('hostname', '?')}, "
        f"Python {info.get('python_version', '?')}, {info.get('time', '?')})"
    )
    argv = info.get("argv")
    if isinstance(argv, list) and argv:
        line += "\n  command: " + " ".join(str(a) for a in argv)
    return line


def metadata(snap: Snapshot) -> dict[str, Any]:
    """The snapshot's path and recorded metadata, for ``--json``."""
    return {"path": snap.path, **snap.info}
