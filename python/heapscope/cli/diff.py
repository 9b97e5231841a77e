"""``heapscope diff A B [C]``: what changed between snapshots: the census difference,
the kinds that grew with a path each and, given a third snapshot, the leak signature
(objects new in B still alive in C). Exit code 1 when that signature is not empty."""

from __future__ import annotations

import argparse
from typing import Any

from ..snapshot import SnapshotDiff, diff
from .arguments import command
from . import json_output
from .command_error import CommandError
from .inputs import open_snapshot

EXAMPLES = """\
examples:
  heapscope diff before.hsnap after.hsnap
  heapscope diff t0.hsnap t1.hsnap t2.hsnap    leak signature: new in t1, still alive in t2
  heapscope diff a.hsnap b.hsnap --json
"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "diff",
        help="compare two or three snapshots",
        description="Compare snapshots. Of one process, objects are matched by identity (new, freed, "
        "survivors); of different processes, by kind only. With a third snapshot, report the leak "
        "signature: objects new in B that are still alive in C (exit code 1 when there are any).",
        examples=EXAMPLES,
    )
    p.add_argument("files", metavar="FILE", nargs="+", help="two or three snapshot files, oldest first")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    if len(args.files) not in (2, 3):
        raise CommandError(f"diff compares two or three snapshots, not {len(args.files)}")
    snaps = [open_snapshot(f) for f in args.files]
    d = diff(*snaps)
    if args.json:
        json_output.emit(_document(d))
    else:
        print(d)
    return 1 if d.leaking is not None and d.leaking.count else 0


def _set(x: Any) -> dict[str, int] | None:
    return None if x is None else {"count": x.count, "size": x.size}


def _document(d: SnapshotDiff) -> dict[str, Any]:
    return {
        "a": d.a.path,
        "b": d.b.path,
        "same_process": d.same_process,
        "new": _set(d.new),
        "freed": _set(d.freed),
        "survivors": _set(d.survivors),
        "leaking": _set(d.leaking),
        "leaking_kinds": json_output.rows(d.leaking.byclodo.rows) if d.leaking is not None else None,
        "by_kind": [
            {"kind": name, "count_change": dcount, "size_change": dsize} for name, dcount, dsize in d.by_kind.rows
        ],
        "grown": [
            {"kind": name, "count_change": dcount, "size_change": dsize, "path": path}
            for name, dcount, dsize, path in d.grown()
        ],
    }
