#!/usr/bin/env python3
""""Why is it alive?" benchmark: referrer partitions (byrcs, byvia), shortest paths (sp),
reference patterns (rp) and retained sizes (domisize), heapscope against guppy3 in the
same run; plus heapscope's whole-heap dominator tree, largest retainers and leak suspects.

Usage:
    python benchmarks/why.py [--reps N] [--workloads instances] [--skip-guppy-via]

Like run.py: every measurement in a fresh child process (``--child TOOL WORKLOAD``),
tools alternated per repetition, medians. The ops run in the order a user would type
them, on one ``x = h.heap()`` per process, so each op's row says what it paid for (the
first referrer query captures the heap again with edges, the first label query computes
edge labels). ``--skip-guppy-via`` leaves out guppy3's ``str(x.byvia)`` (about a minute
per repetition on ``instances``). The table is also written to benchmarks/results/why.txt.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import traceback

from run import (
    GUPPY_NO_VIA, KEEP_A, build_workload, child_errors, end_table, fmt_mib, fmt_time, goal_rows, maxrss_kib, med,
    ratio, reset_peak, side_by_side_main, status_kib,
)

TOOLS = ("heapscope", "guppy3")
TARGET_INDEX = 150_000  # obj = KEEP_A[TARGET_INDEX].c, a 3-int list deep in the structure

# (op, tools, goal kind, goal value, note); ops run in this order in each child.
#   "x": guppy3/heapscope time ratio >= value;  "s": heapscope time <= value seconds.
OPS = (
    ("heap", TOOLS, None, None, "x = h.heap() (includes gc.collect); for information"),
    ("byrcs", TOOLS, "x", 10.0, "str(x.byrcs); first referrer query: includes the edge capture"),
    ("byrcs_again", TOOLS, None, None, "str(x.byrcs) again: edges already captured; for information"),
    ("byvia", TOOLS, "x", 50.0, "str(x.byvia); first label query: includes computing edge labels"),
    ("byvia_again", ("heapscope",), None, None, "str(x.byvia) again: labels already computed; for information"),
    ("sp", TOOLS, "x", 3.0, "str(h.iso(obj).sp); reuses edges and labels"),
    ("rp", TOOLS, "x", 3.0, "str(h.iso(obj).rp); reuses edges"),
    ("domisize_one", TOOLS, "x", 3.0, "h.iso(obj).domisize; reuses edges"),
    ("domisize_big", TOOLS, "x", 3.0, "h.iso(KEEP_A).domisize (the 300k-element list); reuses edges"),
    ("dominator_tree", ("heapscope",), "s", 1.0,
     "h.dominator_tree(); reuses edges, computes the whole-heap tree (first use)"),
    ("largest_retainers", ("heapscope",), None, None, "str(h.largest_retainers(10)); reuses the tree"),
    ("leak_suspects", ("heapscope",), None, None, "str(h.leak_suspects()); reuses the tree"),
)
MEM_OPS = {"byrcs": None, "byvia": 3.0}  # memory rows: goal guppy3/heapscope >= value (None: info)


# --------------------------------------------------------------------------
# child side
# --------------------------------------------------------------------------



def child_main(tool: str, workload: str) -> None:
    import resource  # noqa: F401  -- imported before measuring (maxrss_kib uses it)

    build_workload(workload)
    obj = KEEP_A[TARGET_INDEX].c if workload == "instances" else None
    if tool == "heapscope":
        from heapscope import hpy
    else:
        from guppy import hpy
    h = hpy()
    maxrss_kib()
    status_kib("VmRSS")
    can_reset = reset_peak()

    state: dict = {}

    def op_heap():
        state["x"] = h.heap()

    ops = {
        "heap": op_heap,
        "byrcs": lambda: str(state["x"].byrcs),
        "byrcs_again": lambda: str(state["x"].byrcs),
        "byvia": lambda: str(state["x"].byvia),
        "byvia_again": lambda: str(state["x"].byvia),
        "sp": lambda: str(h.iso(obj).sp),
        "rp": lambda: str(h.iso(obj).rp),
        "domisize_one": lambda: h.iso(obj).domisize,
        "domisize_big": lambda: h.iso(KEEP_A).domisize,
        "dominator_tree": lambda: h.dominator_tree(),
        "largest_retainers": lambda: str(h.largest_retainers(10)),
        "leak_suspects": lambda: str(h.leak_suspects()),
    }
    name = "guppy3" if tool == GUPPY_NO_VIA else tool
    out: dict = {"tool": name, "workload": workload, "mem_method": "VmHWM reset" if can_reset else "ru_maxrss",
                 "errors": {}, "edge_capture": []}
    for op, tools, _, _, _ in OPS:
        if name not in tools or (op == "byvia" and tool == GUPPY_NO_VIA):
            continue
        if op != "heap" and "x" not in state:
            break  # heap() failed
        if (obj is None and op in ("sp", "rp", "domisize_one")) or (not KEEP_A and op == "domisize_big"):
            continue  # fresh/mixed: no 3-int list / no list
        gc.collect()  # not timed: garbage of the previous op
        edges_before = getattr(h, "_pinned", None) if name == "heapscope" else None
        if can_reset:
            reset_peak()
            before = status_kib("VmRSS")
        else:
            before = maxrss_kib()
        t0 = time.perf_counter()
        try:
            result = ops[op]()
        except Exception:  # report, keep measuring the other ops
            out["errors"][op] = traceback.format_exc()[-3000:]
            continue
        out[op] = time.perf_counter() - t0
        after = status_kib("VmHWM") if can_reset else maxrss_kib()
        if before is not None and after is not None:
            out[op + "_mem_mib"] = max(0, after - before) / 1024.0
        if name == "heapscope" and op != "heap":
            edges_after = getattr(h, "_pinned", None)
            if edges_after is not None and edges_after is not edges_before:
                out["edge_capture"].append(op)  # this op captured the heap with edges
        if op == "heap":
            out["objects"] = int(state["x"].count)
        elif op == "domisize_one":
            out["domisize_one_value"] = int(result)
        elif op == "domisize_big":
            out["domisize_big_value"] = int(result)
        del result
    print(json.dumps(out))
    sys.stdout.flush()


# --------------------------------------------------------------------------
# parent side
# --------------------------------------------------------------------------

def build_table(res: dict, workloads: list[str], reps: int, skip_guppy_via: bool, elapsed: float) -> str:
    out = [
        "heapscope vs guppy3: why is it alive (byrcs, byvia, sp, rp, domisize) + heapscope's dominator tree",
        f"Python {sys.version.split()[0]} {sys.executable}; nproc={os.cpu_count()}",
        f"{reps} repetition(s) (fresh child process per tool per repetition, tools alternated), medians",
        f"obj = KEEP_A[{TARGET_INDEX}].c (a 3-int list); KEEP_A = the module-level list of the workload",
        "Ops run in the order listed, in one process per tool, on one x = h.heap(); gc.collect() (untimed) "
        "before each op.",
        "Memory = peak RSS added during the op: VmHWM after (reset just before the op) minus VmRSS before.",
        "guppy3 byvia: " + ("SKIPPED (--skip-guppy-via)" if skip_guppy_via else f"measured, {reps} repetition(s)"),
        f"Wall time of whole run: {elapsed:.1f} s",
        "",
    ]
    met = total = 0
    errors = []
    for w in workloads:
        hs, gp = res[w]["heapscope"], res[w]["guppy3"]
        caps = sorted({",".join(r.get("edge_capture", [])) for r in hs if "error" not in r})
        out.append(f"{w}: objects heapscope {med(hs, 'objects')}, guppy3 {med(gp, 'objects')}; "
                   f"heapscope edge capture paid by: {' | '.join(caps) or '-'}; "
                   f"mem method: {', '.join(sorted({r.get('mem_method', '?') for r in hs + gp}))}")
        vals = []
        for key in ("domisize_one_value", "domisize_big_value"):
            vals.append(f"{key[:-6]} heapscope {med(hs, key)} B, guppy3 {med(gp, key)} B")
        out.append(f"{w}: results: " + "; ".join(vals))
        def judge(kind, goal, a, r):
            if kind == "x":
                return f">={goal:.0f}x guppy3", None if r is None else r >= goal
            return f"<={goal:.1f} s", None if a is None else a <= goal

        lines, m, n = goal_rows(w, OPS, hs, gp, judge)
        out += lines
        met += m
        total += n
        for op, goal in MEM_OPS.items():
            key = op + "_mem_mib"
            a, b = med(hs, key), med(gp, key)
            r = ratio(b, a)
            if goal is None:
                goal_s, verdict = "-", "-"
            else:
                goal_s = f"<=1/{goal:.0f} guppy3"
                ok = None if r is None else r >= goal
                verdict = "n/a" if ok is None else ("MET" if ok else "NOT MET")
                if ok is not None:
                    met += ok
                    total += 1
            out.append(f"{w:<10} {op + ' memory':<18} {fmt_mib(a):>12} {fmt_mib(b):>12} "
                       f"{'-' if r is None else f'{r:.1f}x':>10}  {goal_s:<14} {verdict:<8} "
                       f"peak RSS added during {op}")
        out.append("")
        errors += child_errors(res, w)
    return end_table(out, met, total, errors)


def main() -> None:
    side_by_side_main(__doc__, __file__, OPS, child_main, build_table, "why.txt")


if __name__ == "__main__":
    main()
