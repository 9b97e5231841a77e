"""The pytest plugin and assert_no_leaks: leaking tests fail with the kind and a path that
names the container; tests whose caches fill on the first run pass."""

from __future__ import annotations

import re

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
