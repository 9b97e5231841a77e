//! All shortest reference paths from a source (the roots, or a set of objects) to a set
//! of targets: Heapy's `x.sp`.
//!
//! A breadth-first search from the source stops at the first level that holds a target;
//! the targets reached there are the paths' ends. Walking back level by level keeps only
//! the edges that lie on some shortest path (a layered DAG). Each DAG node counts the
//! paths from it to the targets (multi-edges count separately; counts are exact big
//! integers: a DAG of width w and length l has w**l paths). Path number i is found by
//! descending the DAG, at each node taking the edges in Heapy's order (relation kind,
//! then index or name) and skipping whole subtrees by their counts, so any path is
//! reached without enumerating those before it.

use num_bigint::BigUint;
use num_traits::{One, Zero};

use crate::{CoreError, FastMap, HeapGraph, LabelId, NodeId, NodeSet};

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

/// The shortest paths to a set of targets.
#[derive(Debug)]
pub struct ShortestPaths {
    /// First steps: root edges or source objects, in order.
    starts: Vec<PathStep>,
    /// DAG out-edges of each node on a shortest path, in Heapy's order.
    out: FastMap<u32, Vec<PathStep>>,
    /// Number of paths from a DAG node to the targets.
    down: FastMap<u32, BigUint>,
    numpaths: BigUint,
    /// The DAG's edges hop by hop (hop 0 leaves the source), for `avoided`.
    hops: Vec<Vec<EdgePair>>,
    /// The targets the paths end at (those at the shortest distance).
    reached: NodeSet,
}

impl ShortestPaths {
    /// Computes the paths from `source` to `targets`, never entering `avoid_nodes` nor
    /// taking an edge in `avoid_edges` (all edges between such a pair are avoided).
    /// Edge labels must have been computed.
    pub fn compute(
        g: &HeapGraph,
        source: &PathSource,
        targets: &NodeSet,
        avoid_nodes: &NodeSet,
        avoid_edges: &FastMap<EdgePair, ()>,
    ) -> Result<Self, CoreError> {
        let labels = g.edge_labels().ok_or(CoreError::NoEdges)?;
        let n = g.node_count();
        let avoided = |from: u32, to: NodeId| -> bool {
            avoid_nodes.contains(to)
                || (!avoid_edges.is_empty() && avoid_edges.contains_key(&(from, to.0)))
        };
        // Breadth-first search, level by level, until a level holds a target.
        let mut dist = vec![u32::MAX; n];
        let mut levels: Vec<Vec<NodeId>> = Vec::new();
        let mut frontier: Vec<NodeId> = Vec::new();
        match source {
            PathSource::Root => {
                for (_, t) in g.roots() {
                    if !avoided(ROOT_NODE, *t) && dist[t.index()] == u32::MAX {
                        dist[t.index()] = 1;
                        frontier.push(*t);
                    }
                }
                levels.push(Vec::new()); // level 0: the virtual root
            }
            PathSource::Nodes(set) => {
                let mut level0 = Vec::new();
                for s in set.iter() {
                    if !avoid_nodes.contains(s) {
                        dist[s.index()] = 0;
                        level0.push(s);
                    }
                }
                for &s in &level0 {
                    for &t in g.referents(s) {
                        if dist[t.index()] == u32::MAX && !avoided(s.0, t) {
                            dist[t.index()] = 1;
                            frontier.push(t);
                        }
                    }
                }
                levels.push(level0);
            }
        }
        let mut reached = NodeSet::empty(n);
        loop {
            if frontier.is_empty() {
                break;
            }
            let depth = levels.len() as u32; // the frontier's level
            for &t in &frontier {
                if targets.contains(t) {
                    reached.insert(t);
                }
            }
            levels.push(std::mem::take(&mut frontier));
            if !reached.is_empty() {
                break;
            }
            for &u in &levels[depth as usize] {
                for &t in g.referents(u) {
                    if dist[t.index()] == u32::MAX && !avoided(u.0, t) {
                        dist[t.index()] = depth + 1;
                        frontier.push(t);
                    }
                }
            }
        }
        let mut paths = ShortestPaths {
            starts: Vec::new(),
            out: FastMap::default(),
            down: FastMap::default(),
            numpaths: BigUint::zero(),
            hops: Vec::new(),
            reached,
        };
        if paths.reached.is_empty() {
            return Ok(paths);
        }
        // Back from the targets: keep the edges into kept nodes of the next level.
        let last = levels.len() - 1;
        let mut kept = paths.reached.clone();
        for t in paths.reached.iter() {
            paths.down.insert(t.0, BigUint::one());
        }
        let mut hops: Vec<Vec<EdgePair>> = vec![Vec::new(); last];
        // Source objects are level 0 and walked back to like any level; the virtual root
        // is not a node: its edges are the root edges, handled below.
        let lowest = match source {
            PathSource::Root => 1,
            PathSource::Nodes(_) => 0,
        };
        let mut sources: Vec<NodeId> = Vec::new();
        for level in (lowest..last).rev() {
            for &u in &levels[level] {
                let mut edges: Vec<PathStep> = g
                    .labelled_referents(u)
                    .filter(|&(t, _)| {
                        dist[t.index()] == level as u32 + 1 && kept.contains(t) && !avoided(u.0, t)
                    })
                    .map(|(t, l)| PathStep {
                        label: Some(l),
                        node: t,
                    })
                    .collect();
                if edges.is_empty() {
                    continue;
                }
                sort_steps(g, &mut edges);
                let mut count = BigUint::zero();
                for e in &edges {
                    count += &paths.down[&e.node.0];
                    hops[level].push((u.0, e.node.0));
                }
                kept.insert(u);
                paths.down.insert(u.0, count);
                paths.out.insert(u.0, edges);
                if level == 0 {
                    sources.push(u);
                }
            }
        }
        // The first steps: root edges, or the source objects themselves.
        match source {
            PathSource::Root => {
                for (k, (_, t)) in g.roots().iter().enumerate() {
                    if dist[t.index()] == 1 && kept.contains(*t) && !avoided(ROOT_NODE, *t) {
                        paths.starts.push(PathStep {
                            label: Some(labels.root(k)),
                            node: *t,
                        });
                        hops[0].push((ROOT_NODE, t.0));
                    }
                }
                sort_steps(g, &mut paths.starts);
            }
            PathSource::Nodes(_) => {
                sources.sort_unstable_by_key(|&s| g.address(s));
                paths.starts = sources
                    .into_iter()
                    .map(|s| PathStep {
                        label: None,
                        node: s,
                    })
                    .collect();
            }
        }
        for s in &paths.starts {
            paths.numpaths += &paths.down[&s.node.0];
        }
        for h in &mut hops {
            h.sort_unstable();
            h.dedup();
        }
        paths.hops = hops;
        Ok(paths)
    }

    /// The exact number of shortest paths.
    pub fn numpaths(&self) -> &BigUint {
        &self.numpaths
    }

    /// The targets the paths end at.
    pub fn reached(&self) -> &NodeSet {
        &self.reached
    }

    /// Number of edges in each path.
    pub fn length(&self) -> usize {
        self.hops.len()
    }

    /// The DAG's edges at these hops (0 leaves the source).
    pub fn edges_at(&self, hop: usize) -> &[EdgePair] {
        self.hops.get(hop).map_or(&[], |h| h.as_slice())
    }

    /// Path number `index` (0-based, in Heapy's order), or None past the end.
    pub fn path(&self, index: &BigUint) -> Option<Vec<PathStep>> {
        if index >= &self.numpaths {
            return None;
        }
        let mut rest = index.clone();
        let mut steps = Vec::with_capacity(self.hops.len() + 1);
        let mut choices: &[PathStep] = &self.starts;
        loop {
            let mut chosen = None;
            for step in choices {
                let count = &self.down[&step.node.0];
                if &rest < count {
                    chosen = Some(*step);
                    break;
                }
                rest -= count;
            }
            let step = chosen.expect("counts add up to numpaths");
            steps.push(step);
            match self.out.get(&step.node.0) {
                Some(next) if !self.reached.contains(step.node) => choices = next,
                _ => return Some(steps),
            }
        }
    }

    /// A path as Heapy prints it: labels applied to `srcname` (`h.Root`, `Src`).
    pub fn render(&self, g: &HeapGraph, path: &[PathStep], srcname: &str) -> String {
        let labels = g.edge_labels().expect("edge labels were computed");
        let mut s = srcname.to_string();
        for step in path {
            if let Some(l) = step.label {
                s = labels.label(l).apply(&s);
            }
        }
        s
    }
}

/// Heapy's order of the edges out of one object: by relation, then index or name, then
/// target (stable across runs for one heap).
fn sort_steps(g: &HeapGraph, steps: &mut [PathStep]) {
    let labels = g.edge_labels().expect("edge labels were computed");
    steps.sort_by(|a, b| {
        let la = a.label.map(|l| labels.label(l));
        let lb = b.label.map(|l| labels.label(l));
        let ka = la.as_ref().map(|l| l.sort_key());
        let kb = lb.as_ref().map(|l| l.sort_key());
        ka.cmp(&kb)
            .then_with(|| g.address(a.node).cmp(&g.address(b.node)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EdgeLabeler, Label, Relation, TypeId, WalkRecorder};

    /// A graph with nodes 0..n (address 0x1000 * (i + 1)), edges labelled `[k]` by their
    /// position in the source's list, and root edges `.r<k>`.
    fn graph(n: u32, edges: &[(u32, u32)], roots: &[u32]) -> HeapGraph {
        let addr = |i: u32| 0x1000 * (u64::from(i) + 1);
        let mut w = WalkRecorder::new(true);
        let t = w.types.intern(0x9000, false, false);
        for i in 0..n {
            w.reach(addr(i));
        }
        for i in 0..n {
            w.begin_node(addr(i), t).unwrap();
            for &(a, b) in edges {
                if a == i {
                    w.edge_to(addr(b));
                }
            }
        }
        let mut b = w.finish().unwrap();
        for (k, &r) in roots.iter().enumerate() {
            b.add_root(format!("r{k}"), NodeId(r));
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

    fn set(g: &HeapGraph, ids: &[u32]) -> NodeSet {
        NodeSet::from_ids(g.node_count(), ids.iter().map(|&i| NodeId(i)))
    }

    fn texts(g: &HeapGraph, sp: &ShortestPaths) -> Vec<String> {
        let total: u64 = sp.numpaths().try_into().unwrap();
        (0..total)
            .map(|i| sp.render(g, &sp.path(&BigUint::from(i)).unwrap(), "h.Root"))
            .collect()
    }

    #[test]
    fn paths_in_order_and_avoided_routes() {
        // r0 -> 0 -> 2 (target); r1 -> 1 -> 3 -> 2; 0 -> 2 twice (multi-edge)
        let g = graph(4, &[(0, 2), (0, 2), (1, 3), (3, 2)], &[0, 1]);
        let none = FastMap::default();
        let sp =
            ShortestPaths::compute(&g, &PathSource::Root, &set(&g, &[2]), &g.empty_set(), &none)
                .unwrap();
        assert_eq!(sp.numpaths(), &BigUint::from(2u32));
        assert_eq!(texts(&g, &sp), vec!["h.Root.r0[0]", "h.Root.r0[1]"]);
        assert_eq!(sp.path(&BigUint::from(2u32)), None);
        assert_eq!(sp.edges_at(0), &[(ROOT_NODE, 0)]);
        // avoiding the first hop finds the next route
        let mut avoid = FastMap::default();
        for &e in sp.edges_at(0) {
            avoid.insert(e, ());
        }
        let next = ShortestPaths::compute(
            &g,
            &PathSource::Root,
            &set(&g, &[2]),
            &g.empty_set(),
            &avoid,
        )
        .unwrap();
        assert_eq!(texts(&g, &next), vec!["h.Root.r1[0][0]"]);
        // avoiding a node, and a source set instead of the root
        let via_nodes = ShortestPaths::compute(
            &g,
            &PathSource::Root,
            &set(&g, &[2]),
            &set(&g, &[0, 3]),
            &none,
        )
        .unwrap();
        assert_eq!(via_nodes.numpaths(), &BigUint::zero());
        assert!(via_nodes.reached().is_empty());
        let from = ShortestPaths::compute(
            &g,
            &PathSource::Nodes(set(&g, &[1])),
            &set(&g, &[2]),
            &g.empty_set(),
            &none,
        )
        .unwrap();
        assert_eq!(texts(&g, &from), vec!["h.Root[0][0]"]);
    }

    #[test]
    fn only_the_nearest_targets_count() {
        // targets 1 (depth 1) and 2 (depth 2): only 1 is reached
        let g = graph(3, &[(0, 2)], &[0, 1]);
        let sp = ShortestPaths::compute(
            &g,
            &PathSource::Root,
            &set(&g, &[1, 2]),
            &g.empty_set(),
            &FastMap::default(),
        )
        .unwrap();
        assert_eq!(texts(&g, &sp), vec!["h.Root.r1"]);
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
        let sp = ShortestPaths::compute(
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
            sp.render(&g, &final_path, "h.Root"),
            format!("h.Root.r9{}", "[9]".repeat(19))
        );
        let first = sp.path(&BigUint::zero()).unwrap();
        assert_eq!(
            sp.render(&g, &first, "h.Root"),
            format!("h.Root.r0{}", "[0]".repeat(19))
        );
        assert_eq!(sp.path(&expected), None);
        // path 12345 reads as the digits of 12345, most significant hop first
        let p = sp.path(&BigUint::from(12345u32)).unwrap();
        assert_eq!(
            sp.render(&g, &p, ""),
            format!(".r0{}[1][2][3][4][5]", "[0]".repeat(14))
        );
    }
}
