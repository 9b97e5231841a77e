#!/usr/bin/env python3
"""Export benchmark: a heap of about N million objects is dumped once, then each format is
exported from a fresh process that loads the snapshot (``Snapshot.export``).

Usage:
    python benchmarks/export.py [--millions 10] [--formats heapsnapshot,jsonl,parquet] [--dir DIR]

The workload: instances of a plain class, each with a unique str, a list of a large int,
a float and a shared str, and a dict holding another large int (about 7 objects per
instance). Per format the table gives the load time, the export time (progress
reported to a no-op callback), the output's size and the child's peak RSS (ru_maxrss:
the loaded graph, its dominator tree for Parquet, and the export's buffers). The goals
of issue 12 at 10M objects: <= 10 s for Parquet and JSON lines, <= 20 s for the
.heapsnapshot, peak RSS <= 2.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

OBJECTS_PER_ITEM = 7


def make(millions: float, path: str) -> None:
    import heapscope

    class Item:
        def __init__(self, i: int) -> None:
            self.name = "item-%d" % i
            self.tags = [i * 1000 + 10**7, float(i), "t%d" % (i % 1000)]
            self.meta = {"k": i * 3 + 10**7}

    n = int(millions * 1e6 / OBJECTS_PER_ITEM)
    items = [Item(i) for i in range(n)]
    t = time.perf_counter()
    heapscope.dump(path)
    print(json.dumps({"dump_s": time.perf_counter() - t, "items": len(items)}))


def export(fmt: str, snap_path: str, out: str) -> None:
    import heapscope

    t = time.perf_counter()
    snap = heapscope.load(snap_path)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    snap.export(out, fmt, progress=lambda done, total: None)
    export_s = time.perf_counter() - t
    size = (
        sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)) if os.path.isdir(out) else os.path.getsize(out)
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"objects": int(snap.info["objects"]), "load_s": load_s, "export_s": export_s,
                      "bytes": size, "peak_rss": peak}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--millions", type=float, default=10)
    ap.add_argument("--formats", default="heapsnapshot,jsonl,parquet")
    ap.add_argument("--dir")
    ap.add_argument("--child", nargs="+")
    args = ap.parse_args()
    if args.child:
        if args.child[0] == "make":
            make(float(args.child[1]), args.child[2])
        else:
            export(*args.child[1:4])
        return
    d = args.dir or tempfile.mkdtemp(prefix="hs-export-bench-")
    os.makedirs(d, exist_ok=True)
    snap = os.path.join(d, "big.hsnap")
    me = os.path.abspath(__file__)
    run = lambda *a: json.loads(subprocess.run([sys.executable, me, "--child", *a], check=True,  # noqa: E731
                                               capture_output=True, text=True).stdout.splitlines()[-1])
    made = run("make", str(args.millions), snap)
    print(f"dumped {made['items']:,} items in {made['dump_s']:.1f} s: {os.path.getsize(snap) / 2**20:.0f} MiB")
    print(f"{'format':<13}{'objects':>12}{'load s':>9}{'export s':>10}{'output MiB':>12}{'peak RSS MiB':>14}")
    for fmt in args.formats.split(","):
        out = os.path.join(d, f"big.{fmt}")
        r = run("export", fmt, snap, out)
        print(f"{fmt:<13}{r['objects']:>12,}{r['load_s']:>9.1f}{r['export_s']:>10.1f}"
              f"{r['bytes'] / 2**20:>12.0f}{r['peak_rss'] / 2**20:>14.0f}")
        shutil.rmtree(out) if os.path.isdir(out) else os.unlink(out)
    if not args.dir:
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
