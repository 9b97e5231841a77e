"""Snapshots written when something happens in the process: a signal, a MemoryError,
the RSS crossing a threshold.

::

    import heapscope

    heapscope.dump_on_signal("app-{pid}-{n}.hsnap")              # kill -USR2 <pid>
    heapscope.dump_on_memory_error("oom-{pid}.hsnap")             # an uncaught MemoryError
    with heapscope.dump_on_memory_error("oom.hsnap"):             # ... or one leaving a block
        load_everything()
    watch = heapscope.dump_when(rss_above=2 << 30, path="big-{n}.hsnap")
    ...
    watch.cancel(); print(watch.dumps)

File names are patterns (:mod:`heapscope.dump_paths`): ``{pid}``, ``{time}`` and ``{n}``
(1, 2, 3... per trigger). Each write prints one line on stderr::

    heapscope: wrote snapshot app-4242-1.hsnap (183021 objects, 41.2 MB, 0.6 s)

(MB of 2**20 bytes: the objects' total size, not the file's.) A write that fails (no
memory left, disk full) prints why instead and never raises into the program. One
snapshot is written at a time in a process: a trigger that fires meanwhile waits for it,
except a signal, which is ignored then (and says so).
"""

from __future__ import annotations

import mmap
import os
import signal as signals
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType, TracebackType
from typing import Any

# what a dump imports lazily, imported now: a dump in a signal handler must not import
# (the interrupted code may be half-way through an import)
from . import relations as _relations  # noqa: F401
from . import root as _root  # noqa: F401
from .dump_paths import DumpPaths
from .errors import HeapscopeError
from .hidden import hidden_type
from .rss import current_rss
from .snapshot_writer import write_snapshot

#: ``MB`` in the report line.
_MB = 1 << 20

#: What a failed report falls back to when there is no memory for a better line.
_OUT_OF_MEMORY_LINE = b"heapscope: could not write a snapshot: out of memory\n"

#: What writing a snapshot needs (address space, measured on Linux, CPython 3.12):
#: about 20 MiB and 64 bytes per allocated block (``sys.getallocatedblocks()``).
_DUMP_BASE_BYTES = 20 << 20
_DUMP_BYTES_PER_BLOCK = 64

#: Held while a snapshot is written: one at a time per process.
_writing = threading.Lock()

#: Set on an exception a snapshot was written for, so that a context manager and a
#: hook that both see it write one snapshot.
_DUMPED_MARK = "_heapscope_dumped"


def say(line: str) -> None:
    """Print one line on stderr, never raising: a signal handler may have interrupted a
    write to ``sys.stderr`` (which then refuses a nested one), or memory may be short.
    Falls back to writing file descriptor 2 directly."""
    try:
        stream = sys.stderr
        if stream is not None:
            stream.write(line + "\n")
            stream.flush()
            return
    except Exception:
        pass
    try:
        os.write(2, (line + "\n").encode("utf-8", "replace"))
    except Exception:
        pass


def _missing_room() -> int | None:
    """``None`` when the process has room to write a snapshot, else the bytes it would
    need. The native writer cannot recover from an allocation that fails (the process
    would stop), so a snapshot is not begun without room: the estimated need is mapped
    (never touched: no RAM) and unmapped, which fails where ``RLIMIT_AS`` or the
    kernel's commit limit would fail the writer's allocations."""
    need = _DUMP_BASE_BYTES + _DUMP_BYTES_PER_BLOCK * sys.getallocatedblocks()
    room = _reserve(need)
    if room is None:
        return need
    room.close()
    return None


def _write_reported(path: str) -> str | None:
    """Write a snapshot to ``path`` and say so on stderr; the path, or ``None`` after
    saying why it failed. Call with ``_writing`` held."""
    start = time.monotonic()
    try:
        need = _missing_room()
        if need is not None:
            say(
                f"heapscope: could not write snapshot {path}: not enough memory left "
                f"(it needs about {need / _MB:.0f} MB); nothing written"
            )
            return None
        totals = write_snapshot(path)
    except Exception as e:  # MemoryError too: reported, not raised into the program
        try:
            why = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            say(f"heapscope: could not write snapshot {path}: {why}")
        except MemoryError:
            try:
                os.write(2, _OUT_OF_MEMORY_LINE)
            except OSError:
                pass
        return None
    say(
        f"heapscope: wrote snapshot {path} ({totals.objects} objects, "
        f"{totals.size / _MB:.1f} MB, {time.monotonic() - start:.1f} s)"
    )
    return path


def dump_now(paths: DumpPaths) -> str | None:
    """Write the next snapshot of ``paths`` now (after one being written ends) and say so
    on stderr: the path written, or ``None`` when it failed (said on stderr too)."""
    with _writing:
        return _write_reported(paths.next())


@hidden_type
class SignalTrigger:
    """Writes a snapshot each time the process receives :attr:`signal`
    (:func:`dump_on_signal`)."""

    def __init__(self, paths: DumpPaths, signum: signals.Signals) -> None:
        self.signal = signum
        self.dumps: list[str] = []
        self.ignored = 0
        self._paths = paths
        self._active = True
        # ValueError outside the main thread: only it may set handlers
        self._previous: Any = signals.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Python runs this in the main thread between two bytecodes, never inside the
        # C code the signal interrupted: the objects are consistent, a safe point.
        if not self._active:
            return
        if not _writing.acquire(blocking=False):
            # a dump is under way (this handler's own, interrupted again, or another
            # trigger's): one snapshot would follow the other, nearly the same
            self.ignored += 1
            say(f"heapscope: {self.signal.name} ignored: a snapshot is being written")
            return
        try:
            path = _write_reported(self._paths.next())
        finally:
            _writing.release()
        if path is not None:
            self.dumps.append(path)

    def cancel(self) -> None:
        """Restore the handler there was before (if this one is still installed; if
        another replaced it since, that one stays). Call from the main thread."""
        if not self._active:
            return
        self._active = False
        if signals.getsignal(self.signal) == self._on_signal:
            signals.signal(self.signal, self._previous if self._previous is not None else signals.SIG_DFL)

    def __repr__(self) -> str:
        state = "active" if self._active else "cancelled"
        return f"<heapscope dump on {self.signal.name} to {self._paths.pattern!r}: {len(self.dumps)} written, {state}>"


def dump_on_signal(
    path: str | os.PathLike[str], signal: int | None = None, *, numbering: Iterator[int] | None = None
) -> SignalTrigger:
    """Write a snapshot to ``path`` (a pattern: ``{pid}``, ``{time}``, ``{n}``) each time
    the process receives ``signal`` (``None``: ``SIGUSR2``, ``kill -USR2 <pid>``).

    The snapshot is written by the signal's Python handler, which runs in the main
    thread between two bytecodes: what it sees is the main thread's state at that point.
    A signal that comes while a snapshot is being written is ignored (counted in
    ``.ignored``, and said on stderr). A main thread blocked in a long C call (a lock, a
    large computation) runs the handler only when it returns; ``sleep``, ``select`` and
    reads are interrupted.

    Call from the main thread. Returns a handle: ``.dumps`` (paths written),
    ``.cancel()`` (restores the previous handler). ``numbering`` (an iterator such as
    ``itertools.count(1)``) is where ``{n}`` comes from when several triggers should
    number their files together."""
    signum = signals.Signals(signal if signal is not None else signals.SIGUSR2)
    return SignalTrigger(DumpPaths(path, numbering), signum)


def _reserve(size: int) -> mmap.mmap | None:
    """``size`` bytes of address space: an anonymous private mapping, counted against
    ``RLIMIT_AS`` and the kernel's commit limit (what runs out when Python raises
    MemoryError) but never touched, so it holds no RAM. ``None`` when it cannot be had."""
    if size <= 0:
        return None
    try:
        return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    except (OSError, ValueError, MemoryError, AttributeError):
        return None  # AttributeError: no MAP_PRIVATE (Windows); the dump just tries


@hidden_type
class MemoryErrorTrigger:
    """Writes a snapshot when a MemoryError goes uncaught (:func:`dump_on_memory_error`);
    also a context manager."""

    def __init__(self, paths: DumpPaths, reserve: int) -> None:
        self.dumps: list[str] = []
        self.reserve = reserve
        self._paths = paths
        self._reserved = _reserve(reserve)
        self._active = True
        self._previous_excepthook = sys.excepthook
        self._previous_threading_excepthook = threading.excepthook
        sys.excepthook = self._excepthook
        threading.excepthook = self._threading_excepthook

    def _excepthook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if self._active and isinstance(exc, MemoryError):
            self.dump_for(exc)
        self._previous_excepthook(exc_type, exc, tb)

    def _threading_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if self._active and isinstance(args.exc_value, MemoryError):
            self.dump_for(args.exc_value)
        self._previous_threading_excepthook(args)

    def dump_for(self, error: BaseException) -> str | None:
        """Write the snapshot for ``error`` (once per exception, whoever asks again):
        the reserve is released first and taken again after. The path, or ``None``."""
        if getattr(error, _DUMPED_MARK, False):
            return None
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None
        path = dump_now(self._paths)
        try:
            setattr(error, _DUMPED_MARK, True)
        except Exception:
            pass  # no memory for the mark: a second snapshot at worst
        if path is not None:
            self.dumps.append(path)
        if self._active:
            self._reserved = _reserve(self.reserve)
        return path

    def cancel(self) -> None:
        """Stop: restore the exception hooks there were before (those still ours) and
        release the reserve."""
        if not self._active:
            return
        self._active = False
        if sys.excepthook == self._excepthook:
            sys.excepthook = self._previous_excepthook
        if threading.excepthook == self._threading_excepthook:
            threading.excepthook = self._previous_threading_excepthook
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None

    def __enter__(self) -> MemoryErrorTrigger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if isinstance(exc, MemoryError):
                self.dump_for(exc)
        finally:
            self.cancel()

    def __repr__(self) -> str:
        state = "active" if self._active else "cancelled"
        return f"<heapscope dump on MemoryError to {self._paths.pattern!r}: {len(self.dumps)} written, {state}>"


def dump_on_memory_error(
    path: str | os.PathLike[str], *, reserve: int = 64 << 20, numbering: Iterator[int] | None = None
) -> MemoryErrorTrigger:
    """Write a snapshot to ``path`` (a pattern: ``{pid}``, ``{time}``, ``{n}``) when a
    MemoryError goes uncaught: in the main thread (``sys.excepthook``) or in another
    (``threading.excepthook``); the hooks there were are called after, as before.
    As a context manager, also when a MemoryError leaves the block (it still
    propagates), and the hooks are removed at the end of the block::

        with heapscope.dump_on_memory_error("oom-{pid}.hsnap"):
            build_the_index()

    The snapshot shows the heap when the error was raised as far as the frames of its
    traceback keep it. A dump needs memory too (about 20 MB and 64 bytes per allocated
    block): ``reserve`` bytes of address space are mapped now (never touched, so no RAM is
    used) and unmapped just before the dump, so a process stopped by ``ulimit -v``
    (``RLIMIT_AS``) or the kernel's commit limit has room for it; they are mapped again
    after. Before writing, the room is checked (the native writer cannot survive an
    allocation that fails); without it, or when the dump fails anyway, stderr says so
    and nothing is raised: the MemoryError goes on as it would have. A large heap wants
    a larger ``reserve``. (Where the kernel's OOM killer ends the process, as in most
    containers, there is no MemoryError: use :func:`dump_when` below the limit.)

    Returns a handle: ``.dumps`` (paths written), ``.cancel()`` (restores the hooks)."""
    return MemoryErrorTrigger(DumpPaths(path, numbering), reserve)


@hidden_type
class RssTrigger:
    """Writes a snapshot when the RSS goes above :attr:`rss_above` (:func:`dump_when`)."""

    def __init__(self, paths: DumpPaths, rss_above: int, interval: float, rearm_below: float) -> None:
        if rss_above <= 0:
            raise ValueError("rss_above must be a positive number of bytes")
        if interval <= 0:
            raise ValueError("interval must be positive")
        if not 0 < rearm_below <= 1:
            raise ValueError("rearm_below must be a fraction of rss_above in (0, 1]")
        if current_rss() is None:
            raise HeapscopeError("dump_when(rss_above=...) needs the current RSS, read from /proc/self/statm (Linux)")
        self.rss_above = rss_above
        self.rearm_at = int(rss_above * rearm_below)
        self.interval = interval
        self.dumps: list[str] = []
        self._paths = paths
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="heapscope-rss-trigger", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        armed = True
        try:
            while True:
                rss = current_rss()
                if rss is not None and armed and rss > self.rss_above:
                    armed = False
                    path = dump_now(self._paths)
                    if path is not None:
                        self.dumps.append(path)
                elif rss is not None and not armed and rss < self.rearm_at:
                    armed = True
                if self._stop.wait(self.interval):
                    return
        except BaseException as e:  # never into the program; the watch ends
            say(f"heapscope: the RSS trigger stopped: {type(e).__name__}: {e}")

    def cancel(self) -> None:
        """Stop watching; a snapshot being written is finished first."""
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join()

    def __repr__(self) -> str:
        state = "cancelled" if self._stop.is_set() else "active"
        return (
            f"<heapscope dump when RSS > {self.rss_above} bytes to {self._paths.pattern!r}: "
            f"{len(self.dumps)} written, {state}>"
        )


def dump_when(
    *,
    rss_above: int,
    path: str | os.PathLike[str],
    interval: float = 1.0,
    rearm_below: float = 0.9,
    numbering: Iterator[int] | None = None,
) -> RssTrigger:
    """Write a snapshot to ``path`` (a pattern: ``{pid}``, ``{time}``, ``{n}``) when the
    process's resident memory (RSS, read every ``interval`` seconds from
    ``/proc/self/statm``; Linux) goes above ``rss_above`` bytes.

    One snapshot per crossing: while the RSS stays above, nothing more is written; the
    trigger is armed again once the RSS falls below ``rearm_below`` (default 90%) of the
    threshold, so a process hovering at the threshold does not write a file per check.

    A daemon thread checks the RSS and writes the snapshot itself: a capture holds the
    GIL, so the main thread stands between two bytecodes (or in C code that released
    the GIL and does not touch objects) - the same safe point as a signal handler's,
    without waiting for a main thread that may be stuck in a long call.

    Returns a handle: ``.dumps`` (paths written), ``.cancel()`` (stops the thread)."""
    return RssTrigger(DumpPaths(path, numbering), rss_above, interval, rearm_below)
