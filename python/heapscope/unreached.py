"""``h.unreached()``: why objects are alive but not reachable from the roots.

``heapu()`` lists what is alive and unreachable. Most of it hangs off a few objects that
nothing heapscope can see refers to: they are held by C code (an extension's static
variable, a leaked reference) or by a container whose references CPython cannot
traverse (an extension type without ``tp_traverse``). Those *untraced holders* are the
place to look; everything else in ``heapu()`` is reachable from them.
"""

from __future__ import annotations

from .hidden import hidden_type
from .stat import Stat


@hidden_type
class UnreachedReport:
    """Counts of ``heapu()`` and of its untraced holders, as Stats (no objects kept)."""

    __slots__ = ("all", "untraced")

    def __init__(self, all: Stat, untraced: Stat) -> None:  # noqa: A002 - Heapy-like name
        self.all = all
        self.untraced = untraced

    @property
    def count(self) -> int:
        return self.all.count

    @property
    def size(self) -> int:
        return self.all.size

    def __str__(self) -> str:
        if self.all.count == 0:
            return "Every live object heapscope found is reachable from the roots."
        held = self.all.count - self.untraced.count
        return (
            f"{self.all.count} objects ({self.all.size} bytes) are alive but not reachable "
            "from the roots.\n"
            f"{self.untraced.count} of them ({self.untraced.size} bytes) are referred to by no "
            "object heapscope can see: C code, or a container whose references CPython cannot "
            f"traverse, holds them; they hold the other {held}. The untraced holders:\n"
            f"{self.untraced}"
        )

    def __repr__(self) -> str:
        return str(self)
