//! Heapy's set-level domination: `x.dominos` (what would be freed if the references to
//! x were removed), `x.domisize` (its size) and `x.imdom` (the referrers of x that are
//! reachable without passing through another referrer), and `kept_through` (what some
//! owners keep alive, directly or through containers: a leak check's "held by the test
//! runner"). Each is one to three linear reachability passes; the whole-heap dominator
//! tree is in `dominators`.

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

    /// What `owners` keep alive, directly or through containers (`through` nodes: lists,
    /// tuples, bound methods, cells, ...): the owners, the containers they reach along
    /// containers, and everything reachable only through those (their dominos).
    ///
    /// A container counts only when nothing but owners and containers refers to it, and
    /// no root member other than the owners' (`owner_root(name)`: a running frame of
    /// theirs) names it. So a list the owners record into stays theirs although a bound
    /// `append` stored elsewhere reaches it, while a module's list they also happen to
    /// refer to (a module global passed to a hook they record) is not theirs; nor is a
    /// module's dict or any other object, which stop the walk. The owners' root members
    /// are owners too when they are such containers.
    pub fn kept_through(
        &self,
        owners: &NodeSet,
        owner_root: impl Fn(&str) -> bool,
        through: &NodeSet,
    ) -> NodeSet {
        let mut passable = through.difference(owners);
        let mut start = owners.clone();
        for (name, n) in self.roots() {
            if owner_root(name) {
                start.insert(*n);
            } else {
                passable.remove(*n);
            }
        }
        for n in through.iter() {
            let foreign = |r: &NodeId| !owners.contains(*r) && !through.contains(*r);
            if passable.contains(n) && self.referrers(n).iter().any(foreign) {
                passable.remove(n);
            }
        }
        // the owners' root members enter only when they are such containers
        let blocked = self.full_set().difference(&passable).difference(owners);
        let held = self.closure(&start, &blocked);
        self.dominos(&held)
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
    use crate::graph::WalkRecorder;
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

    #[test]
    fn kept_through_containers_of_the_owners() {
        // nodes: 0 M (a module dict), 1 B (bound method), 2 L (list), 3 X, 4 G (the owner),
        // 5 U (list), 6 Y, 7 T (tuple), 8 Z, 9 V (list), 10 W.
        // M -> B -> L -> X; M -> U -> Y; G -> L, M, U; T -> Z; V -> W.
        // roots: i0_modules -> M; the owner's frame (f0) names G and T; another frame
        // (f1) names V, which G refers to as well.
        let mut w = WalkRecorder::new(true);
        let t = w.types.intern(0x9000, false, false);
        let addr = |i: u64| 0x100 * (i + 1);
        for i in 0..11 {
            w.reach(addr(i));
        }
        let edges: [&[u64]; 11] = [
            &[1, 5],
            &[2],
            &[3],
            &[],
            &[2, 0, 5, 9],
            &[6],
            &[],
            &[8],
            &[],
            &[10],
            &[],
        ];
        for (i, to) in edges.iter().enumerate() {
            w.begin_node(addr(i as u64), t).unwrap();
            for &b in *to {
                w.edge_to(addr(b));
            }
        }
        let mut b = w.finish().unwrap();
        b.add_root("i0_modules".into(), NodeId(0));
        b.add_root("i0_t1_f0:run.f_locals['g']".into(), NodeId(4));
        b.add_root("i0_t1_f0:run.f_locals['t']".into(), NodeId(7));
        b.add_root("i0_t1_f1:user.f_locals['v']".into(), NodeId(9));
        b.set_type_names(vec!["t".into()]);
        let g = b.build();
        let ids = |v: &[u32]| NodeSet::from_ids(11, v.iter().map(|&i| NodeId(i)));
        let owners = ids(&[4]);
        let owner_root = |name: &str| name.starts_with("i0_t1_f0:");
        let through = ids(&[1, 2, 5, 7, 9]); // B, L, U, T, V
                                             // L is the owner's (only G and the bound method B refer to it) although M -> B
                                             // reaches it too, so X goes with it; T only the owner's frame names, so Z goes
                                             // with it. U (M refers to it) and V (another frame names it) are not the
                                             // owner's, so Y and W stay; M is no container.
        let kept = g.kept_through(&owners, owner_root, &through);
        let got: Vec<u32> = kept.iter().map(|n| n.0).collect();
        assert_eq!(got, vec![2, 3, 4, 7, 8]);
        // without containers to pass through: only what G alone holds
        let alone = g.kept_through(&owners, owner_root, &g.empty_set());
        assert_eq!(alone.iter().map(|n| n.0).collect::<Vec<_>>(), vec![4]);
    }
}
