"""Loads a V8 ``.heapsnapshot`` with Chrome DevTools' own heap snapshot code, in a
headless Chromium driven by Playwright, and returns (or prints as JSON) what the Memory
panel's Summary view would show.

The code that parses and aggregates a snapshot in DevTools is its heap snapshot worker
(``devtools://devtools/bundled/entrypoints/heap_snapshot_worker/heap_snapshot_worker.js``,
bundled in Chromium's resources). A page on the ``devtools://`` origin imports it as a
module and runs it in the page instead of a worker: ``HeapSnapshotLoader`` takes the
file's text in chunks, ``buildSnapshot`` builds the ``JSHeapSnapshot`` (the second
worker that computes dominators is the in-page ``SecondaryInitManager`` on a
``MessageChannel``, as DevTools' own tests do), and ``aggregatesWithFilter({})`` gives
the Summary view's rows: per class, count, shallow size and retained size.
``retainers()`` gives what the Retainers pane shows for the objects of a Summary row:
their retaining edges as the worker's ``createRetainingEdgesProvider`` lists and sorts
them for the pane, and the retainer path the pane expands by itself on selection.

    python tests/consumers/devtools_summary.py FILE.heapsnapshot [--top N]
    python tests/consumers/devtools_summary.py FILE.heapsnapshot --retainers CLASS [--id NODE_ID]

The browser is $HEAPSCOPE_CHROMIUM, else the first of /usr/lib/chromium/chromium,
chromium, chromium-browser, google-chrome found. Nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

WORKER = "devtools://devtools/bundled/entrypoints/heap_snapshot_worker/heap_snapshot_worker.js"
CHUNK = 4 << 20  # characters per write() into the page

_START = r"""
async () => {
  const m = await import(%(worker)s);
  window.__hsEvents = [];
  const dispatcher = {sendEvent: (name, params) => window.__hsEvents.push([name, params])};
  window.__hsLoader = new m.HeapSnapshotLoader.HeapSnapshotLoader(dispatcher);
  return true;
}
""" % {"worker": json.dumps(WORKER)}

_BUILD = r"""
async () => {
  const m = await import(%(worker)s);
  const loader = window.__hsLoader;
  loader.close();
  const channel = new MessageChannel();
  new m.HeapSnapshot.SecondaryInitManager(channel.port2);
  try {
    window.__hsSnap = await loader.buildSnapshot(channel.port1);
  } catch (e) {
    return {error: String(e && e.stack || e), progress: window.__hsEvents.slice(-3)};
  }
  return {};
}
""" % {"worker": json.dumps(WORKER)}

_SUMMARY = r"""
(top) => {
  const snap = window.__hsSnap;
  const nf = snap.nodeFieldCount;
  const classes = {};
  for (const a of Object.values(snap.aggregatesWithFilter({}))) {
    const row = classes[a.name] || (classes[a.name] = {count: 0, self_size: 0, retained_size: 0, distance: a.distance});
    row.count += a.count; row.self_size += a.self; row.retained_size += a.maxRet;
    row.distance = Math.min(row.distance, a.distance);
  }
  const node = snap.createNode(0);
  const rootOrdinal = snap.rootNodeIndexInternal / nf;
  const order = [];
  for (let i = 0; i < snap.nodeCount; i++) if (i !== rootOrdinal) order.push(i);
  order.sort((a, b) => snap.retainedSizes[b] - snap.retainedSizes[a] || a - b);
  const largest = [];
  for (const i of order) {
    if (largest.length >= top) break;
    node.nodeIndex = i * nf;
    if (node.isSynthetic && node.isSynthetic()) continue;
    largest.push({id: node.id(), type: node.type(), name: node.name(), class_name: node.className(),
                  self_size: node.selfSize(), retained_size: snap.retainedSizes[i], distance: node.distance()});
  }
  let unreachable = 0;
  for (let i = 0; i < snap.nodeCount; i++) { const d = snap.nodeDistances[i]; if (d < 0 || d >= 200000000) unreachable++; /* noDistance, baseUnreachableDistance */ }
  node.nodeIndex = snap.rootNodeIndexInternal;
  return {
    node_count: snap.nodeCount,
    edge_count: snap.containmentEdges.length / snap.edgeFieldsCount,
    root: {id: node.id(), name: node.name(), type: node.type(), retained_size: snap.retainedSizes[rootOrdinal]},
    unreachable_count: unreachable,
    statistics: snap.getStatistics(),
    classes,
    largest,
  };
}
"""


# The Retainers pane (panels/profiler: HeapSnapshotRetainmentDataGrid and its
# HeapSnapshotRetainingObjectNode) lists a node's retainers through the worker's
# createRetainingEdgesProvider (JSHeapSnapshot.retainingEdgesFilter: no edges from the
# root node, no weak or invisible ones), sorted by its default column, Distance,
# ascending: ComparatorConfig("!edgeDistance", true, "name", true) (the edge's
# distanceForRetainersView, then the retainer's name, then edge order). On selection it
# runs expandRetainersChain(20): it expands the node, then its first retainer while that
# one's distance is > 1 and below baseUnreachableDistance, at most 20 levels. "path" is
# that chain: the first row of each expanded level.
_RETAINERS = r"""
({className, ids, pathOf}) => {
  const snap = window.__hsSnap;
  const nf = snap.nodeFieldCount;
  const unreachable = 2e8;  // HeapSnapshotModel.baseUnreachableDistance
  const comparator = {fieldName1: "!edgeDistance", ascending1: true, fieldName2: "name", ascending2: true};
  const node = snap.createNode(0);
  const describe = (nodeIndex) => {
    node.nodeIndex = nodeIndex;
    return {id: node.id(), ordinal: nodeIndex / nf, type: node.type(), name: node.name(),
            class_name: node.className(), self_size: node.selfSize(),
            retained_size: node.retainedSize(), distance: node.distance()};
  };
  const retainersOf = (nodeIndex) => {
    const provider = snap.createRetainingEdgesProvider(nodeIndex);
    provider.sortAndRewind(comparator);
    const items = provider.serializeItemsRange(0, 1 << 30).items;
    return items.map(e => ({
      edge_type: e.type, edge_name: String(e.name),
      edge_text: e.type === "element" ? `[${e.name}]` : String(e.name),  // as the pane prints it
      distance: e.node.distance,  // the Distance column: the edge's distanceForRetainersView
      node: describe(e.node.nodeIndex),
    }));
  };
  const firstPath = (nodeIndex) => {
    const steps = [];
    let levels = 20;
    for (;;) {
      const rows = retainersOf(nodeIndex);
      if (rows.length === 0) break;
      steps.push(rows[0]);
      if (--levels <= 0 || !(rows[0].distance > 1 && rows[0].distance < unreachable)) break;
      nodeIndex = rows[0].node.ordinal * nf;
    }
    return steps;
  };
  // the objects a Summary row lists (aggregatesWithFilter's idxs), in node order
  let idxs = [];
  for (const a of Object.values(snap.aggregatesWithFilter({}))) if (a.name === className) idxs = idxs.concat(Array.from(a.idxs));
  idxs.sort((a, b) => a - b);
  const wanted = ids ? new Set(ids) : null;
  const objects = [];
  for (const i of idxs) {
    const o = describe(i);
    if (wanted && !wanted.has(o.id)) continue;
    o.retainers = retainersOf(i);
    if (pathOf === null ? objects.length === 0 : o.id === pathOf) o.path = firstPath(i);
    objects.push(o);
  }
  return {class_name: className, count: idxs.length, objects};
}
"""


def find_chromium() -> str | None:
    """The Chromium (or Chrome) binary to use, or None."""
    env = os.environ.get("HEAPSCOPE_CHROMIUM")
    if env:
        return env if os.access(env, os.X_OK) else None
    # Debian's /usr/bin/chromium is a shell wrapper; the binary itself is started directly
    for cand in ("/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = cand if os.path.isabs(cand) and os.access(cand, os.X_OK) else shutil.which(cand)
        if found:
            return found
    return None


@contextlib.contextmanager
def _snapshot_page(path: str | os.PathLike[str], executable: str | None,
                   timeout_ms: float) -> Iterator[tuple[Any, str]]:
    """A page of headless Chromium in which DevTools has built the snapshot at ``path``
    (as ``window.__hsSnap``), and the browser's version."""
    from playwright.sync_api import sync_playwright

    exe = executable or find_chromium()
    if exe is None:
        raise FileNotFoundError("no Chromium found (set HEAPSCOPE_CHROMIUM)")
    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=args, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(timeout_ms)
            page.goto(WORKER)  # any devtools:// page will do; this one is the lightest
            page.evaluate(_START)
            with open(path, encoding="utf-8", newline="") as f:
                while True:
                    chunk = f.read(CHUNK)
                    if not chunk:
                        break
                    page.evaluate("c => window.__hsLoader.write(c)", chunk)
            built = page.evaluate(_BUILD)
            if "error" in built:
                raise RuntimeError(f"DevTools could not load {os.fspath(path)}: {built['error']}")
            yield page, browser.version
        finally:
            browser.close()


def summarize(path: str | os.PathLike[str], *, top: int = 10, executable: str | None = None,
              timeout_ms: float = 600_000) -> dict[str, Any]:
    """DevTools' reading of the snapshot at ``path``: node and edge counts, the Summary
    view's rows by class name (count, self_size, retained_size, distance), the root's
    retained size, DevTools' statistics, and the ``top`` nodes by retained size.
    Raises RuntimeError with DevTools' message when it cannot load the file."""
    with _snapshot_page(path, executable, timeout_ms) as (page, version):
        result = page.evaluate(_SUMMARY, top)
        result["chromium_version"] = version
    result["file"] = os.path.abspath(path)
    return result


def retainers(path: str | os.PathLike[str], class_name: str, *, ids: list[int] | None = None,
              path_of: int | None = None, executable: str | None = None,
              timeout_ms: float = 600_000) -> dict[str, Any]:
    """What DevTools' Retainers pane shows for the objects of the Summary row
    ``class_name`` (all of them, or those whose node id is in ``ids``), in node order:
    ``{"class_name", "count" (the row's count), "objects": [...]}``.

    Each object: ``id``, ``ordinal`` (its index among the file's nodes), ``type``,
    ``name``, ``class_name``, ``self_size``, ``retained_size``, ``distance``, and
    ``retainers``: the pane's rows in its default order (Distance ascending), each
    ``{"edge_type", "edge_name" (an element edge's index as text), "edge_text" (as
    printed: ``[3]`` for an element), "distance" (the Distance column), "node": the
    retainer described as the object is}``. The object with node id ``path_of`` (default:
    the first one) also has ``path``: the rows the pane expands on its own when the object
    is selected (expandRetainersChain: the first retainer of each level, while its
    distance is > 1), from the object's retainer outwards."""
    with _snapshot_page(path, executable, timeout_ms) as (page, version):
        result = page.evaluate(_RETAINERS, {"className": class_name, "ids": ids, "pathOf": path_of})
        result["chromium_version"] = version
    result["file"] = os.path.abspath(path)
    return result


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--retainers", metavar="CLASS",
                    help="instead of the summary: the Retainers pane of the objects of this Summary row")
    ap.add_argument("--id", type=int, action="append", dest="ids", metavar="NODE_ID",
                    help="with --retainers: only this object (repeatable); the first one's path is given")
    ns = ap.parse_args(argv)
    try:
        if ns.retainers is not None:
            result = retainers(ns.file, ns.retainers, ids=ns.ids, path_of=ns.ids[0] if ns.ids else None)
        else:
            result = summarize(ns.file, top=ns.top)
    except (RuntimeError, FileNotFoundError) as e:
        print(f"devtools_summary: {e}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
