"""heapscope's exception tree: everything derives from :class:`HeapscopeError`.

Errors raised by the native core are created in one place (``errors.rs`` of the binding
crate); errors of the Python layer subclass the same root here.
"""

from ._native import CaptureError, DifferentHeapsError, HeapscopeError, NotOneObjectError


class StatFormatError(HeapscopeError):
    """A Stat record (a dump file) could not be read."""


class TracemallocNotTracingError(HeapscopeError):
    """Classifying by allocation site (Prod) needs ``tracemalloc.start()``."""


__all__ = [
    "TracemallocNotTracingError","CaptureError", "DifferentHeapsError", "HeapscopeError", "NotOneObjectError", "StatFormatError"]
