"""The remote monitor: an agent thread in a Python process, and consoles and commands
in other processes that talk to it (docs/monitor.md).

In the program (or ``HEAPSCOPE_MONITOR=1``, or ``heapscope run --monitor``)::

    import heapscope.monitor
    heapscope.monitor.enable()             # a Unix socket only this user (and root) can use
    heapscope.monitor.enable(listen="127.0.0.1:8765")   # also TCP, with a random token

From a shell: ``heapscope monitor`` lists the processes with an agent,
``heapscope monitor PID`` opens a console in one (``h = hpy()`` ready),
``heapscope attach PID`` loads the agent into a process that did not enable it first,
``heapscope dump PID -o out.hsnap`` and ``heapscope summary PID`` ask without a console.
"""

from __future__ import annotations

import os
import sys
import threading

from ..errors import MonitorError
from .agent import Agent

ENV_ENABLE = "HEAPSCOPE_MONITOR"

_lock = threading.Lock()
_agent: Agent | None = None
_from_environment = False


def enable(listen: str | None = None, token: str | None = None) -> Agent:
    """Starts this process's agent (once: later calls return it). ``listen``:
    also accept TCP connections at ``HOST:PORT`` (port 0: any free one), which must
    give ``token`` (default: a random one, ``agent.token``, also written to the 0600
    file ``agent.token_path``)."""
    global _agent
    with _lock:
        if _agent is None or _agent.pid != os.getpid() or not _agent.listening:
            agent = Agent()
            agent.start()
            _agent = agent
        if listen is not None and _agent.tcp_address is None:
            _agent.listen_tcp(listen, token)  # an agent started before gets TCP now
        elif listen is not None:
            raise MonitorError(
                f"the agent already listens on {_agent.tcp_address[0]}:{_agent.tcp_address[1]}"  # type: ignore[index]
            )
        return _agent


def disable() -> None:
    """Stops the agent: no more connections; the socket file is removed."""
    global _agent
    with _lock:
        if _agent is not None:
            _agent.stop()
            _agent = None


def agent() -> Agent | None:
    """This process's agent, if enabled."""
    return _agent if _agent is not None and _agent.pid == os.getpid() else None


def _after_fork_in_child() -> None:
    """A forked child has no agent thread: close what it inherited; with
    ``HEAPSCOPE_MONITOR=1`` it gets an agent of its own."""
    global _agent
    if _agent is not None:
        _agent.forget_after_fork()
        _agent = None
    if _from_environment:
        _enable_quietly()


def _enable_quietly() -> None:
    try:
        enable()
    except Exception as e:  # noqa: BLE001 - a program must start even when its monitor cannot
        print(f"heapscope monitor: not enabled: {e}", file=sys.stderr)


def enable_from_environment() -> None:
    """``HEAPSCOPE_MONITOR=1`` at startup (heapscope's ``.pth`` file calls this)."""
    global _from_environment
    if os.environ.get(ENV_ENABLE) == "1":
        _from_environment = True
        _enable_quietly()


os.register_at_fork(after_in_child=_after_fork_in_child)

__all__ = ["Agent", "agent", "disable", "enable", "enable_from_environment"]
