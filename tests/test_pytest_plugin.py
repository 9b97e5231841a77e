"""The pytest plugin and assert_no_leaks: leaking tests fail with the kind and a path that
names the container; tests whose caches fill on the first run pass."""

from __future__ import annotations

import json
import re
import warnings

import pytest

import heapscope

pytest_plugins = ["pytester"]

LEAKY_TESTS = '''
import functools
import logging

import pytest

_CACHE = []


class Record:
    def __init__(self, n):
        self.n = n
        self.data = bytearray(100)


class Registry:
    entries = []


class Service:
    @functools.lru_cache(maxsize=None)
    def lookup(self, key):
        return [key]


class Bus:
    callbacks = []


@pytest.mark.heapscope_leaks(rounds=4)
def test_module_list():
    _CACHE.append(Record(len(_CACHE)))


@pytest.mark.heapscope_leaks(rounds=4)
def test_class_registry():
    Registry.entries.append(Record(0))


@pytest.mark.heapscope_leaks(rounds=4)
def test_lru_cache_on_a_method():
    Service().lookup(1)


@pytest.mark.heapscope_leaks(rounds=4)
def test_logging_handler_per_call():
    logging.getLogger("leaky.app").addHandler(logging.NullHandler())


@pytest.mark.heapscope_leaks(rounds=4)
def test_closure_registered_as_callback():
    payload = bytearray(500)
    Bus.callbacks.append(lambda: len(payload))
'''

CLEAN_TESTS = '''
import functools
import logging

import pytest

_memo = {}


@functools.lru_cache(maxsize=None)
def parse(text):
    return text.split()


@pytest.mark.heapscope_leaks(rounds=5)
def test_cache_filled_on_the_first_run():
    _memo.setdefault("config", [bytearray(64) for _ in range(10)])
    assert parse("a b c") == ["a", "b", "c"]


@pytest.mark.heapscope_leaks(rounds=5)
def test_temporaries_die():
    data = [bytearray(100) for _ in range(100)]
    assert len(data) == 100


@pytest.mark.heapscope_leaks(rounds=5)
def test_logging_is_captured_by_pytest():
    logging.getLogger("clean.app").warning("records kept by pytest's log capture")


@pytest.fixture
def big_fixture():
    return [bytearray(1000) for _ in range(50)]


@pytest.mark.heapscope_leaks(rounds=5)
def test_fixture_objects_are_not_reported(big_fixture):
    big_fixture.append(None)
    big_fixture.pop()
'''


def failure_text(result: pytest.RunResult, test: str) -> str:
    text = result.stdout.str()
    start = text.index(f"_ {test} _")
    end = text.find("\n____", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_leaks_fail_with_kind_and_path(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_leaky=LEAKY_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=5)
    cases = {
        "test_module_list": ("test_leaky.Record", "['test_leaky'].__dict__['_CACHE']["),
        "test_class_registry": ("test_leaky.Record", ".__dict__['Registry'].__dict__['entries']["),
        "test_lru_cache_on_a_method": ("test_leaky.Service", ".__dict__['Service'].__dict__['lookup']"),
        "test_logging_handler_per_call": ("logging.NullHandler", "['leaky.app']"),
        "test_closure_registered_as_callback": ("bytearray", ".__dict__['Bus'].__dict__['callbacks']["),
    }
    for test, (kind, container) in cases.items():
        text = failure_text(result, test)
        assert "LeakError: heapscope: " in text, text
        assert re.search(rf"\n\s+1\s+\d+\s+{re.escape(kind)}\n", text), text
        paths = [ln.strip() for ln in text.splitlines() if "kept alive by: " in ln]
        assert any(container in p for p in paths), (test, paths)
        assert "retained: " in text
        assert "0x" not in text.replace("0x...", ""), text  # stable across runs


def test_warmed_caches_temporaries_and_fixtures_pass(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_clean=CLEAN_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_option_checks_every_test_and_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_unmarked="""
        _KEPT = []

        def test_leaks_unmarked():
            _KEPT.append(bytearray(10))
        """
    )
    assert pytester.runpytest("-p", "no:cacheprovider").ret == 0
    checked = pytester.runpytest("-p", "no:cacheprovider", "--heapscope-leaks", "--heapscope-rounds", "3")
    checked.assert_outcomes(failed=1)
    assert "over 3 rounds" in checked.stdout.str()
    disabled = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:heapscope", "--co")
    assert disabled.ret != 0 or "--heapscope-leaks" not in disabled.stdout.str()
    assert "heapscope_leaks" not in pytester.runpytest("-p", "no:heapscope", "--markers").stdout.str()


def test_allow_ignores_kinds(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_allowed="""
        import pytest
        _KEPT = []

        @pytest.mark.heapscope_leaks(rounds=3, allow=["bytearray", list])
        def test_allowed_kinds():
            _KEPT.append([bytearray(10)])
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_assert_no_leaks_outside_pytest() -> None:
    kept: list[object] = []

    class Session:
        pass

    with pytest.raises(heapscope.LeakError) as info:
        with heapscope.assert_no_leaks(rounds=10):
            for _ in range(10):
                kept.append(Session())
    report = info.value.report
    assert [k.name for k in report.kinds][:1] == [f"{Session.__module__}.{Session.__name__}"]
    assert report.kinds[0].count == 10
    assert isinstance(info.value, heapscope.HeapscopeError) and isinstance(info.value, AssertionError)
    assert "f_locals ['kept']" in str(info.value) or "f_locals['kept']" in str(info.value)

    with heapscope.assert_no_leaks(rounds=10):
        for _ in range(10):
            tmp = [Session() for _ in range(5)]
            del tmp

    calls = []

    @heapscope.assert_no_leaks(rounds=3)
    def leaky() -> None:
        calls.append(Session())

    with pytest.raises(heapscope.LeakError, match="leaky"):
        leaky()
    assert len(calls) == 4  # a warm-up call and three rounds

    with pytest.raises(ValueError):
        heapscope.assert_no_leaks(rounds=0)


def test_user_modules_named_like_the_runner_are_checked() -> None:
    import sys
    import types

    from heapscope.leaks import check

    module = types.ModuleType("heapscope_app")
    module.KEPT = []
    sys.modules["heapscope_app"] = module
    try:
        report = check(lambda: module.KEPT.append(bytearray(50)), rounds=4, what="append")
        assert [k.name for k in report.kinds] == ["bytearray"], str(report)
        assert "['heapscope_app'].__dict__['KEPT']" in (report.kinds[0].path or "")
    finally:
        del sys.modules["heapscope_app"]


WARNING_TESTS = '''
import itertools
import warnings

import pytest

_KEPT = []
_n = itertools.count()


class Session:
    pass


def test_deprecation_warning_every_round():
    warnings.warn("old api", DeprecationWarning)


def test_unique_user_warning_every_round():
    warnings.warn(f"message {next(_n)}", UserWarning)


def test_expected_warning():
    with pytest.warns(UserWarning):
        warnings.warn("expected", UserWarning)


def test_warns_and_leaks():
    warnings.warn("old api", DeprecationWarning)
    _KEPT.append(Session())
'''


def test_warnings_pytest_records_are_not_leaks(pytester: pytest.Pytester) -> None:
    # pytest records each warning in a list that warnings reaches through a bound
    # append (warnings._showwarnmsg_impl.__self__): the runner's, not the test's
    pytester.makepyfile(test_warnings=WARNING_TESTS)
    # shown once per message ("default", not this suite's "error"): each unique message
    # also lands in the module's __warningregistry__, which pytest's filters reset
    args = ("-p", "no:cacheprovider", "-W", "default::UserWarning", "--heapscope-leaks", "--heapscope-rounds", "4")
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=3, failed=1)
    text = failure_text(result, "test_warns_and_leaks")
    assert re.search(r"\n\s+1\s+\d+\s+test_warnings\.Session\n", text), text
    assert "['test_warnings'].__dict__['_KEPT'][" in text, text
    assert "WarningMessage" not in text and "_showwarnmsg" not in text and "__warningregistry__" not in text, text
    # without pytest's warnings plugin nothing resets the registries: unique messages
    # pile up in the module's __warningregistry__, and that is reported
    with warnings.catch_warnings(record=True):  # recorded here, not by this suite's pytest
        warnings.simplefilter("default")  # once per message, not this suite's "error"
        result = pytester.runpytest(*args, "-p", "no:warnings")
    result.assert_outcomes(passed=2, failed=2)
    text = failure_text(result, "test_unique_user_warning_every_round")
    assert "['test_warnings'].__dict__['__warningregistry__']" in text, text


CACHE_TESTS = '''
import fnmatch
import functools
import itertools
import json
import re
import sqlite3
import time

import pytest

_n = itertools.count()
_cache = {}
_conn = sqlite3.connect(":memory:")


@pytest.fixture(scope="module", autouse=True)
def close_connection():
    yield
    _conn.close()  # else 3.13 warns (ResourceWarning) whenever it is collected


@functools.lru_cache(maxsize=64)
def bounded(key):
    return [key]


@functools.lru_cache(maxsize=None)
def unbounded(key):
    return [key]


def remember(key):
    _cache[key] = [key]


def test_re_cache():
    re.compile(f"item-{next(_n)}-(\\\\d+)")


def test_lru_cache_with_maxsize():
    bounded(next(_n))


def test_fnmatch_cache():
    fnmatch.fnmatch("x", f"*{next(_n)}*")


def test_strptime_cache():
    suffix = "x" * (next(_n) % 12)
    time.strptime("2024" + suffix, "%Y" + suffix)


def test_sqlite_cursors():
    assert _conn.execute("select 1").fetchone() == (1,)


def test_unbounded_lru_cache():
    unbounded(next(_n))


def test_own_cache():
    remember(next(_n))


@pytest.mark.heapscope_leaks(allow=[_cache])
def test_own_cache_allowed():
    remember(next(_n))
'''


def test_bounded_caches_are_not_leaks_and_cache_like_leaks_say_how_to_allow(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_caches=CACHE_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--heapscope-leaks", "--heapscope-rounds", "4")
    result.assert_outcomes(passed=6, failed=2)
    text = failure_text(result, "test_unbounded_lru_cache")
    assert "['test_caches'].__dict__['unbounded']->cache" in text, text
    assert (
        "note: test_caches.unbounded is an unbounded functools.lru_cache (maxsize=None)" in text
        and "allow=[test_caches.unbounded]" in text
    ), text
    text = failure_text(result, "test_own_cache")
    assert "kept alive by: hpy().Root.i0_modules['test_caches'].__dict__['_cache'][" in text, text
    assert "note: test_caches._cache looks like a cache" in text and "allow=[test_caches._cache]" in text, text


def test_with_block_warms_up_and_reports_whole_numbers(tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    # a module imported on first use: its objects appear in the first round only
    (tmp_path / "lazy_heavy_mod.py").write_text(
        "TABLE = {i: str(i) * 3 for i in range(300)}\nclass A:\n    pass\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    def first_use() -> None:
        import lazy_heavy_mod  # noqa: F401

    # rounds iterated in the block: a warm-up round, then 4 checked ones
    with heapscope.assert_no_leaks(rounds=4) as rounds:
        for _ in rounds:
            first_use()
    assert rounds.checked == 4
    del sys.modules["lazy_heavy_mod"]

    # a block that does not iterate has no warm-up: the import counts, in whole numbers
    with pytest.raises(heapscope.LeakError) as info:
        with heapscope.assert_no_leaks(rounds=7):
            for _ in range(7):
                first_use()
    del sys.modules["lazy_heavy_mod"]
    text = str(info.value)
    assert "without a warm-up round" in text, text
    assert re.match(r"heapscope: the block leaks \d+ objects \(\d+ bytes\) per round over 7 rounds \(\d+ objects", text)
    rows = text.split("\n")[2 : 2 + len(info.value.report.kinds)]
    assert rows and all(re.fullmatch(r"\s+\d+\s+\d+  \S.*", row) for row in rows), rows

    kept: list[object] = []

    class Item:
        pass

    with pytest.raises(heapscope.LeakError) as info:
        with heapscope.assert_no_leaks(rounds=3, warmup=2) as rounds:
            for _ in rounds:
                kept.append(Item())
    assert len(kept) == 5  # two warm-up rounds and three checked ones
    item_kind = f"{Item.__module__}.{Item.__name__}"
    assert [(k.name, k.count) for k in info.value.report.kinds][:1] == [(item_kind, 3)]
    assert re.search(rf"\n\s+1\s+\d+  {re.escape(item_kind)}\n", str(info.value)), str(info.value)
    assert "without a warm-up" not in str(info.value)

    with pytest.raises(heapscope.HeapscopeError, match="after 2 of 3 checked rounds"):
        with heapscope.assert_no_leaks(rounds=3) as rounds:
            for i in rounds:
                if i == 2:
                    break
    with pytest.raises(ValueError, match="warmup must be an int >= 0"):
        heapscope.assert_no_leaks(warmup=-1)


REPORTED_TESTS = '''
import pytest

_CACHE = []


class Record:
    def __init__(self, n):
        self.n = n
        self.data = bytearray(100)


@pytest.mark.heapscope_leaks(rounds=4)
def test_module_list():
    _CACHE.append(Record(len(_CACHE)))


@pytest.mark.heapscope_leaks(rounds=4)
def test_clean():
    Record(0)
'''


def _report_data(html_path: str) -> dict:
    with open(html_path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r'<script type="application/json" id="heapscope-data">(.*?)</script>', text, re.S)
    assert m is not None
    return json.loads(m.group(1))


def test_report_option_writes_a_report_and_snapshot_for_each_failing_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_reported=REPORTED_TESTS)
    out = pytester.path / "leak-reports"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--heapscope-report", str(out))
    result.assert_outcomes(failed=1, passed=1)
    name = "test_reported.py__test_module_list"
    assert sorted(p.name for p in out.iterdir()) == [f"{name}.hsnap", f"{name}.html"]
    text = failure_text(result, "test_module_list")
    assert f"heapscope report: {out / name}.html (snapshot: {out / name}.hsnap)" in text

    data = _report_data(str(out / f"{name}.html"))
    assert data["kind"] == "snapshot" and data["meta"]["test"] == "test_reported.py::test_module_list"
    leak = data["leak"]
    assert (leak["what"], leak["rounds"], leak["warmup"]) == ("test_module_list", 4, 1)
    record = next(k for k in leak["kinds"] if k["kind"] == "test_reported.Record")
    assert (record["count"], record["count_per_round"]) == (4, 1)
    assert "['test_reported'].__dict__['_CACHE'][" in record["path"] and record["retained"] > 0
    assert leak["message"].startswith("heapscope: test_module_list leaks ")

    # the snapshot was taken while the leaked objects were alive: the warm-up's and the rounds'
    snap = heapscope.load(str(out / f"{name}.hsnap"))
    records = snap.heap() & snap.Clodo("test_reported.Record")
    assert records.count == 5
    assert data["total"] == {"count": snap.heap().count, "size": snap.heap().size}


def test_report_that_cannot_be_written_is_said_and_the_test_fails_for_its_leak(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_reported=REPORTED_TESTS)
    blocker = pytester.path / "not-a-directory"
    blocker.write_text("")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--heapscope-report", str(blocker))
    result.assert_outcomes(failed=1, passed=1)
    text = failure_text(result, "test_module_list")
    assert "LeakError: heapscope: test_module_list leaks " in text
    assert f"heapscope: could not write the report into {blocker}: " in text
