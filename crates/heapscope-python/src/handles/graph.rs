//! `LiveGraph`: a captured heap as Python sees it, the core's graph plus the strong
//! references that keep its objects alive (released when the handle is dropped), and
//! its whole-heap dominator tree, computed on first use. The rows the dominator methods
//! return are made in `dominators.rs`; the methods stay here, in the class's one
//! `#[pymethods]` block.

use std::sync::OnceLock;

use heapscope_core::{DominatorTree, HeapGraph, NodeId};
use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;

use super::dominators::{self, RetainerRow};
use super::{require_edges, NodeSetHandle};
use crate::live::capture::Captured;
use crate::live::object_at;

#[pyclass(frozen, weakref, module = "heapscope._native")]
pub struct LiveGraph {
    pub graph: HeapGraph,
    size_failures: u64,
    hidden: Vec<usize>,
    /// The whole-heap dominator tree, computed on first use.
    dominators: OnceLock<DominatorTree>,
}

impl LiveGraph {
    /// The handle of a finished capture (which holds a strong reference to every node).
    pub fn from_capture(captured: Captured) -> LiveGraph {
        LiveGraph {
            graph: captured.graph,
            size_failures: captured.size_failures,
            hidden: captured.hidden,
            dominators: OnceLock::new(),
        }
    }

    /// The whole-heap dominator tree, computed on first use (the graph must have edges).
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
        let tree = self.dominator_tree()?;
        Ok(dominators::immediate_dominator(py, &self.graph, tree, n))
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
        Ok(dominators::largest_children(py, &self.graph, tree, n, k))
    }

    /// The `k` objects with the largest retained sizes: `(object, retained size, objects
    /// dominated (itself included), kind name (Clodo))`.
    fn largest_retainers(&self, py: Python<'_>, k: usize) -> PyResult<Vec<RetainerRow>> {
        dominators::largest_retainers(py, &self.graph, self.dominator_tree()?, k)
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
