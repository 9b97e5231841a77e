"""``heapscope suspects FILE``: leak suspects (objects retaining a large share of the
heap), with what they retain and the path keeping each alive. Exit code 1 when any."""

from __future__ import annotations

import argparse

from .arguments import command, positive_int, share, snapshot_file
from . import json_output
from .inputs import open_snapshot
from .snapshot_header import describe, metadata

EXAMPLES = """\
examples:
  heapscope suspects app.hsnap                 objects retaining >= 10% of the heap
  heapscope suspects app.hsnap --min-share 5%  a lower threshold
  heapscope suspects app.hsnap --json || echo "suspects found"
"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "suspects",
        help="leak suspects with their paths and retained sizes (exit 1 when found)",
        description="Print the objects that retain at least a share of the heap (MAT's leak suspects), "
        "what they retain by kind and the shortest path that keeps each alive. "
        "Exit code 1 when there are suspects, 0 when there are none.",
        examples=EXAMPLES,
    )
    snapshot_file(p)
    p.add_argument(
        "--min-share", type=share, default=0.1, metavar="SHARE", help="least share of the heap retained (default 0.1)"
    )
    p.add_argument("-n", "--limit", type=positive_int, default=5, metavar="N", help="most suspects reported (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    snap = open_snapshot(args.file)
    found = snap.leak_suspects(min_share=args.min_share, limit=args.limit)
    if args.json:
        json_output.emit(
            {
                "snapshot": metadata(snap),
                "min_share": found.min_share,
                "count": found.total_count,
                "size": found.total_size,
                "suspects": [
                    {
                        "object": s.name,
                        "address": s.object.address,
                        "retained": s.retained,
                        "share": s.share,
                        "objects": s.dominated.count,
                        "retained_kinds": json_output.rows(s.dominated.by("Clodo").rows[:10]),
                        "path": s.path,
                    }
                    for s in found.suspects
                ],
            }
        )
    else:
        print(describe(snap))
        print(found)
    return 1 if len(found) else 0
