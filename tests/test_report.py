"""``heapscope report``: one self-contained HTML file about a snapshot or a profile.

The data a report embeds (its ``heapscope-data`` JSON) agrees with the Python API on the
same file; the page references nothing outside itself; bad input is one line on stderr
and exit code 2. tests/test_viewer_ui.py checks that a browser draws it offline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import heapscope
from heapscope.cli import main
from heapscope.stat import Stat
from heapscope.viewer.report import asset, profile_series

# A program holding 700 instances of a class of its own in a module-level list (a leak
# suspect), profiled while it grows, then dumped.
APP = '''
class ReportLeakItem:
    __slots__ = ("i", "payload")  # no instance dict on any version (3.10 would make one)

    def __init__(self, i):
        self.i = i
        self.payload = bytes(1000)

HOLD = []
'''

DRIVER = '''
import sys, time
sys.path.insert(0, sys.argv[1])
import heapscope, reportapp
out = sys.argv[2]
with heapscope.profile(out + "/mem.hpy", interval=0.05):
    for i in range(7):
        reportapp.HOLD.extend(reportapp.ReportLeakItem(j) for j in range(100))
        time.sleep(0.06)
heapscope.dump(out + "/app.hsnap")
'''

ITEMS = 700
KIND = "reportapp.ReportLeakItem"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("report")
    app = root / "app"
    app.mkdir()
    (app / "reportapp.py").write_text(APP)
    subprocess.run([sys.executable, "-c", DRIVER, str(app), str(root)], check=True, timeout=300)
    return {"snapshot": root / "app.hsnap", "profile": root / "mem.hpy", "root": root}


def embedded(html: str) -> dict[str, Any]:
    """The data a report embeds."""
    m = re.search(r'<script type="application/json" id="heapscope-data">(.*?)</script>', html, re.S)
    assert m is not None, "no heapscope-data element"
    data: dict[str, Any] = json.loads(m.group(1))
    return data


def report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["report", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_self_contained(html: str) -> None:
    """Nothing the page would load from elsewhere: no external scripts, styles, images,
    frames or fetches."""
    assert re.search(r"<(script|img|iframe|link)\b[^>]*\b(src|href)\s*=", html, re.I) is None
    assert "@import" not in html
    assert "fetch(" not in html and "XMLHttpRequest" not in html
    assert "default-src 'none'" in html  # and the page's policy forbids it anyway


def test_snapshot_report_holds_the_census_retainers_and_suspects(files, capsys, tmp_path):
    out = tmp_path / "app.html"
    code, stdout, err = report(capsys, str(files["snapshot"]), "-o", str(out))
    assert (code, err) == (0, "") and stdout.strip() == f"wrote {out}"
    html = out.read_text(encoding="utf-8")
    assert_self_contained(html)
    data = embedded(html)
    assert data["kind"] == "snapshot"

    snap = heapscope.load(files["snapshot"])
    x = snap.heap()
    assert data["meta"]["path"] == str(files["snapshot"]) and data["meta"]["pid"] == snap.info["pid"]
    assert data["total"] == {"count": x.count, "size": x.size}
    by_kind = {r["kind"]: (r["count"], r["size"]) for r in data["census"]["clodo"]["rows"]}
    assert by_kind[KIND] == (ITEMS, next(r.size for r in x.byclodo.rows if r.name == KIND))
    assert by_kind["bytes"][0] >= ITEMS
    assert data["census"]["clodo"]["rows"] == [
        {"kind": r.name, "count": r.count, "size": r.size} for r in x.byclodo.rows[:30]
    ]
    assert data["census"]["type"]["rows"] == [
        {"kind": r.name, "count": r.count, "size": r.size} for r in x.bytype.rows[:30]
    ]
    assert data["census"]["clodo"]["kinds"] == len(x.byclodo.rows)

    retainers = snap.largest_retainers(10).rows
    assert [(r["retained"], r["objects"], r["kind"]) for r in data["retainers"]] == [
        (r.retained, r.objects, r.kind) for r in retainers
    ]
    # the list holding the items retains them: it is a suspect, found by its path
    holder = [s for s in data["suspects"] if "HOLD" in s["path"]]
    assert len(holder) == 1, data["suspects"]
    s = holder[0]
    assert s["name"].startswith("list: ") and "reportapp" in s["path"]
    kinds = {k["kind"]: k["count"] for k in s["retained_kinds"]}
    assert kinds[KIND] == ITEMS and kinds["bytes"] == ITEMS
    assert s["objects"] >= 2 * ITEMS + 1 and 0.1 <= s["share"] <= 1


def test_suspect_threshold_is_an_option(files, capsys, tmp_path):
    out = tmp_path / "none.html"
    code, _, err = report(capsys, str(files["snapshot"]), "-o", str(out), "--min-share", "100%")
    assert (code, err) == (0, "")
    assert embedded(out.read_text(encoding="utf-8"))["suspects"] == []


def test_profile_report_holds_the_series_and_the_last_census(files, capsys, tmp_path):
    out = tmp_path / "mem.html"
    code, _, err = report(capsys, str(files["profile"]), "-o", str(out))
    assert (code, err) == (0, "")
    html = out.read_text(encoding="utf-8")
    assert_self_contained(html)
    assert "uPlot" in html  # the graph's library is inlined
    data = embedded(html)
    records = list(heapscope.load_all(files["profile"]))
    assert len(records) >= 3 and data["meta"]["records"] == len(records)
    size = data["series"]["size"]
    assert size["times"] == [st.timemade for st in records]
    assert size["total"] == [st.size for st in records]
    assert data["series"]["count"]["total"] == [st.count for st in records]
    for by, column in (("size", 2), ("count", 1)):
        values = [{row[0]: row[column] for row in st.rows} for st in records]
        peak = {k: max(v.get(k, 0) for v in values) for v in values for k in v}
        largest = sorted(peak.values(), reverse=True)[:8]
        kinds = data["series"][by]["kinds"]
        assert [peak[k["kind"]] for k in kinds] == largest  # the 8 largest at their peak
        for k in kinds:
            assert k["values"] == [v.get(k["kind"], 0) for v in values]
    # the program grew between the first and the last record by its items
    counts = [dict((name, count) for name, count, _ in st.rows).get(KIND, 0) for st in records]
    assert counts[-1] == ITEMS and counts[0] < ITEMS
    last = records[-1]
    assert data["last"]["count"] == last.count and data["last"]["size"] == last.size
    assert data["last"]["rows"][:5] == [{"kind": k, "count": c, "size": s} for k, c, s in last.rows[:5]]


def test_output_defaults_to_the_input_name(files, capsys, tmp_path):
    copy = tmp_path / "copy.hpy"
    copy.write_bytes(files["profile"].read_bytes())
    code, _, _ = report(capsys, str(copy))
    assert code == 0 and embedded((tmp_path / "copy.hpy.html").read_text(encoding="utf-8"))["kind"] == "profile"


def test_profile_series_fills_missing_kinds_and_keeps_the_largest():
    records = [
        Stat(3, 300, "Kind", [("a", 1, 100), ("b", 2, 200)], timemade=1.0),
        Stat(5, 900, "Kind", [("c", 4, 800), ("a", 1, 100)], timemade=2.0),
    ]
    by_size = profile_series(records, "size", top=2)
    assert by_size["times"] == [1.0, 2.0] and by_size["total"] == [300, 900]
    assert by_size["kinds"] == [{"kind": "c", "values": [0, 800]}, {"kind": "b", "values": [200, 0]}]
    by_count = profile_series(records, "count", top=5)
    assert by_count["total"] == [3, 5]
    assert [k["kind"] for k in by_count["kinds"]] == ["c", "b", "a"]
    with pytest.raises(ValueError, match="'size' or 'count'"):
        profile_series(records, "retained")


def test_assets_cannot_end_their_inline_script_element():
    for name in ("report.js", "chart.js", "uplot.iife.min.js"):
        assert "</script" not in asset(name).lower(), name


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ("dir", "is a directory"),
        (b"hello, not a heap\n", "neither a heapscope snapshot"),
        (b".loader: _load_stat\n.format: SetFormat\n.count: 1\n", "not a readable profile"),
        (b"\x89HSN\r\n\x1a\ntruncated", "snapshot"),
    ],
    ids=["missing", "directory", "foreign", "truncated-profile", "damaged-snapshot"],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, content, message):
    path = tmp_path / "input"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    code, out, err = report(capsys, str(path), "-o", str(tmp_path / "out.html"))
    assert code == 2 and out == ""
    assert err.startswith("heapscope report: error: ") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "out.html").exists()


def test_unwritable_output_is_exit_2(files, capsys, tmp_path):
    code, _, err = report(capsys, str(files["profile"]), "-o", str(tmp_path / "no" / "such" / "dir.html"))
    assert code == 2 and "cannot write" in err and err.count("\n") == 1
