#!/usr/bin/env python3
"""Viewer benchmark: how long ``heapscope view`` takes to show a big snapshot's census,
and how long each JSON API endpoint answers (the page's clicks), over HTTP.

Usage:
    python benchmarks/viewer.py                       # dumps the `big` workload (~14.5M objects)
    python benchmarks/viewer.py --workload instances  # ~1.9M objects, quicker
    python benchmarks/viewer.py --file app.hsnap      # an existing snapshot

Goals (issue 13): the census of a 10M-object snapshot shown within 3 s of starting (load,
census, first request); every click answered within 300 ms. A click's first answer may
compute what later clicks reuse: each endpoint is timed cold (first request) and warm
(median of the next --reps), and both are reported. The server prepares the likeliest
first clicks while it serves (its warm-up: the census rows' members, the dominator tree,
the suspects, the three largest rows' summaries); by default the clicks are measured
after it finished (the time it took is printed), with --no-wait at once. A row's page
asks for its objects and for its summary (Rcs, Via, paths) in two requests: both are
timed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

DUMP = """
import sys
sys.path.insert(0, {here!r})
from run import build_workload
build_workload({workload!r})
import heapscope
heapscope.dump({path!r})
"""

GOAL_OPEN = 3.0
GOAL_CLICK = 0.3


def _get(base: str, token: str, path: str) -> tuple[float, Any]:
    sep = "&" if "?" in path else "?"
    t0 = time.perf_counter()
    with urllib.request.urlopen(f"{base}{path}{sep}token={token}", timeout=600) as reply:
        doc = json.loads(reply.read())
    return time.perf_counter() - t0, doc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", help="an existing snapshot (default: dump --workload)")
    ap.add_argument("--workload", default="big", help="benchmarks/run.py workload to dump (default big)")
    ap.add_argument("--reps", type=int, default=5, help="warm repetitions per endpoint (default 5)")
    ap.add_argument("--no-wait", action="store_true",
                    help="click at once, while the server's warm-up still runs (default: wait for it, as a "
                         "user reading the census would)")
    args = ap.parse_args()

    path = args.file
    tmp = None
    if path is None:
        tmp = tempfile.TemporaryDirectory()
        path = os.path.join(tmp.name, f"{args.workload}.hsnap")
        print(f"dumping the {args.workload!r} workload ...", flush=True)
        subprocess.run([sys.executable, "-c", DUMP.format(here=HERE, workload=args.workload, path=path)], check=True)

    from heapscope.viewer.loaded_files import open_file
    from heapscope.viewer.server import ViewerServer

    t0 = time.perf_counter()
    files = [open_file(0, path)]
    loaded = time.perf_counter() - t0
    server = ViewerServer(files)
    server.start_in_thread()
    base = f"http://127.0.0.1:{server.port}"
    first_census, census = _get(base, server.token, "/api/snapshot/0/census")
    shown = loaded + first_census
    print(f"snapshot {path}: {census['total_count']} objects reachable, {census['total_rows']} kinds")
    print(f"open to census: {shown:.2f} s (load + heap() {loaded:.2f} s, first census request {first_census:.3f} s)"
          f"  goal {GOAL_OPEN} s: {'ok' if shown <= GOAL_OPEN else 'SLOWER'}")
    if args.no_wait:
        print("clicks measured while the server's warm-up runs (--no-wait)")
    else:
        server.warm_up.finished.wait()
        print(f"warm-up finished {time.perf_counter() - t0:.2f} s after opening: {', '.join(server.warm_up.done)}")

    biggest = census["rows"][0]["kind"]
    rows = {r["kind"]: r for r in census["rows"]}
    plain = next((k for k in rows if k.endswith(".Plain")), census["rows"][min(3, len(census["rows"]) - 1)]["kind"])
    quoted_big = urllib.request.quote(biggest)
    # a row the warm-up does not summarize (it does the three largest)
    unprepared = census["rows"][min(5, len(census["rows"]) - 1)]["kind"]
    quoted_plain = urllib.request.quote(plain)
    endpoints: list[tuple[str, str]] = [
        ("files", "/api/files"),
        ("census by clodo", "/api/snapshot/0/census?by=clodo"),
        ("census by type, filtered", "/api/snapshot/0/census?by=type&filter=dict"),
        ("census by module", "/api/snapshot/0/census?by=module"),
        ("census by size, sorted by count", "/api/snapshot/0/census?by=size&sort=count"),
        ("domtree root", "/api/snapshot/0/domtree?node=root"),
        (f"row {plain} ({rows[plain]['count']})", f"/api/snapshot/0/row?kind={quoted_plain}"),
        (f"row {biggest} ({rows[biggest]['count']})", f"/api/snapshot/0/row?kind={quoted_big}"),
        (f"row summary {plain}", f"/api/snapshot/0/row/summary?kind={quoted_plain}"),
        (f"row summary {biggest}", f"/api/snapshot/0/row/summary?kind={quoted_big}"),
        (f"row summary {unprepared} (not prepared)", f"/api/snapshot/0/row/summary?kind={urllib.request.quote(unprepared)}"),
        ("suspects", "/api/snapshot/0/suspects"),
    ]
    results: list[tuple[str, float, float]] = []

    def measure(label: str, api: str) -> Any:
        cold, doc = _get(base, server.token, api)
        warm = statistics.median(_get(base, server.token, api)[0] for _ in range(args.reps))
        results.append((label, cold, warm))
        return doc

    docs = {label: measure(label, api) for label, api in endpoints}
    top = docs["domtree root"]["children"][0]
    measure("domtree of the largest retainer", f"/api/snapshot/0/domtree?node={top['address']}")
    row = docs[endpoints[6][0]]
    if row["objects"]:
        measure("object (a member of the row)", f"/api/snapshot/0/object/{row['objects'][0]['address']}")
    measure("object (the largest retainer)", f"/api/snapshot/0/object/{top['address']}")
    server.shutdown()
    server.server_close()

    width = max(len(r[0]) for r in results)
    print(f"\n{'endpoint':<{width}}   cold (s)  warm (s)  goal {GOAL_CLICK} s")
    for label, cold, warm in results:
        verdict = "ok" if cold <= GOAL_CLICK else ("warm ok" if warm <= GOAL_CLICK else "SLOWER")
        print(f"{label:<{width}}   {cold:8.3f}  {warm:8.3f}  {verdict}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
