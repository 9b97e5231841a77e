"""The remote monitor (docs/monitor.md): an agent in a real subprocess, reached over its
Unix socket and over TCP; its console (output, errors, Ctrl-C, a client that goes away),
census, dump and stream; its security (file modes, peer credentials, token, malformed
and hostile frames); the ``heapscope monitor``/``dump``/``summary PID`` commands; and
``HEAPSCOPE_MONITOR=1`` through the ``.pth`` line the wheel installs."""

from __future__ import annotations

import json
import os
import pwd
import re
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import heapscope
from heapscope.errors import MonitorError
from heapscope.monitor import paths, protocol
from heapscope.monitor.client import MonitorClient
from heapscope.monitor.processes import monitored_processes

from .running_program import RunningProgram

ROOT = Path(__file__).resolve().parent.parent

# A program with an agent: its main thread reads commands from stdin (blocked in a
# read meanwhile), a thread of its own prints when told to.
TARGET = r"""
import sys, threading, time
import heapscope.monitor
agent = heapscope.monitor.enable(listen=sys.argv[1] if len(sys.argv) > 1 else None)
DATA = {"answer": 42}
HOARD = [bytearray(1000) for _ in range(3000)]
print("ready", agent.token or "", *(agent.tcp_address or ()), flush=True)

def chatter():
    while True:
        print("tick", flush=True)
        time.sleep(0.02)

for line in sys.stdin:
    command = line.strip()
    if command == "chatter":
        threading.Thread(target=chatter, daemon=True).start()
    elif command == "work":
        print("work", sum(range(1000)), len(DATA), flush=True)
    elif command == "exit":
        break
"""


class Target(RunningProgram):
    """The target program (TARGET) with an agent."""

    def __init__(self, tmp: Path, *args: str, env: dict[str, str] | None = None) -> None:
        script = tmp / "target.py"
        script.write_text(TARGET)
        super().__init__(sys.executable, script, *args, env=env)

    def works(self) -> bool:
        """The program still does its own work and answers it right."""
        return self.answers("work", "work 499500 1")

    def kill(self) -> None:
        self.close()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Target]:
    t = Target(tmp_path)
    yield t
    t.kill()


def run_all(client: MonitorClient, source: str) -> tuple[str, bool]:
    out: list[str] = []
    more = client.run(source, out.append)
    return "".join(out), more


def raw_connection(pid: int) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(20)
    sock.connect(paths.socket_path(pid))
    return sock


def hello(sock: socket.socket) -> dict[str, Any]:
    protocol.send(sock, {"op": "hello"})
    reply = protocol.receive(sock, protocol.MAX_REPLY)
    assert isinstance(reply, dict) and reply.get("ok"), reply
    return reply


# -- where the agent listens ------------------------------------------------------------


def test_socket_is_the_users_alone_and_the_process_is_listed(target: Target) -> None:
    directory = paths.user_directory()
    info = os.lstat(directory)
    assert stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) == 0o700
    sock = os.lstat(paths.socket_path(target.pid))
    assert stat.S_ISSOCK(sock.st_mode) and stat.S_IMODE(sock.st_mode) == 0o600
    listed = {p.pid: p for p in monitored_processes()}
    assert target.pid in listed
    p = listed[target.pid]
    assert "target.py" in p.command and p.user == pwd.getpwuid(os.getuid()).pw_name
    assert abs(p.started - time.time()) < 120
    assert target.finish() == 0
    assert not os.path.exists(paths.socket_path(target.pid))  # removed at exit
    assert target.pid not in {p.pid for p in monitored_processes()}


def test_a_directory_open_to_others_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    monkeypatch.setenv(paths.ENV_DIR, str(shared))
    with pytest.raises(MonitorError, match="open to other users"):
        paths.own_directory()
    link = tmp_path / "link"
    link.symlink_to(shared)
    monkeypatch.setenv(paths.ENV_DIR, str(link))
    with pytest.raises(MonitorError, match="not a directory"):
        paths.own_directory()


def test_the_agent_waits_in_accept_without_waking(target: Target) -> None:
    """No polling: the listening thread makes no context switch while nobody connects."""
    with MonitorClient.to_pid(target.pid) as client:
        text, _ = run_all(client, "import threading; print([t.native_id for t in threading.enumerate() if t.name == 'heapscope-monitor'])")
    (tid,) = json.loads(text)

    def switches() -> int:
        status = Path(f"/proc/{target.pid}/task/{tid}/status").read_text()
        return sum(int(m) for m in re.findall(r"voluntary_ctxt_switches:\s+(\d+)", status))

    first = switches()
    time.sleep(1.0)
    assert switches() == first
    assert Path(f"/proc/{target.pid}/task/{tid}/stat").read_text().split(") ")[1][0] == "S"


# -- the console ----------------------------------------------------------------------------


def test_console_runs_in_the_process_with_h_ready(target: Target) -> None:
    with MonitorClient.to_pid(target.pid) as client:
        assert client.hello["pid"] == target.pid and client.hello["python"] == sys.version.split()[0]
        assert run_all(client, "__main__.DATA['answer']") == ("42\n", False)
        assert run_all(client, "import os; os.getpid()") == (f"{target.pid}\n", False)
        assert run_all(client, "x = h.heap()") == ("", False)
        text, _ = run_all(client, "x.byclodo")
        assert text.startswith("Partition of a set of ") and "bytearray" in text
        text, _ = run_all(client, "(x & h.Type(bytearray)).count >= 3000")
        assert text == "True\n"
        assert run_all(client, "for i in range(2):") == ("", True)
        assert run_all(client, "for i in range(2):\n    print(i)\n") == ("0\n1\n", False)
        text, more = run_all(client, "1/0")
        assert not more and text.startswith("Traceback") and text.rstrip().endswith("ZeroDivisionError: division by zero")
        text, _ = run_all(client, "def f(:")
        assert "SyntaxError" in text
        text, _ = run_all(client, "raise SystemExit(3)")
        assert "does not end the process" in text
        text, _ = run_all(client, "import sys; sys.exit(4)")
        assert "does not end the process" in text
        assert run_all(client, "x.count > 0") == ("True\n", False)  # the namespace persists
        assert run_all(client, "_") == ("True\n", False)  # the last value, as in a REPL
        text, _ = run_all(client, "import builtins; hasattr(builtins, '_')")
        assert text == "False\n"  # the console's own `_`, not the process's builtins
    assert target.works() and target.finish() == 0


def test_console_output_goes_to_the_client_and_the_programs_to_its_own(target: Target) -> None:
    target.tell("chatter")
    deadline = time.monotonic() + 10
    while "tick" not in target.lines and time.monotonic() < deadline:
        time.sleep(0.02)
    with MonitorClient.to_pid(target.pid) as client:
        before = len(target.lines)
        text, _ = run_all(client, "import time\nfor i in range(10):\n    print('from-console', i); time.sleep(0.02)\n")
    assert text == "".join(f"from-console {i}\n" for i in range(10))
    time.sleep(0.1)
    assert "tick" in target.lines[before:]  # the program kept printing to its own stdout
    assert not any("from-console" in line for line in target.lines)
    with MonitorClient.to_pid(target.pid) as client:
        # the program's streams are its own again once no command runs: seen from a
        # thread of the program's while the console is idle
        run_all(client, "import sys, threading, __main__\n"
                        "threading.Timer(0.3, lambda: setattr(__main__, 'SEEN', "
                        "(type(sys.stdout).__name__, type(sys.stderr).__name__, sys.displayhook.__name__))).start()\n")
        time.sleep(0.6)
        assert run_all(client, "__main__.SEEN") == ("('TextIOWrapper', 'TextIOWrapper', 'displayhook')\n", False)


def test_interrupt_stops_the_command_not_the_process(target: Target) -> None:
    sock = raw_connection(target.pid)
    hello(sock)
    protocol.send(sock, {"op": "exec", "source": "n = 0\nwhile True:\n    n += 1\n"})
    protocol.send(sock, {"op": "exec", "source": "1"})
    busy = protocol.receive(sock, protocol.MAX_REPLY)
    assert isinstance(busy, dict) and "still running" in busy["error"]
    time.sleep(0.2)
    protocol.send(sock, {"op": "interrupt"})
    frames = [protocol.receive(sock, protocol.MAX_REPLY)]
    while not (isinstance(frames[-1], dict) and frames[-1].get("done")):
        frames.append(protocol.receive(sock, protocol.MAX_REPLY))
    assert {"out": "KeyboardInterrupt\n"} in frames
    protocol.send(sock, {"op": "exec", "source": "n > 0"})
    assert protocol.receive(sock, protocol.MAX_REPLY) == {"out": "True\n"}
    sock.close()
    assert target.works() and target.finish() == 0


def test_a_client_that_goes_away_mid_command_leaves_the_process_consistent(target: Target) -> None:
    sock = raw_connection(target.pid)
    hello(sock)
    protocol.send(sock, {"op": "exec", "source": "import __main__\n__main__.SPINS = 0\nwhile True:\n    __main__.SPINS += 1\n"})
    time.sleep(0.3)
    sock.close()  # mid-command
    deadline = time.monotonic() + 10
    with MonitorClient.to_pid(target.pid) as client:
        while True:  # the abandoned command was interrupted: its thread ends
            text, _ = run_all(client, "import threading; sum(t.name == 'heapscope-monitor-console' for t in threading.enumerate())")
            if text == "1\n" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert text == "1\n"  # this console's thread only
        spins, _ = run_all(client, "__main__.SPINS")
        time.sleep(0.2)
        assert int(spins) > 0 and run_all(client, "__main__.SPINS") == (spins, False)  # it stopped
    assert target.works() and target.finish() == 0


# -- census, dump, stream -------------------------------------------------------------------------


def test_census_dump_and_stream(target: Target, tmp_path: Path) -> None:
    with MonitorClient.to_pid(target.pid) as client:
        census = client.census("bytype", 5)
        assert census["text"].startswith(f"Partition of a set of {census['count']} objects")
        bytearrays = next(r for r in census["rows"] if r["kind"] == "bytearray")
        assert bytearrays["count"] >= 3000
        written = client.dump(str(tmp_path / "remote.hsnap"))
        streamed = client.stream(str(tmp_path / "streamed.hsnap"))
        with pytest.raises(MonitorError, match="partition"):
            client.census("bygoat")
        with pytest.raises(MonitorError, match="absolute"):
            client.request({"op": "dump", "path": "relative.hsnap"})
    for path, reply in ((tmp_path / "remote.hsnap", written), (tmp_path / "streamed.hsnap", streamed)):
        snap = heapscope.load(str(path))
        assert snap.info["pid"] == str(target.pid)
        assert reply["objects"] == int(snap.info["objects"])
        assert reply["size"] == snap.heap().size + snap.heapu().size
        assert (snap.heap() & snap.Type("bytearray")).count >= 3000
        assert path.stat().st_uid == os.getuid()
    assert not list(Path(paths.user_directory()).glob("*.hsnap"))  # the stream's temporary is gone
    assert target.works() and target.finish() == 0


# -- security -----------------------------------------------------------------------------------


def test_tcp_needs_the_token(tmp_path: Path) -> None:
    t = Target(tmp_path, "127.0.0.1:0")
    try:
        token, host, port = t.ready[1], t.ready[2], int(t.ready[3])
        for wrong in (None, "wrong", token[:-1]):
            with pytest.raises(MonitorError, match="token"):
                MonitorClient.to_address((host, port), wrong)
        with MonitorClient.to_address((host, port), token) as client:
            assert run_all(client, "__main__.DATA") == ("{'answer': 42}\n", False)
        assert t.works() and t.finish() == 0
    finally:
        t.kill()


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to connect as another user")
def test_another_user_is_refused_by_its_credentials(target: Target) -> None:
    """Even with the file modes opened (as a misconfiguration would), SO_PEERCRED refuses
    a peer that is neither the process's user nor root."""
    socket_file = paths.socket_path(target.pid)
    os.chmod(paths.user_directory(), 0o711)
    os.chmod(socket_file, 0o666)
    try:
        nobody = pwd.getpwnam("nobody").pw_uid
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through the pipe
            os.close(read)
            try:
                os.setgid(nobody)
                os.setuid(nobody)
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(10)
                sock.connect(socket_file)
                try:
                    protocol.send(sock, {"op": "hello"})
                except BrokenPipeError:
                    pass  # refused before the hello was read: the answer is waiting
                answer = protocol.receive(sock, protocol.MAX_REPLY)
                os.write(write, json.dumps(answer).encode())
            except BaseException as e:  # noqa: BLE001
                os.write(write, json.dumps({"child error": repr(e)}).encode())
            os._exit(0)
        os.close(write)
        answer = json.loads(os.read(read, 65536))
        os.waitpid(child, 0)
    finally:
        os.chmod(paths.user_directory(), 0o700)
        os.chmod(socket_file, 0o600)
    assert "refused" in answer.get("error", ""), answer
    assert f"uid {nobody}" in answer["error"]
    assert target.works() and target.finish() == 0


BAD_FRAMES = [
    (b"", "closed at once"),
    (b"\x00\x00", "half a header"),
    (struct.pack(">IB", 2**31, ord("J")), "oversized"),
    (struct.pack(">IB", 5, ord("Z")) + b"hello", "unknown frame type"),
    (struct.pack(">IB", 3, ord("J")) + b"{x]", "not JSON"),
    (struct.pack(">IB", 2, ord("J")) + b"[]", "JSON but not an object"),
    (struct.pack(">IB", 10, ord("J")) + b"{}", "truncated payload"),
    (struct.pack(">IB", 2, ord("B")) + b"\xff\xfe", "bytes first"),
]


def test_malformed_frames_end_their_connection_and_the_agent_goes_on(target: Target) -> None:
    for data, why in BAD_FRAMES:
        sock = raw_connection(target.pid)
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        try:
            while sock.recv(65536):
                pass  # an error frame, then the end
        except OSError:
            pass
        sock.close()
        with MonitorClient.to_pid(target.pid) as client:
            assert run_all(client, "1 + 1") == ("2\n", False), why
    assert target.works() and target.finish() == 0


def test_bad_requests_get_errors_and_the_connection_goes_on(target: Target) -> None:
    sock = raw_connection(target.pid)
    protocol.send(sock, {"op": "exec", "source": "1"})  # before hello
    assert "hello" in protocol.receive(sock, protocol.MAX_REPLY)["error"]  # type: ignore[index]
    sock.close()
    sock = raw_connection(target.pid)
    hello(sock)
    for request in (
        {"op": "launch"}, {"no": "op"}, {"op": 7}, {"op": "exec"}, {"op": "exec", "source": 5},
        {"op": "census", "partition": "byclodo", "rows": "ten"}, {"op": "census", "rows": 0},
        {"op": "dump"}, {"op": "dump", "path": ["/tmp/x"]},
    ):
        protocol.send(sock, request)
        reply = protocol.receive(sock, protocol.MAX_REPLY)
        assert isinstance(reply, dict) and reply["error"], request
    protocol.send_bytes(sock, b"raw bytes")
    assert "bytes" in protocol.receive(sock, protocol.MAX_REPLY)["error"]  # type: ignore[index]
    protocol.send(sock, {"op": "ping"})
    assert protocol.receive(sock, protocol.MAX_REPLY) == {"ok": True}
    sock.close()
    assert target.works() and target.finish() == 0


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    t = Target(tmp_path_factory.mktemp("fuzz"))
    yield t
    t.kill()


@settings(max_examples=60, deadline=None)
@given(garbage=st.binary(max_size=64), json_value=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10))
def test_fuzzed_input_never_stops_the_agent(fuzz_target: Target, garbage: bytes, json_value: Any) -> None:
    sock = raw_connection(fuzz_target.pid)
    try:
        hello(sock)
        payload = json.dumps(json_value).encode()
        sock.sendall(struct.pack(">IB", len(payload), ord("J")) + payload + garbage)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):
            pass
    except OSError:
        pass
    finally:
        sock.close()
    with MonitorClient.to_pid(fuzz_target.pid) as client:
        assert client.request({"op": "ping"}) == {"ok": True}


# -- commands -------------------------------------------------------------------------------------


def heapscope_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "heapscope", *args], input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_commands_list_console_summary_and_dump(target: Target, tmp_path: Path) -> None:
    listed = heapscope_cli("monitor")
    assert listed.returncode == 0 and re.search(rf"^\s*{target.pid}\s+\S+\s+\S+ \S+\s+.*target\.py", listed.stdout, re.M)
    as_json = json.loads(heapscope_cli("monitor", "--json").stdout)
    assert target.pid in [p["pid"] for p in as_json["processes"]]

    console = heapscope_cli("monitor", str(target.pid), stdin="len(__main__.HOARD)\nprint('hi')\nexit\nprint('after')\n")
    assert console.returncode == 0, console.stderr
    assert f"connected to process {target.pid}" in console.stdout
    assert "3000\n" in console.stdout and "hi\n" in console.stdout and "after" not in console.stdout

    summary = heapscope_cli("summary", str(target.pid), "--by", "type", "-n", "5")
    assert summary.returncode == 0, summary.stderr
    assert f"Process {target.pid}: Python " in summary.stdout and "bytearray" in summary.stdout
    live = json.loads(heapscope_cli("summary", str(target.pid), "--json").stdout)
    assert live["process"]["pid"] == target.pid and live["count"] > 0

    out = tmp_path / "cli.hsnap"
    dumped = heapscope_cli("dump", str(target.pid), "-o", str(out))
    assert dumped.returncode == 0, dumped.stderr
    assert re.match(rf"heapscope dump: process {target.pid} wrote .*cli\.hsnap \(\d+ objects, [\d.]+ MiB; it paused [\d.]+ s\)", dumped.stdout)
    again = heapscope_cli("dump", str(target.pid), "-o", str(out))
    assert again.returncode == 2 and "exists" in again.stderr
    streamed = heapscope_cli("dump", str(target.pid), "-o", str(out), "--stream", "--force")
    assert streamed.returncode == 0, streamed.stderr
    assert (heapscope.load(str(out)).heap() & heapscope.load(str(out)).Type("bytearray")).count >= 3000
    assert target.works() and target.finish() == 0


def test_commands_explain_a_process_they_cannot_reach(tmp_path: Path) -> None:
    missing = heapscope_cli("monitor", "999999999")
    assert missing.returncode == 2 and missing.stderr.strip() == "heapscope monitor: error: no process 999999999"
    plain = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        no_agent = heapscope_cli("monitor", str(plain.pid))
        assert no_agent.returncode == 2
        assert f"process {plain.pid} has no heapscope agent" in no_agent.stderr and "heapscope attach" in no_agent.stderr
        assert len(no_agent.stderr.strip().splitlines()) == 1
    finally:
        plain.kill()
        plain.wait()


def test_run_monitor_and_its_listen_option(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text("import sys\nprint('app ready', flush=True)\nsys.stdin.readline()\nprint('app done')\n")
    proc = subprocess.Popen([sys.executable, "-m", "heapscope", "run", "--monitor", "--listen", "127.0.0.1:0", str(script)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "app ready\n"  # type: ignore[union-attr]
        line = proc.stderr.readline()  # type: ignore[union-attr]
        m = re.match(r"heapscope monitor: listening on (\S+):(\d+); connect with: heapscope monitor --connect \S+ "
                     r"--token-file (\S+)", line)
        assert m, line
        token_file = Path(m.group(3))
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600 and token_file.parent == Path(paths.user_directory())
        with MonitorClient.to_pid(proc.pid) as client:
            assert client.hello["argv"] == [str(script)]
        with MonitorClient.to_address((m.group(1), int(m.group(2))), token_file.read_text().strip()) as client:
            assert run_all(client, "__main__.__file__")[0] == f"{str(script)!r}\n"
        console = heapscope_cli("monitor", "--connect", f"{m.group(1)}:{m.group(2)}", "--token-file", str(token_file),
                                stdin="6 * 7\n")
        assert console.returncode == 0 and "42\n" in console.stdout, console.stderr
        no_token = subprocess.run([sys.executable, "-m", "heapscope", "monitor", "--connect", f"{m.group(1)}:{m.group(2)}"],
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                                  env={k: v for k, v in os.environ.items() if k != "HEAPSCOPE_MONITOR_TOKEN"})
        assert no_token.returncode == 2 and "--token-file" in no_token.stderr
        out, _ = proc.communicate("\n", timeout=30)
        assert out == "app done\n" and proc.returncode == 0
    finally:
        proc.kill()
        proc.wait()
    refused = heapscope_cli("run", "--listen", "127.0.0.1:0", str(script))
    assert refused.returncode == 2 and "--listen needs --monitor" in refused.stderr


# -- HEAPSCOPE_MONITOR=1 ---------------------------------------------------------------------------


PTH = ROOT / "python" / "heapscope-monitor.pth"


def test_the_wheel_carries_the_pth_line() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '{ path = "heapscope-monitor.pth", format = "wheel" }' in pyproject and PTH.is_file()


@pytest.mark.parametrize("value", ["1", None])
def test_environment_variable_starts_the_agent_through_the_pth_line(tmp_path: Path, value: str | None) -> None:
    """The .pth line as site.py runs it (from a site directory holding a copy), in a
    program that never imports heapscope."""
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    (site_dir / PTH.name).write_text(PTH.read_text())
    env = {k: v for k, v in os.environ.items() if k != "HEAPSCOPE_MONITOR"}
    if value is not None:
        env["HEAPSCOPE_MONITOR"] = value
    program = (
        f"import site; site.addsitedir({str(site_dir)!r})\n"
        "import os, sys, threading\n"
        "print(any(t.name == 'heapscope-monitor' for t in threading.enumerate()), 'heapscope' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("True True\n" if value == "1" else "False False\n")


def test_a_forked_child_keeps_its_parents_socket_untouched(target: Target) -> None:
    with MonitorClient.to_pid(target.pid) as client:
        text, _ = run_all(client, "import os\npid = os.fork()\nif pid == 0:\n    os._exit(0)\n\n")
        run_all(client, "os.waitpid(pid, 0)")
    with MonitorClient.to_pid(target.pid) as client:  # the child exited: the socket is the parent's still
        assert client.request({"op": "ping"}) == {"ok": True}
    assert target.works() and target.finish() == 0


def test_sigterm_leaves_a_stale_socket_that_listing_removes(tmp_path: Path) -> None:
    t = Target(tmp_path)
    path = paths.socket_path(t.pid)
    t.proc.send_signal(signal.SIGTERM)
    t.proc.wait(timeout=30)
    t.kill()
    assert os.path.exists(path)  # no atexit on a signal's default action
    assert t.pid not in {p.pid for p in monitored_processes()}
    assert not os.path.exists(path)


# Ctrl-C as at a terminal: a test run started in the background inherits SIGINT ignored
CONSOLE = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from heapscope.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_in_the_console_interrupts_the_command_in_the_process(target: Target) -> None:
    console = subprocess.Popen([sys.executable, "-c", CONSOLE, "monitor", str(target.pid)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert console.stdin is not None
        console.stdin.write("import time, __main__\n"
                            "while True:\n    __main__.LOOPS = getattr(__main__, 'LOOPS', 0) + 1; time.sleep(0.001)\n\n")
        console.stdin.flush()
        with MonitorClient.to_pid(target.pid) as probe:  # the loop runs in the process
            deadline = time.monotonic() + 20
            while run_all(probe, "getattr(__main__, 'LOOPS', 0) > 0")[0] != "True\n" and time.monotonic() < deadline:
                time.sleep(0.05)
            console.send_signal(signal.SIGINT)
            time.sleep(0.5)
            first = run_all(probe, "__main__.LOOPS")[0]
            time.sleep(0.3)
            assert run_all(probe, "__main__.LOOPS")[0] == first  # the command stopped
        out, err = console.communicate("print('still here')\nexit\n", timeout=30)
    finally:
        console.kill()
        console.wait()
    assert console.returncode == 0, err
    assert "KeyboardInterrupt" in out and "still here" in out
    assert target.works() and target.finish() == 0



# -- what a review found ---------------------------------------------------------------------


def test_interrupts_racing_a_command_never_kill_the_console_nor_reach_the_program(target: Target) -> None:
    sock = raw_connection(target.pid)
    hello(sock)
    for i in range(30):  # an interrupt right behind its command, at every moment of it
        protocol.send(sock, {"op": "exec", "source": f"x{i} = {i}"})
        protocol.send(sock, {"op": "interrupt"})
        while True:
            frame = protocol.receive(sock, protocol.MAX_REPLY)
            if isinstance(frame, dict) and frame.get("done"):
                break
    protocol.send(sock, {"op": "exec", "source": "import threading; sum(t.name == 'heapscope-monitor-console' for t in threading.enumerate())"})
    assert protocol.receive(sock, protocol.MAX_REPLY) == {"out": "1\n"}
    sock.close()
    assert target.works() and target.finish() == 0
    assert target.proc.stderr.read() == ""  # type: ignore[union-attr]  # no traceback in the program


def test_a_fork_during_a_command_gives_the_child_its_own_streams(target: Target, tmp_path: Path) -> None:
    out = tmp_path / "child.txt"
    with MonitorClient.to_pid(target.pid) as client:
        text, _ = run_all(client, (
            "import os, sys\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            f"    sys.stdout = open({str(out)!r}, 'w')  # where the child's own output goes\n"
            "    print(type(sys.__stdout__).__name__, sys.displayhook.__name__, flush=True)\n"
            "    os._exit(0)\n"
            "os.waitpid(pid, 0)\n"
            "print('parent')\n"))
        assert text == "parent\n"
    assert out.read_text() == "TextIOWrapper displayhook\n"
    assert target.works() and target.finish() == 0


def test_a_pasted_block_runs_as_a_whole(target: Target) -> None:
    with MonitorClient.to_pid(target.pid) as client:
        assert run_all(client, "def g():\n    return 7\nprint(g())\n") == ("7\n", False)
        text, _ = run_all(client, "def g(:\n    return 7\nprint(g())\n")
        assert "SyntaxError" in text
    assert target.finish() == 0


def test_deeply_nested_json_is_an_error_frame(target: Target) -> None:
    sock = raw_connection(target.pid)
    hello(sock)
    payload = b"[" * 100_000 + b"]" * 100_000
    sock.sendall(struct.pack(">IB", len(payload), ord("J")) + payload)
    reply = protocol.receive(sock, protocol.MAX_REPLY)
    assert isinstance(reply, dict) and "nested too deeply" in reply["error"]
    sock.close()
    assert target.works() and target.finish() == 0


def test_a_process_gone_between_commands_is_an_error_not_silence(tmp_path: Path) -> None:
    t = Target(tmp_path)
    try:
        client = MonitorClient.to_pid(t.pid)
        t.proc.kill()
        t.proc.wait()
        with pytest.raises(MonitorError, match="(closed the connection|failed)"):
            for _ in range(3):
                client.run("1", lambda text: None)
        client.close()
    finally:
        t.kill()


def test_console_shows_text_its_terminal_cannot_encode(target: Target) -> None:
    done = subprocess.run([sys.executable, "-m", "heapscope", "monitor", str(target.pid)], input="print('a\\udcffb')\n",
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert done.returncode == 0, done.stderr
    assert "a\\udcffb" in done.stdout
    assert target.finish() == 0


def test_the_client_refuses_a_socket_another_user_could_have_placed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        shared = tmp_path / "shared"
        shared.mkdir()
        shared.chmod(0o777)  # a directory anyone could have written to
        monkeypatch.setenv(paths.ENV_DIR, str(shared))
        listener.bind(str(shared / f"{plain.pid}.sock"))
        listener.listen()
        with pytest.raises(MonitorError, match="open to other users"):
            MonitorClient.to_pid(plain.pid)
        shared.chmod(0o700)  # a proper directory, but the socket is not the process's
        with pytest.raises(MonitorError, match=rf"held by process {os.getpid()}"):
            MonitorClient.to_pid(plain.pid)
    finally:
        listener.close()
        plain.kill()
        plain.wait()


def test_stream_writes_a_new_file_of_its_own(target: Target, tmp_path: Path) -> None:
    output = tmp_path / "s.hsnap"
    planted = tmp_path / "s.hsnap.partial"
    planted.write_text("somebody else's")
    with MonitorClient.to_pid(target.pid) as client:
        client.stream(str(output))
    assert planted.read_text() == "somebody else's"  # not written through
    assert heapscope.load(str(output)).heap().count > 1000
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("s.hsnap")) == ["s.hsnap", "s.hsnap.partial"]
    assert target.finish() == 0


def test_enable_with_listen_after_enable_adds_tcp(tmp_path: Path) -> None:
    program = (
        "import heapscope.monitor as m\n"
        "a = m.enable()\n"
        "b = m.enable(listen='127.0.0.1:0')\n"
        "print(a is b, b.tcp_address is not None, b.token is not None)\n"
        "try:\n"
        "    m.enable(listen='127.0.0.1:0')\n"
        "except m.MonitorError as e:\n"
        "    print('refused:', 'already listens' in str(e))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.stdout == "True True True\nrefused: True\n", done.stderr


def test_tcp_peers_without_the_token_cannot_crowd_out_the_owner(tmp_path: Path) -> None:
    t = Target(tmp_path, "127.0.0.1:0")
    crowd = []
    try:
        host, port = t.ready[2], int(t.ready[3])
        for _ in range(20):  # more than the cap, each trickling a byte and never saying hello
            c = socket.create_connection((host, port), timeout=10)
            c.sendall(b"\x00")
            crowd.append(c)
        with MonitorClient.to_pid(t.pid) as client:
            assert client.request({"op": "ping"}) == {"ok": True}
        assert t.works() and t.finish() == 0
    finally:
        for c in crowd:
            c.close()
        t.kill()
