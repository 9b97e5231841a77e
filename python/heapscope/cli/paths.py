"""``heapscope paths FILE KIND``: the shortest reference paths from the roots to the
objects of a kind, as ``sp`` prints them."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import NoSuchTypeError
from .arguments import command, positive_int, snapshot_file
from . import json_output
from .command_error import CommandError
from .inputs import open_snapshot
from .snapshot_header import describe, metadata

EXAMPLES = """\
examples:
  heapscope paths app.hsnap myapp.models.Session        why Session objects are alive
  heapscope paths app.hsnap "dict of myapp.models.Session" -n 3
  heapscope paths app.hsnap str --json
"""

DICT_OF = "dict of "


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "paths",
        help="shortest paths from the roots to the objects of a kind",
        description="Print the shortest reference paths from the roots to the objects of KIND "
        "(what keeps them alive), as Heapy's x.sp prints them.",
        examples=EXAMPLES,
    )
    snapshot_file(p)
    p.add_argument(
        "kind",
        metavar="KIND",
        help="a type by qualified name (pkg.module.Class, or Heapy's name: str, dict, ...), "
        "or 'dict of pkg.module.Class' for the instances' __dict__s",
    )
    p.add_argument("-n", "--paths", type=positive_int, default=10, metavar="N", help="paths to print (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(execute=execute)


def kind_of(snap: Any, name: str) -> Any:
    """The snapshot's kind named ``name`` (a CommandError when no type has that name)."""
    try:
        if name.startswith(DICT_OF):
            return snap.Clodo(dictof=name[len(DICT_OF):])
        return snap.Clodo(name)
    except NoSuchTypeError:
        raise CommandError(
            f"no type named {name!r} in {snap.path} (names are Heapy's: module.Class; "
            "`heapscope summary --by type` lists them)"
        ) from None


def execute(args: argparse.Namespace) -> int:
    snap = open_snapshot(args.file)
    kind = kind_of(snap, args.kind)
    x = snap.heap() & kind
    paths = x.sp
    shown = list(paths.iter(0, args.paths)) if x.count else []
    if args.json:
        json_output.emit(
            {
                "snapshot": metadata(snap),
                "kind": args.kind,
                "count": x.count,
                "size": x.size,
                "numpaths": paths.numpaths if x.count else 0,
                "paths": [str(p).strip() for p in shown],
                "reason": paths.reason if x.count else "no objects of this kind are reachable from the roots",
            }
        )
        return 0
    print(describe(snap))
    if not x.count:
        unreachable = sum(count for name, count, _ in snap.heapu().rows if name == args.kind)
        where = f" ({unreachable} are alive but unreachable from the roots: snap.heapu())" if unreachable else ""
        print(f"No object of {args.kind} is reachable from the roots{where}.")
        return 0
    print(f"{x.count} objects of {args.kind}, {x.size} bytes. {paths.numpaths} shortest paths from the roots:")
    if not shown:
        print(paths.reason)
    for i, p in enumerate(shown):
        print(f"{i:2d}: {str(p).strip()}")
    if paths.numpaths > len(shown):
        print(f"<{paths.numpaths - len(shown)} more paths; -n to show more>")
    return 0
