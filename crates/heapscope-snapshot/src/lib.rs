//! heapscope-snapshot: `.hsnap` files, a captured heap as plain data on disk.
//!
//! A snapshot is a [`heapscope_core::GraphParts`] written as a header and a sequence of
//! sections (metadata, types, nodes, labels, edges, ...), each a stream of zstd-compressed
//! chunks with a CRC-32 per chunk, and an end section that proves the file is whole.
//! The writer streams (one chunk buffer at a time) into a temporary file beside the
//! target and renames it into place only when everything is on disk; the reader checks
//! every length, id and checksum and turns any damage into a [`SnapshotError`] that
//! names it. docs/snapshot-format.md specifies the format for other tools.

mod chunks;
mod columns;
mod error;
mod format;
#[cfg(test)]
mod fuzz;
mod reader;
mod writer;

pub use error::SnapshotError;
pub use format::{FORMAT_VERSION, MAGIC};
pub use reader::{read_snapshot, read_snapshot_from};
pub use writer::{write_snapshot, write_snapshot_staged, write_snapshot_to};
