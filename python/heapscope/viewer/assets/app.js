// heapscope viewer: the page `heapscope view` serves. It asks the viewer's JSON API
// (docs/viewer.md) and draws the answers; the page's place is in its #fragment, so the
// browser's back button and links work:
//   #/                              the files
//   #/snapshot/I[/census]           census of snapshot I (by kind, type, module, size)
//   #/snapshot/I/row?by=B&kind=K    one census row: its objects, referrer kinds, via, paths
//   #/snapshot/I/object/ADDRESS     one object: referrers, referents, retained kinds, paths
//   #/snapshot/I/domtree[?node=A]   the dominator tree
//   #/snapshot/I/suspects           leak suspects
//   #/compare?a=I&b=J               two snapshots compared
//   #/profile/I                     a profile's graph, markers A and B, their difference
// The API token comes from the page's own URL (?token=T) and goes with every request.
"use strict";

const Viewer = (() => {
  const TOKEN = new URLSearchParams(location.search).get("token") || "";
  const PAGE = 50;
  const POLL_MS = 2000;
  let files = {files: [], compare: null};
  let cleanup = [];  // what the current view stops when left (timers, charts)
  const censusState = {};  // per snapshot: the census's controls, kept across views

  // -- helpers -----------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c == null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  const bytes = (n) => HeapscopeChart.formatBytes(n);
  const hex = (a) => "0x" + Number(a).toString(16);
  const pct = (share) => (100 * share).toFixed(1) + "%";
  const signed = (n, f) => (n > 0 ? "+" : n < 0 ? "-" : "") + (f ? f(Math.abs(n)) : Math.abs(n));

  function link(hash, ...children) {
    return el("a", {href: "#" + hash}, ...children);
  }

  function objectLink(i, address, text) {
    return el("a", {href: `#/snapshot/${i}/object/${hex(address)}`, class: "address"}, text || hex(address));
  }

  function shareBar(share) {
    const w = Math.max(0, Math.min(100, 100 * share));
    return el("span", {class: "bar", title: pct(share)}, el("span", {style: `width:${w.toFixed(1)}%`}));
  }

  function query(params) {
    const q = new URLSearchParams();
    q.set("token", TOKEN);
    for (const [k, v] of Object.entries(params || {})) if (v != null && v !== "") q.set(k, v);
    return q.toString();
  }

  async function api(path, params) {
    const response = await fetch(`/api/${path}?${query(params)}`, {headers: {Accept: "application/json"}});
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      const message = body && (body.error || body.message) || `${response.status} ${response.statusText}`;
      throw new Error(`${path}: ${message}`);
    }
    return body;
  }

  function showError(e) {
    const box = document.getElementById("error");
    box.textContent = String(e && e.message || e);
    box.hidden = false;
  }

  function clearError() {
    document.getElementById("error").hidden = true;
  }

  // a table: columns [{title, cell(row) -> node|text, class, sort}], rows
  function table(columns, rows, opts) {
    const o = opts || {};
    const head = el("tr", {}, columns.map((c) => {
      const th = el("th", {class: c.class}, c.title);
      if (c.sort && o.onSort) {
        th.classList.add("sortable");
        if (o.sort === c.sort) th.classList.add(o.order === "asc" ? "asc" : "desc");
        th.addEventListener("click", () => o.onSort(c.sort));
      }
      return th;
    }));
    const body = el("tbody", {}, rows.map((r) => {
      const tr = el("tr", {}, columns.map((c) => el("td", {class: c.class}, c.cell(r))));
      if (o.onClick) {
        tr.classList.add("clickable");
        tr.tabIndex = 0;
        tr.addEventListener("click", (ev) => { if (!ev.target.closest("a")) o.onClick(r); });
        tr.addEventListener("keydown", (ev) => { if (ev.key === "Enter") o.onClick(r); });
      }
      return tr;
    }));
    return el("table", {class: o.class || ""}, el("thead", {}, head), body);
  }

  function kindTable(rows, cls) {
    return table([
      {title: "Count", class: "num", cell: (r) => r.count},
      {title: "Size", class: "num", cell: (r) => bytes(r.size)},
      {title: "Kind", class: "kind", cell: (r) => r.kind},
    ], rows, {class: cls});
  }

  function pathList(paths, numpaths) {
    if (!paths.length) return el("p", {class: "none"}, "No path from the roots.");
    const detail = el("div", {class: "path-steps", hidden: true});
    const list = el("ol", {class: "paths"}, paths.map((p) => {
      const item = el("li", {class: "path", tabindex: 0, title: "show the steps of this path"}, el("code", {}, p));
      const pick = () => {
        for (const other of list.querySelectorAll("li.selected")) other.classList.remove("selected");
        item.classList.add("selected");
        detail.replaceChildren(el("h4", {}, "Steps from the roots"),
          el("ol", {}, pathSteps(p).map((s) => el("li", {}, el("code", {}, s)))));
        detail.hidden = false;
      };
      item.addEventListener("click", pick);
      item.addEventListener("keydown", (ev) => { if (ev.key === "Enter") pick(); });
      return item;
    }));
    const more = numpaths > paths.length ? el("p", {class: "note"}, `${paths.length} of ${numpaths} shortest paths.`) : null;
    return el("div", {}, list, more, detail);
  }

  // "snap.Root.i0_modules['m'].__dict__['HOLD'][3]" -> each step of it, as written
  function pathSteps(path) {
    const steps = [];
    let depth = 0;
    let quote = null;
    let current = "";
    for (const ch of path) {
      if (quote) { current += ch; if (ch === quote) quote = null; continue; }
      if (ch === "'" || ch === '"') { quote = ch; current += ch; continue; }
      if ((ch === "." || ch === "[") && depth === 0 && current) {
        steps.push(current);
        current = "";
      }
      if (ch === "[" || ch === "(") depth++;
      if (ch === "]" || ch === ")") depth--;
      current += ch;
    }
    if (current) steps.push(current);
    return steps;
  }

  function section(title, ...children) {
    return el("section", {}, el("h2", {}, title), ...children);
  }

  // -- files and the header ------------------------------------------------------------
  function fileName(f) {
    return f.path.split(/[\\/]/).pop();
  }

  function drawNav(route) {
    const nav = document.getElementById("files");
    nav.replaceChildren(...files.files.map((f) => {
      const hash = f.kind === "snapshot" ? `/snapshot/${f.index}` : `/profile/${f.index}`;
      const a = link(hash, el("span", {class: "file-kind"}, f.kind), " ", fileName(f));
      if (route.file === f.index && route.kind === f.kind) a.classList.add("current");
      a.title = f.path;
      return a;
    }));
    const snaps = files.files.filter((f) => f.kind === "snapshot");
    if (snaps.length >= 2) {
      const [a, b] = files.compare || [snaps[0].index, snaps[1].index];
      const c = link(`/compare?a=${a}&b=${b}`, "compare");
      if (route.kind === "compare") c.classList.add("current");
      nav.append(c);
    }
  }

  function metaHeader(f) {
    const m = f.meta || {};
    const facts = [];
    for (const [k, v] of Object.entries(m)) {
      let text = Array.isArray(v) ? v.join(" ") : typeof v === "object" && v ? JSON.stringify(v) : String(v);
      if (k === "rss" && /^\d+$/.test(text)) text = bytes(Number(text));
      facts.push(el("span", {class: "fact"}, el("b", {}, k), " ", text));
    }
    return el("div", {class: "meta", id: "meta"}, el("h1", {}, fileName(f)), el("div", {class: "facts"}, facts));
  }

  function snapshotTabs(i, current) {
    const tabs = [["census", "Census"], ["domtree", "Dominator tree"], ["suspects", "Leak suspects"]];
    return el("nav", {class: "tabs"}, tabs.map(([name, title]) => {
      const a = link(`/snapshot/${i}/${name}`, title);
      if (name === current) a.classList.add("current");
      return a;
    }));
  }

  // -- views -----------------------------------------------------------------------------
  function home() {
    const items = files.files.map((f) => el("li", {},
      link(f.kind === "snapshot" ? `/snapshot/${f.index}` : `/profile/${f.index}`, fileName(f)),
      ` (${f.kind}) `, el("span", {class: "path"}, f.path)));
    return [el("h1", {}, "Files"), el("ul", {class: "file-list"}, items)];
  }

  function census(i, view) {
    const state = censusState[i] || (censusState[i] = {by: "clodo", sort: "size", order: "desc", start: 0, filter: ""});
    const out = el("div", {id: "census"});
    const summary = el("p", {class: "totals"});
    const byChoice = el("select", {id: "census-by", "aria-label": "partition"},
      [["clodo", "kind (class / dict of class)"], ["type", "type"], ["module", "module"], ["size", "size"]]
        .map(([v, t]) => el("option", {value: v, selected: v === state.by}, "by " + t)));
    const filter = el("input", {id: "census-filter", type: "search", placeholder: "filter kinds…", value: state.filter});
    const pager = el("div", {class: "pager"});
    const holder = el("div", {class: "table-holder"});
    let timer = null;

    async function load() {
      try {
        const d = await api(`snapshot/${i}/census`, {
          by: state.by, start: state.start, count: PAGE, sort: state.sort, order: state.order, filter: state.filter});
        clearError();
        summary.textContent = `${d.total_count} objects, ${bytes(d.total_size)} reachable from the roots; ` +
          `${d.matching_rows} rows${state.filter ? " match" : ""}.`;
        holder.replaceChildren(table([
          {title: "Index", class: "num", cell: (r) => r.index},
          {title: "Count", class: "num", sort: "count", cell: (r) => r.count},
          {title: "%", class: "num", cell: (r) => d.total_count ? Math.round(100 * r.count / d.total_count) : 0},
          {title: "Size", class: "num", sort: "size", cell: (r) => bytes(r.size)},
          {title: "%", class: "num", cell: (r) => d.total_size ? Math.round(100 * r.size / d.total_size) : 0},
          {title: "", class: "share", cell: (r) => shareBar(d.total_size ? r.size / d.total_size : 0)},
          {title: state.by === "clodo" ? "Kind (class / dict of class)" : state.by[0].toUpperCase() + state.by.slice(1),
           class: "kind", sort: "name", cell: (r) => r.kind},
        ], d.rows, {
          class: "census", sort: state.sort, order: state.order,
          onSort: (key) => {
            if (state.sort === key) state.order = state.order === "desc" ? "asc" : "desc";
            else { state.sort = key; state.order = key === "name" ? "asc" : "desc"; }
            state.start = 0;
            load();
          },
          onClick: (r) => { location.hash = `/snapshot/${i}/row?${new URLSearchParams({by: d.by || state.by, kind: r.kind})}`; },
        }));
        const last = Math.min(state.start + d.rows.length, d.matching_rows);
        pager.replaceChildren(
          el("button", {type: "button", disabled: state.start === 0, onclick: () => { state.start = Math.max(0, state.start - PAGE); load(); }}, "◀ previous"),
          el("span", {}, d.rows.length ? ` rows ${state.start + 1}–${last} of ${d.matching_rows} ` : " no rows "),
          el("button", {type: "button", disabled: last >= d.matching_rows, onclick: () => { state.start += PAGE; load(); }}, "next ▶"));
      } catch (e) { showError(e); }
    }

    byChoice.addEventListener("change", () => { state.by = byChoice.value; state.start = 0; load(); });
    filter.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => { state.filter = filter.value; state.start = 0; load(); }, 250);
    });
    cleanup.push(() => clearTimeout(timer));
    out.append(el("div", {class: "controls"}, byChoice, filter), summary, holder, pager);
    load();
    return [snapshotTabs(i, "census"), out];
  }

  async function row(i, params) {
    const by = params.get("by") || "clodo";
    const kind = params.get("kind") || "";
    const start = Number(params.get("start") || 0);
    const d = await api(`snapshot/${i}/row`, {by, kind, start, count: PAGE});
    const pageLink = (s, text) => link(`/snapshot/${i}/row?${new URLSearchParams({by, kind, start: s})}`, text);
    const objects = table([
      {title: "Address", class: "address", cell: (o) => objectLink(i, o.address)},
      {title: "Type", class: "kind", cell: (o) => o.type},
      {title: "Size", class: "num", cell: (o) => bytes(o.size)},
      {title: "Retained", class: "num", cell: (o) => bytes(o.retained)},
      {title: "Value", class: "text", cell: (o) => o.text},
    ], d.objects, {class: "objects", onClick: (o) => { location.hash = `/snapshot/${i}/object/${hex(o.address)}`; }});
    const pager = el("div", {class: "pager"},
      start > 0 ? pageLink(Math.max(0, start - PAGE), "◀ previous") : null,
      ` objects ${d.objects.length ? start + 1 : 0}–${start + d.objects.length} of ${d.count} `,
      start + d.objects.length < d.count ? pageLink(start + PAGE, "next ▶") : null);
    // the summary (Rcs, Via, paths) is a request of its own: for a row of millions of
    // objects it takes a while, and the objects are shown meanwhile
    const computing = () => el("p", {class: "computing"}, "computing…");
    const rcs = el("div", {}, computing()), via = el("div", {}, computing()), paths = el("div", {}, computing());
    api(`snapshot/${i}/row/summary`, {by, kind}).then((s) => {
      rcs.replaceChildren(kindTable(s.referrer_kinds, "referrer-kinds"));
      via.replaceChildren(table([
        {title: "Count", class: "num", cell: (v) => v.count},
        {title: "Size", class: "num", cell: (v) => bytes(v.size)},
        {title: "Via", class: "kind", cell: (v) => v.label},
      ], s.via, {class: "via"}));
      paths.replaceChildren(pathList(s.paths, s.numpaths));
    }, (e) => {
      for (const part of [rcs, via, paths]) part.replaceChildren(el("p", {class: "error"}, String(e.message || e)));
    });
    return [
      snapshotTabs(i, "census"),
      el("div", {id: "row"},
        el("h2", {class: "title"}, el("span", {class: "kind"}, d.kind), ` — ${d.count} objects, ${bytes(d.size)}`),
        el("div", {class: "columns"},
          section("Objects, largest retained first", objects, pager),
          el("div", {},
            section("Referrer kinds (Rcs)", rcs),
            section("Via (how they are referred to)", via))),
        section("Shortest paths from the roots", paths)),
    ];
  }

  async function object(i, address) {
    const d = await api(`snapshot/${i}/object/${address}`);
    const neighbours = (rows, cls) => table([
      {title: "Address", class: "address", cell: (o) => objectLink(i, o.address)},
      {title: "Label", class: "kind", cell: (o) => o.label},
      {title: "Type", class: "kind", cell: (o) => o.type},
      {title: "Size", class: "num", cell: (o) => bytes(o.size)},
    ], rows, {class: cls, onClick: (o) => { location.hash = `/snapshot/${i}/object/${hex(o.address)}`; }});
    return [
      snapshotTabs(i, null),
      el("div", {id: "object"},
        el("h2", {class: "title"}, el("span", {class: "kind"}, d.kind), " ", el("span", {class: "address"}, hex(d.address))),
        el("dl", {class: "facts"},
          el("dt", {}, "type"), el("dd", {}, d.type),
          el("dt", {}, "size"), el("dd", {}, bytes(d.size)),
          el("dt", {}, "retained"), el("dd", {}, bytes(d.retained)),
          el("dt", {}, "value"), el("dd", {class: "text"}, d.text),
          el("dt", {}, "dominator"), el("dd", {}, d.dominator == null ? "none (held by several roots)" : objectLink(i, d.dominator)),
          el("dt", {}, "in the tree"), el("dd", {}, link(`/snapshot/${i}/domtree?node=${hex(d.address)}`, "what it retains"))),
        section("Shortest paths from the roots", pathList(d.paths, d.paths.length)),
        el("div", {class: "columns"},
          section(`Referrers (${d.referrers.length})`, neighbours(d.referrers, "referrers")),
          section(`Referents (${d.referents.length})`, neighbours(d.referents, "referents"))),
        section("Retained kinds (freed with it)", kindTable(d.retained_kinds, "retained-kinds"))),
    ];
  }

  function domtree(i, params) {
    const top = params.get("node") || "root";
    const tree = el("div", {class: "domtree", id: "domtree", role: "tree"});
    const header = el("div", {class: "node header"},
      el("span", {class: "name"}, "Object"), el("span", {class: "num"}, "Retained"), el("span", {class: "share"}, "Share"));

    // loads the children of `node` from `start` on into `into`, at `depth`
    async function fill(node, start, into, depth) {
      const d = await api(`snapshot/${i}/domtree`, {node, start, count: PAGE});
      for (const c of d.children) into.append(treeNode(c, depth));
      const shown = start + d.children.length;
      if (shown < d.total_children) {
        const more = el("button", {type: "button", class: "more", style: `margin-left:${depth * 1.2 + 1.4}em`},
          `${d.total_children - shown} more…`);
        more.addEventListener("click", async () => {
          more.disabled = true;
          try { await fill(node, shown, into, depth); more.remove(); } catch (e) { showError(e); more.disabled = false; }
        });
        into.append(more);
      }
      return d;
    }

    function treeNode(c, depth) {
      const kids = el("div", {class: "children", role: "group", hidden: true});
      const open = c.children_count > 0;
      const toggle = el("button", {type: "button", class: "toggle", "aria-expanded": "false", disabled: !open,
        title: open ? `${c.children_count} dominated` : "dominates nothing"}, open ? "▶" : "·");
      let loaded = false;
      toggle.addEventListener("click", async () => {
        const expanded = toggle.getAttribute("aria-expanded") === "true";
        if (expanded) { kids.hidden = true; toggle.setAttribute("aria-expanded", "false"); toggle.textContent = "▶"; return; }
        if (!loaded) {
          toggle.disabled = true;
          try { await fill(c.address, 0, kids, depth + 1); loaded = true; } catch (e) { showError(e); } finally { toggle.disabled = false; }
          if (!loaded) return;
        }
        kids.hidden = false;
        toggle.setAttribute("aria-expanded", "true");
        toggle.textContent = "▼";
      });
      const line = el("div", {class: "node", role: "treeitem", "data-address": hex(c.address)},
        el("span", {class: "name", style: `padding-left:${depth * 1.2}em`}, toggle, " ",
          el("span", {class: "kind"}, c.kind), " ", objectLink(i, c.address), " ",
          el("span", {class: "text"}, c.text), c.children_count ? el("span", {class: "note"}, ` (${c.children_count})`) : null),
        el("span", {class: "num"}, bytes(c.retained)),
        el("span", {class: "share"}, shareBar(c.share), " ", pct(c.share)));
      return el("div", {}, line, kids);
    }

    const title = el("p", {class: "totals"}, top === "root"
      ? "The objects no single other object dominates (held from several roots), by retained size. Expand a node to see what it alone keeps alive."
      : ["What ", objectLink(i, top), " alone keeps alive, by retained size. ", link(`/snapshot/${i}/domtree`, "Whole tree")]);
    fill(top, 0, tree, 0).then(clearError, showError);
    return [snapshotTabs(i, "domtree"), title, header, tree];
  }

  async function suspects(i) {
    const d = await api(`snapshot/${i}/suspects`);
    const list = el("div", {id: "suspects"});
    if (!d.suspects.length) list.append(el("p", {class: "none"}, "No leak suspects: no object retains a large share of the heap."));
    for (const s of d.suspects) {
      list.append(el("div", {class: "suspect"},
        el("h3", {}, objectLink(i, s.address, s.name)),
        el("p", {}, shareBar(s.share), ` retains ${bytes(s.retained)} (${pct(s.share)}) in ${s.objects} objects — `,
          link(`/snapshot/${i}/domtree?node=${hex(s.address)}`, "open in the dominator tree")),
        el("p", {}, "retained kinds: ", s.retained_kinds.map((k) => `${k.count} ${k.kind}`).join(", ")),
        el("p", {}, "kept alive by: ", el("code", {class: "path"}, s.path))));
    }
    return [snapshotTabs(i, "suspects"), list];
  }

  async function compare(params) {
    const snaps = files.files.filter((f) => f.kind === "snapshot");
    const a = Number(params.get("a") ?? (files.compare ? files.compare[0] : snaps[0].index));
    const b = Number(params.get("b") ?? (files.compare ? files.compare[1] : snaps[1].index));
    const pick = (name, value) => {
      const s = el("select", {id: `compare-${name}`, "aria-label": `snapshot ${name}`},
        snaps.map((f) => el("option", {value: f.index, selected: f.index === value}, fileName(f))));
      s.addEventListener("change", () => {
        const p = {a, b};
        p[name] = s.value;
        location.hash = `/compare?a=${p.a}&b=${p.b}`;
      });
      return s;
    };
    const d = await api("compare", {a, b});
    const part = (title, p, id) => p == null ? null : section(`${title}: ${p.count} objects, ${bytes(p.size)}`,
      kindTable(p.kinds, id));
    const changes = [...d.by_kind].sort((x, y) => Math.abs(y.size_change) - Math.abs(x.size_change));
    return [
      el("h1", {}, "Compare snapshots"),
      el("div", {class: "controls"}, "from ", pick("a", a), " to ", pick("b", b)),
      el("p", {class: "totals"}, d.same_process
        ? "Both snapshots are of one process: objects are matched by identity."
        : "The snapshots are of different processes: only kinds compare."),
      el("div", {class: "columns three"}, part("New", d.new, "new"), part("Freed", d.freed, "freed"), part("Survivors", d.survivors, "survivors")),
      section("Change by kind", table([
        {title: "Count change", class: "num", cell: (r) => signed(r.count_change)},
        {title: "Size change", class: "num", cell: (r) => signed(r.size_change, bytes)},
        {title: "Kind", class: "kind", cell: (r) => r.kind},
      ], changes, {class: "by-kind"})),
    ];
  }

  function profile(i) {
    const f = files.files.find((x) => x.index === i && x.kind === "profile");
    const state = {by: "size", markers: {a: null, b: null}, next: "a", records: -1, chart: null, series: null};
    const box = el("div", {class: "chart", id: "profile-chart"});
    const status = el("p", {class: "totals", id: "profile-status"});
    const markerInfo = el("p", {class: "markers", id: "markers"});
    const diff = el("div", {id: "profile-diff"});
    const live = el("input", {type: "checkbox", id: "live"});
    const switcher = el("span", {class: "switch"}, ["size", "count"].map((by) =>
      el("button", {type: "button", "data-by": by, class: by === state.by ? "active" : null, onclick: () => {
        state.by = by;
        for (const b of switcher.querySelectorAll("button")) b.classList.toggle("active", b.dataset.by === by);
        load(true);
      }}, `by ${by}`)));

    function time(k) {
      return state.series && k != null ? new Date(state.series.times[k] * 1000).toLocaleTimeString() : "";
    }

    function describeMarkers() {
      const {a, b} = state.markers;
      markerInfo.replaceChildren(
        el("span", {class: "marker-a"}, "A: ", a == null ? "click the graph" : `record ${a} (${time(a)})`), "  ",
        el("span", {class: "marker-b"}, "B: ", b == null ? (a == null ? "then click again" : "click the graph") : `record ${b} (${time(b)})`),
        "  ", el("button", {type: "button", onclick: () => { state.markers = {a: null, b: null}; state.next = "a"; redrawMarkers(); diff.replaceChildren(); }}, "clear"));
    }

    function redrawMarkers() {
      if (state.chart) state.chart.setMarkers(state.markers);
      describeMarkers();
    }

    async function showDiff() {
      const {a, b} = state.markers;
      if (a == null || b == null) return;
      try {
        const d = await api(`profile/${i}/diff`, {a, b});
        const rows = [...d.rows].sort((x, y) => Math.abs(y.size_change) - Math.abs(x.size_change));
        diff.replaceChildren(section(`Difference from A (record ${d.a}) to B (record ${d.b})`, table([
          {title: "Count change", class: "num", cell: (r) => signed(r.count_change)},
          {title: "Size change", class: "num", cell: (r) => signed(r.size_change, bytes)},
          {title: "Kind", class: "kind", cell: (r) => r.kind},
        ], rows, {class: "profile-diff"}), el("details", {}, el("summary", {}, "as Heapy prints it"), el("pre", {}, d.text))));
        clearError();
      } catch (e) { showError(e); }
    }

    function pick(k, ev) {
      const which = ev && ev.shiftKey ? "b" : state.next;
      state.markers[which] = k;
      state.next = which === "a" ? "b" : "a";
      redrawMarkers();
      showDiff();
    }

    async function load(force) {
      try {
        const s = await api(`profile/${i}/series`, {by: state.by, top: 8});
        clearError();
        if (!force && s.records === state.records) return;
        state.records = s.records;
        state.series = {...s, by: state.by};
        status.textContent = `${s.records} records` + (s.times.length
          ? `, ${new Date(s.times[0] * 1000).toLocaleString()} to ${new Date(s.times[s.times.length - 1] * 1000).toLocaleTimeString()}` : "");
        if (state.chart) state.chart.destroy();
        box.replaceChildren();
        state.chart = HeapscopeChart.create(box, state.series, {onPick: pick});
        redrawMarkers();
      } catch (e) { showError(e); }
    }

    let poll = null;
    live.addEventListener("change", () => {
      clearInterval(poll);
      poll = live.checked ? setInterval(() => load(false), POLL_MS) : null;
    });
    cleanup.push(() => { clearInterval(poll); if (state.chart) state.chart.destroy(); });
    describeMarkers();
    setTimeout(() => load(true));  // once the box is in the page (the graph takes its width)
    return [
      el("div", {class: "controls"}, switcher, el("label", {}, live, " live (re-read every 2 s)")),
      status, box,
      el("p", {class: "note"}, "Drag across the graph to zoom, double-click to zoom out. Click to set marker A, click again for B (shift-click: B)."),
      markerInfo, diff,
    ].concat(f ? [] : [el("p", {class: "none"}, "No such profile.")]);
  }

  // -- routing ---------------------------------------------------------------------------
  function parseRoute() {
    const raw = location.hash.replace(/^#/, "") || "/";
    const [path, q] = raw.split("?");
    const parts = path.split("/").filter(Boolean);
    const params = new URLSearchParams(q || "");
    if (parts[0] === "snapshot") return {kind: "snapshot", file: Number(parts[1]), view: parts[2] || "census", arg: parts[3], params};
    if (parts[0] === "profile") return {kind: "profile", file: Number(parts[1]), params};
    if (parts[0] === "compare") return {kind: "compare", params};
    return {kind: "home", params};
  }

  async function route() {
    for (const stop of cleanup) stop();
    cleanup = [];
    clearError();
    const r = parseRoute();
    drawNav(r);
    const main = document.getElementById("view");
    main.dataset.view = r.kind === "snapshot" ? r.view : r.kind;
    const f = files.files.find((x) => x.index === r.file && x.kind === r.kind);
    const header = f ? [metaHeader(f)] : [];
    main.replaceChildren(...header, el("p", {class: "loading"}, "Loading…"));
    try {
      let content;
      if (r.kind === "snapshot" && !f) throw new Error(`no snapshot ${r.file}`);
      if (r.kind === "snapshot") {
        if (r.view === "census") content = census(r.file);
        else if (r.view === "row") content = await row(r.file, r.params);
        else if (r.view === "object") content = await object(r.file, r.arg);
        else if (r.view === "domtree") content = domtree(r.file, r.params);
        else if (r.view === "suspects") content = await suspects(r.file);
        else throw new Error(`no view ${r.view}`);
      } else if (r.kind === "profile") content = profile(r.file);
      else if (r.kind === "compare") content = await compare(r.params);
      else content = home();
      if (parseRoute().kind !== r.kind || location.hash !== currentHash) return;  // left meanwhile
      main.replaceChildren(...header, ...content);
      main.dataset.ready = "1";
      window.scrollTo(0, 0);
    } catch (e) {
      main.replaceChildren(...header);
      showError(e);
    }
  }

  let currentHash = null;
  async function start() {
    try {
      files = await api("files");
    } catch (e) {
      showError(e);
      return;
    }
    const go = () => { currentHash = location.hash; document.getElementById("view").dataset.ready = ""; route(); };
    window.addEventListener("hashchange", go);
    if (!location.hash || location.hash === "#/") {
      const first = files.files[0];
      if (files.compare) location.hash = `/compare?a=${files.compare[0]}&b=${files.compare[1]}`;
      else if (files.files.length === 1 && first) location.hash = first.kind === "snapshot" ? `/snapshot/${first.index}` : `/profile/${first.index}`;
      else go();
    } else go();
  }

  return {start, pathSteps};
})();

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", Viewer.start);
else Viewer.start();
