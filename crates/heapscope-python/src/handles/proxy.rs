//! Nodes as Python objects: the one place a node becomes an object.
//!
//! A live graph holds a strong reference to every node, so its nodes are given back as
//! the objects themselves. A graph read from a snapshot has no objects: its nodes are
//! given as `NodeProxy` (type, address, size, the short text the dump recorded) and its
//! types as `TypeRef` (kind name, module, qualname, MRO). Anything that needs the real
//! object raises `SnapshotError`; nothing ever dereferences a snapshot's address.

use heapscope_core::{NodeId, TypeArg, TypeId};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pyclass::{CompareOp, PyTraverseError, PyVisit};

use super::{LiveGraph, NodeSetHandle};
use crate::errors::SnapshotError;
use crate::live::object_at;

/// The object of node `n` of `graph`: itself on a live graph, a proxy on a snapshot.
pub fn node_object(py: Python<'_>, graph: &Py<LiveGraph>, n: NodeId) -> PyResult<Py<PyAny>> {
    let g = graph.get();
    if g.is_live() {
        return Ok(object_at(py, g.graph.address(n)));
    }
    Ok(Py::new(
        py,
        NodeProxy {
            graph: graph.clone_ref(py),
            node: n,
        },
    )?
    .into_any())
}

/// The type `t` of `graph`: the type object on a live graph, a `TypeRef` on a snapshot.
pub fn type_object(py: Python<'_>, graph: &Py<LiveGraph>, t: TypeId) -> PyResult<Py<PyAny>> {
    let g = graph.get();
    if g.is_live() {
        // a node's type is alive while the node is (instances hold their heap types)
        return Ok(object_at(py, g.graph.type_record(t).address));
    }
    Ok(Py::new(
        py,
        TypeRef {
            graph: graph.clone_ref(py),
            id: t,
        },
    )?
    .into_any())
}

/// The address `obj` stands for in a graph: a proxy's node or type address, else the
/// object's own (a live object).
pub fn address_of(obj: &Bound<'_, PyAny>) -> u64 {
    if let Ok(p) = obj.cast::<NodeProxy>() {
        let p = p.get();
        return p.graph.get().graph.address(p.node);
    }
    if let Ok(t) = obj.cast::<TypeRef>() {
        return t.get().address();
    }
    obj.as_ptr() as u64
}

/// `==`/`!=` by identity (`same`: None when the other operand is of another kind, which
/// Python then asks); other comparisons are errors.
fn compare_identity(
    py: Python<'_>,
    same: Option<bool>,
    op: CompareOp,
    what: &str,
) -> PyResult<Py<PyAny>> {
    let Some(same) = same else {
        return Ok(py.NotImplemented());
    };
    match op {
        CompareOp::Eq => Ok(same.into_pyobject(py)?.to_owned().into_any().unbind()),
        CompareOp::Ne => Ok((!same).into_pyobject(py)?.to_owned().into_any().unbind()),
        _ => Err(PyTypeError::new_err(format!(
            "{what} compare by identity only (== and !=)"
        ))),
    }
}

/// An object of a snapshot.
#[pyclass(frozen, module = "heapscope._native")]
pub struct NodeProxy {
    graph: Py<LiveGraph>,
    node: NodeId,
}

#[pymethods]
impl NodeProxy {
    /// Reports the graph it holds to the cycle collector (see `LiveGraph.__traverse__`).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.graph)
    }

    /// The object's address in the process the snapshot was taken of.
    #[getter]
    fn address(&self) -> u64 {
        self.graph.get().graph.address(self.node)
    }

    /// Its type, as the snapshot recorded it.
    #[getter]
    fn r#type(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        type_object(py, &self.graph, self.graph.get().graph.type_of(self.node))
    }

    /// Heapy's kind name of its type (`int`, `__main__.Leaky`).
    #[getter]
    fn type_name(&self) -> String {
        let g = &self.graph.get().graph;
        g.type_record(g.type_of(self.node)).name.clone()
    }

    /// Its individual size in bytes.
    #[getter]
    fn size(&self) -> u64 {
        self.graph.get().graph.size_of(self.node)
    }

    /// The short text the dump recorded (limited reprs of str and bytes, numbers, module
    /// names), or None.
    #[getter]
    fn text(&self) -> Option<String> {
        self.graph
            .get()
            .notes()
            .and_then(|n| n.text(self.node))
            .map(str::to_string)
    }

    /// Where tracemalloc saw it allocated `(filename, lineno)`, if the dump recorded it.
    #[getter]
    fn site(&self) -> Option<(String, u32)> {
        let notes = self.graph.get().notes()?;
        let i = notes
            .node_sites
            .binary_search_by_key(&self.node, |&(n, _)| n)
            .ok()?;
        let site = notes.sites.get(notes.node_sites[i].1 as usize)?;
        Some((site.filename.clone(), site.lineno))
    }

    /// Whether this is an object of `graph`.
    fn graph_is(&self, graph: &Bound<'_, LiveGraph>) -> bool {
        self.graph.as_ptr() == graph.as_ptr()
    }

    /// The set of just this object.
    fn as_set(&self, py: Python<'_>) -> NodeSetHandle {
        let g = &self.graph.get().graph;
        let mut set = g.empty_set();
        set.insert(self.node);
        NodeSetHandle {
            graph: self.graph.clone_ref(py),
            set: set.compact(),
        }
    }

    fn __repr__(&self) -> String {
        let text = self.text().map(|t| format!(" {t}")).unwrap_or_default();
        format!(
            "<snapshot object {}{} at {:#x}, {} bytes>",
            self.type_name(),
            text,
            self.address(),
            self.size()
        )
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let same = other.cast::<NodeProxy>().ok().map(|o| {
            let o = o.get();
            self.graph.as_ptr() == o.graph.as_ptr() && self.node == o.node
        });
        compare_identity(other.py(), same, op, "snapshot objects")
    }

    fn __hash__(&self) -> u64 {
        self.address()
    }

    /// Any attribute a proxy lacks: the real object is not in a snapshot.
    fn __getattr__(&self, name: &str) -> PyResult<Py<PyAny>> {
        Err(SnapshotError::new_err(format!(
            "{} of a snapshot is a proxy (address, type, size, text): it has no .{name}; \
             the object itself is only in the process that was dumped",
            self.type_name()
        )))
    }
}

/// A type of a snapshot.
#[pyclass(frozen, module = "heapscope._native")]
pub struct TypeRef {
    graph: Py<LiveGraph>,
    id: TypeId,
}

impl TypeRef {
    fn address(&self) -> u64 {
        self.graph.get().graph.type_record(self.id).address
    }

    /// The type as a kind predicate takes it (its MRO as the snapshot recorded it).
    pub fn type_arg(&self) -> TypeArg {
        let rec = self.graph.get().graph.type_record(self.id);
        TypeArg {
            address: rec.address,
            mro: rec.mro.clone(),
        }
    }
}

#[pymethods]
impl TypeRef {
    /// Reports the graph it holds to the cycle collector (see `LiveGraph.__traverse__`).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.graph)
    }

    /// Heapy's kind name (`int`, `pkg.mod.Class`).
    #[getter]
    fn name(&self) -> String {
        self.graph.get().graph.type_record(self.id).name.clone()
    }

    /// `__module__` as recorded (empty when the dump could not read one).
    #[getter]
    fn module(&self) -> String {
        self.graph
            .get()
            .type_part(self.id)
            .map(|t| t.module.clone())
            .unwrap_or_default()
    }

    /// `__qualname__` as recorded.
    #[getter]
    fn qualname(&self) -> String {
        self.graph
            .get()
            .type_part(self.id)
            .map(|t| t.qualname.clone())
            .unwrap_or_default()
    }

    /// The type object's address in the process the snapshot was taken of.
    #[getter(address)]
    fn address_py(&self) -> u64 {
        self.address()
    }

    /// Identifies the snapshot this type belongs to (kinds compare types by it).
    #[getter]
    fn graph_id(&self) -> usize {
        self.graph.as_ptr() as usize
    }

    /// The kind names of its MRO, itself first.
    #[getter]
    fn mro(&self) -> Vec<String> {
        let g = self.graph.get();
        let mut out = vec![self.name()];
        if let Some(t) = g.type_part(self.id) {
            out.extend(
                t.mro
                    .iter()
                    .filter_map(|&b| g.type_part(b).map(|p| p.name.clone())),
            );
        }
        out
    }

    fn __repr__(&self) -> String {
        format!("<snapshot type {:?}>", self.name())
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let same = other.cast::<TypeRef>().ok().map(|o| {
            let o = o.get();
            self.graph.as_ptr() == o.graph.as_ptr() && self.id == o.id
        });
        compare_identity(other.py(), same, op, "snapshot types")
    }

    fn __hash__(&self) -> u64 {
        self.address()
    }
}
