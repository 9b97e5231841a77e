"""heapscope's pytest plugin (registered through the ``pytest11`` entry point; disable
with ``-p no:heapscope``).

Mark a test ``@pytest.mark.heapscope_leaks(rounds=5, allow=(...))``, or pass
``--heapscope-leaks`` to check every test. A checked test's body runs once to warm
caches, then a reference point is taken, the body runs ``rounds`` more times, and the
kinds whose survivors grew with the rounds fail the test with heapscope's report: the
census per round, and for the largest kinds the shortest path that keeps them alive and
their retained size. Fixtures are set up once, before the reference point, so their
objects are never reported. Unmarked tests cost one marker lookup.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from .leaks import LeakError, check

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
        "--heapscope-rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"rounds per checked test after the warm-up run (default {DEFAULT_ROUNDS})",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(rounds={DEFAULT_ROUNDS}, allow=()): run the test body once to warm up and "
        "`rounds` more times; fail, explaining why, if objects survive and grow with the rounds",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    every = config.getoption("--heapscope-leaks")
    default_rounds = config.getoption("--heapscope-rounds")
    for item in items:
        marker = item.get_closest_marker(MARKER)
        if marker is None and not every:
            continue
        rounds, allow = default_rounds, ()
        if marker is not None:
            if marker.args:
                raise pytest.UsageError(f"{MARKER} takes keyword arguments only (rounds=, allow=): {item.nodeid}")
            rounds = marker.kwargs.get("rounds", rounds)
            allow = tuple(marker.kwargs.get("allow", ()))
        item.runtest = _checked(item, item.runtest, rounds, allow)  # type: ignore[method-assign]


def _checked(item: pytest.Item, runtest: Callable[[], None], rounds: int, allow: tuple[Any, ...]) -> Callable[[], None]:
    """The item's body, run once to warm up and ``rounds`` more times under a check."""

    def run() -> None:
        __tracebackhide__ = True
        report = check(runtest, rounds, allow, what=item.name)
        if report:
            raise LeakError(report)

    return run
