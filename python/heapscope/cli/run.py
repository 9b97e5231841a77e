"""``heapscope run [options] script.py args...`` / ``heapscope run [options] -m module
args...``: run a Python program in this process, as python would, with snapshot
triggers (:mod:`heapscope.triggers`) and a census file set up around it."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import re
import signal
import sys
from collections.abc import Iterator, Sequence

from ..dump_paths import DumpPaths, dump_path
from ..errors import HeapscopeError
from ..profile import profile
from ..triggers import RssTrigger, SignalTrigger, dump_now, dump_on_memory_error, dump_on_signal, dump_when, say
from .arguments import byte_size
from .command_error import CommandError
from .main_program import MainProgram

USAGE = """\
heapscope run [options] script.py [args ...]
       heapscope run [options] -m module [args ...]"""

#: Where signal, RSS and MemoryError snapshots go unless --dump-path says.
DEFAULT_DUMP_PATH = "heapscope-{pid}-{n}.hsnap"
DEFAULT_CENSUS_PATH = "heapscope-{pid}.hpy"

EXAMPLES = """\
The program runs in this process as with python: its sys.argv, __main__, exit status
(that of sys.exit; 1 after an uncaught exception, whose traceback is printed). Options
after the script name (or -m module) are the program's.

File names are patterns: {pid} the process id, {time} the time of the write
(20261201T094501), {n} 1, 2, 3... counted over all the snapshots of the run. Each
snapshot written prints one line on stderr:
  heapscope: wrote snapshot heapscope-4242-1.hsnap (183021 objects, 41.2 MB, 0.6 s)

examples:
  heapscope run --dump-on-exit end.hsnap app.py --port 8080
  heapscope run --dump-on-signal server.py &        then: kill -USR2 <pid>
  heapscope run --dump-on-signal USR1 --dump-path 'snap-{time}.hsnap' -m myservice
  heapscope run --dump-when-rss-above 2G --dump-on-memoryerror batch.py input.csv
  heapscope run --census-every 5 --census-path mem.hpy job.py   (heapscope.load_all('mem.hpy'))
  heapscope run --monitor server.py &               then: heapscope monitor <pid>
"""

#: The option whose value is optional: taken only when it is written as a signal.
SIGNAL_OPTION = "--dump-on-signal"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "run",
        help="run a Python program with snapshots on exit, on a signal, above an RSS, on MemoryError",
        description="Run a Python program (a script, or -m module) in this process, as python would, and "
        "write snapshots of its heap when it ends, when it receives a signal, when its resident memory "
        "crosses a size, or when a MemoryError goes uncaught; or a census every few seconds.",
        usage=USAGE,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    # the program's own options follow it: parsing stops there (see ProgramArgumentParser)
    p.__class__ = ProgramArgumentParser
    p.add_argument("--dump-on-exit", metavar="PATH", help="write a snapshot to PATH when the program ends "
                   "(returns, raises, or calls sys.exit)")
    p.add_argument(SIGNAL_OPTION, nargs="?", const="USR2", metavar="SIGNAL",
                   help="write a snapshot each time the process receives SIGNAL (default USR2; USR1, SIGUSR1 or "
                   "a number; a value is taken when written as a signal, in capitals or as a number)")
    p.add_argument("--dump-when-rss-above", type=byte_size, metavar="SIZE",
                   help="write a snapshot when the resident memory (RSS) goes above SIZE (500M, 2G); once, and "
                   "again after it fell below 90%% of SIZE (Linux)")
    p.add_argument("--rss-check-every", type=_seconds, default=1.0, metavar="SECONDS",
                   help="how often the RSS is read (default 1)")
    p.add_argument("--dump-on-memoryerror", action="store_true",
                   help="write a snapshot when a MemoryError goes uncaught (in the program or a thread)")
    p.add_argument("--dump-path", default=DEFAULT_DUMP_PATH, metavar="PATTERN",
                   help=f"file names of the signal, RSS and MemoryError snapshots (default {DEFAULT_DUMP_PATH})")
    p.add_argument("--monitor", action="store_true",
                   help="start the monitor's agent: 'heapscope monitor PID' opens a console in the program")
    p.add_argument("--listen", metavar="HOST:PORT",
                   help="with --monitor, also accept TCP connections there, with a token (its file is printed on stderr)")
    p.add_argument("--census-every", type=_seconds, metavar="SECONDS",
                   help="append a census (a Stat record of heap(), as heapscope.profile) every SECONDS, and one at "
                   "the start and the end")
    p.add_argument("--census-path", default=DEFAULT_CENSUS_PATH, metavar="PATTERN",
                   help=f"the census file (default {DEFAULT_CENSUS_PATH})")
    p.set_defaults(execute=execute, program=[])


class ProgramArgumentParser(argparse.ArgumentParser):
    """``heapscope run``'s parser: its options end where the program begins (the first
    word that is not an option or an option's value, ``-m``, or ``--``); the rest is the
    program's, in ``program`` (``["-m", name, ...]`` for a module)."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(sys.argv[1:] if args is None else args)
        options, program = self._split(words)
        parsed, extras = super().parse_known_args(options, namespace)
        parsed.program = program
        return parsed, extras

    def _split(self, words: list[str]) -> tuple[list[str], list[str]]:
        valued = {s for a in self._actions if a.nargs is None and a.option_strings for s in a.option_strings}
        i = 0
        while i < len(words):
            word = words[i]
            if word == "--":
                return words[:i], words[i + 1 :]
            if word == "-m" or (word.startswith("-m") and not word.startswith("--")):
                module = [word[2:]] if word != "-m" else []
                return words[:i], ["-m", *module, *words[i + 1 :]]
            if word == "-" or not word.startswith("-"):
                return words[:i], words[i:]
            if "=" not in word:
                if word in valued:
                    i += 1
                elif word == SIGNAL_OPTION and i + 1 < len(words) and _written_as_signal(words[i + 1]):
                    i += 1
            i += 1
        return words, []


def _written_as_signal(word: str) -> bool:
    return parse_signal(word) is not None or re.fullmatch(r"[A-Z][A-Z0-9]*|\d+", word) is not None


def parse_signal(text: str) -> signal.Signals | None:
    """``USR1``, ``SIGUSR1`` (any case) or a number, as a signal; ``None`` if none."""
    if text.isdigit():
        try:
            return signal.Signals(int(text))
        except ValueError:
            return None
    name = text.upper()
    name = name if name.startswith("SIG") else "SIG" + name
    found = getattr(signal.Signals, name, None)
    return found if isinstance(found, signal.Signals) else None


def _seconds(text: str) -> float:
    """A positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text!r}")
    return value


def _main_program(program: list[str]) -> MainProgram:
    if not program:
        raise CommandError("no program to run: give a script (heapscope run app.py) or a module (heapscope run -m app)")
    if program[0] == "-m":
        if len(program) < 2 or not program[1]:
            raise CommandError("-m needs a module name")
        return MainProgram.module_named(program[1], program[2:])
    return MainProgram.script(program[0], program[1:])


def _checked_pattern(pattern: str, option: str) -> str:
    """``pattern`` after checking its placeholders and that its directory exists (a
    mistake is said now, not when the program has run for hours)."""
    try:
        first = dump_path(pattern, 1)
    except ValueError as e:
        raise CommandError(f"{option}: {e}") from None
    directory = os.path.dirname(first) or "."
    if not os.path.isdir(directory):
        raise CommandError(f"{option}: no such directory: {directory}")
    return pattern


@contextlib.contextmanager
def _census(path: str, interval: float) -> Iterator[None]:
    """A census every ``interval`` seconds while the body runs; a failure is said on
    stderr, never raised over the program's own outcome."""
    recorder = profile(path, interval)
    try:
        recorder.__enter__()
    except OSError as e:
        raise CommandError(f"--census-path: cannot write {path}: {e.strerror or e}") from None
    try:
        yield
    finally:
        try:
            recorder.__exit__(None, None, None)
            say(f"heapscope: wrote {recorder.samples} census records to {path}")
        except (HeapscopeError, OSError) as e:
            say(f"heapscope: the census to {path} failed after {recorder.samples} records: {e}")


def execute(args: argparse.Namespace) -> int:
    program = _main_program(args.program)
    signum: signal.Signals | None = None
    if args.dump_on_signal is not None:
        signum = parse_signal(args.dump_on_signal)
        if signum is None:
            raise CommandError(f"{SIGNAL_OPTION}: unknown signal {args.dump_on_signal!r} (USR1, SIGUSR2, 10, ...)")
    numbering = itertools.count(1)  # {n}: one count over every snapshot of the run
    dump_pattern = _checked_pattern(args.dump_path, "--dump-path")
    exit_paths = None
    if args.dump_on_exit:
        exit_paths = DumpPaths(_checked_pattern(args.dump_on_exit, "--dump-on-exit"), numbering)
    census_file = dump_path(_checked_pattern(args.census_path, "--census-path"), 1) if args.census_every else None

    if args.listen and not args.monitor:
        raise CommandError("--listen needs --monitor")
    if args.monitor:
        _start_monitor(args.listen)

    triggers: list[SignalTrigger | RssTrigger] = []
    try:
        if signum is not None:
            triggers.append(dump_on_signal(dump_pattern, signum, numbering=numbering))
        if args.dump_when_rss_above is not None:
            try:
                triggers.append(dump_when(rss_above=args.dump_when_rss_above, path=dump_pattern,
                                          interval=args.rss_check_every, numbering=numbering))
            except HeapscopeError as e:
                raise CommandError(str(e)) from None
        status = _run(program, args, dump_pattern, numbering, census_file)
        if exit_paths is not None:
            dump_now(exit_paths)
    finally:
        for trigger in triggers:
            trigger.cancel()
    return status


def _start_monitor(listen: str | None) -> None:
    from ..monitor import enable

    try:
        agent = enable(listen)
    except HeapscopeError as e:
        raise CommandError(f"--monitor: {e}") from None
    if agent.tcp_address is not None:
        host, port = agent.tcp_address
        # the token is in a file only this user reads: never on a command line (ps shows those)
        say(f"heapscope monitor: listening on {host}:{port}; connect with: "
            f"heapscope monitor --connect {host}:{port} --token-file {agent.token_path}")


def _run(program: MainProgram, args: argparse.Namespace, dump_pattern: str, numbering: Iterator[int],
         census_file: str | None) -> int:
    """Run the program with the triggers that wrap it; its exit status."""
    with contextlib.ExitStack() as setup:  # a bad census path fails before the program runs
        if args.dump_on_memoryerror:
            setup.enter_context(dump_on_memory_error(dump_pattern, numbering=numbering))
        if census_file is not None:
            setup.enter_context(_census(census_file, args.census_every))
        around = setup.pop_all()
    try:
        with around:  # sees the program's exception: the MemoryError dump
            program.execute()
    except BaseException as e:  # the program's outcome: SystemExit, KeyboardInterrupt, an error
        return program.exit_status(e)
    return 0
