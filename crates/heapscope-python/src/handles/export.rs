//! `LiveGraph.export`: a snapshot's graph written in another tool's format by the
//! snapshot crate, with the GIL released.
//!
//! The export runs detached from the interpreter (it takes seconds on a large heap and
//! touches no Python object). At each of its progress reports the thread re-attaches
//! briefly to call the caller's `progress(done, total)` and to check for signals, so
//! Ctrl-C (`KeyboardInterrupt`) or an exception raised by the callback cancels the
//! export: the snapshot crate then removes its temporary output, and that exception is
//! what the caller sees.

use std::ops::ControlFlow;
use std::path::Path;

use heapscope_snapshot::{ExportError, ExportFormat, ExportSource};
use pyo3::prelude::*;

use super::LiveGraph;
use crate::errors::{export_err, SnapshotError};

/// Exports `lg` (a snapshot's graph) to `path`; see the module docs.
pub fn run(
    py: Python<'_>,
    lg: &LiveGraph,
    format: ExportFormat,
    path: &Path,
    progress: Option<Py<PyAny>>,
) -> PyResult<()> {
    let Some(notes) = lg.notes() else {
        return Err(SnapshotError::new_err(
            "only a snapshot can be exported: write the heap with heapscope.dump(path), then \
             heapscope.load(path).export(...)",
        ));
    };
    let mut raised: Option<PyErr> = None;
    let result = py.detach(|| {
        // Parquet's retained sizes and dominators: the handle's tree, kept for later
        // queries (computed here, without the GIL, when no query made it yet)
        let dominators = if format == ExportFormat::Parquet && lg.graph.has_edges() {
            lg.dominator_tree().ok()
        } else {
            None
        };
        let source = ExportSource {
            graph: &lg.graph,
            notes,
            dominators,
        };
        let mut hook = |done: u64, total: u64| {
            Python::attach(|py| {
                let called = match &progress {
                    Some(f) => f.call1(py, (done, total)).map(drop),
                    None => Ok(()),
                };
                match called.and_then(|()| py.check_signals()) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(e) => {
                        raised = Some(e);
                        ControlFlow::Break(())
                    }
                }
            })
        };
        heapscope_snapshot::export(&source, format, path, &mut hook)
    });
    match result {
        Ok(()) => Ok(()),
        Err(ExportError::Cancelled) => {
            Err(raised.unwrap_or_else(|| export_err(ExportError::Cancelled)))
        }
        Err(e) => Err(export_err(e)),
    }
}
