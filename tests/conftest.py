"""Shared helpers for the heapscope test suite."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from heapscope import hpy

# the kind name may be empty (textwrap strips the trailing blank, as in Heapy)
ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+\d+\s+(\d+)\s+\d+\s+\d+\s+\d+(?: (.*))?$")


def table_rows(x: Any) -> dict[str, tuple[int, int]]:
    """Parses a printed Set table (``x.all``) into ``{kind: (count, size)}``."""
    rows: list[list] = []
    for line in str(x.all).splitlines()[2:]:
        m = ROW.match(line)
        if m is None:
            # a long kind name wrapped onto a continuation line (Heapy wraps at 100)
            assert rows and line.startswith(" " * 40), f"unparsable table row: {line!r}"
            rows[-1][0] += " " + line.strip()
            continue
        rows.append([(m.group(4) or "").strip(), int(m.group(2)), int(m.group(3))])
    out: dict[str, tuple[int, int]] = {}
    for name, count, size in rows:  # two modules may share a name: add them up
        c, sz = out.get(name, (0, 0))
        out[name] = (c + count, sz + size)
    return out


def normalise(text: str) -> str:
    """Replaces addresses so tables can be compared as exact text."""
    return re.sub(r"0x[0-9a-f]+", "0xADDR", text)


@pytest.fixture
def h() -> Any:
    return hpy()


def run_with(impl: str, script: Path) -> str:
    """Runs ``script`` as ``__main__`` with ``hpy`` imported from ``impl`` (``guppy`` or
    ``heapscope``); its output with addresses normalised."""
    prelude = f"import runpy\nfrom {impl} import hpy\nrunpy.run_path({str(script)!r}, {{'hpy': hpy}}, '__main__')\n"
    proc = subprocess.run([sys.executable, "-c", prelude], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{impl}:\n{proc.stdout}\n{proc.stderr}"
    return normalise(proc.stdout)


def same_script(tmp_path: Path, code: str) -> tuple[str, str]:
    """The output of ``code`` (a script using ``hpy``) run under guppy3 and under
    heapscope, each in a fresh interpreter, addresses normalised."""
    pytest.importorskip("guppy")
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    return run_with("guppy", script), run_with("heapscope", script)
