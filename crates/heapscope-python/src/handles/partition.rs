//! `Partition` (`PartitionHandle`): the rows of a set under a classifier (or by
//! referrers, or by Via), in Heapy's order, and how a row's class is described to the
//! Python layer for making kinds of it (`describe_kind`, shared with byid rows).

use heapscope_core::{ClassMap, KindKey, NodeSet, Partition};
use pyo3::prelude::*;
use pyo3::pyclass::{PyTraverseError, PyVisit};

use super::proxy::{node_object, type_object};
use super::{LiveGraph, NodeSetHandle};
use crate::errors::{to_pyerr, DifferentHeapsError};
use crate::protocol::KindTag;

/// `(tag, object, number)` describing one factor of a row's class (see
/// `Partition.row_kinds`).
pub type RowKind = (KindTag, Option<Py<PyAny>>, Option<u64>);

/// A class as Python makes kinds of it: `type` (object: the type), `dictof` (object:
/// owner type, or None for no owner), `size` (number), `id` (object), `module`
/// (object), `notmodule` or `unity`.
pub fn describe_kind(py: Python<'_>, graph: &Py<LiveGraph>, k: KindKey) -> PyResult<RowKind> {
    Ok(match k {
        KindKey::Type(t) => (KindTag::Type, Some(type_object(py, graph, t)?), None),
        KindKey::DictOf(t) => (KindTag::DictOf, Some(type_object(py, graph, t)?), None),
        KindKey::DictNoOwner => (KindTag::DictOf, None, None),
        KindKey::Size(s) => (KindTag::Size, None, Some(s)),
        KindKey::Id(n) => (KindTag::Id, Some(node_object(py, graph, n)?), None),
        KindKey::Module(n) => (KindTag::Module, Some(node_object(py, graph, n)?), None),
        KindKey::NotModule => (KindTag::NotModule, None, None),
        KindKey::Unity => (KindTag::Unity, None, None),
    })
}

/// A row as Python gets it: `(name, count, size, object or None)`.
pub type PartitionRowData = (String, u64, u64, Option<Py<PyAny>>);

/// Rows of a set under a classifier, in Heapy's order.
#[pyclass(frozen, name = "Partition", module = "heapscope._native")]
pub struct PartitionHandle {
    pub(super) graph: Py<LiveGraph>,
    pub(super) set: NodeSet,
    pub(super) part: Partition,
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
    /// Reports the graph it holds to the cycle collector (see `LiveGraph.__traverse__`).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.graph)
    }

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
    ) -> PyResult<Vec<PartitionRowData>> {
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
                    [KindKey::Id(n)] => Some(node_object(py, &self.graph, *n)?),
                    _ => None,
                };
                Ok((self.part.row_name(g, start + i), r.count, r.size, obj))
            })
            .collect()
    }

    /// What each row's class is, for making kinds: `(tag, object, number)` with tag
    /// `type` (object: the type), `dictof` (object: owner type, or None for no owner),
    /// `size` (number), `id` (object), `module` (object), `notmodule` or `unity`.
    fn row_kinds(&self, py: Python<'_>) -> PyResult<Vec<Vec<RowKind>>> {
        let describe = |k: KindKey| describe_kind(py, &self.graph, k);
        match &self.part.referrer_kinds {
            Some(sets) => sets
                .iter()
                .map(|ks| ks.iter().map(|&k| describe(k)).collect())
                .collect::<PyResult<_>>(),
            None => self
                .part
                .rows
                .iter()
                .map(|r| r.key.keys().iter().map(|&k| describe(k)).collect())
                .collect::<PyResult<_>>(),
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
        // the first call files every member under its row (a pass over the set): done
        // without the GIL, so the viewer's other threads serve meanwhile
        let set = py.detach(|| {
            self.part
                .rows_set(g, &self.set, start, stop.min(n).max(start + 1))
        });
        Ok(NodeSetHandle {
            graph: self.graph.clone_ref(py),
            set,
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
                Py::new(
                    py,
                    NodeSetHandle {
                        graph: self.graph.clone_ref(py),
                        set: self.part.row_set(g, &self.set, r),
                    },
                )
            })
            .collect()
    }
}
