"""The quick-start demo and the command line."""

from __future__ import annotations

import re
import subprocess
import sys

from heapscope.__main__ import main


def test_demo_finds_the_leaking_kinds(capsys):
    assert main(["demo", "--requests", "300"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[2].startswith("Partition of a set of ")
    assert "1 x heapscope.demo.RequestContext per request" in out
    assert "1 x bytes per request" in out
    held = [ln for ln in out.splitlines() if ln.startswith("  heapscope.demo.RequestContext: held by")]
    assert len(held) == 1 and "list" in held[0], out  # the module-level audit log
    # why: the shortest path from the roots to that list, and what it retains
    assert "    kept alive by: hpy().Root.i0_modules['heapscope.demo'].__dict__['AUDIT_LOG']" in out, out
    retained = [ln for ln in out.splitlines() if ln.startswith("    retained size: ")]
    assert len(retained) == 1
    size, count = re.match(r"    retained size: (\d+) bytes in (\d+) objects", retained[0]).groups()
    assert int(count) > 300 * 5 and int(size) > 300 * 600  # at least the leaked contexts and theirs
    from heapscope import demo

    demo.AUDIT_LOG.clear()


def test_cli_help_and_errors():
    run = subprocess.run([sys.executable, "-m", "heapscope", "--help"], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and "demo" in run.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "heapscope", "demo", "--requests", "0"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2 and "--requests: must be at least 1" in bad.stderr


def test_closed_pipe_ends_quietly():
    run = subprocess.run(
        f"{sys.executable} -m heapscope demo | head -1", shell=True, capture_output=True, text=True
    )
    assert run.stdout.startswith("heapscope demo:")
    assert "Traceback" not in run.stderr
