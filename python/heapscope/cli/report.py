"""``heapscope report FILE -o report.html``: one self-contained HTML file about a
snapshot (metadata, census, largest retainers, leak suspects with their paths) or a
profile (the graph over time, the census of the last record). No server, no network."""

from __future__ import annotations

import argparse

from ..errors import StatFormatError
from ..snapshot import MAGIC
from ..stat import load_all
from ..viewer.report import profile_data, snapshot_data, write_report
from .arguments import command, share
from .command_error import CommandError
from .inputs import STAT_MAGIC, file_head, open_snapshot

EXAMPLES = """\
examples:
  heapscope report app.hsnap -o app.html        a snapshot's report
  heapscope report mem.hpy -o mem.html          a profile (heapscope.profile) as a graph
  heapscope report app.hsnap                    writes app.hsnap.html
"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "report",
        help="write a self-contained HTML report of a snapshot or a profile",
        description="Write one HTML file, readable offline in any browser, about a snapshot (its metadata, "
        "census by kind and by type, largest retainers and leak suspects with the paths keeping them "
        "alive) or a Stat profile file (the largest kinds over time, the census of the last record).",
        examples=EXAMPLES,
    )
    p.add_argument("file", metavar="FILE", help="a snapshot (.hsnap) or a profile file (heapscope.profile)")
    p.add_argument("-o", "--output", metavar="HTML", help="the report to write (default: FILE.html)")
    p.add_argument(
        "--min-share", type=share, default=0.1, metavar="SHARE",
        help="least share of the heap a leak suspect retains (default 0.1)",
    )
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    path = args.file
    output = args.output or f"{path}.html"
    head = file_head(path, "a snapshot or profile file")
    if head == MAGIC:
        data = snapshot_data(open_snapshot(path), min_share=args.min_share)
    elif head.startswith(STAT_MAGIC):
        try:
            records = list(load_all(path))
        except (StatFormatError, UnicodeDecodeError) as e:
            raise CommandError(f"{path}: not a readable profile: {e}") from None
        if not records:
            raise CommandError(f"{path}: the profile has no records")
        data = profile_data(path, records)
    else:
        raise CommandError(f"{path}: neither a heapscope snapshot (.hsnap) nor a Stat profile file")
    try:
        write_report(data, output)
    except OSError as e:
        raise CommandError(f"{output}: cannot write: {e.strerror or e}") from None
    print(f"wrote {output}")
    return 0
