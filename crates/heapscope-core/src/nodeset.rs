//! Sets of nodes of one graph as bitsets: set algebra is word-wise, counting is popcount.

use crate::NodeId;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeSet {
    words: Vec<u64>,
    universe: usize,
}

impl NodeSet {
    pub fn empty(universe: usize) -> Self {
        NodeSet {
            words: vec![0; universe.div_ceil(64)],
            universe,
        }
    }

    pub fn full(universe: usize) -> Self {
        let mut s = NodeSet {
            words: vec![u64::MAX; universe.div_ceil(64)],
            universe,
        };
        s.trim();
        s
    }

    pub fn from_ids(universe: usize, ids: impl IntoIterator<Item = NodeId>) -> Self {
        let mut s = Self::empty(universe);
        for n in ids {
            s.insert(n);
        }
        s
    }

    fn trim(&mut self) {
        let rem = self.universe % 64;
        if rem != 0 {
            if let Some(last) = self.words.last_mut() {
                *last &= (1u64 << rem) - 1;
            }
        }
    }

    pub fn universe(&self) -> usize {
        self.universe
    }

    #[inline]
    pub fn contains(&self, n: NodeId) -> bool {
        let i = n.index();
        i < self.universe && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// Adds `n`; true when it was absent.
    #[inline]
    pub fn insert(&mut self, n: NodeId) -> bool {
        let i = n.index();
        let w = &mut self.words[i / 64];
        let m = 1u64 << (i % 64);
        let fresh = *w & m == 0;
        *w |= m;
        fresh
    }

    pub fn remove(&mut self, n: NodeId) {
        let i = n.index();
        self.words[i / 64] &= !(1u64 << (i % 64));
    }

    pub fn count(&self) -> u64 {
        self.words.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    pub fn iter(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &w)| {
            let mut bits = w;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(NodeId((wi * 64 + b) as u32))
            })
        })
    }

    fn zip_with(&self, other: &NodeSet, f: impl Fn(u64, u64) -> u64) -> NodeSet {
        debug_assert_eq!(self.universe, other.universe);
        NodeSet {
            words: self
                .words
                .iter()
                .zip(&other.words)
                .map(|(&a, &b)| f(a, b))
                .collect(),
            universe: self.universe,
        }
    }

    pub fn union(&self, other: &NodeSet) -> NodeSet {
        self.zip_with(other, |a, b| a | b)
    }

    pub fn intersection(&self, other: &NodeSet) -> NodeSet {
        self.zip_with(other, |a, b| a & b)
    }

    pub fn difference(&self, other: &NodeSet) -> NodeSet {
        self.zip_with(other, |a, b| a & !b)
    }

    pub fn symmetric_difference(&self, other: &NodeSet) -> NodeSet {
        self.zip_with(other, |a, b| a ^ b)
    }

    pub fn is_subset(&self, other: &NodeSet) -> bool {
        self.words
            .iter()
            .zip(&other.words)
            .all(|(&a, &b)| a & !b == 0)
    }

    pub fn is_disjoint(&self, other: &NodeSet) -> bool {
        self.words
            .iter()
            .zip(&other.words)
            .all(|(&a, &b)| a & b == 0)
    }

    /// The single member, if there is exactly one.
    pub fn only(&self) -> Option<NodeId> {
        let mut it = self.iter();
        let first = it.next()?;
        it.next().is_none().then_some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algebra() {
        let a = NodeSet::from_ids(130, [0, 1, 64, 129].map(NodeId));
        let b = NodeSet::from_ids(130, [1, 2, 129].map(NodeId));
        assert_eq!(a.union(&b).count(), 5);
        assert_eq!(
            a.intersection(&b).iter().collect::<Vec<_>>(),
            vec![NodeId(1), NodeId(129)]
        );
        assert_eq!(
            a.difference(&b).iter().collect::<Vec<_>>(),
            vec![NodeId(0), NodeId(64)]
        );
        assert_eq!(a.symmetric_difference(&b).count(), 3);
        assert!(a.intersection(&b).is_subset(&a));
        assert!(!a.is_disjoint(&b));
        assert_eq!(NodeSet::full(130).count(), 130);
        assert_eq!(NodeSet::from_ids(130, [NodeId(7)]).only(), Some(NodeId(7)));
        assert_eq!(a.only(), None);
    }
}
