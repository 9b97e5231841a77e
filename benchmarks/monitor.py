#!/usr/bin/env python3
"""Monitor benchmark: attaching to a running 1M-object process and dumping it.

Usage:
    python benchmarks/monitor.py                 # ~1M objects in the target
    python benchmarks/monitor.py --objects 3000000 --reps 3

Goals (BENCHMARKS.md): the first census within 3 s of the command (``heapscope summary
PID`` on a process without an agent: attach, start the agent, census); the target's
pause during a dump no longer than its own ``heap()``.

The target is a plain program (it never imports heapscope) holding the objects, with a
heartbeat thread that wakes every millisecond and records the longest gap between two
wake-ups: while the target is paused (the GIL held by a capture) the gap grows, so the
longest gap over a dump is the pause the program felt. Each command is timed from the
outside (wall clock of the subprocess); the target's heap() time is measured in it,
through the console, as the median of --reps.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

TARGET = r"""
import sys, threading, time
N = int(sys.argv[1])
DATA = [(i, str(i)) for i in range(N // 3)]      # a tuple, an int beyond the cache, a str: ~N objects
GAP = [0.0]

def heartbeat():
    last = time.perf_counter()
    while True:
        time.sleep(0.001)
        now = time.perf_counter()
        GAP[0] = max(GAP[0], now - last)
        last = now

threading.Thread(target=heartbeat, daemon=True).start()
print("ready", flush=True)
sys.stdin.readline()
"""

GOAL_CENSUS = 3.0


def _cli(*args: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "heapscope", *args], capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"heapscope {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed, done.stdout


def _console(client: Any, source: str) -> str:
    out: list[str] = []
    client.run(source, out.append)
    return "".join(out).strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objects", type=int, default=1_000_000, help="objects the target holds (default 1,000,000)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of each measure (default 3)")
    args = ap.parse_args()

    from heapscope.monitor.client import MonitorClient

    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "target.py")
        with open(script, "w") as f:
            f.write(TARGET)
        target = subprocess.Popen([sys.executable, script, str(args.objects)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert target.stdout is not None and target.stdout.readline() == "ready\n"
            first, text = _cli("summary", str(target.pid), "-n", "3")
            count = text.split("Partition of a set of ")[1].split()[0]
            print(f"target: pid {target.pid}, Python {sys.version.split()[0]}, {count} objects in heap()")
            print(f"first census of a process without an agent (attach + agent + census): {first:.2f} s"
                  f"  goal {GOAL_CENSUS} s: {'ok' if first <= GOAL_CENSUS else 'SLOWER'}")
            later = statistics.median(_cli("summary", str(target.pid), "-n", "3")[0] for _ in range(args.reps))
            print(f"census with the agent there (summary PID): {later:.2f} s")

            with MonitorClient.to_pid(target.pid) as client:
                heap_times = [float(_console(client, "import time as _t; _s = _t.perf_counter(); _x = h.heap(); "
                                                     "print(_t.perf_counter() - _s)")) for _ in range(args.reps)]
                heap_time = statistics.median(heap_times)
                pauses, walls, agent_seconds = [], [], []
                for i in range(args.reps):
                    _console(client, "import __main__; __main__.GAP[0] = 0.0")
                    out = os.path.join(tmp, f"dump-{i}.hsnap")
                    wall, _ = _cli("dump", str(target.pid), "-o", out)
                    walls.append(wall)
                    pauses.append(float(_console(client, "__main__.GAP[0]")))
                    os.unlink(out)
                pause = statistics.median(pauses)
            print(f"the target's heap(): {heap_time:.3f} s (median of {args.reps}: "
                  f"{', '.join(f'{t:.3f}' for t in heap_times)})")
            print(f"dump PID: {statistics.median(walls):.2f} s for the command; the target's longest pause "
                  f"{pause:.3f} s (median of {args.reps}: {', '.join(f'{p:.3f}' for p in pauses)}) = "
                  f"{pause / heap_time:.2f}x its heap()  goal <= 1x: {'ok' if pause <= heap_time else 'SLOWER'}")
        finally:
            target.kill()
            target.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
