"""``heapscope run`` and the snapshot triggers (heapscope.triggers), in real child
processes: each test runs ``python -m heapscope run ...`` on a small program."""

from __future__ import annotations

import datetime
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import heapscope
from heapscope.dump_paths import DumpPaths, dump_path

PACKAGE_ROOT = str(Path(heapscope.__file__).resolve().parent.parent)
TIMEOUT = 60

#: Imported by each child program (which defines a class Marker to find in snapshots):
#: polls with a timeout instead of sleeping blind.
WAIT_FOR = """\
import os, time
def wait_for(condition, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)
"""

needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="RSS is read from /proc (Linux)")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PACKAGE_ROOT, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _program(tmp_path: Path, code: str, name: str = "prog.py") -> Path:
    (tmp_path / "waiting.py").write_text(WAIT_FOR)
    path = tmp_path / name
    path.write_text("from waiting import wait_for\nclass Marker:\n    pass\n" + textwrap.dedent(code))
    return path


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "heapscope", "run", *args],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )


def _markers(path: Path) -> int:
    snap = heapscope.load(path)
    return (snap.heap() & snap.Clodo("__main__.Marker")).count


def _wrote_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("heapscope: wrote snapshot ")]


WROTE = re.compile(r"heapscope: wrote snapshot (\S+) \((\d+) objects, \d+\.\d MB, \d+\.\d s\)\Z")


def test_the_child_uses_this_package(tmp_path):
    prog = _program(tmp_path, "import heapscope; print(heapscope.__file__)")
    run = _run(tmp_path, str(prog))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(Path(heapscope.__file__).resolve())


def test_dump_on_exit_holds_the_programs_objects(tmp_path):
    prog = _program(tmp_path, "kept = [Marker() for _ in range(7)]\n")
    run = _run(tmp_path, "--dump-on-exit", "end.hsnap", str(prog))
    assert run.returncode == 0, run.stderr
    [line] = _wrote_lines(run.stderr)
    m = WROTE.match(line)
    assert m and m.group(1) == "end.hsnap" and int(m.group(2)) > 1000, line
    assert _markers(tmp_path / "end.hsnap") == 7
    # the program's module is where python keeps it: a path from the roots shows it
    snap = heapscope.load(tmp_path / "end.hsnap")
    assert "i0_modules['__main__']" in str((snap.heap() & snap.Clodo("__main__.Marker")).sp[0])


@pytest.mark.parametrize(
    ("ending", "status"),
    [("sys.exit(3)", 3), ("raise ValueError('boom')", 1), ("sys.exit('bye')", 1), ("pass", 0)],
)
def test_exit_status_passes_through_and_the_exit_dump_happens_anyway(tmp_path, ending, status):
    prog = _program(tmp_path, f"import sys\nkept = [Marker() for _ in range(3)]\n{ending}\n")
    run = _run(tmp_path, "--dump-on-exit", "end.hsnap", str(prog))
    assert run.returncode == status, run.stderr
    assert _markers(tmp_path / "end.hsnap") == 3
    if "ValueError" in ending:
        # python's traceback, from the program's frame: none of heapscope's
        assert "Traceback (most recent call last):" in run.stderr and "ValueError: boom" in run.stderr
        assert str(prog) in run.stderr
        assert "main_program.py" not in run.stderr and "run.py" not in run.stderr
    if "bye" in ending:
        assert "bye" in run.stderr.splitlines()


def test_args_after_the_script_are_the_programs(tmp_path):
    prog = _program(tmp_path, "import sys, json\nprint(json.dumps([__name__, sys.argv, sys.path[0]]))\n")
    run = _run(tmp_path, str(prog), "--dump-on-exit", "x.hsnap", "-v", "--", "-m")
    assert run.returncode == 0, run.stderr
    import json

    name, argv, path0 = json.loads(run.stdout)
    assert name == "__main__"
    assert argv == [str(prog), "--dump-on-exit", "x.hsnap", "-v", "--", "-m"]
    assert path0 == str(tmp_path.resolve())
    assert not (tmp_path / "x.hsnap").exists() and not _wrote_lines(run.stderr)


def test_module_form(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text("import sys\nprint(__name__, __spec__.name, sys.argv[1:])\nsys.exit(4)\n")
    (tmp_path / "tool.py").write_text("import sys\nprint(__name__, sys.argv[1:])\n")
    run = _run(tmp_path, "-m", "pkg", "a", "--dump-on-exit", "b")
    assert (run.returncode, run.stdout) == (4, "__main__ pkg.__main__ ['a', '--dump-on-exit', 'b']\n"), run.stderr
    run = _run(tmp_path, "--dump-on-exit", "m.hsnap", "-mtool", "-x")
    assert (run.returncode, run.stdout) == (0, "__main__ ['-x']\n"), run.stderr
    assert (tmp_path / "m.hsnap").exists()


@pytest.mark.skipif(not hasattr(signal, "SIGUSR2"), reason="no SIGUSR2 here")
@pytest.mark.parametrize("given", [[], ["USR1"], ["SIGUSR1"], [str(int(getattr(signal, "SIGUSR1", 10)))]])
def test_dump_on_signal(tmp_path, given):
    prog = _program(
        tmp_path,
        """
        import os
        kept = [Marker() for _ in range(11)]
        print("ready", flush=True)
        wait_for(lambda: os.path.exists("snap-1.hsnap"), "the snapshot")
        """,
    )
    sent = signal.SIGUSR1 if given else signal.SIGUSR2
    child = subprocess.Popen(
        [sys.executable, "-m", "heapscope", "run", "--dump-on-signal", *given, "--dump-path", "snap-{n}.hsnap",
         str(prog)],
        cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        child.send_signal(sent)
        _, err = child.communicate(timeout=TIMEOUT)
    finally:
        child.kill()
    assert child.returncode == 0, err
    [line] = _wrote_lines(err)
    assert WROTE.match(line), line
    assert _markers(tmp_path / "snap-1.hsnap") == 11


@needs_proc
def test_dump_when_rss_above_dumps_once_per_crossing(tmp_path):
    # threshold: 96 MiB above the child's RSS at start; it rises 128 MiB above, stays,
    # falls back (below 90%), and rises again: two snapshots, not one per check
    prog = _program(
        tmp_path,
        """
        import os, sys, time
        from heapscope.rss import current_rss
        kept = [Marker() for _ in range(5)]
        base = int(sys.argv[1])
        def above():
            return bytearray(base + (128 << 20) - current_rss())
        def stay(seconds):  # the trigger checks every 0.02 s meanwhile
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                time.sleep(0.02)
        hog = above()
        wait_for(lambda: os.path.exists("rss-1.hsnap"), "the first snapshot")
        stay(1.0)
        assert not os.path.exists("rss-2.hsnap"), "a second snapshot while the RSS stayed above"
        del hog
        stay(1.0)
        hog = above()
        wait_for(lambda: os.path.exists("rss-2.hsnap"), "the second snapshot")
        stay(0.3)
        """,
    )
    base = _child_base_rss(tmp_path)
    threshold = base + (96 << 20)
    run = _run(tmp_path, "--dump-when-rss-above", str(threshold), "--rss-check-every", "0.02",
               "--dump-path", "rss-{n}.hsnap", str(prog), str(base))
    assert run.returncode == 0, run.stderr
    assert len(_wrote_lines(run.stderr)) == 2, run.stderr
    assert not (tmp_path / "rss-3.hsnap").exists()
    assert _markers(tmp_path / "rss-1.hsnap") == 5
    assert int(heapscope.load(tmp_path / "rss-2.hsnap").info["rss"]) > threshold


def _child_base_rss(tmp_path: Path) -> int:
    """The RSS of ``heapscope run`` with an RSS trigger on a program that does nothing."""
    probe = tmp_path / "probe.py"
    probe.write_text("from heapscope.rss import current_rss\nprint(current_rss())\n")
    run = _run(tmp_path, "--dump-when-rss-above", "1T", str(probe))
    assert run.returncode == 0, run.stderr
    return int(run.stdout)


MEMORY_HOG = """
import resource
kept = [Marker() for _ in range(9)]
def address_space():
    with open("/proc/self/status") as f:
        return next(int(ln.split()[1]) * 1024 for ln in f if ln.startswith("VmSize:"))
limit = address_space() + (256 << 20)
resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
hog = []
while True:
    hog.append(bytearray(4 << 20))
"""


@needs_proc
def test_dump_on_memoryerror_with_a_real_memory_error(tmp_path):
    prog = _program(tmp_path, MEMORY_HOG)
    run = _run(tmp_path, "--dump-on-memoryerror", "--dump-path", "oom-{n}.hsnap", str(prog))
    assert run.returncode == 1, run.stderr
    assert run.stderr.rstrip().endswith("MemoryError"), run.stderr
    [line] = _wrote_lines(run.stderr)
    assert WROTE.match(line), run.stderr
    assert _markers(tmp_path / "oom-1.hsnap") == 9


def test_dump_on_memoryerror_in_a_thread_and_not_for_other_errors(tmp_path):
    prog = _program(
        tmp_path,
        """
        import threading
        kept = [Marker() for _ in range(4)]
        def fail():
            raise MemoryError("in a thread")
        t = threading.Thread(target=fail)
        t.start(); t.join()
        raise KeyError("not a memory error")
        """,
    )
    run = _run(tmp_path, "--dump-on-memoryerror", "--dump-path", "oom-{n}.hsnap", str(prog))
    assert run.returncode == 1, run.stderr
    assert "MemoryError: in a thread" in run.stderr and "KeyError: 'not a memory error'" in run.stderr
    assert len(_wrote_lines(run.stderr)) == 1
    assert _markers(tmp_path / "oom-1.hsnap") == 4


def test_census_every_writes_several_records(tmp_path):
    prog = _program(
        tmp_path,
        """
        kept = []
        def records():
            with open("mem.hpy") as f:
                return sum(1 for ln in f if ln.startswith(".loader:"))
        wait_for(lambda: kept.append(Marker()) or records() >= 3, "three census records")
        """,
    )
    run = _run(tmp_path, "--census-every", "0.05", "--census-path", "mem.hpy", str(prog))
    assert run.returncode == 0, run.stderr
    records = list(heapscope.load_all(tmp_path / "mem.hpy"))
    assert len(records) >= 4  # three or more during, one at the end
    counts = [dict((name, count) for name, count, _ in st.rows).get("__main__.Marker", 0) for st in records]
    assert counts == sorted(counts) and counts[-1] > counts[0]
    assert f"heapscope: wrote {len(records)} census records to mem.hpy" in run.stderr


def test_placeholders_in_file_names(tmp_path):
    prog = _program(tmp_path, "import os\nprint(os.getpid())\n")
    before = datetime.datetime.now().replace(microsecond=0)
    run = _run(tmp_path, "--dump-on-exit", "snap-{pid}-{time}-{n:02}.hsnap", str(prog))
    assert run.returncode == 0, run.stderr
    [name] = [p.name for p in tmp_path.glob("snap-*.hsnap")]
    m = re.fullmatch(r"snap-(\d+)-(\d{8}T\d{6})-01\.hsnap", name)
    assert m and int(m.group(1)) == int(run.stdout), name
    when = datetime.datetime.strptime(m.group(2), "%Y%m%dT%H%M%S")
    assert before <= when <= datetime.datetime.now()


def test_dump_path_function():
    when = datetime.datetime(2026, 12, 1, 9, 45, 1)
    assert dump_path("a-{pid}-{time}-{n}.hsnap", 3, when=when) == f"a-{os.getpid()}-20261201T094501-3.hsnap"
    assert dump_path("{{x}}-{n:03}", 7) == "{x}-007"
    for bad in ("a-{nope}.hsnap", "a-{.hsnap", "a-{}.hsnap"):
        with pytest.raises(ValueError, match="pattern"):
            dump_path(bad, 1)
    paths = DumpPaths("s-{n}")
    assert [paths.next(), paths.next()] == ["s-1", "s-2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dump-on-signal", "BOGUS", "prog.py"], "--dump-on-signal: unknown signal 'BOGUS'"),
        (["missing.py"], "missing.py: no such file"),
        (["-m", "no_such_module_here"], "no module named no_such_module_here"),
        ([], "no program to run"),
        (["--dump-path", "x-{oops}.hsnap", "prog.py"], "unknown placeholder {oops}"),
        (["--dump-on-exit", "nodir/x.hsnap", "prog.py"], "no such directory: nodir"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(tmp_path, args, message):
    _program(tmp_path, "print('ran')\n")
    run = _run(tmp_path, *args)
    assert run.returncode == 2 and run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line.startswith("heapscope run: error: ") and message in line, line


def test_bad_size_is_a_usage_error(tmp_path):
    run = _run(tmp_path, "--dump-when-rss-above", "lots", "prog.py")
    assert run.returncode == 2 and "expected a size such as 500M or 2G, not 'lots'" in run.stderr


# -- the API in this process ------------------------------------------------------------


@pytest.mark.skipif(not hasattr(signal, "SIGUSR2"), reason="no SIGUSR2 here")
def test_signal_trigger_cancel_restores_the_previous_handler(tmp_path):
    def previous(signum, frame):
        pass

    old = signal.signal(signal.SIGUSR2, previous)
    try:
        trigger = heapscope.dump_on_signal(tmp_path / "s-{n}.hsnap")
        assert signal.getsignal(signal.SIGUSR2) == trigger._on_signal
        trigger.cancel()
        assert signal.getsignal(signal.SIGUSR2) is previous
        trigger.cancel()  # twice is harmless
    finally:
        signal.signal(signal.SIGUSR2, old)


def test_memory_error_context_manager_dumps_once_and_removes_its_hooks(tmp_path, capfd):
    hooks = (sys.excepthook, __import__("threading").excepthook)
    kept = [Marker() for _ in range(6)]
    with pytest.raises(MemoryError):
        with heapscope.dump_on_memory_error(tmp_path / "m-{n}.hsnap") as trigger:
            raise MemoryError
    assert (sys.excepthook, __import__("threading").excepthook) == hooks
    assert trigger.dumps == [str(tmp_path / "m-1.hsnap")]
    assert len(_wrote_lines(capfd.readouterr().err)) == 1
    snap = heapscope.load(tmp_path / "m-1.hsnap")
    assert (snap.heap() & snap.Clodo(f"{__name__}.Marker")).count == len(kept)


def test_a_failed_dump_is_reported_not_raised(tmp_path, capfd):
    with pytest.raises(MemoryError):
        with heapscope.dump_on_memory_error(tmp_path / "gone" / "m.hsnap") as trigger:
            raise MemoryError
    assert trigger.dumps == []
    err = capfd.readouterr().err
    assert err.startswith(f"heapscope: could not write snapshot {tmp_path / 'gone' / 'm.hsnap'}: "), err


@needs_proc
def test_rss_trigger_from_its_thread(tmp_path, capfd):
    trigger = heapscope.dump_when(rss_above=1, path=tmp_path / "r-{n}.hsnap", interval=0.02)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not trigger.dumps and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        trigger.cancel()
    assert trigger.dumps == [str(tmp_path / "r-1.hsnap")]  # always above 1 byte: once
    assert heapscope.load(trigger.dumps[0]).info["pid"] == str(os.getpid())
    assert len(_wrote_lines(capfd.readouterr().err)) == 1


class Marker:
    pass
