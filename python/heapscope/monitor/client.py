"""A client of an agent: connect (by pid over the user's Unix socket, or over TCP with
the token), say hello, then run console lines and operations."""

from __future__ import annotations

import os
import socket
import tempfile
from typing import Any, Callable

from ..errors import MonitorError
from . import paths, protocol

#: How long connecting and the hello exchange may take.
CONNECT_TIMEOUT = 10.0

ENABLE_HINT = (
    "enable it in the program (heapscope.monitor.enable(), HEAPSCOPE_MONITOR=1, heapscope run --monitor) "
    "or load it: heapscope attach {pid}"
)


def process_uid(pid: int) -> int:
    """The user running ``pid``; MonitorError when there is no such process."""
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except FileNotFoundError:
        raise MonitorError(f"no process {pid}") from None
    except OSError as e:
        raise MonitorError(f"process {pid}: {e.strerror or e}") from None


def agent_socket(pid: int) -> str | None:
    """The socket of ``pid``'s agent, or None when it has none. The directory must be
    the process's user's own (checked as the agent checks it): another user could
    otherwise place a socket there and pose as the agent."""
    uid = process_uid(pid)
    path = paths.socket_path(pid, uid)
    if not os.path.lexists(path):
        return None
    paths.checked_directory(os.path.dirname(path), uid)
    return path


def _check_peer(sock: socket.socket, pid: int) -> None:
    """The listening end must be process ``pid`` itself (``SO_PEERCRED`` of a Unix
    socket gives the process that listens): a socket left by a dead process and bound
    again by another is refused."""
    peer_pid, peer_uid = protocol.peer_credentials(sock)
    if peer_pid != pid or peer_uid != process_uid(pid):
        raise MonitorError(f"the agent socket of process {pid} is held by process {peer_pid} (uid {peer_uid}): refused")


class AgentGone(MonitorError):
    """The socket is there but nothing listens on it (its process exec'd or died)."""


class MonitorClient:
    """A connection to one agent (see :mod:`.agent` for the requests)."""

    def __init__(self, sock: socket.socket, token: str | None = None) -> None:
        self._sock = sock
        try:
            sock.settimeout(CONNECT_TIMEOUT)
            try:
                protocol.send(sock, {"op": "hello", "protocol": protocol.VERSION, **({"token": token} if token else {})})
            except OSError:
                pass  # refused at once: the refusal is waiting to be read
            self.hello = self._reply()
            sock.settimeout(None)
        except BaseException:
            sock.close()
            raise

    @classmethod
    def to_pid(cls, pid: int) -> MonitorClient:
        path = agent_socket(pid)
        if path is None:
            raise MonitorError(f"process {pid} has no heapscope agent: " + ENABLE_HINT.format(pid=pid))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(CONNECT_TIMEOUT)
            sock.connect(path)
            _check_peer(sock, pid)
        except ConnectionRefusedError:
            sock.close()
            raise AgentGone(f"process {pid}'s agent socket ({path}) is stale: nothing listens on it") from None
        except OSError as e:
            sock.close()
            raise MonitorError(f"cannot connect to process {pid}'s agent ({path}): {e.strerror or e}") from None
        except BaseException:
            sock.close()
            raise
        return cls(sock)

    @classmethod
    def to_address(cls, address: tuple[str, int], token: str | None) -> MonitorClient:
        try:
            sock = socket.create_connection(address, timeout=CONNECT_TIMEOUT)
        except OSError as e:
            raise MonitorError(f"cannot connect to {address[0]}:{address[1]}: {e.strerror or e}") from None
        return cls(sock, token)

    @property
    def pid(self) -> int:
        return int(self.hello["pid"])

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> MonitorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- frames ----------------------------------------------------------------------------
    def _frame(self) -> protocol.Frame:
        try:
            return protocol.receive(self._sock, protocol.MAX_REPLY)
        except protocol.Closed:
            raise MonitorError("the process closed the connection (did it exit?)") from None
        except protocol.ProtocolError as e:
            raise MonitorError(f"the agent's answer is broken: {e}") from None
        except socket.timeout:
            raise MonitorError("the agent did not answer in time") from None
        except OSError as e:
            raise MonitorError(f"the connection failed: {e.strerror or e}") from None

    def _reply(self) -> dict[str, Any]:
        frame = self._frame()
        if not isinstance(frame, dict):
            raise MonitorError("the agent sent bytes where an answer was expected")
        if "error" in frame:
            raise MonitorError(str(frame["error"]))
        return frame

    def _send(self, message: dict[str, Any]) -> None:
        try:
            protocol.send(self._sock, message)
        except OSError as e:
            raise MonitorError(f"the connection to the process failed ({e.strerror or e}): did it exit?") from None

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Sends one request and returns its one reply (an ``error`` raises)."""
        self._send(message)
        return self._reply()

    # -- requests --------------------------------------------------------------------------
    def run(self, source: str, write: Callable[[str], None]) -> bool:
        """Runs a console input in the process, passing its output to ``write`` as it
        comes; True when the input is incomplete. Ctrl-C (KeyboardInterrupt here)
        interrupts the command in the process; a second Ctrl-C gives up waiting."""
        self._send({"op": "exec", "source": source})
        interrupted = False
        while True:
            try:
                frame = self._frame()
            except KeyboardInterrupt:
                if interrupted:
                    raise
                interrupted = True
                self._send({"op": "interrupt"})
                continue
            if not isinstance(frame, dict):
                raise MonitorError("the agent sent bytes during a command")
            if "out" in frame:
                write(str(frame["out"]))
            elif "error" in frame:
                raise MonitorError(str(frame["error"]))
            elif frame.get("done"):
                return bool(frame.get("more"))

    def census(self, partition: str = "byclodo", rows: int = 20) -> dict[str, Any]:
        return self.request({"op": "census", "partition": partition, "rows": rows})

    def dump(self, path: str) -> dict[str, Any]:
        """The process writes a snapshot to ``path`` (absolute; its file)."""
        return self.request({"op": "dump", "path": os.path.abspath(path)})

    def stream(self, output: str, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """A snapshot of the process sent over the connection into ``output`` (this
        user's file, written beside it and renamed when complete)."""
        head = self.request({"op": "stream"})
        total = int(head["bytes"])
        # a new file of our own beside the output (never one somebody put there)
        fd, partial = tempfile.mkstemp(prefix=os.path.basename(output) + ".", suffix=".partial",
                                       dir=os.path.dirname(os.path.abspath(output)))
        received = 0
        try:
            with os.fdopen(fd, "wb") as f:
                while True:
                    frame = self._frame()
                    if isinstance(frame, bytes):
                        f.write(frame)
                        received += len(frame)
                        if progress is not None:
                            progress(received, total)
                        continue
                    if "error" in frame:
                        raise MonitorError(str(frame["error"]))
                    if frame.get("done"):
                        break
            if received != total:
                raise MonitorError(f"the snapshot stream ended after {received} of {total} bytes")
            os.replace(partial, output)
        except BaseException:
            if os.path.exists(partial):
                os.unlink(partial)
            raise
        return head
