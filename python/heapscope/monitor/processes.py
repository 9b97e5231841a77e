"""The processes with an agent: their sockets in the users' directories (:mod:`.paths`),
each with the pid, command line, user and start time /proc gives. A socket whose process
is gone is removed (when it is ours) and not listed."""

from __future__ import annotations

import os
import pwd
import socket
from typing import NamedTuple

from . import paths


class MonitoredProcess(NamedTuple):
    pid: int
    command: str
    user: str
    started: float  # seconds since the epoch
    socket: str


def _boot_time() -> float:
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return float(line.split()[1])
    return 0.0


def _started(pid: int, boot: float) -> float:
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # the command name (field 2) may hold spaces and parentheses: fields follow the last ')'
    fields = text[text.rindex(")") + 2 :].split()
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: start time in ticks


def _command(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _answers(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def monitored_processes() -> list[MonitoredProcess]:
    """Every process with an agent this user may connect to, by pid."""
    boot = _boot_time()
    found = []
    for directory in paths.candidate_directories():
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            stem = name[: -len(paths.SUFFIX)]
            if not name.endswith(paths.SUFFIX) or not stem.isdigit():
                continue
            path = os.path.join(directory, name)
            pid = int(stem)
            try:
                uid = os.stat(f"/proc/{pid}").st_uid
                alive = _answers(path)
                if alive:
                    found.append(MonitoredProcess(pid, _command(pid), _user(uid), _started(pid, boot), path))
                    continue
            except OSError:
                pass  # the process is gone
            try:
                if os.stat(path).st_uid == os.getuid():
                    os.unlink(path)  # a dead process's socket
            except OSError:
                pass
    return sorted(found)
