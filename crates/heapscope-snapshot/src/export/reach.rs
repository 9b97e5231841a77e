//! Which nodes the roots reach, and from where the rest can be reached.
//!
//! A `.heapsnapshot` reader (Chrome DevTools) expects every node to hang off its
//! synthetic root; a heapscope dump also holds what was alive but unreachable from the
//! roots (`heapu()`'s part). The export reaches that part through one synthetic node
//! with an edge to a few *entries*: the unreachable nodes nothing refers to (the
//! untraced holders: what C code or untraversable containers kept alive) first, then,
//! for what those do not reach (cycles that only C code holds), the lowest unreached
//! node, repeatedly. Entries that nothing refers to keep the rest's structure (and
//! DevTools' retained sizes) as in the heap.

use heapscope_core::{HeapGraph, NodeId};

/// A set of node ids, one bit each.
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    /// Sets bit `i`; whether it was clear.
    fn set(&mut self, i: usize) -> bool {
        let (w, b) = (i / 64, 1u64 << (i % 64));
        let was_clear = self.0[w] & b == 0;
        self.0[w] |= b;
        was_clear
    }
}

/// The entries to the part of `g` its roots do not reach (empty when they reach
/// everything), in the order described in the module docs.
pub(crate) fn unreached_entries(g: &HeapGraph) -> Vec<NodeId> {
    let n = g.node_count();
    let mut reached = Bits::new(n);
    let mut stack: Vec<NodeId> = Vec::new();
    let close = |from: NodeId, reached: &mut Bits, stack: &mut Vec<NodeId>| {
        if !reached.set(from.index()) {
            return;
        }
        stack.push(from);
        while let Some(v) = stack.pop() {
            if !g.has_edges() {
                continue;
            }
            for &t in g.referents(v) {
                if reached.set(t.index()) {
                    stack.push(t);
                }
            }
        }
    };
    for &(_, r) in g.roots() {
        close(r, &mut reached, &mut stack);
    }
    let first_unreached = (0..n).find(|&i| !reached.get(i));
    let Some(first) = first_unreached else {
        return Vec::new();
    };
    let mut referred = Bits::new(n);
    if g.has_edges() {
        for v in 0..n {
            for &t in g.referents(NodeId(v as u32)) {
                referred.set(t.index());
            }
        }
    }
    let mut entries = Vec::new();
    for pass in 0..2 {
        for i in first..n {
            if !reached.get(i) && (pass == 1 || !referred.get(i)) {
                entries.push(NodeId(i as u32));
                close(NodeId(i as u32), &mut reached, &mut stack);
            }
        }
    }
    entries
}
