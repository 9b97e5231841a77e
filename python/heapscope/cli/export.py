"""``heapscope export FILE --format heapsnapshot|parquet|jsonl -o OUT``: a snapshot in
the formats other tools read (Chrome DevTools and memlab; DuckDB, polars, Spark; scripts
and meliae/midden users). See docs/exports.md for the schemas."""

from __future__ import annotations

import argparse
import os

from ..errors import SnapshotError
from .arguments import command, snapshot_file
from .command_error import CommandError
from .inputs import open_snapshot
from .progress import ProgressBar

FORMATS = ("heapsnapshot", "parquet", "jsonl")
SUFFIXES = {".heapsnapshot": "heapsnapshot", ".jsonl": "jsonl", ".parquet": "parquet"}

EXAMPLES = """\
examples:
  heapscope export app.hsnap -o app.heapsnapshot    open in Chrome DevTools (Memory) or memlab
  heapscope export app.hsnap --format parquet -o app-tables
                                                    a directory: objects.parquet, edges.parquet, types.parquet
  heapscope export app.hsnap --format jsonl -o app.jsonl
  duckdb -c "SELECT t.name, count(*), sum(o.size) FROM 'app-tables/objects.parquet' o
             JOIN 'app-tables/types.parquet' t ON o.type = t.id GROUP BY 1 ORDER BY 3 DESC LIMIT 10"
"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "export",
        help="write a snapshot as .heapsnapshot (DevTools, memlab), Parquet tables or JSON lines",
        description="Write a snapshot in another format. The output appears only when complete "
        "(interrupting leaves no partial file).",
        examples=EXAMPLES,
    )
    snapshot_file(p)
    p.add_argument(
        "-f", "--format", choices=FORMATS, default=None,
        help="output format (default: from OUT's suffix, else heapsnapshot)",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="the file (directory for parquet) to write")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    fmt = args.format or SUFFIXES.get(os.path.splitext(args.output)[1], "heapsnapshot")
    if os.path.exists(args.output) and not args.force:
        raise CommandError(f"{args.output}: already exists (--force replaces it)")
    parent = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(parent):
        raise CommandError(f"{args.output}: the directory {parent} does not exist")
    snap = open_snapshot(args.file)
    bar = ProgressBar(f"exporting {fmt}")
    try:
        snap.export(args.output, format=fmt, progress=bar.update)
    except SnapshotError as e:
        raise CommandError(f"{args.output}: {e}") from None
    except OSError as e:
        raise CommandError(f"{args.output}: cannot write: {e.strerror or e}") from None
    finally:
        bar.close()
    return 0
