"""``python -m heapscope``: the ``heapscope`` command (see :mod:`heapscope.cli`)."""

from __future__ import annotations

import sys

from .cli import main, run

__all__ = ["main", "run"]

if __name__ == "__main__":
    sys.exit(run())
