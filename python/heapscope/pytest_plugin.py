"""heapscope's pytest plugin (registered through the ``pytest11`` entry point; disable
with ``-p no:heapscope``).

Mark a test ``@pytest.mark.heapscope_leaks(rounds=5, allow=(...), warmup=1)``, or pass
``--heapscope-leaks`` to check every test. A checked test's body runs once (``warmup``
times) to warm caches, then a reference point is taken, the body runs ``rounds`` more
times, and the kinds whose survivors grew with the rounds fail the test with heapscope's
report: the census per round, and for the largest kinds the shortest path that keeps
them alive and their retained size. Fixtures are set up once, before the reference
point, so their objects are never reported; neither is what pytest keeps (warnings it
records, captured log records: see :mod:`heapscope.leaks`), nor what modules'
``__warningregistry__`` hold (pytest's warnings plugin changes the warning filters for
every test, which clears them). Unmarked tests cost one marker lookup.

``--heapscope-report DIR`` writes, for each test failing its check, a self-contained HTML
report (``DIR/<test>.html``: the kinds that grew and why they are alive, then the
census, largest retainers and leak suspects of the process) and the snapshot it was made
from (``DIR/<test>.hsnap``), and names both in the failure.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from .leaks import LeakError, LeakReport, check

MARKER = "heapscope_leaks"
DEFAULT_ROUNDS = 5


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("heapscope", "heapscope leak checks")
    group.addoption(
        "--heapscope-leaks",
        action="store_true",
        default=False,
        help="check every test for objects that survive and grow with repeated runs",
    )
    group.addoption(
        "--heapscope-report",
        metavar="DIR",
        default=None,
        help="for each test failing a leak check, write DIR/<test>.html (the leak, the census, "
        "the largest retainers, leak suspects) and DIR/<test>.hsnap (a snapshot of the process "
        "while the leaked objects are alive: heapscope view it)",
    )
    group.addoption(
        "--heapscope-rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"rounds per checked test after the warm-up run (default {DEFAULT_ROUNDS})",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(rounds={DEFAULT_ROUNDS}, allow=(), warmup=1): run the test body `warmup` times "
        "and `rounds` more times; fail, explaining why, if objects survive and grow with the rounds",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    every = config.getoption("--heapscope-leaks")
    default_rounds = config.getoption("--heapscope-rounds")
    # pytest's warnings plugin changes the warning filters for every test, which clears
    # the modules' __warningregistry__ (without it, what they hold is checked)
    registries = config.pluginmanager.has_plugin("warnings")
    for item in items:
        marker = item.get_closest_marker(MARKER)
        if marker is None and not every:
            continue
        rounds, allow, warmup = default_rounds, (), 1
        if marker is not None:
            unknown = set(marker.kwargs) - {"rounds", "allow", "warmup"}
            if marker.args or unknown:
                raise pytest.UsageError(
                    f"{MARKER} takes the keyword arguments rounds=, allow= and warmup= only: {item.nodeid}"
                )
            rounds = marker.kwargs.get("rounds", rounds)
            allow = tuple(marker.kwargs.get("allow", ()))
            warmup = marker.kwargs.get("warmup", warmup)
        item.runtest = _checked(  # type: ignore[method-assign]
            item, item.runtest, rounds, allow, warmup, registries, config.getoption("--heapscope-report")
        )


def _checked(
    item: pytest.Item,
    runtest: Callable[[], None],
    rounds: int,
    allow: tuple[Any, ...],
    warmup: int,
    registries: bool,
    report_dir: str | None,
) -> Callable[[], None]:
    """The item's body, run ``warmup`` times and ``rounds`` more times under a check."""

    def run() -> None:
        __tracebackhide__ = True
        report = check(runtest, rounds, allow, what=item.name, warmup=warmup, registries=registries)
        if report:
            note = None if report_dir is None else _write_report(report, report_dir, item.nodeid)
            raise LeakError(report, note)

    return run


def _write_report(report: LeakReport, directory: str, test_id: str) -> str:
    """The HTML report and snapshot of a failed check, written now (the leaked objects
    are alive); the line the failure adds. Failing to write them is said, not raised:
    the test fails for its leak either way."""
    from .viewer.report import write_leak_report

    try:
        html_path, snapshot_path = write_leak_report(report, directory, test_id)
    except Exception as e:  # noqa: BLE001 - the leak is the failure to report
        return f"heapscope: could not write the report into {directory}: {type(e).__name__}: {e}"
    return f"heapscope report: {html_path} (snapshot: {snapshot_path})"
