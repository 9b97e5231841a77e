"""The command line's entry: the parser of every subcommand, and the one place that
turns errors into a line on stderr and an exit code."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .command_error import CommandError

#: Subcommand modules, in ``--help`` order; each has ``register(subparsers)``.
COMMANDS = (
    "demo", "run", "summary", "top", "paths", "suspects", "diff", "export", "view", "report",
    "monitor", "attach", "dump",
)

EPILOG = """\
exit codes: 0 done; 1 problems found (suspects, a leak signature in diff); 2 usage or input error.
'heapscope COMMAND --help' shows each command's options and examples.
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="heapscope",
        description="Memory profiler and debugger for Python: what uses memory, and why it is still alive.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"heapscope {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__package__}.{name}").register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.command is None:
        p.print_help()
        return 2
    try:
        return int(args.execute(args))
    except CommandError as e:
        print(f"heapscope {args.command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"heapscope {args.command}: interrupted", file=sys.stderr)
        return 130


def _version() -> str:
    from .. import __version__

    return __version__


def run() -> int:
    """Entry point: like other command-line tools, a closed pipe (``| head``) ends the
    output quietly."""
    try:
        return main()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
