#!/usr/bin/env python3
"""Benchmark heapscope against guppy3 and against the floor (a bare closure over the heap).

Usage:
    python benchmarks/run.py [--reps N] [--workloads fresh,instances,mixed]

Standard library only. Every measurement runs in a fresh child process
(``sys.executable benchmarks/run.py --child TOOL WORKLOAD``); tools are
alternated A B C A B C ... within each repetition and medians are reported.
See benchmarks/README.md for the meaning of each column.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

TOOLS = ("heapscope", "guppy3", "floor")
WORKLOADS = ("fresh", "instances", "mixed")
# also accepted by --workloads, never run by default: instances x 8 (~15M objects)
LARGE_WORKLOADS = ("big",)
FLOOR_LABEL = "floor (bare closure)"
CHILD_TIMEOUT_S = 900

# Module-level holders for the workloads (kept alive for the whole child run).
KEEP_A: list = []
KEEP_B: list = []


# --------------------------------------------------------------------------
# child side
# --------------------------------------------------------------------------

class Plain:
    def __init__(self, a, b, c):
        self.a = a
        self.b = b
        self.c = c


def status_kib(field: str) -> int | None:
    """A /proc/self/status field in KiB (VmRSS, VmHWM), or None where there is none."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Resets VmHWM to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def build_workload(name: str) -> None:
    if name == "fresh":
        return
    if name == "instances":
        KEEP_A.extend(Plain(i, str(i), [i, i + 1, i + 2]) for i in range(300_000))
        return
    if name == "big":
        KEEP_A.extend(Plain(i, str(i), [i, i + 1, i + 2]) for i in range(2_400_000))
        return
    if name == "mixed":
        KEEP_A.extend(Plain(i, str(i), i * 0.5) for i in range(120_000))
        KEEP_B.extend(
            {"id": i, "tag": (str(i), "t" + str(i)), "blob": bytes(16)}
            for i in range(80_000)
        )
        return
    raise SystemExit(f"unknown workload {name!r}")


def count_materialisable() -> tuple[int, int]:
    import gc
    import types

    objs = gc.get_objects()
    dicts = frames = 0
    for o in objs:
        t = type(o)
        if t is dict:
            dicts += 1
        elif t is types.FrameType:
            frames += 1
    del objs
    return dicts, frames


def maxrss_kib() -> int:
    import resource  # imported (and warmed) before any measurement in child_main

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS reports bytes.
    return r // 1024 if sys.platform == "darwin" else r


def child_main(tool: str, workload: str) -> None:
    import gc
    import resource  # noqa: F401  -- import before counting so it is not counted as materialised
    import types  # noqa: F401

    build_workload(workload)

    if tool == "heapscope":
        from heapscope import hpy

        h = hpy()
        heap = h.heap
    elif tool == "guppy3":
        from guppy import hpy

        h = hpy()
        heap = h.heap
    elif tool == "floor":
        from heapscope import _native

        def heap():
            # BENCHMARKS.md's floor: visit each object once through tp_traverse with
            # bitmap dedup; no graph, sizes, classification or gc.collect().
            return _native.bare_closure("")
    else:
        raise SystemExit(f"unknown tool {tool!r}")

    maxrss_kib()  # warm up the helpers so their own first-call effects are not measured
    count_materialisable()
    gc.collect()
    t0 = time.perf_counter()
    gc.collect()  # what the gc.collect() inside guppy3's heap() costs on this heap
    gc_collect = time.perf_counter() - t0

    d0, f0 = count_materialisable()
    rss0 = maxrss_kib()

    t0 = time.perf_counter()
    x = heap()
    heap_first = time.perf_counter() - t0

    print_s = None
    if tool != "floor":
        t0 = time.perf_counter()
        s = str(x)
        print_s = time.perf_counter() - t0
        del s

    rss1 = maxrss_kib()
    d1, f1 = count_materialisable()

    objects = x if tool == "floor" else x.count

    t0 = time.perf_counter()
    x2 = heap()
    heap_warm = time.perf_counter() - t0
    del x2

    print(json.dumps({
        "tool": tool,
        "workload": workload,
        "heap_first": heap_first,
        "heap_warm": heap_warm,
        "gc_collect": gc_collect,
        "print": print_s,
        "rss_added_mib": (rss1 - rss0) / 1024.0,
        "materialised": (d1 - d0) + (f1 - f0),
        "materialised_dicts": d1 - d0,
        "materialised_frames": f1 - f0,
        "objects": int(objects),
    }))
    sys.stdout.flush()


# --------------------------------------------------------------------------
# parent side
# --------------------------------------------------------------------------

def run_child(tool: str, workload: str, script: str = __file__) -> dict:
    """Runs ``script --child tool workload`` in a fresh interpreter; its last JSON line."""
    cmd = [sys.executable, os.path.abspath(script), "--child", tool, workload]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {CHILD_TIMEOUT_S}s"}
    if p.returncode != 0:
        return {"error": f"exit code {p.returncode}: {p.stderr.strip()[-2000:]}"}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"error": f"no JSON output; stderr: {p.stderr.strip()[-2000:]}"}
    return json.loads(lines[-1])


def med(results: list[dict], key: str):
    vals = [r[key] for r in results if "error" not in r and r.get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt_time(v):
    return "-" if v is None else f"{v * 1000:.1f} ms"


def fmt_mib(v):
    return "-" if v is None else f"{v:.1f} MiB"


def fmt_int(v):
    return "-" if v is None else f"{int(round(v))}"


def fmt_ratio(v):
    return "-" if v is None else f"{v:.2f}x"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def verdict(ok):
    return "n/a" if ok is None else ("MET" if ok else "NOT MET")


def build_table(res: dict, workloads: list[str], reps: int, elapsed: float) -> str:
    out = []
    out.append("heapscope vs guppy3 benchmark")
    out.append(f"Python:   {sys.version.split()[0]} ({platform.python_implementation()}) {sys.executable}")
    out.append(f"Machine:  {platform.platform()} / {platform.machine()} / nproc={os.cpu_count()}")
    out.append(f"Repetitions: {reps} (fresh child process per tool per repetition, tools alternated; medians shown)")
    out.append(f"Floor:    {FLOOR_LABEL} = heapscope._native.bare_closure(): the closure from the roots "
               "through tp_traverse with bitmap dedup only (no graph, sizes, gc.collect)")
    out.append("          guppy3's heap() starts with gc.collect(); heapscope's heap() and the floor do not.")
    out.append(f"Wall time of whole run: {elapsed:.1f} s")
    out.append("")
    out.append("Object counts (median x.count; floor = objects the closure reached):")
    for w in workloads:
        parts = []
        for t in TOOLS:
            parts.append(f"{t}={fmt_int(med(res[w][t], 'objects'))}")
        out.append(f"  {w:<10} " + "  ".join(parts))
    out.append("")

    hdr = (f"{'workload':<10} {'operation':<14} {'heapscope':>12} {'guppy3':>12} "
           f"{'guppy3/hs':>10} {'floor':>12} {'hs/floor':>9}  goal")
    out.append(hdr)
    out.append("-" * (len(hdr) + 40))
    goals_summary = []
    for w in workloads:
        hs, gp, fl = res[w]["heapscope"], res[w]["guppy3"], res[w]["floor"]

        # heap_first
        a, b, f = med(hs, "heap_first"), med(gp, "heap_first"), med(fl, "heap_first")
        r1, r2 = ratio(b, a), ratio(a, f)
        g1 = None if r1 is None else r1 >= 8
        g2 = None if r2 is None else r2 <= 3
        out.append(f"{w:<10} {'heap_first':<14} {fmt_time(a):>12} {fmt_time(b):>12} {fmt_ratio(r1):>10} "
                   f"{fmt_time(f):>12} {fmt_ratio(r2):>9}  >=8x guppy3: {verdict(g1)}; <=3x floor: {verdict(g2)}")
        goals_summary += [g1, g2]
        a_gc = med(gp, "gc_collect")
        if b is not None and a_gc is not None:
            out.append(f"{w:<10} {'  gc.collect':<14} {'':>12} {fmt_time(a_gc):>12} {'':>10} "
                       f"{'':>12} {'':>9}  (of guppy3's heap_first; heapscope's heap() does not "
                       f"collect; for information)")

        # heap_warm
        a, b, f = med(hs, "heap_warm"), med(gp, "heap_warm"), med(fl, "heap_warm")
        r1 = ratio(b, a)
        g = None if r1 is None else r1 >= 3
        out.append(f"{w:<10} {'heap_warm':<14} {fmt_time(a):>12} {fmt_time(b):>12} {fmt_ratio(r1):>10} "
                   f"{fmt_time(f):>12} {fmt_ratio(ratio(a, f)):>9}  >=3x guppy3: {verdict(g)}")
        goals_summary.append(g)

        # print
        a, b = med(hs, "print"), med(gp, "print")
        r1 = ratio(b, a)
        g = None if r1 is None else r1 >= 10
        out.append(f"{w:<10} {'print':<14} {fmt_time(a):>12} {fmt_time(b):>12} {fmt_ratio(r1):>10} "
                   f"{'-':>12} {'-':>9}  >=10x guppy3: {verdict(g)}")
        goals_summary.append(g)

        # rss
        a, b, f = med(hs, "rss_added_mib"), med(gp, "rss_added_mib"), med(fl, "rss_added_mib")
        r1 = ratio(b, a)
        pct = None if (a is None or b is None or b == 0) else 100.0 * a / b
        if a is None or b is None:
            g = None
        else:
            g = a <= 0.6 * b
        pct_s = "-" if pct is None else f"{pct:.0f}%"
        out.append(f"{w:<10} {'rss_added':<14} {fmt_mib(a):>12} {fmt_mib(b):>12} {fmt_ratio(r1):>10} "
                   f"{fmt_mib(f):>12} {'-':>9}  <=60% of guppy3 (is {pct_s}): {verdict(g)}")
        goals_summary.append(g)

        # materialised
        a, b, f = med(hs, "materialised"), med(gp, "materialised"), med(fl, "materialised")
        g = None if a is None else a == 0
        out.append(f"{w:<10} {'materialised':<14} {fmt_int(a):>12} {fmt_int(b):>12} {'-':>10} "
                   f"{fmt_int(f):>12} {'-':>9}  heapscope = 0: {verdict(g)}")
        goals_summary.append(g)
        out.append("")

    met = sum(1 for g in goals_summary if g)
    total = sum(1 for g in goals_summary if g is not None)
    out.append(f"Goals met: {met}/{total}")

    errors = []
    for w in workloads:
        for t in TOOLS:
            for i, r in enumerate(res[w][t]):
                if "error" in r:
                    errors.append(f"  [{w}/{t} rep {i + 1}] {r['error']}")
    if errors:
        out.append("")
        out.append("ERRORS:")
        out.extend(errors)
    return "\n".join(out) + "\n"


def alternate(children: dict, workloads: list[str], reps: int, script: str, ops: tuple = ()) -> dict:
    """Runs ``script --child CHILD WORKLOAD`` for each tool (``children``: tool -> child
    name) per workload per repetition, tools alternated; progress (the times of ``ops``)
    on stderr. Returns ``{workload: {tool: [result, ...]}}``."""
    res = {w: {t: [] for t in children} for w in workloads}
    for rep in range(reps):
        for w in workloads:
            for t, child in children.items():  # alternate A B A B ...
                t0 = time.perf_counter()
                r = run_child(child, w, script)
                res[w][t].append(r)
                if "error" in r:
                    status = r["error"]
                else:
                    status = " ".join(f"{op}={fmt_time(r.get(op))}" for op, *_ in ops if op in r)
                    if r.get("errors"):
                        status += f"  ERRORS in {', '.join(r['errors'])}"
                print(f"[rep {rep + 1}/{reps}] {w} {t:<9} {time.perf_counter() - t0:6.1f}s  {status}",
                      file=sys.stderr, flush=True)
    return res


def goal_rows(w: str, ops: tuple, hs: list[dict], gp: list[dict], judge, rival: str = "guppy3",
              fmts: dict | None = None) -> tuple[list[str], int, int]:
    """One table row per op of ``ops`` (``(op, tools, goal kind, goal, note)``): both
    tools' medians, rival/heapscope, the goal and whether it is met. ``judge(kind, goal,
    hs median, ratio)`` gives the goal's text and True/False (None: not measurable) for
    each kind of goal but None. ``rival`` names the other tool's columns; ``fmts`` maps an
    op to the formatter of its values (default ``fmt_time``). Returns the lines, goals met
    and goals judged."""
    short = rival[:6]
    hdr = (f"{'workload':<10} {'op':<18} {'heapscope':>12} {rival:>12} {short + '/hs':>10}  "
           f"{'goal':<22} {'met?':<8} note")
    lines = [hdr, "-" * (len(hdr) + 60)]
    met = total = 0
    for op, _, kind, goal, note in ops:
        a, b = med(hs, op), med(gp, op)
        r = ratio(b, a)
        fmt = (fmts or {}).get(op, fmt_time)
        goal_s, ok = ("-", None) if kind is None else judge(kind, goal, a, r)
        if ok is not None:
            met += ok
            total += 1
        verdict = "-" if kind is None else ("n/a" if ok is None else ("MET" if ok else "NOT MET"))
        lines.append(f"{w:<10} {op:<18} {fmt(a):>12} {fmt(b):>12} "
                     f"{'-' if r is None else f'{r:.1f}x':>10}  {goal_s:<22} {verdict:<8} {note}")
    return lines, met, total


def child_errors(res: dict, w: str) -> list[str]:
    """The failures (whole children, single ops) of workload ``w``'s children."""
    errors = []
    for t, results in res[w].items():
        for i, r in enumerate(results):
            if "error" in r:
                errors.append(f"  [{w}/{t} rep {i + 1}] {r['error']}")
            for op, tb in r.get("errors", {}).items():
                errors.append(f"  [{w}/{t} rep {i + 1}] op {op}:\n{tb}")
    return errors


GUPPY_NO_VIA = "guppy3-novia"  # child name for guppy3 without byvia (--skip-guppy-via)


def end_table(out: list[str], met: int, total: int, errors: list[str]) -> str:
    """The table's text: its lines, the goals met and the errors."""
    out.append(f"Goals met: {met}/{total}")
    if errors:
        out += ["", "ERRORS:"] + errors
    return "\n".join(out) + "\n"


def side_by_side_main(doc: str | None, script: str, ops: tuple, child_main, build_table, results: str,
                      children: dict | None = None) -> None:
    """The command line of the side-by-side scripts (why.py, queries.py, snapshot.py):
    ``--child TOOL WORKLOAD`` runs one child; otherwise heapscope and guppy3 children
    alternate (``--skip-guppy-via``: guppy3 without byvia), or the ``children`` given (name
    -> child name, run in that order), and ``build_table(res, workloads, reps,
    skip_guppy_via, elapsed)`` is printed and written to ``benchmarks/results/<results>``."""
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3])
        return
    skip_guppy_via = "--skip-guppy-via" in sys.argv
    if skip_guppy_via:
        sys.argv.remove("--skip-guppy-via")
    reps, workloads = parse_args(doc, "instances")
    start = time.perf_counter()
    if children is None:
        children = {"heapscope": "heapscope", "guppy3": GUPPY_NO_VIA if skip_guppy_via else "guppy3"}
    res = alternate(children, workloads, reps, script, ops)
    table = build_table(res, workloads, reps, skip_guppy_via, time.perf_counter() - start)
    print(table, end="")
    outdir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, results), "w") as fh:
        fh.write(table)


def parse_args(doc: str | None, default_workloads: str) -> tuple[int, list[str]]:
    """``--reps N --workloads a,b`` of the benchmark scripts, validated."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workloads", default=default_workloads)
    args = ap.parse_args()
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for w in workloads:
        if w not in WORKLOADS + LARGE_WORKLOADS:
            ap.error(f"unknown workload {w!r}; choose from {', '.join(WORKLOADS + LARGE_WORKLOADS)}")
    return args.reps, workloads


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3])
        return

    reps, workloads = parse_args(__doc__, ",".join(WORKLOADS))
    res = {w: {t: [] for t in TOOLS} for w in workloads}
    start = time.perf_counter()
    for rep in range(reps):
        for w in workloads:
            for t in TOOLS:  # alternate A B C A B C ...
                t0 = time.perf_counter()
                r = run_child(t, w)
                res[w][t].append(r)
                status = r.get("error", f"heap_first={fmt_time(r.get('heap_first'))}")
                print(f"[rep {rep + 1}/{reps}] {w:<10} {t:<10} {time.perf_counter() - t0:6.1f}s  {status}",
                      file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - start

    table = build_table(res, workloads, reps, elapsed)
    print(table, end="")
    outdir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "latest.txt"), "w") as fh:
        fh.write(table)


if __name__ == "__main__":
    main()
