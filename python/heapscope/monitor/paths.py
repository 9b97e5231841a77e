"""Where agents listen: one Unix socket per process, ``<dir>/<pid>.sock``, in a
directory of the user's own, ``/tmp/heapscope-<uid>`` (``$HEAPSCOPE_MONITOR_DIR``
overrides it; both sides must agree). The directory is created mode 0700 and must be
owned by the user, not a symlink and not open to others, or nothing is put in it: another
user could otherwise place a socket where a console would connect.
"""

from __future__ import annotations

import os
import stat

from ..errors import MonitorError

ENV_DIR = "HEAPSCOPE_MONITOR_DIR"
SUFFIX = ".sock"


def user_directory(uid: int | None = None) -> str:
    """The socket directory of ``uid`` (default: this process's user)."""
    if ENV_DIR in os.environ:
        return os.environ[ENV_DIR]
    return f"/tmp/heapscope-{os.getuid() if uid is None else uid}"


def checked_directory(path: str, uid: int) -> None:
    """Raises unless ``path`` is a real directory owned by ``uid`` with mode 0700."""
    try:
        info = os.lstat(path)
    except OSError as e:
        raise MonitorError(f"{path}: {e.strerror or e}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise MonitorError(f"{path} is not a directory (a symlink or a file is refused)")
    if info.st_uid != uid:
        raise MonitorError(f"{path} is owned by uid {info.st_uid}, not {uid}: refused")
    if info.st_mode & 0o077:
        raise MonitorError(f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):o}, not 700): refused")


def own_directory() -> str:
    """This user's socket directory, created if missing, checked either way."""
    path = user_directory()
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as e:
        raise MonitorError(f"cannot create {path}: {e.strerror or e}") from None
    checked_directory(path, os.getuid())
    return path


def socket_path(pid: int, uid: int | None = None) -> str:
    """Where the agent of process ``pid`` (run by ``uid``) listens."""
    return os.path.join(user_directory(uid), f"{pid}{SUFFIX}")


def candidate_directories() -> list[str]:
    """The directories to look for agents in: the user's own; for root every user's."""
    if ENV_DIR in os.environ or os.getuid() != 0:
        return [user_directory()]
    try:
        names = sorted(n for n in os.listdir("/tmp") if n.startswith("heapscope-") and n[10:].isdigit())
    except OSError:
        return []
    return [os.path.join("/tmp", n) for n in names]
