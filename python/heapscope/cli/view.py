"""``heapscope view FILE...``: the local web viewer over snapshots and Stat profiles
(a server on 127.0.0.1 with a random port and token; docs/viewer.md)."""

from __future__ import annotations

import argparse
import sys
import webbrowser

from ..viewer.loaded_files import LoadError, LoadedFile, open_file
from ..viewer.server import ViewerServer
from .arguments import command
from .command_error import CommandError
from .progress import elapsed

EXAMPLES = """\
examples:
  heapscope view app.hsnap                    browse a snapshot: census, objects, dominator tree
  heapscope view before.hsnap after.hsnap     two snapshots, compared
  heapscope view mem.hpy                      a memory profile over time (re-read while it grows)
  heapscope view app.hsnap --no-browser --port 8700
"""

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "view",
        help="browse snapshots and profiles in a local web page",
        description="Serve a web page that browses the files: a snapshot's census, its objects with "
        "their referrers and paths, the dominator tree and leak suspects; two snapshots compared; a "
        "Stat profile's census over time (re-read while it is appended to). The server binds "
        "127.0.0.1 on a free port and answers only requests carrying the random token of the URL "
        "it prints. Ctrl-C stops it.",
        examples=EXAMPLES,
    )
    p.add_argument(
        "files", metavar="FILE", nargs="+",
        help="a snapshot (.hsnap), a Stat profile (heapscope.profile, guppy3's dump), or two snapshots to compare",
    )
    p.add_argument("--no-browser", action="store_true", help="print the URL only; do not open a browser")
    p.add_argument(
        "--host", default="127.0.0.1",
        help="address to bind (default 127.0.0.1; any other exposes the heap's contents to whoever has the URL)",
    )
    p.add_argument("--port", type=_port, default=0, help="port to bind (default: a free one)")
    p.set_defaults(execute=execute)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, not {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535, not {value}")
    return value


def _load(paths: list[str]) -> list[LoadedFile]:
    try:
        return [open_file(i, path, elapsed) for i, path in enumerate(paths)]
    except LoadError as e:
        raise CommandError(str(e)) from None


def execute(args: argparse.Namespace) -> int:
    files = _load(args.files)
    snapshots = [f.index for f in files if f.kind == "snapshot"]
    compare = (snapshots[0], snapshots[1]) if len(snapshots) == 2 else None
    if args.host not in LOCAL_HOSTS:
        print(
            f"heapscope view: warning: serving on {args.host}: anyone who can reach it and has the URL "
            "reads the heap's contents",
            file=sys.stderr,
        )
    try:
        server = ViewerServer(files, args.host, args.port, compare)
    except OSError as e:
        raise CommandError(f"cannot serve on {args.host}:{args.port}: {e.strerror or e}") from None
    with server:
        print(f"heapscope view: serving {len(files)} file(s) at {server.url} (Ctrl-C stops)", flush=True)
        if not args.no_browser:
            webbrowser.open(server.url)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("heapscope view: stopped", file=sys.stderr)
    return 0
