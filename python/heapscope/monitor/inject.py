"""Run a Python source string once inside another, unprepared CPython process.

``heapscope attach PID`` needs code in a process that never imported heapscope. This
module gets it there and knows nothing of what the code does: :func:`inject` makes
process ``pid`` run ``source`` once, with the GIL held, at a point where running Python
code is safe, waits until it has run and leaves the process running as before.

Routes, by the target's CPython version
---------------------------------------
* **3.10 to 3.13: gdb.** ``gdb -batch -nx`` runs a gdb-Python script (``_GDB_SCRIPT``)
  that attaches (in the script rather than with ``-p``, so that a refusal comes back
  as a record), stops every thread, looks at their backtraces, makes one of two kinds
  of inferior calls (below) and detaches. ``scheduler-locking off`` (gdb's default
  ``replay`` behaves so outside replay; the script sets it anyway) lets every other
  thread run while an inferior call runs, so a call that waits for the GIL gets it
  from a busy thread (the tests' 8-busy-threads target shows it). The script prints
  one ``HEAPSCOPE-INJECT {json}`` line per event into a file; only those are parsed.
* **3.14 and later: ``sys.remote_exec(pid, path)``** (PEP 768), when the interpreter
  running heapscope has it (3.14+); otherwise :class:`AttachError` says to run heapscope
  under that Python. Never used with gdb: 3.14 changed the interpreter's internals.

The two gdb methods
-------------------
1. **blocked-thread** (preferred). A thread that waits in a system call with the GIL
   released is at a safe point: it holds no interpreter lock, no allocator lock and is
   outside malloc. From that thread gdb calls ``PyGILState_Ensure()``,
   ``PyRun_SimpleString(code)`` and ``PyGILState_Release(state)``, so ``code`` runs on
   it with the GIL held; when the calls return, the thread goes back into its wait
   (gdb restores its registers, and the kernel restarts the interrupted call; CPython
   retries those that fail with EINTR anyway, PEP 475). A thread qualifies when
   - innermost, its backtrace is in a *wait region*: a CPython function that wraps a
     blocking call in ``Py_BEGIN_ALLOW_THREADS`` (``WAIT_REGIONS`` in the script),
     reached only through libc frames and named, allowed CPython frames;
   - no frame anywhere in it is *forbidden* (GIL hand-over, pending calls, allocators,
     the dynamic linker, stdio, thread creation, fork, finalization) and none is a
     signal handler;
   - ``PyGILState_Check()`` called on it answers 0: it does not hold the GIL (this
     also rules out a thread stopped in a region's code before its
     ``Py_BEGIN_ALLOW_THREADS``; it answers 1 whenever CPython cannot tell, which
     refuses the thread).
   Region names are static functions: a frame counts only where gdb found it in debug
   information, except exported regions (whose dynamic symbol names are exact). On a
   stripped distro Python (dynamic symbols only) this method is therefore refused for
   most waits, never guessed, and the pending-call method remains (seen with Debian's
   /usr/bin/python3.11: a busy process gets the pending call; an idle one is refused
   with "no safe point ... install the interpreter's debug symbols").
2. **pending-call** (when no thread waits in a known region, e.g. a busy pure-Python
   loop). ``Py_AddPendingCall(PyRun_SimpleString, code)`` queues the code for the main
   thread, which runs it at its next eval-breaker check (a bytecode boundary, with the
   GIL). ``PyRun_SimpleString`` has the ``int (*)(void *)`` shape pending calls want on
   x86-64. The call is made from a thread with no forbidden frame (the main thread
   when it qualifies: in 3.10 to 3.12 only a call from the main thread sets its eval
   breaker at once; from another thread the main thread notices the call at its next
   GIL switch). It takes only the pending-calls lock, so the thread must not be inside
   the pending-call code itself (forbidden frames) and, up to its innermost
   ``_PyEval_EvalFrameDefault``, every frame must have a name (libc's aside): on a
   stripped build a nameless static function could be ``make_pending_calls`` holding
   that lock. If no thread qualifies, gdb detaches and the attach is tried again
   (0.1 s later) until the deadline.

``code`` lives in a page the target maps with its own ``mmap`` (a system-call wrapper,
no locks) and gdb writes with ``Inferior.write_memory``: no call passes a string
literal, which would make gdb malloc in the target. The blocked-thread method unmaps
the page after its calls; a pending call may run any time later, so its page (4 KiB,
more for long sources) stays mapped.

What runs in the target
-----------------------
``code`` is a ``try: exec(compile(<wrapper>), {fresh dict}) except BaseException:
pass``: it binds no name in ``__main__`` and never lets an exception out (out of a
pending call, one would become a SystemError in the main thread; SystemExit would end
the process). The wrapper first renames a *ticket* file in a private directory: when
:func:`inject` gives up it renames the ticket itself, and the rename that loses makes
the other side stand down, so a pending call that runs after a timeout does nothing.
The wrapper then runs ``source`` in a fresh namespace (``__name__`` is
``__heapscope_inject__``) and writes ``ok`` or the exception's type and message into a
result file, which :func:`inject` reads. A KeyboardInterrupt that arrives while the
source runs is handed back to the main thread with ``_thread.interrupt_main()``.

gdb must not be killed during an inferior call: the called function returns to gdb's
breakpoint at the program's entry point, which without gdb kills the process (seen:
SIGSEGV). So gdb runs in its own session (a terminal's Ctrl-C does not reach it),
reports each phase, and :func:`inject` never signals it between ``calling`` and
``ran``: if a call outlasts the timeout, gdb is left to finish and detach on its own.
Outside calls, a stuck gdb gets SIGTERM (gdb then detaches) and then SIGKILL (the
kernel detaches the tracees); a target left stopped (a SIGSTOP of the attach still
pending) gets SIGCONT, which is why a target that is stopped before the attach is
refused.

Symbols relied on (x86-64 Linux, glibc; CPython built with threads)
-------------------------------------------------------------------
Called (all exported): ``PyGILState_Ensure``, ``PyGILState_Release``,
``PyGILState_Check``, ``PyRun_SimpleString``, ``Py_AddPendingCall``,
``Py_IsInitialized`` (3.10-3.13); ``_Py_IsFinalizing`` (3.10-3.12),
``Py_IsFinalizing`` (3.13); glibc ``mmap``, ``munmap``.

Wait regions (functions holding a blocking call between ``Py_BEGIN_ALLOW_THREADS``
and ``Py_END_ALLOW_THREADS``), 3.10-3.13 unless said: ``pysleep`` (time.sleep),
``sock_call_ex`` (socket calls), ``select_select_impl``, ``select_poll_poll_impl``,
``select_epoll_poll_impl`` (select module, asyncio's selector), ``_Py_read`` (os.read,
unbuffered file reads), ``_io_FileIO_readinto_impl``, ``_io_FileIO_readall_impl``,
``_io_FileIO_read_impl`` (file and stdin reads, where ``_Py_read`` is inlined),
``os_waitpid_impl`` (os.waitpid), ``acquire_timed``
(``_thread`` lock and RLock waits, queue.get, Event.wait, join; 3.10-3.12),
``PyThread_acquire_lock_timed_with_retries`` (the same, 3.13, exported),
``ThreadHandle_join`` (Thread.join, 3.13: parks in ``_PySemaphore_Wait`` with
``detach=1``, which releases the GIL).

Forbidden anywhere in the chosen thread's backtrace: ``take_gil``, ``drop_gil``,
``drop_gil_impl``, ``PyEval_RestoreThread``, ``PyEval_SaveThread``,
``PyEval_AcquireThread``, ``PyEval_ReleaseThread``, ``PyEval_AcquireLock``,
``PyEval_ReleaseLock``, ``PyGILState_Ensure``, ``PyGILState_Release``,
``PyThreadState_Swap``, ``_PyThreadState_Swap``, ``_PyThreadState_Attach``,
``_PyThreadState_Detach`` (3.13), ``eval_frame_handle_pending`` (3.10, 3.11),
``_Py_HandlePending`` (3.12, 3.13), ``Py_AddPendingCall``, ``_PyEval_AddPendingCall``,
``_push_pending_call``, ``_pop_pending_call``, ``make_pending_calls``,
``_make_pending_calls`` (3.12, 3.13), ``Py_MakePendingCalls``,
``_PyEval_MakePendingCalls``, ``_Py_FinishPendingCalls``, ``handle_signals``,
``_PyImport_AcquireLock``, ``_PyImport_ReleaseLock``, ``Py_FinalizeEx``,
``PyOS_BeforeFork``, ``PyOS_AfterFork_Parent``, ``PyOS_AfterFork_Child``; every name
that mentions an allocator (``malloc``, ``calloc``, ``realloc`` but not ``prealloc``,
``free``, ``memalign``, ``arena``, ``pool``, ``tcache``, mimalloc's ``mi_``), the
dynamic linker (``_dl_``, ``dlopen``, ``dlclose``, ``dlsym``), stdio (``_IO_``,
``printf``, ``fwrite``, ``fputs``, ``fflush``), thread creation or fork
(``pthread_create``, ``allocate_stack``, ``fork``). Inlined functions (``pysleep``,
``sock_call_ex``, ``_push_pending_call``, ``eval_frame_handle_pending``...) appear as
gdb inline frames where debug information exists; the names were checked against the
DWARF of the pyenv builds 3.10.13, 3.11.7, 3.12.1 and 3.13.0.
"""

from __future__ import annotations

import itertools
import json
import mmap
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import AttachError

_OLDEST = (3, 10)
_GDB_NEWEST = (3, 13)
_RECORD_PREFIX = "HEAPSCOPE-INJECT "
_RETRY_PAUSE = 0.1
_CALL_GRACE = 30.0
"""How long past the timeout :func:`inject` waits for an inferior call to return
before it leaves gdb to finish alone (killing it then would kill the target)."""
_TERM_GRACE = 5.0
_CAP_SYS_PTRACE = 19

_GDB_SCRIPT = r'''
import json
import os
import re

import gdb

PARAMS = json.loads(os.environ["HEAPSCOPE_INJECT"])
PAGE = 4096
PROT_READ_WRITE = 3
MAP_PRIVATE_ANONYMOUS = 0x22

WAIT_REGIONS = {
    # name: valid without debug information (an exported, hence exactly named, symbol)
    "pysleep": False,
    "sock_call_ex": False,
    "select_select_impl": False,
    "select_poll_poll_impl": False,
    "select_epoll_poll_impl": False,
    "_Py_read": False,
    # file reads (sys.stdin.readline, f.read): _Py_read is inlined into these in the
    # optimised builds, so the wait shows as them; PyGILState_Check() still tells
    # whether the thread is inside the read with the GIL released
    "_io_FileIO_readinto_impl": False,
    "_io_FileIO_readall_impl": False,
    "_io_FileIO_read_impl": False,
    "os_waitpid_impl": False,
}
if PARAMS["minor"] <= 12:
    WAIT_REGIONS["acquire_timed"] = False
else:
    WAIT_REGIONS["PyThread_acquire_lock_timed_with_retries"] = True
    WAIT_REGIONS["ThreadHandle_join"] = False

FORBIDDEN = {
    "take_gil", "drop_gil", "drop_gil_impl", "PyEval_RestoreThread", "PyEval_SaveThread",
    "PyEval_AcquireThread", "PyEval_ReleaseThread", "PyEval_AcquireLock",
    "PyEval_ReleaseLock", "PyGILState_Ensure", "PyGILState_Release", "PyThreadState_Swap",
    "_PyThreadState_Swap", "_PyThreadState_Attach", "_PyThreadState_Detach",
    "eval_frame_handle_pending", "_Py_HandlePending", "Py_AddPendingCall",
    "_PyEval_AddPendingCall", "_push_pending_call", "_pop_pending_call",
    "make_pending_calls", "_make_pending_calls", "Py_MakePendingCalls",
    "_PyEval_MakePendingCalls", "_Py_FinishPendingCalls", "handle_signals",
    "_PyImport_AcquireLock", "_PyImport_ReleaseLock", "Py_FinalizeEx", "PyOS_BeforeFork",
    "PyOS_AfterFork_Parent", "PyOS_AfterFork_Child",
}
FORBIDDEN_PATTERN = re.compile(
    r"malloc|calloc|(?<!p)realloc|free|memalign|arena|pool|tcache|^_?mi_|_dl_|^dl_|dlopen|dlclose"
    # glibc's stdio internals are _IO_* (case matters: CPython's io module is _io_*)
    r"|dlsym|(?-i:^_IO_)|printf|fwrite|fputs|fflush|pthread_create|allocate_stack|fork",
    re.IGNORECASE,
)
LIBC = re.compile(r"/lib(c|pthread)[.-][^/]*$")


def report(event, **fields):
    fields["event"] = event
    print("HEAPSCOPE-INJECT " + json.dumps(fields), flush=True)


class Frame:
    def __init__(self, frame):
        self.name = frame.name()
        self.debug = frame.function() is not None
        self.libc = bool(LIBC.search(gdb.solib_name(frame.pc()) or ""))
        self.signal_handler = frame.type() == gdb.SIGTRAMP_FRAME


def backtrace(thread):
    """The thread's frames, innermost first; None where gdb cannot unwind it."""
    thread.switch()
    frames = []
    frame = gdb.newest_frame()
    try:
        while frame is not None:
            frames.append(Frame(frame))
            frame = frame.older()
    except gdb.error:
        return None
    return frames


def forbidden(frames):
    """Why code must not run on a thread with these frames, or None."""
    if frames is None:
        return "its stack cannot be unwound"
    for frame in frames:
        if frame.signal_handler:
            return "it runs a signal handler"
        if frame.name in FORBIDDEN or (frame.name and FORBIDDEN_PATTERN.search(frame.name)):
            return "it is inside " + frame.name
    return None


def wait_region(frames):
    """The wait region the thread blocks in, or why it does not qualify."""
    for frame in frames:
        if frame.name in WAIT_REGIONS:
            if frame.debug or WAIT_REGIONS[frame.name]:
                return frame.name, None
            return None, "no debug information names " + frame.name
        if frame.name is None and not frame.libc:
            return None, "a frame has no name (no debug information: install the interpreter's debug symbols)"
    return None, "it waits in no known GIL-released call"


def named_to_eval_loop(frames):
    """Whether every frame up to the innermost eval loop has a name (libc aside): on a
    stripped build, a nameless static function might hold the pending-calls lock."""
    for frame in frames:
        if frame.name == "_PyEval_EvalFrameDefault":
            return True
        if frame.name is None and not frame.libc:
            return False
    return True


def address(name):
    try:
        return int(gdb.parse_and_eval("(long) &" + name))
    except gdb.error:
        return None


def call(signature, function, *args):
    """An inferior call; the reports around it tell the injector not to kill gdb."""
    text = "((%s) %d)(%s)" % (signature, function, ", ".join(str(a) for a in args))
    report("calling")
    value = gdb.parse_and_eval(text)
    report("returned")
    return value


def interpreter_ready(symbols):
    if int(call("int (*)(void)", symbols["Py_IsInitialized"])) == 0:
        return "the interpreter is not initialized"
    if int(call("int (*)(void)", symbols["finalizing"])) != 0:
        return "the interpreter is shutting down"
    return None


def map_code(symbols, code):
    size = (len(code) + 1 + PAGE - 1) // PAGE * PAGE
    page = int(call("long (*)(long, long, long, long, long, long)", symbols["mmap"],
                    0, size, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0))
    if page == -1:
        raise gdb.GdbError("mmap failed in the target")
    gdb.selected_inferior().write_memory(page, code + b"\0")
    return page, size


def unmap(symbols, page, size):
    call("int (*)(long, long)", symbols["munmap"], page, size)


def blocked_thread(symbols, thread, region, code):
    thread.switch()
    if int(call("int (*)(void)", symbols["PyGILState_Check"])) != 0:
        return "it holds the GIL (or CPython cannot tell)"
    why = interpreter_ready(symbols)
    if why:
        return why
    page, size = map_code(symbols, code)
    report("holding")  # from Ensure to Release, a killed gdb would leave the GIL taken
    state = int(call("int (*)(void)", symbols["PyGILState_Ensure"]))
    try:
        rc = int(call("int (*)(long)", symbols["PyRun_SimpleString"], page))
    finally:
        call("void (*)(int)", symbols["PyGILState_Release"], state)
    report("released")
    report("ran", method="blocked-thread", thread=thread.ptid[1], region=region, rc=rc)
    unmap(symbols, page, size)
    return None


def pending_call(symbols, thread, code):
    thread.switch()
    why = interpreter_ready(symbols)
    if why:
        return why
    page, size = map_code(symbols, code)
    rc = int(call("int (*)(long, long)", symbols["Py_AddPendingCall"],
                  symbols["PyRun_SimpleString"], page))
    if rc != 0:
        unmap(symbols, page, size)
        return "the pending-call queue is full"
    report("queued", method="pending-call", thread=thread.ptid[1])
    return None


def inject(pid):
    names = ["PyGILState_Ensure", "PyGILState_Release", "PyGILState_Check",
             "PyRun_SimpleString", "Py_AddPendingCall", "Py_IsInitialized", "mmap", "munmap"]
    symbols = {name: address(name) for name in names}
    symbols["finalizing"] = address("Py_IsFinalizing") or address("_Py_IsFinalizing")
    missing = sorted(name for name, value in symbols.items() if not value)
    if missing:
        report("unsupported", message="symbols not found: " + ", ".join(missing))
        return
    code = PARAMS["code"].encode("utf-8")
    threads = sorted(gdb.selected_inferior().threads(), key=lambda t: t.ptid[1] != pid)
    stacks = {thread.num: backtrace(thread) for thread in threads}
    reasons = []
    for thread in threads:
        frames = stacks[thread.num]
        why = forbidden(frames)
        region = None
        if why is None:
            region, why = wait_region(frames)
        if region is not None:
            why = blocked_thread(symbols, thread, region, code)
            if why is None:
                return
        reasons.append("thread %d (%s): %s" % (thread.ptid[1], thread.name, why))
    for thread in threads:
        frames = stacks[thread.num]
        if forbidden(frames) is None and named_to_eval_loop(frames):
            why = pending_call(symbols, thread, code)
            if why is None:
                return
            reasons.append("thread %d: %s" % (thread.ptid[1], why))
            break
    report("no-safe-point", reasons=reasons)


def main():
    # Signals pass to the target without stopping gdb, so no call is ever interrupted
    # half-way.
    for command in ("set pagination off", "set confirm off", "set print thread-events off",
                    "set print inferior-events off", "handle all nostop noprint pass",
                    "handle SIGINT nostop noprint pass"):
        gdb.execute(command, to_string=True)
    pid = PARAMS["pid"]
    try:
        gdb.execute("attach %d" % pid, to_string=True)
    except gdb.error as error:
        report("attach-failed", message=str(error))
        return
    try:
        # Every thread runs during an inferior call (gdb's default, said explicitly;
        # it needs a live target).
        gdb.execute("set scheduler-locking off", to_string=True)
        inject(pid)
    except gdb.error as error:
        report("gdb-error", message=str(error))
    finally:
        try:
            gdb.execute("detach", to_string=True)
            report("detached")
        except gdb.error as error:
            report("detach-failed", message=str(error))


main()
'''

_WRAPPER = r'''
import os, _thread
try:
    os.rename(TICKET, TICKET + ".taken")
except OSError:
    pass  # the injector gave up (timed out) before this ran: do nothing
else:
    try:
        exec(compile(SOURCE, "<heapscope-inject>", "exec"), {"__name__": "__heapscope_inject__"})
        outcome = "ok"
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            _thread.interrupt_main()  # a Ctrl-C meant for the target: deliver it again
        kind = type(error)
        name = kind.__qualname__ if kind.__module__ == "builtins" else kind.__module__ + "." + kind.__qualname__
        try:
            message = " ".join(str(error).split())
        except BaseException:
            message = "(its message could not be read)"
        outcome = "error\n" + name + (": " + message if message else "")
    try:
        with open(RESULT + ".tmp", "w", encoding="utf-8") as file:
            file.write(outcome)
        os.replace(RESULT + ".tmp", RESULT)
    except OSError:
        pass
'''


def target_python(pid: int) -> tuple[int, int]:
    """The (major, minor) CPython version the process runs (from /proc/PID/maps:
    libpython3.X.so, or the executable's name / its ELF symbols when statically
    linked); AttachError if it is no CPython process or no such process."""
    return _target_build(pid).version


@dataclass(frozen=True)
class _Build:
    version: tuple[int, int]
    free_threaded: bool


_LIBPYTHON = re.compile(r"/libpython(\d+)\.(\d+)(t?)[a-z]*\.so")
_EXE_NAME = re.compile(r"python(\d+)\.(\d+)(t?)$")
_PY_VERSION = re.compile(rb"\x00(3)\.(\d{1,2})\.\d{1,2}(?:(?:a|b|rc)\d+)?\+?\x00")


def _target_build(pid: int) -> _Build:
    state = _process_state(pid)
    if state is None:
        raise AttachError(f"no process {pid}")
    if state in ("Z", "X"):
        raise AttachError(f"process {pid} has exited")
    maps = _read_proc(pid, "maps")
    found = {(int(m[1]), int(m[2]), m[3] == "t") for m in _LIBPYTHON.finditer(maps)}
    if len(found) == 1:
        major, minor, free_threaded = found.pop()
        return _Build((major, minor), free_threaded)
    if len(found) > 1:
        raise AttachError(f"process {pid} has several libpython libraries loaded; attaching needs one")
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
        with open(f"/proc/{pid}/exe", "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as image:
            exports_cpython = image.find(b"\x00PyRun_SimpleString\x00") >= 0
            versions = {(int(m[1]), int(m[2])) for m in _PY_VERSION.finditer(image)}
    except FileNotFoundError:
        raise AttachError(f"no process {pid}") from None
    except (OSError, ValueError) as error:
        raise AttachError(f"cannot read the executable of process {pid}: {error}") from None
    if not exports_cpython:
        raise AttachError(f"process {pid} ({_command(pid)}) is not a CPython process")
    named = _EXE_NAME.search(exe.removesuffix(" (deleted)"))
    if named:
        return _Build((int(named[1]), int(named[2])), named[3] == "t")
    if len(versions) == 1:
        return _Build(versions.pop(), False)
    raise AttachError(f"cannot tell which CPython version process {pid} ({exe}) runs")


def inject(pid: int, source: str, timeout: float = 30.0) -> str:
    """Makes process `pid` run `source` (Python statements, compiled and run with the GIL
    held at a safe point, in a fresh namespace) once; waits until it has run (or raises);
    detaches. Returns the method used: "blocked-thread", "pending-call" or
    "remote_exec"."""
    deadline = time.monotonic() + timeout
    if pid == os.getpid():
        raise AttachError("heapscope cannot inject code into its own process")
    build = _target_build(pid)
    route = _route(build)
    _check_attachable(pid)
    with _exchange(pid, source) as exchange:
        if route == "remote_exec":
            method = _inject_remote_exec(pid, exchange)
        else:
            method = _inject_with_gdb(pid, build.version, exchange, deadline, timeout)
        _await_outcome(pid, exchange, deadline, timeout, returned=method == "blocked-thread")
    return method


def _route(build: _Build) -> str:
    """Which route reaches a target of this build: "gdb" or "remote_exec"."""
    major, minor = build.version
    if build.version < _OLDEST:
        raise AttachError(f"the process runs CPython {major}.{minor}: heapscope attaches to CPython 3.10 and later")
    if build.free_threaded and build.version <= _GDB_NEWEST:
        raise AttachError(f"the process runs a free-threaded CPython {major}.{minor}t, which heapscope cannot attach to")
    if build.version <= _GDB_NEWEST:
        return "gdb"
    if hasattr(sys, "remote_exec"):
        return "remote_exec"
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    raise AttachError(
        f"the process runs CPython {major}.{minor}, which only sys.remote_exec (PEP 768) can enter: "
        f"run heapscope under Python {major}.{minor} (this is Python {here})"
    )


def _check_attachable(pid: int) -> None:
    """Refuses targets that cannot be entered safely before anything touches them."""
    state = _process_state(pid)
    if state == "Z" or state == "X":
        raise AttachError(f"process {pid} has exited")
    if state in ("T", "t"):
        raise AttachError(f"process {pid} is stopped (resume it with kill -CONT {pid})")
    tracer = _status_field(pid, "TracerPid")
    if tracer not in (None, "0"):
        raise AttachError(f"process {pid} is already traced by process {tracer} (a debugger?)")
    try:
        same_mounts = os.stat(f"/proc/{pid}/ns/mnt").st_ino == os.stat("/proc/self/ns/mnt").st_ino
    except OSError:
        same_mounts = True  # cannot tell: the exchange files will show it
    if not same_mounts:
        raise AttachError(f"process {pid} runs in another mount namespace (a container): run heapscope inside it")


@dataclass(frozen=True)
class _Exchange:
    """The private directory the target reports to, and the code that does it."""

    ticket: Path
    result: Path
    code: str
    """Statements that run the wrapper in a fresh namespace and never raise."""


@contextmanager
def _exchange(pid: int, source: str) -> Iterator[_Exchange]:
    directory = Path(tempfile.mkdtemp(prefix="heapscope-inject-"))
    try:
        uid = _target_uid(pid)
        if uid is not None and uid != os.geteuid() and os.geteuid() == 0:
            os.chown(directory, uid, -1)  # the target writes its result here
        ticket = directory / "ticket"
        ticket.touch()
        result = directory / "result"
        wrapper = f"SOURCE = {source!r}\nTICKET = {str(ticket)!r}\nRESULT = {str(result)!r}\n{_WRAPPER}"
        code = (
            f"try:\n    exec(compile({wrapper!r}, '<heapscope-inject>', 'exec'), {{'__name__': '__heapscope_inject__'}})\n"
            "except BaseException:\n    pass\n"
        )
        yield _Exchange(ticket, result, code)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _inject_remote_exec(pid: int, exchange: _Exchange) -> str:
    script = exchange.ticket.with_name("remote_exec.py")
    script.write_text(exchange.code, encoding="utf-8")
    script.chmod(0o644)
    try:
        sys.remote_exec(pid, str(script))  # type: ignore[attr-defined]
    except Exception as error:
        raise AttachError(f"sys.remote_exec could not enter process {pid}: {error}") from None
    return "remote_exec"


def _await_outcome(pid: int, exchange: _Exchange, deadline: float, timeout: float, *, returned: bool) -> None:
    """Waits for the wrapper's result (``returned``: the code has already run); on the
    deadline, disarms the code if it has not started yet. Raises AttachError for a
    timeout or for an exception in the source."""
    while not exchange.result.exists():
        if returned:
            if exchange.ticket.exists():
                raise AttachError(f"the injected code failed to start in process {pid} (see its stderr)")
            raise AttachError(f"the injected source ran in process {pid} but could not report its outcome")
        if not Path(f"/proc/{pid}").exists() or _process_state(pid) in ("Z", "X"):
            raise AttachError(f"process {pid} exited before the injected source finished")
        if time.monotonic() > deadline:
            try:
                exchange.ticket.rename(exchange.ticket.with_name("cancelled"))
            except FileNotFoundError:
                if time.monotonic() < deadline + _CALL_GRACE:
                    time.sleep(0.02)
                    continue  # it has started: give it time to finish
                raise AttachError(
                    f"the injected source started in process {pid} but did not finish within {timeout:g} s"
                ) from None
            raise AttachError(
                f"process {pid} reached no safe point within {timeout:g} s "
                "(its main thread did not return to Python code); nothing was run"
            )
        time.sleep(0.02)
    outcome = exchange.result.read_text(encoding="utf-8")
    if outcome != "ok":
        error = outcome.partition("\n")[2]
        raise AttachError(f"the injected source raised in process {pid}: {error}")


@dataclass
class _GdbRun:
    """The records one gdb run printed, and the last lines of its other output."""

    records: list[dict[str, object]]
    chatter: list[str]
    cut_short: bool = False
    """The deadline came before gdb finished (it was not inside a call)."""

    def last(self, event: str) -> dict[str, object] | None:
        return next((r for r in reversed(self.records) if r["event"] == event), None)


def _inject_with_gdb(pid: int, version: tuple[int, int], exchange: _Exchange, deadline: float, timeout: float) -> str:
    gdb = shutil.which("gdb")
    if gdb is None:
        raise AttachError("gdb is not installed; it is needed to attach to CPython 3.10-3.13: apt-get install gdb")
    with tempfile.TemporaryDirectory(prefix="heapscope-gdb-") as workdir:
        script = Path(workdir, "inject.py")
        script.write_text(_GDB_SCRIPT, encoding="utf-8")
        params = json.dumps({"pid": pid, "minor": version[1], "code": exchange.code})
        reasons: list[object] = []
        for attempt in itertools.count():
            run = _run_gdb(gdb, script, Path(workdir, f"gdb-{attempt}.out"), params, pid, deadline, timeout)
            for event, method in (("ran", "blocked-thread"), ("queued", "pending-call")):
                if run.last(event) is not None:
                    return method
            if run.cut_short:
                if reasons:
                    break
                raise AttachError(f"gdb did not finish attaching to process {pid} within {timeout:g} s")
            _raise_for_failure(pid, run)
            retry = run.last("no-safe-point")
            reasons = list(retry["reasons"]) if retry and isinstance(retry["reasons"], list) else reasons
            if time.monotonic() + _RETRY_PAUSE > deadline:
                break
            time.sleep(_RETRY_PAUSE)
    detail = "; ".join(str(reason) for reason in reasons)
    raise AttachError(f"process {pid} reached no safe point within {timeout:g} s ({detail})")


_PROTECTED_BY = {"calling": "call", "holding": "gil"}
_PROTECTION_ENDS = {"returned": "call", "released": "gil"}
"""gdb's phase records that open and close a span in which it must not be killed: an
inferior call, and the target thread holding the GIL between Ensure and Release."""

_ORPHANED: list[subprocess.Popen[bytes]] = []
"""gdb processes left to finish an inferior call on their own (kept from the GC)."""


def _run_gdb(gdb: str, script: Path, output: Path, params: str, pid: int, deadline: float, timeout: float) -> _GdbRun:
    """Runs the gdb script once. Never signals gdb inside an inferior call. gdb writes
    to a file, not a pipe: an orphaned gdb must not die of SIGPIPE when we are gone."""
    command = [gdb, "-batch", "-nx", "-iex", "set debuginfod enabled off", "-iex", "set auto-load off", "-x", str(script)]
    with open(output, "wb") as sink:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HEAPSCOPE_INJECT": params},
            start_new_session=True,  # a Ctrl-C in the terminal must not interrupt its calls
        )
    run = _GdbRun([], [])
    protected = {"call": False, "gil": False}
    try:
        with open(output, encoding="utf-8", errors="replace") as lines:
            partial = ""
            while True:
                exited = process.poll() is not None
                partial += lines.read()
                *complete, partial = partial.split("\n")
                for line in complete:
                    record = _parse_record(line, run)
                    if record in _PROTECTED_BY:
                        protected[_PROTECTED_BY[record]] = True
                    elif record in _PROTECTION_ENDS:
                        protected[_PROTECTION_ENDS[record]] = False
                if exited:
                    break
                in_call = any(protected.values())
                if time.monotonic() > deadline + (_CALL_GRACE if in_call else 0.0):
                    if in_call:
                        _ORPHANED.append(process)
                        raise AttachError(
                            f"the injected source is still running in process {pid} after {timeout:g} s; "
                            f"gdb (pid {process.pid}) stays attached until it returns: do not kill it"
                        )
                    _stop_gdb(process)
                    run.cut_short = True
                    break
                time.sleep(0.02)
            _parse_record(partial, run)
    except BaseException:
        if process.poll() is None:
            if any(protected.values()):
                _ORPHANED.append(process)  # it finishes its call and detaches by itself
            else:
                _stop_gdb(process)
        raise
    finally:
        if run.last("detached") is None and not any(protected.values()):
            _resume_if_stopped(pid)
    return run


def _parse_record(line: str, run: _GdbRun) -> object:
    """Adds one line of gdb's output to ``run``; the event name if it is a record."""
    if line.startswith(_RECORD_PREFIX):
        record = json.loads(line[len(_RECORD_PREFIX) :])
        run.records.append(record)
        return record["event"]
    if line.strip():
        run.chatter = [*run.chatter[-9:], line.strip()]
    return None


def _stop_gdb(process: subprocess.Popen[bytes]) -> None:
    """Ends a gdb that is not inside an inferior call: SIGTERM makes gdb detach."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(_TERM_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()  # the kernel detaches its tracees
        process.wait()


def _resume_if_stopped(pid: int) -> None:
    """A gdb that ended without detaching may leave its attach's SIGSTOP behind; the
    target was not stopped before (checked), so continue it."""
    if _process_state(pid) == "T":
        os.kill(pid, signal.SIGCONT)


def _raise_for_failure(pid: int, run: _GdbRun) -> None:
    """AttachError for a gdb run that neither ran the code nor found no safe point."""
    if run.last("no-safe-point") is not None:
        return
    failed = run.last("attach-failed") or run.last("gdb-error") or run.last("unsupported")
    message = str(failed["message"]) if failed else " / ".join(run.chatter[-3:]) or "gdb printed nothing"
    if not Path(f"/proc/{pid}").exists() or _process_state(pid) in ("Z", "X"):
        raise AttachError(f"process {pid} exited during the attach")
    if "Operation not permitted" in message:
        raise AttachError(_ptrace_denied(pid))
    if failed is not None and failed["event"] == "unsupported":
        raise AttachError(f"process {pid} cannot be entered: {message}")
    raise AttachError(f"gdb could not inject into process {pid}: {message}")


def _ptrace_denied(pid: int) -> str:
    """Why the kernel refused ptrace, and what to change."""
    privileged = _has_cap_sys_ptrace()
    uid = _target_uid(pid)
    if uid is not None and uid != os.geteuid() and not privileged:
        return f"ptrace of process {pid} not permitted (EPERM): it belongs to uid {uid}; run heapscope as that user or as root"
    scope = _yama_ptrace_scope()
    if scope >= 3:
        return "ptrace is disabled (kernel.yama.ptrace_scope=3; only a reboot changes it)"
    if scope == 2 and not privileged:
        return "ptrace needs CAP_SYS_PTRACE here (kernel.yama.ptrace_scope=2): run heapscope as root"
    if scope == 1 and not privileged:
        return (
            "ptrace of non-child processes is not permitted (kernel.yama.ptrace_scope=1): "
            "run `sysctl kernel.yama.ptrace_scope=0` as root, or run heapscope as root"
        )
    return (
        f"ptrace of process {pid} not permitted (EPERM): the process may be non-dumpable (setuid), "
        "or ptrace is blocked (a container needs --cap-add=SYS_PTRACE)"
    )


def _yama_ptrace_scope() -> int:
    """The Yama LSM's ptrace restriction, 0 (classic ptrace rules) where Yama is absent."""
    try:
        return int(Path("/proc/sys/kernel/yama/ptrace_scope").read_text())
    except (OSError, ValueError):
        return 0


def _has_cap_sys_ptrace() -> bool:
    effective = _status_field(os.getpid(), "CapEff")
    return effective is not None and bool(int(effective, 16) >> _CAP_SYS_PTRACE & 1)


def _read_proc(pid: int, name: str) -> str:
    try:
        return Path(f"/proc/{pid}/{name}").read_text(errors="replace")
    except FileNotFoundError:
        raise AttachError(f"no process {pid}") from None
    except PermissionError:
        raise AttachError(f"cannot read /proc/{pid}/{name}: {_ptrace_denied(pid)}") from None
    except ProcessLookupError:
        raise AttachError(f"no process {pid}") from None


def _process_state(pid: int) -> str | None:
    """The state letter of /proc/PID/stat (R, S, D, T, t, Z, X), None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[0]


def _status_field(pid: int, name: str) -> str | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key == name:
                return value.split()[0] if value.split() else ""
    except OSError:
        return None
    return None


def _target_uid(pid: int) -> int | None:
    uid = _status_field(pid, "Uid")
    return int(uid) if uid else None


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"
