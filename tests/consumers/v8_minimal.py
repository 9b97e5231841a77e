"""A hand-written V8 heap snapshot (the ``.heapsnapshot`` JSON schema), small enough
to check a consumer's reading by hand, and variations of it that probe what a consumer
requires of a file (see docs/exports-consumers.md).

``minimal_snapshot()`` gives the document as a dict; ``write(path, doc)`` writes it the
way V8 does (one line of meta, then one node or edge per line, ``strings`` last) unless
``compact=False``/``order=...`` say otherwise. ``EXPECTED`` holds what a correct reader
must find in the default document.
"""

from __future__ import annotations

import json
import os
from typing import Any

NODE_FIELDS = ["type", "name", "id", "self_size", "edge_count", "trace_node_id", "detachedness"]
NODE_TYPES = [
    "hidden", "array", "string", "object", "code", "closure", "regexp", "number",
    "native", "synthetic", "concatenated string", "sliced string", "symbol", "bigint",
    "object shape",
]
EDGE_FIELDS = ["type", "name_or_index", "to_node"]
EDGE_TYPES = ["context", "element", "property", "internal", "hidden", "shortcut", "weak"]

FULL_META: dict[str, Any] = {
    "node_fields": NODE_FIELDS,
    "node_types": [NODE_TYPES, "string", "number", "number", "number", "number", "number"],
    "edge_fields": EDGE_FIELDS,
    "edge_types": [EDGE_TYPES, "string_or_number", "node"],
    "trace_function_info_fields": ["function_id", "name", "script_name", "script_id", "line", "column"],
    "trace_node_fields": ["id", "function_info_index", "count", "size", "children"],
    "sample_fields": ["timestamp_us", "last_assigned_id"],
    "location_fields": ["object_index", "script_id", "line", "column"],
}

# (type, name, id, self_size, [(edge type, name or index, target node ordinal), ...])
GRAPH: list[tuple[str, str, int, int, list[tuple[str, str | int, int]]]] = [
    ("synthetic", "", 1, 0, [("element", 1, 1)]),
    ("synthetic", "(GC roots)", 3, 0, [("element", 1, 2), ("element", 2, 7)]),
    ("object", "dict", 5, 64, [("property", "a", 3), ("property", "b", 4), ("property", "c", 6)]),
    ("object", "list", 7, 56, [("element", 0, 5), ("element", 1, 5), ("internal", "__class__", 8)]),
    ("string", "hello", 9, 54, []),
    ("object", "Foo", 11, 48, [("weak", "ref", 2), ("hidden", 0, 6)]),
    ("hidden", "cell", 13, 16, []),
    ("object", "Foo", 15, 48, [("property", "x", 4)]),
    ("object", "type", 17, 400, []),
]

#: What a reader must find in ``minimal_snapshot()`` (retained sizes by dominators from
#: node 0 over non-weak edges).
EXPECTED: dict[str, Any] = {
    "node_count": 9,
    "edge_count": 12,
    "self_size_total": 64 + 56 + 54 + 48 + 16 + 48 + 400,
    "by_name": {
        "": {"count": 1, "self_size": 0},
        "(GC roots)": {"count": 1, "self_size": 0},
        "dict": {"count": 1, "self_size": 64},
        "list": {"count": 1, "self_size": 56},
        "hello": {"count": 1, "self_size": 54},
        "Foo": {"count": 2, "self_size": 96},
        "cell": {"count": 1, "self_size": 16},
        "type": {"count": 1, "self_size": 400},
    },
    # node id -> retained size: dict retains list, Foo#11, type (only via list); the
    # string "hello" is also held by Foo#15 (a root), cell by dict and Foo#11
    "retained": {5: 64 + 56 + 48 + 400 + 16, 7: 56 + 48 + 400, 11: 48, 15: 48, 9: 54, 13: 16, 17: 400},
}


def minimal_snapshot(
    *,
    meta: dict[str, Any] | None = None,
    header_extra: dict[str, Any] | None = None,
    with_counts: bool = True,
    with_trace_function_count: bool = True,
    sections: tuple[str, ...] = ("trace_function_infos", "trace_tree", "samples", "locations"),
    ids: list[int] | None = None,
    node_fields: list[str] | None = None,
    graph: list[tuple[str, str, int, int, list[tuple[str, str | int, int]]]] | None = None,
) -> dict[str, Any]:
    """The document; keyword arguments leave parts out or change them (for probing)."""
    graph = GRAPH if graph is None else graph
    fields = NODE_FIELDS if node_fields is None else node_fields
    strings: list[str] = []
    index: dict[str, int] = {}

    def s(text: str) -> int:
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return index[text]

    s("")
    nodes: list[int] = []
    edges: list[int] = []
    for ordinal, (ntype, name, nid, size, out) in enumerate(graph):
        if ids is not None:
            nid = ids[ordinal]
        values = {
            "type": NODE_TYPES.index(ntype), "name": s(name), "id": nid, "self_size": size,
            "edge_count": len(out), "trace_node_id": 0, "detachedness": 0,
        }
        nodes.extend(values[f] for f in fields)
        for etype, name_or_index, to in out:
            nori = name_or_index if etype in ("element", "hidden") else s(str(name_or_index))
            edges.extend([EDGE_TYPES.index(etype), nori, to * len(fields)])
    m = dict(FULL_META if meta is None else meta)
    if meta is None and node_fields is not None:
        m["node_fields"] = fields
        m["node_types"] = ["number"] * len(fields)
        m["node_types"][fields.index("type")] = NODE_TYPES
        m["node_types"][fields.index("name")] = "string"
    header: dict[str, Any] = {"meta": m}
    if with_counts:
        header["node_count"] = len(graph)
        header["edge_count"] = len(edges) // 3
    if with_trace_function_count:
        header["trace_function_count"] = 0
    header.update(header_extra or {})
    doc: dict[str, Any] = {"snapshot": header, "nodes": nodes, "edges": edges}
    for name in sections:
        doc[name] = []
    doc["strings"] = strings
    return doc


def dumps(doc: dict[str, Any], *, compact: bool = True, order: list[str] | None = None,
          ensure_ascii: bool = True) -> str:
    """V8's layout: one node (or edge) a line; ``order`` reorders the top-level keys."""
    keys = list(doc) if order is None else order
    if not compact:
        return json.dumps({k: doc[k] for k in keys}, indent=2, ensure_ascii=ensure_ascii)
    parts = []
    nf = len(doc["snapshot"]["meta"]["node_fields"])
    ef = len(doc["snapshot"]["meta"]["edge_fields"])
    for k in keys:
        v = doc[k]
        if k in ("nodes", "edges"):
            step = nf if k == "nodes" else ef
            rows = [",".join(map(str, v[i:i + step])) for i in range(0, len(v), step)]
            parts.append(f'"{k}":[' + "\n,".join(rows) + "]")
        elif k == "strings":
            parts.append('"strings":[' + "\n,".join(json.dumps(x, ensure_ascii=ensure_ascii) for x in v) + "]")
        else:
            parts.append(json.dumps(k) + ":" + json.dumps(v, separators=(",", ":"), ensure_ascii=ensure_ascii))
    return "{" + ",\n".join(parts) + "}\n"


def write(path: str | os.PathLike[str], doc: dict[str, Any] | None = None, **kw: Any) -> str:
    text = dumps(minimal_snapshot() if doc is None else doc, **kw)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return os.fspath(path)


if __name__ == "__main__":
    import sys

    write(sys.argv[1] if len(sys.argv) > 1 else "minimal.heapsnapshot")
