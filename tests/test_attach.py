"""``heapscope attach``/``dump PID``/``summary PID`` on processes that never enabled the
monitor, in the states a real program is found in: idle in ``time.sleep``, blocked in
``socket.accept`` or on a queue, a busy pure-Python loop, many threads allocating, an
asyncio server with pending tasks. Each is attached to (the agent loaded through
:mod:`heapscope.monitor.inject`), dumped, detached, attached again (its agent answers),
then must still do its own work right and exit cleanly. tests/test_inject.py covers the
injection itself on every Python version against plain interpreters."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

import heapscope
from heapscope.monitor.client import MonitorClient, agent_socket

from .running_program import RunningProgram

if shutil.which("gdb") is None and os.environ.get("HEAPSCOPE_REQUIRE_CONSUMERS") == "1":
    raise RuntimeError("gdb is not installed (HEAPSCOPE_REQUIRE_CONSUMERS=1: .ci/install-consumers installs it)")
pytestmark = pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed (apt-get install gdb)")

# Every target: a thread answers the test on stdin ("work" -> an answer computed now;
# "exit" -> the main thread is told to finish), the main thread is in its STATE, and
# at the end the program prints what it did and exits 0.
PROLOGUE = """
import sys, threading, time, socket, queue, asyncio
STOP = threading.Event()
def answer_work():
    for line in sys.stdin:
        command = line.strip()
        if command == "work":
            print("work", sum(i * i for i in range(1000)), flush=True)
        elif command == "exit":
            STOP.set()
            wake()
            return
def wake():
    pass
"""

STATES = {
    "sleep": """
threading.Thread(target=answer_work, daemon=True).start()
print("ready", flush=True)
naps = 0
while not STOP.is_set():
    time.sleep(0.5)
    naps += 1
print("done sleep", naps > 0, flush=True)
""",
    "accept": """
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
PORT = server.getsockname()[1]
def wake():
    socket.create_connection(("127.0.0.1", PORT)).close()
threading.Thread(target=answer_work, daemon=True).start()
print("ready", PORT, flush=True)
served = 0
while True:
    conn, _ = server.accept()
    if STOP.is_set():
        conn.close()
        break
    data = conn.recv(100)
    conn.sendall(data[::-1])
    conn.close()
    served += 1
print("done accept", served, flush=True)
""",
    "queue": """
Q = queue.Queue()
def wake():
    Q.put(None)
threading.Thread(target=answer_work, daemon=True).start()
print("ready", flush=True)
got = 0
while True:
    item = Q.get()
    if item is None:
        break
    got += item
print("done queue", got, flush=True)
""",
    "busy": """
threading.Thread(target=answer_work, daemon=True).start()
print("ready", flush=True)
n = 0
total = 0
while not STOP.is_set():
    n += 1
    total += n % 7
print("done busy", n > 0 and total == sum(i % 7 for i in range(1, n + 1)), flush=True)
""",
    "threads": """
RESULTS = []
def churn(k):
    rounds = 0
    while not STOP.is_set():
        box = [dict(i=i, s=str(i)) for i in range(200)]
        assert len(box) == 200 and box[-1]["s"] == "199"
        rounds += 1
    RESULTS.append(rounds)
workers = [threading.Thread(target=churn, args=(k,), name=f"churn-{k}") for k in range(8)]
for w in workers:
    w.start()
threading.Thread(target=answer_work, daemon=True).start()
print("ready", flush=True)
for w in workers:
    w.join()
print("done threads", len(RESULTS) == 8 and all(r > 0 for r in RESULTS), flush=True)
""",
    "asyncio": """
async def handle(reader, writer):
    data = await reader.readline()
    writer.write(data[::-1])
    await writer.drain()
    writer.close()
async def sleeper(i):
    await asyncio.sleep(3600)
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    pending = [asyncio.ensure_future(sleeper(i)) for i in range(50)]
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    global wake
    wake = lambda: loop.call_soon_threadsafe(stopped.set)
    threading.Thread(target=answer_work, daemon=True).start()
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    await stopped.wait()
    still = sum(not t.done() for t in pending)
    for t in pending:
        t.cancel()
    server.close()
    await server.wait_closed()
    print("done asyncio", still, flush=True)
asyncio.run(main())
""",
}

EXPECTED_END = {
    "sleep": "done sleep True",
    "accept": "done accept 2",
    "queue": "done queue 0",
    "busy": "done busy True",
    "threads": "done threads True",
    "asyncio": "done asyncio 50",
}


class Program(RunningProgram):
    """A target in one state."""

    def __init__(self, tmp: Path, state: str) -> None:
        script = tmp / f"{state}_program.py"
        script.write_text(PROLOGUE + textwrap.dedent(STATES[state]))
        env = {k: v for k, v in os.environ.items() if k != "HEAPSCOPE_MONITOR"}
        super().__init__(sys.executable, script, env=env)
        self.state = state
        self.port = int(self.ready[1]) if len(self.ready) > 1 else None

    def works(self) -> bool:
        return self.answers("work", "work 332833500")

    def echo(self) -> bytes:
        assert self.port is not None
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as c:
            c.sendall(b"heapscope\n")
            return c.recv(100)


def heapscope_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "heapscope", *args], capture_output=True, text=True, timeout=180)


@pytest.fixture(params=list(STATES))
def program(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Program]:
    p = Program(tmp_path, request.param)
    yield p
    p.close()


def test_attach_dump_detach_attach_again_and_the_program_goes_on(program: Program, tmp_path: Path) -> None:
    state = program.state
    assert agent_socket(program.proc.pid) is None
    out = tmp_path / f"{state}.hsnap"
    dumped = heapscope_cli("dump", str(program.proc.pid), "-o", str(out))  # attaches: no agent yet
    assert dumped.returncode == 0, dumped.stderr
    assert agent_socket(program.proc.pid) is not None
    snap = heapscope.load(str(out))
    assert snap.info["pid"] == str(program.proc.pid) and snap.heap().count > 1000
    if state in ("accept", "asyncio"):
        assert program.echo() == b"\nepocspaeh"
    assert program.works()

    # detached: the agent stays and answers; the second time is a connection, no gdb
    summary = heapscope_cli("summary", str(program.proc.pid), "-n", "3")
    assert summary.returncode == 0 and "Partition of a set of" in summary.stdout, summary.stderr
    with MonitorClient.to_pid(program.proc.pid) as client:
        text: list[str] = []
        client.run("import threading; len([t for t in threading.enumerate() if t.name.startswith('heapscope')])", text.append)
        assert int("".join(text)) >= 2  # the listener and this connection's console
        if state == "threads":
            text = []
            client.run("sum(t.name.startswith('churn-') for t in threading.enumerate())", text.append)
            assert "".join(text) == "8\n"  # the program's workers, all alive

    if state in ("accept", "asyncio"):
        assert program.echo() == b"\nepocspaeh"
    assert program.works()
    assert program.finish() == 0, program.proc.stderr.read()  # type: ignore[union-attr]
    assert EXPECTED_END[state] in program.lines, program.lines
    assert program.proc.stderr.read() == ""  # type: ignore[union-attr]  # nothing printed by us in it


def test_a_stale_socket_of_an_execd_program_is_replaced_by_attaching(tmp_path: Path) -> None:
    """The program enabled the agent, then exec'd (same pid, no agent any more)."""
    script = tmp_path / "execs.py"
    script.write_text(
        "import os, sys, heapscope.monitor\n"
        "heapscope.monitor.enable()\n"
        "os.execv(sys.executable, [sys.executable, '-c', "
        "'import sys; print(\\'ready\\', flush=True); sys.stdin.readline()'])\n"
    )
    program = RunningProgram(sys.executable, script)
    try:
        assert agent_socket(program.pid) is not None  # left behind by the exec
        summary = heapscope_cli("summary", str(program.pid), "-n", "2")
        assert summary.returncode == 0 and "Partition of a set of" in summary.stdout, summary.stderr
        program.tell("")
        assert program.proc.wait(timeout=60) == 0
    finally:
        program.close()
