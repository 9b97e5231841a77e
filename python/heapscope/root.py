"""``h.Root``: the interpreter's root members, the first step of every path.

Members are named as Heapy names them: ``i0_modules``, ``i0_sysdict``, ``i0_builtins``,
... for the interpreter and ``i0_t<thread id>_<field>`` for each thread. On 3.11+ a
frame that has no frame object is not given one (that would change the heap): its
members appear as ``i0_t<tid>_f<n>.f_locals['x']`` and are reached here through a
read-only :class:`FrameMembers` view.
"""

from __future__ import annotations

import os
from typing import Any

from . import _native

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class FrameMembers:
    """The named members of one live frame that has no frame object."""

    __slots__ = ("name", "members")

    def __init__(self, name: str, members: dict[str, Any]) -> None:
        self.name = name
        self.members = members

    def __getattr__(self, attr: str) -> Any:
        try:
            return self.members[attr]
        except KeyError:
            raise AttributeError(attr) from None

    def __dir__(self) -> list[str]:
        return sorted(self.members)

    def __repr__(self) -> str:
        return f"<frame members {self.name}: {', '.join(sorted(self.members))}>"


class RootState:
    """Live view of the root members (looked up afresh on each access)."""

    __slots__ = ()

    def _members(self) -> dict[str, Any]:
        top: dict[str, Any] = {}
        frames: dict[str, dict[str, Any]] = {}
        for name, obj in _native.root_members(PACKAGE_DIR):
            head, sep, rest = _split_member(name)
            if sep:
                frames.setdefault(head, {})[rest] = obj
            elif head not in top:
                top[head] = obj
        for head, members in frames.items():
            top.setdefault(head, FrameMembers(head, members))
        return top

    def __dir__(self) -> list[str]:
        return sorted(self._members())

    def __getattr__(self, name: str) -> Any:
        members = self._members()
        try:
            return members[name]
        except KeyError:
            raise AttributeError(f"no root member {name!r}") from None

    def __repr__(self) -> str:
        return "<heapscope root: " + ", ".join(sorted(self._members())[:6]) + ", ...>"


def _split_member(name: str) -> tuple[str, str, str]:
    for i, ch in enumerate(name):
        if ch in ".-":
            return name[:i], ".", name[i:].lstrip(".")
    return name, "", ""
