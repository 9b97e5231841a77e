#!/usr/bin/env python3
"""Partition-and-print benchmark: ``str(x.by(er))`` for each equivalence relation, heapscope
against guppy3, on a heap captured once per process (issue 3's goals: the default table
>= 10x faster than guppy3, the others >= 5x).

Usage:
    python benchmarks/partitions.py [--reps N] [--workloads instances,mixed]

Like run.py: every measurement in a fresh child process, tools alternated, medians.
"""

from __future__ import annotations

import json
import sys
import time

from run import build_workload, fmt_time, med, parse_args, ratio, run_child

TOOLS = ("heapscope", "guppy3")
ERS = ("Clodo", "Type", "Size", "Module", "Unity", "Type&Size", "Rcs")
GOALS = {"Clodo": 10.0, "Rcs": 10.0}  # others: 5x (Rcs: issue 4's byrcs goal)


def child_main(tool: str, workload: str) -> None:
    import gc

    build_workload(workload)
    if tool == "heapscope":
        from heapscope import hpy
    else:
        from guppy import hpy
    h = hpy()
    gc.collect()
    x = h.heap()
    out = {"tool": tool, "workload": workload, "objects": int(x.count)}
    for er in ERS:
        t0 = time.perf_counter()
        text = str(x.by(er))
        out[er] = time.perf_counter() - t0
        del text
    print(json.dumps(out))


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3])
        return
    reps, workloads = parse_args(__doc__, "instances")
    res = {w: {t: [] for t in TOOLS} for w in workloads}
    for rep in range(reps):
        for w in workloads:
            for t in TOOLS:
                r = run_child(t, w, __file__)
                res[w][t].append(r)
                print(f"[rep {rep + 1}/{reps}] {w} {t}: {r.get('error', 'ok')}", file=sys.stderr, flush=True)
    out = [
        "heapscope vs guppy3: partition and print str(x.by(er))",
        f"Python {sys.version.split()[0]}, {reps} repetitions (fresh process each, alternated), medians",
        "",
        f"{'workload':<10} {'relation':<10} {'heapscope':>12} {'guppy3':>12} {'guppy3/hs':>10}  goal",
    ]
    met = total = 0
    for w in workloads:
        hs, gp = res[w]["heapscope"], res[w]["guppy3"]
        out.append(f"{w:<10} objects: heapscope {med(hs, 'objects')}, guppy3 {med(gp, 'objects')}")
        for er in ERS:
            a, b = med(hs, er), med(gp, er)
            r = ratio(b, a)
            goal = GOALS.get(er, 5.0)
            ok = r is not None and r >= goal
            met += ok
            total += 1
            out.append(f"{w:<10} {er:<10} {fmt_time(a):>12} {fmt_time(b):>12} {r or 0:>9.2f}x  "
                       f">={goal:.0f}x: {'MET' if ok else 'NOT MET'}")
    out.append(f"Goals met: {met}/{total}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
