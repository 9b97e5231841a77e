"""heapscope's exception tree: everything derives from :class:`HeapscopeError`.

Errors raised by the native core are created in one place (``errors.rs`` of the binding
crate); errors of the Python layer subclass the same root here.
"""

from ._native import (
    CaptureError,
    DifferentHeapsError,
    HeapscopeError,
    NotOneObjectError,
    SnapshotError,
    SnapshotFormatError,
)


class StatFormatError(HeapscopeError):
    """A Stat record (a dump file) could not be read."""


class TracemallocNotTracingError(HeapscopeError):
    """Classifying by allocation site (Prod) needs ``tracemalloc.start()``."""


class NoSuchTypeError(HeapscopeError, LookupError):
    """A snapshot has no type of the name a kind gave (``snap.Type('pkg.mod.Nope')``)."""


class MonitorError(HeapscopeError):
    """The monitor (``heapscope.monitor``) could not start, connect or answer."""


class AttachError(MonitorError):
    """heapscope could not load its agent into another process (no gdb, ptrace not
    allowed, the process exited or runs a different Python); the target is unharmed."""


__all__ = [
    "AttachError",
    "CaptureError",
    "DifferentHeapsError",
    "HeapscopeError",
    "MonitorError",
    "NoSuchTypeError",
    "NotOneObjectError",
    "SnapshotError",
    "SnapshotFormatError",
    "StatFormatError",
    "TracemallocNotTracingError",
]
