"""File names of the snapshots and censuses that triggers write: patterns with
placeholders.

``{pid}``
    the process id;
``{time}``
    the local time of the write, ``20261201T094501`` (to the second);
``{n}``
    the number of the write: 1, 2, 3... of one trigger (or of the triggers that share a
    numbering, as those of ``heapscope run`` do).

Patterns are ``str.format`` strings, so ``{n:03}`` gives ``001`` and ``{{`` a brace.
"""

from __future__ import annotations

import datetime
import itertools
import os
from collections.abc import Iterator

from .hidden import hidden_type

#: How ``{time}`` is written.
TIME_FORMAT = "%Y%m%dT%H%M%S"

PLACEHOLDERS = ("pid", "time", "n")


def dump_path(pattern: str | os.PathLike[str], n: int, *, when: datetime.datetime | None = None) -> str:
    """``pattern`` with its placeholders filled in: ``{pid}``, ``{time}`` (``when``,
    default now, as ``20261201T094501``) and ``{n}``. An unknown placeholder or a stray
    brace is a :class:`ValueError` that names the pattern."""
    text = os.fspath(pattern)
    moment = when if when is not None else datetime.datetime.now()
    try:
        return text.format(pid=os.getpid(), time=moment.strftime(TIME_FORMAT), n=n)
    except KeyError as e:
        raise ValueError(
            f"file name pattern {text!r}: unknown placeholder {{{e.args[0]}}} "
            f"(known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}; write {{{{ for a brace)"
        ) from None
    except (IndexError, ValueError, AttributeError) as e:
        raise ValueError(f"file name pattern {text!r}: {e} (write {{{{ and }}}} for braces)") from None


@hidden_type
class DumpPaths:
    """A pattern and the numbering of its ``{n}``: :meth:`next` is the file name of the
    next write. The pattern is checked when made, not at the first write."""

    __slots__ = ("pattern", "_numbering")

    def __init__(self, pattern: str | os.PathLike[str], numbering: Iterator[int] | None = None) -> None:
        self.pattern = os.fspath(pattern)
        dump_path(self.pattern, 1)  # a bad pattern fails here, in the caller's setup
        self._numbering = numbering if numbering is not None else itertools.count(1)

    def next(self) -> str:
        """The file name of the next write (``{n}`` counts on)."""
        return dump_path(self.pattern, next(self._numbering))
