"""Opening the files commands are given: a missing, unreadable, foreign or damaged file
is a :class:`CommandError` that says which and why, in one line."""

from __future__ import annotations

import os

from ..errors import SnapshotError
from ..snapshot import MAGIC, Snapshot, load
from .command_error import CommandError
from .progress import elapsed

#: The first bytes of a Stat profile file (``heapscope.profile``, guppy3's ``dump``).
STAT_MAGIC = b".loader:"


def file_head(path: str, expected: str = "a snapshot file") -> bytes:
    """The file's first bytes (enough to tell its format), after checking it exists and is
    a readable file; ``expected`` names what a directory given instead is not."""
    if not os.path.exists(path):
        raise CommandError(f"{path}: no such file")
    if os.path.isdir(path):
        raise CommandError(f"{path}: is a directory, not {expected}")
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC))
    except OSError as e:
        raise CommandError(f"{path}: cannot read: {e.strerror or e}") from None


def open_snapshot(path: str) -> Snapshot:
    """The snapshot at ``path``, loaded with progress on a terminal."""
    head = file_head(path)
    if head != MAGIC:
        if head.startswith(STAT_MAGIC):
            raise CommandError(
                f"{path}: is a Stat profile (census records, no references), not a snapshot; "
                "read it with heapscope.load() in Python"
            )
        raise CommandError(f"{path}: not a heapscope snapshot (.hsnap): it does not start with the snapshot signature")
    try:
        with elapsed(f"loading {os.path.basename(path)}"):
            return load(path)
    except SnapshotError as e:
        raise CommandError(f"{path}: {e}") from None
    except OSError as e:
        raise CommandError(f"{path}: cannot read: {e.strerror or e}") from None
