"""Static reports: one self-contained HTML file about a snapshot or a profile.

:func:`write_report` reads a snapshot (``.hsnap``) or a Stat profile file (what
``heapscope.profile`` writes) with the Python API and writes a single HTML file: the data
as JSON in a ``<script type="application/json">`` element, and the page's CSS and
JavaScript inline (``assets/report.css``, ``assets/report.js``; for a profile also
``assets/chart.js`` and the vendored uPlot, ``assets/uplot.*``). The file needs no server and loads nothing
from the network: it can be attached to a bug report or a CI artifact.

For a snapshot: its metadata, the census by kind and by type, the largest retainers and
the leak suspects with the paths keeping them alive. For a profile: the graph of the
largest kinds over time (:func:`profile_series`) and the census of the last record.
For a failed leak test (the pytest plugin's ``--heapscope-report DIR``,
:func:`write_leak_report`): a snapshot of the test's process, with the leak check's
findings first.
"""

from __future__ import annotations

import html
import json
import os
import re
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..snapshot import Snapshot
from ..stat import Stat

if TYPE_CHECKING:
    from ..leaks import LeakReport

#: Census rows shown per partition.
CENSUS_ROWS = 30
#: Largest retainers shown.
RETAINERS = 10
#: Kinds drawn separately in a profile graph (the rest is the total's remainder).
TOP_KINDS = 8


def asset(name: str) -> str:
    """The text of one of the viewer's static files (``assets/NAME``)."""
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def _rows(found: Any, limit: int) -> list[dict[str, Any]]:
    return [{"kind": r.name, "count": r.count, "size": r.size} for r in list(found)[:limit]]


def snapshot_data(snap: Snapshot, *, min_share: float = 0.1, suspects: int = 5) -> dict[str, Any]:
    """What a snapshot report shows, as JSON-ready data."""
    x = snap.heap()
    unreachable = snap.heapu()
    retainers = snap.largest_retainers(RETAINERS)
    found = snap.leak_suspects(min_share=min_share, limit=suspects)
    return {
        "kind": "snapshot",
        "meta": {"path": snap.path, **snap.info},
        "total": {"count": x.count, "size": x.size},
        "unreachable": {"count": unreachable.count, "size": unreachable.size},
        "census": {
            "clodo": {"rows": _rows(x.byclodo.rows, CENSUS_ROWS), "kinds": len(x.byclodo.rows)},
            "type": {"rows": _rows(x.bytype.rows, CENSUS_ROWS), "kinds": len(x.bytype.rows)},
        },
        "retainers": [
            {"kind": r.kind, "object": r.shown, "retained": r.retained, "share": r.share, "objects": r.objects}
            for r in retainers.rows
        ],
        "min_share": found.min_share,
        "suspects": [
            {
                "name": s.name,
                "address": s.object.address,
                "retained": s.retained,
                "share": s.share,
                "objects": s.dominated.count,
                "retained_kinds": _rows(s.dominated.by("Clodo").rows, 10),
                "path": s.path,
            }
            for s in _distinct(found.suspects)
        ],
    }


def leak_data(report: LeakReport) -> dict[str, Any]:
    """A failed leak check (:class:`heapscope.leaks.LeakReport`) as JSON-ready data: the
    kinds that grew, per round, and why each explained kind is alive."""
    return {
        "what": report.what,
        "rounds": report.rounds,
        "warmup": report.warmup,
        "message": str(report),
        "kinds": [
            {
                "kind": k.name,
                "count": k.count,
                "size": k.size,
                "count_per_round": k.count // report.rounds,
                "size_per_round": k.size // report.rounds,
                "path": k.path,
                "retained": k.retained,
                "note": k.note,
            }
            for k in report.kinds
        ],
    }


def report_name(test_id: str) -> str:
    """A file name (without suffix) for a test's id: ``tests/test_a.py::test_b[x]`` ->
    ``tests_test_a.py__test_b_x``."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_id.replace("::", "__")).strip("_.")
    return name[:150] or "test"


def write_leak_report(report: LeakReport, directory: str | os.PathLike[str], test_id: str) -> tuple[str, str]:
    """For a failed leak check, while its leaked objects are alive: a snapshot of this
    process (``DIR/NAME.hsnap``) and its report with the leak check first
    (``DIR/NAME.html``). Returns both paths."""
    from ..snapshot import dump, load

    os.makedirs(directory, exist_ok=True)
    base = os.path.join(os.fspath(directory), report_name(test_id))
    snapshot_path, html_path = base + ".hsnap", base + ".html"
    dump(snapshot_path)
    data = snapshot_data(load(snapshot_path))
    data["leak"] = leak_data(report)
    data["meta"] = {"test": test_id, **data["meta"]}
    write_report(data, html_path)
    return html_path, snapshot_path


def _distinct(suspects: list[Any]) -> list[Any]:
    """Each suspect once: ``leak_suspects`` of a snapshot can name one object twice when
    two dominators of one chain lead to it (its check compares node proxies by
    identity), and a report lists objects, not chains."""
    seen: set[int] = set()
    out = []
    for s in suspects:
        if s.object.address not in seen:
            seen.add(s.object.address)
            out.append(s)
    return out


def profile_series(records: list[Stat], by: str = "size", top: int = TOP_KINDS) -> dict[str, Any]:
    """The profile graph's data: the record times, the totals and, for the ``top`` kinds
    largest at any time (by ``size`` or ``count``), their values at each record (0 when
    a record lacks the kind)."""
    if by not in ("size", "count"):
        raise ValueError(f"by is 'size' or 'count', not {by!r}")
    column = 2 if by == "size" else 1
    per_record = [{row[0]: row[column] for row in st.rows} for st in records]
    peak: dict[str, int] = {}
    for values in per_record:
        for kind, v in values.items():
            peak[kind] = max(peak.get(kind, 0), v)
    largest = sorted(peak, key=lambda k: (-peak[k], k))[:top]
    return {
        "by": by,
        "times": [st.timemade for st in records],
        "total": [st.size if by == "size" else st.count for st in records],
        "kinds": [{"kind": k, "values": [values.get(k, 0) for values in per_record]} for k in largest],
        "records": len(records),
    }


def profile_data(path: str, records: list[Stat]) -> dict[str, Any]:
    """What a profile report shows, as JSON-ready data: both graphs (by size and by
    count) and the census of the last record."""
    last = records[-1]
    return {
        "kind": "profile",
        "meta": {"path": path, "records": len(records), "first": records[0].timemade, "last": last.timemade},
        "series": {"size": profile_series(records, "size"), "count": profile_series(records, "count")},
        "last": {
            "count": last.count,
            "size": last.size,
            "kindheader": last.kindheader,
            "rows": [{"kind": k, "count": c, "size": s} for k, c, s in last.rows[:CENSUS_ROWS]],
            "kinds": len(last.rows),
        },
    }


def _script_json(data: dict[str, Any]) -> str:
    """JSON safe inside a ``<script>`` element: no ``<`` can end it or open a comment."""
    return json.dumps(data).replace("<", "\\u003c")


def _inline_script(code: str) -> str:
    # "</script" cannot occur in the assets (the report test checks); this keeps it so
    return "<script>\n" + code.replace("</script", "<\\/script") + "\n</script>"


def render(data: dict[str, Any]) -> str:
    """The report's HTML for ``data`` (:func:`snapshot_data` or :func:`profile_data`)."""
    title = f"heapscope report: {os.path.basename(str(data['meta'].get('path', '')))}"
    styles = [asset("report.css")]
    scripts = []
    if data["kind"] == "profile":
        styles.insert(0, asset("uplot.min.css"))
        scripts += [asset("uplot.iife.min.js"), asset("chart.js")]
    scripts.append(asset("report.js"))
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            # nothing but what is inline: a report never reaches the network
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">",
            f"<title>{html.escape(title)}</title>",
            *(f"<style>\n{css}\n</style>" for css in styles),
            "</head>",
            "<body>",
            f'<script type="application/json" id="heapscope-data">{_script_json(data)}</script>',
            '<main id="report"><noscript>This report is drawn by JavaScript; the data is in the '
            "heapscope-data element of the page's source.</noscript></main>",
            *(_inline_script(js) for js in scripts),
            "</body>",
            "</html>",
        ]
    )


def write_report(data: dict[str, Any], output: str | os.PathLike[str]) -> None:
    """Write the report of ``data`` to ``output`` (replaced only when complete)."""
    text = render(data)
    where = os.fspath(output)
    partial = f"{where}.partial"
    with open(partial, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(partial, where)
