"""The ``heapscope`` command (also ``python -m heapscope``)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="heapscope",
        description="Memory profiler and debugger for Python: what uses memory, and why it is still alive.",
    )
    parser.add_argument("--version", action="version", version=f"heapscope {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="run a built-in example with a leak and show what heapscope finds")
    demo.add_argument("--requests", type=int, default=1000, help="how many leaking requests to run (default 1000)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.requests < 1:
            parser.error("--requests must be at least 1")
        from .demo import main as demo_main

        return demo_main(args.requests)
    parser.print_help()
    return 2


def _version() -> str:
    from . import __version__

    return __version__


def run() -> int:
    """Entry point: like other command-line tools, a closed pipe (``| head``) ends the
    output quietly."""
    try:
        return main()
    except BrokenPipeError:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(run())
