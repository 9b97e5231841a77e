"""The files ``heapscope view`` was given, opened by their content: a snapshot
(``.hsnap``: the snapshot signature) or a Stat profile (records starting with
``.loader:``). A file that is neither, or is damaged, is a :class:`LoadError` naming it."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Literal

from ..errors import SnapshotError, StatFormatError
from ..snapshot import MAGIC, load
from .profile_view import ProfileView
from .snapshot_view import SnapshotView

#: The first bytes of a Stat profile file (``heapscope.profile``, guppy3's ``dump``).
STAT_MAGIC = b".loader:"

FileKind = Literal["snapshot", "profile"]


class LoadError(Exception):
    """A file the viewer cannot open, in one line."""


class LoadedFile:
    """A file as given on the command line, with its index there and its view."""

    def __init__(self, index: int, path: str, view: SnapshotView | ProfileView) -> None:
        self.index = index
        self.path = path
        self.view = view

    @property
    def kind(self) -> FileKind:
        return "snapshot" if isinstance(self.view, SnapshotView) else "profile"

    def describe(self) -> dict[str, Any]:
        with self.view.lock:
            return {"index": self.index, "path": self.path, "kind": self.kind, "meta": self.view.meta()}


def _head(path: str) -> bytes:
    if not os.path.exists(path):
        raise LoadError(f"{path}: no such file")
    if os.path.isdir(path):
        raise LoadError(f"{path}: is a directory, not a snapshot or profile file")
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC))
    except OSError as e:
        raise LoadError(f"{path}: cannot read: {e.strerror or e}") from None


def open_file(
    index: int,
    path: str,
    progress: Callable[[str], AbstractContextManager[object]] = lambda label: nullcontext(),
) -> LoadedFile:
    """The file at ``path`` loaded; ``progress(label)`` wraps a snapshot's load."""
    head = _head(path)
    try:
        if head == MAGIC:
            with progress(f"loading {os.path.basename(path)}"):
                snap = load(path)
            view: SnapshotView | ProfileView = SnapshotView(snap)
            with view.lock:
                view.heap()  # the census the page shows first
            return LoadedFile(index, path, view)
        if head.startswith(STAT_MAGIC):
            profile = ProfileView(path)
            if not profile.records:
                raise LoadError(f"{path}: no complete Stat record in the profile")
            return LoadedFile(index, path, profile)
    except SnapshotError as e:
        raise LoadError(f"{path}: {e}") from None
    except StatFormatError as e:
        raise LoadError(str(e)) from None  # it names the file
    except UnicodeDecodeError:
        raise LoadError(f"{path}: not a Stat profile: it is not UTF-8 text") from None
    except OSError as e:
        raise LoadError(f"{path}: cannot read: {e.strerror or e}") from None
    raise LoadError(
        f"{path}: neither a heapscope snapshot (.hsnap) nor a Stat profile: "
        "it starts with neither the snapshot signature nor '.loader:'"
    )
