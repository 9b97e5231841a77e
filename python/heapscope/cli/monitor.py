"""``heapscope monitor``: list the processes with an agent; ``heapscope monitor PID``:
a console in one of them (docs/monitor.md)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time

from ..errors import MonitorError
from ..monitor.agent import parse_listen
from ..monitor.client import MonitorClient
from ..monitor.console import interactive
from ..monitor.processes import monitored_processes
from . import json_output
from .arguments import command
from .command_error import CommandError

TOKEN_ENV = "HEAPSCOPE_MONITOR_TOKEN"

EXAMPLES = """\
examples:
  heapscope monitor                           the processes with an agent (pid, user, start, command)
  heapscope monitor 4242                      a console in process 4242: h = hpy() is ready
  heapscope monitor --connect 127.0.0.1:8765 --token-file /tmp/heapscope-1000/4242.token
                                              an agent started with --listen (the file it printed)

A process has an agent when it called heapscope.monitor.enable(), ran with HEAPSCOPE_MONITOR=1,
or was started by 'heapscope run --monitor'; 'heapscope attach PID' loads one into any other.
In the console: exit or Ctrl-D detaches (the process goes on), Ctrl-C interrupts the command.
"""


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "monitor",
        help="list processes with a heapscope agent, or open a console in one",
        description="Without PID, list the processes whose heapscope agent this user can reach. With PID, "
        "open an interactive console that runs in that process, with h = hpy() ready: its heap, "
        "reference points, paths, snapshots.",
        examples=EXAMPLES,
    )
    p.add_argument("pid", nargs="?", type=int, metavar="PID", help="the process to open a console in")
    p.add_argument("--connect", metavar="HOST:PORT", help="an agent listening on TCP (heapscope run --monitor --listen)")
    p.add_argument("--token-file", metavar="FILE",
                   help="the file holding the agent's token (its <pid>.token; or set HEAPSCOPE_MONITOR_TOKEN, or "
                   "type it when asked: a token is never given on the command line, where ps shows it)")
    p.add_argument("--json", action="store_true", help="the list as JSON")
    p.set_defaults(execute=execute)


def execute(args: argparse.Namespace) -> int:
    if args.connect is not None:
        if args.pid is not None:
            raise CommandError("give a PID or --connect, not both")
        token = _token(args.token_file)
        return _console(lambda: MonitorClient.to_address(parse_listen(args.connect), token))
    if args.pid is not None:
        return _console(lambda: MonitorClient.to_pid(args.pid))
    return _list(args.json)


def _token(path: str | None) -> str:
    """The TCP token: from --token-file, HEAPSCOPE_MONITOR_TOKEN, or typed (not echoed)."""
    if path is not None:
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError as e:
            raise CommandError(f"--token-file {path}: {e.strerror or e}") from None
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV]
    if not sys.stdin.isatty():
        raise CommandError(f"--connect needs the agent's token: --token-file FILE or {TOKEN_ENV}")
    return getpass.getpass("token: ").strip()


def _console(connect: object) -> int:
    try:
        client = connect()  # type: ignore[operator]
    except MonitorError as e:
        raise CommandError(str(e)) from None
    with client:
        try:
            interactive(client)
        except MonitorError as e:
            raise CommandError(str(e)) from None
    return 0


def _list(as_json: bool) -> int:
    found = monitored_processes()
    if as_json:
        json_output.emit({"processes": [p._asdict() for p in found]})
        return 0
    if not found:
        print("No process has a heapscope agent this user can reach. Start one with heapscope.monitor.enable(), "
              "HEAPSCOPE_MONITOR=1 or heapscope run --monitor; or load one: heapscope attach PID.")
        return 0
    print(f"{'PID':>7}  {'USER':<10} {'STARTED':<19}  COMMAND")
    for p in found:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(p.started))
        print(f"{p.pid:>7}  {p.user:<10} {started:<19}  {p.command}")
    return 0
