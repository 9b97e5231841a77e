//! Writing a snapshot: streamed section by section, atomically.
//!
//! The file is written under a temporary name in the target's directory, flushed and
//! fsynced, then renamed over the target (and the directory fsynced): a writer killed
//! half-way leaves at most the temporary file, never a partial snapshot at the target.
//! Any error removes the temporary file.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use heapscope_core::GraphParts;

use crate::chunks::write_chunked;
use crate::columns;
use crate::format::{Section, FORMAT_VERSION, MAGIC};
use crate::SnapshotError;

/// Writes `parts` to any byte sink (a file, a socket, memory). Returns the sink.
pub fn write_snapshot_to<W: Write + Send>(out: W, parts: &GraphParts<'_>) -> std::io::Result<W> {
    write_chunked(out, |w| {
        w.raw(&MAGIC)?;
        w.raw(&FORMAT_VERSION.to_le_bytes())?;
        w.raw(&0u32.to_le_bytes())?; // flags, none defined yet
        for section in Section::ALL {
            w.begin(section)?;
            columns::encode(section, parts, w)?;
            w.end()?;
        }
        Ok(())
    })
}

/// Writes `parts` to `path` atomically (see the module docs).
pub fn write_snapshot(path: &Path, parts: &GraphParts<'_>) -> Result<(), SnapshotError> {
    let io = |action: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| SnapshotError::Io {
            action,
            path: p,
            source,
        }
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| SnapshotError::Io {
            action: "cannot write a snapshot to",
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
        })?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(io("cannot create", &tmp))?;
    let written = (|| -> Result<(), SnapshotError> {
        let out = write_snapshot_to(BufWriter::with_capacity(1 << 20, file), parts)
            .map_err(io("cannot write", &tmp))?;
        let file: File = out
            .into_inner()
            .map_err(|e| e.into_error())
            .map_err(io("cannot write", &tmp))?;
        file.sync_all().map_err(io("cannot write", &tmp))?;
        fs::rename(&tmp, path).map_err(io("cannot move the snapshot to", path))?;
        // make the rename itself durable (best effort: not every platform can)
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}
