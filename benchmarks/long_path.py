#!/usr/bin/env python3
"""Long reference paths: ``x.sp`` to the last node of a linked list of n nodes (held by
a module global), then printing it. Both should grow linearly with n.

Usage:
    python benchmarks/long_path.py [--sizes 100000,400000,1000000] [--reps 3]

Each size runs in a fresh child process (``--child N``); medians over the repetitions.
Columns: ``sp`` = ``h.iso(last).sp`` (captures the heap with edges, labels the edges,
searches), ``page`` = ``str(sp)`` (the first page: the path elided in the middle),
``full`` = ``str(sp[0])`` (the whole path's text), and microseconds per node for each.
The table is also written to benchmarks/results/long_path.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

HEAD: list[object] = []


class Node:
    __slots__ = ("next",)

    def __init__(self, nxt: Node | None) -> None:
        self.next = nxt


def child(n: int) -> None:
    from heapscope import hpy

    h = hpy()
    head = None
    for _ in range(n):
        head = Node(head)
    HEAD.append(head)
    last = head
    while last.next is not None:
        last = last.next
    target = h.iso(last)
    del head, last
    t0 = time.perf_counter()
    sp = target.sp
    t1 = time.perf_counter()
    page = str(sp)
    t2 = time.perf_counter()
    full = str(sp[0])
    t3 = time.perf_counter()
    assert sp.numpaths == 1 and "more steps" in page and len(full) > 5 * n
    print(json.dumps({"sp": t1 - t0, "page": t2 - t1, "full": t3 - t2}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,400000,1000000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        child(args.child)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    lines = [
        f"Long paths on Python {sys.version.split()[0]}: median of {args.reps} (seconds; us/node)",
        f"{'nodes':>9} {'sp':>8} {'us/node':>8} {'page':>8} {'us/node':>8} {'full':>8} {'us/node':>8}",
    ]
    for n in sizes:
        runs = []
        for _ in range(args.reps):
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--child", str(n)],
                capture_output=True, text=True, check=True,
            ).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        med = {k: statistics.median(r[k] for r in runs) for k in ("sp", "page", "full")}
        lines.append(
            f"{n:>9} "
            + " ".join(f"{med[k]:8.3f} {med[k] / n * 1e6:8.3f}" for k in ("sp", "page", "full"))
        )
        print(lines[-1], file=sys.stderr)
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "long_path.txt"), "w") as fh:
        fh.write(text + "\n")


if __name__ == "__main__":
    main()
