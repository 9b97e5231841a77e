//! The whole-heap dominator tree and retained sizes.
//!
//! # Model
//!
//! A virtual root `R` has an edge to every root target ([`HeapGraph::roots`]; several
//! roots may name the same node). Node `d` dominates `n` when every path from `R` to `n`
//! passes through `d`; the immediate dominator of `n` is its nearest strict dominator,
//! which is either another node or `R` itself ([`Dominator::Root`]). Immediate
//! dominators form a tree rooted at `R`, and a node's *retained size* is its own size
//! plus the sizes of everything below it in that tree: the bytes that would be freed if
//! it alone went away. Nodes not reachable from `R` (graphs captured from seeds can have
//! them) have no dominator, are in nobody's subtree and retain 0 bytes.
//!
//! # Algorithm
//!
//! Semi-NCA (Georgiadis' simplification of Lengauer–Tarjan), fast in practice and
//! near-linear on real graphs:
//!
//! 1. An iterative depth-first search from `R` numbers the reachable nodes in preorder
//!    (`R` is 0) and records DFS-tree parents. Heaps contain chains millions of objects
//!    long, so the search keeps its own stack rather than recursing. Non-tree edges are
//!    appended to a list as met; `R`'s edges only mark the root targets'
//!    semidominator as 0.
//! 2. The non-tree edges are grouped by target (counting sort) into predecessor lists.
//! 3. Semidominators are computed in reverse preorder with Lengauer–Tarjan's
//!    link/eval forest and path compression (`O(m log n)`). A node is linked exactly
//!    when it has been processed, i.e. when its preorder number is above the current
//!    one, so linking is implicit and path compression is an explicit-stack loop, again
//!    without recursion.
//! 4. In preorder, each node's immediate dominator is the nearest common ancestor of
//!    its DFS parent and its semidominator in the tree built so far: walk up from the
//!    parent while above the semidominator (short walks in practice, though quadratic
//!    in contrived worst cases).
//! 5. Immediate dominators precede their children in preorder, so one pass in reverse
//!    preorder adds every node's retained size into its dominator's.
//!
//! All of this is bound by memory latency on large heaps, so the passes are arranged to
//! keep dependent random accesses few: the DFS marks visits in a bitset (which stays
//! in cache) and takes referents last first, as the capture's walk does, so preorder
//! numbers follow node ids closely and the per-node tables are accessed nearly in order.
//!
//! The result keeps per node a `u32` immediate dominator, a `u64` retained size and the
//! dominator tree's children in CSR form (about 20 bytes per node); the temporaries of
//! the computation (about 32 bytes per node plus 8 per non-tree edge at the
//! peak) are dropped before [`DominatorTree::compute`] returns.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::OnceLock;

use crate::{HeapGraph, NodeId, NodeSet};

/// Immediate dominator of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dominator {
    /// The virtual root: no single node lies on every path from the roots.
    Root,
    Node(NodeId),
}

/// `idom` entry of a node unreachable from the roots. Node ids stop at `u32::MAX - 2`
/// (see `WalkRecorder::begin_node`), so both sentinels are free.
const UNREACHABLE: u32 = u32::MAX;
/// `idom` entry of a node immediately dominated by the virtual root.
const BY_ROOT: u32 = u32::MAX - 1;

/// Dominator tree of a whole [`HeapGraph`] with every node's retained size.
#[derive(Clone)]
pub struct DominatorTree {
    /// By node: immediate dominator's id, [`BY_ROOT`] or [`UNREACHABLE`].
    idom: Vec<u32>,
    /// By node: own size plus the sizes of all nodes it dominates (0 when unreachable).
    retained: Vec<u64>,
    /// By node: how many nodes it dominates, itself included (0 when unreachable).
    dominated: Vec<u32>,
    /// Children of node `n` in the dominator tree are
    /// `children[child_starts[n]..child_starts[n + 1]]`, in id order.
    child_starts: Vec<u32>,
    children: Vec<NodeId>,
    /// Children of the virtual root, in id order.
    root_children: Vec<NodeId>,
    /// Children of the virtual root by retained size (largest first, ties by id),
    /// sorted on the first page asked for: a heap can have millions of them, and a
    /// viewer pages through them click after click, so one sort serves every page.
    root_children_by_size: OnceLock<Vec<NodeId>>,
    /// The virtual root's retained size: total size of the reachable nodes.
    total: u64,
}

impl DominatorTree {
    /// Computes the tree in near-linear time (Semi-NCA with an iterative DFS, see the
    /// module docs), plus every node's retained size = its own size + sizes of all the
    /// nodes it dominates. Panics on a graph captured without edges, like
    /// [`HeapGraph::referents`].
    pub fn compute(g: &HeapGraph) -> Self {
        assert!(
            g.has_edges(),
            "a dominator tree needs a graph captured with edges"
        );
        let n = g.node_count();
        let mut search = search(g);
        search.semidominators();
        let Search {
            pre_of,
            vertex,
            mut parent,
            semi,
            ..
        } = search;
        drop(pre_of);
        let count = vertex.len(); // reachable nodes + the virtual root (index 0)

        // Immediate dominators in place of the DFS parents: processing in preorder, the
        // entries above `w` are final, so walking `idom` up from the parent finds the
        // nearest common ancestor of parent and semidominator.
        let idom = &mut parent;
        for w in 1..count {
            let mut d = idom[w];
            while d > semi[w] {
                d = idom[d as usize];
            }
            idom[w] = d;
        }
        drop(semi);

        // Retained sizes: children follow their dominator in preorder.
        let mut ret_pre: Vec<u64> = Vec::with_capacity(count);
        ret_pre.push(0);
        ret_pre.extend(vertex[1..].iter().map(|&v| g.size_of(NodeId(v))));
        // Dominated counts the same way (a node counts itself).
        let mut count_pre: Vec<u32> = vec![1; count];
        for w in (1..count).rev() {
            ret_pre[idom[w] as usize] += ret_pre[w];
            count_pre[idom[w] as usize] += count_pre[w];
        }

        let mut idom_of = vec![UNREACHABLE; n];
        let mut retained = vec![0u64; n];
        let mut dominated = vec![0u32; n];
        for w in 1..count {
            let v = vertex[w] as usize;
            let d = idom[w];
            idom_of[v] = if d == 0 { BY_ROOT } else { vertex[d as usize] };
            retained[v] = ret_pre[w];
            dominated[v] = count_pre[w];
        }
        let total = ret_pre.first().copied().unwrap_or(0);
        drop((ret_pre, count_pre, parent, vertex));

        // Children in CSR form; filling in id order keeps each list sorted.
        let mut child_starts = vec![0u32; n + 1];
        let mut root_count = 0usize;
        for &d in &idom_of {
            match d {
                UNREACHABLE => {}
                BY_ROOT => root_count += 1,
                p => child_starts[p as usize + 1] += 1,
            }
        }
        for i in 0..n {
            child_starts[i + 1] += child_starts[i];
        }
        let mut fill = child_starts.clone();
        let mut children = vec![NodeId(0); child_starts[n] as usize];
        let mut root_children = Vec::with_capacity(root_count);
        for (v, &d) in idom_of.iter().enumerate() {
            match d {
                UNREACHABLE => {}
                BY_ROOT => root_children.push(NodeId(v as u32)),
                p => {
                    let slot = &mut fill[p as usize];
                    children[*slot as usize] = NodeId(v as u32);
                    *slot += 1;
                }
            }
        }

        DominatorTree {
            idom: idom_of,
            retained,
            dominated,
            child_starts,
            children,
            root_children,
            root_children_by_size: OnceLock::new(),
            total,
        }
    }

    /// Immediate dominator of `n`; `None` when `n` is unreachable from the roots.
    pub fn idom(&self, n: NodeId) -> Option<Dominator> {
        match self.idom[n.index()] {
            UNREACHABLE => None,
            BY_ROOT => Some(Dominator::Root),
            d => Some(Dominator::Node(NodeId(d))),
        }
    }

    /// Own size of `n` plus the sizes of all nodes it dominates (0 when unreachable).
    pub fn retained_size(&self, n: NodeId) -> u64 {
        self.retained[n.index()]
    }

    /// How many nodes `n` dominates, itself included (0 when unreachable).
    pub fn dominated_count(&self, n: NodeId) -> u32 {
        self.dominated[n.index()]
    }

    /// Whether some path leads from the roots to `n`.
    pub fn is_reachable(&self, n: NodeId) -> bool {
        self.idom[n.index()] != UNREACHABLE
    }

    /// Nodes directly dominated by the virtual root (children of the virtual root in the
    /// dominator tree), in NodeId order.
    pub fn root_children(&self) -> &[NodeId] {
        &self.root_children
    }

    /// Nodes directly dominated by `n` (its children in the dominator tree), in NodeId
    /// order; empty for unreachable nodes.
    pub fn children(&self, n: NodeId) -> &[NodeId] {
        let lo = self.child_starts[n.index()] as usize;
        let hi = self.child_starts[n.index() + 1] as usize;
        &self.children[lo..hi]
    }

    /// Every node dominated by `n`, `n` included (its dominator subtree). An unreachable
    /// node dominates only itself.
    pub fn dominated_by(&self, n: NodeId) -> NodeSet {
        let mut set = NodeSet::empty(self.idom.len());
        set.insert(n);
        let mut stack = vec![n];
        while let Some(m) = stack.pop() {
            for &c in self.children(m) {
                set.insert(c);
                stack.push(c);
            }
        }
        set
    }

    /// The `k` reachable nodes with the largest retained size, largest first, ties by
    /// NodeId. A bounded heap keeps this `O(n log k)` without sorting every node.
    pub fn largest_retainers(&self, k: usize) -> Vec<NodeId> {
        if k == 0 {
            return Vec::new();
        }
        // Min-heap of the best k so far; a larger key is a better retainer.
        let mut heap: BinaryHeap<Reverse<(u64, Reverse<u32>)>> =
            BinaryHeap::with_capacity(k.min(self.idom.len()) + 1);
        for (v, (&d, &r)) in self.idom.iter().zip(&self.retained).enumerate() {
            if d == UNREACHABLE {
                continue;
            }
            let key = (r, Reverse(v as u32));
            if heap.len() < k {
                heap.push(Reverse(key));
            } else if let Some(mut worst) = heap.peek_mut() {
                if key > worst.0 {
                    *worst = Reverse(key);
                }
            }
        }
        let mut best: Vec<(u64, Reverse<u32>)> = heap.into_iter().map(|Reverse(k)| k).collect();
        best.sort_unstable_by(|a, b| b.cmp(a));
        best.into_iter().map(|(_, Reverse(v))| NodeId(v)).collect()
    }

    /// The members of `set` ordered by retained size (largest first, ties by NodeId):
    /// the page `start..start + count` as `(node, retained size)`, and how many members
    /// are reachable (only they have a retained size; the others are left out).
    ///
    /// Linear in the set: a selection puts the first `start + count` keys in front and
    /// only those are sorted, so the first page of a row of millions of objects costs
    /// one pass and a small sort rather than a sort of them all. The one allocation is
    /// the key vector (16 bytes per reachable member).
    pub fn largest_in(
        &self,
        set: &NodeSet,
        start: usize,
        count: usize,
    ) -> (Vec<(NodeId, u64)>, usize) {
        let mut keys: Vec<(u64, u32)> = set
            .iter()
            .filter(|&n| self.is_reachable(n))
            .map(|n| (self.retained[n.index()], n.0))
            .collect();
        let total = keys.len();
        let end = start.saturating_add(count).min(total);
        if start >= end {
            return (Vec::new(), total);
        }
        if end < total {
            keys.select_nth_unstable_by(end - 1, by_retained);
            keys.truncate(end);
        }
        keys.sort_unstable_by(by_retained);
        let page = keys[start..end]
            .iter()
            .map(|&(r, v)| (NodeId(v), r))
            .collect();
        (page, total)
    }

    /// The virtual root's children ordered by retained size (largest first, ties by
    /// NodeId): the page `start..start + count` as `(node, retained size)`, and how many
    /// children the root has. The first call sorts them all (then kept, 4 bytes each);
    /// later pages are slices.
    pub fn root_children_page(&self, start: usize, count: usize) -> (Vec<(NodeId, u64)>, usize) {
        let sorted = self.root_children_by_size.get_or_init(|| {
            let mut keys: Vec<(u64, u32)> = self
                .root_children
                .iter()
                .map(|&c| (self.retained[c.index()], c.0))
                .collect();
            keys.sort_unstable_by(by_retained);
            keys.into_iter().map(|(_, v)| NodeId(v)).collect()
        });
        let total = sorted.len();
        let end = start.saturating_add(count).min(total);
        let page = sorted
            .get(start.min(end)..end)
            .unwrap_or(&[])
            .iter()
            .map(|&c| (c, self.retained[c.index()]))
            .collect();
        (page, total)
    }

    /// Total size of all reachable nodes (the virtual root's retained size).
    pub fn total_retained(&self) -> u64 {
        self.total
    }

    /// Approximate bytes held by the tree.
    pub fn heap_bytes(&self) -> usize {
        self.idom.capacity() * 4
            + self.retained.capacity() * 8
            + self.dominated.capacity() * 4
            + self.child_starts.capacity() * 4
            + self.children.capacity() * 4
            + self.root_children.capacity() * 4
            + self
                .root_children_by_size
                .get()
                .map_or(0, |v| v.capacity() * 4)
    }
}

/// Order of `(retained size, node id)` keys: largest retained first, ties by id.
fn by_retained(a: &(u64, u32), b: &(u64, u32)) -> Ordering {
    b.0.cmp(&a.0).then(a.1.cmp(&b.1))
}

/// Marks a node the search has not reached (in `pre_of`).
const UNSEEN: u32 = u32::MAX;

/// Result of the depth-first search; all tables but `pre_of` are by preorder number,
/// entry 0 being the virtual root.
struct Search {
    /// Node -> preorder number, [`UNSEEN`] when unreachable.
    pre_of: Vec<u32>,
    /// Preorder number -> node.
    vertex: Vec<u32>,
    /// DFS-tree parent (0 for the virtual root's children).
    parent: Vec<u32>,
    /// Semidominator candidates: the parent, or 0 for root targets; the semidominator
    /// once [`Search::semidominators`] ran.
    semi: Vec<u32>,
    /// Non-tree edges as `(target, source)` preorder numbers, in the order met
    /// (self-loops included: harmless).
    others: Vec<(u32, u32)>,
}

/// Depth-first search from the virtual root with an explicit stack (no recursion: heap
/// chains are millions deep). Tree edges are implied by `parent`; the other edges are
/// appended to a list as they are met, which costs no random memory access (the pass
/// is latency-bound, so every avoided cache miss counts).
fn search(g: &HeapGraph) -> Search {
    let mut s = Search {
        pre_of: vec![UNSEEN; g.node_count()],
        vertex: vec![u32::MAX],
        parent: vec![0],
        semi: vec![0],
        // At most one per edge; reserving avoids copying a large list as it grows
        // (pages never written are never touched).
        others: Vec::with_capacity(g.edge_count().unwrap_or(0)),
    };
    // Visited marks as a bitset: small enough to stay in cache, unlike `pre_of`.
    let mut seen = NodeSet::empty(g.node_count());
    // (node, its preorder number, referents left to look at). Referents are taken last
    // first, as the capture's stack walk does, so that preorder numbers follow node ids
    // closely on captured graphs and the tables below are accessed nearly in order.
    let mut stack: Vec<(u32, u32, u32)> = Vec::new();
    for &(_, t) in g.roots() {
        if !seen.insert(t) {
            s.semi[s.pre_of[t.index()] as usize] = 0; // reached earlier, and a root itself
            continue;
        }
        stack.push((t.0, s.visit(t.0, 0), g.referents(t).len() as u32));
        while let Some(top) = stack.last_mut() {
            if top.2 == 0 {
                stack.pop();
                continue;
            }
            top.2 -= 1;
            let m = g.referents(NodeId(top.0))[top.2 as usize];
            let v = top.1;
            if seen.insert(m) {
                let left = g.referents(m).len() as u32;
                stack.push((m.0, s.visit(m.0, v), left));
            } else {
                // Target's number resolved later, in a pass the CPU can overlap.
                s.others.push((m.0, v));
            }
        }
    }
    for e in &mut s.others {
        e.0 = s.pre_of[e.0 as usize];
    }
    s
}

impl Search {
    /// Numbers `node`, reached from preorder number `parent`; returns its number.
    fn visit(&mut self, node: u32, parent: u32) -> u32 {
        let p = self.vertex.len() as u32;
        self.pre_of[node as usize] = p;
        self.vertex.push(node);
        self.parent.push(parent);
        self.semi.push(parent);
        p
    }

    /// Turns `semi` into the semidominators, processing nodes in reverse preorder with
    /// the link/eval forest. A node counts as linked once processed (number above the
    /// current `w`), so linking is implicit and the forest starts as the DFS tree.
    fn semidominators(&mut self) {
        let count = self.vertex.len();
        // Non-tree predecessors grouped by target (counting sort: independent accesses,
        // which the CPU overlaps, unlike the DFS's dependent ones).
        let mut starts = vec![0u32; count + 1];
        for &(w, _) in &self.others {
            starts[w as usize + 1] += 1;
        }
        for i in 0..count {
            starts[i + 1] += starts[i];
        }
        let mut fill = starts.clone();
        let mut preds = vec![0u32; self.others.len()];
        for &(w, v) in &self.others {
            let slot = &mut fill[w as usize];
            preds[*slot as usize] = v;
            *slot += 1;
        }
        drop(fill);
        self.others = Vec::new();

        // Per node: (forest ancestor, smallest semidominator on the compressed path from
        // the node up to, excluding, its forest root). Kept together for locality.
        let mut forest: Vec<(u32, u32)> = self.parent.iter().map(|&p| (p, 0)).collect();
        let mut path: Vec<u32> = Vec::new();
        for w in (1..count).rev() {
            let wu = w as u32;
            let mut s = self.semi[w];
            for &v in &preds[starts[w] as usize..starts[w + 1] as usize] {
                // A source numbered below `w` (an ancestor, or earlier) is a candidate
                // itself; one above it contributes the best semidominator on its path.
                let u = if v <= wu {
                    v
                } else {
                    eval(v, wu, &mut forest, &mut path)
                };
                s = s.min(u);
            }
            self.semi[w] = s;
            forest[w].1 = s;
        }
    }
}

/// Lengauer–Tarjan `eval` for a linked `v` (`v > w`): compresses the path from `v` to
/// its forest root and returns the smallest semidominator on it (root excluded).
/// Iterative so that long paths cannot overflow the call stack.
#[inline]
fn eval(v: u32, w: u32, forest: &mut [(u32, u32)], path: &mut Vec<u32>) -> u32 {
    let mut x = v;
    loop {
        let a = forest[x as usize].0;
        if a <= w {
            break;
        }
        path.push(x);
        x = a;
    }
    // `x` is linked and its ancestor is the forest root; fold from the top down.
    while let Some(y) = path.pop() {
        let (a, best_a) = forest[forest[y as usize].0 as usize];
        let fy = &mut forest[y as usize];
        fy.0 = a;
        fy.1 = fy.1.min(best_a);
    }
    forest[v as usize].1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WalkRecorder;
    use std::time::Instant;

    /// A graph with nodes `0..n` (ids as given), `edges` in any order, named roots on
    /// `roots` and per-node `sizes` (1 each when empty).
    fn graph_from_edges(n: u32, edges: &[(u32, u32)], roots: &[u32], sizes: &[u64]) -> HeapGraph {
        let mut out: Vec<Vec<u32>> = vec![Vec::new(); n as usize];
        for &(a, b) in edges {
            out[a as usize].push(b);
        }
        graph_from_adjacency(&out, roots, sizes)
    }

    fn addr(v: u32) -> u64 {
        0x10_0000 + 16 * u64::from(v)
    }

    fn graph_from_adjacency(out: &[Vec<u32>], roots: &[u32], sizes: &[u64]) -> HeapGraph {
        let mut w = WalkRecorder::new(true);
        let t = w.types.intern(0x9000, false, false);
        for v in 0..out.len() as u32 {
            w.reach(addr(v));
        }
        for (v, targets) in out.iter().enumerate() {
            w.begin_node(addr(v as u32), t).unwrap();
            for &m in targets {
                w.edge_to(addr(m));
            }
        }
        let mut b = w.finish().unwrap();
        for v in 0..out.len() {
            b.set_size(NodeId(v as u32), sizes.get(v).copied().unwrap_or(1));
        }
        for (i, &r) in roots.iter().enumerate() {
            b.add_root(format!("root{i}"), NodeId(r));
        }
        b.build()
    }

    fn node(v: u32) -> Option<Dominator> {
        Some(Dominator::Node(NodeId(v)))
    }

    const ROOT: Option<Dominator> = Some(Dominator::Root);

    /// Checks the tree's internal consistency: children match idoms, retained sizes are
    /// own size plus children's, the root's children and total add up.
    fn check_consistent(g: &HeapGraph, t: &DominatorTree) {
        let n = g.node_count();
        let mut total = 0;
        for v in (0..n as u32).map(NodeId) {
            let kids = t.children(v);
            assert!(kids.windows(2).all(|p| p[0] < p[1]));
            for &c in kids {
                assert_eq!(t.idom(c), Some(Dominator::Node(v)));
            }
            if t.is_reachable(v) {
                let sum: u64 = kids.iter().map(|&c| t.retained_size(c)).sum();
                assert_eq!(t.retained_size(v), g.size_of(v) + sum);
                let count: u32 = kids.iter().map(|&c| t.dominated_count(c)).sum();
                assert_eq!(t.dominated_count(v), 1 + count);
            } else {
                assert_eq!(t.idom(v), None);
                assert_eq!(t.retained_size(v), 0);
                assert_eq!(t.dominated_count(v), 0);
                assert!(kids.is_empty());
            }
            if t.idom(v) == ROOT {
                assert!(t.root_children().binary_search(&v).is_ok());
            }
            if t.is_reachable(v) {
                total += g.size_of(v);
            }
        }
        let rk = t.root_children();
        assert!(rk.windows(2).all(|p| p[0] < p[1]));
        assert!(rk.iter().all(|&c| t.idom(c) == ROOT));
        let root_sum: u64 = rk.iter().map(|&c| t.retained_size(c)).sum();
        assert_eq!(t.total_retained(), total);
        assert_eq!(root_sum, total);
    }

    #[test]
    fn lengauer_tarjan_paper_example() {
        // R=0, A=1, B=2, ..., L=12 (Lengauer & Tarjan 1979, figure 1).
        let [r, a, b, c, d, e, f, g, h, i, j, k, l] = std::array::from_fn(|x| x as u32);
        let edges = [
            (r, a),
            (r, b),
            (r, c),
            (a, d),
            (b, a),
            (b, d),
            (b, e),
            (c, f),
            (c, g),
            (d, l),
            (e, h),
            (f, i),
            (g, i),
            (g, j),
            (h, e),
            (h, k),
            (i, k),
            (j, i),
            (k, i),
            (k, r),
            (l, h),
        ];
        let graph = graph_from_edges(13, &edges, &[r], &[]);
        let t = DominatorTree::compute(&graph);
        let expect = [
            (r, ROOT),
            (a, node(r)),
            (b, node(r)),
            (c, node(r)),
            (d, node(r)),
            (e, node(r)),
            (f, node(c)),
            (g, node(c)),
            (h, node(r)),
            (i, node(r)),
            (j, node(g)),
            (k, node(r)),
            (l, node(d)),
        ];
        for (v, want) in expect {
            assert_eq!(t.idom(NodeId(v)), want, "node {v}");
        }
        assert_eq!(t.root_children(), &[NodeId(r)]);
        assert_eq!(t.retained_size(NodeId(r)), 13);
        assert_eq!(t.retained_size(NodeId(c)), 4); // C, F, G, J
        assert_eq!(t.retained_size(NodeId(d)), 2); // D, L
        assert_eq!(
            t.children(NodeId(c)),
            &[NodeId(f), NodeId(g)],
            "children in id order"
        );
        assert_eq!(
            t.dominated_by(NodeId(c)).iter().collect::<Vec<_>>(),
            [c, f, g, j].map(NodeId)
        );
        check_consistent(&graph, &t);
    }

    #[test]
    fn cooper_harvey_kennedy_examples() {
        // Figure 4 of "A Simple, Fast Dominance Algorithm" (irreducible): nodes named by
        // postorder number 1..6, here id = name - 1; entry 6; every idom is the entry.
        let edges = [
            (6, 5),
            (6, 4),
            (5, 1),
            (4, 2),
            (4, 3),
            (1, 2),
            (2, 1),
            (2, 3),
            (3, 2),
        ]
        .map(|(a, b)| (a - 1, b - 1));
        let g = graph_from_edges(6, &edges, &[5], &[]);
        let t = DominatorTree::compute(&g);
        assert_eq!(t.idom(NodeId(5)), ROOT);
        for v in 0..5 {
            assert_eq!(t.idom(NodeId(v)), node(5), "node {}", v + 1);
        }
        check_consistent(&g, &t);
        // Figure 2: entry 5 -> 4, 3; 4 -> 1; 3 -> 2; 1 <-> 2.
        let edges = [(5, 4), (5, 3), (4, 1), (3, 2), (1, 2), (2, 1)].map(|(a, b)| (a - 1, b - 1));
        let g = graph_from_edges(5, &edges, &[4], &[]);
        let t = DominatorTree::compute(&g);
        for v in 0..4 {
            assert_eq!(t.idom(NodeId(v)), node(4), "node {}", v + 1);
        }
        check_consistent(&g, &t);
    }

    /// Brute force: `(node, retained)` of `nodes` sorted by retained size, largest
    /// first, ties by id (a full sort, unlike `largest_in`'s selection).
    fn sorted_by_retained(
        t: &DominatorTree,
        nodes: impl Iterator<Item = NodeId>,
    ) -> Vec<(NodeId, u64)> {
        let mut all: Vec<(NodeId, u64)> = nodes.map(|n| (n, t.retained_size(n))).collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        all
    }

    #[test]
    fn largest_in_and_root_children_pages_match_a_full_sort() {
        let mut rng = Rng(0x5151_2bad_c0de_7777);
        for round in 0..300 {
            let n = 1 + rng.below(80) as u32;
            let edges: Vec<(u32, u32)> = (0..rng.below(u64::from(n) * 3))
                .map(|_| {
                    (
                        rng.below(u64::from(n)) as u32,
                        rng.below(u64::from(n)) as u32,
                    )
                })
                .collect();
            let roots: Vec<u32> = (0..1 + rng.below(4))
                .map(|_| rng.below(u64::from(n)) as u32)
                .collect();
            // Few distinct sizes, so that equal retained sizes (ties) are common.
            let sizes: Vec<u64> = (0..n).map(|_| 1 + rng.below(3)).collect();
            let g = graph_from_edges(n, &edges, &roots, &sizes);
            let t = DominatorTree::compute(&g);

            // Sparse and dense sets, some members unreachable.
            let keep = 1 + rng.below(4);
            let ids = (0..n).filter(|_| rng.below(4) < keep).map(NodeId);
            let set = NodeSet::from_ids(g.node_count(), ids);
            for set in [set.clone().compact(), set.into_dense()] {
                let want = sorted_by_retained(&t, set.iter().filter(|&m| t.is_reachable(m)));
                for _ in 0..6 {
                    let start = rng.below(want.len() as u64 + 3) as usize;
                    let count = match rng.below(4) {
                        0 => 0,
                        1 => usize::MAX,
                        _ => rng.below(want.len() as u64 + 3) as usize,
                    };
                    let (page, total) = t.largest_in(&set, start, count);
                    assert_eq!(total, want.len(), "round {round}");
                    let lo = start.min(want.len());
                    let hi = start.saturating_add(count).min(want.len());
                    assert_eq!(page, want[lo..hi.max(lo)], "round {round} {start} {count}");
                }
            }

            let by_root = (0..n).map(NodeId).filter(|&m| t.idom(m) == ROOT);
            let want = sorted_by_retained(&t, by_root);
            assert_eq!(
                t.root_children_page(0, usize::MAX),
                (want.clone(), want.len())
            );
            for _ in 0..4 {
                let start = rng.below(want.len() as u64 + 2) as usize;
                let count = rng.below(want.len() as u64 + 2) as usize;
                let (page, total) = t.root_children_page(start, count);
                assert_eq!(total, want.len());
                let lo = start.min(want.len());
                let hi = (start + count).min(want.len());
                assert_eq!(page, want[lo..hi.max(lo)], "round {round}");
            }
        }
    }

    #[test]
    fn largest_in_empty_set_and_far_pages() {
        let g = graph_from_edges(3, &[(0, 1), (1, 2)], &[0], &[5, 6, 7]);
        let t = DominatorTree::compute(&g);
        assert_eq!(t.largest_in(&g.empty_set(), 0, 10), (Vec::new(), 0));
        let all = g.full_set();
        assert_eq!(
            t.largest_in(&all, 0, 2),
            (vec![(NodeId(0), 18), (NodeId(1), 13)], 3)
        );
        assert_eq!(t.largest_in(&all, 2, 5), (vec![(NodeId(2), 7)], 3));
        assert_eq!(t.largest_in(&all, 7, 5), (Vec::new(), 3));
        assert_eq!(t.root_children_page(1, 5), (Vec::new(), 1));
        assert_eq!(t.root_children_page(0, 5), (vec![(NodeId(0), 18)], 1));
    }

    #[test]
    fn small_shapes() {
        // Diamond 0 -> 1, 2 -> 3 -> 4.
        let g = graph_from_edges(
            5,
            &[(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)],
            &[0],
            &[10, 20, 30, 40, 50],
        );
        let t = DominatorTree::compute(&g);
        assert_eq!(t.idom(NodeId(3)), node(0));
        assert_eq!(t.idom(NodeId(4)), node(3));
        assert_eq!(t.retained_size(NodeId(0)), 150);
        assert_eq!(t.retained_size(NodeId(1)), 20);
        assert_eq!(t.retained_size(NodeId(3)), 90);
        assert_eq!(t.children(NodeId(0)), &[1, 2, 3].map(NodeId));
        assert_eq!(t.largest_retainers(3), &[0, 3, 4].map(NodeId));
        check_consistent(&g, &t);

        // Cycle back to the root target, with multi-edges and a self loop.
        let g = graph_from_edges(
            4,
            &[
                (0, 1),
                (0, 1),
                (1, 2),
                (1, 2),
                (2, 0),
                (2, 3),
                (3, 3),
                (3, 1),
            ],
            &[0],
            &[],
        );
        let t = DominatorTree::compute(&g);
        assert_eq!(t.idom(NodeId(0)), ROOT);
        assert_eq!(t.idom(NodeId(1)), node(0));
        assert_eq!(t.idom(NodeId(2)), node(1));
        assert_eq!(t.idom(NodeId(3)), node(2));
        assert_eq!(t.retained_size(NodeId(1)), 3);
        check_consistent(&g, &t);

        // Two roots (one named twice) sharing a node: the shared node hangs off Root.
        // Node 4 and 5 are unreachable (5 points into the reachable part).
        let g = graph_from_edges(
            6,
            &[(0, 2), (1, 2), (2, 3), (5, 3), (5, 4)],
            &[0, 1, 1],
            &[1, 2, 4, 8, 16, 32],
        );
        let t = DominatorTree::compute(&g);
        assert_eq!(t.idom(NodeId(0)), ROOT);
        assert_eq!(t.idom(NodeId(1)), ROOT);
        assert_eq!(t.idom(NodeId(2)), ROOT);
        assert_eq!(t.idom(NodeId(3)), node(2));
        assert_eq!(t.root_children(), &[0, 1, 2].map(NodeId));
        for v in [4, 5] {
            assert!(!t.is_reachable(NodeId(v)));
            assert_eq!(t.idom(NodeId(v)), None);
            assert_eq!(t.retained_size(NodeId(v)), 0);
            assert_eq!(t.dominated_by(NodeId(v)).only(), Some(NodeId(v)));
        }
        assert_eq!(t.total_retained(), 15);
        assert_eq!(t.largest_retainers(10), &[2, 3, 1, 0].map(NodeId));
        assert_eq!(t.largest_retainers(0), &[] as &[NodeId]);
        check_consistent(&g, &t);

        // A root target reachable from an earlier root is still dominated by Root.
        let g = graph_from_edges(3, &[(0, 1), (1, 2)], &[0, 1], &[]);
        let t = DominatorTree::compute(&g);
        assert_eq!(t.idom(NodeId(1)), ROOT);
        assert_eq!(t.idom(NodeId(2)), node(1));
        check_consistent(&g, &t);

        // No roots, and no nodes at all.
        let g = graph_from_edges(2, &[(0, 1)], &[], &[]);
        let t = DominatorTree::compute(&g);
        assert!(!t.is_reachable(NodeId(0)) && t.root_children().is_empty());
        assert_eq!(t.total_retained(), 0);
        assert!(t.largest_retainers(5).is_empty());
        let t = DominatorTree::compute(&graph_from_edges(0, &[], &[], &[]));
        assert_eq!(t.total_retained(), 0);
        assert!(t.heap_bytes() < 64);
    }

    #[test]
    fn million_long_chain() {
        let n = 1_000_000u32;
        let out: Vec<Vec<u32>> = (0..n)
            .map(|v| if v + 1 < n { vec![v + 1] } else { Vec::new() })
            .collect();
        let sizes: Vec<u64> = (0..u64::from(n)).map(|v| v % 7 + 1).collect();
        let g = graph_from_adjacency(&out, &[0], &sizes);
        let start = Instant::now();
        let t = DominatorTree::compute(&g);
        eprintln!("1M chain: dominators in {:?}", start.elapsed());
        let mut suffix = 0;
        for v in (0..n).rev() {
            suffix += sizes[v as usize];
            assert_eq!(t.retained_size(NodeId(v)), suffix);
            let want = if v == 0 { ROOT } else { node(v - 1) };
            assert_eq!(t.idom(NodeId(v)), want);
        }
        assert_eq!(t.total_retained(), suffix);
        assert_eq!(t.dominated_by(NodeId(n - 3)).count(), 3);
    }

    /// xorshift64*: enough randomness for graph generation, no dependencies.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Nodes reachable from the roots without entering `removed`.
    fn reachable_without(g: &HeapGraph, removed: Option<NodeId>) -> NodeSet {
        let mut seen = g.empty_set();
        let mut stack = Vec::new();
        for &(_, r) in g.roots() {
            if Some(r) != removed && seen.insert(r) {
                stack.push(r);
            }
        }
        while let Some(v) = stack.pop() {
            for &m in g.referents(v) {
                if Some(m) != removed && seen.insert(m) {
                    stack.push(m);
                }
            }
        }
        seen
    }

    #[test]
    fn random_graphs_match_naive_dominators() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..200 {
            let n = 5 + rng.below(56) as u32;
            let density = 1 + rng.below(4);
            let edges: Vec<(u32, u32)> = (0..u64::from(n) * density / 2 + rng.below(8))
                .map(|_| {
                    let a = rng.below(u64::from(n)) as u32;
                    // Bias towards forward edges so long paths and chains show up.
                    let b = if rng.below(3) == 0 {
                        rng.below(u64::from(n)) as u32
                    } else {
                        (a + 1 + rng.below(3) as u32).min(n - 1)
                    };
                    (a, b)
                })
                .collect();
            let roots: Vec<u32> = (0..1 + rng.below(3))
                .map(|_| rng.below(u64::from(n)) as u32)
                .collect();
            let sizes: Vec<u64> = (0..n).map(|_| 1 + rng.below(100)).collect();
            let g = graph_from_edges(n, &edges, &roots, &sizes);
            let t = DominatorTree::compute(&g);
            check_consistent(&g, &t);

            // Naive: d dominates the reachable nodes that removing d disconnects.
            let all = reachable_without(&g, None);
            let mut doms: Vec<Vec<u32>> = vec![Vec::new(); n as usize]; // strict dominators
            let mut subtree: Vec<NodeSet> = vec![g.empty_set(); n as usize];
            for d in all.iter() {
                let cut = all.difference(&reachable_without(&g, Some(d)));
                for m in cut.iter() {
                    if m != d {
                        doms[m.index()].push(d.0);
                    }
                }
                subtree[d.index()] = cut;
            }
            for v in 0..n {
                let id = NodeId(v);
                let want = if !all.contains(id) {
                    None
                } else {
                    // The nearest strict dominator has the most dominators itself.
                    doms[v as usize]
                        .iter()
                        .max_by_key(|&&d| doms[d as usize].len())
                        .map_or(ROOT, |&d| node(d))
                };
                assert_eq!(t.idom(id), want, "round {round}, node {v}");
                if all.contains(id) {
                    assert_eq!(t.dominated_by(id), subtree[v as usize], "round {round}");
                    assert_eq!(
                        t.retained_size(id),
                        g.total_size(&subtree[v as usize]),
                        "round {round}, node {v}"
                    );
                }
            }
            let mut order: Vec<NodeId> = all.iter().collect();
            order.sort_by_key(|&v| (Reverse(t.retained_size(v)), v));
            let k = rng.below(u64::from(n) + 3) as usize;
            order.truncate(k);
            assert_eq!(t.largest_retainers(k), order, "round {round}");
        }
    }

    /// Renumbers a graph the way a capture numbers nodes: in the order a stack-based
    /// walk from the roots processes them (unreachable nodes last).
    fn in_walk_order(out: &[Vec<u32>], roots: &mut [u32]) -> Vec<Vec<u32>> {
        let mut new_id = vec![u32::MAX; out.len()];
        let mut order = Vec::with_capacity(out.len());
        let mut seen = vec![false; out.len()];
        let mut stack = Vec::new();
        for &r in roots.iter() {
            if !std::mem::replace(&mut seen[r as usize], true) {
                stack.push(r);
            }
        }
        while let Some(v) = stack.pop() {
            new_id[v as usize] = order.len() as u32;
            order.push(v);
            for &m in &out[v as usize] {
                if !std::mem::replace(&mut seen[m as usize], true) {
                    stack.push(m);
                }
            }
        }
        for v in 0..out.len() as u32 {
            if new_id[v as usize] == u32::MAX {
                new_id[v as usize] = order.len() as u32;
                order.push(v);
            }
        }
        for r in roots.iter_mut() {
            *r = new_id[*r as usize];
        }
        order
            .iter()
            .map(|&v| {
                out[v as usize]
                    .iter()
                    .map(|&m| new_id[m as usize])
                    .collect()
            })
            .collect()
    }

    /// A heap-like graph: containers owning nearby objects (a broad tree with local
    /// edges), every object referring to one of 2,000 shared "type" objects (skewed),
    /// linked-list chains, and 30% extra references to anywhere.
    fn heap_like(n: u32, rng: &mut Rng) -> (Vec<Vec<u32>>, Vec<u32>) {
        let types = 2_000u32;
        let mut out: Vec<Vec<u32>> = vec![Vec::new(); n as usize];
        for v in 1..n {
            let parent = if v > types && rng.below(4) == 0 {
                v - 1 // chain link
            } else {
                v - 1 - rng.below(u64::from(v.min(64))) as u32
            };
            out[parent as usize].push(v);
            // Skewed towards a few popular types.
            let popular = 1 + rng.below(u64::from(types));
            let t = rng.below(popular) as u32;
            out[v as usize].push(t);
            if rng.below(10) < 3 {
                out[v as usize].push(rng.below(u64::from(n)) as u32);
            }
        }
        let roots = (0..200)
            .map(|_| rng.below(u64::from(n / 100)) as u32)
            .chain([0]);
        (out, roots.collect())
    }

    /// A uniformly random graph: chain pieces plus 0-4 random edges per node.
    fn uniform(n: u32, rng: &mut Rng) -> (Vec<Vec<u32>>, Vec<u32>) {
        let out: Vec<Vec<u32>> = (0..n)
            .map(|v| {
                let mut e = Vec::new();
                if v + 1 < n && rng.below(10) < 3 {
                    e.push(v + 1);
                }
                for _ in 0..rng.below(5) {
                    e.push(rng.below(u64::from(n)) as u32);
                }
                e
            })
            .collect();
        let roots = (0..200).map(|_| rng.below(u64::from(n)) as u32).chain([0]);
        (out, roots.collect())
    }

    /// Heap-sized runs: 1.8M nodes, ~4.1M edges, ids in capture (walk) order as real
    /// graphs have them: a heap-like graph, then a uniformly random one (the worst case
    /// for caches: every DFS step and most path compressions miss). Run with
    /// `cargo test --release -p heapscope-core big_graphs -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn big_graphs() {
        let n = 1_800_000u32;
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let sizes: Vec<u64> = (0..n).map(|_| 16 + rng.below(200)).collect();
        let heap = heap_like(n, &mut rng);
        let random = uniform(n, &mut rng);
        for (label, (out, mut roots)) in [("heap-like", heap), ("uniform random", random)] {
            let out = in_walk_order(&out, &mut roots);
            let g = graph_from_adjacency(&out, &roots, &sizes);
            drop(out);
            let mut times = Vec::new();
            for _ in 0..3 {
                let start = Instant::now();
                let t = DominatorTree::compute(&g);
                times.push(start.elapsed());
                drop(t);
            }
            let start = Instant::now();
            let t = DominatorTree::compute(&g);
            times.push(start.elapsed());
            let reachable = (0..n).filter(|&v| t.is_reachable(NodeId(v))).count();
            eprintln!(
                "{label}: {} nodes, {} edges, {reachable} reachable: dominators in {:?} \
                 (best of 4; worst {:?}), {} MB held",
                g.node_count(),
                g.edge_count().unwrap(),
                times.iter().min().unwrap(),
                times.iter().max().unwrap(),
                t.heap_bytes() >> 20
            );
            check_consistent(&g, &t);
            let top = t.largest_retainers(5);
            assert_eq!(top.len(), 5);
            assert!(t.retained_size(top[0]) >= t.retained_size(top[4]));
        }
    }
}
