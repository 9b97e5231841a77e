//! Errors of exporting a graph to another tool's format; the binding crate maps them to
//! Python exceptions (`OSError`s for the file system, `heapscope.SnapshotError` for the
//! rest, the progress callback's own exception for a cancellation it asked for).

use thiserror::Error;

use crate::SnapshotError;

#[derive(Debug, Error)]
pub enum ExportError {
    /// The file system refused (the target's directory is missing, permissions, disk
    /// full): the same error a snapshot write gives.
    #[error(transparent)]
    File(#[from] SnapshotError),
    /// The progress hook asked to stop; nothing was left at the target.
    #[error("the export was cancelled; nothing was written")]
    Cancelled,
    /// The graph cannot be written in this format (too large for its fields, or a
    /// format this build lacks).
    #[error("cannot export to {format}: {why}")]
    Unsupported { format: &'static str, why: String },
    /// The Parquet encoder failed.
    #[error("the Parquet writer failed: {0}")]
    Parquet(String),
}
