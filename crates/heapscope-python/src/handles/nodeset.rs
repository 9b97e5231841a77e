//! `NodeSet` (`NodeSetHandle`): a set of nodes of one `LiveGraph`, with Heapy's set
//! algebra, selections by kind, partitions, and the why-analyses (referrers, dominos,
//! shortest paths) that start from a set. The work is the core's; this converts
//! arguments and results between node ids and Python objects.

use heapscope_core::{
    select_referred_by, select_via_cmp, Cmp, HeapGraph, KindKey, KindPredicate, NodeSet, Partition,
    SetArg, TypeArg,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pyclass::{PyTraverseError, PyVisit};
use pyo3::types::{PyList, PyType};

use super::byid::IdRowsHandle;
use super::paths::{shortest_paths, ShortestPathsHandle};
use super::proxy::{address_of, node_object, TypeRef};
use super::{module_name, modules_named, require_edges, LiveGraph, PartitionHandle};
use crate::errors::{to_pyerr, DifferentHeapsError};
use crate::live::capture::type_mro;
use crate::live::relate;
use crate::protocol::{ClassifierArg, ClassifierProduct, CmpArg, KindTag, SelectKind};

/// A set of nodes of one `LiveGraph`.
#[pyclass(frozen, name = "NodeSet", module = "heapscope._native")]
pub struct NodeSetHandle {
    pub graph: Py<LiveGraph>,
    pub set: NodeSet,
}

impl NodeSetHandle {
    pub fn same_graph(&self, other: &NodeSetHandle) -> PyResult<()> {
        if self.graph.as_ptr() == other.graph.as_ptr() {
            Ok(())
        } else {
            Err(DifferentHeapsError::new_err(
                "the two sets were captured from different heaps",
            ))
        }
    }

    /// A set of the same graph (small sets kept as lists of ids).
    fn derive(&self, py: Python<'_>, set: NodeSet) -> NodeSetHandle {
        NodeSetHandle {
            graph: self.graph.clone_ref(py),
            set: set.compact(),
        }
    }

    /// A set computed from this one over the graph's edges (which it must have).
    fn derive_over_edges(
        &self,
        py: Python<'_>,
        compute: impl FnOnce(&HeapGraph, &NodeSet) -> NodeSet,
    ) -> PyResult<NodeSetHandle> {
        let g = &self.graph.get().graph;
        require_edges(g)?;
        Ok(self.derive(py, compute(g, &self.set)))
    }
}

/// A kind's type with its MRO: a snapshot's type from its graph's record, a live type
/// read from the type object (no Python code runs).
fn type_arg(obj: &Bound<'_, PyAny>) -> PyResult<TypeArg> {
    if let Ok(t) = obj.cast::<TypeRef>() {
        return Ok(t.get().type_arg());
    }
    let t = obj.cast::<PyType>()?;
    let tp = t.as_type_ptr();
    Ok(TypeArg {
        address: tp as u64,
        mro: unsafe { type_mro(tp) },
    })
}

/// One kind of a set-valued kind's argument, as `Partition.row_kinds` describes kinds:
/// `(tag, object, number)`.
type KindSpec<'py> = (KindTag, Option<Bound<'py, PyAny>>, Option<u64>);

/// The class keys of `g` that `kinds` name; kinds the graph has no class for (a type
/// no object has, or a kind that is not a class of the relation) are counted apart.
fn class_keys(py: Python<'_>, lg: &LiveGraph, kinds: &[KindSpec<'_>]) -> PyResult<SetArg<KindKey>> {
    let g = &lg.graph;
    let mut known = Vec::new();
    let mut unknown = 0;
    for (tag, obj, number) in kinds {
        let address = obj.as_ref().map(address_of);
        let key = match (*tag, address) {
            (KindTag::Type, Some(a)) => g.type_at(a).map(KindKey::Type),
            (KindTag::DictOf, None) => Some(KindKey::DictNoOwner),
            (KindTag::DictOf, Some(a)) => g.type_at(a).map(KindKey::DictOf),
            (KindTag::Size, _) => number.map(KindKey::Size),
            (KindTag::Module, Some(_)) => {
                let name: String = obj.as_ref().map_or(Ok(String::new()), |o| o.extract())?;
                modules_named(py, lg, &g.full_set(), &name)
                    .iter()
                    .next()
                    .map(KindKey::Module)
            }
            (KindTag::Unity, _) => Some(KindKey::Unity),
            (KindTag::Type | KindTag::Module, None)
            | (KindTag::Id | KindTag::NotModule | KindTag::Unknown, _) => None,
        };
        match key {
            Some(k) => known.push(k),
            None => unknown += 1,
        }
    }
    Ok(SetArg::new(known, unknown))
}

#[pymethods]
impl NodeSetHandle {
    /// Reports the graph it holds to the cycle collector (see `LiveGraph.__traverse__`).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.graph)
    }

    #[getter]
    fn graph(&self, py: Python<'_>) -> Py<LiveGraph> {
        self.graph.clone_ref(py)
    }

    #[getter]
    fn count(&self) -> u64 {
        self.set.count()
    }

    #[getter]
    fn size(&self) -> u64 {
        self.graph.get().graph.total_size(&self.set)
    }

    fn same_heap(&self, other: &NodeSetHandle) -> bool {
        self.graph.as_ptr() == other.graph.as_ptr()
    }

    fn union(&self, py: Python<'_>, other: &NodeSetHandle) -> PyResult<NodeSetHandle> {
        self.same_graph(other)?;
        Ok(self.derive(py, self.set.union(&other.set)))
    }

    fn intersection(&self, py: Python<'_>, other: &NodeSetHandle) -> PyResult<NodeSetHandle> {
        self.same_graph(other)?;
        Ok(self.derive(py, self.set.intersection(&other.set)))
    }

    fn difference(&self, py: Python<'_>, other: &NodeSetHandle) -> PyResult<NodeSetHandle> {
        self.same_graph(other)?;
        Ok(self.derive(py, self.set.difference(&other.set)))
    }

    fn symmetric_difference(
        &self,
        py: Python<'_>,
        other: &NodeSetHandle,
    ) -> PyResult<NodeSetHandle> {
        self.same_graph(other)?;
        Ok(self.derive(py, self.set.symmetric_difference(&other.set)))
    }

    fn issubset(&self, other: &NodeSetHandle) -> PyResult<bool> {
        self.same_graph(other)?;
        Ok(self.set.is_subset(&other.set))
    }

    fn isdisjoint(&self, other: &NodeSetHandle) -> PyResult<bool> {
        self.same_graph(other)?;
        Ok(self.set.is_disjoint(&other.set))
    }

    /// The members whose addresses are not in `addresses`.
    fn without_addresses(&self, py: Python<'_>, addresses: Vec<u64>) -> NodeSetHandle {
        let g = &self.graph.get().graph;
        let mut set = self.set.clone();
        for a in addresses {
            if let Some(n) = g.node_of(a) {
                set.remove(n);
            }
        }
        self.derive(py, set)
    }

    /// Nodes referring to a member (the graph must have edges).
    fn referrers(&self, py: Python<'_>) -> PyResult<NodeSetHandle> {
        self.derive_over_edges(py, |g, set| g.referrers_of(set))
    }

    /// Nodes a member refers to (the graph must have edges).
    fn referents(&self, py: Python<'_>) -> PyResult<NodeSetHandle> {
        self.derive_over_edges(py, |g, set| g.referents_of(set))
    }

    /// The members except those recorded as `(address, type address)` pairs: a light
    /// reference point that holds no objects (a reused address only matches when the new
    /// object has the same type).
    fn without_pairs(
        &self,
        py: Python<'_>,
        addresses: Vec<u64>,
        type_addresses: Vec<u64>,
    ) -> NodeSetHandle {
        let g = &self.graph.get().graph;
        let mut set = self.set.clone();
        for (a, t) in addresses.into_iter().zip(type_addresses) {
            if let Some(n) = g.node_of(a) {
                if g.type_record(g.type_of(n)).address == t {
                    set.remove(n);
                }
            }
        }
        self.derive(py, set)
    }

    /// `(addresses, type addresses)` of the members, for a light reference point.
    fn address_type_pairs(&self) -> (Vec<u64>, Vec<u64>) {
        let g = &self.graph.get().graph;
        self.set
            .iter()
            .map(|n| (g.address(n), g.type_record(g.type_of(n)).address))
            .unzip()
    }

    fn contains_object(&self, obj: &Bound<'_, PyAny>) -> bool {
        match self.graph.get().graph.node_of(address_of(obj)) {
            Some(n) => self.set.contains(n),
            None => false,
        }
    }

    /// Each member as a set of its own, in id order.
    fn singletons(&self, py: Python<'_>) -> Vec<NodeSetHandle> {
        let universe = self.set.universe();
        self.set
            .iter()
            .map(|n| self.derive(py, NodeSet::from_sorted(universe, vec![n])))
            .collect()
    }

    fn addresses(&self) -> Vec<u64> {
        let g = &self.graph.get().graph;
        self.set.iter().map(|n| g.address(n)).collect()
    }

    /// The members as objects (strong references), in address order.
    fn objects<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let objects = self
            .set
            .iter()
            .map(|n| node_object(py, &self.graph, n))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, objects)
    }

    fn theone(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.set.only() {
            Some(n) => node_object(py, &self.graph, n),
            None => Err(to_pyerr(heapscope_core::CoreError::NotOne {
                count: self.set.count(),
            })),
        }
    }

    /// Individual size of one member object.
    fn size_of(&self, obj: &Bound<'_, PyAny>) -> Option<u64> {
        let g = &self.graph.get().graph;
        g.node_of(address_of(obj))
            .filter(|n| self.set.contains(*n))
            .map(|n| g.size_of(n))
    }

    fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.set.hash(&mut h);
        self.graph.as_ptr().hash(&mut h);
        h.finish()
    }

    fn equals(&self, other: &NodeSetHandle) -> bool {
        self.graph.as_ptr() == other.graph.as_ptr() && self.set == other.set
    }

    /// The members in a kind: `kind` is `type` (`arg`: a type), `class` (Clodo's class:
    /// a type, dicts left out), `dictof` (dicts by owner type; None: no owner), `size`
    /// (an int) or `module` (a name; `==` only); `op` compares types by subclassing
    /// over the MRO, sizes as numbers.
    fn select_kind(
        &self,
        py: Python<'_>,
        kind: SelectKind,
        op: CmpArg,
        arg: &Bound<'_, PyAny>,
    ) -> PyResult<NodeSetHandle> {
        let g = &self.graph.get().graph;
        let CmpArg(cmp) = op;
        let predicate = match kind {
            SelectKind::Type => KindPredicate::Type {
                cmp,
                target: type_arg(arg)?,
            },
            SelectKind::Class => KindPredicate::Class {
                cmp,
                target: type_arg(arg)?,
            },
            SelectKind::DictOf => KindPredicate::DictOf {
                cmp,
                owner: if arg.is_none() {
                    None
                } else {
                    Some(type_arg(arg)?)
                },
            },
            SelectKind::Size => KindPredicate::Size {
                cmp,
                size: arg.extract()?,
            },
            SelectKind::Module if cmp == Cmp::Eq => {
                let name: String = arg.extract()?;
                return Ok(self.derive(py, modules_named(py, self.graph.get(), &self.set, &name)));
            }
            SelectKind::Module => {
                return Err(PyValueError::new_err(format!(
                    "no selection of kind \"module\" with {:?}",
                    op.op()
                )))
            }
        };
        Ok(self.derive(py, predicate.select(g, &self.set)))
    }

    /// Heapy's `Rcs(...).alt(op)`: members whose referrers' classes under `base` compare
    /// `op` to `kinds` as sets (the graph must have edges).
    fn select_referred_by(
        &self,
        py: Python<'_>,
        base: ClassifierArg,
        kinds: Vec<KindSpec<'_>>,
        op: CmpArg,
    ) -> PyResult<NodeSetHandle> {
        let g = &self.graph.get().graph;
        require_edges(g)?;
        let want = class_keys(py, self.graph.get(), &kinds)?;
        let set = select_referred_by(g, &self.set, base.0, &want, op.0);
        Ok(self.derive(py, set))
    }

    /// Heapy's Rcs: members classed by the set of `base` classes of their referrers (the
    /// graph must have edges).
    fn partition_by_referrers(
        &self,
        py: Python<'_>,
        base: ClassifierArg,
    ) -> PyResult<PartitionHandle> {
        let g = &self.graph.get().graph;
        require_edges(g)?;
        let lg = self.graph.get();
        let part = Partition::by_referrers(g, &self.set, base.0, |key| module_name(py, lg, key));
        Ok(PartitionHandle {
            graph: self.graph.clone_ref(py),
            set: self.set.clone(),
            part,
        })
    }

    /// Heapy's Via: members classed by the labels of the edges referring to them (labels
    /// are computed on first use for the whole graph, which must have edges).
    fn partition_by_via(&self, py: Python<'_>) -> PyResult<PartitionHandle> {
        let g = &self.graph.get().graph;
        require_edges(g)?;
        relate::edge_labels(py, g).map_err(to_pyerr)?;
        Ok(PartitionHandle {
            graph: self.graph.clone_ref(py),
            set: self.set.clone(),
            part: Partition::by_via(g, &self.set),
        })
    }

    /// Heapy's `Via(...).alt(op)`: members whose in-edge labels compare `op` to these
    /// labels (texts like `.x`, `[0]`) as sets.
    #[pyo3(signature = (labels, op=CmpArg::EQ), text_signature = "($self, labels, op=\"==\")")]
    fn select_via(
        &self,
        py: Python<'_>,
        labels: Vec<String>,
        op: CmpArg,
    ) -> PyResult<NodeSetHandle> {
        let g = &self.graph.get().graph;
        require_edges(g)?;
        let CmpArg(cmp) = op;
        let table = &relate::edge_labels(py, g).map_err(to_pyerr)?.table;
        let mut known = Vec::with_capacity(labels.len());
        let mut unknown = 0;
        for text in &labels {
            match table.id_of_text(text) {
                Some(id) => known.push(id),
                None => unknown += 1,
            }
        }
        let want = SetArg::new(known, unknown);
        Ok(self.derive(py, select_via_cmp(g, &self.set, &want, cmp)))
    }

    /// Heapy's dominos: what would be freed if the references to these objects went.
    fn dominos(&self, py: Python<'_>) -> PyResult<NodeSetHandle> {
        self.derive_over_edges(py, |g, set| g.dominos(set))
    }

    /// What these objects (owners) keep alive, directly or through `through` objects
    /// (containers), the root members named in `owner_roots` counting as theirs: the
    /// core's `kept_through`.
    #[pyo3(signature = (through, owner_roots=Vec::new()))]
    fn kept_through(
        &self,
        py: Python<'_>,
        through: &NodeSetHandle,
        owner_roots: Vec<String>,
    ) -> PyResult<NodeSetHandle> {
        self.same_graph(through)?;
        let names: std::collections::HashSet<&str> =
            owner_roots.iter().map(String::as_str).collect();
        self.derive_over_edges(py, |g, set| {
            g.kept_through(set, |name| names.contains(name), &through.set)
        })
    }

    /// Heapy's imdom: referrers reachable without passing through another referrer.
    fn imdom(&self, py: Python<'_>) -> PyResult<NodeSetHandle> {
        self.derive_over_edges(py, |g, set| g.imdom(set))
    }

    /// Everything reachable from these objects (them included).
    fn closure(&self, py: Python<'_>) -> PyResult<NodeSetHandle> {
        self.derive_over_edges(py, |g, set| g.closure(set, &g.empty_set()))
    }

    /// All shortest paths to these objects from the roots or `source` (see
    /// `heapscope.paths`).
    #[pyo3(signature = (source=None, avoid_nodes=None, avoid_edges=Vec::new()))]
    fn shortest_paths(
        &self,
        py: Python<'_>,
        source: Option<PyRef<'_, NodeSetHandle>>,
        avoid_nodes: Option<PyRef<'_, NodeSetHandle>>,
        avoid_edges: Vec<(u32, u32)>,
    ) -> PyResult<ShortestPathsHandle> {
        shortest_paths(
            py,
            self,
            source.as_deref(),
            avoid_nodes.as_deref(),
            avoid_edges,
        )
    }

    /// Heapy's identity partition (byid): one row per member, in clusters of one size
    /// (and kind) that the caller orders when it shows them.
    fn id_rows(&self, py: Python<'_>) -> IdRowsHandle {
        let g = &self.graph.get().graph;
        IdRowsHandle {
            graph: self.graph.clone_ref(py),
            rows: std::sync::Mutex::new(heapscope_core::IdRows::new(g, &self.set)),
        }
    }

    /// Partition by a classifier name, or a product `"Type&Size"`.
    fn partition(
        &self,
        py: Python<'_>,
        classifier: ClassifierProduct,
    ) -> PyResult<PartitionHandle> {
        let ClassifierProduct(classifiers) = classifier;
        let g = &self.graph.get().graph;
        let lg = self.graph.get();
        let part = Partition::new(g, &self.set, &classifiers, |key| module_name(py, lg, key))
            .map_err(to_pyerr)?;
        Ok(PartitionHandle {
            graph: self.graph.clone_ref(py),
            set: self.set.clone(),
            part,
        })
    }

    /// `R.refdby` for any relation R: members grouped by the sorted indices of the
    /// `classes` (R's classes of the referrers: a Partition of this graph, or disjoint
    /// sets of it) holding them, as `(indices, members)`. Needs edges.
    fn group_by_referrer_classes(
        &self,
        py: Python<'_>,
        classes: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<(Vec<u32>, NodeSetHandle)>> {
        super::class_groups::by_referrer_classes(py, self, classes)
    }

    /// A product of relations: members grouped by their tuple of class indices, one per
    /// factor (each factor's classes: a Partition of this graph, or disjoint sets of it).
    fn group_by_class_tuples(
        &self,
        py: Python<'_>,
        factors: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<Vec<(Vec<u32>, NodeSetHandle)>> {
        super::class_groups::by_class_tuples(py, self, &factors)
    }

    /// The objects whose `__dict__` a member is (needs edges; nothing materialised).
    fn dict_owners(&self, py: Python<'_>) -> PyResult<NodeSetHandle> {
        super::class_groups::dict_owners(py, self)
    }

    /// `R.dictof`: the member dicts whose owner is in class i, for each class i of
    /// `owner_classes` (a Partition of this graph, or disjoint sets of it).
    fn group_dicts_by_owner_class(
        &self,
        py: Python<'_>,
        owner_classes: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<NodeSetHandle>> {
        super::class_groups::dicts_by_owner_class(py, self, owner_classes)
    }
}
