"""``heapscope summary FILE``: the snapshot's metadata and census (Heapy's table);
``heapscope summary PID``: a running process's census, through its agent."""

from __future__ import annotations

import argparse
import os

from .arguments import command, positive_int, snapshot_file
from .command_error import CommandError
from . import json_output
from .inputs import open_snapshot
from .snapshot_header import describe, metadata

#: ``--by`` choices and the partitions they print.
PARTITIONS = {
    "clodo": "byclodo",
    "type": "bytype",
    "module": "bymodule",
    "size": "bysize",
    "via": "byvia",
    "rcs": "byrcs",
}

EXAMPLES = """\
examples:
  heapscope summary app.hsnap                 census by kind (class / dict of class)
  heapscope summary app.hsnap --by type -n 30
  heapscope summary app.hsnap --by rcs        classed by who refers to them
  heapscope summary app.hsnap --json | jq '.rows[0]'
  heapscope summary 4242                      a running process's census, live (no file)
"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "summary",
        help="metadata and census of a snapshot file",
        description="Print a snapshot's metadata and its census: the objects reachable from the roots, "
        "partitioned as Heapy's heap() table, and how much is alive but unreachable.",
        examples=EXAMPLES,
    )
    snapshot_file(p)
    p.add_argument(
        "--by", choices=list(PARTITIONS), default="clodo", help="how to partition the census (default: clodo, Heapy's kind)"
    )
    p.add_argument("-n", "--rows", type=positive_int, default=20, metavar="N", help="rows to print (default 20)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    if args.file.isdigit() and not os.path.exists(args.file):
        return _live(int(args.file), args)
    snap = open_snapshot(args.file)
    x = snap.heap()
    unreachable = snap.heapu()
    partition = getattr(x, PARTITIONS[args.by])
    if args.json:
        json_output.emit(
            {
                "snapshot": metadata(snap),
                "by": args.by,
                "count": x.count,
                "size": x.size,
                "unreachable": {"count": unreachable.count, "size": unreachable.size},
                "rows": json_output.rows(partition.rows[: args.rows]),
            }
        )
        return 0
    print(describe(snap))
    print(partition.head(args.rows))
    if unreachable.count:
        print(
            f"Also alive but unreachable from the roots: {unreachable.count} objects, "
            f"{unreachable.size} bytes (snap.heapu())."
        )
    return 0


def _live(pid: int, args: argparse.Namespace) -> int:
    """The census of a running process, through its agent (loaded if it has none)."""
    from ..errors import MonitorError
    from ..monitor.attach import connect_or_attach

    try:
        client, _loaded = connect_or_attach(pid)
        with client:
            census = client.census(PARTITIONS[args.by], args.rows)
            hello = client.hello
    except MonitorError as e:
        raise CommandError(str(e)) from None
    if args.json:
        json_output.emit(
            {"process": hello, "by": args.by, "count": census["count"], "size": census["size"], "rows": census["rows"]}
        )
        return 0
    print(f"Process {pid}: Python {hello['python']}, live census (heap() in the process)")
    print("  command: " + " ".join(hello.get("argv") or []))
    print(census["text"])
    return 0
