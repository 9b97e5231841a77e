"""A console's side in the monitored process: a thread that runs the client's lines in
a namespace of its own (``h = hpy()`` ready) and sends back what they print.

Output: while a command runs, ``sys.stdout``, ``sys.stderr`` and ``sys.displayhook``
are routers that send what the console's thread writes to the client and pass
everything else to the process's own streams unchanged; they are put back when no
command runs (unless the program replaced them meanwhile). Tracebacks are formatted
here: ``sys.last_traceback`` and friends are not set, so nothing of a failed command is
kept alive in the process.

Ctrl-C at the client interrupts the command: KeyboardInterrupt is raised in the
console's thread (``PyThreadState_SetAsyncExc``, a public C API function of every
CPython version), at its next bytecode: a native call under way (a heap capture, a
``time.sleep``) finishes first. ``exit`` at the client just closes the connection; ``SystemExit`` raised
by a command is reported, never let through to the process.
"""

from __future__ import annotations

import builtins
import codeop
import ctypes
import os
import queue
import sys
import threading
import traceback
from typing import Any, Callable

from ..hidden import hidden_type

Send = Callable[[dict[str, Any]], None]

_route_lock = threading.Lock()
_sinks: dict[int, Callable[[str], None]] = {}  # thread id -> where its output goes
_namespaces: dict[int, dict[str, Any]] = {}  # thread id -> its console's namespace (for `_`)
_installed: dict[str, Any] = {}  # "stdout"/"stderr"/"displayhook" -> the process's own


@hidden_type
class _RoutedStream:
    """Stands for a standard stream: the console thread's writes go to the client."""

    def __init__(self, original: Any) -> None:
        self._original = original

    def write(self, text: str) -> int:
        sink = _sinks.get(threading.get_ident())
        if sink is not None:
            sink(str(text))
            return len(text)
        if self._original is None:
            return len(text)
        return int(self._original.write(text))

    def flush(self) -> None:
        if threading.get_ident() not in _sinks and self._original is not None:
            self._original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


def _routed_displayhook(value: Any) -> None:
    sink = _sinks.get(threading.get_ident())
    if sink is None:
        _installed["displayhook"](value)
        return
    if value is not None:
        sink(repr(value) + "\n")
        _namespaces[threading.get_ident()]["_"] = value  # the console's `_`, not builtins._


def _route(thread_id: int, sink: Callable[[str], None], namespace: dict[str, Any]) -> None:
    with _route_lock:
        if not _sinks:
            _installed["stdout"], _installed["stderr"] = sys.stdout, sys.stderr
            _installed["displayhook"] = sys.displayhook
            sys.stdout = _RoutedStream(sys.stdout)  # type: ignore[assignment]
            sys.stderr = _RoutedStream(sys.stderr)  # type: ignore[assignment]
            sys.displayhook = _routed_displayhook
        _sinks[thread_id] = sink
        _namespaces[thread_id] = namespace


def _unroute(thread_id: int) -> None:
    with _route_lock:
        _sinks.pop(thread_id, None)
        _namespaces.pop(thread_id, None)
        if not _sinks:
            _restore_streams()


def _restore_streams() -> None:
    """Puts the process's own streams back, unless it replaced ours meanwhile."""
    if _installed:
        if isinstance(sys.stdout, _RoutedStream):
            sys.stdout = _installed["stdout"]
        if isinstance(sys.stderr, _RoutedStream):
            sys.stderr = _installed["stderr"]
        if sys.displayhook is _routed_displayhook:
            sys.displayhook = _installed["displayhook"]
    _installed.clear()


def _reset_routes_in_child() -> None:
    """A fork during a command: the child has no console; its streams are its own."""
    _restore_streams()
    _sinks.clear()
    _namespaces.clear()


os.register_at_fork(after_in_child=_reset_routes_in_child)


def _set_async_exc(thread_id: int, exc: Any) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), exc)


@hidden_type
class ConsoleSession:
    """One client's console: its namespace and the thread running its commands."""

    def __init__(self, send: Send) -> None:
        from ..session import hpy

        self._send = send
        self.namespace: dict[str, Any] = {
            "__name__": "__heapscope_console__",
            "__builtins__": builtins,
            "h": hpy(),
            "hpy": hpy,
            "__main__": sys.modules.get("__main__"),  # the program's globals: __main__.NAME
        }
        self._compile = codeop.CommandCompiler()
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._busy = False  # a command was submitted and has not ended
        self._running = False  # the console's thread is inside that command: interruptible
        self._thread = threading.Thread(target=self._run, name="heapscope-monitor-console", daemon=True)
        self._thread.start()

    def submit(self, source: str) -> bool:
        """Runs ``source`` next; False while a command is still running."""
        with self._lock:
            if self._busy:
                return False
            self._busy = True
        self._queue.put(source)
        return True

    def interrupt(self) -> None:
        """KeyboardInterrupt in the running command (nothing if none runs). Only while
        the console's thread is inside the command (``_running``, set and cleared by
        that thread under the lock, the pending exception withdrawn as it is cleared):
        never in its own bookkeeping, never in a thread that took its id after it."""
        with self._lock:
            if self._running and self._thread.is_alive() and self._thread.ident is not None:
                _set_async_exc(self._thread.ident, ctypes.py_object(KeyboardInterrupt))

    def close(self) -> None:
        """The client went away: interrupts a command still running, ends the thread."""
        self.interrupt()
        self._queue.put(None)

    def _run(self) -> None:
        ident = threading.get_ident()
        while True:
            source = self._queue.get()
            if source is None:
                return
            more = False
            try:
                with self._lock:
                    self._running = True
                _route(ident, self._output, self.namespace)
                try:
                    more = self._run_source(source)
                finally:
                    _unroute(ident)
            except KeyboardInterrupt:  # arrived after the command, in our own code
                pass
            self._end_command(ident)
            self._send({"done": True, "more": more})

    def _end_command(self, ident: int) -> None:
        """No interrupt can be pending after this (one landing while it runs is retried)."""
        while True:
            try:
                with self._lock:
                    self._running = False
                    self._busy = False
                    _set_async_exc(ident, None)  # an interrupt that came too late
                return
            except KeyboardInterrupt:
                continue

    def _output(self, text: str) -> None:
        if text:
            self._send({"out": text})

    def _whole_block(self, source: str, error: SyntaxError) -> Any:
        """Several statements at once (a pasted block, a script piped in), which a
        console line cannot be: compiled as a module and run without echoing values;
        else the console's error is reported."""
        try:
            return compile(source, "<heapscope>", "exec")
        except (SyntaxError, OverflowError, ValueError):
            pass  # not a valid block either: the error of the console's own reading
        self._output("".join(traceback.format_exception_only(type(error), error)))
        return None

    def _run_source(self, source: str) -> bool:
        """Runs one console input; True when it is incomplete (more lines needed)."""
        try:
            code = self._compile(source, "<heapscope>", "single")
        except SyntaxError as e:
            code = self._whole_block(source, e)
            if code is None:
                return False
        except (OverflowError, ValueError) as e:
            self._output("".join(traceback.format_exception_only(type(e), e)))
            return False
        if code is None:
            return True
        try:
            exec(code, self.namespace)
        except SystemExit:
            self._output("SystemExit: the console does not end the process (type exit to detach)\n")
        except KeyboardInterrupt:
            self._output("KeyboardInterrupt\n")
        except BaseException as e:  # noqa: BLE001 - a command's error is the client's to read
            tb = e.__traceback__.tb_next if e.__traceback__ is not None else None  # not our frame
            self._output("".join(traceback.format_exception(type(e), e, tb)))
            e.__traceback__ = None  # keep nothing of the command alive
        return False
