"""The ``heapscope`` command on snapshot files: each command's output agrees with the
Python API on the same file, ``--json`` gives the same answers as data, exit codes
follow the documented rule (0 done, 1 problems found, 2 usage or input error) and bad
input is one line on stderr, never a traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import heapscope
from heapscope.cli import main
from heapscope.cli.progress import ProgressBar

# A program with a leak: every "request" appends a Session to a module-level registry;
# it dumps before, during and after the requests (three snapshots of one process).
APP = '''
class Session:
    def __init__(self, i):
        self.i = i
        self.payload = bytes(2000)
        vars(self)  # a real __dict__ on every version (3.11+ would keep inline values)

REGISTRY = []

def serve(n):
    for i in range(n):
        REGISTRY.append(Session(i))
'''

DRIVER = '''
import sys
sys.path.insert(0, sys.argv[1])
import heapscope, leakyapp
out = sys.argv[2]
heapscope.dump(out + "/a.hsnap")
leakyapp.serve(300)
heapscope.dump(out + "/b.hsnap")
leakyapp.serve(300)
heapscope.dump(out + "/c.hsnap")
'''


@pytest.fixture(scope="module")
def snaps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Three snapshots of one process (a, b, c) with 0, 300 and 600 leaked sessions."""
    root = tmp_path_factory.mktemp("cli")
    app = root / "app"
    app.mkdir()
    (app / "leakyapp.py").write_text(APP)
    subprocess.run([sys.executable, "-c", DRIVER, str(app), str(root)], check=True, timeout=120)
    return {k: str(root / f"{k}.hsnap") for k in "abc"}


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def without_header(out: str) -> str:
    """The output after the two lines describing the snapshot."""
    lines = out.splitlines()
    assert lines[0].startswith("Snapshot ") and lines[1].startswith("  command: "), out
    return "\n".join(lines[2:])


@pytest.mark.parametrize("by", ["clodo", "type", "module", "size", "via", "rcs"])
def test_summary_prints_the_census_as_the_api_does(snaps, capsys, by):
    code, out, err = run_cli(capsys, "summary", snaps["c"], "--by", by, "-n", "7")
    assert code == 0 and err == ""
    snap = heapscope.load(snaps["c"])
    x = snap.heap()
    partition = getattr(x, "by" + by)
    unreachable = snap.heapu()
    expected = partition.head(7)
    if unreachable.count:
        expected += (
            f"\nAlso alive but unreachable from the roots: {unreachable.count} objects, "
            f"{unreachable.size} bytes (snap.heapu())."
        )
    assert without_header(out) == expected
    assert len(out.splitlines()) >= 2 + 2 + 7  # header, label, column names, the rows


def test_summary_json(snaps, capsys):
    code, out, _ = run_cli(capsys, "summary", snaps["c"], "--json", "-n", "3")
    assert code == 0
    doc = json.loads(out)
    snap = heapscope.load(snaps["c"])
    x = snap.heap()
    assert (doc["count"], doc["size"]) == (x.count, x.size)
    assert doc["rows"] == [{"kind": r.name, "count": r.count, "size": r.size} for r in x.byclodo.rows[:3]]
    assert doc["snapshot"]["pid"] == snap.info["pid"] and doc["snapshot"]["path"] == snaps["c"]


def test_top_retained_is_the_largest_retainers_table(snaps, capsys):
    code, out, _ = run_cli(capsys, "top", snaps["c"], "-n", "4")
    assert code == 0
    assert without_header(out) == str(heapscope.load(snaps["c"]).largest_retainers(4))
    code, out, _ = run_cli(capsys, "top", snaps["c"], "-n", "4", "--json")
    rows = json.loads(out)["rows"]
    assert len(rows) == 4 and rows == sorted(rows, key=lambda r: -r["retained"])
    # the registry list holds the 600 sessions (their dicts and payloads): it retains them
    registry = [r for r in rows if r["kind"] == "list"]
    assert registry and registry[0]["retained"] > 600 * 2000


@pytest.mark.parametrize("by", ["size", "count"])
def test_top_kinds(snaps, capsys, by):
    code, out, _ = run_cli(capsys, "top", snaps["c"], "--by", by, "-n", "5", "--json")
    assert code == 0
    rows = json.loads(out)["rows"]
    x = heapscope.load(snaps["c"]).heap()
    every = {r.name: (r.count, r.size) for r in x.byclodo.rows}
    key = "size" if by == "size" else "count"
    assert [r[key] for r in rows] == sorted((v[0 if by == "count" else 1] for v in every.values()), reverse=True)[:5]
    assert all(every[r["kind"]] == (r["count"], r["size"]) for r in rows)
    code, text, _ = run_cli(capsys, "top", snaps["c"], "--by", by, "-n", "5")
    table = without_header(text).splitlines()
    assert table[1] == " Index     Count   %       Size   % Kind (class / dict of class)"
    assert [ln.split(None, 5)[5] for ln in table[2:]] == [r["kind"] for r in rows]


def test_paths_to_a_kind(snaps, capsys):
    code, out, _ = run_cli(capsys, "paths", snaps["c"], "leakyapp.Session", "-n", "2")
    assert code == 0
    lines = without_header(out).splitlines()
    assert lines[0].startswith("600 objects of leakyapp.Session, ") and "600 shortest paths" in lines[0]
    assert lines[1] == " 0: snap.Root.i0_modules['leakyapp'].__dict__['REGISTRY'][0]"
    assert lines[2] == " 1: snap.Root.i0_modules['leakyapp'].__dict__['REGISTRY'][1]"
    assert lines[3] == "<598 more paths; -n to show more>"
    code, out, _ = run_cli(capsys, "paths", snaps["c"], "dict of leakyapp.Session", "-n", "1", "--json")
    doc = json.loads(out)
    assert doc["count"] == 600 and doc["numpaths"] == 600
    assert doc["paths"] == ["snap.Root.i0_modules['leakyapp'].__dict__['REGISTRY'][0].__dict__"]


def test_paths_unknown_kind_and_no_objects(snaps, capsys):
    code, out, err = run_cli(capsys, "paths", snaps["c"], "leakyapp.Nope")
    assert code == 2 and out == ""
    assert err.startswith("heapscope paths: error: no type named 'leakyapp.Nope' in ") and err.count("\n") == 1
    code, out, _ = run_cli(capsys, "paths", snaps["a"], "leakyapp.Session")
    assert code == 0 and "No object of leakyapp.Session is reachable from the roots." in out


def test_suspects_exit_code_says_whether_any_were_found(snaps, capsys):
    code, out, _ = run_cli(capsys, "suspects", snaps["c"], "--min-share", "10%")
    assert code == 1
    body = without_header(out)
    assert body == str(heapscope.load(snaps["c"]).leak_suspects(min_share=0.1))
    code, out, _ = run_cli(capsys, "suspects", snaps["c"], "--min-share", "1.0", "--json")
    assert code == 0 and json.loads(out)["suspects"] == []
    code, out, _ = run_cli(capsys, "suspects", snaps["c"], "--json")
    suspects = json.loads(out)["suspects"]
    assert code == 1 and suspects and all(s["share"] >= 0.1 for s in suspects)
    # each object once (a snapshot's objects are new proxies at every call: not by `is`)
    assert len({s["address"] for s in suspects}) == len(suspects), suspects
    registry = [s for s in suspects if s["object"].startswith("list: ")]
    assert len(registry) == 1 and registry[0]["path"].endswith("['REGISTRY']"), suspects


def test_diff_two_and_three_snapshots(snaps, capsys):
    code, out, _ = run_cli(capsys, "diff", snaps["a"], snaps["b"])
    assert code == 0
    assert out.strip() == str(heapscope.diff(snaps["a"], snaps["b"])).strip()
    assert "leakyapp.Session: +300 objects" in out
    code, out, _ = run_cli(capsys, "diff", snaps["a"], snaps["b"], snaps["c"], "--json")
    assert code == 1  # the 300 sessions new in b are still alive in c: a leak signature
    doc = json.loads(out)
    assert doc["same_process"] is True
    leaking = {r["kind"]: r["count"] for r in doc["leaking_kinds"]}
    assert leaking["leakyapp.Session"] == 300
    grown = {g["kind"]: g for g in doc["grown"]}
    assert grown["leakyapp.Session"]["count_change"] == 300
    assert grown["leakyapp.Session"]["path"].startswith("snap.Root.i0_modules['leakyapp'].__dict__['REGISTRY'][")
    code, _, err = run_cli(capsys, "diff", snaps["a"])
    assert code == 2 and "two or three snapshots" in err


@pytest.fixture
def bad_files(tmp_path: Path, snaps: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Files no command can read, and what the error line must say."""
    data = Path(snaps["a"]).read_bytes()
    truncated = tmp_path / "truncated.hsnap"
    truncated.write_bytes(data[: len(data) // 2])
    corrupt = tmp_path / "corrupt.hsnap"
    corrupt.write_bytes(data[:200] + bytes(b ^ 0x5A for b in data[200:400]) + data[400:])
    foreign = tmp_path / "notes.txt"
    foreign.write_text("just some text\n")
    empty = tmp_path / "empty.hsnap"
    empty.write_bytes(b"")
    stat = tmp_path / "census.hpy"
    heapscope.hpy().heap().stat.dump(str(stat))
    return {
        "missing": (str(tmp_path / "nope.hsnap"), "no such file"),
        "directory": (str(tmp_path), "is a directory"),
        "truncated": (str(truncated), "truncated"),
        "corrupt": (str(corrupt), ""),
        "foreign": (str(foreign), "not a heapscope snapshot"),
        "empty": (str(empty), "not a heapscope snapshot"),
        "stat": (str(stat), "is a Stat profile"),
    }


@pytest.mark.parametrize("which", ["missing", "directory", "truncated", "corrupt", "foreign", "empty", "stat"])
def test_bad_input_is_one_line_and_exit_code_2(bad_files, which):
    path, says = bad_files[which]
    for argv in (["summary", path], ["top", path], ["paths", path, "str"], ["suspects", path], ["export", path, "-o", path + ".out"]):
        run = subprocess.run(
            [sys.executable, "-m", "heapscope", *argv], capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 2, (argv, run.stderr)
        assert run.stdout == ""
        assert "Traceback" not in run.stderr
        assert run.stderr.count("\n") == 1, run.stderr
        assert run.stderr.startswith(f"heapscope {argv[0]}: error: {path}: ") and says in run.stderr, run.stderr
        assert not os.path.exists(path + ".out")


@pytest.mark.parametrize(
    "argv, says",
    [
        (["summary"], "the following arguments are required: FILE"),
        (["summary", "x.hsnap", "--by", "colour"], "invalid choice: 'colour'"),
        (["top", "x.hsnap", "-n", "0"], "must be at least 1"),
        (["suspects", "x.hsnap", "--min-share", "150%"], "must be in (0, 1]"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2(argv, says):
    run = subprocess.run([sys.executable, "-m", "heapscope", *argv], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and says in run.stderr and "Traceback" not in run.stderr


def test_every_command_has_help_with_examples():
    run = subprocess.run([sys.executable, "-m", "heapscope", "--help"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0
    from heapscope.cli.main import COMMANDS

    for name in COMMANDS:
        assert f"    {name}" in run.stdout, name
        sub = subprocess.run(
            [sys.executable, "-m", "heapscope", name, "--help"], capture_output=True, text=True, timeout=60
        )
        assert sub.returncode == 0 and "example" in sub.stdout, name


class FakeTerminal:
    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.written: list[str] = []

    def isatty(self) -> bool:
        return self.tty

    def write(self, s: str) -> int:
        self.written.append(s)
        return len(s)

    def flush(self) -> None:
        pass


def test_progress_is_drawn_only_on_a_terminal():
    term, pipe = FakeTerminal(True), FakeTerminal(False)
    for stream in (term, pipe):
        bar = ProgressBar("exporting", stream=stream)  # type: ignore[arg-type]
        bar.update(0, 200)
        bar.update(200, 200)  # the last step is always drawn
        bar.close()
    assert pipe.written == []
    assert any("exporting 100% [" + "#" * 30 + "]" in w for w in term.written), term.written
    assert term.written[-1] == "\r\x1b[K"


def test_progress_does_not_reach_pipes(snaps):
    run = subprocess.run(
        [sys.executable, "-m", "heapscope", "summary", snaps["a"]], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0 and run.stderr == ""


def test_demo_dump_writes_a_snapshot_the_commands_read(tmp_path, capsys):
    path = str(tmp_path / "demo.hsnap")
    code = main(["demo", "--requests", "50", "--dump", path])
    out = capsys.readouterr().out
    assert code == 0 and f"Snapshot written to {path}" in out
    code, out, _ = run_cli(capsys, "paths", path, "heapscope.demo.RequestContext", "-n", "1")
    assert code == 0
    assert " 0: snap.Root.i0_modules['heapscope.demo'].__dict__['AUDIT_LOG'][0]" in out
    from heapscope import demo

    demo.AUDIT_LOG.clear()


def test_export_formats_from_the_command_line(snaps, tmp_path, capsys):
    snap = heapscope.load(snaps["c"])
    x, u = snap.heap(), snap.heapu()
    out = tmp_path / "c.heapsnapshot"
    code, stdout, err = run_cli(capsys, "export", snaps["c"], "-o", str(out))  # format from the suffix
    assert (code, stdout, err) == (0, "", "")
    doc = json.loads(out.read_text())
    fields = len(doc["snapshot"]["meta"]["node_fields"])
    names = {doc["strings"][doc["nodes"][k + 1]] for k in range(0, len(doc["nodes"]), fields)}
    assert "leakyapp.Session" in names
    lines = tmp_path / "c.jsonl"
    assert main(["export", snaps["c"], "-o", str(lines)]) == 0
    with open(lines) as fh:
        assert sum(1 for _ in fh) == x.count + u.count
    tables = tmp_path / "tables"
    assert main(["export", snaps["c"], "--format", "parquet", "-o", str(tables)]) == 0
    assert {"objects.parquet", "edges.parquet", "types.parquet"} <= set(os.listdir(tables))
    # an existing output is kept unless --force
    code, _, err = run_cli(capsys, "export", snaps["c"], "-o", str(out))
    assert code == 2 and "already exists (--force replaces it)" in err
    out.write_text("old")
    assert main(["export", snaps["c"], "-o", str(out), "--force", "--format", "jsonl"]) == 0
    assert out.read_text().count("\n") == x.count + u.count
    code, _, err = run_cli(capsys, "export", snaps["c"], "-o", str(tmp_path / "no" / "dir.jsonl"))
    assert code == 2 and "does not exist" in err


DUMP_ROWS = """
import sys, heapscope
class Row:
    def __init__(self, i):
        self.i = i
        self.name = "row %d" % i
keep = [Row(i) for i in range(100_000)]
heapscope.dump(sys.argv[1])
"""

# The command run with each progress report slowed down (the export makes ~100), so the
# interrupt lands while the export runs however loaded the machine is. The bar's
# callback is Python; the native export takes the signal when the callback returns.
SLOW_EXPORT = """
import signal, sys, time
from heapscope.cli import export, main
# Ctrl-C as at a terminal: a test run started in the background inherits SIGINT ignored
signal.signal(signal.SIGINT, signal.default_int_handler)
draw = export.ProgressBar.update
def slow(self, done, total):
    time.sleep(0.05)
    draw(self, done, total)
export.ProgressBar.update = slow
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_during_an_export_leaves_no_file(tmp_path):
    src = tmp_path / "rows.hsnap"
    subprocess.run([sys.executable, "-c", DUMP_ROWS, str(src)], check=True, timeout=300)
    target = tmp_path / "rows.jsonl"
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_EXPORT, "export", str(src), "-o", str(target)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while not any(n.endswith(".tmp") for n in os.listdir(tmp_path)):  # the export has begun
        assert child.poll() is None and time.monotonic() < deadline, "the export ended before it could be interrupted"
        time.sleep(0.002)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert err == "heapscope export: interrupted\n" and out == ""
    assert sorted(os.listdir(tmp_path)) == ["rows.hsnap"]
