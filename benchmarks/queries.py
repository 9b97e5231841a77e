#!/usr/bin/env python3
"""Query benchmark: whole partitions (every row as a set), `.alt` selections, byid and
byvia, heapscope against guppy3 in the same run; plus a query for one object after a
dominator tree (heapscope only: it reuses the tree's capture).

Usage:
    python benchmarks/queries.py [--reps N] [--workloads instances] [--skip-guppy-via]
    python benchmarks/queries.py --reps 1 --workloads big --skip-guppy-via   # ~15M objects

Like run.py: every measurement in a fresh child process (``--child TOOL WORKLOAD``),
tools alternated per repetition, medians. In each child the ops run in the order
listed, on one ``x = h.heap()``, with an untimed ``gc.collect()`` before each. Goals:
each row op and each `.alt` selection takes at most the time of heapscope's own
``heap()`` in the same process; ``byid`` at least 3x and ``byvia`` at least 50x faster
than guppy3. The table is also written to benchmarks/results/queries.txt.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import traceback

from run import GUPPY_NO_VIA, KEEP_A, build_workload, child_errors, end_table, fmt_time, goal_rows, med, side_by_side_main

TOOLS = ("heapscope", "guppy3")

# (op, tools, goal kind, goal value, note). Goal kinds: "heap": heapscope time <= its
# heap() time times value; "x": guppy3/heapscope >= value; None: for information.
OPS = (
    ("heap", TOOLS, None, None, "x = h.heap(): the yardstick of the row and .alt goals"),
    ("alt_type", TOOLS, "heap", 1.0, "x & h.Type(object).alt('<')"),
    ("alt_size", TOOLS, "heap", 1.0, "x & h.Size(56).alt('<')"),
    ("alt_dictof", ("heapscope",), "heap", 1.0, "x & h.Clodo(dictof=object).alt('<') (guppy3: no such kind)"),
    ("bysize_rows", TOOLS, "heap", 1.0, "for r in x.bysize.parts: r.count -- the partition and every row as a set"),
    ("byid", TOOLS, "x", 3.0, "str(x.byid)"),
    ("byvia", TOOLS, "x", 50.0, "str(x.byvia); first label query: includes the edge capture and labels"),
    ("byvia_rows", ("heapscope",), "heap", 1.0,
     "for r in v.parts: r.count, v = x.byvia partitioned (untimed): every row as a set"),
    ("byvia_rows_list", ("heapscope",), None, None,
     "list(v.parts), v made afresh (partition untimed): every row kept at once"),
    ("sp_after_tree", ("heapscope",), None, None,
     "str(h2.iso(obj).sp) for a new session h2 holding h2.dominator_tree() (untimed): reuses its capture"),
)


def child_main(tool: str, workload: str) -> None:
    build_workload(workload)
    # a 3-int list deep in the structure: the instance in the middle of the list
    obj = KEEP_A[len(KEEP_A) // 2].c if workload in ("instances", "big") else None
    name = "guppy3" if tool == GUPPY_NO_VIA else tool
    if name == "heapscope":
        from heapscope import hpy
    else:
        from guppy import hpy
    h = hpy()
    state: dict = {}

    def op_heap():
        state["x"] = h.heap()

    def every_row(parts) -> int:
        """Uses each row as a set; the number of rows."""
        rows = 0
        for r in parts:
            r.count
            rows += 1
        return rows

    def op_byvia_rows():
        return every_row(state["v"].parts)

    def op_byvia_rows_list():
        return len(list(state["v2"].parts))

    def op_sp_after_tree():
        return str(state["h2"].iso(obj).sp)

    def prepare(op: str) -> None:
        """Untimed setup of an op."""
        if op == "byvia_rows":
            state["v"] = state["x"].byvia
            len(state["v"])
        elif op == "byvia_rows_list":
            state.pop("v", None)
            state["v2"] = state["x"].byvia
            len(state["v2"])
        elif op == "sp_after_tree":
            state.pop("v2", None)
            state["h2"] = hpy()
            state["tree"] = state["h2"].dominator_tree()

    ops = {
        "heap": op_heap,
        "alt_type": lambda: state["x"] & h.Type(object).alt("<"),
        "alt_size": lambda: state["x"] & h.Size(56).alt("<"),
        "alt_dictof": lambda: state["x"] & h.Clodo(dictof=object).alt("<"),
        "bysize_rows": lambda: every_row(state["x"].bysize.parts),
        "byid": lambda: str(state["x"].byid),
        "byvia": lambda: str(state["x"].byvia),
        "byvia_rows": op_byvia_rows,
        "byvia_rows_list": op_byvia_rows_list,
        "sp_after_tree": op_sp_after_tree,
    }
    out: dict = {"tool": name, "workload": workload, "errors": {}}
    for op, tools, _, _, _ in OPS:
        if name not in tools or (op == "byvia" and tool == GUPPY_NO_VIA):
            continue
        if op != "heap" and "x" not in state:
            break  # heap() failed
        if obj is None and op == "sp_after_tree":
            continue
        try:
            prepare(op)
        except Exception:
            out["errors"][op] = traceback.format_exc()[-3000:]
            continue
        gc.collect()  # not timed: garbage of the previous op
        t0 = time.perf_counter()
        try:
            result = ops[op]()
        except Exception:  # report, keep measuring the other ops
            out["errors"][op] = traceback.format_exc()[-3000:]
            continue
        out[op] = time.perf_counter() - t0
        if op == "heap":
            out["objects"] = int(state["x"].count)
        elif op in ("bysize_rows", "byvia_rows"):
            out[op + "_count"] = result
        del result
    print(json.dumps(out))
    sys.stdout.flush()


def build_table(res: dict, workloads: list[str], reps: int, skip_guppy_via: bool, elapsed: float) -> str:
    out = [
        "heapscope vs guppy3: queries (rows of partitions, .alt selections, byid, byvia)",
        f"Python {sys.version.split()[0]} {sys.executable}; nproc={os.cpu_count()}",
        f"{reps} repetition(s) (fresh child process per tool per repetition, tools alternated), medians",
        "Ops run in the order listed, in one process per tool, on one x = h.heap(); gc.collect() (untimed) "
        "before each op.",
        "guppy3 byvia: " + ("SKIPPED (--skip-guppy-via)" if skip_guppy_via else f"measured, {reps} repetition(s)"),
        f"Wall time of whole run: {elapsed:.1f} s",
        "",
    ]
    met = total = 0
    errors = []
    for w in workloads:
        hs, gp = res[w]["heapscope"], res[w]["guppy3"]
        heap_hs = med(hs, "heap")
        out.append(f"{w}: objects heapscope {med(hs, 'objects')}, guppy3 {med(gp, 'objects')}; rows: "
                   f"bysize {med(hs, 'bysize_rows_count')}, byvia {med(hs, 'byvia_rows_count')}")
        def judge(kind, goal, a, r):
            if kind == "x":
                return f">={goal:.0f}x guppy3", None if r is None else r >= goal
            return f"<= heap() ({fmt_time(heap_hs)})", None if a is None or heap_hs is None else a <= heap_hs * goal

        lines, m, n = goal_rows(w, OPS, hs, gp, judge)
        out += lines
        met += m
        total += n
        errors += child_errors(res, w)
        out.append("")
    return end_table(out, met, total, errors)


def main() -> None:
    side_by_side_main(__doc__, __file__, OPS, child_main, build_table, "queries.txt")


if __name__ == "__main__":
    main()
