//! heapscope-snapshot: `.hsnap` files, a captured heap as plain data on disk.
//!
//! A snapshot is a [`heapscope_core::GraphParts`] written as a header and a sequence of
//! sections (metadata, types, nodes, labels, edges, ...), each a stream of zstd-compressed
//! chunks with a CRC-32 per chunk, and an end section that proves the file is whole.
//! The writer streams (one chunk buffer at a time) into a temporary file beside the
//! target and renames it into place only when everything is on disk; the reader checks
//! every length, id and checksum and turns any damage into a [`SnapshotError`] that
//! names it. docs/snapshot-format.md specifies the format for other tools.
//!
//! [`export()`] writes a loaded graph in other tools' formats (Chrome DevTools'
//! `.heapsnapshot`, JSON lines, Parquet behind the `parquet` feature), streamed and
//! atomic like a snapshot; docs/exports.md describes them.

mod chunks;
mod columns;
mod error;
mod export;
mod format;
#[cfg(test)]
mod fuzz;
mod reader;
mod staging;
mod writer;

pub use error::SnapshotError;
pub use export::{export, ExportError, ExportFormat, ExportSource, ProgressHook};
pub use format::{FORMAT_VERSION, MAGIC};
pub use reader::{read_snapshot, read_snapshot_from};
pub use writer::{write_snapshot, write_snapshot_staged, write_snapshot_to};
