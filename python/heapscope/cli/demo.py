"""``heapscope demo``: a built-in program with a leak, and what heapscope finds in it."""

from __future__ import annotations

import argparse

from .arguments import command, positive_int

EXAMPLES = """\
example:
  heapscope demo --dump leak.hsnap && heapscope suspects leak.hsnap
"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "demo",
        help="run a built-in example with a leak and show what heapscope finds",
        description="Run a small service that leaks one request context per request; print the census of "
        "what survived, the kinds that grew with the requests, the path that keeps them alive and what "
        "it retains.",
        examples=EXAMPLES,
    )
    p.add_argument(
        "--requests", type=positive_int, default=1000, metavar="N", help="how many leaking requests to run (default 1000)"
    )
    p.add_argument("--dump", metavar="PATH", help="also write a snapshot of the leaking heap to PATH")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    from ..demo import main as demo_main

    status = demo_main(args.requests)
    if args.dump:
        from ..snapshot_writer import dump
        from .progress import elapsed

        with elapsed(f"dumping to {args.dump}"):
            dump(args.dump)
        print(f"\nSnapshot written to {args.dump}: try `heapscope suspects {args.dump}`.")
    return status
