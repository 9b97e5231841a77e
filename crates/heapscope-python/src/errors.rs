//! The one place where Rust errors become Python exceptions. Every exception heapscope
//! raises derives from `heapscope.HeapscopeError`.

use heapscope_core::CoreError;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

pyo3::create_exception!(
    heapscope,
    HeapscopeError,
    PyException,
    "Base of every heapscope error."
);
pyo3::create_exception!(
    heapscope,
    CaptureError,
    HeapscopeError,
    "The heap could not be captured."
);
pyo3::create_exception!(
    heapscope,
    DifferentHeapsError,
    HeapscopeError,
    "An operation mixed sets captured from different heaps in a way that needs one heap."
);
pyo3::create_exception!(
    heapscope,
    NotOneObjectError,
    HeapscopeError,
    "The set does not hold exactly one object."
);

pyo3::create_exception!(
    heapscope,
    SnapshotError,
    HeapscopeError,
    "A snapshot cannot do this: its objects are proxies (address, type, size, text), the \
     real objects are only in the process that was dumped."
);
pyo3::create_exception!(
    heapscope,
    SnapshotFormatError,
    SnapshotError,
    "A snapshot file is damaged, truncated, foreign or of a newer format."
);

/// A protocol string from the Python layer (a classifier name, a comparison, a kind
/// tag: see `protocol.rs`) that is none of the accepted values; a `ValueError` naming
/// them.
#[derive(Debug)]
pub struct UnknownName {
    /// What the string should be, with its article (`a comparison`).
    pub what: &'static str,
    pub accepted: Vec<&'static str>,
    pub got: String,
}

impl From<UnknownName> for PyErr {
    fn from(e: UnknownName) -> PyErr {
        let accepted: Vec<String> = e.accepted.iter().map(|a| format!("'{a}'")).collect();
        pyo3::exceptions::PyValueError::new_err(format!(
            "{} is one of {}, not {:?}",
            e.what,
            accepted.join(", "),
            e.got
        ))
    }
}

/// Converts a core error into the matching Python exception.
pub fn to_pyerr(e: CoreError) -> PyErr {
    let msg = e.to_string();
    match e {
        CoreError::TooManyNodes { .. }
        | CoreError::UnprocessedNodes { .. }
        | CoreError::NoEdges
        | CoreError::LabelMismatch => CaptureError::new_err(msg),
        CoreError::BadOrder => pyo3::exceptions::PyValueError::new_err(msg),
        CoreError::DifferentGraphs => DifferentHeapsError::new_err(msg),
        CoreError::EmptySet | CoreError::NotOne { .. } => NotOneObjectError::new_err(msg),
        CoreError::RowOutOfRange { .. } => pyo3::exceptions::PyIndexError::new_err(msg),
        CoreError::BadProduct { .. } => pyo3::exceptions::PyValueError::new_err(msg),
        CoreError::InvalidParts(_) => SnapshotFormatError::new_err(msg),
    }
}

/// Converts a snapshot reading or writing error: damaged or foreign data is a
/// `SnapshotFormatError`; the file system's refusals are the matching `OSError`s
/// (`FileNotFoundError`, `PermissionError`, ...) with the path in the message.
pub fn snapshot_err(e: heapscope_snapshot::SnapshotError) -> PyErr {
    use heapscope_snapshot::SnapshotError as E;
    use pyo3::exceptions::{
        PyFileNotFoundError, PyIsADirectoryError, PyOSError, PyPermissionError,
    };
    use std::io::ErrorKind;
    let msg = e.to_string();
    match &e {
        E::Format { .. } | E::NewerVersion { .. } => SnapshotFormatError::new_err(msg),
        E::Io { source, .. } => match source.kind() {
            ErrorKind::NotFound => PyFileNotFoundError::new_err(msg),
            ErrorKind::PermissionDenied => PyPermissionError::new_err(msg),
            ErrorKind::IsADirectory => PyIsADirectoryError::new_err(msg),
            _ => PyOSError::new_err(msg),
        },
    }
}

/// Converts an export error: the file system's refusals as [`snapshot_err`] does, the
/// rest (a graph too large for the format, the encoder failing) a `SnapshotError`.
/// A cancellation is not converted here: the binding raises what cancelled it.
pub fn export_err(e: heapscope_snapshot::ExportError) -> PyErr {
    use heapscope_snapshot::ExportError as E;
    match e {
        E::File(e) => snapshot_err(e),
        e @ (E::Cancelled | E::Unsupported { .. } | E::Parquet(_)) => {
            SnapshotError::new_err(e.to_string())
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("HeapscopeError", py.get_type::<HeapscopeError>())?;
    m.add("CaptureError", py.get_type::<CaptureError>())?;
    m.add("DifferentHeapsError", py.get_type::<DifferentHeapsError>())?;
    m.add("NotOneObjectError", py.get_type::<NotOneObjectError>())?;
    m.add("SnapshotError", py.get_type::<SnapshotError>())?;
    m.add("SnapshotFormatError", py.get_type::<SnapshotFormatError>())?;
    Ok(())
}
