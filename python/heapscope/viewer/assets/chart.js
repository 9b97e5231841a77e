// The profile graph, shared by the viewer and the static report: the largest kinds as
// stacked areas over time, the rest of the heap above them up to the total line.
// Needs uPlot (uplot.iife.min.js). Zoom: drag across the plot; double-click
// zooms out. Markers A and B: onPick(index) is called for a click (not a drag) with the
// index of the nearest record; setMarkers({a, b}) draws them.
"use strict";

const HeapscopeChart = (() => {
  const COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

  function formatBytes(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    let v = Math.abs(n);
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (n < 0 ? "-" : "") + (i === 0 ? String(v) : v.toFixed(1)) + " " + units[i];
  }

  function formatValue(by, v) {
    if (v == null) return "-";
    return by === "size" ? formatBytes(v) : String(v);
  }

  // series: {by, times, total, kinds: [{kind, values}]}
  function stacked(series) {
    const n = series.times.length;
    const raw = [];
    const cumulative = [];
    let below = new Array(n).fill(0);
    for (const k of series.kinds) {
      const top = k.values.map((v, i) => below[i] + v);
      raw.push(k.values);
      cumulative.push(top);
      below = top;
    }
    return {raw, cumulative};
  }

  function create(element, series, options) {
    const opts = options || {};
    let markers = {a: null, b: null};
    const {raw, cumulative} = stacked(series);
    const by = series.by;
    // drawn first to last: the total (its fill is "the rest"), then the stack from the top
    const order = cumulative.map((_, i) => cumulative.length - 1 - i);
    const uSeries = [{label: "time", value: (u, v) => v == null ? "-" : new Date(v * 1000).toLocaleTimeString()}];
    uSeries.push({
      label: "total", stroke: "#333", width: 2, fill: "rgba(180,180,180,0.35)",
      value: (u, v) => formatValue(by, v),
    });
    for (const i of order) {
      uSeries.push({
        label: series.kinds[i].kind, stroke: COLORS[i % COLORS.length], width: 1,
        fill: COLORS[i % COLORS.length] + "cc",
        value: (u, v, si, di) => di == null ? "-" : formatValue(by, raw[i][di]),
      });
    }
    const data = [series.times, series.total, ...order.map((i) => cumulative[i])];

    function drawMarkers(u) {
      const ctx = u.ctx;
      for (const [name, index] of Object.entries(markers)) {
        if (index == null || index >= series.times.length) continue;
        const x = Math.round(u.valToPos(series.times[index], "x", true));
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
        ctx.save();
        ctx.strokeStyle = name === "a" ? "#0a7d32" : "#b3261e";
        ctx.fillStyle = ctx.strokeStyle;
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        ctx.font = `bold ${12 * devicePixelRatio}px sans-serif`;
        ctx.fillText(name.toUpperCase(), x + 4 * devicePixelRatio, u.bbox.top + 14 * devicePixelRatio);
        ctx.restore();
      }
    }

    const width = Math.max(320, element.clientWidth || 800);
    const plot = new uPlot({
      width, height: opts.height || 320,
      series: uSeries,
      axes: [{}, {size: 80, values: (u, ticks) => ticks.map((v) => formatValue(by, v))}],
      cursor: {drag: {x: true, y: false}},
      hooks: {draw: [drawMarkers]},
    }, data, element);

    // a click picks a record; a drag (uPlot zooms) does not
    let down = null;
    plot.over.addEventListener("mousedown", (e) => { down = [e.clientX, e.clientY]; });
    plot.over.addEventListener("click", (e) => {
      if (!opts.onPick || down == null) return;
      const moved = Math.abs(e.clientX - down[0]) + Math.abs(e.clientY - down[1]);
      down = null;
      if (moved > 4) return;
      const rect = plot.over.getBoundingClientRect();
      const t = plot.posToVal(e.clientX - rect.left, "x");
      let best = 0;
      for (let i = 1; i < series.times.length; i++) {
        if (Math.abs(series.times[i] - t) < Math.abs(series.times[best] - t)) best = i;
      }
      opts.onPick(best, e);
    });

    const resize = () => plot.setSize({width: Math.max(320, element.clientWidth || 800), height: opts.height || 320});
    window.addEventListener("resize", resize);

    return {
      plot,
      setMarkers(m) { markers = {a: m.a, b: m.b}; plot.redraw(false, false); },
      destroy() { window.removeEventListener("resize", resize); plot.destroy(); },
    };
  }

  return {create, formatBytes, formatValue, COLORS};
})();
