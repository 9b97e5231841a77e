//! All shortest reference paths from a source (the roots, or a set of objects) to a set
//! of targets: Heapy's `x.sp`.
//!
//! A breadth-first search from the source stops at the first level that holds a target;
//! the targets reached there are the paths' ends. Walking back level by level keeps only
//! the edges that lie on some shortest path (a layered DAG). Each DAG node counts the
//! paths from it to the targets (multi-edges count separately; counts are exact: `u64`
//! while they fit, big integers past that, since a DAG of width w and length l has
//! w**l paths). Path number i is found by descending the DAG, at each node taking the
//! edges in Heapy's order (relation kind, then index or name) and skipping whole
//! subtrees by their counts, so any path is reached without enumerating those before it.
//!
//! From the roots, two rules keep the answer readable:
//!
//! * **One root edge per object.** Several roots may name one object (every running
//!   frame's `f_globals`, `i0_builtins` and each frame's `f_builtins`); only the first
//!   reported root edge to an object is a path's first step, so such an object is not
//!   counted once per frame. Roots are reported interpreter members first.
//! * **Interpreter roots first.** The search runs from the interpreter's members
//!   (`i0_modules`, `i0_sysdict`, ...) alone first; only when no target is reachable
//!   from them does it run from every root, threads' frames and states included. So a
//!   module global is explained as `i0_modules['m'].__dict__['x']` (as guppy3 does),
//!   never through whichever frame happens to be running code of that module, while an
//!   object that only a frame holds still gets its frame path.
//!
//! All passes are linear in the nodes and edges visited: levels are kept as one array
//! with offsets, the DAG's edges in one array, per-node state in hash maps or bitsets.

use std::fmt::Write as _;

use num_bigint::BigUint;
use num_traits::{ToPrimitive, Zero};

use std::borrow::Cow;

use crate::{
    root_label, CoreError, EdgeLabels, FastMap, HeapGraph, Label, LabelId, LabelTable, NodeId,
    NodeSet,
};

/// The labels a path search asks for: those of the edges out of the nodes it keeps
/// (its DAG's sources) and of the root edges. A graph's [`EdgeLabels`] (every edge
/// labelled, see [`AllLabels`]) answer; a caller able to name one node's references can
/// answer for just the nodes asked about, so a path query on a large capture costs no
/// labelling of the whole heap.
pub trait PathLabels {
    /// The labels of `n`'s edges at positions `edges` of `g.referents(n)`, in order.
    fn node(&mut self, g: &HeapGraph, n: NodeId, edges: &[usize]) -> Vec<Label>;
    /// The label of root edge `k`.
    fn root(&mut self, g: &HeapGraph, k: usize) -> Label {
        root_label(&g.roots()[k].0)
    }
}

/// [`PathLabels`] from a graph's labels of every edge.
pub struct AllLabels<'a>(pub &'a EdgeLabels);

impl PathLabels for AllLabels<'_> {
    fn node(&mut self, g: &HeapGraph, n: NodeId, edges: &[usize]) -> Vec<Label> {
        let first = g.edge_range(n).start;
        edges
            .iter()
            .map(|&e| self.0.label(self.0.edge(first + e)).into_owned())
            .collect()
    }

    fn root(&mut self, _g: &HeapGraph, k: usize) -> Label {
        self.0.label(self.0.root(k)).into_owned()
    }
}

/// Where paths start.
#[derive(Clone, Debug)]
pub enum PathSource {
    /// The interpreter's roots (each root edge is a first hop, labelled `.i0_...`).
    Root,
    /// These objects (each path starts at one of them).
    Nodes(NodeSet),
}

/// The virtual root's id in edge pairs.
pub const ROOT_NODE: u32 = u32::MAX;

/// An edge `(from, to)` by node ids, `from` being [`ROOT_NODE`] for a root edge.
pub type EdgePair = (u32, u32);

/// One step of a path: the label of the edge taken (`None` for the start of a path from
/// a source object) and the node reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathStep {
    pub label: Option<LabelId>,
    pub node: NodeId,
}

/// Why a search found no path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoPath {
    /// The target set is empty.
    EmptyTargets,
    /// No target is reachable from the source at all (from the roots: the targets are
    /// held only by unreachable objects, or only from C).
    Unreachable,
    /// Targets are reachable, but only through the avoided nodes or edges.
    Avoided,
}

/// Whether a root name is a thread's member (`i0_t<thread id>_...`: its frames, its
/// state's exception, dict, context...) rather than an interpreter member
/// (`i0_modules`, `i0_sysdict`, ...).
pub fn is_thread_root(name: &str) -> bool {
    let rest = match name.strip_prefix('i') {
        Some(r) => r.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => return false,
    };
    let Some(rest) = rest.strip_prefix("_t") else {
        return false;
    };
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    digits > 0 && rest[digits..].starts_with('_')
}

/// A DAG edge: its label, the node reached and that node's index among the DAG's nodes.
#[derive(Clone, Copy, Debug)]
struct DagEdge {
    label: Option<LabelId>,
    node: NodeId,
    to: u32,
}

/// Paths from each DAG node to the targets.
#[derive(Debug)]
enum Counts {
    Small(Vec<u64>),
    Big(Vec<BigUint>),
}

/// A breadth-first search's levels: level `l` is `order[at[l]..at[l + 1]]`.
struct Levels {
    dist: Vec<u32>,
    order: Vec<NodeId>,
    at: Vec<usize>,
    reached: NodeSet,
}

impl Levels {
    fn level(&self, l: usize) -> &[NodeId] {
        &self.order[self.at[l]..self.at[l + 1]]
    }

    fn count(&self) -> usize {
        self.at.len() - 1
    }
}

/// The shortest paths to a set of targets.
#[derive(Debug)]
pub struct ShortestPaths {
    /// First steps: root edges or source objects, in order.
    starts: Vec<DagEdge>,
    /// DAG nodes in creation order (targets first, then level by level towards the
    /// source); node i's out-edges are `edges[out[i]..out[i + 1]]`, in Heapy's order.
    out: Vec<u32>,
    edges: Vec<DagEdge>,
    counts: Counts,
    numpaths: BigUint,
    /// The DAG's edges hop by hop (hop 0 leaves the source): `hop_edges[hop_at[h]..
    /// hop_at[h + 1]]`, for `avoided`.
    hop_edges: Vec<EdgePair>,
    hop_at: Vec<usize>,
    /// The targets the paths end at (those at the shortest distance).
    reached: NodeSet,
    /// Why there is no path, when there is none.
    no_path: Option<NoPath>,
    /// The labels of the DAG's edges (the ids in its edges and steps).
    table: LabelTable,
}

impl ShortestPaths {
    /// Computes the paths from `source` to `targets`, never entering `avoid_nodes` nor
    /// taking an edge in `avoid_edges` (all edges between such a pair are avoided);
    /// `labels` names the edges of the paths found.
    pub fn compute(
        g: &HeapGraph,
        labels: &mut dyn PathLabels,
        source: &PathSource,
        targets: &NodeSet,
        avoid_nodes: &NodeSet,
        avoid_edges: &FastMap<EdgePair, ()>,
    ) -> Result<Self, CoreError> {
        if !g.has_edges() {
            return Err(CoreError::NoEdges);
        }
        // bitsets for the membership tests of the search
        let (targets, avoid_nodes) = (targets.dense(), avoid_nodes.dense());
        let (targets, avoid_nodes) = (&*targets, &*avoid_nodes);
        let avoided = |from: u32, to: NodeId| -> bool {
            avoid_nodes.contains(to)
                || (!avoid_edges.is_empty() && avoid_edges.contains_key(&(from, to.0)))
        };
        // The root edges a path may start with: one per object, the first reported
        // (an interpreter member's rather than a thread's), in the roots' order.
        let mut root_edges: Vec<(usize, NodeId)> = Vec::new();
        if let PathSource::Root = source {
            let roots = g.roots();
            let mut first: FastMap<u32, usize> = FastMap::default();
            for (k, (name, t)) in roots.iter().enumerate() {
                let slot = first.entry(t.0).or_insert(k);
                if is_thread_root(&roots[*slot].0) && !is_thread_root(name) {
                    *slot = k;
                }
            }
            root_edges = first.into_iter().map(|(t, k)| (k, NodeId(t))).collect();
            root_edges.sort_unstable();
        }
        let thread_root = |k: usize| is_thread_root(&g.roots()[k].0);
        // `seen`: nodes a previous search visited without reaching a target (the
        // interpreter's reach): nothing through them can reach one, so they are skipped.
        let search = |tier_one: bool, avoid: bool, seen: Option<Vec<u32>>| -> Levels {
            let skip = |from: u32, to: NodeId| avoid && avoided(from, to);
            let dist = seen.unwrap_or_else(|| vec![u32::MAX; g.node_count()]);
            match source {
                PathSource::Root => {
                    let first = root_edges
                        .iter()
                        .filter(|&&(k, t)| !(skip(ROOT_NODE, t) || tier_one && thread_root(k)))
                        .map(|&(_, t)| t);
                    bfs(g, dist, &[], first, targets, skip)
                }
                PathSource::Nodes(set) => {
                    let level0: Vec<NodeId> = set
                        .iter()
                        .filter(|&s| !(avoid && avoid_nodes.contains(s)))
                        .collect();
                    let first: Vec<NodeId> = level0
                        .iter()
                        .flat_map(|&s| g.referents(s).iter().map(move |&t| (s, t)))
                        .filter(|&(s, t)| !skip(s.0, t))
                        .map(|(_, t)| t)
                        .collect();
                    bfs(g, dist, &level0, first.into_iter(), targets, skip)
                }
            }
        };
        let mut tier_one = matches!(source, PathSource::Root);
        let mut levels = search(tier_one, true, None);
        if levels.reached.is_empty() && tier_one {
            // on from the threads' roots, through what the interpreter's did not reach
            tier_one = false;
            levels = search(false, true, Some(levels.dist));
        }
        let mut paths = ShortestPaths {
            starts: Vec::new(),
            out: vec![0],
            edges: Vec::new(),
            counts: Counts::Small(Vec::new()),
            numpaths: BigUint::zero(),
            hop_edges: Vec::new(),
            hop_at: vec![0],
            reached: NodeSet::empty(g.node_count()),
            no_path: None,
            table: LabelTable::default(),
        };
        if levels.reached.is_empty() {
            let avoiding = !avoid_nodes.is_empty() || !avoid_edges.is_empty();
            paths.no_path = Some(if targets.is_empty() {
                NoPath::EmptyTargets
            } else if avoiding && !search(false, false, None).reached.is_empty() {
                NoPath::Avoided
            } else {
                NoPath::Unreachable
            });
            return Ok(paths);
        }
        let dist = &levels.dist;
        let last = levels.count() - 1;
        // Back from the targets: keep the edges into kept nodes of the next level. DAG
        // nodes are numbered as they are kept; edges only lead to earlier ones.
        let mut index: FastMap<u32, u32> = FastMap::default();
        let mut kept = levels.reached.clone();
        for t in levels.reached.iter() {
            index.insert(t.0, index.len() as u32);
            paths.out.push(0);
        }
        // Source objects are level 0 and walked back to like any level; the virtual root
        // is not a node: its edges are the root edges, handled below.
        let lowest = match source {
            PathSource::Root => 1,
            PathSource::Nodes(_) => 0,
        };
        // hop h's edges, collected from the last hop down: segments[last - 1 - h]
        let mut rev_hops: Vec<EdgePair> = Vec::new();
        let mut rev_at: Vec<usize> = vec![0];
        let mut sources: Vec<NodeId> = Vec::new();
        let mut positions: Vec<usize> = Vec::new();
        for level in (lowest..last).rev() {
            for &u in levels.level(level) {
                let on_dag = |t: NodeId| {
                    dist[t.index()] == level as u32 + 1 && kept.contains(t) && !avoided(u.0, t)
                };
                let referents = g.referents(u);
                positions.clear();
                positions.extend((0..referents.len()).filter(|&e| on_dag(referents[e])));
                if positions.is_empty() {
                    continue;
                }
                // only the DAG's edges are labelled
                let from = paths.edges.len();
                for (&e, label) in positions.iter().zip(labels.node(g, u, &positions)) {
                    let t = referents[e];
                    paths.edges.push(DagEdge {
                        label: Some(paths.table.intern(label)),
                        node: t,
                        to: index[&t.0],
                    });
                }
                sort_steps(g, &paths.table, &mut paths.edges[from..]);
                rev_hops.extend(paths.edges[from..].iter().map(|e| (u.0, e.node.0)));
                kept.insert(u);
                index.insert(u.0, index.len() as u32);
                paths.out.push(paths.edges.len() as u32);
                if level == 0 {
                    sources.push(u);
                }
            }
            rev_at.push(rev_hops.len());
        }
        // The first steps: root edges, or the source objects themselves.
        let mut first_hop: Vec<EdgePair> = Vec::new();
        match source {
            PathSource::Root => {
                for &(k, t) in &root_edges {
                    if tier_one && thread_root(k) {
                        continue;
                    }
                    if dist[t.index()] == 1 && kept.contains(t) && !avoided(ROOT_NODE, t) {
                        let label = paths.table.intern(labels.root(g, k));
                        paths.starts.push(DagEdge {
                            label: Some(label),
                            node: t,
                            to: index[&t.0],
                        });
                        first_hop.push((ROOT_NODE, t.0));
                    }
                }
            }
            PathSource::Nodes(_) => {
                sources.sort_unstable_by_key(|&s| g.address(s));
                paths.starts = sources
                    .into_iter()
                    .map(|s| DagEdge {
                        label: None,
                        node: s,
                        to: index[&s.0],
                    })
                    .collect();
            }
        }
        // Hops in order: the root edges (from the roots), then the levels' segments,
        // each sorted and without repeats (multi-edges).
        let push_hop = |paths: &mut ShortestPaths, hop: &mut [EdgePair]| {
            hop.sort_unstable();
            let start = paths.hop_edges.len();
            for &e in hop.iter() {
                if paths.hop_edges.len() == start || paths.hop_edges.last() != Some(&e) {
                    paths.hop_edges.push(e);
                }
            }
            paths.hop_at.push(paths.hop_edges.len());
        };
        if let PathSource::Root = source {
            push_hop(&mut paths, &mut first_hop);
        }
        for seg in (0..rev_at.len() - 1).rev() {
            push_hop(&mut paths, &mut rev_hops[rev_at[seg]..rev_at[seg + 1]]);
        }
        paths.reached = levels.reached;
        paths.count();
        Ok(paths)
    }

    /// Counts the paths from every DAG node (in creation order, each node's edges lead to
    /// counted nodes), in `u64` unless a count overflows it.
    fn count(&mut self) {
        let nodes = self.out.len() - 1;
        let mut small: Vec<u64> = Vec::with_capacity(nodes);
        let mut overflow = false;
        for i in 0..nodes {
            let out = &self.edges[self.out[i] as usize..self.out[i + 1] as usize];
            if out.is_empty() {
                small.push(1);
                continue;
            }
            let mut c: u64 = 0;
            for e in out {
                match c.checked_add(small[e.to as usize]) {
                    Some(v) => c = v,
                    None => overflow = true,
                }
            }
            if overflow {
                break;
            }
            small.push(c);
        }
        let total = if !overflow {
            self.starts
                .iter()
                .try_fold(0u64, |acc, s| acc.checked_add(small[s.to as usize]))
        } else {
            None
        };
        if let Some(total) = total {
            self.numpaths = BigUint::from(total);
            self.counts = Counts::Small(small);
            return;
        }
        drop(small);
        let mut big: Vec<BigUint> = Vec::with_capacity(nodes);
        for i in 0..nodes {
            let out = &self.edges[self.out[i] as usize..self.out[i + 1] as usize];
            if out.is_empty() {
                big.push(BigUint::from(1u32));
                continue;
            }
            let mut c = BigUint::zero();
            for e in out {
                c += &big[e.to as usize];
            }
            big.push(c);
        }
        let mut total = BigUint::zero();
        for s in &self.starts {
            total += &big[s.to as usize];
        }
        self.numpaths = total;
        self.counts = Counts::Big(big);
    }

    /// The exact number of shortest paths.
    pub fn numpaths(&self) -> &BigUint {
        &self.numpaths
    }

    /// The targets the paths end at.
    pub fn reached(&self) -> &NodeSet {
        &self.reached
    }

    /// Why there is no path (None when there are paths).
    pub fn no_path(&self) -> Option<NoPath> {
        self.no_path
    }

    /// Number of edges in each path.
    pub fn length(&self) -> usize {
        self.hop_at.len() - 1
    }

    /// The DAG's edges at these hops (0 leaves the source).
    pub fn edges_at(&self, hop: usize) -> &[EdgePair] {
        if hop + 1 < self.hop_at.len() {
            &self.hop_edges[self.hop_at[hop]..self.hop_at[hop + 1]]
        } else {
            &[]
        }
    }

    /// The objects at `level` of the paths (Heapy's `sets`): level 0 holds the source
    /// objects the paths start from (none for the roots, which are no object), level
    /// [`ShortestPaths::length`] the targets. None past the last level, or when there is no
    /// path.
    pub fn level_set(&self, universe: usize, level: usize) -> Option<NodeSet> {
        if self.numpaths.is_zero() || level > self.length() {
            return None;
        }
        let ids: Vec<NodeId> = if level == 0 {
            self.edges_at(0)
                .iter()
                .filter(|&&(from, _)| from != ROOT_NODE)
                .map(|&(from, _)| NodeId(from))
                .collect()
        } else {
            self.edges_at(level - 1)
                .iter()
                .map(|&(_, to)| NodeId(to))
                .collect()
        };
        Some(NodeSet::from_ids(universe, ids))
    }

    /// The root edges the paths start with (label of each distinct one, in order): a
    /// caller renders each root once per path set (see [`ShortestPaths::render`]).
    pub fn start_labels(&self) -> Vec<LabelId> {
        let mut seen: FastMap<u32, ()> = FastMap::default();
        self.starts
            .iter()
            .filter_map(|s| s.label)
            .filter(|l| seen.insert(l.0, ()).is_none())
            .collect()
    }

    /// A label of the paths (ids in their steps and `start_labels`).
    pub fn label(&self, id: LabelId) -> Cow<'_, Label> {
        self.table.get(id)
    }

    fn out_of(&self, i: u32) -> &[DagEdge] {
        &self.edges[self.out[i as usize] as usize..self.out[i as usize + 1] as usize]
    }

    /// Path number `index` (0-based, in Heapy's order), or None past the end.
    pub fn path(&self, index: &BigUint) -> Option<Vec<PathStep>> {
        if index >= &self.numpaths {
            return None;
        }
        let mut steps = Vec::with_capacity(self.length() + 1);
        let mut choices: &[DagEdge] = &self.starts;
        let take = |steps: &mut Vec<PathStep>, e: &DagEdge| {
            steps.push(PathStep {
                label: e.label,
                node: e.node,
            })
        };
        match &self.counts {
            Counts::Small(counts) => {
                let mut rest = index.to_u64().expect("counts fit in u64");
                loop {
                    let mut chosen = None;
                    for e in choices {
                        let c = counts[e.to as usize];
                        if rest < c {
                            chosen = Some(e);
                            break;
                        }
                        rest -= c;
                    }
                    let e = chosen.expect("counts add up to numpaths");
                    take(&mut steps, e);
                    choices = self.out_of(e.to);
                    if choices.is_empty() {
                        return Some(steps);
                    }
                }
            }
            Counts::Big(counts) => {
                let mut rest = index.clone();
                loop {
                    let mut chosen = None;
                    for e in choices {
                        let c = &counts[e.to as usize];
                        if &rest < c {
                            chosen = Some(e);
                            break;
                        }
                        rest -= c;
                    }
                    let e = chosen.expect("counts add up to numpaths");
                    take(&mut steps, e);
                    choices = self.out_of(e.to);
                    if choices.is_empty() {
                        return Some(steps);
                    }
                }
            }
        }
    }

    /// A path as Heapy prints it: labels applied to `srcname` (`h.Root`, `Src`); a first
    /// step that is a root edge is written as `roots` gives it (`.thread('T').frame('f')`),
    /// else as its label (`.i0_modules`). One growing string: linear in the length.
    pub fn render(
        &self,
        path: &[PathStep],
        srcname: &str,
        roots: &FastMap<LabelId, String>,
    ) -> String {
        let mut out = String::new();
        write_steps(&self.table, &mut out, srcname, path, roots);
        out
    }

    /// Like [`ShortestPaths::render`], but a path of more than `3 * keep` steps prints its
    /// first and last `keep` steps around `... N more steps ...`.
    pub fn render_brief(
        &self,
        path: &[PathStep],
        srcname: &str,
        roots: &FastMap<LabelId, String>,
        keep: usize,
    ) -> String {
        // the steps that are edges (a path from a source object starts with the object)
        let skip = path.iter().take_while(|s| s.label.is_none()).count();
        let steps = &path[skip..];
        if keep == 0 || steps.len() <= 3 * keep {
            return self.render(path, srcname, roots);
        }
        let mut out = String::new();
        write_steps(&self.table, &mut out, srcname, &path[..skip + keep], roots);
        let elided = steps.len() - 2 * keep;
        let _ = write!(out, " ... {} more steps ... ", thousands(elided as u64));
        write_steps(
            &self.table,
            &mut out,
            "",
            &steps[steps.len() - keep..],
            &FastMap::default(),
        );
        out
    }
}

/// `srcname` followed by the steps' labels, appended to `out` (wrapping labels get their
/// `list(` written first).
fn write_steps(
    labels: &LabelTable,
    out: &mut String,
    srcname: &str,
    path: &[PathStep],
    roots: &FastMap<LabelId, String>,
) {
    let wrapping = path
        .iter()
        .filter_map(|s| s.label)
        .filter(|&l| labels.get(l).wraps())
        .count();
    out.reserve(srcname.len() + 6 * wrapping + 8 * path.len());
    for _ in 0..wrapping {
        out.push_str("list(");
    }
    out.push_str(srcname);
    let mut first = true;
    for step in path {
        let Some(l) = step.label else { continue };
        match roots.get(&l) {
            Some(text) if first => out.push_str(text),
            _ => labels.get(l).append_to(out),
        }
        first = false;
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Breadth first from `level0` (dist 0) and `first` (dist 1, duplicates ignored), level
/// by level until a level holds a target, never taking an edge `skip` refuses nor
/// entering a node whose `dist` is already set.
fn bfs(
    g: &HeapGraph,
    mut dist: Vec<u32>,
    level0: &[NodeId],
    first: impl Iterator<Item = NodeId>,
    targets: &NodeSet,
    skip: impl Fn(u32, NodeId) -> bool,
) -> Levels {
    let n = g.node_count();
    let mut order: Vec<NodeId> = Vec::new();
    for &s in level0 {
        if dist[s.index()] == u32::MAX {
            dist[s.index()] = 0;
            order.push(s);
        }
    }
    let mut at = vec![0, order.len()];
    for t in first {
        if dist[t.index()] == u32::MAX {
            dist[t.index()] = 1;
            order.push(t);
        }
    }
    let mut reached = NodeSet::empty(n);
    let mut found = false;
    let mut depth = 1u32; // the level order[at[depth]..] is being closed
    loop {
        let start = at[depth as usize];
        if order.len() == start {
            break; // an empty level: nothing more to reach
        }
        at.push(order.len());
        for &t in &order[start..] {
            if targets.contains(t) {
                reached.insert(t);
                found = true;
            }
        }
        if found {
            break;
        }
        let end = order.len();
        for i in start..end {
            let u = order[i];
            for &t in g.referents(u) {
                if dist[t.index()] == u32::MAX && !skip(u.0, t) {
                    dist[t.index()] = depth + 1;
                    order.push(t);
                }
            }
        }
        depth += 1;
    }
    Levels {
        dist,
        order,
        at,
        reached,
    }
}

/// Heapy's order of the edges out of one object: by relation, then index or name, then
/// target (stable across runs for one heap).
fn sort_steps(g: &HeapGraph, labels: &LabelTable, steps: &mut [DagEdge]) {
    if steps.len() < 2 {
        return;
    }
    steps.sort_by(|a, b| {
        let la = a.label.map(|l| labels.get(l));
        let lb = b.label.map(|l| labels.get(l));
        let ka = la.as_ref().map(|l| l.sort_key());
        let kb = lb.as_ref().map(|l| l.sort_key());
        ka.cmp(&kb)
            .then_with(|| g.address(a.node).cmp(&g.address(b.node)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::One;

    use crate::{EdgeLabeler, Label, Relation, TypeId, WalkRecorder};

    /// The paths, named with the graph's labels of every edge.
    fn compute(
        g: &HeapGraph,
        source: &PathSource,
        targets: &NodeSet,
        avoid_nodes: &NodeSet,
        avoid_edges: &FastMap<EdgePair, ()>,
    ) -> Result<ShortestPaths, CoreError> {
        let mut labels = AllLabels(g.edge_labels().unwrap());
        ShortestPaths::compute(g, &mut labels, source, targets, avoid_nodes, avoid_edges)
    }

    /// A graph with nodes 0..n (address 0x1000 * (i + 1)), edges labelled `[k]` by their
    /// position in the source's list, and root edges `.r<k>`.
    fn graph(n: u32, edges: &[(u32, u32)], roots: &[u32]) -> HeapGraph {
        let named: Vec<(String, u32)> = roots
            .iter()
            .enumerate()
            .map(|(k, &r)| (format!("r{k}"), r))
            .collect();
        named_graph(n, edges, &named)
    }

    /// Like [`graph`], with root edges named as given.
    fn named_graph(n: u32, edges: &[(u32, u32)], roots: &[(String, u32)]) -> HeapGraph {
        let addr = |i: u32| 0x1000 * (u64::from(i) + 1);
        let mut w = WalkRecorder::new(true);
        let t = w.types.intern(0x9000, false, false);
        for i in 0..n {
            w.reach(addr(i));
        }
        let mut out: Vec<Vec<u32>> = vec![Vec::new(); n as usize];
        for &(a, b) in edges {
            out[a as usize].push(b);
        }
        for i in 0..n {
            w.begin_node(addr(i), t).unwrap();
            for &b in &out[i as usize] {
                w.edge_to(addr(b));
            }
        }
        let mut b = w.finish().unwrap();
        for (name, r) in roots {
            b.add_root(name.clone(), NodeId(*r));
        }
        for i in 0..n {
            b.set_size(NodeId(i), 10);
        }
        b.set_type_names(vec!["T".into()]);
        let g = b.build();
        let _ = TypeId(0);
        let mut l = EdgeLabeler::new(&g).unwrap();
        for i in 0..n {
            let named: Vec<(u64, LabelId)> = g
                .referents(NodeId(i))
                .iter()
                .enumerate()
                .map(|(k, &t)| {
                    let id = l.table.intern(Label::new(Relation::Index, "", k as i64));
                    (g.address(t), id)
                })
                .collect();
            l.label_node(NodeId(i), &named);
        }
        let labels = l.finish();
        g.set_edge_labels(labels).unwrap();
        g
    }

    fn none() -> FastMap<LabelId, String> {
        FastMap::default()
    }

    fn set(g: &HeapGraph, ids: &[u32]) -> NodeSet {
        NodeSet::from_ids(g.node_count(), ids.iter().map(|&i| NodeId(i)))
    }

    fn texts(sp: &ShortestPaths) -> Vec<String> {
        let total: u64 = sp.numpaths().try_into().unwrap();
        (0..total)
            .map(|i| sp.render(&sp.path(&BigUint::from(i)).unwrap(), "h.Root", &none()))
            .collect()
    }

    #[test]
    fn paths_in_order_and_avoided_routes() {
        // r0 -> 0 -> 2 (target); r1 -> 1 -> 3 -> 2; 0 -> 2 twice (multi-edge)
        let g = graph(4, &[(0, 2), (0, 2), (1, 3), (3, 2)], &[0, 1]);
        let none = FastMap::default();
        let sp = compute(&g, &PathSource::Root, &set(&g, &[2]), &g.empty_set(), &none).unwrap();
        assert_eq!(sp.numpaths(), &BigUint::from(2u32));
        assert_eq!(texts(&sp), vec!["h.Root.r0[0]", "h.Root.r0[1]"]);
        assert_eq!(sp.path(&BigUint::from(2u32)), None);
        assert_eq!(sp.edges_at(0), &[(ROOT_NODE, 0)]);
        // avoiding the first hop finds the next route
        let mut avoid = FastMap::default();
        for &e in sp.edges_at(0) {
            avoid.insert(e, ());
        }
        let next = compute(
            &g,
            &PathSource::Root,
            &set(&g, &[2]),
            &g.empty_set(),
            &avoid,
        )
        .unwrap();
        assert_eq!(texts(&next), vec!["h.Root.r1[0][0]"]);
        // avoiding a node, and a source set instead of the root
        let via_nodes = compute(
            &g,
            &PathSource::Root,
            &set(&g, &[2]),
            &set(&g, &[0, 3]),
            &none,
        )
        .unwrap();
        assert_eq!(via_nodes.numpaths(), &BigUint::zero());
        assert!(via_nodes.reached().is_empty());
        let from = compute(
            &g,
            &PathSource::Nodes(set(&g, &[1])),
            &set(&g, &[2]),
            &g.empty_set(),
            &none,
        )
        .unwrap();
        assert_eq!(texts(&from), vec!["h.Root[0][0]"]);
        // the objects at each level: sources, then hop by hop to the targets
        let levels = |sp: &ShortestPaths| -> Vec<Vec<NodeId>> {
            (0..)
                .map_while(|l| sp.level_set(g.node_count(), l))
                .map(|s| s.iter().collect())
                .collect()
        };
        assert_eq!(
            levels(&from),
            vec![vec![NodeId(1)], vec![NodeId(3)], vec![NodeId(2)]]
        );
        assert_eq!(levels(&sp), vec![vec![], vec![NodeId(0)], vec![NodeId(2)]]);
        assert!(levels(&via_nodes).is_empty());
    }

    #[test]
    fn only_the_nearest_targets_count() {
        // targets 1 (depth 1) and 2 (depth 2): only 1 is reached
        let g = graph(3, &[(0, 2)], &[0, 1]);
        let sp = compute(
            &g,
            &PathSource::Root,
            &set(&g, &[1, 2]),
            &g.empty_set(),
            &FastMap::default(),
        )
        .unwrap();
        assert_eq!(texts(&sp), vec!["h.Root.r1"]);
        assert_eq!(sp.reached().iter().collect::<Vec<_>>(), vec![NodeId(1)]);
    }

    #[test]
    fn exact_big_counts() {
        // 20 layers of 10 nodes, each fully connected to the next: 10**20 paths
        let (width, length) = (10u32, 20u32);
        let mut edges = Vec::new();
        for layer in 0..length - 1 {
            for a in 0..width {
                for b in 0..width {
                    edges.push((layer * width + a, (layer + 1) * width + b));
                }
            }
        }
        let roots: Vec<u32> = (0..width).collect();
        let last: Vec<u32> = ((length - 1) * width..length * width).collect();
        let g = graph(width * length, &edges, &roots);
        let sp = compute(
            &g,
            &PathSource::Root,
            &set(&g, &last),
            &g.empty_set(),
            &FastMap::default(),
        )
        .unwrap();
        let expected = BigUint::from(10u32).pow(20);
        assert_eq!(sp.numpaths(), &expected);
        assert_eq!(sp.length(), 20);
        let one = BigUint::one();
        let final_path = sp.path(&(&expected - &one)).unwrap();
        assert_eq!(final_path.len(), 20);
        assert_eq!(
            sp.render(&final_path, "h.Root", &none()),
            format!("h.Root.r9{}", "[9]".repeat(19))
        );
        let first = sp.path(&BigUint::zero()).unwrap();
        assert_eq!(
            sp.render(&first, "h.Root", &none()),
            format!("h.Root.r0{}", "[0]".repeat(19))
        );
        assert_eq!(sp.path(&expected), None);
        // path 12345 reads as the digits of 12345, most significant hop first
        let p = sp.path(&BigUint::from(12345u32)).unwrap();
        assert_eq!(
            sp.render(&p, "", &none()),
            format!(".r0{}[1][2][3][4][5]", "[0]".repeat(14))
        );
    }

    fn roots(names: &[(&str, u32)]) -> Vec<(String, u32)> {
        names.iter().map(|&(n, r)| (n.to_string(), r)).collect()
    }

    fn from_roots(g: &HeapGraph, targets: &[u32]) -> ShortestPaths {
        compute(
            g,
            &PathSource::Root,
            &set(g, targets),
            &g.empty_set(),
            &FastMap::default(),
        )
        .unwrap()
    }

    #[test]
    fn thread_roots_by_name() {
        assert!(is_thread_root("i0_t140087351662272_f0.f_globals"));
        assert!(is_thread_root("i0_t1_f2:handler.f_locals['x']"));
        assert!(is_thread_root("i0_t1_dict"));
        assert!(!is_thread_root("i0_modules"));
        assert!(!is_thread_root("i0_tracer"));
        assert!(!is_thread_root("i0_t_x"));
        assert!(!is_thread_root("t1_f0"));
    }

    #[test]
    fn one_root_edge_per_object() {
        // three frames' f_globals name the same dict (node 0), which holds the target 1
        let g = named_graph(
            2,
            &[(0, 1)],
            &roots(&[
                ("i0_t7_f0:g.f_globals", 0),
                ("i0_t7_f1:f.f_globals", 0),
                ("i0_t7_f2:<module>.f_locals", 0),
            ]),
        );
        let sp = from_roots(&g, &[1]);
        assert_eq!(sp.numpaths(), &BigUint::one());
        assert_eq!(texts(&sp), vec!["h.Root.i0_t7_f0:g.f_globals[0]"]);
        assert_eq!(sp.edges_at(0), &[(ROOT_NODE, 0)]);
        // an interpreter member naming the same object wins, wherever it is reported
        let g = named_graph(
            2,
            &[(0, 1)],
            &roots(&[("i0_t7_f0.f_builtins", 0), ("i0_builtins", 0)]),
        );
        assert_eq!(texts(&from_roots(&g, &[1])), vec!["h.Root.i0_builtins[0]"]);
    }

    #[test]
    fn interpreter_roots_before_threads() {
        // i0_modules -> 0 -> 1 -> 2 -> 3 (target); a frame root reaches 2 directly, and
        // a frame-only object 4 is reached through the frame
        let g = named_graph(
            5,
            &[(0, 1), (1, 2), (2, 3)],
            &roots(&[
                ("i0_modules", 0),
                ("i0_t7_f0.f_globals", 2),
                ("i0_t7_f0.f_locals['y']", 4),
            ]),
        );
        assert_eq!(
            texts(&from_roots(&g, &[3])),
            vec!["h.Root.i0_modules[0][0][0]"]
        );
        assert_eq!(
            texts(&from_roots(&g, &[4])),
            vec!["h.Root.i0_t7_f0.f_locals['y']"]
        );
        // avoiding the interpreter's route falls back to the frame's
        let sp = from_roots(&g, &[3]);
        let avoid: FastMap<EdgePair, ()> = sp.edges_at(0).iter().map(|&e| (e, ())).collect();
        let next = compute(
            &g,
            &PathSource::Root,
            &set(&g, &[3]),
            &g.empty_set(),
            &avoid,
        )
        .unwrap();
        assert_eq!(texts(&next), vec!["h.Root.i0_t7_f0.f_globals[0]"]);
    }

    #[test]
    fn no_path_reasons() {
        // root -> 0 -> 2; nothing refers to 1
        let g = graph(3, &[(0, 2)], &[0]);
        let sp = from_roots(&g, &[1]);
        assert_eq!(sp.no_path(), Some(NoPath::Unreachable));
        assert_eq!(sp.numpaths(), &BigUint::zero());
        assert_eq!(from_roots(&g, &[]).no_path(), Some(NoPath::EmptyTargets));
        assert_eq!(from_roots(&g, &[2]).no_path(), None);
        let avoided = compute(
            &g,
            &PathSource::Root,
            &set(&g, &[2]),
            &set(&g, &[0]),
            &FastMap::default(),
        )
        .unwrap();
        assert_eq!(avoided.no_path(), Some(NoPath::Avoided));
    }

    #[test]
    fn long_chains_are_linear_and_print_elided() {
        // a linked list of 200,000 nodes: root -> 0 -> 1 -> ... -> n-1 (target)
        let n = 200_000u32;
        let edges: Vec<(u32, u32)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        let g = graph(n, &edges, &[0]);
        let sp = from_roots(&g, &[n - 1]);
        assert_eq!(sp.numpaths(), &BigUint::one());
        assert_eq!(sp.length(), n as usize);
        let path = sp.path(&BigUint::zero()).unwrap();
        let full = sp.render(&path, "h.Root", &none());
        assert_eq!(full.len(), "h.Root.r0".len() + 3 * (n as usize - 1));
        let brief = sp.render_brief(&path, "h.Root", &none(), 3);
        assert_eq!(
            brief,
            "h.Root.r0[0][0] ... 199,994 more steps ... [0][0][0]"
        );
        // short paths print whole
        assert_eq!(
            sp.render_brief(&path[..9], "h.Root", &none(), 3).len(),
            "h.Root.r0".len() + 24
        );
        // a root rendered by the caller, and set members wrapping the expression
        let mut given = FastMap::default();
        given.insert(
            path[0].label.unwrap(),
            ".thread('T').frame('f')".to_string(),
        );
        assert!(sp
            .render(&path[..2], "h.Root", &given)
            .starts_with("h.Root.thread('T').frame('f')[0]"));
    }

    #[test]
    fn set_members_wrap_with_one_string() {
        let labels = [
            Label::new(Relation::Attribute, "x", 0),
            Label::new(Relation::SetMember, "", 2),
            Label::new(Relation::Index, "", 1),
            Label::new(Relation::SetMember, "", 0),
        ];
        let mut expr = "h".to_string();
        let mut open = 0;
        let mut tail = String::new();
        for l in &labels {
            expr = l.apply(&expr);
            open += usize::from(l.wraps());
            l.append_to(&mut tail);
        }
        assert_eq!(expr, "list(list(h.x)[2][1])[0]");
        assert_eq!(format!("{}h{tail}", "list(".repeat(open)), expr);
        assert_eq!(labels[1].text(), "list(_)[2]");
    }

    /// Only the DAG's sources are asked for labels, and the paths read as they do with
    /// every edge labelled.
    #[test]
    fn labels_only_the_dags_sources() {
        struct Asked<'a> {
            all: AllLabels<'a>,
            asked: Vec<NodeId>,
        }
        impl PathLabels for Asked<'_> {
            fn node(&mut self, g: &HeapGraph, n: NodeId, edges: &[usize]) -> Vec<Label> {
                self.asked.push(n);
                self.all.node(g, n, edges)
            }
        }
        // root r0 -> 0; 0 -> 1 -> 3, 0 -> 2 -> 3, 2 -> 4 (a dead end), 5 -> 3 (unreached);
        // root r1 -> 4
        let g = graph(
            6,
            &[(0, 1), (1, 3), (0, 2), (2, 3), (2, 4), (5, 3)],
            &[0, 4],
        );
        let none_edges = FastMap::default();
        let mut asked = Asked {
            all: AllLabels(g.edge_labels().unwrap()),
            asked: Vec::new(),
        };
        let target = set(&g, &[3]);
        let lazy = ShortestPaths::compute(
            &g,
            &mut asked,
            &PathSource::Root,
            &target,
            &g.empty_set(),
            &none_edges,
        )
        .unwrap();
        let full = compute(&g, &PathSource::Root, &target, &g.empty_set(), &none_edges).unwrap();
        assert_eq!(texts(&lazy), texts(&full));
        assert_eq!(texts(&lazy).len(), 2);
        asked.asked.sort_unstable();
        assert_eq!(asked.asked, vec![NodeId(0), NodeId(1), NodeId(2)]);
    }
}
