"""Progress on stderr for long loads, dumps and exports: drawn only on a terminal, so
pipes, logs and tests see none of it.

Two shapes: :class:`ProgressBar` when the work reports ``(done, total)`` (exports), and
:func:`elapsed` when it cannot (a load or a dump runs in native code without the GIL;
a thread redraws the elapsed time meanwhile).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_WIDTH = 30
_REDRAW_SECONDS = 0.1


def _enabled(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class ProgressBar:
    """``label  45% [#############.................]  3.2 s``, redrawn at most ten times
    a second; :meth:`update` is the callback exports call."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self._label = label
        self._stream = stream if stream is not None else sys.stderr
        self._on = _enabled(self._stream)
        self._start = time.monotonic()
        self._drawn = 0.0

    def update(self, done: int, total: int) -> None:
        if not self._on:
            return
        now = time.monotonic()
        if now - self._drawn < _REDRAW_SECONDS and done < total:
            return
        self._drawn = now
        share = min(1.0, done / total) if total > 0 else 0.0
        filled = int(share * _WIDTH)
        bar = "#" * filled + "." * (_WIDTH - filled)
        self._stream.write(f"\r{self._label} {share:4.0%} [{bar}] {now - self._start:5.1f} s")
        self._stream.flush()

    def close(self) -> None:
        """Clears the line (the command's own output follows)."""
        if self._on:
            self._stream.write("\r\x1b[K")
            self._stream.flush()


@contextmanager
def elapsed(label: str, stream: TextIO | None = None) -> Iterator[None]:
    """Shows ``label ... 1.3 s`` while the body runs (native work that releases the GIL)."""
    out = stream if stream is not None else sys.stderr
    if not _enabled(out):
        yield
        return
    start = time.monotonic()
    stop = threading.Event()

    def draw() -> None:
        while not stop.wait(_REDRAW_SECONDS):
            out.write(f"\r{label} ... {time.monotonic() - start:5.1f} s")
            out.flush()

    drawer = threading.Thread(target=draw, name="heapscope-progress", daemon=True)
    drawer.start()
    try:
        yield
    finally:
        stop.set()
        drawer.join()
        out.write("\r\x1b[K")
        out.flush()
