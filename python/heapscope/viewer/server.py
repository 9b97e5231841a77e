"""The viewer's HTTP server: the standard library's threading server, serving the JSON
API (:mod:`.api`) and the page's static files (``assets/``), nothing else.

Every request must carry the server's random token, as ``?token=`` or in the
``X-Heapscope-Token`` header (the page reads it from the URL it was opened with); without
it the answer is 403. A request the API cannot answer is a JSON error (400, 404); an
exception in a handler is a 500 with its message, and the server goes on serving.
"""

from __future__ import annotations

import hmac
import json
import mimetypes
import secrets
import sys
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .api import ViewerApi
from .loaded_files import LoadedFile
from .request_error import RequestError
from .warm_up import WarmUp

TOKEN_HEADER = "X-Heapscope-Token"
ASSETS = Path(__file__).resolve().parent / "assets"
INDEX = "index.html"


class ViewerServer(ThreadingHTTPServer):
    """Serves the API over ``files`` at ``(host, port)`` (port 0: a free one)."""

    daemon_threads = True  # a browser's open connection does not hold up Ctrl-C

    def __init__(
        self,
        files: list[LoadedFile],
        host: str = "127.0.0.1",
        port: int = 0,
        compare: tuple[int, int] | None = None,
        token: str | None = None,
    ) -> None:
        self.api = ViewerApi(files, compare)
        self.token = token if token is not None else secrets.token_urlsafe(24)
        self.warm_up = WarmUp(files)
        super().__init__((host, port), ViewerRequestHandler)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serves until ``shutdown()``, preparing the first clicks' answers meanwhile."""
        self.warm_up.start()
        super().serve_forever(poll_interval)

    def server_close(self) -> None:
        """Closes the socket and stops the warm-up (joined: nothing native is left running)."""
        self.warm_up.stop()
        super().server_close()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """The page's address, token included: what the browser opens."""
        host = str(self.server_address[0])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}/?token={self.token}"

    def start_in_thread(self) -> threading.Thread:
        """Serves from a daemon thread (tests, benchmarks); ``shutdown()`` stops it."""
        thread = threading.Thread(target=self.serve_forever, name="heapscope-viewer", daemon=True)
        thread.start()
        return thread


class ViewerRequestHandler(BaseHTTPRequestHandler):
    """One request: the token check, then the API or a static file."""

    server: ViewerServer
    server_version = "heapscope-viewer"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        try:
            self._answer()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away
        except Exception as e:  # noqa: BLE001 - a handler's failure must not end the server
            traceback.print_exc(file=sys.stderr)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {type(e).__name__}: {e}"})

    def do_HEAD(self) -> None:  # noqa: N802
        self._json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "the viewer answers GET only"})

    do_POST = do_PUT = do_DELETE = do_HEAD  # noqa: N815

    def _answer(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        if not self._authorized(query):
            self._json(HTTPStatus.FORBIDDEN, {"error": "missing or wrong token: open the URL heapscope view printed"})
            return
        query.pop("token", None)
        path = parts.path
        if path.startswith("/api/"):
            try:
                answer: Any = self.server.api.handle(path, query)
            except RequestError as e:
                self._json(e.status, {"error": e.message})
                return
            self._json(HTTPStatus.OK, answer)
            return
        if path in ("/", "/index.html"):
            self._static(INDEX)
            return
        if path.startswith("/assets/"):
            self._static(path[len("/assets/"):])
            return
        self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {path}"})

    def _authorized(self, query: dict[str, list[str]]) -> bool:
        given = self.headers.get(TOKEN_HEADER) or (query.get("token") or [""])[0]
        return hmac.compare_digest(given.encode(), self.server.token.encode())

    def _static(self, name: str) -> None:
        """A file of ``assets/`` (no subdirectories, no way out of it)."""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such asset: {name}"})
            return
        path = ASSETS / name
        if not path.is_file():
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such asset: {name}"})
            return
        body = path.read_bytes()
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
            kind += "; charset=utf-8"
        self._send(HTTPStatus.OK, kind, body)

    def _json(self, status: int, document: Any) -> None:
        body = json.dumps(document, separators=(",", ":")).encode()
        self._send(status, "application/json; charset=utf-8", body)

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        """Requests are not logged (the terminal shows the command's own lines)."""
