"""``--json`` output: one JSON document on stdout per command, for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any


def emit(document: dict[str, Any]) -> None:
    """Writes ``document`` to stdout as indented JSON."""
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")


def rows(found: Sequence[Any]) -> list[dict[str, Any]]:
    """Partition rows (``x.bytype.rows``, ...) as ``{"kind", "count", "size"}`` records."""
    return [{"kind": r.name, "count": r.count, "size": r.size} for r in found]
