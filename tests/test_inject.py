"""heapscope.monitor.inject: running a source string once in another, unprepared CPython.

Each supported pyenv CPython (3.10-3.13) runs a plain target script in one of six
states; the test injects a marker-writing source twice, checks both markers, that the
target still does its work and that it exits with 0 when told to. Set
``HEAPSCOPE_INJECT_LOG=FILE`` to get one line per injection (version, state, method,
seconds).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from heapscope.errors import AttachError
from heapscope.monitor import inject as inject_module
from heapscope.monitor.inject import inject, target_python

ALL_VERSIONS = ["3.10", "3.11", "3.12", "3.13"]
# Targets of the Python running the tests: scripts/test runs the suite once per version,
# so each version is injected into by its own run. HEAPSCOPE_INJECT_ALL_VERSIONS=1 makes
# one run try every version found (the matrix from a single interpreter).
VERSIONS = (
    ALL_VERSIONS
    if os.environ.get("HEAPSCOPE_INJECT_ALL_VERSIONS") == "1"
    else [f"{sys.version_info[0]}.{sys.version_info[1]}"]
)
STATES = ["sleep", "accept", "queue", "busy", "threads", "asyncio"]
THREADS = 8

TARGET = r'''
import asyncio, os, queue, socket, sys, threading, time

state, stop_file = sys.argv[1], sys.argv[2]
stdin_lines = queue.Queue()


def read_stdin():
    """Control messages: numbers for the queue state, "quit" for everyone."""
    for line in sys.stdin:
        stdin_lines.put(line.strip())
    stdin_lines.put("quit")


def quit_requested():
    return not stdin_lines.empty() and stdin_lines.get() == "quit"


if state == "sleep":
    threading.Thread(target=read_stdin, daemon=True).start()
    print("ready", flush=True)
    naps = 0
    while not quit_requested():
        time.sleep(0.5)
        naps += 1
    print("naps", naps)

elif state == "accept":
    server = socket.create_server(("127.0.0.1", 0))
    print("ready", server.getsockname()[1], flush=True)
    while True:
        connection, _ = server.accept()
        with connection:
            request = connection.makefile("rb").readline().strip()
            if request == b"quit":
                break
            connection.sendall(request.upper() + b"\n")

elif state == "queue":
    threading.Thread(target=read_stdin, daemon=True).start()
    print("ready", flush=True)
    while (item := stdin_lines.get()) != "quit":
        print("doubled", int(item) * 2, flush=True)

elif state == "busy":
    print("ready", flush=True)
    total = count = 0
    while count % 100_000 or not os.path.exists(stop_file):
        total += count * count
        count += 1
    print("squares", count, total)

elif state == "threads":
    stop = threading.Event()
    counts, sizes = [0] * THREADS, [0] * THREADS

    def work(index):
        while not stop.is_set():
            table = {key: [key] * 3 for key in range(50)}
            rows = [list(value) for value in table.values()]
            counts[index] += 1
            sizes[index] += sum(map(len, rows))

    workers = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for worker in workers:
        worker.start()
    threading.Thread(target=lambda: (stdin_lines.get(), stop.set()), daemon=True).start()
    threading.Thread(target=read_stdin, daemon=True).start()
    print("ready", flush=True)
    for worker in workers:
        worker.join()
    print("built", sum(counts), sum(sizes))

elif state == "asyncio":
    async def main():
        stop = asyncio.Event()

        async def handle(reader, writer):
            request = (await reader.readline()).strip()
            if request == b"quit":
                stop.set()
            else:
                writer.write(request.upper() + b"\n")
                await writer.drain()
            writer.close()

        sleepers = [asyncio.create_task(asyncio.sleep(3600)) for _ in range(5)]
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        print("ready", server.sockets[0].getsockname()[1], flush=True)
        await stop.wait()
        for task in sleepers:
            task.cancel()
        server.close()
        await server.wait_closed()
        print("served")

    asyncio.run(main())
'''.replace("THREADS", str(THREADS))


def _pyenv_root() -> str:
    if os.environ.get("PYENV_ROOT"):
        return os.environ["PYENV_ROOT"]
    pyenv = shutil.which("pyenv")
    if pyenv is not None:
        done = subprocess.run([pyenv, "root"], capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    return os.path.expanduser("~/.pyenv")


def _interpreter(version: str) -> str | None:
    """CPython ``version`` as scripts/test finds it (pyenv), else on PATH."""
    found = sorted(glob.glob(f"{_pyenv_root()}/versions/{version}.*/bin/python{version}"))
    return found[-1] if found else shutil.which(f"python{version}")


class Target:
    """A target interpreter in one state, talking over stdin/stdout."""

    def __init__(self, python: str, state: str, directory: Path) -> None:
        script = directory / "target.py"
        script.write_text(TARGET)
        self.stop_file = directory / "stop"
        self.state = state
        self.process = subprocess.Popen(
            [python, str(script), state, str(self.stop_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().split()
        assert ready[:1] == ["ready"], self.process.stderr.read() if self.process.stderr else ""
        self.port = int(ready[1]) if len(ready) > 1 else None
        self.pid = self.process.pid

    def ask(self, request: str) -> str:
        """One request to a socket-serving target, its answer."""
        assert self.port is not None
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as connection:
            connection.sendall(request.encode() + b"\n")
            return connection.makefile().readline().strip()

    def tell(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def finish(self) -> tuple[str, str]:
        """Tells the target to stop; its stdout and stderr once it exited with 0."""
        if self.state in ("accept", "asyncio"):
            with socket.create_connection(("127.0.0.1", self.port or 0), timeout=10) as connection:
                connection.sendall(b"quit\n")
        elif self.state == "busy":
            self.stop_file.touch()
        else:
            self.tell("quit")
        out, err = self.process.communicate(timeout=30)
        assert self.process.returncode == 0, err
        return out, err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(BrokenPipeError):
                stream and stream.close()
        self.process.wait()


def _marker_source(marker: Path, number: int) -> str:
    return textwrap.dedent(
        f"""
        import os, threading
        with open({str(marker)!r}, "a") as file:
            file.write(f"{{os.getpid()}} {{threading.current_thread().name}} {number}\\n")
        """
    )


def _timed_inject(pid: int, source: str) -> tuple[str, float]:
    started = time.monotonic()
    method = inject(pid, source)
    return method, time.monotonic() - started


def _log(line: str) -> None:
    log = os.environ.get("HEAPSCOPE_INJECT_LOG")
    if log:
        with open(log, "a") as file:
            file.write(line + "\n")


@pytest.fixture(scope="module")
def gdb_works(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Skips what needs gdb when it is missing or ptrace is refused here."""
    if shutil.which("gdb") is None:
        if os.environ.get("HEAPSCOPE_REQUIRE_CONSUMERS") == "1":
            pytest.fail("gdb is not installed (HEAPSCOPE_REQUIRE_CONSUMERS=1: .ci/install-consumers installs it)")
        pytest.skip("gdb is not installed (apt-get install gdb)")
    python = _interpreter("3.12") or sys.executable
    target = Target(python, "sleep", tmp_path_factory.mktemp("probe"))
    try:
        inject(target.pid, "pass")
    except AttachError as error:
        if "ptrace" in str(error):
            pytest.skip(f"ptrace is not permitted here: {error}")
        raise
    finally:
        target.kill()


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("version", VERSIONS)
def test_inject_twice_and_target_keeps_working(gdb_works: None, version: str, state: str, tmp_path: Path) -> None:
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"no CPython {version} under {_pyenv_root()}/versions nor on PATH")
    target = Target(python, state, tmp_path)
    marker = tmp_path / "marker"
    try:
        assert target_python(target.pid) == tuple(map(int, version.split(".")))
        methods, seconds = zip(*(_timed_inject(target.pid, _marker_source(marker, n)) for n in (1, 2)))
        assert set(methods) <= {"blocked-thread", "pending-call"}
        lines = marker.read_text().splitlines()
        for method, taken, line in zip(methods, seconds, lines):
            _log(f"{version} {state} {method} {taken:.2f} {line.split()[1]}")
        assert [line.split()[0] for line in lines] == [str(target.pid)] * 2
        assert [line.split()[-1] for line in lines] == ["1", "2"]
        if state == "busy":
            assert methods == ("pending-call", "pending-call")  # no thread ever waits
        if state in ("sleep", "accept", "queue", "asyncio"):
            assert methods == ("blocked-thread", "blocked-thread")

        if state in ("accept", "asyncio"):
            assert target.ask("hello") == "HELLO"
        if state == "queue":
            target.tell("21")
            assert target.process.stdout is not None
            assert target.process.stdout.readline().split() == ["doubled", "42"]
        out, err = target.finish()
        assert "Traceback" not in err, err
        if state == "busy":
            _, count, total = out.split()
            n = int(count)
            assert n > 0 and int(total) == (n - 1) * n * (2 * n - 1) // 6
        if state == "threads":
            _, built, size = out.split()
            assert int(built) > 0 and int(size) == int(built) * 150
    finally:
        target.kill()


def test_source_that_raises_comes_back_and_target_survives(gdb_works: None, tmp_path: Path) -> None:
    python = _interpreter("3.12") or sys.executable
    target = Target(python, "sleep", tmp_path)
    try:
        with pytest.raises(AttachError, match=r"raised in process \d+: ValueError: boom$"):
            inject(target.pid, "raise ValueError('boom')")
        with pytest.raises(AttachError, match=r"SystemExit: 3$"):
            inject(target.pid, "raise SystemExit(3)")  # must not end the target
        with pytest.raises(AttachError, match=r"SyntaxError"):
            inject(target.pid, "def (")
        marker = tmp_path / "marker"
        inject(target.pid, _marker_source(marker, 1))
        assert marker.read_text().split()[-1] == "1"
        out, err = target.finish()
        assert "Traceback" not in err
    finally:
        target.kill()


def test_no_safe_point_within_timeout_disarms_the_call(gdb_works: None, tmp_path: Path) -> None:
    """A main thread in a C call that holds the GIL (libc sleep through ctypes.PyDLL):
    the pending call is queued, the timeout passes, and when the call finally runs it
    does nothing."""
    python = _interpreter("3.12") or sys.executable
    marker = tmp_path / "marker"
    script = "import ctypes; print('ready', flush=True); ctypes.PyDLL(None).sleep(6); print('woke')"
    process = subprocess.Popen([python, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        with pytest.raises(AttachError, match=r"reached no safe point within 3 s"):
            inject(process.pid, _marker_source(marker, 1), timeout=3.0)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0 and out == "woke\n" and not err
        assert not marker.exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_target_that_exits_during_the_attach(gdb_works: None, tmp_path: Path) -> None:
    python = _interpreter("3.12") or sys.executable
    target = Target(python, "sleep", tmp_path)
    try:
        with pytest.raises(AttachError, match=rf"^process {target.pid} exited during the attach$"):
            inject(target.pid, "import os; os._exit(0)")
        assert target.process.wait(timeout=10) == 0
    finally:
        target.kill()


def test_stuck_gdb_is_stopped_and_target_left_running(
    gdb_works: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A gdb that hangs while attached (outside any inferior call) is ended at the
    deadline; the kernel's detach leaves the target running and untraced."""
    stuck = "import json, os, time, gdb\n"
    stuck += "gdb.execute('attach %d' % json.loads(os.environ['HEAPSCOPE_INJECT'])['pid'])\n"
    stuck += "time.sleep(60)\n"
    monkeypatch.setattr(inject_module, "_GDB_SCRIPT", stuck)
    python = _interpreter("3.12") or sys.executable
    target = Target(python, "queue", tmp_path)
    try:
        with pytest.raises(AttachError, match=r"gdb did not finish attaching to process \d+ within 2 s$"):
            inject(target.pid, "pass", timeout=2.0)
        assert inject_module._process_state(target.pid) in ("S", "R")
        assert inject_module._status_field(target.pid, "TracerPid") == "0"
        target.tell("5")
        assert target.process.stdout is not None
        assert target.process.stdout.readline().split() == ["doubled", "10"]
        target.finish()
    finally:
        target.kill()


def test_ptrace_refusals_are_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inject_module, "_has_cap_sys_ptrace", lambda: False)
    monkeypatch.setattr(inject_module, "_target_uid", lambda pid: os.geteuid() + 1)
    assert "belongs to uid" in inject_module._ptrace_denied(1)
    monkeypatch.setattr(inject_module, "_target_uid", lambda pid: os.geteuid())
    for scope, expected in [(1, "sysctl kernel.yama.ptrace_scope=0"), (2, "run heapscope as root"), (3, "reboot")]:
        monkeypatch.setattr(inject_module, "_yama_ptrace_scope", lambda scope=scope: scope)
        assert expected in inject_module._ptrace_denied(1)
    monkeypatch.setattr(inject_module, "_yama_ptrace_scope", lambda: 0)
    assert "SYS_PTRACE" in inject_module._ptrace_denied(1)


def test_no_such_process() -> None:
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    pid = next(p for p in range(pid_max - 1, 1, -1) if not Path(f"/proc/{p}").exists())
    with pytest.raises(AttachError, match=rf"^no process {pid}$"):
        inject(pid, "pass")
    with pytest.raises(AttachError, match=rf"^no process {pid}$"):
        target_python(pid)


def test_not_a_python_process() -> None:
    process = subprocess.Popen(["sleep", "60"])
    try:
        with pytest.raises(AttachError, match=r"\(sleep\) is not a CPython process$"):
            inject(process.pid, "pass")
        assert process.poll() is None
    finally:
        process.kill()
        process.wait()


def test_exited_target(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while inject_module._process_state(process.pid) != "Z":  # exited, not yet reaped
        assert time.monotonic() < deadline
        time.sleep(0.02)
    with pytest.raises(AttachError, match=rf"^process {process.pid} has exited$"):
        inject(process.pid, "pass")
    process.wait()
    with pytest.raises(AttachError, match=rf"^no process {process.pid}$"):
        inject(process.pid, "pass")


def test_gdb_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    python = _interpreter("3.12") or sys.executable
    target = Target(python, "sleep", tmp_path)
    try:
        monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
        with pytest.raises(AttachError, match=r"gdb is not installed.*apt-get install gdb$"):
            inject(target.pid, "pass")
        monkeypatch.undo()
        out, err = target.finish()
        assert out.startswith("naps")
    finally:
        target.kill()


def test_too_old_python(tmp_path: Path) -> None:
    python = _interpreter("3.9")
    if python is None:
        pytest.skip(f"no CPython 3.9 under {_pyenv_root()}/versions nor on PATH")
    target = Target(python, "sleep", tmp_path)
    try:
        assert target_python(target.pid) == (3, 9)
        with pytest.raises(AttachError, match=r"runs CPython 3\.9: heapscope attaches to CPython 3\.10 and later$"):
            inject(target.pid, "pass")
    finally:
        target.kill()


@pytest.fixture
def pretend_314(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A live process that inject() takes for a CPython 3.14."""
    process = subprocess.Popen(["sleep", "60"])
    monkeypatch.setattr(inject_module, "_target_build", lambda pid: inject_module._Build((3, 14), False))
    yield process.pid
    process.kill()
    process.wait()


def test_314_uses_remote_exec(pretend_314: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[tuple[int, str]] = []

    def remote_exec(pid: int, script: str) -> None:
        """Stands in for PEP 768: runs the script, as the target would, elsewhere."""
        calls.append((pid, script))
        subprocess.run([sys.executable, script], check=True)

    monkeypatch.setattr(sys, "remote_exec", remote_exec, raising=False)
    marker = tmp_path / "marker"
    assert inject(pretend_314, _marker_source(marker, 7)) == "remote_exec"
    assert [pid for pid, _ in calls] == [pretend_314]
    assert marker.read_text().split()[-1] == "7"
    with pytest.raises(AttachError, match=r"ZeroDivisionError: division by zero$"):
        inject(pretend_314, "1 / 0")


def test_314_without_remote_exec(pretend_314: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "remote_exec", raising=False)
    with pytest.raises(AttachError, match=r"run heapscope under Python 3\.14"):
        inject(pretend_314, "pass")


def test_route_by_version(monkeypatch: pytest.MonkeyPatch) -> None:
    build = inject_module._Build
    monkeypatch.delattr(sys, "remote_exec", raising=False)
    assert inject_module._route(build((3, 10), False)) == "gdb"
    assert inject_module._route(build((3, 13), False)) == "gdb"
    with pytest.raises(AttachError, match="free-threaded"):
        inject_module._route(build((3, 13), True))
    monkeypatch.setattr(sys, "remote_exec", lambda pid, script: None, raising=False)
    assert inject_module._route(build((3, 13), False)) == "gdb"
    assert inject_module._route(build((3, 14), False)) == "remote_exec"
    assert inject_module._route(build((3, 15), True)) == "remote_exec"
