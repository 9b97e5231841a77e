"""``heapscope dump PID -o out.hsnap``: make a running process write a snapshot (loading
the agent first if it has none)."""

from __future__ import annotations

import argparse
import os

from ..errors import MonitorError
from .arguments import command
from .command_error import CommandError
from .progress import ProgressBar

EXAMPLES = """\
examples:
  heapscope dump 4242 -o server.hsnap         the process writes the file (its user owns it)
  heapscope dump 4242 -o server.hsnap --stream    sent over the connection, written here
  heapscope suspects server.hsnap             then read it as any snapshot

The process pauses while its heap is captured and written (about a second per million
objects); it goes on afterwards, and keeps its agent ('heapscope monitor PID').
"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "dump",
        help="make a running process write a snapshot of its heap",
        description="Make a running Python process write a snapshot of its heap (as heapscope.dump would in "
        "it), through its agent; a process without one gets it loaded first (as heapscope attach does).",
        examples=EXAMPLES,
    )
    p.add_argument("pid", type=int, metavar="PID", help="the Python process")
    p.add_argument("-o", "--output", required=True, metavar="PATH", help="the snapshot file to write")
    p.add_argument("--stream", action="store_true",
                   help="send the snapshot over the connection and write it here, as this user")
    p.add_argument("--force", action="store_true", help="replace PATH if it exists")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="how long to wait for a safe point when loading the agent (default 30)")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    from ..monitor.attach import connect_or_attach  # gdb and /proc: only when attaching

    output = os.path.abspath(args.output)
    if os.path.exists(output) and not args.force:
        raise CommandError(f"{args.output} exists (--force replaces it)")
    if not os.path.isdir(os.path.dirname(output)):
        raise CommandError(f"no such directory: {os.path.dirname(output)}")
    try:
        client, _loaded = connect_or_attach(args.pid, args.timeout)
        with client:
            if args.stream:
                bar = ProgressBar(f"receiving {os.path.basename(output)}")
                reply = client.stream(output, bar.update)
                bar.close()
            else:
                reply = client.dump(output)
    except MonitorError as e:
        raise CommandError(str(e)) from None
    print(f"heapscope dump: process {args.pid} wrote {args.output} ({reply['objects']} objects, "
          f"{reply['size'] / 2**20:.1f} MiB; it paused {reply['seconds']:.2f} s)")
    return 0
