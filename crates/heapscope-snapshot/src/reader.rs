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
    // Sections are read (and decompressed) here, one after the other, and each is decoded
    // on a thread of its own meanwhile: the large ones (nodes, edges, texts) decode side by
    // side. The node count the Edges section needs is the first number of the Nodes
    // section.
    let mut expected = Section::ALL.iter().copied();
    let mut seen = 0u64;
    let mut node_count: Option<usize> = None;
    let decoded = std::thread::scope(|scope| -> Result<Vec<GraphParts<'static>>, SnapshotError> {
        let mut decoding = Vec::new();
        let mut end: Option<(u64, u64, u64)> = None;
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
            if section == Section::Nodes {
                let mut peek = Cursor::new(&raw.bytes, section, raw.offset);
                node_count = Some(peek.count(4)?);
            }
            let nodes = node_count.unwrap_or(0);
            if section == Section::End {
                let mut parts = GraphParts::default();
                let mut cursor = Cursor::new(&raw.bytes, section, raw.offset);
                if let Some((sections, declared)) =
                    columns::decode(section, &mut cursor, &mut parts, nodes)?
                {
                    end = Some((sections, declared, raw.offset));
                }
                break;
            }
            decoding.push(
                scope.spawn(move || -> Result<GraphParts<'static>, SnapshotError> {
                    let mut parts = GraphParts::default();
                    let mut cursor = Cursor::new(&raw.bytes, section, raw.offset);
                    columns::decode(section, &mut cursor, &mut parts, nodes)?;
                    Ok(parts)
                }),
            );
            seen += 1;
        }
        let (sections, declared, at) = end.expect("the loop ends at the end section");
        let nodes = node_count.unwrap_or(0) as u64;
        if sections != seen || declared != nodes {
            return Err(SnapshotError::format(
                format!("the end section counts {sections} sections and {declared} objects, the file has {seen} and {nodes}"),
                at,
            ));
        }
        decoding
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(SnapshotError::format("a section could not be decoded", 0))
                })
            })
            .collect()
    })?;
    let mut parts = GraphParts::default();
    for part in decoded {
        merge(&mut parts, part);
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

/// Moves what one section filled in `part` into `parts` (each section fills its own
/// fields).
fn merge(parts: &mut GraphParts<'static>, part: GraphParts<'static>) {
    let GraphParts {
        meta,
        types,
        nodes,
        edges,
        labels,
        dict_owners,
        roots,
        threads,
        texts,
        sites,
        node_sites,
    } = part;
    if !meta.is_empty() {
        parts.meta = meta;
    }
    if !types.is_empty() {
        parts.types = types;
    }
    if !nodes.is_empty() {
        parts.nodes = nodes;
    }
    if edges.is_some() {
        parts.edges = edges;
    }
    if !labels.is_empty() {
        parts.labels = labels;
    }
    if !dict_owners.is_empty() {
        parts.dict_owners = dict_owners;
    }
    if !roots.is_empty() {
        parts.roots = roots;
    }
    if !threads.is_empty() {
        parts.threads = threads;
    }
    if !texts.is_empty() {
        parts.texts = texts;
    }
    if !sites.is_empty() {
        parts.sites = sites;
    }
    if !node_sites.is_empty() {
        parts.node_sites = node_sites;
    }
}
