//! Heapy's set-level domination: `x.dominos` (what would be freed if the references to
//! x were removed), `x.domisize` (its size) and `x.imdom` (the referrers of x that are
//! reachable without passing through another referrer). Each is one or two linear
//! reachability passes; the whole-heap dominator tree is in `dominators`.

use crate::{HeapGraph, NodeId, NodeSet};

impl HeapGraph {
    /// The root edges' targets.
    pub fn root_set(&self) -> NodeSet {
        let mut start = self.empty_set();
        for (_, n) in self.roots() {
            start.insert(*n);
        }
        start
    }

    /// Heapy's dominos: the nodes reachable from `x` that are no longer reachable from
    /// the roots once `x` is taken out (x included).
    pub fn dominos(&self, x: &NodeSet) -> NodeSet {
        let still_alive = self.closure(&self.root_set(), x);
        self.closure(x, &still_alive)
    }

    /// Heapy's imdom: the referrers of `x` reached from the roots without passing
    /// through another referrer of `x`.
    pub fn imdom(&self, x: &NodeSet) -> NodeSet {
        let pred = self.referrers_of(x);
        let mut seen = self.empty_set();
        let mut stack: Vec<NodeId> = Vec::new();
        for (_, n) in self.roots() {
            if seen.insert(*n) {
                stack.push(*n);
            }
        }
        while let Some(n) = stack.pop() {
            if pred.contains(n) {
                continue; // visited, not passed through
            }
            for &m in self.referents(n) {
                if seen.insert(m) {
                    stack.push(m);
                }
            }
        }
        seen.intersection(&pred)
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::tests::sample_graph;
    use crate::{NodeId, NodeSet};

    #[test]
    fn dominos_and_imdom() {
        // 0 -> 1 -> 3 <- 2; root .i0_modules -> 2 (0 and 1 unreachable from the root)
        let g = sample_graph();
        let two = NodeSet::from_ids(4, [NodeId(2)]);
        assert_eq!(
            g.dominos(&two).iter().collect::<Vec<_>>(),
            vec![NodeId(2), NodeId(3)]
        );
        let three = NodeSet::from_ids(4, [NodeId(3)]);
        assert_eq!(
            g.dominos(&three).iter().collect::<Vec<_>>(),
            vec![NodeId(3)]
        );
        // 3's referrers are 1 and 2; only 2 is reachable from the root
        assert_eq!(g.imdom(&three).iter().collect::<Vec<_>>(), vec![NodeId(2)]);
    }
}
