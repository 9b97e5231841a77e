//! Errors of reading and writing snapshots; the binding crate maps them to
//! `heapscope.SnapshotFormatError` (damaged or foreign data) and `OSError`s.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SnapshotError {
    /// The bytes are not a snapshot this version can read: what is wrong, and where.
    #[error("not a valid heapscope snapshot: {what} (at byte {offset})")]
    Format { what: String, offset: u64 },
    /// A snapshot written by a newer heapscope.
    #[error("the snapshot has format version {found}; this heapscope reads up to version {supported}: upgrade heapscope to read it")]
    NewerVersion { found: u32, supported: u32 },
    /// The file system refused (missing file, permissions, disk full).
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl SnapshotError {
    pub(crate) fn format(what: impl Into<String>, offset: u64) -> Self {
        SnapshotError::Format {
            what: what.into(),
            offset,
        }
    }
}
