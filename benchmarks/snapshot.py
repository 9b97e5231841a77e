#!/usr/bin/env python3
"""Snapshot-file benchmark: heapscope's ``heapscope.dump(path)`` / ``heapscope.load(path)``
against midden's heap dump (``midden.dump.dump_heap.dump_heap``) and its import into
midden-analysis (``HeapDumpExplorer.import_lines`` + ``get_type_summaries``), in the same run.

Usage:
    python benchmarks/snapshot.py [--reps N] [--workloads instances]
    python benchmarks/snapshot.py --reps 1 --workloads big --skip-midden   # ~15M objects
Options of this script only:
    --skip-midden          run heapscope's children only (midden takes minutes on big)
    --midden-precision P   midden's EstimatorPrecision for the import (default NoEstimates,
                           its fastest; the midden UI's default is Medium)
    --dir DIR              where the dump files go (default: a new temporary directory)
    --keep-files           keep the dump files (default: the directory is removed at the end)

Like run.py: every measurement in a fresh child process (``--child CHILD WORKLOAD``),
medians over the repetitions. Per repetition and workload the children run in this
order: heapscope dump, midden dump, heapscope load+census, midden import+type summary,
heapscope load+dominator tree. The dumping children build the workload; the loading
children do not (they only read the file the dumping child of the same repetition
wrote). The table is also written to benchmarks/results/snapshot.txt.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import sys
import tempfile
import time
import traceback

from run import (
    build_workload, child_errors, end_table, fmt_int, fmt_mib, fmt_time, goal_rows, maxrss_kib, med, reset_peak,
    side_by_side_main, status_kib,
)

DIR_ENV = "HEAPSCOPE_SNAPSHOT_BENCH_DIR"
PRECISION_ENV = "HEAPSCOPE_SNAPSHOT_BENCH_MIDDEN_PRECISION"
DEFAULT_PRECISION = "NoEstimates"
GIB = 1024.0  # MiB

# child name -> (tool, role), in the order the children run within a repetition
CHILDREN = {
    "hs-dump": ("heapscope", "dump"),
    "midden-dump": ("midden", "dump"),
    "hs-load": ("heapscope", "load"),
    "midden-load": ("midden", "load"),
    "hs-tree": ("heapscope", "tree"),
}

# (op, tools, goal kind, goal value, note). Goal kinds: "x": midden/heapscope >= value;
# "s": heapscope <= value seconds; "bpo": heapscope <= value bytes per object;
# "mib": heapscope <= value MiB. Goals depend on the workload (GOALS); ops without a goal
# there are for information.
OPS = (
    ("dump", ("heapscope", "midden"), "heapscope.dump(path) | midden dump_heap(path), in the process holding the heap"),
    ("load", ("heapscope", "midden"),
     "snap = heapscope.load(path) | HeapDumpExplorer(db) + import_lines(file), fresh process"),
    ("census", ("heapscope", "midden"), "str(snap.heap()) | get_type_summaries() sorted by count + text table"),
    ("load_census", ("heapscope", "midden"), "load + census, in the same fresh process"),
    ("load_tree", ("heapscope",), "snap = heapscope.load(path); snap.dominator_tree(), another fresh process"),
    ("tree", ("heapscope",), "snap.dominator_tree() alone (of load_tree)"),
    ("file_bytes", ("heapscope", "midden"), "size of the dump file (.hsnap | .jsonl)"),
    ("bytes_per_object", ("heapscope", "midden"), "file bytes / objects in the file (heapscope: snap.heap().count; "
                                                  "midden: lines of the dump)"),
    ("db_bytes", ("midden",), "midden: size of the LMDB directory the import writes (heapscope: none)"),
    ("dump_peak", ("heapscope", "midden"), "peak RSS of the dumping process (workload included)"),
    ("dump_added", ("heapscope", "midden"), "peak RSS added during the dump (VmHWM after - VmRSS before)"),
    ("load_peak", ("heapscope", "midden"), "peak RSS of the load+census process"),
    ("tree_peak", ("heapscope",), "peak RSS of the load+dominator-tree process"),
)
GOALS = {
    "instances": {"dump": ("x", 15.0), "load_census": ("x", 15.0), "bytes_per_object": ("bpo", 24.0)},
    "big": {"dump": ("s", 5.0), "load_census": ("s", 3.0), "load_tree": ("s", 10.0),
            "dump_peak": ("mib", 2 * GIB), "load_peak": ("mib", 2 * GIB), "tree_peak": ("mib", 2 * GIB)},
}
TIME_OPS = ("dump", "load", "census", "load_census", "load_tree", "tree")


def ops_for(workload: str) -> tuple:
    goals = GOALS.get(workload, {})
    return tuple((op, tools, *goals.get(op, (None, None)), note) for op, tools, note in OPS)


# --------------------------------------------------------------------------
# child side
# --------------------------------------------------------------------------



class PeakRSS:
    """Peak RSS around one measured span: ``peak_mib`` is the process's peak (before and
    during the span), ``added_mib`` the peak during the span minus the RSS just before.
    VmHWM reset through /proc/self/clear_refs; otherwise ru_maxrss (no reset: ``added``
    is then the rise of the lifetime peak)."""

    def __init__(self) -> None:
        maxrss_kib()
        status_kib("VmRSS")
        self.method = "VmHWM reset" if reset_peak() else "ru_maxrss"

    def __enter__(self):
        if self.method == "VmHWM reset":
            self.peak_before = status_kib("VmHWM")
            reset_peak()
            self.before = status_kib("VmRSS")
        else:
            self.peak_before = self.before = maxrss_kib()
        return self

    def __exit__(self, *exc) -> None:
        after = status_kib("VmHWM") if self.method == "VmHWM reset" else maxrss_kib()
        self.peak_mib = max(self.peak_before or 0, after or 0) / 1024.0
        self.added_mib = max(0, (after or 0) - (self.before or 0)) / 1024.0


def _paths(workload: str) -> dict:
    d = os.environ.get(DIR_ENV)
    if not d:
        raise SystemExit(f"{DIR_ENV} is not set (the parent sets it)")
    return {"hsnap": os.path.join(d, workload + ".hsnap"), "jsonl": os.path.join(d, workload + ".jsonl"),
            "lmdb": os.path.join(d, workload + ".lmdb")}


def _remove(path: str) -> None:
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def _dir_bytes(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def _versions() -> dict:
    from importlib import metadata

    out = {}
    for dist in ("heapscope", "midden", "midden-analysis"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def child_main(child: str, workload: str) -> None:
    import resource  # noqa: F401  -- imported before measuring (maxrss_kib uses it)

    tool, role = CHILDREN[child]
    paths = _paths(workload)
    out: dict = {"tool": tool, "role": role, "workload": workload, "errors": {}, "versions": _versions()}
    try:
        if role == "dump":
            _dump(tool, workload, paths, out)
        elif role == "load":
            _load(tool, paths, out)
        else:
            _tree(paths, out)
    except Exception:  # report, do not crash: the parent prints it among the errors
        out["errors"][role] = traceback.format_exc()[-3000:]
    print(json.dumps(out))
    sys.stdout.flush()


def _dump(tool: str, workload: str, paths: dict, out: dict) -> None:
    build_workload(workload)
    path = paths["hsnap" if tool == "heapscope" else "jsonl"]
    _remove(path)  # a failed dump leaves no file for the load children
    if tool == "heapscope":
        import heapscope

        if not hasattr(heapscope, "dump"):
            out["errors"]["dump"] = (f"heapscope.dump does not exist in the installed heapscope "
                                     f"({heapscope.__file__}): the snapshot API has not landed")
            return

        def dump():
            heapscope.dump(path)
    else:
        from midden.dump.dump_heap import dump_heap

        def dump():
            dump_heap(path)  # catches its own exceptions (message on stderr)

    rss = PeakRSS()
    out["mem_method"] = rss.method
    gc.collect()  # not timed
    with rss:
        t0 = time.perf_counter()
        dump()
        out["dump"] = time.perf_counter() - t0
    out["dump_peak"] = rss.peak_mib
    out["dump_added"] = rss.added_mib
    if not os.path.exists(path):
        del out["dump"]
        out["errors"]["dump"] = f"no file at {path} after the dump"
        return
    out["file_bytes"] = os.path.getsize(path)
    if tool == "midden":
        with open(path, "rb") as fh:  # untimed: objects in the dump = its lines
            out["objects"] = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def _load(tool: str, paths: dict, out: dict) -> None:
    if tool == "heapscope":
        import heapscope

        path = paths["hsnap"]
        if not os.path.exists(path):
            out["errors"]["load"] = f"no snapshot file {path}: the heapscope dump child of this repetition wrote none"
            return
        state: dict = {}

        def load():
            state["snap"] = heapscope.load(path)

        def census():
            x = state["snap"].heap()
            str(x)
            state["x"] = x
    else:
        from midden_analysis import EstimatorPrecision, HeapDumpExplorer

        path, db = paths["jsonl"], paths["lmdb"]
        if not os.path.exists(path):
            out["errors"]["load"] = f"no dump file {path}: the midden dump child of this repetition wrote none"
            return
        precision_name = os.environ.get(PRECISION_ENV, DEFAULT_PRECISION)
        precision = getattr(EstimatorPrecision, precision_name)
        out["precision"] = precision_name
        _remove(db)
        state = {}

        def load():
            os.mkdir(db)  # what midden's UI does before HeapDumpExplorer(db)
            explorer = HeapDumpExplorer(db)
            with open(path, "rb") as fh:
                explorer.import_lines(fh, precision)
            state["explorer"] = explorer

        def census():
            # midden's UI landing page: the type summaries sorted by count, as a table
            rows = state["explorer"].get_type_summaries()
            rows.sort(key=lambda r: r[1].count, reverse=True)
            text = "\n".join(f"{s.count:>12} {s.total_size:>14} {name}" for name, s in rows)
            state["rows"] = rows
            del text

    rss = PeakRSS()
    out["mem_method"] = rss.method
    gc.collect()  # not timed
    with rss:
        t0 = time.perf_counter()
        load()
        t1 = time.perf_counter()
        census()
        t2 = time.perf_counter()
    out["load"], out["census"], out["load_census"] = t1 - t0, t2 - t1, t2 - t0
    out["load_peak"] = rss.peak_mib
    if tool == "heapscope":
        out["objects"] = int(state["x"].count)
    else:
        totals = [s for name, s in state["rows"] if name == "All Types"]
        if totals:
            out["summary_objects"] = int(totals[0].count)
        del state["explorer"]
        out["db_bytes"] = _dir_bytes(db)
        _remove(db)


def _tree(paths: dict, out: dict) -> None:
    import heapscope

    path = paths["hsnap"]
    if not os.path.exists(path):
        out["errors"]["load_tree"] = f"no snapshot file {path}: the heapscope dump child of this repetition wrote none"
        return
    rss = PeakRSS()
    out["mem_method"] = rss.method
    gc.collect()  # not timed
    with rss:
        t0 = time.perf_counter()
        snap = heapscope.load(path)
        t1 = time.perf_counter()
        tree = snap.dominator_tree()
        t2 = time.perf_counter()
    del tree
    out["tree"], out["load_tree"] = t2 - t1, t2 - t0
    out["tree_peak"] = rss.peak_mib


# --------------------------------------------------------------------------
# parent side
# --------------------------------------------------------------------------

def _merged(results: list[list[dict]]) -> list[dict]:
    """One dict per repetition from the tool's children of that repetition (their
    measured values; a failed child contributes nothing); bytes per object added."""
    merged = []
    for reps in zip(*results):
        m: dict = {}
        for r in reps:
            if "error" not in r:
                m.update({k: v for k, v in r.items() if k not in ("errors", "tool", "role", "workload")})
        if m.get("file_bytes") and m.get("objects"):
            m["bytes_per_object"] = m["file_bytes"] / m["objects"]
        merged.append(m)
    return merged


def fmt_bytes(v):
    return "-" if v is None else f"{v / 2 ** 20:.1f} MiB"


def fmt_bpo(v):
    return "-" if v is None else f"{v:.1f} B"


FMTS = {"file_bytes": fmt_bytes, "db_bytes": fmt_bytes, "bytes_per_object": fmt_bpo,
        "dump_peak": fmt_mib, "dump_added": fmt_mib, "load_peak": fmt_mib, "tree_peak": fmt_mib}


def judge(kind, goal, a, r):
    if kind == "x":
        return f">={goal:.0f}x faster", None if r is None else r >= goal
    if kind == "s":
        return f"<={goal:.0f} s", None if a is None else a <= goal
    if kind == "bpo":
        return f"<={goal:.0f} B/object", None if a is None else a <= goal
    return f"<={goal / 1024:.0f} GiB ({goal:.0f} MiB)", None if a is None else a <= goal


def build_table(res: dict, workloads: list[str], reps: int, _skip_guppy_via: bool, elapsed: float) -> str:
    any_r = next((r for w in workloads for rs in res[w].values() for r in rs if "versions" in r), {})
    vers = any_r.get("versions", {})
    prec = next((r["precision"] for w in workloads for r in res[w].get("midden-load", []) if "precision" in r),
                os.environ.get(PRECISION_ENV, DEFAULT_PRECISION))
    methods = sorted({r["mem_method"] for w in workloads for rs in res[w].values() for r in rs if "mem_method" in r})
    out = [
        "heapscope vs midden: heap snapshot files (dump, load + census, file size, peak RSS)",
        f"Python {sys.version.split()[0]} {sys.executable}; nproc={os.cpu_count()}",
        f"heapscope {vers.get('heapscope')}, midden {vers.get('midden')}, midden-analysis "
        f"{vers.get('midden-analysis')} (import precision: EstimatorPrecision.{prec})",
        f"{reps} repetition(s), medians; a fresh child process per tool per op group; per repetition: "
        + ", ".join(c for c in CHILDREN if c in next(iter(res.values()))),
        "Load children do not build the workload: they read the file the dumping child of the same repetition "
        "wrote (page cache warm).",
        "Memory: VmHWM (reset through /proc/self/clear_refs before the op) / ru_maxrss; used: "
        + (", ".join(methods) or "-"),
        f"Wall time of whole run: {elapsed:.1f} s",
        "",
    ]
    met = total = 0
    errors = []
    for w in workloads:
        hs = _merged([res[w][c] for c in CHILDREN if c in res[w] and CHILDREN[c][0] == "heapscope"])
        md = _merged([res[w][c] for c in CHILDREN if c in res[w] and CHILDREN[c][0] == "midden"]) \
            if "midden-dump" in res[w] else []
        out.append(f"{w}: objects in the file: heapscope {fmt_int(med(hs, 'objects'))} (snap.heap().count), "
                   f"midden {fmt_int(med(md, 'objects'))} (lines; its type summary counts "
                   f"{fmt_int(med(md, 'summary_objects'))}); file bytes: heapscope {fmt_int(med(hs, 'file_bytes'))}, "
                   f"midden {fmt_int(med(md, 'file_bytes'))}")
        ops = ops_for(w)
        lines, m, n = goal_rows(w, ops, hs, md, judge, rival="midden", fmts=FMTS)
        out += lines
        met += m
        total += n
        unmeasured = sum(1 for op in ops if op[2] is not None) - n
        if unmeasured:
            out.append(f"{w}: {unmeasured} goal(s) not measured (n/a): see ERRORS")
        errors += child_errors(res, w)
        out.append("")
    return end_table(out, met, total, errors)


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3])
        return
    children = dict((c, c) for c in CHILDREN)
    if "--skip-midden" in sys.argv:
        sys.argv.remove("--skip-midden")
        children = {c: c for c in CHILDREN if CHILDREN[c][0] != "midden"}
    if "--keep-files" in sys.argv:
        sys.argv.remove("--keep-files")
        keep = True
    else:
        keep = False
    for opt, env in (("--midden-precision", PRECISION_ENV), ("--dir", DIR_ENV)):
        if opt in sys.argv:
            i = sys.argv.index(opt)
            if i + 1 >= len(sys.argv):
                raise SystemExit(f"{opt} needs a value")
            os.environ[env] = sys.argv[i + 1]
            del sys.argv[i:i + 2]
    made_dir = DIR_ENV not in os.environ
    if made_dir:
        os.environ[DIR_ENV] = tempfile.mkdtemp(prefix="heapscope-snapshot-bench-")
    else:
        os.makedirs(os.environ[DIR_ENV], exist_ok=True)
    progress = tuple((op,) for op in TIME_OPS)
    try:
        side_by_side_main(__doc__, __file__, progress, child_main, build_table, "snapshot.txt", children=children)
    finally:
        if not keep:
            if made_dir:
                shutil.rmtree(os.environ[DIR_ENV], ignore_errors=True)
            else:
                for w in os.listdir(os.environ[DIR_ENV]):
                    if w.endswith((".hsnap", ".jsonl", ".lmdb")):
                        _remove(os.path.join(os.environ[DIR_ENV], w))


if __name__ == "__main__":
    main()
