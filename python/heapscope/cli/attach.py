"""``heapscope attach PID``: load the agent into a running process that did not enable
it (gdb on Python 3.10-3.13, ``sys.remote_exec`` on 3.14), then open a console in it."""

from __future__ import annotations

import argparse

from ..errors import MonitorError
from ..monitor.console import interactive
from .arguments import command
from .command_error import CommandError

EXAMPLES = """\
examples:
  heapscope attach 4242                       load the agent, then a console (h = hpy() ready)
  heapscope attach 4242 --timeout 60          wait longer for a safe point in a busy process

The process goes on running; 'exit' in the console detaches and leaves the agent in it
('heapscope monitor 4242' reconnects). Needs gdb and the right to trace the process (the same
user, ptrace allowed: /proc/sys/kernel/yama/ptrace_scope), and heapscope importable by the
process's Python (the same version as this one, or installed in its environment).
"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "attach",
        help="load the monitor's agent into a running Python process, then open a console",
        description="Load heapscope's agent into a running Python process that did not enable it, at a safe "
        "point (never while it holds the allocator or interpreter locks), then open a console in it.",
        examples=EXAMPLES,
    )
    p.add_argument("pid", type=int, metavar="PID", help="the Python process")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="how long to wait for a safe point (default 30)")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    from ..monitor.attach import connect_or_attach  # gdb and /proc: only when attaching

    try:
        client, loaded = connect_or_attach(args.pid, args.timeout)
    except MonitorError as e:
        raise CommandError(str(e)) from None
    with client:
        if not loaded:
            print(f"heapscope attach: process {args.pid} already has an agent: connecting to it")
        try:
            interactive(client)
        except MonitorError as e:
            raise CommandError(str(e)) from None
    return 0
