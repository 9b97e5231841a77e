"""heapscope: what uses memory in a Python program, and why it is still alive.

Start a session with :func:`hpy` (Heapy's API)::

    from heapscope import hpy
    h = hpy()
    h.setref()          # reference point
    ...                 # run the code under suspicion
    print(h.heap())     # what survived, by kind
"""

from .errors import (
    CaptureError,
    DifferentHeapsError,
    HeapscopeError,
    NotOneObjectError,
    StatFormatError,
    TracemallocNotTracingError,
)
from .identity_set import IdentitySet
from .leaks import LeakError, LeakReport, assert_no_leaks
from .profile import profile
from .session import Session, hpy
from .stat import Stat, load, load_all

__all__ = [
    "CaptureError",
    "DifferentHeapsError",
    "HeapscopeError",
    "IdentitySet",
    "LeakError",
    "LeakReport",
    "NotOneObjectError",
    "Session",
    "Stat",
    "StatFormatError",
    "TracemallocNotTracingError",
    "assert_no_leaks",
    "hpy",
    "load",
    "load_all",
    "profile",
]
__version__ = "0.1.0"
