"""Loading the agent into a process that did not enable it: :mod:`.inject` makes the
process run a few lines that import heapscope (from its own environment, or else from
the directory this heapscope is installed in, added to ``sys.path`` only while
importing) and call :func:`heapscope.monitor.enable`. A process that already has an
agent is connected to as it is."""

from __future__ import annotations

import os
import sys

from ..errors import AttachError
from . import paths
from .client import AgentGone, MonitorClient, agent_socket, process_uid

#: The lines run in the process: no name is left in its namespaces.
AGENT_SOURCE = '''exec("""
import sys
where = {where!r}
added = where not in sys.path
if added:
    sys.path.append(where)
try:
    import heapscope.monitor
    heapscope.monitor.enable()
finally:
    if added:
        sys.path.remove(where)
""", {{}})'''


def agent_source() -> str:
    """The lines that start the agent, naming where this heapscope is installed."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return AGENT_SOURCE.format(where=os.path.dirname(package))


def connect_or_attach(pid: int, timeout: float = 30.0) -> tuple[MonitorClient, bool]:
    """A client of ``pid``'s agent, loading the agent first if it has none; whether it
    was loaded now."""
    if agent_socket(pid) is not None:
        try:
            return MonitorClient.to_pid(pid), False
        except AgentGone:
            _remove_stale(pid)  # the process exec'd or its pid was reused: attach anew
    from .inject import inject, target_python

    version = target_python(pid)
    try:
        inject(pid, agent_source(), timeout)
    except AttachError as e:
        if version != sys.version_info[:2]:
            raise AttachError(
                f"{e} (process {pid} runs Python {version[0]}.{version[1]}, this heapscope Python "
                f"{sys.version_info[0]}.{sys.version_info[1]}: install heapscope in the process's environment, "
                f"or run heapscope with its Python)"
            ) from None
        raise
    if agent_socket(pid) is None:
        raise AttachError(f"process {pid} ran the agent's start but has no agent socket")
    return MonitorClient.to_pid(pid), True


def _remove_stale(pid: int) -> None:
    path = paths.socket_path(pid, process_uid(pid))
    try:
        os.unlink(path)
    except OSError as e:
        raise AttachError(f"{path} is stale and cannot be removed: {e.strerror or e}") from None
