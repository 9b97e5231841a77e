//! `LiveGraph`: a heap graph as Python sees it, the core's graph plus either the strong
//! references that keep its objects alive (a live capture; released when the handle is
//! dropped) or the notes of the snapshot it was read from (no objects at all), and its
//! whole-heap dominator tree, computed on first use. The rows the dominator methods
//! return are made in `dominators.rs`; the methods stay here, in the class's one
//! `#[pymethods]` block.

use std::path::PathBuf;
use std::sync::OnceLock;

use heapscope_core::{DominatorTree, GraphNotes, HeapGraph, NodeId, NodeSet, TypeId, TypePart};
use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::pyclass::{PyTraverseError, PyVisit};

use super::dominators::{self, RetainedPage, RetainerRow};
use super::export;
use super::proxy::{address_of, node_object, type_object};
use super::snapshot_io::{self, DumpExtras, TypeRow};
use super::{require_edges, NodeSetHandle};
use crate::errors::SnapshotError;
use crate::live::capture::Captured;
use crate::protocol::ExportFormatArg;

#[pyclass(frozen, weakref, module = "heapscope._native")]
pub struct LiveGraph {
    pub graph: HeapGraph,
    size_failures: u64,
    hidden: Vec<usize>,
    /// The whole-heap dominator tree, computed on first use.
    dominators: OnceLock<DominatorTree>,
    /// Set for a graph read from a snapshot: it holds no objects, only this data.
    notes: Option<GraphNotes>,
    /// Nodes below this id are what the closure from the roots reached (captures with
    /// edges; see `Captured::roots_closure`).
    roots_closure: Option<u32>,
}

impl LiveGraph {
    /// The handle of a finished capture (which holds a strong reference to every node).
    pub fn from_capture(captured: Captured) -> LiveGraph {
        LiveGraph {
            graph: captured.graph,
            size_failures: captured.size_failures,
            hidden: captured.hidden,
            dominators: OnceLock::new(),
            notes: None,
            roots_closure: captured.roots_closure,
        }
    }

    /// The handle of a graph read from a snapshot (no objects behind its nodes).
    pub fn from_snapshot(graph: HeapGraph, notes: GraphNotes) -> LiveGraph {
        LiveGraph {
            graph,
            size_failures: 0,
            hidden: Vec::new(),
            dominators: OnceLock::new(),
            notes: Some(notes),
            roots_closure: None,
        }
    }

    /// Whether every node is a live object this handle keeps alive (else a snapshot).
    pub fn is_live(&self) -> bool {
        self.notes.is_none()
    }

    /// A snapshot's notes (None for a live capture).
    pub fn notes(&self) -> Option<&GraphNotes> {
        self.notes.as_ref()
    }

    /// A snapshot's full record of type `t` (module, qualname, MRO).
    pub fn type_part(&self, t: TypeId) -> Option<&TypePart> {
        self.notes.as_ref().and_then(|n| n.types.get(t.index()))
    }

    /// The whole-heap dominator tree, computed on first use (the graph must have edges).
    pub(super) fn dominator_tree(&self) -> PyResult<&DominatorTree> {
        require_edges(&self.graph)?;
        Ok(self
            .dominators
            .get_or_init(|| DominatorTree::compute(&self.graph)))
    }

    fn node_of_object(&self, obj: &Bound<'_, PyAny>) -> PyResult<NodeId> {
        self.graph
            .node_of(address_of(obj))
            .ok_or_else(|| PyValueError::new_err("the object is not in this heap graph"))
    }
}

impl Drop for LiveGraph {
    fn drop(&mut self) {
        if !self.is_live() {
            return; // a snapshot's addresses are no objects of this process
        }
        Python::attach(|_py| {
            for &a in self.graph.addresses() {
                unsafe { ffi::Py_DECREF(a as *mut ffi::PyObject) };
            }
        });
    }
}

#[pymethods]
impl LiveGraph {
    /// Reports the strong reference held to every node, so that the cycle collector
    /// sees them: a capture's nodes often come to refer back to the capture (on 3.10 the
    /// caller's frame is a node, and its local then holds the result), and a cycle
    /// through a handle the collector cannot see into is never freed. No `__clear__`:
    /// the references live as long as the handle (a node's address must stay its
    /// object); the collector breaks such a cycle at its other members.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if !self.is_live() {
            return Ok(()); // a snapshot's addresses are no objects of this process
        }
        // SAFETY: the collector calls tp_traverse with this thread attached; the token
        // only wraps each address as a borrowed reference (no reference count changes,
        // no Python code runs), and each is an object this handle keeps alive.
        let py = unsafe { Python::assume_attached() };
        for &a in self.graph.addresses() {
            let obj = unsafe { pyo3::Borrowed::from_ptr(py, a as *mut ffi::PyObject) };
            visit.call(obj.as_unbound())?;
        }
        Ok(())
    }

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
    fn roots(slf: &Bound<'_, Self>) -> PyResult<Vec<(String, Py<PyAny>)>> {
        let py = slf.py();
        let handle = slf.clone().unbind();
        slf.get()
            .graph
            .roots()
            .iter()
            .map(|(name, n)| Ok((name.clone(), node_object(py, &handle, *n)?)))
            .collect()
    }

    /// Whether the nodes are live objects (a capture) rather than a snapshot's.
    #[getter]
    fn live(&self) -> bool {
        self.is_live()
    }

    /// The type objects of a live graph, in type id order, then the classes that are
    /// nodes of the graph without instances in it (for a dump's type table: a snapshot
    /// knows every class it holds by name).
    fn type_objects(slf: &Bound<'_, Self>) -> PyResult<Vec<Py<PyAny>>> {
        let me = slf.get();
        if !me.is_live() {
            return Err(SnapshotError::new_err(
                "a snapshot's types are no type objects",
            ));
        }
        let py = slf.py();
        let handle = slf.clone().unbind();
        let g = &me.graph;
        let mut out = (0..g.types().len())
            .map(|t| type_object(py, &handle, TypeId(t as u32)))
            .collect::<PyResult<Vec<_>>>()?;
        let own: std::collections::HashSet<u64> = g.types().iter().map(|t| t.address).collect();
        for k in 0..g.node_count() {
            let n = NodeId(k as u32);
            let a = g.address(n);
            // Safety: every node of a live graph holds a strong reference to its object.
            let is_type = unsafe { ffi::PyType_Check(a as *mut ffi::PyObject) } != 0;
            if is_type && !own.contains(&a) {
                out.push(node_object(py, &handle, n)?);
            }
        }
        Ok(out)
    }

    /// Writes this live graph to a snapshot file (see `heapscope.snapshot.dump`).
    #[pyo3(signature = (path, *, meta, types, unreachable, threads, sites, text_cap))]
    #[allow(clippy::too_many_arguments)]
    fn write_snapshot(
        &self,
        py: Python<'_>,
        path: &str,
        meta: Vec<(String, String)>,
        types: Vec<TypeRow>,
        unreachable: PyRef<'_, NodeSetHandle>,
        threads: Vec<(u64, String)>,
        sites: Vec<(String, u32, Vec<u64>)>,
        text_cap: usize,
    ) -> PyResult<()> {
        let extras = DumpExtras {
            meta,
            types,
            threads,
            sites,
            text_cap,
        };
        snapshot_io::write(py, self, path, &unreachable, extras)
    }

    /// Writes this snapshot's graph to `path` as `format` (`heapsnapshot`, `jsonl`,
    /// `parquet`; docs/exports.md), atomically, calling `progress(done, total)` now and
    /// then; an exception from it, or Ctrl-C, cancels and leaves nothing at `path`.
    #[pyo3(signature = (format, path, progress=None))]
    fn export(
        &self,
        py: Python<'_>,
        format: ExportFormatArg,
        path: PathBuf,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        export::run(py, self, format.0, &path, progress)
    }

    /// A snapshot's metadata `(key, value)` (empty for a live graph).
    fn meta(&self) -> Vec<(String, String)> {
        self.notes().map(|n| n.meta.clone()).unwrap_or_default()
    }

    /// Whether a snapshot recorded allocation sites (tracemalloc was tracing).
    fn has_sites(&self) -> bool {
        self.notes().is_some_and(|n| !n.node_sites.is_empty())
    }

    /// A snapshot's threads `(id, name)` (empty for a live graph).
    fn threads(&self) -> Vec<(u64, String)> {
        self.notes()
            .map(|n| n.threads.iter().map(|t| (t.id, t.name.clone())).collect())
            .unwrap_or_default()
    }

    /// The nodes of a capture with seeds that only the seeds reached: alive, unreachable
    /// from the roots (hidden objects never become nodes, so nothing of the session's
    /// is among them). Linear in that part: the walk's order tells.
    fn seeded_only(slf: &Bound<'_, Self>) -> PyResult<NodeSetHandle> {
        let me = slf.get();
        let Some(boundary) = me.roots_closure else {
            return Err(PyValueError::new_err(
                "only a capture with edges knows what its seeds alone reached",
            ));
        };
        let n = me.graph.node_count();
        let set = NodeSet::from_ids(n, (boundary..n as u32).map(NodeId));
        Ok(NodeSetHandle {
            graph: slf.clone().unbind(),
            set: set.compact(),
        })
    }

    /// The nodes a snapshot marked alive but unreachable from the roots (`heapu()`).
    fn flagged_unreachable(slf: &Bound<'_, Self>) -> NodeSetHandle {
        let me = slf.get();
        let g = &me.graph;
        let set = match me.notes() {
            Some(notes) => NodeSet::from_ids(
                g.node_count(),
                (0..g.node_count())
                    .map(|k| NodeId(k as u32))
                    .filter(|&n| notes.unreachable(n)),
            ),
            None => g.empty_set(),
        };
        NodeSetHandle {
            graph: slf.clone().unbind(),
            set: set.compact(),
        }
    }

    /// A snapshot's type by name: Heapy's kind name (`pkg.mod.Class`, `int`) or
    /// `module.qualname`; None when no type is named so.
    fn type_named(slf: &Bound<'_, Self>, name: &str) -> PyResult<Option<Py<PyAny>>> {
        let me = slf.get();
        let Some(notes) = me.notes() else {
            return Err(SnapshotError::new_err(
                "a live graph's types are type objects",
            ));
        };
        let found = notes.types.iter().position(|t| {
            t.name == name
                || (!t.module.is_empty() && format!("{}.{}", t.module, t.qualname) == name)
        });
        found
            .map(|t| type_object(slf.py(), &slf.clone().unbind(), TypeId(t as u32)))
            .transpose()
    }

    /// Computes the whole-heap dominator tree now (later queries reuse it), without
    /// holding the GIL: the viewer computes it on a thread of its own while it serves.
    fn compute_dominators(&self, py: Python<'_>) -> PyResult<()> {
        require_edges(&self.graph)?;
        py.detach(|| {
            self.dominators
                .get_or_init(|| DominatorTree::compute(&self.graph));
        });
        Ok(())
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
        slf: &Bound<'_, Self>,
        obj: &Bound<'_, PyAny>,
    ) -> PyResult<(&'static str, Option<Py<PyAny>>)> {
        let me = slf.get();
        let n = me.node_of_object(obj)?;
        let tree = me.dominator_tree()?;
        dominators::immediate_dominator(slf.py(), &slf.clone().unbind(), tree, n)
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
        slf: &Bound<'_, Self>,
        obj: &Bound<'_, PyAny>,
        k: usize,
    ) -> PyResult<Vec<(Py<PyAny>, u64)>> {
        let me = slf.get();
        let n = me.node_of_object(obj)?;
        let tree = me.dominator_tree()?;
        dominators::largest_children(slf.py(), &slf.clone().unbind(), tree, n, k)
    }

    /// The `k` objects with the largest retained sizes: `(object, retained size, objects
    /// dominated (itself included), kind name (Clodo))`.
    fn largest_retainers(slf: &Bound<'_, Self>, k: usize) -> PyResult<Vec<RetainerRow>> {
        let tree = slf.get().dominator_tree()?;
        dominators::largest_retainers(slf.py(), &slf.clone().unbind(), tree, k)
    }

    /// The members of `nodes` by retained size, largest first (ties by node id): the
    /// page `start..start + count` as `(object, retained size)`, and how many members
    /// are reachable (the unreachable retain nothing and are left out). One pass over
    /// the set in the core, without the interpreter, rather than a call per member.
    fn largest_retained_in(
        slf: &Bound<'_, Self>,
        nodes: PyRef<'_, NodeSetHandle>,
        start: usize,
        count: usize,
    ) -> PyResult<RetainedPage> {
        let me = slf.get();
        if !std::ptr::eq(&nodes.graph.get().graph, &me.graph) {
            return Err(PyValueError::new_err(
                "the node set belongs to another graph",
            ));
        }
        let py = slf.py();
        let tree = me.dominator_tree()?;
        let set = &nodes.set;
        let (page, total) = py.detach(|| tree.largest_in(set, start, count));
        Ok((
            dominators::retained_rows(py, &slf.clone().unbind(), page)?,
            total,
        ))
    }

    /// The dominator tree's top level (objects no single object dominates) by retained
    /// size, largest first (ties by node id): the page `start..start + count` as
    /// `(object, retained size)`, and how many there are. The first call sorts them
    /// all (a big heap has millions); later pages reuse that order.
    fn root_children(slf: &Bound<'_, Self>, start: usize, count: usize) -> PyResult<RetainedPage> {
        let py = slf.py();
        let tree = slf.get().dominator_tree()?;
        let (page, total) = py.detach(|| tree.root_children_page(start, count));
        Ok((
            dominators::retained_rows(py, &slf.clone().unbind(), page)?,
            total,
        ))
    }

    /// The node id of `obj` in this graph, or None (ids pair up edges in `avoid_edges`).
    fn node_id(&self, obj: &Bound<'_, PyAny>) -> Option<u32> {
        self.graph.node_of(address_of(obj)).map(|n| n.0)
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
        let set = g.set_of_addresses(objects.iter().map(address_of));
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
