"""The monitor's wire format, the same over a Unix socket and over TCP: frames of a
4-byte big-endian length, one byte of type and the payload. Type ``J`` is a JSON object
(UTF-8), type ``B`` raw bytes (a snapshot streamed in chunks).

A receiver refuses a frame longer than its limit without reading it: the agent's limit
is :data:`MAX_REQUEST` (requests are small: a console line, an operation), the client's
:data:`MAX_REPLY`. Past a refused or malformed frame the stream cannot be trusted, so the
connection is closed (:class:`ProtocolError`); a well-formed frame with a bad request in
it gets an error reply and the connection goes on.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any, Union

#: Largest frame the agent reads (a console command or an operation).
MAX_REQUEST = 1 << 20
#: Largest frame a client reads (output, a census, a chunk of a snapshot).
MAX_REPLY = 64 << 20
#: Size of the chunks a snapshot is streamed in.
CHUNK = 1 << 20
#: The protocol's version, exchanged in ``hello``.
VERSION = 1

_HEADER = struct.Struct(">IB")
JSON, BYTES = ord("J"), ord("B")

Frame = Union[dict[str, Any], bytes]


class ProtocolError(Exception):
    """The peer broke the framing (oversized, truncated, not JSON): close the connection."""


class Closed(ProtocolError):
    """The peer closed the connection between frames."""


def peer_credentials(sock: socket.socket) -> tuple[int, int]:
    """``(pid, uid)`` of the process at the other end of a Unix socket (Linux
    ``SO_PEERCRED``: for a client, the process that listens)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", creds)
    return pid, uid


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    """Sends one JSON frame."""
    payload = json.dumps(message, separators=(",", ":")).encode()
    sock.sendall(_HEADER.pack(len(payload), JSON) + payload)


def send_bytes(sock: socket.socket, data: bytes) -> None:
    """Sends one frame of raw bytes."""
    sock.sendall(_HEADER.pack(len(data), BYTES))
    sock.sendall(data)


def _read_exactly(sock: socket.socket, n: int, between_frames: bool) -> bytes:
    chunks = []
    left = n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            if between_frames and left == n:
                raise Closed("the peer closed the connection")
            raise ProtocolError(f"the connection ended inside a frame ({n - left} of {n} bytes)")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(sock: socket.socket, limit: int) -> Frame:
    """The next frame: a JSON object or bytes. Raises :class:`Closed` at the end of the
    stream and :class:`ProtocolError` for a frame over ``limit`` or not a JSON object."""
    length, kind = _HEADER.unpack(_read_exactly(sock, _HEADER.size, True))
    if length > limit:
        raise ProtocolError(f"a frame of {length} bytes is over the limit of {limit}")
    if kind not in (JSON, BYTES):
        raise ProtocolError(f"unknown frame type {kind!r}")
    payload = _read_exactly(sock, length, False)
    if kind == BYTES:
        return payload
    try:
        message = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        why = "nested too deeply" if isinstance(e, RecursionError) else str(e)
        raise ProtocolError(f"a frame is not JSON: {why}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a frame is JSON but not an object")
    return message
