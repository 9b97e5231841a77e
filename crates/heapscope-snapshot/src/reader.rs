//! Reading a snapshot: header, then sections in order, each checked; the parts are
//! validated (every id in range) before anyone builds a graph from them.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use heapscope_core::{CoreError, GraphParts};

use crate::chunks::ChunkReader;
use crate::columns::{self, Cursor};
use crate::format::{Section, FORMAT_VERSION, MAGIC};
use crate::SnapshotError;

/// Reads the snapshot at `path`.
pub fn read_snapshot(path: &Path) -> Result<GraphParts<'static>, SnapshotError> {
    let file = File::open(path).map_err(|source| SnapshotError::Io {
        action: "cannot open",
        path: path.to_path_buf(),
        source,
    })?;
    read_snapshot_from(BufReader::with_capacity(1 << 20, file))
}

/// Reads a snapshot from any byte source.
pub fn read_snapshot_from<R: Read>(input: R) -> Result<GraphParts<'static>, SnapshotError> {
    let mut r = ChunkReader::new(input);
    let mut header = [0u8; 16];
    r.exact(&mut header, "the header")
        .map_err(|_| SnapshotError::format("too short to be a heapscope snapshot", 0))?;
    if header[..8] != MAGIC {
        return Err(SnapshotError::format(
            "it does not start with the .hsnap signature (not a heapscope snapshot)",
            0,
        ));
    }
    let version = u32::from_le_bytes(header[8..12].try_into().unwrap());
    if version > FORMAT_VERSION {
        return Err(SnapshotError::NewerVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if version == 0 {
        return Err(SnapshotError::format("format version 0 does not exist", 8));
    }
    let mut parts = GraphParts::default();
    let mut expected = Section::ALL.iter().copied();
    let mut seen = 0u64;
    loop {
        let Some(raw) = r.section()? else {
            return Err(SnapshotError::format(
                "the file ends before its end section (truncated)",
                r.offset,
            ));
        };
        let Some(section) = Section::from_tag(raw.tag) else {
            // a section a later version added: skipped
            seen += 1;
            continue;
        };
        if expected.next() != Some(section) {
            return Err(SnapshotError::format(
                format!(
                    "section {} is out of order",
                    String::from_utf8_lossy(&raw.tag)
                ),
                raw.offset,
            ));
        }
        let mut cursor = Cursor::new(&raw.bytes, section, raw.offset);
        if let Some((sections, nodes)) = columns::decode(section, &mut cursor, &mut parts)? {
            if sections != seen || nodes != parts.nodes.len() as u64 {
                return Err(SnapshotError::format(
                    format!("the end section counts {sections} sections and {nodes} objects, the file has {seen} and {}", parts.nodes.len()),
                    raw.offset,
                ));
            }
            break;
        }
        seen += 1;
    }
    let mut rest = [0u8; 1];
    if r.exact(&mut rest, "").is_ok() {
        return Err(SnapshotError::format(
            "bytes follow the end section",
            r.offset - 1,
        ));
    }
    parts.validate().map_err(|e| match e {
        CoreError::InvalidParts(what) => SnapshotError::format(what, 0),
        other => SnapshotError::format(other.to_string(), 0),
    })?;
    Ok(parts)
}
