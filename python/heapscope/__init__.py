"""heapscope: what uses memory in a Python program, and why it is still alive.

Start a session with :func:`hpy` (Heapy's API)::

    from heapscope import hpy
    h = hpy()
    h.setref()          # reference point
    ...                 # run the code under suspicion
    print(h.heap())     # what survived, by kind

Snapshots: :func:`dump` writes the heap to a file, :func:`load` reads it back as a
session anywhere (no program module needed), :func:`diff` compares two or three,
:func:`export` writes one for Chrome DevTools, JSON-lines scripts or SQL (Parquet).
Triggers write them when something happens: :func:`dump_on_signal`,
:func:`dump_on_memory_error`, :func:`dump_when` (the RSS above a threshold).
"""

import os as _os
from typing import Any as _Any

from ._version import __version__ as __version__
from .errors import (
    AttachError,
    CaptureError,
    DifferentHeapsError,
    HeapscopeError,
    MonitorError,
    NotOneObjectError,
    NoSuchTypeError,
    SnapshotError,
    SnapshotFormatError,
    StatFormatError,
    TracemallocNotTracingError,
)
from .identity_set import IdentitySet
from .leaks import LeakError, LeakReport, assert_no_leaks
from .profile import profile
from .session import Session, hpy
from .snapshot import Snapshot, SnapshotDiff, diff, dump, export, is_snapshot_file
from .stat import Stat, load_all
from .triggers import dump_on_memory_error, dump_on_signal, dump_when
from . import snapshot as _snapshot
from . import stat as _stat


def load(source: _Any) -> _Any:
    """A snapshot file (see :func:`dump`) as a :class:`Snapshot` session; any other file
    or an iterable of lines as its first Stat record (Heapy's ``load``)."""
    if isinstance(source, (str, _os.PathLike)) and is_snapshot_file(source):
        return _snapshot.load(source)
    return _stat.load(source)


__all__ = [
    "AttachError",
    "CaptureError",
    "DifferentHeapsError",
    "HeapscopeError",
    "IdentitySet",
    "LeakError",
    "LeakReport",
    "MonitorError",
    "NoSuchTypeError",
    "NotOneObjectError",
    "Session",
    "Snapshot",
    "SnapshotDiff",
    "SnapshotError",
    "SnapshotFormatError",
    "Stat",
    "StatFormatError",
    "TracemallocNotTracingError",
    "assert_no_leaks",
    "diff",
    "dump",
    "dump_on_memory_error",
    "dump_on_signal",
    "dump_when",
    "export",
    "hpy",
    "is_snapshot_file",
    "load",
    "load_all",
    "profile",
]
