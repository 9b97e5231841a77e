//! Heapy's identity partition (`x.byid`): one row per object, largest first. Objects of
//! one size (and, in a set of several kinds, of one Clodo kind) form a *cluster*; the
//! clusters are ordered by size descending, then kind name. Within a cluster Heapy
//! orders by the objects' renderings (values by value, addresses by address), which
//! only the caller can compute for live values: a cluster is put in address order here
//! and reordered by the caller when its rows are first shown, so printing the first
//! page of a whole heap orders only the few clusters it shows.
//!
//! Made in two linear passes (kinds, then clusters) and one counting sort of the
//! members into rows.

use crate::{Classifier, CoreError, FastMap, HeapGraph, KindKey, NodeId, NodeSet};

/// The objects of one size (and kind) in a byid partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdCluster {
    /// Individual size of each member.
    pub size: u64,
    /// Index of the members' Clodo kind in [`IdRows::kinds`].
    pub kind: u32,
    /// Row of the first member.
    pub first_row: u64,
    pub len: u64,
    /// Total size of the rows before the cluster.
    pub size_before: u64,
    /// How the members are ordered so far.
    pub order: ClusterOrder,
}

/// How a cluster's members are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterOrder {
    /// By node id (ids of graphs with edges follow the walk, not addresses).
    Ids,
    /// By address: Heapy's final order for objects rendered by address.
    Addresses,
    /// As the caller ordered them (by value or rendering).
    Final,
}

/// The rows of a byid partition (see the module doc).
#[derive(Clone, Debug)]
pub struct IdRows {
    /// The distinct Clodo kinds of the set.
    pub kinds: Vec<KindKey>,
    pub clusters: Vec<IdCluster>,
    members: Vec<NodeId>,
    pub count: u64,
    pub size: u64,
}

impl IdRows {
    /// The identity partition of `set`.
    pub fn new(g: &HeapGraph, set: &NodeSet) -> IdRows {
        // each member's kind
        let mut kind_index: FastMap<KindKey, u32> = FastMap::default();
        let mut kinds: Vec<KindKey> = Vec::new();
        let mut last: Option<(KindKey, u32)> = None;
        let mut kind_of: Vec<u32> = Vec::with_capacity(set.count() as usize);
        for n in set.iter() {
            let k = Classifier::Clodo.classify(g, n);
            let i = match last {
                Some((lk, i)) if lk == k => i,
                _ => {
                    let i = *kind_index.entry(k).or_insert_with(|| {
                        kinds.push(k);
                        kinds.len() as u32 - 1
                    });
                    last = Some((k, i));
                    i
                }
            };
            kind_of.push(i);
        }
        drop(kind_index);
        let mixed = kinds.len() > 1;
        // each member's cluster: its size, and its kind in a set of several kinds
        let mut cluster_index: FastMap<(u64, u32), u32> = FastMap::default();
        let mut keys: Vec<(u64, u32, u64)> = Vec::new(); // (size, kind, members)
        let mut last: Option<((u64, u32), u32)> = None;
        for (n, k) in set.iter().zip(kind_of.iter_mut()) {
            let key = (g.size_of(n), if mixed { *k } else { 0 });
            let c = match last {
                Some((lk, c)) if lk == key => c,
                _ => {
                    let c = *cluster_index.entry(key).or_insert_with(|| {
                        keys.push((key.0, key.1, 0));
                        keys.len() as u32 - 1
                    });
                    last = Some((key, c));
                    c
                }
            };
            keys[c as usize].2 += 1;
            *k = c; // the kind is known from the cluster from now on
        }
        drop(cluster_index);
        let cluster_of = kind_of;
        // clusters in row order: size descending, then kind name
        let names: Vec<String> = kinds
            .iter()
            .map(|k| k.graph_name(g).unwrap_or_default())
            .collect();
        let mut order: Vec<u32> = (0..keys.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            let (sa, ka, _) = keys[a as usize];
            let (sb, kb, _) = keys[b as usize];
            sb.cmp(&sa)
                .then_with(|| names[ka as usize].cmp(&names[kb as usize]))
                .then(ka.cmp(&kb))
        });
        let initial = if g.ids_follow_addresses() {
            ClusterOrder::Addresses
        } else {
            ClusterOrder::Ids
        };
        let mut place = vec![0u64; keys.len()]; // next row of each cluster
        let mut clusters = Vec::with_capacity(keys.len());
        let (mut row, mut total) = (0u64, 0u64);
        for &c in &order {
            let (size, kind, len) = keys[c as usize];
            place[c as usize] = row;
            clusters.push(IdCluster {
                size,
                kind: if mixed { kind } else { 0 },
                first_row: row,
                len,
                size_before: total,
                order: initial,
            });
            row += len;
            total += size * len;
        }
        let mut members = vec![NodeId(0); row as usize];
        for (n, &c) in set.iter().zip(&cluster_of) {
            let slot = &mut place[c as usize];
            members[*slot as usize] = n;
            *slot += 1;
        }
        IdRows {
            kinds,
            clusters,
            members,
            count: row,
            size: total,
        }
    }

    /// The cluster holding row `row` (`row` < count).
    pub fn cluster_at(&self, row: u64) -> usize {
        self.clusters
            .partition_point(|c| c.first_row + c.len <= row)
    }

    /// A cluster's members in their current order.
    pub fn cluster_members(&self, c: usize) -> &[NodeId] {
        let cl = &self.clusters[c];
        &self.members[cl.first_row as usize..(cl.first_row + cl.len) as usize]
    }

    /// The members of rows `lo..hi`, in row order.
    pub fn rows(&self, lo: u64, hi: u64) -> &[NodeId] {
        &self.members[lo as usize..hi as usize]
    }

    /// Puts cluster `c` in address order (once; a cluster the caller ordered stays).
    pub fn order_by_address(&mut self, g: &HeapGraph, c: usize) {
        let cl = &mut self.clusters[c];
        if cl.order == ClusterOrder::Ids {
            let range = cl.first_row as usize..(cl.first_row + cl.len) as usize;
            self.members[range].sort_unstable_by_key(|&n| g.address(n));
            cl.order = ClusterOrder::Addresses;
        }
    }

    /// Reorders cluster `c` (which must be in address order): its `i`-th row becomes the
    /// member at position `order[i]` of the address order.
    pub fn reorder(&mut self, c: usize, order: &[u32]) -> Result<(), CoreError> {
        let cl = &mut self.clusters[c];
        let range = cl.first_row as usize..(cl.first_row + cl.len) as usize;
        let current = &self.members[range.clone()];
        let mut seen = vec![false; current.len()];
        let ok = order.len() == current.len()
            && order.iter().all(|&i| {
                (i as usize) < seen.len() && !std::mem::replace(&mut seen[i as usize], true)
            });
        if !ok || cl.order != ClusterOrder::Addresses {
            return Err(CoreError::BadOrder);
        }
        let reordered: Vec<NodeId> = order.iter().map(|&i| current[i as usize]).collect();
        self.members[range].copy_from_slice(&reordered);
        cl.order = ClusterOrder::Final;
        Ok(())
    }

    /// Total size of rows `0..=row`.
    pub fn cumulative(&self, row: u64) -> u64 {
        let cl = &self.clusters[self.cluster_at(row)];
        cl.size_before + (row - cl.first_row + 1) * cl.size
    }

    pub fn heap_bytes(&self) -> usize {
        self.members.capacity() * 4 + self.clusters.capacity() * std::mem::size_of::<IdCluster>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::sample_graph;
    use crate::TypeId;

    #[test]
    fn clusters_by_size_then_kind_name() {
        // sizes: A 48, A's dict 104, module 72, dict 64: every object its own cluster
        let g = sample_graph();
        let rows = IdRows::new(&g, &g.full_set());
        assert_eq!(rows.count, 4);
        assert_eq!(rows.size, 288);
        let sizes: Vec<u64> = rows.clusters.iter().map(|c| c.size).collect();
        assert_eq!(sizes, vec![104, 72, 64, 48]);
        assert_eq!(
            rows.rows(0, 4),
            &[NodeId(1), NodeId(2), NodeId(3), NodeId(0)]
        );
        assert_eq!(rows.kinds.len(), 4);
        assert_eq!(
            rows.kinds[rows.clusters[0].kind as usize],
            KindKey::DictOf(TypeId(0))
        );
        assert_eq!(rows.cumulative(0), 104);
        assert_eq!(rows.cumulative(3), 288);
        assert_eq!(rows.cluster_at(2), 2);
    }

    #[test]
    fn clusters_start_in_id_order_and_take_one_order() {
        let g = sample_graph();
        let set = NodeSet::from_ids(4, [NodeId(0), NodeId(2)]); // A (48), module (72)
        let mut rows = IdRows::new(&g, &set);
        assert_eq!(rows.clusters.len(), 2);
        assert!(rows.clusters.iter().all(|c| c.len == 1));
        // sample graphs have edges: ids follow the walk, so clusters start in id order
        assert_eq!(rows.clusters[0].order, ClusterOrder::Ids);
        rows.order_by_address(&g, 0);
        assert_eq!(rows.clusters[0].order, ClusterOrder::Addresses);
        assert!(matches!(rows.reorder(0, &[1]), Err(CoreError::BadOrder)));
        rows.reorder(0, &[0]).unwrap();
        assert_eq!(rows.clusters[0].order, ClusterOrder::Final);
        assert!(matches!(rows.reorder(0, &[0]), Err(CoreError::BadOrder)));
    }

    #[test]
    fn same_size_same_kind_share_a_cluster_in_address_order() {
        // three objects of one type and size, walked in reverse address order
        let mut w = crate::WalkRecorder::new(true);
        let t = w.types.intern(0x9000, false, false);
        for a in [0x300, 0x200, 0x100] {
            w.reach(a);
            w.begin_node(a, t).unwrap();
        }
        let mut b = w.finish().unwrap();
        for n in 0..3 {
            b.set_size(NodeId(n), 32);
        }
        b.set_type_names(vec!["T".into()]);
        let g = b.build();
        let mut rows = IdRows::new(&g, &g.full_set());
        assert_eq!(rows.clusters.len(), 1);
        rows.order_by_address(&g, 0);
        let addrs: Vec<u64> = rows.rows(0, 3).iter().map(|&n| g.address(n)).collect();
        assert_eq!(addrs, vec![0x100, 0x200, 0x300]);
        rows.reorder(0, &[2, 0, 1]).unwrap();
        let addrs: Vec<u64> = rows.rows(0, 3).iter().map(|&n| g.address(n)).collect();
        assert_eq!(addrs, vec![0x300, 0x100, 0x200]);
        assert_eq!(rows.cumulative(1), 64);
    }
}
