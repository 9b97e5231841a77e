"""The viewer's page and the static report, in a real browser (headless Chromium driven
by Playwright, as tests/consumers/devtools_summary.py finds it; nothing is downloaded).

* The static report (``heapscope report``) opened from ``file://`` with every other
  request refused: it draws the census, the leak suspects and the profile graph offline.
* The live viewer (``heapscope.viewer.server`` over a snapshot pair and a profile): a
  census row, an object, a referrer and a path are clicked through; the dominator tree is
  expanded; markers A and B on the profile graph give the difference table; live mode
  picks up a record appended to the profile. Until the server exists these tests skip.

Playwright or Chromium missing skips the tests, unless HEAPSCOPE_REQUIRE_CONSUMERS=1 (as
in tests/test_export_consumers.py), which makes it a failure. With
HEAPSCOPE_UPDATE_SCREENSHOTS=1 the live tests write the screenshots docs/viewer.md
shows into docs/images/ (else into the test's temporary directory).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import heapscope
from heapscope.cli import main
from heapscope.stat import Stat

from .test_report import APP, DRIVER, ITEMS, KIND

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO / "docs" / "images"
REQUIRE = os.environ.get("HEAPSCOPE_REQUIRE_CONSUMERS") == "1"
UPDATE_SCREENSHOTS = os.environ.get("HEAPSCOPE_UPDATE_SCREENSHOTS") == "1"
TIMEOUT_MS = 30_000


def _load_consumer(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"heapscope_consumers_{name}", REPO / "tests" / "consumers" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


devtools_summary = _load_consumer("devtools_summary")


def _unavailable(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"{reason} (HEAPSCOPE_REQUIRE_CONSUMERS=1: .ci/install-consumers should have installed it)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright; no browser download needed)")
        raise AssertionError from None  # not reached
    chromium = devtools_summary.find_chromium()
    if chromium is None:
        _unavailable("Chromium is not installed (apt-get install chromium, or set HEAPSCOPE_CHROMIUM)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"], headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page whose script errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield pg
    context.close()
    assert errors == [], errors


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A snapshot and a profile of a program holding ITEMS instances of KIND (as
    tests/test_report.py makes them), and a snapshot of the same process before."""
    root = tmp_path_factory.mktemp("viewer")
    app = root / "app"
    app.mkdir()
    (app / "reportapp.py").write_text(APP)
    before = DRIVER.replace("with heapscope.profile", 'heapscope.dump(out + "/before.hsnap")\nwith heapscope.profile')
    subprocess.run([sys.executable, "-c", before, str(app), str(root)], check=True, timeout=300)
    return {"before": root / "before.hsnap", "snapshot": root / "app.hsnap", "profile": root / "mem.hpy", "root": root}


def screenshot(pg: Any, name: str, tmp_path: Path) -> None:
    target = IMAGES / name if UPDATE_SCREENSHOTS else tmp_path / name
    target.parent.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(target), full_page=False)
    assert target.stat().st_size > 1000


# -- the static report, offline ------------------------------------------------------


def offline(pg: Any) -> list[str]:
    """Refuses every request but file:// and data: ones; returns the refused URLs."""
    refused: list[str] = []

    def handle(route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    pg.route("**/*", handle)
    return refused


def write_report(source: Path, out: Path) -> str:
    assert main(["report", str(source), "-o", str(out)]) == 0
    return out.as_uri()


def test_snapshot_report_renders_offline(page, files, tmp_path, capsys):
    url = write_report(files["snapshot"], tmp_path / "app.html")
    capsys.readouterr()
    refused = offline(page)
    page.goto(url)
    page.wait_for_selector("body[data-rendered='1']")
    census = page.locator("#census-clodo tbody tr")
    assert census.count() == 30
    row = page.locator("#census-clodo tbody tr", has_text=KIND)
    assert row.locator("td").nth(1).inner_text() == str(ITEMS)
    assert page.locator("#census-type-table tbody tr", has_text="ReportLeakItem").count() == 1
    suspect = page.locator("#suspects .suspect", has_text="HOLD")
    assert suspect.count() == 1
    assert f"{ITEMS} {KIND}" in suspect.inner_text() and "reportapp" in suspect.locator("code.path").inner_text()
    assert page.locator("#retainers tbody tr").count() == 10
    assert "snapshot report" in page.locator("h1").inner_text()
    assert refused == []


def test_leak_report_shows_the_leak_check_first(page, files, tmp_path):
    """A failed leak test's report (the pytest plugin's --heapscope-report; the plugin's
    tests check what it writes): the kinds that grew and why, drawn offline."""
    from heapscope.leaks import LeakedKind, LeakReport
    from heapscope.viewer.report import leak_data, render, snapshot_data

    leak = LeakReport("test_hold", 4, [
        LeakedKind(KIND, 4, 4 * 1100, "hpy().Root.i0_modules['reportapp'].__dict__['HOLD'][0]", 4400, None),
        LeakedKind("bytes", 4, 4 * 1033, None, None, None),
    ])
    data = snapshot_data(heapscope.load(str(files["snapshot"])))
    data["leak"] = leak_data(leak)
    out = tmp_path / "leak.html"
    out.write_text(render(data), encoding="utf-8")
    refused = offline(page)
    page.goto(out.as_uri())
    page.wait_for_selector("body[data-rendered='1']")
    assert page.locator("h1").inner_text() == "heapscope leak report"
    assert page.locator("main > section").first.get_attribute("id") == "leak"
    rows = page.locator("#leak table.leaked tbody tr").all_inner_texts()
    assert [r.split("\t") for r in rows] == [["1", "1.1 KiB", KIND], ["1", "1.0 KiB", "bytes"]]
    why = page.locator("#leak .leaked-kind")
    assert why.count() == 1 and "HOLD" in why.locator("code.path").inner_text()
    assert page.locator("#suspects .suspect", has_text="HOLD").count() == 1  # the snapshot's part follows
    assert refused == []


def test_profile_report_draws_the_graph_offline(page, files, tmp_path, capsys):
    url = write_report(files["profile"], tmp_path / "mem.html")
    capsys.readouterr()
    refused = offline(page)
    page.goto(url)
    page.wait_for_selector("body[data-rendered='1']")
    canvas = page.locator("#profile-chart canvas")
    assert canvas.count() == 1
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    # the legend names the total and the largest kinds; the switch redraws by count
    legend = page.locator("#profile-chart .u-legend").inner_text()
    assert "total" in legend and "str" in legend
    page.click("button[data-by='count']")
    assert page.locator("button[data-by='count']").get_attribute("class") == "active"
    assert page.locator("#profile-chart canvas").count() == 1
    records = list(heapscope.load_all(files["profile"]))
    assert f"Profile: {len(records)} records" in page.locator("#profile h2").inner_text()
    assert page.locator("#census-last tbody tr").count() == min(30, len(records[-1].rows))
    assert refused == []


# -- the live viewer -----------------------------------------------------------------

HAVE_SERVER = importlib.util.find_spec("heapscope.viewer.server") is not None
needs_server = pytest.mark.skipif(
    not HAVE_SERVER, reason="the viewer's server (heapscope.viewer.server, branch viewer-api) is not merged yet"
)


@pytest.fixture(scope="module")
def viewer(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The viewer serving [before.hsnap, app.hsnap, a copy of the profile] (compared: 0, 1)."""
    from heapscope.viewer.loaded_files import open_file
    from heapscope.viewer.server import ViewerServer

    profile = tmp_path_factory.mktemp("live") / "growing.hpy"
    profile.write_bytes(files["profile"].read_bytes())
    loaded = [open_file(i, str(p)) for i, p in enumerate([files["before"], files["snapshot"], profile])]
    server = ViewerServer(loaded, compare=(0, 1))
    server.start_in_thread()
    try:
        yield {"url": server.url, "profile": profile}
    finally:
        server.shutdown()
        server.server_close()


def open_view(pg: Any, viewer: dict[str, Any], fragment: str) -> None:
    pg.goto(viewer["url"] + "#" + fragment)
    pg.wait_for_selector("main[data-ready='1']")


def wait_ready(pg: Any) -> None:
    pg.wait_for_selector("main[data-ready='1']")


def census_kinds(pg: Any) -> list[str]:
    return [t.strip() for t in pg.locator("table.census tbody tr td.kind").all_inner_texts()]


@needs_server
def test_census_row_object_referrer_and_path(page, viewer, tmp_path):
    open_view(page, viewer, "/snapshot/1")
    page.wait_for_selector("table.census tbody tr")
    assert "pid" in page.locator("#meta").inner_text()
    screenshot(page, "viewer-census.png", tmp_path)

    # sorting by clicking a header: by count, largest first, then smallest first
    page.click("table.census th:has-text('Count')")
    page.wait_for_selector("table.census th.sortable.desc:has-text('Count')")
    counts = [int(t) for t in page.locator("table.census tbody tr td:nth-child(2)").all_inner_texts()]
    assert counts == sorted(counts, reverse=True) and len(counts) == 50
    page.click("table.census th:has-text('Count')")
    page.wait_for_selector("table.census th.sortable.asc:has-text('Count')")
    counts = [int(t) for t in page.locator("table.census tbody tr td:nth-child(2)").all_inner_texts()]
    assert counts == sorted(counts)

    # the filter asks the server for the matching rows only
    page.fill("#census-filter", "ReportLeak")
    page.wait_for_function("() => [...document.querySelectorAll('table.census td.kind')].every(td => td.textContent.includes('ReportLeak'))")
    assert census_kinds(page) == [KIND]
    page.click(f"table.census tbody tr:has-text('{KIND}')")
    wait_ready(page)
    assert page.locator("main").get_attribute("data-view") == "row"
    assert f"{ITEMS} objects" in page.locator("#row h2.title").inner_text()
    assert page.locator("table.objects tbody tr").count() == 50
    # the row's summary arrives in a request of its own, after the objects
    page.wait_for_selector("table.referrer-kinds tbody tr")
    assert page.locator(".computing").count() == 0
    assert page.locator("table.referrer-kinds tbody tr", has_text="list").count() == 1
    assert page.locator("ol.paths li.path").count() >= 1

    # an object: its referrers include the list that holds it
    page.locator("table.objects tbody tr").first.click()
    wait_ready(page)
    assert page.locator("main").get_attribute("data-view") == "object"
    assert KIND in page.locator("#object h2.title").inner_text()
    holder = page.locator("table.referrers tbody tr", has_text="list")
    assert holder.count() == 1
    list_address = holder.locator("td.address").inner_text()
    assert page.locator("table.referents tbody tr", has_text="dict").count() >= 1 or \
        page.locator("table.referents tbody tr", has_text="bytes").count() >= 1
    holder.click()
    wait_ready(page)
    assert page.locator("#object h2.title .address").inner_text() == list_address
    assert page.locator("table.retained-kinds tbody tr", has_text=KIND).locator("td").first.inner_text() == str(ITEMS)

    # a path: clicking it shows its steps from the roots
    path = page.locator("ol.paths li.path").first
    assert "HOLD" in path.inner_text()
    path.click()
    steps = page.locator(".path-steps")
    steps.wait_for(state="visible")
    texts = steps.locator("li").all_inner_texts()
    assert texts[-1] == "['HOLD']" and any("reportapp" in t for t in texts)
    screenshot(page, "viewer-object-paths.png", tmp_path)


@needs_server
def test_dominator_tree_expands_lazily(page, viewer, tmp_path):
    open_view(page, viewer, "/snapshot/1/suspects")
    # (>= 1: leak_suspects of a snapshot can name the list twice, see retention.py's
    # ``obj is s.object`` on node proxies; the report lists it once)
    assert page.locator("#suspects .suspect", has_text="HOLD").count() >= 1
    # the whole tree first: a top node expands into its dominated objects
    open_view(page, viewer, "/snapshot/1/domtree")
    page.wait_for_selector("#domtree .node")
    top = page.locator("#domtree > div").first
    shares = page.locator("#domtree > div > .node .share").all_inner_texts()
    assert shares and all(t.strip().endswith("%") for t in shares)
    before = page.locator("#domtree .node").count()
    top.locator("button.toggle").first.click()
    top.locator("> .children .node").first.wait_for()
    assert page.locator("#domtree .node").count() > before
    assert top.locator("button.toggle").first.get_attribute("aria-expanded") == "true"
    screenshot(page, "viewer-dominator-tree.png", tmp_path)

    # from the suspect: the list's tree holds its items, each retaining its payload
    open_view(page, viewer, "/snapshot/1/suspects")
    page.locator("#suspects .suspect", has_text="HOLD").first.locator("a:has-text('open in the dominator tree')").click()
    wait_ready(page)
    page.wait_for_selector("#domtree .node")
    kinds = page.locator("#domtree > div > .node .kind").all_inner_texts()
    assert len(kinds) == 50 and set(kinds) == {KIND}
    assert page.locator("#domtree > button.more").inner_text().startswith(f"{ITEMS - 50} more")
    item = page.locator("#domtree > div").first
    item.locator("button.toggle").first.click()
    item.locator("> .children .node").first.wait_for()
    assert "bytes" in item.locator("> .children").inner_text()


@needs_server
def test_compare_shows_the_new_objects(page, viewer):
    open_view(page, viewer, "/compare?a=0&b=1")
    assert "one process" in page.locator("main").inner_text()
    new = page.locator("table.new tbody tr", has_text=KIND)
    assert new.locator("td").first.inner_text() == str(ITEMS)
    assert page.locator("table.by-kind tbody tr", has_text=KIND).locator("td").first.inner_text() == f"+{ITEMS}"


def plot_click(pg: Any, fraction: float) -> None:
    over = pg.locator("#profile-chart .u-over")
    box = over.bounding_box()
    assert box is not None
    over.click(position={"x": box["width"] * fraction, "y": box["height"] / 2})


@needs_server
def test_profile_markers_give_the_difference(page, viewer, tmp_path):
    records = list(heapscope.load_all(viewer["profile"]))
    open_view(page, viewer, "/profile/2")
    page.wait_for_selector("#profile-chart canvas")
    assert f"{len(records)} records" in page.locator("#profile-status").inner_text()
    expect = pytest.importorskip("playwright.sync_api").expect  # waits for the page to update
    plot_click(page, 0.01)
    expect(page.locator("#markers")).to_contain_text("A: record 0")
    plot_click(page, 0.99)
    last = len(records) - 1
    expect(page.locator("#markers")).to_contain_text("B: record ")
    # the right end of the plot: the last record, or the one before when both were
    # written within the same pixel (the profile's final record comes at its exit)
    b = int(re.search(r"B: record (\d+)", page.locator("#markers").inner_text()).group(1))
    assert b in (last - 1, last)
    page.wait_for_selector("table.profile-diff tbody tr")
    counts = [dict((name, count) for name, count, _ in st.rows).get(KIND, 0) for st in (records[0], records[b])]
    row = page.locator("table.profile-diff tbody tr", has_text=KIND)
    expect(row.locator("td").first).to_have_text(f"+{counts[1] - counts[0]}")
    assert counts[1] - counts[0] > 0
    screenshot(page, "viewer-profile.png", tmp_path)

    # live mode: a record appended to the file appears within a few seconds
    page.check("#live")
    final = records[-1]
    Stat(final.count + 1, final.size + 100, final.kindheader, [*final.rows, ("appended.Kind", 1, 100)],
         timemade=final.timemade + 1).dump(viewer["profile"])
    page.wait_for_function(
        f"() => document.querySelector('#profile-status').textContent.startsWith('{len(records) + 1} records')",
        timeout=10_000)
    assert re.search(r"A: record 0", page.locator("#markers").inner_text())
