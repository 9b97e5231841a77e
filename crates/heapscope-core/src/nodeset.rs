//! Sets of nodes of one graph. A large set is a bitset (algebra is word-wise, counting
//! is popcount); a small one is a sorted list of ids, so that a row of a partition or
//! a set of a few objects costs memory in proportion to its members, not to the heap
//! (a partition of a whole heap can have hundreds of thousands of rows).
//!
//! Results of the algebra and of [`NodeSet::from_ids`] choose the representation by
//! size; [`NodeSet::empty`] is a bitset, for accumulating members one by one.

use std::borrow::Cow;

use crate::NodeId;

#[derive(Clone, Debug)]
pub struct NodeSet {
    repr: Repr,
    universe: usize,
}

#[derive(Clone, Debug)]
enum Repr {
    /// One bit per node id.
    Dense(Vec<u64>),
    /// Sorted, distinct ids.
    Sparse(Vec<NodeId>),
}

/// A sparse set that grows out of order past this many members becomes a bitset (an
/// insertion into a sorted list moves its tail).
const SPARSE_UNSORTED_MAX: usize = 64;

/// Most members a sparse set of `universe` nodes keeps: a list of 4-byte ids smaller
/// than half the bitset.
fn sparse_max(universe: usize) -> usize {
    universe / 64
}

impl NodeSet {
    /// An empty set, as a bitset (for inserting members one by one).
    pub fn empty(universe: usize) -> Self {
        NodeSet {
            repr: Repr::Dense(vec![0; universe.div_ceil(64)]),
            universe,
        }
    }

    pub fn full(universe: usize) -> Self {
        let mut words = vec![u64::MAX; universe.div_ceil(64)];
        trim(&mut words, universe);
        NodeSet {
            repr: Repr::Dense(words),
            universe,
        }
    }

    /// The set of `ids` (any order, repeats allowed), in the representation its size
    /// calls for.
    pub fn from_ids(universe: usize, ids: impl IntoIterator<Item = NodeId>) -> Self {
        let mut ids: Vec<NodeId> = ids.into_iter().collect();
        if ids.len() > sparse_max(universe) {
            return Self::dense_of(universe, &ids);
        }
        ids.sort_unstable();
        ids.dedup();
        Self::from_sorted(universe, ids)
    }

    /// The bitset of `ids` (any order, repeats allowed).
    fn dense_of(universe: usize, ids: &[NodeId]) -> Self {
        let mut words = vec![0u64; universe.div_ceil(64)];
        for n in ids {
            words[n.index() / 64] |= 1 << (n.index() % 64);
        }
        NodeSet {
            repr: Repr::Dense(words),
            universe,
        }
    }

    /// The set of `ids`, which must be sorted and distinct.
    pub fn from_sorted(universe: usize, ids: Vec<NodeId>) -> Self {
        debug_assert!(ids.windows(2).all(|w| w[0] < w[1]));
        debug_assert!(ids.last().is_none_or(|n| n.index() < universe));
        if ids.len() <= sparse_max(universe) {
            return NodeSet {
                repr: Repr::Sparse(ids),
                universe,
            };
        }
        Self::dense_of(universe, &ids)
    }

    /// The set of the sorted, distinct ids of `ids` (a slice of a larger list).
    pub fn from_sorted_slice(universe: usize, ids: &[NodeId]) -> Self {
        if ids.len() <= sparse_max(universe) {
            return Self::from_sorted(universe, ids.to_vec());
        }
        Self::dense_of(universe, ids)
    }

    /// The same set in the representation its size calls for (a small bitset becomes a
    /// list). Linear in the bitset's words.
    pub fn compact(self) -> Self {
        match self.repr {
            Repr::Dense(ref words) => {
                let count: usize = words.iter().map(|w| w.count_ones() as usize).sum();
                if count <= sparse_max(self.universe) {
                    let ids = self.iter().collect();
                    NodeSet {
                        repr: Repr::Sparse(ids),
                        universe: self.universe,
                    }
                } else {
                    self
                }
            }
            Repr::Sparse(_) => self,
        }
    }

    /// The set as a bitset (borrowed when it is one): for membership tests in loops
    /// over a whole graph.
    pub fn dense(&self) -> Cow<'_, NodeSet> {
        match &self.repr {
            Repr::Dense(_) => Cow::Borrowed(self),
            Repr::Sparse(_) => Cow::Owned(self.clone().into_dense()),
        }
    }

    /// The set as a bitset.
    pub fn into_dense(self) -> NodeSet {
        match self.repr {
            Repr::Dense(_) => self,
            Repr::Sparse(ids) => Self::dense_of(self.universe, &ids),
        }
    }

    pub fn universe(&self) -> usize {
        self.universe
    }

    /// Whether the set is stored as a sorted list of ids.
    pub fn is_sparse(&self) -> bool {
        matches!(self.repr, Repr::Sparse(_))
    }

    #[inline]
    pub fn contains(&self, n: NodeId) -> bool {
        let i = n.index();
        match &self.repr {
            Repr::Dense(words) => i < self.universe && words[i / 64] & (1 << (i % 64)) != 0,
            Repr::Sparse(ids) => ids.binary_search(&n).is_ok(),
        }
    }

    /// Adds `n`; true when it was absent.
    #[inline]
    pub fn insert(&mut self, n: NodeId) -> bool {
        let i = n.index();
        match &mut self.repr {
            Repr::Dense(words) => {
                let w = &mut words[i / 64];
                let m = 1u64 << (i % 64);
                let fresh = *w & m == 0;
                *w |= m;
                fresh
            }
            Repr::Sparse(ids) => {
                if ids.last().is_none_or(|&last| last < n) {
                    ids.push(n);
                    if ids.len() > sparse_max(self.universe) {
                        *self = std::mem::replace(self, NodeSet::empty(0)).into_dense();
                    }
                    return true;
                }
                match ids.binary_search(&n) {
                    Ok(_) => false,
                    Err(pos) if ids.len() < SPARSE_UNSORTED_MAX => {
                        ids.insert(pos, n);
                        true
                    }
                    Err(_) => {
                        *self = std::mem::replace(self, NodeSet::empty(0)).into_dense();
                        self.insert(n)
                    }
                }
            }
        }
    }

    pub fn remove(&mut self, n: NodeId) {
        let i = n.index();
        match &mut self.repr {
            Repr::Dense(words) => words[i / 64] &= !(1u64 << (i % 64)),
            Repr::Sparse(ids) => {
                if let Ok(pos) = ids.binary_search(&n) {
                    ids.remove(pos);
                }
            }
        }
    }

    pub fn count(&self) -> u64 {
        match &self.repr {
            Repr::Dense(words) => words.iter().map(|w| u64::from(w.count_ones())).sum(),
            Repr::Sparse(ids) => ids.len() as u64,
        }
    }

    pub fn is_empty(&self) -> bool {
        match &self.repr {
            Repr::Dense(words) => words.iter().all(|&w| w == 0),
            Repr::Sparse(ids) => ids.is_empty(),
        }
    }

    /// The members in id order.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Dense(words) => Iter::Dense {
                words,
                index: 0,
                bits: words.first().copied().unwrap_or(0),
            },
            Repr::Sparse(ids) => Iter::Sparse(ids.iter()),
        }
    }

    /// A set of this universe from a sorted merge of two sparse sets or a word-wise
    /// combination of bitsets; `keep(in_a, in_b)` says which members stay.
    fn combine(&self, other: &NodeSet, keep: impl Fn(bool, bool) -> bool + Copy) -> NodeSet {
        debug_assert_eq!(self.universe, other.universe);
        let universe = self.universe;
        match (&self.repr, &other.repr) {
            (Repr::Dense(a), Repr::Dense(b)) => {
                let word = |x: u64, y: u64| -> u64 {
                    // the word-wise form of `keep` (its truth table over the two bits)
                    let mut out = 0;
                    if keep(true, true) {
                        out |= x & y;
                    }
                    if keep(true, false) {
                        out |= x & !y;
                    }
                    if keep(false, true) {
                        out |= !x & y;
                    }
                    out
                };
                let words = a.iter().zip(b).map(|(&x, &y)| word(x, y)).collect();
                NodeSet {
                    repr: Repr::Dense(words),
                    universe,
                }
                .compact()
            }
            (Repr::Sparse(a), Repr::Sparse(b)) => {
                let mut out = Vec::new();
                let (mut i, mut j) = (0, 0);
                while i < a.len() || j < b.len() {
                    let (n, in_a, in_b) = match (a.get(i), b.get(j)) {
                        (Some(&x), Some(&y)) if x == y => {
                            i += 1;
                            j += 1;
                            (x, true, true)
                        }
                        (Some(&x), Some(&y)) if x < y => {
                            i += 1;
                            (x, true, false)
                        }
                        (Some(&x), None) => {
                            i += 1;
                            (x, true, false)
                        }
                        (_, Some(&y)) => {
                            j += 1;
                            (y, false, true)
                        }
                        (None, None) => unreachable!(),
                    };
                    if keep(in_a, in_b) {
                        out.push(n);
                    }
                }
                NodeSet::from_sorted(universe, out)
            }
            (Repr::Sparse(a), Repr::Dense(_)) => {
                if !keep(false, true) {
                    // intersection or difference: members of a only
                    let out = a
                        .iter()
                        .copied()
                        .filter(|&n| keep(true, other.contains(n)))
                        .collect();
                    return NodeSet::from_sorted(universe, out);
                }
                self.clone().into_dense().combine(other, keep)
            }
            (Repr::Dense(_), Repr::Sparse(b)) => {
                if !keep(true, false) {
                    // intersection, or the members of b not in a
                    let out = b
                        .iter()
                        .copied()
                        .filter(|&n| keep(self.contains(n), true))
                        .collect();
                    return NodeSet::from_sorted(universe, out);
                }
                // a's members stay unless b says otherwise: flip bits of b's members
                let mut out = self.clone();
                for &n in b {
                    let in_a = self.contains(n);
                    if keep(in_a, true) != in_a {
                        if in_a {
                            out.remove(n);
                        } else {
                            out.insert(n);
                        }
                    }
                }
                out.compact()
            }
        }
    }

    pub fn union(&self, other: &NodeSet) -> NodeSet {
        self.combine(other, |a, b| a || b)
    }

    pub fn intersection(&self, other: &NodeSet) -> NodeSet {
        self.combine(other, |a, b| a && b)
    }

    pub fn difference(&self, other: &NodeSet) -> NodeSet {
        self.combine(other, |a, b| a && !b)
    }

    pub fn symmetric_difference(&self, other: &NodeSet) -> NodeSet {
        self.combine(other, |a, b| a != b)
    }

    pub fn is_subset(&self, other: &NodeSet) -> bool {
        match (&self.repr, &other.repr) {
            (Repr::Dense(a), Repr::Dense(b)) => a.iter().zip(b).all(|(&x, &y)| x & !y == 0),
            _ => self.count() <= other.count() && self.iter().all(|n| other.contains(n)),
        }
    }

    pub fn is_disjoint(&self, other: &NodeSet) -> bool {
        match (&self.repr, &other.repr) {
            (Repr::Dense(a), Repr::Dense(b)) => a.iter().zip(b).all(|(&x, &y)| x & y == 0),
            (Repr::Sparse(_), _) => !self.iter().any(|n| other.contains(n)),
            (_, Repr::Sparse(_)) => !other.iter().any(|n| self.contains(n)),
        }
    }

    /// The single member, if there is exactly one.
    pub fn only(&self) -> Option<NodeId> {
        let mut it = self.iter();
        let first = it.next()?;
        it.next().is_none().then_some(first)
    }

    /// Bytes held by the set.
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Dense(words) => words.capacity() * 8,
            Repr::Sparse(ids) => ids.capacity() * 4,
        }
    }
}

fn trim(words: &mut [u64], universe: usize) {
    let rem = universe % 64;
    if rem != 0 {
        if let Some(last) = words.last_mut() {
            *last &= (1u64 << rem) - 1;
        }
    }
}

/// Equal sets have the same members, whichever their representation.
impl PartialEq for NodeSet {
    fn eq(&self, other: &Self) -> bool {
        if self.universe != other.universe {
            return false;
        }
        match (&self.repr, &other.repr) {
            (Repr::Dense(a), Repr::Dense(b)) => a == b,
            (Repr::Sparse(a), Repr::Sparse(b)) => a == b,
            _ => self.count() == other.count() && self.iter().eq(other.iter()),
        }
    }
}

impl Eq for NodeSet {}

/// Hashes the members (so equal sets hash alike in either representation).
impl std::hash::Hash for NodeSet {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.universe.hash(state);
        for n in self.iter() {
            n.hash(state);
        }
    }
}

/// The members of a [`NodeSet`] in id order.
pub enum Iter<'a> {
    Dense {
        words: &'a [u64],
        index: usize,
        bits: u64,
    },
    Sparse(std::slice::Iter<'a, NodeId>),
}

impl Iterator for Iter<'_> {
    type Item = NodeId;

    #[inline]
    fn next(&mut self) -> Option<NodeId> {
        match self {
            Iter::Dense { words, index, bits } => loop {
                if *bits != 0 {
                    let b = bits.trailing_zeros() as usize;
                    *bits &= *bits - 1;
                    return Some(NodeId((*index * 64 + b) as u32));
                }
                *index += 1;
                if *index >= words.len() {
                    return None;
                }
                *bits = words[*index];
            },
            Iter::Sparse(it) => it.next().copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(s: &NodeSet) -> Vec<u32> {
        s.iter().map(|n| n.0).collect()
    }

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

    /// Every operation gives the same members for every pair of representations.
    #[test]
    fn representations_agree() {
        let universe = 64 * 40; // sparse up to 40 members
        let pick = |f: &dyn Fn(u32) -> bool| -> Vec<NodeId> {
            (0..universe as u32).filter(|&i| f(i)).map(NodeId).collect()
        };
        let small_a = pick(&|i| i % 97 == 3);
        let small_b = pick(&|i| i % 131 == 3 || i % 97 == 3 && i % 2 == 0);
        let big_a = pick(&|i| i % 3 == 0);
        let big_b = pick(&|i| i % 5 < 2);
        let sets = [small_a, small_b, big_a, big_b];
        let forms = |v: &Vec<NodeId>| {
            let s = NodeSet::from_ids(universe, v.iter().copied());
            [s.clone().into_dense(), s.clone().compact(), {
                let mut e = NodeSet::empty(universe);
                for &n in v {
                    e.insert(n);
                }
                e
            }]
        };
        let model = |v: &Vec<NodeId>| -> std::collections::BTreeSet<u32> {
            v.iter().map(|n| n.0).collect()
        };
        for x in &sets {
            for y in &sets {
                let (mx, my) = (model(x), model(y));
                let union: Vec<u32> = mx.union(&my).copied().collect();
                let inter: Vec<u32> = mx.intersection(&my).copied().collect();
                let diff: Vec<u32> = mx.difference(&my).copied().collect();
                let sym: Vec<u32> = mx.symmetric_difference(&my).copied().collect();
                for a in forms(x) {
                    for b in forms(y) {
                        assert_eq!(ids(&a.union(&b)), union);
                        assert_eq!(ids(&a.intersection(&b)), inter);
                        assert_eq!(ids(&a.difference(&b)), diff);
                        assert_eq!(ids(&a.symmetric_difference(&b)), sym);
                        assert_eq!(a.is_subset(&b), mx.is_subset(&my));
                        assert_eq!(a.is_disjoint(&b), mx.is_disjoint(&my));
                        assert_eq!(a == b, mx == my);
                        assert_eq!(a.count(), mx.len() as u64);
                    }
                }
            }
        }
    }

    #[test]
    fn small_sets_are_lists_and_grow_into_bitsets() {
        let universe = 64 * 100;
        let mut s = NodeSet::from_ids(universe, [NodeId(5), NodeId(3)]);
        assert!(s.is_sparse());
        assert!(s.contains(NodeId(3)) && !s.contains(NodeId(4)));
        assert!(s.insert(NodeId(4)));
        assert!(!s.insert(NodeId(4)));
        s.remove(NodeId(3));
        assert_eq!(ids(&s), vec![4, 5]);
        // appending in order stays a list up to the bound, then becomes a bitset
        for i in 6..=103 {
            s.insert(NodeId(i));
        }
        assert!(s.is_sparse());
        assert_eq!(s.count(), 100);
        s.insert(NodeId(104));
        assert!(!s.is_sparse());
        assert_eq!(s.count(), 101);
        // out-of-order growth of a long list becomes a bitset
        let mut t = NodeSet::from_ids(universe, (0..70).map(|i| NodeId(2 * i + 10)));
        assert!(t.is_sparse());
        t.insert(NodeId(11));
        assert!(!t.is_sparse());
        assert_eq!(t.count(), 71);
        assert!(NodeSet::full(universe).compact().count() == universe as u64);
        let e = NodeSet::empty(universe);
        assert!(!e.is_sparse() && e.clone().compact().is_sparse() && e.is_empty());
        use std::hash::{BuildHasher, RandomState};
        let h = RandomState::new();
        assert_eq!(h.hash_one(&t), h.hash_one(t.clone().into_dense()));
    }
}
