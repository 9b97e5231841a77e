"""``heapscope top FILE --by retained|size|count``: the largest retainers (MAT's
dominator view) or the largest kinds."""

from __future__ import annotations

import argparse
from typing import Any

from .arguments import command, positive_int, snapshot_file
from . import json_output
from .inputs import open_snapshot
from .snapshot_header import describe, metadata

EXAMPLES = """\
examples:
  heapscope top app.hsnap                     the 10 objects retaining the most memory
  heapscope top app.hsnap --by size -n 5      the 5 kinds using the most memory
  heapscope top app.hsnap --by count --json
"""

KIND_HEADER = " Index     Count   %       Size   % Kind (class / dict of class)"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "top",
        help="largest retainers or largest kinds of a snapshot",
        description="Print the objects with the largest retained sizes (what would be freed with each: "
        "the dominator tree's view) or the kinds with the most memory or objects.",
        examples=EXAMPLES,
    )
    snapshot_file(p)
    p.add_argument(
        "--by",
        choices=["retained", "size", "count"],
        default="retained",
        help="retained: objects by retained size (default); size, count: kinds by total size or object count",
    )
    p.add_argument("-n", "--rows", type=positive_int, default=10, metavar="N", help="rows to print (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    snap = open_snapshot(args.file)
    if args.by == "retained":
        return _retainers(snap, args)
    x = snap.heap()
    rows = x.byclodo.rows
    if args.by == "count":
        rows = sorted(rows, key=lambda r: -r.count)  # stable: equal counts keep size order
    rows = rows[: args.rows]
    if args.json:
        json_output.emit(
            {
                "snapshot": metadata(snap),
                "by": args.by,
                "count": x.count,
                "size": x.size,
                "rows": json_output.rows(rows),
            }
        )
        return 0
    print(describe(snap))
    print(f"Largest kinds by {'total size' if args.by == 'size' else 'object count'} of {x.count} objects. "
          f"Total size = {x.size} bytes.")
    print(KIND_HEADER)
    for i, r in enumerate(rows):
        print("%6d %9d %3d %10d %3d %s" % (i, r.count, _pct(r.count, x.count), r.size, _pct(r.size, x.size), r.name))
    return 0


def _retainers(snap: Any, args: argparse.Namespace) -> int:
    table = snap.largest_retainers(args.rows)
    if args.json:
        json_output.emit(
            {
                "snapshot": metadata(snap),
                "by": "retained",
                "count": table.total_count,
                "size": table.total_size,
                "rows": [
                    {
                        "kind": r.kind,
                        "object": r.shown,
                        "address": r.object.address,
                        "retained": r.retained,
                        "share": r.share,
                        "objects": r.objects,
                    }
                    for r in table.rows
                ],
            }
        )
        return 0
    print(describe(snap))
    print(table)
    return 0


def _pct(part: int, total: int) -> int:
    return round(100 * part / total) if total else 0
