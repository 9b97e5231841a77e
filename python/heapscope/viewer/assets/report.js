// The static report's page: draws the data of the heapscope-data element (written by
// heapscope/viewer/report.py). Everything is inline; nothing is fetched.
"use strict";

(() => {
  const data = JSON.parse(document.getElementById("heapscope-data").textContent);
  const root = document.getElementById("report");

  function bytes(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    let v = Math.abs(n);
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (n < 0 ? "-" : "") + (i === 0 ? String(v) : v.toFixed(1)) + " " + units[i];
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  function section(id, title, ...children) {
    return el("section", {id}, el("h2", {}, title), ...children);
  }

  function meta(info) {
    const dl = el("dl", {class: "meta"});
    for (const [k, v] of Object.entries(info)) {
      let text = Array.isArray(v) ? v.join(" ") : String(v);
      if (k === "rss" && /^\d+$/.test(text)) text = bytes(Number(text));
      if ((k === "first" || k === "last") && typeof v === "number") text = new Date(v * 1000).toLocaleString();
      dl.append(el("dt", {}, k), el("dd", {}, text));
    }
    return dl;
  }

  // rows: [{kind, count, size}], of a census totalling (count, size)
  function census(id, rows, count, size, kinds, header) {
    const body = el("tbody");
    let cumul = 0;
    rows.forEach((r, i) => {
      cumul += r.size;
      body.append(el("tr", {},
        el("td", {class: "num"}, i), el("td", {class: "num"}, r.count),
        el("td", {class: "num"}, count ? Math.round(100 * r.count / count) : 0),
        el("td", {class: "num"}, bytes(r.size)),
        el("td", {class: "num"}, size ? Math.round(100 * r.size / size) : 0),
        el("td", {class: "num"}, bytes(cumul)),
        el("td", {class: "kind"}, r.kind)));
    });
    const table = el("table", {class: "census", id},
      el("thead", {}, el("tr", {}, ...["Index", "Count", "%", "Size", "%", "Cumulative", header]
        .map((h) => el("th", {}, h)))),
      body);
    const note = kinds > rows.length ? el("p", {class: "note"}, `The ${rows.length} largest of ${kinds} rows.`) : "";
    return el("div", {}, table, note);
  }

  // a failed leak check (the pytest plugin's --heapscope-report): what grew, and why
  function leakCheck(leak) {
    const kinds = el("tbody");
    for (const k of leak.kinds) {
      kinds.append(el("tr", {},
        el("td", {class: "num"}, k.count_per_round), el("td", {class: "num"}, bytes(k.size_per_round)),
        el("td", {class: "kind"}, k.kind)));
    }
    const out = section("leak", `Leak check: ${leak.what}`,
      el("p", {}, `Kinds whose surviving objects grew over ${leak.rounds} rounds` +
        (leak.warmup ? ` (after ${leak.warmup} warm-up round${leak.warmup > 1 ? "s" : ""})` : " (no warm-up round)") + ":"),
      el("table", {class: "leaked"},
        el("thead", {}, el("tr", {}, ...["Count per round", "Size per round", "Kind"].map((h) => el("th", {}, h)))),
        kinds));
    for (const k of leak.kinds.filter((k) => k.path !== null)) {
      out.append(el("div", {class: "suspect leaked-kind"},
        el("h3", {}, `Why ${k.kind} is alive`),
        el("p", {}, "kept alive by: ", el("code", {class: "path"}, k.path)),
        el("p", {}, `retained: ${bytes(k.retained)} would be freed with them`),
        k.note ? el("p", {class: "note"}, "note: ", k.note) : ""));
    }
    out.append(el("details", {}, el("summary", {}, "as the test failure printed it"), el("pre", {}, leak.message)));
    return out;
  }

  function snapshot() {
    const m = data.meta;
    root.append(el("h1", {}, data.leak ? "heapscope leak report" : "heapscope snapshot report"));
    if (data.leak) root.append(leakCheck(data.leak));
    root.append(section("metadata", "Metadata", meta(m)),
      el("p", {class: "totals"},
        `Reachable from the roots: ${data.total.count} objects, ${bytes(data.total.size)}. ` +
        `Alive but unreachable: ${data.unreachable.count} objects, ${bytes(data.unreachable.size)}.`));

    const suspects = section("suspects", `Leak suspects (retaining at least ${Math.round(data.min_share * 100)}% of the heap)`);
    if (!data.suspects.length) suspects.append(el("p", {class: "none"}, "None found."));
    for (const s of data.suspects) {
      const kinds = s.retained_kinds.map((k) => `${k.count} ${k.kind}`).join(", ");
      suspects.append(el("div", {class: "suspect"},
        el("h3", {}, s.name),
        el("div", {class: "bar"}, el("span", {style: `width:${(100 * s.share).toFixed(1)}%`})),
        el("p", {}, `retains ${bytes(s.retained)} (${(100 * s.share).toFixed(1)}%) in ${s.objects} objects`),
        el("p", {}, "retained kinds: ", kinds),
        el("p", {}, "kept alive by: ", el("code", {class: "path"}, s.path))));
    }
    root.append(suspects);

    const retainers = el("tbody");
    for (const r of data.retainers) {
      retainers.append(el("tr", {},
        el("td", {class: "num"}, bytes(r.retained)),
        el("td", {class: "share"}, el("div", {class: "bar"}, el("span", {style: `width:${(100 * r.share).toFixed(1)}%`})),
          `${(100 * r.share).toFixed(1)}%`),
        el("td", {class: "num"}, r.objects),
        el("td", {class: "kind"}, `${r.kind}: ${r.object}`)));
    }
    root.append(section("retainers", "Largest retainers",
      el("table", {class: "retainers"},
        el("thead", {}, el("tr", {}, ...["Retained", "Share", "Objects", "Kind: object"].map((h) => el("th", {}, h)))),
        retainers)));

    const c = data.census;
    root.append(
      section("census-kind", "Census by kind (class / dict of class)",
        census("census-clodo", c.clodo.rows, data.total.count, data.total.size, c.clodo.kinds, "Kind (class / dict of class)")),
      section("census-type", "Census by type",
        census("census-type-table", c.type.rows, data.total.count, data.total.size, c.type.kinds, "Type")));
  }

  function profile() {
    const m = data.meta;
    root.append(el("h1", {}, "heapscope profile report"), section("metadata", "Metadata", meta(m)));
    const plotBox = el("div", {id: "profile-chart", class: "chart"});
    const switcher = el("div", {class: "switch"});
    let chart = null;
    function draw(by) {
      if (chart) chart.destroy();
      plotBox.textContent = "";
      chart = HeapscopeChart.create(plotBox, data.series[by], {});
      for (const b of switcher.querySelectorAll("button")) b.classList.toggle("active", b.dataset.by === by);
    }
    for (const by of ["size", "count"]) {
      const b = el("button", {"data-by": by, type: "button"}, `by ${by}`);
      b.addEventListener("click", () => draw(by));
      switcher.append(b);
    }
    root.append(section("profile", `Profile: ${m.records} records`, switcher, plotBox,
      el("p", {class: "note"}, "Drag across the graph to zoom, double-click to zoom out.")));
    const last = data.last;
    root.append(section("last-census", "Census of the last record",
      el("p", {class: "totals"}, `${last.count} objects, ${bytes(last.size)}.`),
      census("census-last", last.rows, last.count, last.size, last.kinds, last.kindheader || "Kind")));
    draw("size");
  }

  document.title = document.title || "heapscope report";
  if (data.kind === "snapshot") snapshot(); else profile();
  document.body.dataset.rendered = "1";
})();
