"""The console's side in the user's terminal: read lines, run them in the process
through the agent, print what comes back. ``exit``, ``quit`` or Ctrl-D detach (the
process and its agent go on); Ctrl-C interrupts the command running in the process."""

from __future__ import annotations

import sys
from typing import Callable, TextIO

from .client import MonitorClient

DETACH = {"exit", "quit", "exit()", "quit()"}


def banner(client: MonitorClient) -> str:
    h = client.hello
    command = " ".join(h.get("argv") or []) or "?"
    return (
        f"heapscope monitor: connected to process {h['pid']} ({command}), Python {h['python']}.\n"
        "h = hpy() is ready (h.heap(), h.setref(), h.heap().byrcs, h.heap().sp, heapscope.dump(path) ...);\n"
        "the program's globals are __main__.NAME.\n"
        "Commands run in that process; Ctrl-C interrupts one; exit or Ctrl-D detaches (the process goes on)."
    )


def interactive(client: MonitorClient, read: Callable[[str], str] = input, out: TextIO = sys.stdout) -> None:
    """Reads and runs console input until the user detaches."""
    try:
        import readline  # noqa: F401 - line editing and history for input()
    except ImportError:
        pass
    print(banner(client), file=out, flush=True)
    lines: list[str] = []

    def write(text: str) -> None:
        try:
            out.write(text)
        except UnicodeEncodeError:  # text the terminal's encoding cannot show (a lone surrogate)
            encoding = getattr(out, "encoding", None) or "utf-8"
            out.write(text.encode(encoding, "backslashreplace").decode(encoding))
        out.flush()

    while True:
        try:
            line = read("... " if lines else ">>> ")
        except EOFError:
            print(file=out)
            return
        except KeyboardInterrupt:
            print("\nKeyboardInterrupt", file=out)
            lines = []
            continue
        if not lines and line.strip() in DETACH:
            return
        lines.append(line)
        if client.run("\n".join(lines), write):
            continue
        lines = []
