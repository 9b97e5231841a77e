#!/usr/bin/env node
/*
 * Loads a V8 .heapsnapshot with memlab (@memlab/core, the parser and dominator pass
 * that `memlab analyze` and `memlab heap` use) and prints one JSON object on stdout:
 *
 *   node_count, edge_count, self_size_total   as memlab parsed them
 *   root           node 0 (what memlab takes as the root): id, type, name, retained size
 *   reachable_count   nodes reached from node 0 over non-weak edges
 *   path_count     nodes memlab found a retainer path to (its shortest-path pass)
 *   by_name        per node name: count, self_size, retained_size (the retained sizes
 *                  of the nodes of that name that no other node of that name dominates:
 *                  the figure of a class row in DevTools' Summary view)
 *   by_type        per node type: count, self_size
 *   edge_types     per edge type: count
 *   largest        the --top N nodes by retained size (node 0 and synthetic nodes left
 *                  out): id, type, name, self_size, retained_size, edge_count
 *   memlab_version
 *
 * Usage: node memlab_summary.js FILE.heapsnapshot [--top N] [--no-retained]
 *
 * memlab is looked up in $HEAPSCOPE_MEMLAB_DIR (an npm prefix: the folder holding
 * node_modules/), then in <repo>/.ci/memlab (where .ci/run installs it), then the
 * usual Node resolution. Exit status 2: memlab not found; 1: the file did not load.
 */
'use strict';

const fs = require('fs');
const path = require('path');

function usage(msg) {
  process.stderr.write(`${msg}\nusage: memlab_summary.js FILE.heapsnapshot [--top N] [--no-retained]\n`);
  process.exit(64);
}

const args = process.argv.slice(2);
let file = null;
let top = 10;
let retained = true;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') {
    top = Number(args[++i]);
    if (!Number.isInteger(top) || top < 0) usage('--top wants a count');
  } else if (args[i] === '--no-retained') {
    retained = false;
  } else if (file === null) {
    file = args[i];
  } else {
    usage(`unexpected argument ${args[i]}`);
  }
}
if (file === null) usage('no snapshot file given');
if (!fs.existsSync(file)) usage(`no such file: ${file}`);

function requireMemlab(name) {
  const bases = [];
  if (process.env.HEAPSCOPE_MEMLAB_DIR) bases.push(process.env.HEAPSCOPE_MEMLAB_DIR);
  bases.push(path.resolve(__dirname, '..', '..', '.ci', 'memlab'));
  for (const base of bases) {
    try {
      return require(require.resolve(name, { paths: [base] }));
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  try {
    return require(name);
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e;
    process.stderr.write(
      `memlab_summary: ${name} not found (set HEAPSCOPE_MEMLAB_DIR to an npm prefix ` +
        `where memlab is installed, e.g. npm install --prefix DIR --ignore-scripts memlab)\n`,
    );
    process.exit(2);
  }
}

const core = requireMemlab('@memlab/core');
let version = null;
try {
  version = requireMemlab('@memlab/core/package.json').version;
} catch (e) {
  version = null;
}

// memlab reports progress on stdout; keep stdout for the JSON alone.
const realStdoutWrite = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => process.stderr.write(chunk, ...rest);

async function main() {
  core.config.errorHandling = core.ErrorHandling.Throw;
  core.config.muteConsole = true;
  const snapshot = await core.utils.getSnapshotFromFile(path.resolve(file), {
    buildNodeIdIndex: true,
  });
  if (retained) {
    // shortest retainer paths, dominators and retained sizes, as `memlab analyze` does
    core.analysis.preparePathFinder(snapshot);
  }
  const nodes = snapshot.nodes;
  const n = nodes.length;

  const byName = new Map();
  const byType = new Map();
  const edgeTypes = new Map();
  let selfTotal = 0;
  let pathCount = 0;
  const names = new Array(n);
  for (let i = 0; i < n; i++) {
    const node = nodes.get(i);
    const name = node.name;
    const type = node.type;
    const size = node.self_size;
    names[i] = name;
    selfTotal += size;
    if (node.hasPathEdge) pathCount++;
    let row = byName.get(name);
    if (!row) byName.set(name, (row = { count: 0, self_size: 0, retained_size: retained ? 0 : null }));
    row.count++;
    row.self_size += size;
    let trow = byType.get(type);
    if (!trow) byType.set(type, (trow = { count: 0, self_size: 0 }));
    trow.count++;
    trow.self_size += size;
  }
  snapshot.edges.forEach(edge => {
    const t = edge.type;
    edgeTypes.set(t, (edgeTypes.get(t) || 0) + 1);
  });

  // reachable from node 0 over non-weak edges
  const seen = new Uint8Array(n);
  const stack = n > 0 ? [0] : [];
  if (n > 0) seen[0] = 1;
  let reachable = 0;
  while (stack.length) {
    const i = stack.pop();
    reachable++;
    for (const edge of nodes.get(i).references) {
      if (edge.type === 'weak') continue;
      const j = edge.to_node;
      if (!seen[j]) {
        seen[j] = 1;
        stack.push(j);
      }
    }
  }

  let largest = [];
  let root = null;
  if (n > 0) {
    const r = nodes.get(0);
    root = { id: r.id, type: r.type, name: r.name, self_size: r.self_size,
             retained_size: retained ? r.retainedSize : null, edge_count: r.edge_count };
  }
  if (retained && n > 0) {
    // dominator tree children lists, then a DFS that counts a node's retained size for
    // its name only when no dominator of it has the same name
    const dom = new Uint32Array(n);
    const childCount = new Uint32Array(n + 1);
    for (let i = 1; i < n; i++) {
      const d = nodes.get(i).dominatorNode;
      dom[i] = d ? d.nodeIndex : 0;
      childCount[dom[i]]++;
    }
    const first = new Uint32Array(n + 1);
    for (let i = 0; i < n; i++) first[i + 1] = first[i] + childCount[i];
    const fill = first.slice(0, n);
    const children = new Uint32Array(Math.max(n - 1, 0));
    for (let i = 1; i < n; i++) children[fill[dom[i]]++] = i;
    const open = new Map(); // name -> how many of the current dominator chain have it
    const todo = [[0, 0]]; // [node, state]: state 0 = enter, 1 = leave
    while (todo.length) {
      const [i, state] = todo.pop();
      const name = names[i];
      if (state === 1) {
        open.set(name, open.get(name) - 1);
        continue;
      }
      const k = open.get(name) || 0;
      if (k === 0 && i !== 0) byName.get(name).retained_size += nodes.get(i).retainedSize;
      open.set(name, k + 1);
      todo.push([i, 1]);
      for (let c = first[i]; c < first[i + 1]; c++) todo.push([children[c], 0]);
    }
    const cand = [];
    for (let i = 1; i < n; i++) {
      const node = nodes.get(i);
      if (node.type === 'synthetic') continue;
      cand.push([node.retainedSize, i]);
    }
    cand.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    largest = cand.slice(0, top).map(([, i]) => {
      const node = nodes.get(i);
      return { id: node.id, type: node.type, name: node.name, self_size: node.self_size,
               retained_size: node.retainedSize, edge_count: node.edge_count };
    });
  }

  const sortedObj = m => Object.fromEntries([...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  return {
    file: path.resolve(file),
    memlab_version: version,
    node_count: n,
    edge_count: snapshot.edges.length,
    self_size_total: selfTotal,
    reachable_count: reachable,
    path_count: retained ? pathCount : null,
    root,
    by_type: sortedObj(byType),
    edge_types: sortedObj(edgeTypes),
    by_name: sortedObj(byName),
    largest,
  };
}

main().then(
  result => {
    realStdoutWrite(JSON.stringify(result) + '\n');
  },
  err => {
    process.stderr.write(`memlab_summary: ${file} did not load: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
