"""The process's resident set size (RSS) now: the memory it holds in RAM.

Read from ``/proc/self/statm`` (Linux). ``resource.getrusage().ru_maxrss`` is the *peak*
RSS, which never falls, so it cannot tell the current size: where ``/proc`` is missing,
:func:`current_rss` says it does not know (``None``) instead of guessing.
"""

from __future__ import annotations

import os

_STATM = "/proc/self/statm"


def current_rss() -> int | None:
    """The resident set size of this process in bytes, or ``None`` where it cannot be
    read (no ``/proc``: not Linux)."""
    try:
        with open(_STATM, "rb") as f:
            resident_pages = int(f.read().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None
