//! The captured heap: nodes in address order, a type table, individual sizes, dict
//! ownership (for Clodo) and forward edges in CSR form, plus the named root edges.
//!
//! Recorded once per capture by a [`WalkRecorder`] (node ids in the order the walk
//! processed objects), finished by a [`GraphBuilder`], immutable afterwards; every
//! analysis borrows it. Roughly 28 bytes per node plus 4 per edge.

use std::sync::OnceLock;

use crate::{AddressIndex, CoreError, EdgeLabels, FastMap, NodeId, NodeSet, TypeId};

/// One entry of the type table. `name` is the Heapy-style kind name (`int`,
/// `__main__.Leaky`, `types.CodeType`), filled in by whoever can render types.
#[derive(Clone, Debug, Default)]
pub struct TypeRecord {
    pub address: u64,
    pub name: String,
    pub is_dict: bool,
    pub is_module: bool,
    /// Addresses of the types of its MRO, itself first (kinds compare types by them).
    pub mro: Vec<u64>,
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
    /// Rank (position in address order) -> node id; `None` when ids are ranks.
    perm: Option<Vec<u32>>,
    node_types: Vec<TypeId>,
    sizes: Vec<u64>,
    types: Vec<TypeRecord>,
    /// Owned dicts, sorted by node: `(dict, type of its owner)`.
    dict_owners: Vec<(NodeId, TypeId)>,
    /// Forward edges; `None` when the capture did not record them (a census needs none).
    edges: Option<Csr>,
    /// Reverse edges (referrers), built from `edges` on first use.
    reverse: OnceLock<Csr>,
    /// Edge labels, computed on first need by whoever can name references.
    labels: OnceLock<EdgeLabels>,
    roots: Vec<(String, NodeId)>,
}

/// Forward edges in compressed sparse rows: node `n`'s referents are
/// `targets[starts[n]..starts[n + 1]]` (multi-edges kept).
#[derive(Clone, Debug, Default)]
pub struct Csr {
    starts: Vec<u32>,
    targets: Vec<NodeId>,
}

impl HeapGraph {
    pub fn node_count(&self) -> usize {
        self.addrs.len()
    }

    /// Number of edges, if they were recorded.
    pub fn edge_count(&self) -> Option<usize> {
        self.edges.as_ref().map(|e| e.targets.len())
    }

    pub fn has_edges(&self) -> bool {
        self.edges.is_some()
    }

    pub fn address(&self, n: NodeId) -> u64 {
        self.addrs[n.index()]
    }

    pub fn addresses(&self) -> &[u64] {
        &self.addrs
    }

    /// Whether node ids follow address order (a census's ids are ranks; a capture
    /// with edges numbers nodes in walk order).
    pub fn ids_follow_addresses(&self) -> bool {
        self.perm.is_none()
    }

    pub fn node_of(&self, addr: u64) -> Option<NodeId> {
        self.index
            .rank(addr)
            .map(|r| id_of_rank(self.perm.as_deref(), r))
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

    /// The id of the type at `address`, if some node has that type (a scan of the type
    /// table, which is small).
    pub fn type_at(&self, address: u64) -> Option<TypeId> {
        self.types
            .iter()
            .position(|t| t.address == address)
            .map(|i| TypeId(i as u32))
    }

    /// The owned dicts with their owners' types, sorted by dict.
    pub fn owned_dicts(&self) -> &[(NodeId, TypeId)] {
        &self.dict_owners
    }

    /// Type of the object whose `__dict__` node `n` is, if `n` is an owned dict.
    pub fn dict_owner(&self, n: NodeId) -> Option<TypeId> {
        self.dict_owners
            .binary_search_by_key(&n, |&(d, _)| d)
            .ok()
            .map(|i| self.dict_owners[i].1)
    }

    /// Referents of `n` (panics on a graph captured without edges: check `has_edges`).
    pub fn referents(&self, n: NodeId) -> &[NodeId] {
        let e = self
            .edges
            .as_ref()
            .expect("this graph was captured without edges");
        let lo = e.starts[n.index()] as usize;
        let hi = e.starts[n.index() + 1] as usize;
        &e.targets[lo..hi]
    }

    /// Forward CSR arrays `(starts, targets)` (panics without edges).
    pub(crate) fn csr_parts(&self) -> (&[u32], &[NodeId]) {
        let e = self
            .edges
            .as_ref()
            .expect("this graph was captured without edges");
        (&e.starts, &e.targets)
    }

    /// Node addresses, types and sizes in id order (the columns a dump writes).
    pub(crate) fn node_columns(&self) -> (&[u64], &[TypeId], &[u64]) {
        (&self.addrs, &self.node_types, &self.sizes)
    }

    /// A graph from columns read back (graph parts): ids are positions in `addrs`, which
    /// must be distinct; `edges` are `(starts, targets)` in CSR form, already checked.
    pub(crate) fn from_columns(
        addrs: Vec<u64>,
        node_types: Vec<TypeId>,
        sizes: Vec<u64>,
        types: Vec<TypeRecord>,
        dict_owners: Vec<(NodeId, TypeId)>,
        edges: Option<(Vec<u32>, Vec<NodeId>)>,
        roots: Vec<(String, NodeId)>,
    ) -> Result<HeapGraph, CoreError> {
        let mut index = AddressIndex::default();
        for &a in &addrs {
            if !index.insert(a) {
                return Err(CoreError::InvalidParts(format!(
                    "two objects at address {a:#x}"
                )));
            }
        }
        index.freeze_ranks_only();
        let mut perm = vec![0u32; addrs.len()];
        for (k, &a) in addrs.iter().enumerate() {
            let r = index.rank(a).expect("every node address is in the index");
            perm[r as usize] = k as u32;
        }
        let mut types_table = TypeTable::default();
        for (k, t) in types.iter().enumerate() {
            if types_table
                .intern(t.address, t.is_dict, t.is_module)
                .index()
                != k
            {
                return Err(CoreError::InvalidParts(format!(
                    "two types at address {:#x}",
                    t.address
                )));
            }
        }
        types_table.types = types;
        let builder = GraphBuilder {
            index,
            perm: Some(perm),
            addrs,
            types: types_table,
            node_types,
            sizes,
            owners: dict_owners,
            edges: edges.map(|(starts, targets)| Csr { starts, targets }),
            roots,
        };
        Ok(builder.build())
    }

    pub(crate) fn labels_cell(&self) -> &OnceLock<EdgeLabels> {
        &self.labels
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

    /// Referrers of `n` (panics without edges, like `referents`).
    pub fn referrers(&self, n: NodeId) -> &[NodeId] {
        let r = self.reverse();
        &r.targets[r.starts[n.index()] as usize..r.starts[n.index() + 1] as usize]
    }

    /// The transposed edge lists, built once (counting sort over the targets: linear).
    fn reverse(&self) -> &Csr {
        self.reverse.get_or_init(|| {
            let e = self
                .edges
                .as_ref()
                .expect("this graph was captured without edges");
            let n = self.node_count();
            let mut starts = vec![0u32; n + 1];
            for t in &e.targets {
                starts[t.index() + 1] += 1;
            }
            for i in 0..n {
                starts[i + 1] += starts[i];
            }
            let mut fill = starts.clone();
            let mut targets = vec![NodeId(0); e.targets.len()];
            for src in 0..n {
                for &t in &e.targets[e.starts[src] as usize..e.starts[src + 1] as usize] {
                    let slot = &mut fill[t.index()];
                    targets[*slot as usize] = NodeId(src as u32);
                    *slot += 1;
                }
            }
            Csr { starts, targets }
        })
    }

    /// Every node referring to a member of `set`.
    pub fn referrers_of(&self, set: &NodeSet) -> NodeSet {
        self.neighbours_of(set, |n| self.referrers(n))
    }

    /// Every node a member of `set` refers to.
    pub fn referents_of(&self, set: &NodeSet) -> NodeSet {
        self.neighbours_of(set, |n| self.referents(n))
    }

    fn neighbours_of<'a>(&'a self, set: &NodeSet, of: impl Fn(NodeId) -> &'a [NodeId]) -> NodeSet {
        let mut out = self.empty_set();
        for n in set.iter() {
            for &m in of(n) {
                out.insert(m);
            }
        }
        out
    }

    /// Nodes reachable from `start` through forward edges, not entering `blocked`.
    pub fn closure(&self, start: &NodeSet, blocked: &NodeSet) -> NodeSet {
        let blocked = blocked.dense();
        let mut seen = start.difference(&blocked).into_dense();
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
        NodeSet::from_ids(
            self.node_count(),
            addrs.into_iter().filter_map(|a| self.node_of(a)),
        )
    }

    /// Approximate bytes held by the graph itself.
    pub fn heap_bytes(&self) -> usize {
        self.addrs.capacity() * 8
            + self.node_types.capacity() * 4
            + self.sizes.capacity() * 8
            + self.dict_owners.capacity() * 8
            + self
                .edges
                .as_ref()
                .map_or(0, |e| e.starts.capacity() * 4 + e.targets.capacity() * 4)
            + self.perm.as_ref().map_or(0, |p| p.capacity() * 4)
            + self.index.heap_bytes()
    }
}

/// The type table of a capture: types interned by address as the walk meets them.
#[derive(Default)]
pub struct TypeTable {
    ids: FastMap<u64, TypeId>,
    types: Vec<TypeRecord>,
}

impl TypeTable {
    /// Interns a type by address; `is_dict`/`is_module` tell Clodo and Module about it.
    pub fn intern(&mut self, address: u64, is_dict: bool, is_module: bool) -> TypeId {
        if let Some(&t) = self.ids.get(&address) {
            return t;
        }
        let t = TypeId(self.types.len() as u32);
        self.types.push(TypeRecord {
            address,
            name: String::new(),
            is_dict,
            is_module,
            mro: Vec::new(),
        });
        self.ids.insert(address, t);
        t
    }

    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }
}

/// Marks an edge whose target address had no [`AddressCode`] (kept in `overflow`).
const OVERFLOW_MARK: u32 = u32::MAX;

/// Records a walk as it happens: each processed object becomes the next node (ids in
/// processing order) and its referents are recorded as 4-byte address codes, so the
/// heap is traversed once. [`WalkRecorder::finish`] resolves codes to node ids.
#[derive(Default)]
pub struct WalkRecorder {
    index: AddressIndex,
    addrs: Vec<u64>,
    node_types: Vec<TypeId>,
    edge_starts: Vec<u32>,
    edges: Vec<u32>,
    overflow: Vec<u64>,
    owners: Vec<(u64, TypeId)>,
    pub types: TypeTable,
    record_edges: bool,
    begun: usize,
}

impl WalkRecorder {
    /// A recorder. Without `record_edges` (a census) referents are only marked seen and
    /// begun nodes are only counted: ids become ranks in address order, and the types
    /// are set afterwards on the builder, in address order.
    pub fn new(record_edges: bool) -> Self {
        WalkRecorder {
            record_edges,
            ..Self::default()
        }
    }

    /// Marks `addr` seen; true when it was not seen before.
    #[inline]
    pub fn reach(&mut self, addr: u64) -> bool {
        self.index.insert(addr)
    }

    /// Whether `addr` was seen.
    pub fn seen(&self, addr: u64) -> bool {
        self.index.contains(addr)
    }

    /// Un-sees an object that must not become a node (hidden objects).
    pub fn forget(&mut self, addr: u64) {
        self.index.remove(addr);
    }

    /// Starts the next node; its referents follow through `edge_to`/`edge_to_seen`.
    pub fn begin_node(&mut self, addr: u64, type_id: TypeId) -> Result<NodeId, CoreError> {
        let id = self.begun;
        if id as u64 >= u64::from(u32::MAX) - 1
            || self.edges.len() as u64 >= u64::from(u32::MAX) - 1
        {
            return Err(CoreError::TooManyNodes {
                max: u64::from(u32::MAX) - 2,
            });
        }
        self.begun += 1;
        if self.record_edges {
            self.addrs.push(addr);
            self.node_types.push(type_id);
            self.edge_starts.push(self.edges.len() as u32);
        }
        Ok(NodeId(id as u32))
    }

    #[inline]
    fn push_edge(&mut self, addr: u64, code: Option<u32>) {
        match code {
            Some(c) => self.edges.push(c),
            None => {
                self.edges.push(OVERFLOW_MARK);
                self.overflow.push(addr);
            }
        }
    }

    /// Records an edge from the current node and marks the target seen; true when the
    /// target is new (the caller then schedules it).
    #[inline]
    pub fn edge_to(&mut self, addr: u64) -> bool {
        if !self.record_edges {
            return self.index.insert(addr);
        }
        let (fresh, code) = self.index.insert_coded(addr);
        self.push_edge(addr, code);
        fresh
    }

    /// Records an edge only if its target was already seen (captures without closure).
    pub fn edge_to_seen(&mut self, addr: u64) {
        if self.record_edges && self.index.contains(addr) {
            let (_, code) = self.index.insert_coded(addr);
            self.push_edge(addr, code);
        }
    }

    pub fn set_dict_owner(&mut self, dict_addr: u64, owner_type: TypeId) {
        self.owners.push((dict_addr, owner_type));
    }

    /// How many nodes were begun so far (with edges recorded, the next node's id).
    pub fn nodes_begun(&self) -> usize {
        self.begun
    }

    /// Addresses of the nodes begun so far, in id order (empty for a census).
    pub fn node_addresses(&self) -> &[u64] {
        &self.addrs
    }

    /// Fails when a seen address (not forgotten) never became a node: `finish` would
    /// then be unable to index the graph.
    pub fn check(&self) -> Result<(), CoreError> {
        if self.index.len() == self.begun {
            Ok(())
        } else {
            Err(CoreError::UnprocessedNodes {
                seen: self.index.len() as u64,
                nodes: self.begun as u64,
            })
        }
    }

    /// Freezes the address set and resolves edges and dict owners to node ids. Every
    /// seen address that was not forgotten must have been begun as a node.
    pub fn finish(self) -> Result<GraphBuilder, CoreError> {
        self.check()?;
        let WalkRecorder {
            mut index,
            addrs,
            node_types,
            edge_starts,
            edges,
            overflow,
            owners,
            types,
            record_edges,
            ..
        } = self;
        if !record_edges {
            let sorted = index.freeze();
            return Ok(GraphBuilder::census(index, sorted, types, &owners));
        }
        index.freeze_ranks_only();
        let mut perm = vec![0u32; addrs.len()];
        for (k, &a) in addrs.iter().enumerate() {
            let r = index.rank(a).expect("every node address is in the index");
            perm[r as usize] = k as u32;
        }
        let edges = Some(resolve_edges(&index, &perm, edge_starts, edges, &overflow));
        let n = addrs.len();
        let mut builder = GraphBuilder {
            index,
            perm: Some(perm),
            addrs,
            types,
            node_types,
            sizes: vec![0; n],
            owners: Vec::new(),
            edges,
            roots: Vec::new(),
        };
        for (dict, owner) in owners {
            if let Some(d) = builder.node_of(dict) {
                builder.owners.push((d, owner));
            }
        }
        Ok(builder)
    }
}

#[inline]
fn id_of_rank(perm: Option<&[u32]>, rank: u32) -> NodeId {
    NodeId(perm.map_or(rank, |p| p[rank as usize]))
}

/// Turns recorded address codes into node ids in place, dropping edges to objects that
/// did not become nodes (hidden ones).
fn resolve_edges(
    index: &AddressIndex,
    perm: &[u32],
    mut starts: Vec<u32>,
    mut codes: Vec<u32>,
    overflow: &[u64],
) -> Csr {
    let total = codes.len();
    let mut write = 0usize;
    let mut next_overflow = 0usize;
    for k in 0..starts.len() {
        let lo = starts[k] as usize;
        let hi = starts.get(k + 1).map_or(total, |&e| e as usize);
        starts[k] = write as u32;
        for i in lo..hi {
            let code = codes[i];
            let rank = if code == OVERFLOW_MARK {
                next_overflow += 1;
                index.rank(overflow[next_overflow - 1])
            } else {
                index.rank_of_code(code)
            };
            if let Some(r) = rank {
                codes[write] = perm[r as usize];
                write += 1;
            }
        }
    }
    codes.truncate(write);
    starts.push(write as u32);
    Csr {
        starts,
        targets: codes.into_iter().map(NodeId).collect(),
    }
}

/// A graph whose nodes and edges are known, waiting for sizes, roots and type names.
pub struct GraphBuilder {
    index: AddressIndex,
    perm: Option<Vec<u32>>,
    addrs: Vec<u64>,
    types: TypeTable,
    node_types: Vec<TypeId>,
    sizes: Vec<u64>,
    owners: Vec<(NodeId, TypeId)>,
    edges: Option<Csr>,
    roots: Vec<(String, NodeId)>,
}

impl GraphBuilder {
    /// Node addresses in id order.
    pub fn addresses(&self) -> &[u64] {
        &self.addrs
    }

    #[inline]
    pub fn node_of(&self, addr: u64) -> Option<NodeId> {
        self.index
            .rank(addr)
            .map(|r| id_of_rank(self.perm.as_deref(), r))
    }

    /// Whether node types are still to be set (census graphs).
    pub fn needs_node_types(&self) -> bool {
        self.node_types.first().is_some_and(|t| t.0 == u32::MAX)
    }

    /// Starts a census graph (no edges) from a frozen index and its sorted addresses:
    /// node ids are ranks. Node types are then set with [`GraphBuilder::set_node_type`];
    /// `owners` are `(dict address, owner type)` pairs met by the walk.
    pub fn census(
        index: AddressIndex,
        sorted: Vec<u64>,
        types: TypeTable,
        owners: &[(u64, TypeId)],
    ) -> Self {
        let n = sorted.len();
        let mut b = GraphBuilder {
            index,
            perm: None,
            addrs: sorted,
            types,
            node_types: vec![TypeId(u32::MAX); n],
            sizes: vec![0; n],
            owners: Vec::new(),
            edges: None,
            roots: Vec::new(),
        };
        for &(dict, owner) in owners {
            if let Some(d) = b.node_of(dict) {
                b.owners.push((d, owner));
            }
        }
        b
    }

    pub fn set_node_type(&mut self, n: NodeId, t: TypeId) {
        self.node_types[n.index()] = t;
    }

    pub fn types_mut(&mut self) -> &mut TypeTable {
        &mut self.types
    }

    /// Addresses of the interned types, by `TypeId`.
    pub fn type_addresses(&self) -> Vec<u64> {
        self.types.types.iter().map(|t| t.address).collect()
    }

    /// Kind names of the interned types, by `TypeId`.
    pub fn set_type_names(&mut self, names: Vec<String>) {
        for (rec, name) in self.types.types.iter_mut().zip(names) {
            rec.name = name;
        }
    }

    /// MROs of the interned types (addresses, each type first), by `TypeId`.
    pub fn set_type_mros(&mut self, mros: Vec<Vec<u64>>) {
        for (rec, mro) in self.types.types.iter_mut().zip(mros) {
            rec.mro = mro;
        }
    }

    pub fn set_size(&mut self, n: NodeId, size: u64) {
        self.sizes[n.index()] = size;
    }

    pub fn add_root(&mut self, name: String, target: NodeId) {
        self.roots.push((name, target));
    }

    /// Those of `candidates` that are not reachable from the roots added so far, nor
    /// from an earlier candidate returned: the fewest candidates (in the order given)
    /// that, added as roots, make every candidate reachable. All of them without
    /// edges. Linear: one traversal shared by all candidates.
    pub fn unreached_from_roots(&self, candidates: &[NodeId]) -> Vec<NodeId> {
        let Some(csr) = &self.edges else {
            return candidates.to_vec();
        };
        let mut seen = vec![false; self.addrs.len()];
        let mut stack: Vec<NodeId> = Vec::new();
        let mut visit_from = |start: NodeId, seen: &mut Vec<bool>| {
            if seen[start.index()] {
                return;
            }
            seen[start.index()] = true;
            stack.push(start);
            while let Some(n) = stack.pop() {
                let (lo, hi) = (
                    csr.starts[n.index()] as usize,
                    csr.starts[n.index() + 1] as usize,
                );
                for &t in &csr.targets[lo..hi] {
                    if !seen[t.index()] {
                        seen[t.index()] = true;
                        stack.push(t);
                    }
                }
            }
        };
        for &(_, r) in &self.roots {
            visit_from(r, &mut seen);
        }
        let mut needed = Vec::new();
        for &c in candidates {
            if !seen[c.index()] {
                needed.push(c);
                visit_from(c, &mut seen);
            }
        }
        needed
    }

    pub fn build(mut self) -> HeapGraph {
        debug_assert!(
            self.node_types.iter().all(|t| t.0 != u32::MAX),
            "every node needs a type"
        );
        self.owners.sort_unstable_by_key(|&(d, _)| d);
        self.owners.dedup_by_key(|&mut (d, _)| d);
        HeapGraph {
            addrs: self.addrs,
            index: self.index,
            perm: self.perm,
            node_types: self.node_types,
            sizes: self.sizes,
            types: self.types.types,
            dict_owners: self.owners,
            edges: self.edges,
            reverse: OnceLock::new(),
            labels: OnceLock::new(),
            roots: self.roots,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small graph: 4 nodes of types A(0), dict(1), module(2); node 1 is A's dict.
    pub(crate) fn sample_graph() -> HeapGraph {
        let mut w = WalkRecorder::new(true);
        for a in [0x100, 0x200, 0x300, 0x400] {
            w.reach(a);
        }
        let a = w.types.intern(0x9000, false, false);
        let d = w.types.intern(0x9100, true, false);
        let m = w.types.intern(0x9200, false, true);
        w.begin_node(0x100, a).unwrap();
        w.edge_to(0x200);
        w.set_dict_owner(0x200, a);
        w.begin_node(0x200, d).unwrap();
        w.edge_to(0x400);
        w.begin_node(0x300, m).unwrap();
        w.edge_to(0x400);
        w.begin_node(0x400, d).unwrap();
        let mut b = w.finish().unwrap();
        for (n, size) in [48, 104, 72, 64].into_iter().enumerate() {
            b.set_size(NodeId(n as u32), size);
        }
        b.add_root("i0_modules".into(), NodeId(2));
        b.set_type_names(vec!["__main__.A".into(), "dict".into(), "module".into()]);
        b.set_type_mros(vec![
            vec![0x9000, 0x1],
            vec![0x9100, 0x1],
            vec![0x9200, 0x1],
        ]);
        b.build()
    }

    #[test]
    fn candidates_unreached_from_the_roots_become_needed_roots() {
        // 0x100 (root) -> 0x200; 0x300 <-> 0x400 (a cycle nothing else reaches);
        // 0x500 -> 0x300.
        let mut w = WalkRecorder::new(true);
        let t = w.types.intern(0x9000, false, false);
        for a in [0x100, 0x200, 0x300, 0x400, 0x500] {
            w.reach(a);
        }
        w.begin_node(0x100, t).unwrap();
        w.edge_to(0x200);
        w.begin_node(0x200, t).unwrap();
        w.begin_node(0x300, t).unwrap();
        w.edge_to(0x400);
        w.begin_node(0x400, t).unwrap();
        w.edge_to(0x300);
        w.begin_node(0x500, t).unwrap();
        w.edge_to(0x300);
        let mut b = w.finish().unwrap();
        let n = |a: u64| b.node_of(a).unwrap();
        let (root, reached, cyc_a, cyc_b, holder) =
            (n(0x100), n(0x200), n(0x300), n(0x400), n(0x500));
        b.add_root("r".into(), root);
        // referenced but unreachable (the cycle): needed once, its partner then reached
        assert_eq!(
            b.unreached_from_roots(&[reached, cyc_b, cyc_a]),
            vec![cyc_b]
        );
        // a later candidate reaching an earlier one does not make the earlier one reached
        assert_eq!(
            b.unreached_from_roots(&[cyc_a, holder]),
            vec![cyc_a, holder]
        );
        assert_eq!(b.unreached_from_roots(&[holder, cyc_a]), vec![holder]);
    }

    #[test]
    fn processing_order_gives_ids_and_hidden_edges_are_dropped() {
        let mut w = WalkRecorder::new(true);
        let t = w.types.intern(0x9000, false, false);
        w.reach(0x5000);
        w.begin_node(0x5000, t).unwrap();
        assert!(w.edge_to(0x1000));
        assert!(w.edge_to(0x7000)); // will be hidden
        assert!(!w.edge_to(0x5000));
        w.begin_node(0x1000, t).unwrap();
        w.forget(0x7000);
        let g = w.finish().unwrap().build();
        assert_eq!(g.node_of(0x5000), Some(NodeId(0)));
        assert_eq!(g.node_of(0x1000), Some(NodeId(1)));
        assert_eq!(g.node_of(0x7000), None);
        assert_eq!(g.referents(NodeId(0)), &[NodeId(1), NodeId(0)]);
        let mut census = WalkRecorder::new(false);
        census.reach(0x30);
        census.begin_node(0x30, t).unwrap();
        assert!(census.edge_to(0x20));
        census.begin_node(0x20, t).unwrap();
        let mut b = census.finish().unwrap();
        assert!(b.needs_node_types());
        for n in 0..2 {
            b.set_node_type(NodeId(n), t); // census ids are ranks
        }
        let g = b.build();
        assert!(!g.has_edges());
        assert_eq!(g.edge_count(), None);
        assert_eq!(g.node_of(0x20), Some(NodeId(0)), "census ids are ranks");
        assert_eq!(g.node_of(0x30), Some(NodeId(1)));
        let mut w = WalkRecorder::new(true);
        w.reach(0x10);
        assert!(matches!(
            w.finish(),
            Err(CoreError::UnprocessedNodes { seen: 1, nodes: 0 })
        ));
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
        assert_eq!(g.referrers(NodeId(3)), &[NodeId(1), NodeId(2)]);
        assert_eq!(g.referrers(NodeId(0)), &[] as &[NodeId]);
        let one = NodeSet::from_ids(4, [NodeId(3)]);
        assert_eq!(
            g.referrers_of(&one).iter().collect::<Vec<_>>(),
            vec![NodeId(1), NodeId(2)]
        );
        assert_eq!(
            g.referents_of(&NodeSet::from_ids(4, [NodeId(0), NodeId(1)]))
                .iter()
                .collect::<Vec<_>>(),
            vec![NodeId(1), NodeId(3)]
        );
        let mut start = g.empty_set();
        start.insert(NodeId(0));
        let reach = g.closure(&start, &g.empty_set());
        assert_eq!(
            reach.iter().collect::<Vec<_>>(),
            vec![NodeId(0), NodeId(1), NodeId(3)]
        );
    }
}
