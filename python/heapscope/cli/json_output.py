"""``--json`` output: one JSON document on stdout per command, for scripts."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit(document: dict[str, Any]) -> None:
    """Writes ``document`` to stdout as indented JSON."""
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")


def rows(partition: Any, limit: int | None) -> list[dict[str, Any]]:
    """A partition's rows (``x.bytype``, ...) as ``{"kind", "count", "size"}`` records."""
    found = partition.rows
    return [{"kind": r.name, "count": r.count, "size": r.size} for r in found[: limit if limit is not None else len(found)]]
