//! The `IdRows` handle: a byid partition (`heapscope_core::IdRows`) of one graph, whose
//! clusters Python orders by value or rendering when it first shows their rows.

use std::sync::{Mutex, MutexGuard};

use heapscope_core::{ClusterOrder, IdRows, NodeSet};
use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::pyclass::{PyTraverseError, PyVisit};
use pyo3::types::PyList;

use super::partition::{describe_kind, RowKind};
use super::proxy::node_object;
use super::{LiveGraph, NodeSetHandle};
use crate::errors::to_pyerr;

/// Rows of a byid partition (see `heapscope.byid`).
#[pyclass(frozen, name = "IdRows", module = "heapscope._native")]
pub struct IdRowsHandle {
    pub graph: Py<LiveGraph>,
    pub rows: Mutex<IdRows>,
}

impl IdRowsHandle {
    fn rows(&self) -> MutexGuard<'_, IdRows> {
        self.rows.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check_row(&self, row: u64) -> PyResult<()> {
        let count = self.rows().count;
        if row < count {
            Ok(())
        } else {
            Err(PyIndexError::new_err(format!(
                "row {row} out of range for a partition of {count} rows"
            )))
        }
    }
}

#[pymethods]
impl IdRowsHandle {
    /// Reports the graph it holds to the cycle collector (see `LiveGraph.__traverse__`).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.graph)
    }

    #[getter]
    fn count(&self) -> u64 {
        self.rows().count
    }

    #[getter]
    fn size(&self) -> u64 {
        self.rows().size
    }

    fn __len__(&self) -> usize {
        self.rows().count as usize
    }

    /// The distinct Clodo kinds of the set, as `Partition.row_kinds` describes kinds.
    fn kinds(&self, py: Python<'_>) -> PyResult<Vec<RowKind>> {
        self.rows()
            .kinds
            .iter()
            .map(|&k| describe_kind(py, &self.graph, k))
            .collect()
    }

    /// The kinds' names (as Clodo names them), aligned with `kinds()`.
    fn kind_names(&self) -> Vec<String> {
        let g = &self.graph.get().graph;
        self.rows()
            .kinds
            .iter()
            .map(|k| k.graph_name(g).unwrap_or_default())
            .collect()
    }

    /// Number of clusters.
    fn cluster_count(&self) -> usize {
        self.rows().clusters.len()
    }

    /// The cluster holding `row`.
    fn cluster_at(&self, row: u64) -> PyResult<usize> {
        self.check_row(row)?;
        Ok(self.rows().cluster_at(row))
    }

    /// `(size, kind index, first row, length, order)` of cluster `c`; order is `ids`,
    /// `addresses` or `final`.
    fn cluster(&self, c: usize) -> PyResult<(u64, u32, u64, u64, &'static str)> {
        let rows = self.rows();
        let cl = rows
            .clusters
            .get(c)
            .ok_or_else(|| PyIndexError::new_err(format!("no cluster {c}")))?;
        let order = match cl.order {
            ClusterOrder::Ids => "ids",
            ClusterOrder::Addresses => "addresses",
            ClusterOrder::Final => "final",
        };
        Ok((cl.size, cl.kind, cl.first_row, cl.len, order))
    }

    /// Puts cluster `c` in address order (Heapy's order for objects shown by address).
    fn order_by_address(&self, c: usize) {
        self.rows().order_by_address(&self.graph.get().graph, c);
    }

    /// Cluster `c`'s members in address order, for the caller to order by value or
    /// rendering.
    fn cluster_objects<'py>(&self, py: Python<'py>, c: usize) -> PyResult<Bound<'py, PyList>> {
        let g = &self.graph.get().graph;
        let mut rows = self.rows();
        rows.order_by_address(g, c);
        let objects = rows
            .cluster_members(c)
            .iter()
            .map(|&n| node_object(py, &self.graph, n))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, objects)
    }

    /// Orders cluster `c`: row `i` becomes the member at `order[i]` of `cluster_objects`.
    fn reorder(&self, c: usize, order: Vec<u32>) -> PyResult<()> {
        self.rows().reorder(c, &order).map_err(to_pyerr)
    }

    /// Rows `start..stop` as `(object, size, kind index)`, in their current order.
    fn rows_at(
        &self,
        py: Python<'_>,
        start: u64,
        stop: u64,
    ) -> PyResult<Vec<(Py<PyAny>, u64, u32)>> {
        let rows = self.rows();
        let stop = stop.min(rows.count);
        let start = start.min(stop);
        let mut out = Vec::with_capacity((stop - start) as usize);
        let mut c = if start < stop {
            rows.cluster_at(start)
        } else {
            0
        };
        for (i, &n) in rows.rows(start, stop).iter().enumerate() {
            let row = start + i as u64;
            while rows.clusters[c].first_row + rows.clusters[c].len <= row {
                c += 1;
            }
            let cl = &rows.clusters[c];
            out.push((node_object(py, &self.graph, n)?, cl.size, cl.kind));
        }
        Ok(out)
    }

    /// The set of rows `start..stop`.
    fn rows_set(&self, py: Python<'_>, start: u64, stop: u64) -> PyResult<NodeSetHandle> {
        self.check_row(start)?;
        let rows = self.rows();
        let stop = stop.min(rows.count).max(start + 1);
        let set = NodeSet::from_ids(
            self.graph.get().graph.node_count(),
            rows.rows(start, stop).iter().copied(),
        );
        Ok(NodeSetHandle {
            graph: self.graph.clone_ref(py),
            set,
        })
    }

    /// Total size of rows `0..=row`.
    fn cumulative(&self, row: u64) -> PyResult<u64> {
        self.check_row(row)?;
        Ok(self.rows().cumulative(row))
    }
}
