//! Python-visible handles over a captured graph: `LiveGraph` (the graph plus the strong
//! references that keep its objects alive), `NodeSet` (a bitset over one graph's nodes)
//! and `Partition` (rows of a set under a classifier). All algebra runs in the core
//! crate; these types only convert between node ids and Python objects.

use std::ffi::CString;
use std::sync::OnceLock;

use heapscope_core::{
    select_referred_by, select_via_cmp, ClassMap, Classifier, Cmp, Dominator, DominatorTree,
    HeapGraph, KindKey, KindPredicate, NodeId, NodeSet, Partition, SetArg, TypeArg, TypeId,
};
use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyType};

use crate::errors::{to_pyerr, CaptureError, DifferentHeapsError};
use crate::handles::byid::IdRowsHandle;
use crate::handles::paths::{shortest_paths, ShortestPathsHandle};
use crate::live::capture::{capture, type_mro, CaptureSpec};
use crate::live::relate;

#[pyclass(frozen, weakref, module = "heapscope._native")]
pub struct LiveGraph {
    pub graph: HeapGraph,
    size_failures: u64,
    hidden: Vec<usize>,
    /// The whole-heap dominator tree, computed on first use.
    dominators: OnceLock<DominatorTree>,
}

impl LiveGraph {
    fn dominator_tree(&self) -> PyResult<&DominatorTree> {
        require_edges(&self.graph)?;
        Ok(self
            .dominators
            .get_or_init(|| DominatorTree::compute(&self.graph)))
    }

    fn node_of_object(&self, obj: &Bound<'_, PyAny>) -> PyResult<NodeId> {
        self.graph
            .node_of(obj.as_ptr() as u64)
            .ok_or_else(|| PyValueError::new_err("the object is not in this heap graph"))
    }
}

impl Drop for LiveGraph {
    fn drop(&mut self) {
        Python::attach(|_py| {
            for &a in self.graph.addresses() {
                unsafe { ffi::Py_DECREF(a as *mut ffi::PyObject) };
            }
        });
    }
}

pub fn object_at(py: Python<'_>, addr: u64) -> Py<PyAny> {
    // Safety: every node address of a LiveGraph holds a strong reference.
    unsafe { Bound::from_borrowed_ptr(py, addr as *mut ffi::PyObject) }.unbind()
}

#[pymethods]
impl LiveGraph {
    #[getter]
    fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Number of edges, or None when the capture recorded none.
    #[getter]
    fn edge_count(&self) -> Option<usize> {
        self.graph.edge_count()
    }

    /// Objects whose `__sizeof__` failed (their size fell back to the basic formula).
    #[getter]
    fn size_failures(&self) -> u64 {
        self.size_failures
    }

    /// Whether every edge has its label (made by the first query that needs them all,
    /// such as byvia; path queries label only their paths).
    #[getter]
    fn labelled(&self) -> bool {
        self.graph.edge_labels().is_some()
    }

    /// Bytes used by the graph structure itself.
    #[getter]
    fn heap_bytes(&self) -> usize {
        self.graph.heap_bytes()
    }

    /// Addresses of hidden objects met during the walk.
    fn hidden_addresses(&self) -> Vec<usize> {
        self.hidden.clone()
    }

    /// Named root edges: `(name, object)`.
    fn roots(&self, py: Python<'_>) -> Vec<(String, Py<PyAny>)> {
        self.graph
            .roots()
            .iter()
            .map(|(name, n)| (name.clone(), object_at(py, self.graph.address(*n))))
            .collect()
    }

    /// Computes the whole-heap dominator tree now (later queries reuse it).
    fn compute_dominators(&self) -> PyResult<()> {
        self.dominator_tree().map(|_| ())
    }

    /// Total size of the objects reachable from the roots.
    fn reachable_size(&self) -> PyResult<u64> {
        Ok(self.dominator_tree()?.total_retained())
    }

    /// `obj`'s retained size: its own size plus the sizes of all objects it dominates.
    fn retained_size(&self, obj: &Bound<'_, PyAny>) -> PyResult<u64> {
        let n = self.node_of_object(obj)?;
        Ok(self.dominator_tree()?.retained_size(n))
    }

    /// `obj`'s immediate dominator: `(kind, object)` with kind `"node"`, `"root"` (no
    /// single object dominates it) or `"unreachable"`.
    fn immediate_dominator(
        &self,
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
    ) -> PyResult<(&'static str, Option<Py<PyAny>>)> {
        let n = self.node_of_object(obj)?;
        Ok(match self.dominator_tree()?.idom(n) {
            Some(Dominator::Node(d)) => ("node", Some(object_at(py, self.graph.address(d)))),
            Some(Dominator::Root) => ("root", None),
            None => ("unreachable", None),
        })
    }

    /// The objects `obj` dominates, itself included (its dominator subtree).
    fn dominated(slf: &Bound<'_, Self>, obj: &Bound<'_, PyAny>) -> PyResult<NodeSetHandle> {
        let me = slf.get();
        let n = me.node_of_object(obj)?;
        let set = me.dominator_tree()?.dominated_by(n);
        Ok(NodeSetHandle {
            graph: slf.clone().unbind(),
            set,
        })
    }

    /// The `k` objects `obj` immediately dominates with the largest retained sizes:
    /// `(object, retained size)`, largest first.
    fn dominator_children(
        &self,
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
        k: usize,
    ) -> PyResult<Vec<(Py<PyAny>, u64)>> {
        let n = self.node_of_object(obj)?;
        let tree = self.dominator_tree()?;
        let mut kids: Vec<NodeId> = tree.children(n).to_vec();
        kids.sort_unstable_by_key(|&c| (std::cmp::Reverse(tree.retained_size(c)), c));
        kids.truncate(k);
        Ok(kids
            .into_iter()
            .map(|c| (object_at(py, self.graph.address(c)), tree.retained_size(c)))
            .collect())
    }

    /// The `k` objects with the largest retained sizes: `(object, retained size, objects
    /// dominated (itself included), kind name (Clodo))`.
    fn largest_retainers(&self, py: Python<'_>, k: usize) -> PyResult<Vec<RetainerRow>> {
        let g = &self.graph;
        let tree = self.dominator_tree()?;
        tree.largest_retainers(k)
            .into_iter()
            .map(|n| {
                let one = NodeSet::from_ids(g.node_count(), [n]);
                let part =
                    Partition::new(g, &one, &[Classifier::Clodo], |key| module_name(py, g, key))
                        .map_err(to_pyerr)?;
                let kind = part
                    .rows
                    .first()
                    .map_or_else(String::new, |r| r.name.clone());
                Ok((
                    object_at(py, g.address(n)),
                    tree.retained_size(n),
                    tree.dominated_count(n),
                    kind,
                ))
            })
            .collect()
    }

    /// The node id of `obj` in this graph, or None (ids pair up edges in `avoid_edges`).
    fn node_id(&self, obj: &Bound<'_, PyAny>) -> Option<u32> {
        self.graph.node_of(obj.as_ptr() as u64).map(|n| n.0)
    }

    fn full(slf: &Bound<'_, Self>) -> NodeSetHandle {
        let set = slf.get().graph.full_set();
        NodeSetHandle {
            graph: slf.clone().unbind(),
            set,
        }
    }

    /// Nodes reachable from the root edges.
    fn reachable_from_roots(slf: &Bound<'_, Self>) -> PyResult<NodeSetHandle> {
        let g = &slf.get().graph;
        require_edges(g)?;
        let mut start = g.empty_set();
        for (_, n) in g.roots() {
            start.insert(*n);
        }
        let set = g.closure(&start, &g.empty_set());
        Ok(NodeSetHandle {
            graph: slf.clone().unbind(),
            set,
        })
    }

    /// The set of those of `objects` that are nodes of this graph.
    fn set_of(slf: &Bound<'_, Self>, objects: Vec<Bound<'_, PyAny>>) -> NodeSetHandle {
        let g = &slf.get().graph;
        let set = g.set_of_addresses(objects.iter().map(|o| o.as_ptr() as u64));
        NodeSetHandle {
            graph: slf.clone().unbind(),
            set,
        }
    }

    /// Objects alive but not reachable from the roots, minus what hidden objects (instances
    /// of `hidden_types`) hold: Heapy's `heapu`. Reachability does not pass through hidden
    /// objects; whatever only they reach is the session's own and left out.
    fn unreachable(
        slf: &Bound<'_, Self>,
        hidden_types: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<NodeSetHandle> {
        let g = &slf.get().graph;
        require_edges(g)?;
        let hidden_type_addrs: Vec<u64> = hidden_types.iter().map(|t| t.as_ptr() as u64).collect();
        let mut hidden = g.empty_set();
        for n in g.full_set().iter() {
            if hidden_type_addrs.contains(&g.type_record(g.type_of(n)).address) {
                hidden.insert(n);
            }
        }
        let mut start = g.empty_set();
        for (_, n) in g.roots() {
            start.insert(*n);
        }
        let reachable = g.closure(&start, &hidden);
        let ours = g.closure(&hidden, &reachable);
        let set = g.full_set().difference(&reachable).difference(&ours);
        Ok(NodeSetHandle {
            graph: slf.clone().unbind(),
            set,
        })
    }

    /// The members of `nodes` (a set of another graph) that are nodes of this graph,
    /// and how many of them are (re-expressing a set in another capture, by address).
    fn translate(slf: &Bound<'_, Self>, nodes: &NodeSetHandle) -> (NodeSetHandle, u64) {
        let me = &slf.get().graph;
        let from = &nodes.graph.get().graph;
        let set = if std::ptr::eq(me, from) {
            nodes.set.clone()
        } else {
            me.set_of_addresses(nodes.set.iter().map(|n| from.address(n)))
        };
        let count = set.count();
        (
            NodeSetHandle {
                graph: slf.clone().unbind(),
                set,
            },
            count,
        )
    }

    /// The set of nodes at these addresses (absent ones are skipped).
    fn set_of_addresses(slf: &Bound<'_, Self>, addresses: Vec<u64>) -> NodeSetHandle {
        let set = slf.get().graph.set_of_addresses(addresses);
        NodeSetHandle {
            graph: slf.clone().unbind(),
            set,
        }
    }
}

/// Names the kinds a graph cannot name itself (modules, by their `__name__`).
fn module_name(py: Python<'_>, g: &HeapGraph, key: KindKey) -> String {
    match key {
        KindKey::Module(n) => module_name_at(py, g.address(n)).unwrap_or_else(|| "?".to_string()),
        _ => String::new(),
    }
}

/// The `__name__` in the dict of the module at `addr` (a node of a live graph, so
/// alive): read without running Python code (no module subclass's properties).
fn module_name_at(py: Python<'_>, addr: u64) -> Option<String> {
    let name = unsafe { ffi::PyModule_GetNameObject(addr as *mut ffi::PyObject) };
    if name.is_null() {
        unsafe { ffi::PyErr_Clear() };
        return None;
    }
    let name = unsafe { Bound::from_owned_ptr(py, name) };
    crate::live::text::str_text(&name)
}

/// The members of `set` that are modules named `name`.
fn modules_named(py: Python<'_>, g: &HeapGraph, set: &NodeSet, name: &str) -> NodeSet {
    NodeSet::from_ids(
        set.universe(),
        set.iter().filter(|&n| {
            g.type_record(g.type_of(n)).is_module
                && module_name_at(py, g.address(n)).as_deref() == Some(name)
        }),
    )
}

fn cmp_of(op: &str) -> PyResult<Cmp> {
    Cmp::from_op(op).ok_or_else(|| {
        PyValueError::new_err(format!(
            "a comparison is one of '<', '<=', '>=', '>', '==', '!=', not {op:?}"
        ))
    })
}

/// A kind's type with its MRO (read from the type object: no Python code runs).
fn type_arg(obj: &Bound<'_, PyAny>) -> PyResult<TypeArg> {
    let t = obj.cast::<PyType>()?;
    let tp = t.as_type_ptr();
    Ok(TypeArg {
        address: tp as u64,
        mro: unsafe { type_mro(tp) },
    })
}

/// One kind of a set-valued kind's argument, as `Partition.row_kinds` describes kinds:
/// `(tag, object, number)`.
type KindSpec<'py> = (String, Option<Bound<'py, PyAny>>, Option<u64>);

/// The class keys of `g` that `kinds` name; kinds the graph has no class for (a type
/// no object has, or a kind that is not a class of the relation) are counted apart.
fn class_keys(py: Python<'_>, g: &HeapGraph, kinds: &[KindSpec<'_>]) -> PyResult<SetArg<KindKey>> {
    let mut known = Vec::new();
    let mut unknown = 0;
    for (tag, obj, number) in kinds {
        let address = obj.as_ref().map(|o| o.as_ptr() as u64);
        let key = match (tag.as_str(), address) {
            ("type", Some(a)) => g.type_at(a).map(KindKey::Type),
            ("dictof", None) => Some(KindKey::DictNoOwner),
            ("dictof", Some(a)) => g.type_at(a).map(KindKey::DictOf),
            ("size", _) => number.map(KindKey::Size),
            ("module", Some(_)) => {
                let name: String = obj.as_ref().map_or(Ok(String::new()), |o| o.extract())?;
                modules_named(py, g, &g.full_set(), &name)
                    .iter()
                    .next()
                    .map(KindKey::Module)
            }
            ("unity", _) => Some(KindKey::Unity),
            _ => None,
        };
        match key {
            Some(k) => known.push(k),
            None => unknown += 1,
        }
    }
    Ok(SetArg::new(known, unknown))
}

pub fn require_edges(g: &HeapGraph) -> PyResult<()> {
    if g.has_edges() {
        Ok(())
    } else {
        Err(CaptureError::new_err(
            "this capture recorded no edges (capture_graph(edges=True) records them)",
        ))
    }
}

/// The interpreter's root members `(name, object)`, as `heap()` starts from them.
#[pyfunction]
pub fn root_members(py: Python<'_>, skip_prefix: &str) -> PyResult<Vec<(String, Py<PyAny>)>> {
    let prefix =
        CString::new(skip_prefix).map_err(|_| PyValueError::new_err("skip_prefix contains NUL"))?;
    Ok(crate::live::capture::roots(&prefix)
        .into_iter()
        .map(|(name, a)| (name, object_at(py, a as u64)))
        .collect())
}

/// The existing `__dict__` of `obj` (never materialised), or None.
#[pyfunction]
pub fn owned_dict(py: Python<'_>, obj: &Bound<'_, PyAny>) -> Option<Py<PyAny>> {
    let d = unsafe { crate::live::shim::hs_owned_dict(obj.as_ptr()) };
    (!d.is_null()).then(|| unsafe { Bound::from_borrowed_ptr(py, d) }.unbind())
}

/// Benchmark floor: objects reached by a bare closure from the roots (no graph).
#[pyfunction]
pub fn bare_closure(skip_prefix: &str) -> PyResult<usize> {
    let prefix =
        CString::new(skip_prefix).map_err(|_| PyValueError::new_err("skip_prefix contains NUL"))?;
    Ok(crate::live::capture::bare_closure(&prefix))
}

/// Captures a heap. See `heapscope/_native.pyi` for the meaning of each argument.
#[pyfunction]
#[pyo3(signature = (*, from_roots, seeds, hidden_types, hidden_objects, skip_prefix, namer=None, closure=true, edges=true, owner_candidates=Vec::new(), seed_sets=Vec::new()))]
#[allow(clippy::too_many_arguments)]
pub fn capture_graph(
    py: Python<'_>,
    from_roots: bool,
    seeds: Vec<Bound<'_, PyAny>>,
    hidden_types: Vec<Bound<'_, PyAny>>,
    hidden_objects: Vec<Bound<'_, PyAny>>,
    skip_prefix: &str,
    namer: Option<Bound<'_, PyAny>>,
    closure: bool,
    edges: bool,
    owner_candidates: Vec<Bound<'_, PyAny>>,
    seed_sets: Vec<PyRef<'_, NodeSetHandle>>,
) -> PyResult<LiveGraph> {
    // Members of other captures' sets seed the walk by address: they are alive (their
    // capture holds them) and no Python list of a whole heap's objects is needed.
    let mut seed_addresses: Vec<usize> = seeds.iter().map(|o| o.as_ptr() as usize).collect();
    for s in &seed_sets {
        let g = &s.graph.get().graph;
        seed_addresses.extend(s.set.iter().map(|n| g.address(n) as usize));
    }
    let spec = CaptureSpec {
        from_roots,
        seeds: seed_addresses,
        hidden_types: hidden_types.iter().map(|o| o.as_ptr() as usize).collect(),
        hidden_objects: hidden_objects.iter().map(|o| o.as_ptr() as usize).collect(),
        skip_prefix: CString::new(skip_prefix)
            .map_err(|_| PyValueError::new_err("skip_prefix contains NUL"))?,
        no_closure: !closure,
        record_edges: edges,
        owner_candidates: owner_candidates
            .iter()
            .map(|o| o.as_ptr() as usize)
            .collect(),
    };
    drop(seeds);
    let captured = capture(py, &spec, namer.as_ref()).map_err(to_pyerr)?;
    Ok(LiveGraph {
        graph: captured.graph,
        size_failures: captured.size_failures,
        hidden: captured.hidden,
        dominators: OnceLock::new(),
    })
}

/// A set of nodes of one `LiveGraph`.
#[pyclass(frozen, name = "NodeSet", module = "heapscope._native")]
pub struct NodeSetHandle {
    pub graph: Py<LiveGraph>,
    pub set: NodeSet,
}

impl NodeSetHandle {
    /// The handle as a Python object the cycle collector does not track: a handle
    /// refers to nothing but its graph, which refers to no Python object the collector
    /// sees, so no cycle can pass through it (as CPython untracks tuples of atoms). A
    /// whole partition's rows are made at once, and hundreds of thousands of tracked
    /// objects would cost full collections of the heap being looked at.
    pub fn into_untracked(self, py: Python<'_>) -> PyResult<Py<NodeSetHandle>> {
        let obj = Py::new(py, self)?;
        unsafe { ffi::PyObject_GC_UnTrack(obj.as_ptr().cast()) };
        Ok(obj)
    }

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

fn classifier_named(name: &str) -> PyResult<Classifier> {
    Ok(match name {
        "Clodo" => Classifier::Clodo,
        "Type" => Classifier::Type,
        "Size" => Classifier::Size,
        "Id" => Classifier::Id,
        "Module" => Classifier::Module,
        "Unity" => Classifier::Unity,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown classifier {other:?}"
            )))
        }
    })
}

#[pymethods]
impl NodeSetHandle {
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
        match self.graph.get().graph.node_of(obj.as_ptr() as u64) {
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
        let g = &self.graph.get().graph;
        PyList::new(py, self.set.iter().map(|n| object_at(py, g.address(n))))
    }

    fn theone(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.set.only() {
            Some(n) => Ok(object_at(py, self.graph.get().graph.address(n))),
            None => Err(to_pyerr(heapscope_core::CoreError::NotOne {
                count: self.set.count(),
            })),
        }
    }

    /// Individual size of one member object.
    fn size_of(&self, obj: &Bound<'_, PyAny>) -> Option<u64> {
        let g = &self.graph.get().graph;
        g.node_of(obj.as_ptr() as u64)
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
        kind: &str,
        op: &str,
        arg: &Bound<'_, PyAny>,
    ) -> PyResult<NodeSetHandle> {
        let g = &self.graph.get().graph;
        let cmp = cmp_of(op)?;
        let predicate = match kind {
            "type" => KindPredicate::Type {
                cmp,
                target: type_arg(arg)?,
            },
            "class" => KindPredicate::Class {
                cmp,
                target: type_arg(arg)?,
            },
            "dictof" => KindPredicate::DictOf {
                cmp,
                owner: if arg.is_none() {
                    None
                } else {
                    Some(type_arg(arg)?)
                },
            },
            "size" => KindPredicate::Size {
                cmp,
                size: arg.extract()?,
            },
            "module" if cmp == Cmp::Eq => {
                let name: String = arg.extract()?;
                return Ok(self.derive(py, modules_named(py, g, &self.set, &name)));
            }
            other => {
                return Err(PyValueError::new_err(format!(
                    "no selection of kind {other:?} with {op:?}"
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
        base: &str,
        kinds: Vec<KindSpec<'_>>,
        op: &str,
    ) -> PyResult<NodeSetHandle> {
        let g = &self.graph.get().graph;
        require_edges(g)?;
        let want = class_keys(py, g, &kinds)?;
        let set = select_referred_by(g, &self.set, classifier_named(base)?, &want, cmp_of(op)?);
        Ok(self.derive(py, set))
    }

    /// Heapy's Rcs: members classed by the set of `base` classes of their referrers (the
    /// graph must have edges).
    fn partition_by_referrers(&self, py: Python<'_>, base: &str) -> PyResult<PartitionHandle> {
        let g = &self.graph.get().graph;
        require_edges(g)?;
        let part = Partition::by_referrers(g, &self.set, classifier_named(base)?, |key| {
            module_name(py, g, key)
        });
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
    #[pyo3(signature = (labels, op="=="))]
    fn select_via(&self, py: Python<'_>, labels: Vec<String>, op: &str) -> PyResult<NodeSetHandle> {
        let g = &self.graph.get().graph;
        require_edges(g)?;
        let cmp = cmp_of(op)?;
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
    fn partition(&self, py: Python<'_>, classifier: &str) -> PyResult<PartitionHandle> {
        let classifiers = classifier
            .split('&')
            .map(|name| classifier_named(name.trim()))
            .collect::<PyResult<Vec<_>>>()?;
        let g = &self.graph.get().graph;
        let part = Partition::new(g, &self.set, &classifiers, |key| module_name(py, g, key))
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
        crate::handles::class_groups::by_referrer_classes(py, self, classes)
    }

    /// A product of relations: members grouped by their tuple of class indices, one per
    /// factor (each factor's classes: a Partition of this graph, or disjoint sets of it).
    fn group_by_class_tuples(
        &self,
        py: Python<'_>,
        factors: Vec<Bound<'_, PyAny>>,
    ) -> PyResult<Vec<(Vec<u32>, NodeSetHandle)>> {
        crate::handles::class_groups::by_class_tuples(py, self, &factors)
    }

    /// The objects whose `__dict__` a member is (needs edges; nothing materialised).
    fn dict_owners(&self, py: Python<'_>) -> PyResult<NodeSetHandle> {
        crate::handles::class_groups::dict_owners(py, self)
    }

    /// `R.dictof`: the member dicts whose owner is in class i, for each class i of
    /// `owner_classes` (a Partition of this graph, or disjoint sets of it).
    fn group_dicts_by_owner_class(
        &self,
        py: Python<'_>,
        owner_classes: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<NodeSetHandle>> {
        crate::handles::class_groups::dicts_by_owner_class(py, self, owner_classes)
    }
}

/// `(object, retained size, objects dominated, kind name)`: a largest-retainers row.
type RetainerRow = (Py<PyAny>, u64, u32, String);

/// `(tag, object, number)` describing one factor of a row's class (see
/// `Partition.row_kinds`).
pub type RowKind = (&'static str, Option<Py<PyAny>>, Option<u64>);

/// A class as Python makes kinds of it: `type` (object: the type), `dictof` (object:
/// owner type, or None for no owner), `size` (number), `id` (object), `module`
/// (object), `notmodule` or `unity`.
pub fn describe_kind(py: Python<'_>, g: &HeapGraph, k: KindKey) -> RowKind {
    let type_obj = |t: TypeId| object_at(py, g.type_record(t).address);
    match k {
        KindKey::Type(t) => ("type", Some(type_obj(t)), None),
        KindKey::DictOf(t) => ("dictof", Some(type_obj(t)), None),
        KindKey::DictNoOwner => ("dictof", None, None),
        KindKey::Size(s) => ("size", None, Some(s)),
        KindKey::Id(n) => ("id", Some(object_at(py, g.address(n))), None),
        KindKey::Module(n) => ("module", Some(object_at(py, g.address(n))), None),
        KindKey::NotModule => ("notmodule", None, None),
        KindKey::Unity => ("unity", None, None),
    }
}

/// Rows of a set under a classifier, in Heapy's order.
#[pyclass(frozen, name = "Partition", module = "heapscope._native")]
pub struct PartitionHandle {
    graph: Py<LiveGraph>,
    set: NodeSet,
    part: Partition,
}

impl PartitionHandle {
    /// The row of each partitioned node, for grouping the members of `of` (a set of the
    /// same graph) by these rows; and the number of rows.
    pub fn class_map(&self, of: &NodeSetHandle) -> PyResult<(ClassMap, usize)> {
        if self.graph.as_ptr() != of.graph.as_ptr() {
            return Err(DifferentHeapsError::new_err(
                "the partition was made in another capture than the set",
            ));
        }
        let g = &self.graph.get().graph;
        Ok((
            ClassMap::from_partition(g, &self.set, &self.part),
            self.part.rows.len(),
        ))
    }
}

#[pymethods]
impl PartitionHandle {
    #[getter]
    fn header(&self) -> String {
        self.part.header()
    }

    /// Whether rows are classed by their referrers' classes (Rcs).
    #[getter]
    fn by_referrers(&self) -> bool {
        self.part.referrer_kinds.is_some()
    }

    #[getter]
    fn count(&self) -> u64 {
        self.part.count
    }

    #[getter]
    fn size(&self) -> u64 {
        self.part.size
    }

    fn __len__(&self) -> usize {
        self.part.rows.len()
    }

    /// Rows as `(name, count, size, object or None)`; the object is given for byid rows.
    #[pyo3(signature = (start=0, stop=None))]
    fn rows(
        &self,
        py: Python<'_>,
        start: usize,
        stop: Option<usize>,
    ) -> Vec<(String, u64, u64, Option<Py<PyAny>>)> {
        let g = &self.graph.get().graph;
        let stop = stop
            .unwrap_or(self.part.rows.len())
            .min(self.part.rows.len());
        let start = start.min(stop);
        self.part.rows[start..stop]
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let obj = match r.key.keys() {
                    [KindKey::Id(n)] => Some(object_at(py, g.address(*n))),
                    _ => None,
                };
                (self.part.row_name(g, start + i), r.count, r.size, obj)
            })
            .collect()
    }

    /// What each row's class is, for making kinds: `(tag, object, number)` with tag
    /// `type` (object: the type), `dictof` (object: owner type, or None for no owner),
    /// `size` (number), `id` (object), `module` (object), `notmodule` or `unity`.
    fn row_kinds(&self, py: Python<'_>) -> Vec<Vec<RowKind>> {
        let g = &self.graph.get().graph;
        let describe = |k: KindKey| describe_kind(py, g, k);
        match &self.part.referrer_kinds {
            Some(sets) => sets
                .iter()
                .map(|ks| ks.iter().map(|&k| describe(k)).collect())
                .collect(),
            None => self
                .part
                .rows
                .iter()
                .map(|r| r.key.keys().iter().map(|&k| describe(k)).collect())
                .collect(),
        }
    }

    /// For a partition by Via: each row's label texts (`.x`, `[0]`), else None.
    fn via_labels(&self) -> Option<Vec<Vec<String>>> {
        let g = &self.graph.get().graph;
        let table = &g.edge_labels()?.table;
        self.part.via_labels.as_ref().map(|rows| {
            (0..rows.len())
                .map(|r| rows.row(r).iter().map(|&l| table.get(l).text()).collect())
                .collect()
        })
    }

    /// The set of rows `start..stop`.
    fn rows_set(&self, py: Python<'_>, start: usize, stop: usize) -> PyResult<NodeSetHandle> {
        let g = &self.graph.get().graph;
        let n = self.part.rows.len();
        if start >= n {
            return Err(to_pyerr(heapscope_core::CoreError::RowOutOfRange {
                index: start,
                rows: n,
            }));
        }
        Ok(NodeSetHandle {
            graph: self.graph.clone_ref(py),
            set: self
                .part
                .rows_set(g, &self.set, start, stop.min(n).max(start + 1)),
        })
    }

    /// The set of each row `start..stop`, in order (the members of all rows are filed
    /// once: linear in the partition).
    #[pyo3(signature = (start=0, stop=None))]
    fn row_sets(
        &self,
        py: Python<'_>,
        start: usize,
        stop: Option<usize>,
    ) -> PyResult<Vec<Py<NodeSetHandle>>> {
        let g = &self.graph.get().graph;
        let n = self.part.rows.len();
        let stop = stop.unwrap_or(n).min(n);
        (start.min(stop)..stop)
            .map(|r| {
                NodeSetHandle {
                    graph: self.graph.clone_ref(py),
                    set: self.part.row_set(g, &self.set, r),
                }
                .into_untracked(py)
            })
            .collect()
    }
}
