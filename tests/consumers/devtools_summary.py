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

    python tests/consumers/devtools_summary.py FILE.heapsnapshot [--top N]

The browser is $HEAPSCOPE_CHROMIUM, else the first of /usr/lib/chromium/chromium,
chromium, chromium-browser, google-chrome found. Nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
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

_FINISH = r"""
async (top) => {
  const m = await import(%(worker)s);
  const loader = window.__hsLoader;
  loader.close();
  const channel = new MessageChannel();
  new m.HeapSnapshot.SecondaryInitManager(channel.port2);
  let snap;
  try {
    snap = await loader.buildSnapshot(channel.port1);
  } catch (e) {
    return {error: String(e && e.stack || e), progress: window.__hsEvents.slice(-3)};
  }
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
""" % {"worker": json.dumps(WORKER)}


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


def summarize(path: str | os.PathLike[str], *, top: int = 10, executable: str | None = None,
              timeout_ms: float = 600_000) -> dict[str, Any]:
    """DevTools' reading of the snapshot at ``path``: node and edge counts, the Summary
    view's rows by class name (count, self_size, retained_size, distance), the root's
    retained size, DevTools' statistics, and the ``top`` nodes by retained size.
    Raises RuntimeError with DevTools' message when it cannot load the file."""
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
            result = page.evaluate(_FINISH, top)
            result["chromium_version"] = browser.version
        finally:
            browser.close()
    if "error" in result:
        raise RuntimeError(f"DevTools could not load {os.fspath(path)}: {result['error']}")
    result["file"] = os.path.abspath(path)
    return result


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--top", type=int, default=10)
    ns = ap.parse_args(argv)
    try:
        result = summarize(ns.file, top=ns.top)
    except (RuntimeError, FileNotFoundError) as e:
        print(f"devtools_summary: {e}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
