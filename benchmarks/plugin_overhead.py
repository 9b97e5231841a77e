#!/usr/bin/env python3
"""Overhead of heapscope's pytest plugin on a suite that does not use it.

Generates a suite of unmarked tests (default 2000) in a temporary directory and times
``pytest -q`` on it with the plugin loaded (the default once heapscope is installed) and
with ``-p no:heapscope``, alternating, in fresh processes; prints the medians and the
ratio. Also times one marked test to show what a leak check costs.

Usage:
    python benchmarks/plugin_overhead.py [--reps N] [--tests N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUITE = """
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_unmarked(i):
    assert [i] * 3 == [i, i, i]
"""

MARKED = """
import pytest

@pytest.mark.heapscope_leaks(rounds=5)
def test_marked():
    data = [bytearray(100) for _ in range(100)]
    assert len(data) == 100
"""


def run(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"pytest failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--tests", type=int, default=2000)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "test_suite.py").write_text(SUITE.format(n=opts.tests))
        (root / "marked" ).mkdir()
        (root / "marked" / "test_marked.py").write_text(MARKED)
        with_plugin: list[float] = []
        without: list[float] = []
        marked: list[float] = []
        for rep in range(opts.reps):
            with_plugin.append(run(["test_suite.py"], root))
            without.append(run(["test_suite.py", "-p", "no:heapscope"], root))
            marked.append(run(["marked"], root))
            print(f"[rep {rep + 1}/{opts.reps}] with {with_plugin[-1]:.2f} s, without {without[-1]:.2f} s",
                  file=sys.stderr, flush=True)
    w, wo, m = (statistics.median(x) for x in (with_plugin, without, marked))
    print(f"heapscope pytest plugin overhead; Python {sys.version.split()[0]}; {opts.reps} reps, medians")
    print(f"  {opts.tests} unmarked tests, plugin loaded:      {w:7.3f} s")
    print(f"  {opts.tests} unmarked tests, -p no:heapscope:    {wo:7.3f} s")
    print(f"  overhead: {w - wo:+.3f} s ({(w / wo - 1) * 100:+.1f}%), {(w - wo) / opts.tests * 1e6:+.1f} us per test")
    print(f"  one marked test (warm-up + 5 rounds + census), whole pytest run: {m:.3f} s")


if __name__ == "__main__":
    main()
