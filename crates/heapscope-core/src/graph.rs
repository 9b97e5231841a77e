//! The captured heap: nodes in address order, a type table, individual sizes, dict
//! ownership (for Clodo) and forward edges in CSR form, plus the named root edges.
//!
//! Built once per capture by [`GraphBuilder`] and immutable afterwards; every analysis
//! borrows it. Roughly 24 bytes per node plus 4 per edge.

use crate::{AddressIndex, CoreError, FastMap, NodeId, NodeSet, RankCursor, TypeId};

/// One entry of the type table. `name` is the Heapy-style kind name (`int`,
/// `__main__.Leaky`, `types.CodeType`), filled in by whoever can render types.
#[derive(Clone, Debug, Default)]
pub struct TypeRecord {
    pub address: u64,
    pub name: String,
    pub is_dict: bool,
    pub is_module: bool,
}

/// A node's row as handed to Python.
#[derive(Clone, Copy, Debug)]
pub struct NodeRecord {
    pub address: u64,
    pub type_id: TypeId,
    pub size: u64,
}

/// Immutable graph of one captured heap.
pub struct HeapGraph {
    addrs: Vec<u64>,
    index: AddressIndex,
    node_types: Vec<TypeId>,
    sizes: Vec<u64>,
    types: Vec<TypeRecord>,
    /// Owned dicts, sorted by node: `(dict, type of its owner)`.
    dict_owners: Vec<(NodeId, TypeId)>,
    edge_starts: Vec<u32>,
    edges: Vec<NodeId>,
    roots: Vec<(String, NodeId)>,
}

impl HeapGraph {
    pub fn node_count(&self) -> usize {
        self.addrs.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    pub fn address(&self, n: NodeId) -> u64 {
        self.addrs[n.index()]
    }

    pub fn addresses(&self) -> &[u64] {
        &self.addrs
    }

    pub fn node_of(&self, addr: u64) -> Option<NodeId> {
        self.index.rank(addr)
    }

    pub fn type_of(&self, n: NodeId) -> TypeId {
        self.node_types[n.index()]
    }

    pub fn size_of(&self, n: NodeId) -> u64 {
        self.sizes[n.index()]
    }

    pub fn record(&self, n: NodeId) -> NodeRecord {
        NodeRecord {
            address: self.address(n),
            type_id: self.type_of(n),
            size: self.size_of(n),
        }
    }

    pub fn types(&self) -> &[TypeRecord] {
        &self.types
    }

    pub fn type_record(&self, t: TypeId) -> &TypeRecord {
        &self.types[t.index()]
    }

    /// Type of the object whose `__dict__` node `n` is, if `n` is an owned dict.
    pub fn dict_owner(&self, n: NodeId) -> Option<TypeId> {
        self.dict_owners
            .binary_search_by_key(&n, |&(d, _)| d)
            .ok()
            .map(|i| self.dict_owners[i].1)
    }

    pub fn referents(&self, n: NodeId) -> &[NodeId] {
        let lo = self.edge_starts[n.index()] as usize;
        let hi = self.edge_starts[n.index() + 1] as usize;
        &self.edges[lo..hi]
    }

    pub fn roots(&self) -> &[(String, NodeId)] {
        &self.roots
    }

    pub fn full_set(&self) -> NodeSet {
        NodeSet::full(self.node_count())
    }

    pub fn empty_set(&self) -> NodeSet {
        NodeSet::empty(self.node_count())
    }

    /// Total individual size of a set.
    pub fn total_size(&self, set: &NodeSet) -> u64 {
        set.iter().map(|n| self.sizes[n.index()]).sum()
    }

    /// Nodes reachable from `start` through forward edges, not entering `blocked`.
    pub fn closure(&self, start: &NodeSet, blocked: &NodeSet) -> NodeSet {
        let mut seen = start.difference(blocked);
        let mut stack: Vec<NodeId> = seen.iter().collect();
        while let Some(n) = stack.pop() {
            for &m in self.referents(n) {
                if !blocked.contains(m) && seen.insert(m) {
                    stack.push(m);
                }
            }
        }
        seen
    }

    /// Nodes whose address is in `addrs` (addresses absent from the graph are skipped).
    pub fn set_of_addresses(&self, addrs: impl IntoIterator<Item = u64>) -> NodeSet {
        let mut set = self.empty_set();
        for a in addrs {
            if let Some(n) = self.node_of(a) {
                set.insert(n);
            }
        }
        set
    }

    /// Approximate bytes held by the graph itself.
    pub fn heap_bytes(&self) -> usize {
        self.addrs.capacity() * 8
            + self.node_types.capacity() * 4
            + self.sizes.capacity() * 8
            + self.dict_owners.capacity() * 8
            + self.edge_starts.capacity() * 4
            + self.edges.capacity() * 4
            + self.index.heap_bytes()
    }
}

/// Fills a [`HeapGraph`]: first the address set (ids are ranks in address order), then
/// per node, in id order, its type, size and referents.
pub struct GraphBuilder {
    index: AddressIndex,
    addrs: Vec<u64>,
    type_ids: FastMap<u64, TypeId>,
    cursor: RankCursor,
    types: Vec<TypeRecord>,
    node_types: Vec<TypeId>,
    sizes: Vec<u64>,
    owners: Vec<(NodeId, TypeId)>,
    edge_starts: Vec<u32>,
    edges: Vec<NodeId>,
    roots: Vec<(String, NodeId)>,
}

impl GraphBuilder {
    /// Starts from a frozen address set (see [`AddressIndex::freeze`]).
    pub fn new(index: AddressIndex, addrs: Vec<u64>) -> Result<Self, CoreError> {
        if addrs.len() as u64 >= u64::from(u32::MAX) {
            return Err(CoreError::TooManyNodes {
                max: u64::from(u32::MAX) - 1,
            });
        }
        let n = addrs.len();
        Ok(GraphBuilder {
            index,
            addrs,
            type_ids: FastMap::default(),
            cursor: RankCursor::default(),
            types: Vec::new(),
            node_types: Vec::with_capacity(n),
            sizes: vec![0; n],
            owners: Vec::new(),
            edge_starts: Vec::with_capacity(n + 1),
            edges: Vec::with_capacity(n * 2),
            roots: Vec::new(),
        })
    }

    /// Builds from a plain list of addresses (any order, duplicates allowed).
    pub fn from_addresses(addrs: impl IntoIterator<Item = u64>) -> Result<Self, CoreError> {
        let mut index = AddressIndex::new();
        for a in addrs {
            index.insert(a);
        }
        let sorted = index.freeze();
        Self::new(index, sorted)
    }

    pub fn addresses(&self) -> &[u64] {
        &self.addrs
    }

    /// The node at `addr`, if any (page-cached: meant for the edge pass).
    #[inline]
    pub fn node_of(&mut self, addr: u64) -> Option<NodeId> {
        self.index.rank_cached(&mut self.cursor, addr)
    }

    /// Interns a type by address; `is_dict`/`is_module` tell Clodo and Module about it.
    pub fn intern_type(&mut self, address: u64, is_dict: bool, is_module: bool) -> TypeId {
        if let Some(&t) = self.type_ids.get(&address) {
            return t;
        }
        let t = TypeId(self.types.len() as u32);
        self.types.push(TypeRecord {
            address,
            name: String::new(),
            is_dict,
            is_module,
        });
        self.type_ids.insert(address, t);
        t
    }

    /// Starts the next node (ids are taken in order); its edges follow.
    pub fn begin_node(&mut self, type_id: TypeId) -> Result<NodeId, CoreError> {
        let id = NodeId(self.node_types.len() as u32);
        self.node_types.push(type_id);
        if self.edges.len() as u64 >= u64::from(u32::MAX) {
            return Err(CoreError::TooManyNodes {
                max: u64::from(u32::MAX) - 1,
            });
        }
        self.edge_starts.push(self.edges.len() as u32);
        Ok(id)
    }

    #[inline]
    pub fn add_edge(&mut self, to: NodeId) {
        self.edges.push(to);
    }

    pub fn set_size(&mut self, n: NodeId, size: u64) {
        self.sizes[n.index()] = size;
    }

    pub fn set_dict_owner(&mut self, dict: NodeId, owner_type: TypeId) {
        self.owners.push((dict, owner_type));
    }

    /// Addresses of the interned types, by `TypeId`.
    pub fn type_addresses(&self) -> Vec<u64> {
        self.types.iter().map(|t| t.address).collect()
    }

    /// Kind names of the interned types, by `TypeId`.
    pub fn set_type_names(&mut self, names: Vec<String>) {
        for (rec, name) in self.types.iter_mut().zip(names) {
            rec.name = name;
        }
    }

    pub fn add_root(&mut self, name: String, target: NodeId) {
        self.roots.push((name, target));
    }

    pub fn build(mut self) -> HeapGraph {
        assert_eq!(
            self.node_types.len(),
            self.addrs.len(),
            "every node must be begun"
        );
        self.edge_starts.push(self.edges.len() as u32);
        self.owners.sort_unstable_by_key(|&(d, _)| d);
        self.owners.dedup_by_key(|&mut (d, _)| d);
        self.edges.shrink_to_fit();
        HeapGraph {
            addrs: self.addrs,
            index: self.index,
            node_types: self.node_types,
            sizes: self.sizes,
            types: self.types,
            dict_owners: self.owners,
            edge_starts: self.edge_starts,
            edges: self.edges,
            roots: self.roots,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small graph: 4 nodes of types A(0), dict(1), module(2); node 1 is A's dict.
    pub(crate) fn sample_graph() -> HeapGraph {
        let mut b = GraphBuilder::from_addresses([0x100, 0x200, 0x300, 0x400]).unwrap();
        let a = b.intern_type(0x9000, false, false);
        let d = b.intern_type(0x9100, true, false);
        let m = b.intern_type(0x9200, false, true);
        let n0 = b.begin_node(a).unwrap();
        b.add_edge(NodeId(1));
        let n1 = b.begin_node(d).unwrap();
        b.add_edge(NodeId(3));
        b.begin_node(m).unwrap();
        b.add_edge(NodeId(3));
        b.begin_node(d).unwrap();
        b.set_size(n0, 48);
        b.set_size(n1, 104);
        b.set_size(NodeId(2), 72);
        b.set_size(NodeId(3), 64);
        b.set_dict_owner(n1, a);
        b.add_root("i0_modules".into(), NodeId(2));
        b.set_type_names(vec!["__main__.A".into(), "dict".into(), "module".into()]);
        b.build()
    }

    #[test]
    fn builder_round_trip() {
        let g = sample_graph();
        assert_eq!(g.node_count(), 4);
        assert_eq!(g.node_of(0x300), Some(NodeId(2)));
        assert_eq!(g.referents(NodeId(0)), &[NodeId(1)]);
        assert_eq!(g.referents(NodeId(3)), &[] as &[NodeId]);
        assert_eq!(g.dict_owner(NodeId(1)), Some(TypeId(0)));
        assert_eq!(g.dict_owner(NodeId(3)), None);
        assert_eq!(g.total_size(&g.full_set()), 48 + 104 + 72 + 64);
        let mut start = g.empty_set();
        start.insert(NodeId(0));
        let reach = g.closure(&start, &g.empty_set());
        assert_eq!(
            reach.iter().collect::<Vec<_>>(),
            vec![NodeId(0), NodeId(1), NodeId(3)]
        );
    }
}
