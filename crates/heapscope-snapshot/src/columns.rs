//! What each section holds, written and read in one place so the two stay mirror
//! images. Integers are LEB128 varints; deltas (addresses, edge targets) zigzag varints;
//! strings a length and UTF-8 bytes; every table starts with its length. Columns are
//! stored one after another (all addresses, then all types, ...) because like values
//! side by side compress best.

use std::io;

use heapscope_core::{
    EdgeParts, GraphParts, Label, LabelId, LabelOrder, LabelTable, NodeId, NodeParts, NodeTexts,
    Relation, RootPart, SitePart, ThreadPart, TypeId, TypePart,
};

use crate::chunks::ChunkWriter;
use crate::format::Section;
use crate::SnapshotError;

const TYPE_DICT: u8 = 1;
const TYPE_MODULE: u8 = 2;
const LABEL_INT: u8 = 0;
const LABEL_TEXT: u8 = 1;

/// Writes `section` of `parts`.
pub(crate) fn encode(
    section: Section,
    parts: &GraphParts<'_>,
    w: &mut ChunkWriter,
) -> io::Result<()> {
    match section {
        Section::Meta => {
            w.varint(parts.meta.len() as u64)?;
            for (k, v) in &parts.meta {
                w.str(k)?;
                w.str(v)?;
            }
        }
        Section::Types => {
            w.varint(parts.types.len() as u64)?;
            for t in &parts.types {
                w.varint(t.address)?;
                w.u8((TYPE_DICT * t.is_dict as u8) | (TYPE_MODULE * t.is_module as u8))?;
                w.str(&t.name)?;
                w.str(&t.module)?;
                w.str(&t.qualname)?;
                w.varint(t.mro.len() as u64)?;
                for b in &t.mro {
                    w.varint(b.0 as u64)?;
                }
            }
        }
        Section::Nodes => {
            let n = &parts.nodes;
            w.varint(n.len() as u64)?;
            let mut prev = 0u64;
            for &a in n.addresses.iter() {
                w.zigzag(a.wrapping_sub(prev) as i64)?;
                prev = a;
            }
            for t in n.types.iter() {
                w.varint(t.0 as u64)?;
            }
            for &s in n.sizes.iter() {
                w.varint(s)?;
            }
            for &f in &n.flags {
                w.u8(f)?;
            }
        }
        Section::Labels => {
            w.varint(parts.labels.len() as u64)?;
            for l in &parts.labels {
                w.u8(l.relation.code() as u8)?;
                match &l.order {
                    LabelOrder::Int(i) => {
                        w.u8(LABEL_INT)?;
                        w.zigzag(*i)?;
                    }
                    LabelOrder::Text(s) => {
                        w.u8(LABEL_TEXT)?;
                        w.str(s)?;
                    }
                }
            }
        }
        Section::Edges => match &parts.edges {
            None => w.u8(0)?,
            Some(e) => {
                w.u8(1)?;
                for pair in e.starts.windows(2) {
                    w.varint(u64::from(pair[1] - pair[0]))?;
                }
                for (source, pair) in e.starts.windows(2).enumerate() {
                    for t in &e.targets[pair[0] as usize..pair[1] as usize] {
                        w.zigzag(t.0 as i64 - source as i64)?;
                    }
                }
                for &l in e.labels.iter() {
                    w.varint(label_code(l))?;
                }
            }
        },
        Section::Owners => {
            w.varint(parts.dict_owners.len() as u64)?;
            for (d, o) in &parts.dict_owners {
                w.varint(d.0 as u64)?;
                w.varint(o.0 as u64)?;
            }
        }
        Section::Roots => {
            w.varint(parts.roots.len() as u64)?;
            for r in &parts.roots {
                w.str(&r.name)?;
                w.varint(r.node.0 as u64)?;
            }
        }
        Section::Threads => {
            w.varint(parts.threads.len() as u64)?;
            for t in &parts.threads {
                w.varint(t.id)?;
                w.str(&t.name)?;
            }
        }
        Section::Texts => {
            w.varint(parts.texts.len() as u64)?;
            let mut prev = 0i64;
            for (node, text) in parts.texts.iter() {
                w.zigzag(i64::from(node.0) - prev)?;
                prev = i64::from(node.0);
                w.str(text)?;
            }
        }
        Section::Sites => {
            w.varint(parts.sites.len() as u64)?;
            for s in &parts.sites {
                w.str(&s.filename)?;
                w.varint(s.lineno as u64)?;
            }
            w.varint(parts.node_sites.len() as u64)?;
            for (node, site) in &parts.node_sites {
                w.varint(node.0 as u64)?;
                w.varint(*site as u64)?;
            }
        }
        Section::End => {
            // sections before this one, and the node count: a whole file proves both
            w.varint(w.sections - 1)?;
            w.varint(parts.nodes.len() as u64)?;
        }
    }
    Ok(())
}

/// A checked reader over one section's raw bytes.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    name: &'static str,
    offset: u64,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8], section: Section, offset: u64) -> Self {
        let name = match section {
            Section::Meta => "META",
            Section::Types => "TYPE",
            Section::Nodes => "NODE",
            Section::Labels => "LABL",
            Section::Edges => "EDGE",
            Section::Owners => "OWNR",
            Section::Roots => "ROOT",
            Section::Threads => "THRD",
            Section::Texts => "TEXT",
            Section::Sites => "SITE",
            Section::End => "END_",
        };
        Cursor {
            bytes,
            pos: 0,
            name,
            offset,
        }
    }

    pub(crate) fn error(&self, what: impl std::fmt::Display) -> SnapshotError {
        SnapshotError::format(
            format!(
                "section {}: {what} (byte {} of the section)",
                self.name, self.pos
            ),
            self.offset,
        )
    }

    pub(crate) fn u8(&mut self) -> Result<u8, SnapshotError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or_else(|| self.error("ends early"))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn varint(&mut self) -> Result<u64, SnapshotError> {
        // most values of a heap (type ids, sizes, deltas) fit in one byte
        if let Some(&b) = self.bytes.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            let bits = (b & 0x7f) as u64;
            if shift == 63 && bits > 1 {
                return Err(self.error("an integer overflows 64 bits"));
            }
            v |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.error("an integer overflows 64 bits"))
    }

    pub(crate) fn zigzag(&mut self) -> Result<i64, SnapshotError> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn u32(&mut self, what: &str) -> Result<u32, SnapshotError> {
        let v = self.varint()?;
        u32::try_from(v).map_err(|_| self.error(format!("{what} {v} is out of range")))
    }

    /// A table length, checked against the bytes left (each item takes at least
    /// `min_bytes`), so a damaged length cannot make the reader allocate without bound.
    pub(crate) fn count(&mut self, min_bytes: usize) -> Result<usize, SnapshotError> {
        let v = self.varint()?;
        let left = (self.bytes.len() - self.pos) as u64;
        if v.saturating_mul(min_bytes.max(1) as u64) > left {
            return Err(self.error(format!(
                "a table of {v} entries does not fit in the {left} bytes left"
            )));
        }
        Ok(v as usize)
    }

    pub(crate) fn str(&mut self) -> Result<String, SnapshotError> {
        self.str_ref().map(str::to_string)
    }

    /// A text borrowed from the section (no allocation: a heap's millions of texts).
    pub(crate) fn str_ref(&mut self) -> Result<&'a str, SnapshotError> {
        let len = self.count(1)?;
        let bytes: &'a [u8] = self.bytes;
        let raw = &bytes[self.pos..self.pos + len];
        self.pos += len;
        std::str::from_utf8(raw).map_err(|_| self.error("a text is not UTF-8"))
    }

    pub(crate) fn finish(&self) -> Result<(), SnapshotError> {
        if self.pos != self.bytes.len() {
            return Err(self.error(format!(
                "{} bytes follow the section's content",
                self.bytes.len() - self.pos
            )));
        }
        Ok(())
    }
}

/// An edge's label id as stored: an item label `[i]` as `2i + 1`, a table label as
/// `2id` (item labels are most edges of a heap's lists and need no table entry).
fn label_code(l: LabelId) -> u64 {
    match LabelTable::item_index(l) {
        Some(i) => (u64::from(i) << 1) | 1,
        None => u64::from(l.0) << 1,
    }
}

fn label_of_code(code: u64) -> Option<LabelId> {
    let value = u32::try_from(code >> 1).ok().filter(|&v| v < 1 << 31)?;
    Some(if code & 1 == 1 {
        LabelTable::item_label(value)
    } else {
        LabelId(value)
    })
}

/// Reads `section` into `parts`; `nodes` is the node count the Nodes section declares
/// (the Edges section has one out-degree per node). The End section's facts are
/// returned for the reader to check: `(sections before it, node count)`.
pub(crate) fn decode(
    section: Section,
    c: &mut Cursor<'_>,
    parts: &mut GraphParts<'static>,
    nodes: usize,
) -> Result<Option<(u64, u64)>, SnapshotError> {
    match section {
        Section::Meta => {
            let n = c.count(2)?;
            parts.meta = (0..n)
                .map(|_| Ok((c.str()?, c.str()?)))
                .collect::<Result<_, SnapshotError>>()?;
        }
        Section::Types => {
            let n = c.count(6)?;
            parts.types = Vec::with_capacity(n);
            for _ in 0..n {
                let address = c.varint()?;
                let flags = c.u8()?;
                let (name, module, qualname) = (c.str()?, c.str()?, c.str()?);
                let k = c.count(1)?;
                let mro = (0..k)
                    .map(|_| c.u32("a type id").map(TypeId))
                    .collect::<Result<_, _>>()?;
                parts.types.push(TypePart {
                    address,
                    name,
                    module,
                    qualname,
                    is_dict: flags & TYPE_DICT != 0,
                    is_module: flags & TYPE_MODULE != 0,
                    mro,
                });
            }
        }
        Section::Nodes => {
            let n = c.count(4)?;
            let mut addresses = Vec::with_capacity(n);
            let mut prev = 0u64;
            for _ in 0..n {
                prev = prev.wrapping_add(c.zigzag()? as u64);
                addresses.push(prev);
            }
            let types = (0..n)
                .map(|_| c.u32("a type id").map(TypeId))
                .collect::<Result<Vec<_>, _>>()?;
            let sizes = (0..n).map(|_| c.varint()).collect::<Result<Vec<_>, _>>()?;
            let flags = (0..n).map(|_| c.u8()).collect::<Result<Vec<_>, _>>()?;
            parts.nodes = NodeParts {
                addresses: addresses.into(),
                types: types.into(),
                sizes: sizes.into(),
                flags,
            };
        }
        Section::Labels => {
            let n = c.count(3)?;
            parts.labels = Vec::with_capacity(n);
            for _ in 0..n {
                let code = c.u8()?;
                let relation = if code == 0 {
                    Relation::Unnamed
                } else {
                    Relation::from_code(code as i32)
                        .ok_or_else(|| c.error(format!("unknown relation code {code}")))?
                };
                let order = match c.u8()? {
                    LABEL_INT => LabelOrder::Int(c.zigzag()?),
                    LABEL_TEXT => LabelOrder::Text(c.str()?),
                    other => return Err(c.error(format!("unknown label kind {other}"))),
                };
                parts.labels.push(Label { relation, order });
            }
        }
        Section::Edges => {
            if c.u8()? == 1 {
                let n = nodes;
                let mut starts: Vec<u32> = Vec::with_capacity(n + 1);
                starts.push(0);
                let mut total = 0u64;
                for _ in 0..n {
                    total = total
                        .checked_add(c.varint()?)
                        .filter(|&t| t < u64::from(u32::MAX))
                        .ok_or_else(|| c.error("more edges than heapscope can index"))?;
                    starts.push(total as u32);
                }
                // each edge takes at least two bytes (its target and its label)
                let m = total as usize;
                if total.saturating_mul(2) > (c.bytes.len() - c.pos) as u64 {
                    return Err(c.error(format!("{m} edges do not fit in the section")));
                }
                let mut targets = Vec::with_capacity(m);
                for (source, pair) in starts.windows(2).enumerate() {
                    for _ in pair[0]..pair[1] {
                        let t = source as i64 + c.zigzag()?;
                        let t = u32::try_from(t)
                            .map_err(|_| c.error(format!("an edge points to node {t}")))?;
                        targets.push(NodeId(t));
                    }
                }
                let labels = (0..m)
                    .map(|_| {
                        label_of_code(c.varint()?).ok_or_else(|| c.error("a label id out of range"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                parts.edges = Some(EdgeParts {
                    starts: starts.into(),
                    targets: targets.into(),
                    labels: labels.into(),
                });
            }
        }
        Section::Owners => {
            let n = c.count(2)?;
            parts.dict_owners = (0..n)
                .map(|_| Ok((NodeId(c.u32("a node id")?), NodeId(c.u32("a node id")?))))
                .collect::<Result<_, SnapshotError>>()?;
        }
        Section::Roots => {
            let n = c.count(2)?;
            parts.roots = (0..n)
                .map(|_| {
                    Ok(RootPart {
                        name: c.str()?,
                        node: NodeId(c.u32("a node id")?),
                    })
                })
                .collect::<Result<_, SnapshotError>>()?;
        }
        Section::Threads => {
            let n = c.count(2)?;
            parts.threads = (0..n)
                .map(|_| {
                    Ok(ThreadPart {
                        id: c.varint()?,
                        name: c.str()?,
                    })
                })
                .collect::<Result<_, SnapshotError>>()?;
        }
        Section::Texts => {
            let n = c.count(2)?;
            let mut prev = 0i64;
            let mut texts = NodeTexts::default();
            for _ in 0..n {
                let node = prev + c.zigzag()?;
                prev = node;
                let node =
                    u32::try_from(node).map_err(|_| c.error(format!("a text of node {node}")))?;
                let text = c.str_ref()?;
                texts
                    .push(NodeId(node), text)
                    .map_err(|n| c.error(format!("texts out of node order at node {}", n.0)))?;
            }
            parts.texts = texts;
        }
        Section::Sites => {
            let n = c.count(2)?;
            parts.sites = (0..n)
                .map(|_| {
                    Ok(SitePart {
                        filename: c.str()?,
                        lineno: c.u32("a line number")?,
                    })
                })
                .collect::<Result<_, SnapshotError>>()?;
            let k = c.count(2)?;
            parts.node_sites = (0..k)
                .map(|_| Ok((NodeId(c.u32("a node id")?), c.u32("a site id")?)))
                .collect::<Result<_, SnapshotError>>()?;
        }
        Section::End => {
            let sections = c.varint()?;
            let nodes = c.varint()?;
            c.finish()?;
            return Ok(Some((sections, nodes)));
        }
    }
    c.finish()?;
    Ok(None)
}
