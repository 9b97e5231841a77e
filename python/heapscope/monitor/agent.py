"""The agent: a thread in the monitored process that answers consoles and commands.

It listens on a Unix socket (:mod:`.paths`; mode 0600 in a 0700 directory of the user's
own) and, when asked, on TCP (``listen="127.0.0.1:PORT"``, a random token required).
While no client is connected it costs one thread blocked in ``accept()``: no polling.

Each connection gets a thread. Its peer must be the same user or root (``SO_PEERCRED``,
Unix sockets) or know the token (TCP), and its first frame must be ``hello``. Then:

* ``exec``: a console line or block, run in the connection's console thread with
  ``h = hpy()`` in its namespace; what it prints (and the values of expressions) streams
  back as ``out`` frames, then ``done`` (``more``: the block is incomplete).
  ``interrupt`` raises KeyboardInterrupt in that thread, not in the process's own.
* ``census``: a partition of ``hpy().heap()`` as text and rows.
* ``dump``: the process writes a snapshot to a path (its file, owned by its user).
* ``stream``: a snapshot sent over the connection in the snapshot format.

A bad request gets an ``error`` reply and the connection goes on; a broken frame
(oversized, not JSON) ends the connection. A client that goes away mid-command gets its
command interrupted; the process goes on as before.
"""

from __future__ import annotations

import atexit
import hmac
import os
import secrets
import socket
import struct
import sys
import tempfile
import threading
import time
from typing import Any, Callable

from .._version import __version__
from ..errors import MonitorError
from ..hidden import hidden_type
from . import paths, protocol
from .console_session import ConsoleSession

#: How long a new connection has to say hello (all of it).
HELLO_TIMEOUT = 10.0
#: How long sending to a client may block before its output is dropped.
SEND_TIMEOUT = 30.0
#: Connections served at once; more are refused (a console is one connection).
MAX_CONNECTIONS = 16
#: ``census`` partitions a client may ask for (IdentitySet attributes).
PARTITIONS = ("byclodo", "bytype", "bymodule", "bysize", "byvia", "byrcs")


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as an address."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise MonitorError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8765")
    return host.strip("[]"), int(port)


@hidden_type
class Agent:
    """One process's agent (see the module doc); :func:`heapscope.monitor.enable` makes it."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.socket_path = paths.socket_path(self.pid)
        self.tcp_address: tuple[str, int] | None = None
        self.token: str | None = None
        self.token_path: str | None = None
        self._listeners: list[tuple[socket.socket, bool]] = []  # (socket, is TCP)
        self._connections: dict[bool, set[socket.socket]] = {False: set(), True: set()}  # by is TCP
        self._lock = threading.Lock()
        self._stopped = False

    # -- starting and stopping ------------------------------------------------------------
    def start(self) -> None:
        directory = paths.own_directory()
        _remove_dead_streams(directory)
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            _remove_stale(self.socket_path)
            unix.bind(self.socket_path)
            # the directory is 0700 already; the socket too is for its owner only
            os.chmod(self.socket_path, 0o600)
            unix.listen(8)
        except OSError as e:
            unix.close()
            raise MonitorError(f"cannot listen on {self.socket_path}: {e.strerror or e}") from None
        self._listen(unix, False)
        atexit.register(self.stop)

    def listen_tcp(self, listen: str, token: str | None = None) -> None:
        """Also accepts TCP connections at ``HOST:PORT`` (port 0: any free one), which
        must give ``token`` (default: a random one). The token is written to
        ``<dir>/<pid>.token`` (mode 0600), never on a command line."""
        host, port = parse_listen(listen)
        if self.tcp_address is not None:
            raise MonitorError(f"the agent already listens on {self.tcp_address[0]}:{self.tcp_address[1]}")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        tcp = socket.socket(family, socket.SOCK_STREAM)
        try:
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((host, port))
            tcp.listen(8)
        except OSError as e:
            tcp.close()
            raise MonitorError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
        self.token = token or secrets.token_urlsafe(24)
        self.token_path = os.path.join(paths.own_directory(), f"{self.pid}.token")
        _write_private(self.token_path, self.token + "\n")
        self.tcp_address = tcp.getsockname()[:2]
        self._listen(tcp, True)

    def _listen(self, listener: socket.socket, is_tcp: bool) -> None:
        self._listeners.append((listener, is_tcp))
        name = "heapscope-monitor-tcp" if is_tcp else "heapscope-monitor"
        threading.Thread(target=self._accept_loop, args=(listener, is_tcp), name=name, daemon=True).start()

    def stop(self) -> None:
        """Stops listening, ends the connections and removes the socket file."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            listeners = list(self._listeners)
            connections = [c for group in self._connections.values() for c in group]
        for listener, _ in listeners:
            _shut(listener)
        for conn in connections:
            _shut(conn)
        if os.getpid() == self.pid:  # a forked child must not remove its parent's files
            for path in (self.socket_path, self.token_path):
                if path is not None:
                    try:
                        os.unlink(path)
                    except OSError:
                        pass
        atexit.unregister(self.stop)

    def forget_after_fork(self) -> None:
        """In a forked child: close the inherited sockets, touch no file."""
        self._stopped = True
        for listener, _ in self._listeners:
            listener.close()
        for group in self._connections.values():
            for conn in list(group):
                conn.close()
        atexit.unregister(self.stop)

    @property
    def listening(self) -> bool:
        return bool(self._listeners) and not self._stopped

    # -- serving ----------------------------------------------------------------------------
    def _accept_loop(self, listener: socket.socket, is_tcp: bool) -> None:
        while True:
            try:
                conn, _ = listener.accept()  # blocks: no cost while nobody connects
            except OSError:
                return  # stopped
            with self._lock:
                if self._stopped:
                    conn.close()
                    return
                # counted per kind: a TCP peer without the token cannot crowd out the
                # process's own user on the Unix socket
                group = self._connections[is_tcp]
                crowded = len(group) >= MAX_CONNECTIONS
                if not crowded:
                    group.add(conn)
            if crowded:
                _refuse(conn, f"too many connections (at most {MAX_CONNECTIONS})")
                continue
            threading.Thread(
                target=self._serve, args=(conn, is_tcp), name="heapscope-monitor-connection", daemon=True
            ).start()

    def _serve(self, conn: socket.socket, is_tcp: bool) -> None:
        try:
            Connection(self, conn, is_tcp).serve()
        except Exception:  # noqa: BLE001 - one connection's failure must not reach the process
            pass
        finally:
            with self._lock:
                self._connections[is_tcp].discard(conn)
            conn.close()


@hidden_type
class Connection:
    """One client: its checks, then its requests until it goes away."""

    def __init__(self, agent: Agent, conn: socket.socket, is_tcp: bool) -> None:
        self.agent = agent
        self.conn = conn
        self.is_tcp = is_tcp
        self._send_lock = threading.Lock()
        self.console: ConsoleSession | None = None

    def send(self, message: dict[str, Any]) -> None:
        with self._send_lock:
            protocol.send(self.conn, message)

    def send_bytes(self, data: bytes) -> None:
        with self._send_lock:
            protocol.send_bytes(self.conn, data)

    def serve(self) -> None:
        if not self.is_tcp:
            _pid, uid = protocol.peer_credentials(self.conn)
            if uid not in (os.getuid(), 0):
                _refuse(self.conn, f"refused: uid {uid} is neither this process's user ({os.getuid()}) nor root")
                return
        # a client that stops reading cannot hold a thread of the process for ever
        self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", int(SEND_TIMEOUT), 0))
        # the hello must be complete within HELLO_TIMEOUT, however slowly it trickles in
        deadline = threading.Timer(HELLO_TIMEOUT, _shut, args=(self.conn,))
        deadline.daemon = True
        deadline.start()
        try:
            hello = protocol.receive(self.conn, protocol.MAX_REQUEST)
        except (OSError, protocol.ProtocolError):
            return
        finally:
            deadline.cancel()
        if not isinstance(hello, dict) or hello.get("op") != "hello":
            _refuse(self.conn, "the first request must be hello")
            return
        if self.agent.token is not None and self.is_tcp:
            given = hello.get("token")
            if not isinstance(given, str) or not hmac.compare_digest(given.encode(), self.agent.token.encode()):
                _refuse(self.conn, "refused: missing or wrong token")
                return
        self.send(_hello_reply())
        try:
            while True:
                try:
                    frame = protocol.receive(self.conn, protocol.MAX_REQUEST)
                except protocol.Closed:
                    return
                except protocol.ProtocolError as e:
                    self._try_send({"error": f"{e}; closing the connection"})
                    return
                except OSError:
                    return
                if not isinstance(frame, dict):
                    self.send({"error": "expected a JSON request, got bytes"})
                    continue
                self._dispatch(frame)
        finally:
            if self.console is not None:
                self.console.close()  # interrupts a command still running

    def _try_send(self, message: dict[str, Any]) -> None:
        try:
            self.send(message)
        except OSError:
            pass

    def _dispatch(self, request: dict[str, Any]) -> None:
        op = request.get("op")
        handler: Callable[[dict[str, Any]], None] | None = {
            "exec": self._exec,
            "interrupt": self._interrupt,
            "census": self._census,
            "dump": self._dump,
            "stream": self._stream,
            "ping": lambda _r: self.send({"ok": True}),
        }.get(op if isinstance(op, str) else "")
        if handler is None:
            self.send({"error": f"unknown request {op!r}: exec, interrupt, census, dump, stream, ping"})
            return
        try:
            handler(request)
        except _BadRequest as e:
            self.send({"error": str(e)})
        except OSError:
            raise
        except Exception as e:  # noqa: BLE001 - reported to the client, the process goes on
            self.send({"error": f"{type(e).__name__}: {e}"})

    # -- requests -------------------------------------------------------------------------------
    def _exec(self, request: dict[str, Any]) -> None:
        source = _field(request, "source", str)
        if self.console is None:
            self.console = ConsoleSession(self._try_send)
        if not self.console.submit(source):
            self.send({"error": "a command is still running: interrupt it first"})

    def _interrupt(self, request: dict[str, Any]) -> None:
        if self.console is not None:
            self.console.interrupt()

    def _census(self, request: dict[str, Any]) -> None:
        from ..session import hpy

        partition = request.get("partition", "byclodo")
        if partition not in PARTITIONS:
            raise _BadRequest(f"partition {partition!r}: one of {', '.join(PARTITIONS)}")
        rows = _field(request, "rows", int, 20)
        if rows < 1:
            raise _BadRequest("rows must be at least 1")
        x = hpy().heap()
        part = getattr(x, partition)
        self.send(
            {
                "count": x.count,
                "size": x.size,
                "text": str(part.head(rows)),
                "rows": [{"kind": r.name, "count": r.count, "size": r.size} for r in part.rows[:rows]],
            }
        )

    def _dump(self, request: dict[str, Any]) -> None:
        from ..snapshot_writer import write_snapshot

        path = _field(request, "path", str)
        if not os.path.isabs(path):
            raise _BadRequest(f"{path!r}: the path must be absolute (the process's directory is not yours)")
        started = time.perf_counter()
        try:
            totals = write_snapshot(path)
        except OSError as e:
            raise _BadRequest(f"cannot write {path}: {e.strerror or e}") from None
        self.send(
            {"ok": True, "path": path, "objects": totals.objects, "size": totals.size,
             "seconds": time.perf_counter() - started}
        )

    def _stream(self, request: dict[str, Any]) -> None:
        from ..snapshot_writer import write_snapshot

        started = time.perf_counter()
        fd, path = tempfile.mkstemp(prefix=f"stream-{os.getpid()}-", suffix=".hsnap", dir=paths.own_directory())
        os.close(fd)
        try:
            totals = write_snapshot(path)
            paused = time.perf_counter() - started
            total = os.path.getsize(path)
            self.send({"ok": True, "bytes": total, "objects": totals.objects, "size": totals.size,
                       "seconds": paused})
            with open(path, "rb") as f:
                while chunk := f.read(protocol.CHUNK):
                    self.send_bytes(chunk)
            self.send({"done": True})
        finally:
            os.unlink(path)


class _BadRequest(Exception):
    """A request the agent cannot do; its message goes back to the client."""


_MISSING: Any = object()


def _field(request: dict[str, Any], name: str, kind: type, default: Any = _MISSING) -> Any:
    value = request.get(name, default)
    if value is _MISSING:
        raise _BadRequest(f"{request.get('op')}: missing {name!r}")
    if type(value) is not kind:
        raise _BadRequest(f"{request.get('op')}: {name!r} must be {kind.__name__}")
    return value


def _hello_reply() -> dict[str, Any]:
    return {
        "ok": True,
        "protocol": protocol.VERSION,
        "pid": os.getpid(),
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "argv": list(sys.argv),
        "heapscope": __version__,
    }


def _refuse(conn: socket.socket, message: str) -> None:
    try:
        conn.settimeout(2.0)
        protocol.send(conn, {"error": message})
    except OSError:
        pass
    conn.close()


def _shut(sock: socket.socket) -> None:
    """Wakes a thread blocked on ``sock`` (``accept``, ``recv``) and closes it."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _write_private(path: str, text: str) -> None:
    """Writes a new file only this user can read (replacing one left by a dead agent)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _remove_dead_streams(directory: str) -> None:
    """Removes the temporaries of ``stream`` requests whose process was killed."""
    for name in os.listdir(directory):
        if name.startswith("stream-") and name.endswith(".hsnap"):
            pid = name.split("-")[1]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                try:
                    os.unlink(os.path.join(directory, name))
                except OSError:
                    pass


def _remove_stale(path: str) -> None:
    """Removes a socket file no agent answers on (its process died)."""
    if not os.path.exists(path):
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)
        return
    finally:
        probe.close()
    raise MonitorError(f"{path}: another agent answers there")
