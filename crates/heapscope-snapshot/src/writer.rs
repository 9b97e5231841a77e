//! Writing a snapshot: streamed section by section, atomically.
//!
//! The file is written under a temporary name in the target's directory, flushed and
//! fsynced, then renamed over the target (and the directory fsynced): a writer killed
//! half-way leaves at most the temporary file, never a partial snapshot at the target.
//! Any error removes the temporary file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::mpsc;

use heapscope_core::GraphParts;

use crate::chunks::{write_chunked, ChunkWriter};
use crate::columns;
use crate::format::{Section, FORMAT_VERSION, MAGIC};
use crate::staging::{io_error, Staged};
use crate::SnapshotError;

/// Writes `parts` to any byte sink (a file, a socket, memory). Returns the sink.
pub fn write_snapshot_to<W: Write + Send>(out: W, parts: &GraphParts<'_>) -> std::io::Result<W> {
    write_sections(out, |section, w| columns::encode(section, parts, w))
}

/// Writes `parts` to `path` atomically (see the module docs).
pub fn write_snapshot(path: &Path, parts: &GraphParts<'_>) -> Result<(), SnapshotError> {
    write_atomically(path, |out| write_snapshot_to(out, parts))
}

/// Which of a staged dump's parts holds a section: the node columns are known right
/// after the capture (stage 0), the labels once every edge is named (stage 1), owners,
/// texts and the rest last (stage 2).
fn stage_of(section: Section) -> usize {
    match section {
        Section::Meta | Section::Types | Section::Nodes | Section::End => 0,
        Section::Labels | Section::Edges => 1,
        _ => 2,
    }
}

/// Writes a snapshot to `path` atomically while its later parts are still being made:
/// the sections of `early` (metadata, types, nodes) are encoded, compressed and written
/// at once, on this thread, while the caller makes the parts of stage 1 (labels and
/// edges) and then of stage 2 (owners, roots, threads, texts, sites) and sends them, in
/// that order. If the sender is dropped before both arrived, nothing is left at `path`.
pub fn write_snapshot_staged<'a>(
    path: &Path,
    early: &GraphParts<'a>,
    later: mpsc::Receiver<GraphParts<'a>>,
) -> Result<(), SnapshotError> {
    let mut stages: Vec<GraphParts<'a>> = Vec::new();
    write_atomically(path, |out| {
        write_sections(out, |section, w| {
            let stage = stage_of(section);
            if stage == 0 {
                return columns::encode(section, early, w);
            }
            while stages.len() < stage {
                let next = later.recv().map_err(|_| {
                    std::io::Error::other("the dump stopped before its parts were made")
                })?;
                stages.push(next);
            }
            columns::encode(section, &stages[stage - 1], w)
        })
    })
}

/// The header and every section, each section's content encoded by `encode` (which may
/// wait for the parts it needs).
fn write_sections<W: Write + Send>(
    out: W,
    mut encode: impl FnMut(Section, &mut ChunkWriter) -> std::io::Result<()>,
) -> std::io::Result<W> {
    write_chunked(out, |w| {
        w.raw(&MAGIC)?;
        w.raw(&FORMAT_VERSION.to_le_bytes())?;
        w.raw(&0u32.to_le_bytes())?; // flags, none defined yet
        for section in Section::ALL {
            w.begin(section)?;
            encode(section, w)?;
            w.end()?;
        }
        Ok(())
    })
}

/// Runs `write` on a temporary file in `path`'s directory, then fsyncs it and renames it
/// over `path` (see the module docs); any error removes the temporary file.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(BufWriter<File>) -> std::io::Result<BufWriter<File>>,
) -> Result<(), SnapshotError> {
    let (staged, file) = Staged::file(path)?;
    let tmp = staged.path();
    let out =
        write(BufWriter::with_capacity(1 << 20, file)).map_err(io_error("cannot write", tmp))?;
    let file: File = out
        .into_inner()
        .map_err(|e| e.into_error())
        .map_err(io_error("cannot write", tmp))?;
    file.sync_all().map_err(io_error("cannot write", tmp))?;
    staged.commit(|_| false)
}
