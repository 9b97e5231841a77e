#!/usr/bin/env python3
"""Command-line benchmark: each ``heapscope`` command on a big snapshot against the same
work done through the Python API (load + the analysis the command prints), and the
exports' time and peak RSS, in one run.

Usage:
    python benchmarks/cli.py                       # dumps the `big` workload (~14.5M objects)
    python benchmarks/cli.py --workload instances  # ~1.9M objects, quicker
    python benchmarks/cli.py --file app.hsnap --kind pkg.Class   # an existing snapshot

Every measurement is a fresh child process (interpreter start and imports included on
both sides), timed by the parent, peak RSS from the child's own rusage (``os.wait4``).
Goals (issue 12 and BENCHMARKS.md): every command within the time of load plus its
analysis (here: CLI <= API x 1.10 + 0.3 s for noise); exports of 10M+ objects: Parquet
and JSON lines <= 10 s, .heapsnapshot <= 20 s, peak RSS <= 2.5 GiB. Medians over --reps.
The table is also written to benchmarks/results/cli.txt.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))

DUMP = """
import sys, time
sys.path.insert(0, {here!r})
from run import build_workload
build_workload({workload!r})
import heapscope
t0 = time.perf_counter()
heapscope.dump({path!r})
print(time.perf_counter() - t0)
"""

# (name, CLI arguments after the command, the API script doing the same work)
COMMANDS = (
    ("summary", ["summary", "{file}"],
     "x = s.heap(); u = s.heapu(); t = x.byclodo.head(20)"),
    ("summary --by rcs", ["summary", "{file}", "--by", "rcs"],
     "x = s.heap(); u = s.heapu(); t = x.byrcs.head(20)"),
    ("top (retained)", ["top", "{file}"],
     "t = str(s.largest_retainers(10))"),
    ("top --by count", ["top", "{file}", "--by", "count"],
     "rows = sorted(s.heap().byclodo.rows, key=lambda r: -r.count)[:10]"),
    ("paths KIND", ["paths", "{file}", "{kind}"],
     "x = s.heap() & s.Clodo({kind!r}); p = x.sp; t = [str(q) for q in p.iter(0, 10)]; n = p.numpaths"),
    ("suspects", ["suspects", "{file}"],
     "t = str(s.leak_suspects())"),
    ("diff FILE FILE", ["diff", "{file}", "{file}"],
     "s2 = heapscope.load({file!r}); t = str(heapscope.diff(s, s2))"),
)

EXPORTS = (("heapsnapshot", "out.heapsnapshot", 20.0), ("parquet", "out-parquet", 10.0), ("jsonl", "out.jsonl", 10.0))
RSS_GOAL_MIB = 2.5 * 1024


def timed(argv: list[str]) -> tuple[float, float, int]:
    """(seconds, peak RSS in MiB, exit code) of one child process."""
    t0 = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    took = time.perf_counter() - t0
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if child.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({child.returncode}):\n{err}")
    return took, usage.ru_maxrss / 1024.0, child.returncode


def api_script(body: str, file: str, kind: str) -> str:
    return textwrap.dedent(
        f"""
        import heapscope
        s = heapscope.load({file!r})
        {body.format(file=file, kind=kind)}
        """
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", default="big", help="run.py workload to dump (default big)")
    ap.add_argument("--file", help="an existing snapshot instead of dumping a workload")
    ap.add_argument("--kind", default="run.Plain", help="KIND for `paths` (default run.Plain, the workloads' class)")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--skip-exports", action="store_true")
    args = ap.parse_args()
    py = sys.executable
    tmp = tempfile.mkdtemp(prefix="heapscope-cli-bench-")
    lines: list[str] = []
    try:
        file = args.file
        if file is None:
            file = os.path.join(tmp, args.workload + ".hsnap")
            out = subprocess.run([py, "-c", DUMP.format(here=HERE, workload=args.workload, path=file)],
                                 check=True, capture_output=True, text=True)
            lines.append(f"dumped workload {args.workload} in {float(out.stdout):.2f} s")
        import heapscope

        info = heapscope.load(file).info
        lines.append(f"snapshot: {info.get('objects')} objects, {os.path.getsize(file) / 2**20:.0f} MiB on disk, "
                     f"Python {info.get('python_version')}, {args.reps} repetition(s), medians")
        lines.append("")
        lines.append(f"| command | CLI | API (load + analysis) | CLI / API | CLI peak RSS | goal |")
        lines.append("|---|---:|---:|---:|---:|---|")
        met = total = 0
        for name, argv, body in COMMANDS:
            cli_argv = [py, "-m", "heapscope"] + [a.format(file=file, kind=args.kind) for a in argv]
            api_argv = [py, "-c", api_script(body, file, args.kind)]
            cli_t, api_t, rss = [], [], []
            for _ in range(args.reps):  # alternate, so drift in the machine's speed hits both
                t, r, _code = timed(cli_argv)
                cli_t.append(t)
                rss.append(r)
                api_t.append(timed(api_argv)[0])
            c, a = statistics.median(cli_t), statistics.median(api_t)
            ok = c <= a * 1.10 + 0.3
            met += ok
            total += 1
            lines.append(f"| `{name}` | {c:.2f} s | {a:.2f} s | {c / a:.2f} | {max(rss):.0f} MiB | "
                         f"<= API: {'met' if ok else 'NOT met'} |")
        if not args.skip_exports:
            lines.append("")
            lines.append("| export | time | peak RSS | output | goal |")
            lines.append("|---|---:|---:|---:|---|")
            for fmt, name, goal in EXPORTS:
                target = os.path.join(tmp, name)
                ts, rs = [], []
                for _ in range(args.reps):
                    if os.path.isdir(target):
                        shutil.rmtree(target)
                    elif os.path.exists(target):
                        os.remove(target)
                    t, r, _code = timed([py, "-m", "heapscope", "export", file, "--format", fmt, "-o", target])
                    ts.append(t)
                    rs.append(r)
                size = (sum(os.path.getsize(os.path.join(target, f)) for f in os.listdir(target))
                        if os.path.isdir(target) else os.path.getsize(target))
                t, r = statistics.median(ts), max(rs)
                ok = t <= goal and r <= RSS_GOAL_MIB
                met += ok
                total += 1
                lines.append(f"| {fmt} | {t:.2f} s | {r:.0f} MiB | {size / 2**20:.0f} MiB | "
                             f"<= {goal:.0f} s, <= 2.5 GiB: {'met' if ok else 'NOT met'} |")
        lines.append("")
        lines.append(f"{met}/{total} goals met")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "cli.txt"), "w") as fh:
        fh.write(text + "\n")


if __name__ == "__main__":
    main()
