//! Parquet: a directory of four tables for SQL and dataframes (DuckDB, polars, pandas).
//!
//! * `objects.parquet` — one row per node in id order: `id`, `address`, `type` (an id
//!   of `types.parquet`), `size`, `retained_size` and `dominator` (the immediate
//!   dominator's id; null when that is the virtual root or the node is unreachable),
//!   `reachable` (false for `heapu()`'s part), `owner` (the object a dict is the
//!   `__dict__` of) and `value` (the recorded text: a str's repr, a number, a module's
//!   name, `*length`); the snapshot's metadata is in its footer as `heapscope.<key>`.
//! * `edges.parquet` — `src`, `dst` (node ids) and `label` (Heapy's text: `.x`, `[0]`,
//!   `['key']`), in CSR order (by source).
//! * `types.parquet` — `id`, `name` (Heapy's kind name), `module`, `qualname`,
//!   `address`, `is_dict`, `is_module`, `base` (the next type of the MRO).
//! * `roots.parquet` — `name`, `id`.
//!
//! Written with the `parquet` crate's low-level column writers (no Arrow), zstd level
//! 1 pages, in row groups of 2^18 objects (or about 2^20 edges), so memory stays a few
//! row groups' worth above the graph and the dominator tree. Strings of a row group
//! are slices of one buffer (or, for stored labels, shared per label), not an
//! allocation each.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use heapscope_core::{Dominator, DominatorTree, HeapGraph, LabelTable, NodeId};
use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::ColumnPath;

use super::names::{InOrder, Naming};
use super::progress::Ticker;
use super::{ExportError, ExportSource};
use crate::staging::io_error;

/// The tables of an export (a directory holding only these may be replaced).
const TABLES: [&str; 4] = [
    "objects.parquet",
    "edges.parquet",
    "types.parquet",
    "roots.parquet",
];

const OBJECTS: &str = "message objects {
    REQUIRED INT64 id; REQUIRED INT64 address; REQUIRED INT32 type; REQUIRED INT64 size;
    REQUIRED INT64 retained_size; OPTIONAL INT64 dominator; REQUIRED BOOLEAN reachable;
    OPTIONAL INT64 owner; OPTIONAL BYTE_ARRAY value (UTF8); }";
const EDGES: &str =
    "message edges { REQUIRED INT64 src; REQUIRED INT64 dst; REQUIRED BYTE_ARRAY label (UTF8); }";
const TYPES: &str = "message types {
    REQUIRED INT32 id; REQUIRED BYTE_ARRAY name (UTF8); REQUIRED BYTE_ARRAY module (UTF8);
    REQUIRED BYTE_ARRAY qualname (UTF8); REQUIRED INT64 address; REQUIRED BOOLEAN is_dict;
    REQUIRED BOOLEAN is_module; OPTIONAL INT32 base; }";
const ROOTS: &str = "message roots { REQUIRED BYTE_ARRAY name (UTF8); REQUIRED INT64 id; }";

/// Objects per row group, and the edges a row group of edges aims at.
const OBJECT_ROWS: usize = 1 << 18;
const EDGE_ROWS: usize = 1 << 20;

/// Whether `dir` holds nothing but a Parquet export's tables (so a new export may
/// replace it).
pub(super) fn is_export_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .into_iter()
            .all(|e| e.is_ok_and(|e| TABLES.iter().any(|t| e.file_name().to_str() == Some(t))))
    })
}

fn pq(e: parquet::errors::ParquetError) -> ExportError {
    ExportError::Parquet(e.to_string())
}

/// One table being written: its file and the column-wise writer over it.
struct Table {
    writer: SerializedFileWriter<File>,
    path: PathBuf,
}

impl Table {
    fn create(
        dir: &Path,
        name: &str,
        schema: &str,
        props: WriterProperties,
    ) -> Result<Table, ExportError> {
        let path = dir.join(name);
        let file = File::create(&path).map_err(io_error("cannot create", &path))?;
        let schema = Arc::new(parse_message_type(schema).map_err(pq)?);
        let writer = SerializedFileWriter::new(file, schema, Arc::new(props)).map_err(pq)?;
        Ok(Table { writer, path })
    }

    /// One row group: `fill(i, column)` writes the `i`-th column's values.
    fn row_group(
        &mut self,
        mut fill: impl FnMut(usize, &mut SerializedColumnWriter<'_>) -> parquet::errors::Result<()>,
    ) -> Result<(), ExportError> {
        let mut group = self.writer.next_row_group().map_err(pq)?;
        let mut i = 0;
        while let Some(mut column) = group.next_column().map_err(pq)? {
            fill(i, &mut column).map_err(pq)?;
            column.close().map_err(pq)?;
            i += 1;
        }
        group.close().map_err(pq)?;
        Ok(())
    }

    /// Writes the footer and makes the file durable.
    fn finish(self) -> Result<(), ExportError> {
        let file = self.writer.into_inner().map_err(pq)?;
        file.sync_all()
            .map_err(io_error("cannot write", &self.path))?;
        Ok(())
    }
}

fn ints(c: &mut SerializedColumnWriter<'_>, v: &[i64]) -> parquet::errors::Result<()> {
    c.typed::<Int64Type>().write_batch(v, None, None).map(drop)
}

fn optional_ints(
    c: &mut SerializedColumnWriter<'_>,
    v: &[i64],
    defs: &[i16],
) -> parquet::errors::Result<()> {
    c.typed::<Int64Type>()
        .write_batch(v, Some(defs), None)
        .map(drop)
}

fn bools(c: &mut SerializedColumnWriter<'_>, v: &[bool]) -> parquet::errors::Result<()> {
    c.typed::<BoolType>().write_batch(v, None, None).map(drop)
}

fn texts(
    c: &mut SerializedColumnWriter<'_>,
    v: &[ByteArray],
    defs: Option<&[i16]>,
) -> parquet::errors::Result<()> {
    c.typed::<ByteArrayType>()
        .write_batch(v, defs, None)
        .map(drop)
}

/// Strings of one row group, cut from one buffer.
#[derive(Default)]
struct StringBatch {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl StringBatch {
    fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
    }
    fn push(&mut self, s: &[u8]) {
        self.buf.extend_from_slice(s);
        self.ends.push(self.buf.len());
    }
    /// The strings as byte arrays sharing one allocation.
    fn arrays(&mut self, out: &mut Vec<ByteArray>) {
        let all = Bytes::from(std::mem::take(&mut self.buf));
        let mut start = 0;
        out.clear();
        for &end in &self.ends {
            out.push(ByteArray::from(all.slice(start..end)));
            start = end;
        }
        self.ends.clear();
    }
}

fn properties(meta: Option<Vec<KeyValue>>) -> Result<WriterProperties, ExportError> {
    let zstd = ZstdLevel::try_new(1).map_err(pq)?;
    Ok(WriterProperties::builder()
        .set_created_by(format!("heapscope {}", env!("CARGO_PKG_VERSION")))
        .set_compression(Compression::ZSTD(zstd))
        // ids, addresses and sizes are nearly all distinct: a dictionary would only
        // cost time before falling back; labels and types repeat
        .set_dictionary_enabled(false)
        .set_column_dictionary_enabled(ColumnPath::from("label"), true)
        .set_column_dictionary_enabled(ColumnPath::from("type"), true)
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_key_value_metadata(meta)
        .build())
}

/// Writes the four tables into `dir`.
pub(super) fn write(
    source: &ExportSource<'_>,
    dir: &Path,
    ticker: &mut Ticker<'_>,
) -> Result<(), ExportError> {
    let g = source.graph;
    let computed;
    let tree = match source.dominators {
        Some(t) => Some(t),
        None if g.has_edges() => {
            computed = DominatorTree::compute(g);
            Some(&computed)
        }
        None => None,
    };
    write_types(source, dir)?;
    write_roots(g, dir)?;
    write_objects(source, tree, dir, ticker)?;
    write_edges(g, dir, ticker)
}

fn write_types(source: &ExportSource<'_>, dir: &Path) -> Result<(), ExportError> {
    let types = &source.notes.types;
    let mut table = Table::create(dir, "types.parquet", TYPES, properties(None)?)?;
    let text = |f: fn(&heapscope_core::TypePart) -> &str| -> Vec<ByteArray> {
        types.iter().map(|t| ByteArray::from(f(t))).collect()
    };
    let (names, modules, qualnames) = (
        text(|t| &t.name),
        text(|t| &t.module),
        text(|t| &t.qualname),
    );
    let bases: Vec<i32> = types
        .iter()
        .filter_map(|t| t.mro.first().map(|b| b.0 as i32))
        .collect();
    let base_defs: Vec<i16> = types.iter().map(|t| i16::from(!t.mro.is_empty())).collect();
    table.row_group(|i, c| match i {
        0 => {
            let ids: Vec<i32> = (0..types.len() as i32).collect();
            c.typed::<Int32Type>()
                .write_batch(&ids, None, None)
                .map(drop)
        }
        1 => texts(c, &names, None),
        2 => texts(c, &modules, None),
        3 => texts(c, &qualnames, None),
        4 => ints(
            c,
            &types.iter().map(|t| t.address as i64).collect::<Vec<_>>(),
        ),
        5 => bools(c, &types.iter().map(|t| t.is_dict).collect::<Vec<_>>()),
        6 => bools(c, &types.iter().map(|t| t.is_module).collect::<Vec<_>>()),
        _ => c
            .typed::<Int32Type>()
            .write_batch(&bases, Some(&base_defs), None)
            .map(drop),
    })?;
    table.finish()
}

fn write_roots(g: &HeapGraph, dir: &Path) -> Result<(), ExportError> {
    let mut table = Table::create(dir, "roots.parquet", ROOTS, properties(None)?)?;
    let names: Vec<ByteArray> = g
        .roots()
        .iter()
        .map(|(name, _)| ByteArray::from(name.as_str()))
        .collect();
    let ids: Vec<i64> = g.roots().iter().map(|&(_, n)| i64::from(n.0)).collect();
    table.row_group(|i, c| match i {
        0 => texts(c, &names, None),
        _ => ints(c, &ids),
    })?;
    table.finish()
}

fn write_objects(
    source: &ExportSource<'_>,
    tree: Option<&DominatorTree>,
    dir: &Path,
    ticker: &mut Ticker<'_>,
) -> Result<(), ExportError> {
    let g = source.graph;
    let notes = source.notes;
    let naming = Naming::new(g, notes);
    let meta = std::iter::once(("export_version".to_string(), "1".to_string()))
        .chain(notes.meta.iter().cloned())
        .map(|(k, v)| KeyValue::new(format!("heapscope.{k}"), v))
        .collect();
    let mut table = Table::create(dir, "objects.parquet", OBJECTS, properties(Some(meta))?)?;
    let owners = naming.owners();
    let mut texts_in_order = naming.texts();
    let mut owners_in_order = InOrder::new(owners.iter().copied());
    let (mut ints_buf, mut defs) = (Vec::new(), Vec::new());
    let mut flags = Vec::new();
    let mut strings = StringBatch::default();
    let mut arrays = Vec::new();
    let n = g.node_count();
    for lo in (0..n).step_by(OBJECT_ROWS) {
        let rows = lo..(lo + OBJECT_ROWS).min(n);
        let nodes = || rows.clone().map(|k| NodeId(k as u32));
        table.row_group(|i, c| {
            ints_buf.clear();
            defs.clear();
            match i {
                0 => {
                    ints_buf.extend(rows.clone().map(|k| k as i64));
                    ints(c, &ints_buf)
                }
                1 => {
                    ints_buf.extend(nodes().map(|v| g.address(v) as i64));
                    ints(c, &ints_buf)
                }
                2 => {
                    let types: Vec<i32> = nodes().map(|v| g.type_of(v).0 as i32).collect();
                    c.typed::<Int32Type>()
                        .write_batch(&types, None, None)
                        .map(drop)
                }
                3 => {
                    ints_buf.extend(nodes().map(|v| g.size_of(v) as i64));
                    ints(c, &ints_buf)
                }
                4 => {
                    ints_buf.extend(nodes().map(|v| tree.map_or(0, |t| t.retained_size(v)) as i64));
                    ints(c, &ints_buf)
                }
                5 => {
                    for v in nodes() {
                        let d = match tree.and_then(|t| t.idom(v)) {
                            Some(Dominator::Node(d)) => Some(d),
                            _ => None,
                        };
                        defs.push(i16::from(d.is_some()));
                        ints_buf.extend(d.map(|d| i64::from(d.0)));
                    }
                    optional_ints(c, &ints_buf, &defs)
                }
                6 => {
                    flags.clear();
                    flags.extend(nodes().map(|v| !notes.unreachable(v)));
                    bools(c, &flags)
                }
                7 => {
                    for v in nodes() {
                        let owner = owners_in_order.at(v);
                        defs.push(i16::from(owner.is_some()));
                        ints_buf.extend(owner.map(|o| i64::from(o.0)));
                    }
                    optional_ints(c, &ints_buf, &defs)
                }
                _ => {
                    strings.clear();
                    for v in nodes() {
                        let text = texts_in_order.at(v);
                        defs.push(i16::from(text.is_some()));
                        if let Some(t) = text {
                            strings.push(t.as_bytes());
                        }
                    }
                    strings.arrays(&mut arrays);
                    texts(c, &arrays, Some(&defs))
                }
            }
        })?;
        ticker.advance(rows.len() as u64)?;
    }
    table.finish()
}

fn write_edges(g: &HeapGraph, dir: &Path, ticker: &mut Ticker<'_>) -> Result<(), ExportError> {
    let mut table = Table::create(dir, "edges.parquet", EDGES, properties(None)?)?;
    let n = g.node_count();
    if !g.has_edges() {
        ticker.advance(n as u64)?;
        return table.finish();
    }
    let labels = g.edge_labels();
    // a stored label's text is made once and shared by all its edges
    let label_texts: Vec<ByteArray> = labels
        .map(|l| {
            l.table
                .labels()
                .iter()
                .map(|l| ByteArray::from(Bytes::from(l.text())))
                .collect()
        })
        .unwrap_or_default();
    let unlabelled = ByteArray::from(Bytes::from_static(b".??"));
    let mut ints_buf: Vec<i64> = Vec::new();
    let mut items = StringBatch::default();
    let mut arrays: Vec<ByteArray> = Vec::new();
    let mut item_text = Vec::new();
    let mut cut: Vec<ByteArray> = Vec::new();
    let mut lo = 0;
    while lo < n {
        // nodes up to about EDGE_ROWS edges (at least one node, at most OBJECT_ROWS)
        let first_edge = g.edge_range(NodeId(lo as u32)).start;
        let mut hi = lo + 1;
        while hi < n
            && hi - lo < OBJECT_ROWS
            && g.edge_range(NodeId(hi as u32)).end - first_edge <= EDGE_ROWS
        {
            hi += 1;
        }
        let nodes = || (lo..hi).map(|k| NodeId(k as u32));
        table.row_group(|i, c| {
            ints_buf.clear();
            match i {
                0 => {
                    for v in nodes() {
                        let degree = g.referents(v).len();
                        ints_buf.extend(std::iter::repeat_n(i64::from(v.0), degree));
                    }
                    ints(c, &ints_buf)
                }
                1 => {
                    for v in nodes() {
                        ints_buf.extend(g.referents(v).iter().map(|t| i64::from(t.0)));
                    }
                    ints(c, &ints_buf)
                }
                _ => {
                    // item labels `[i]` are cut from one buffer; the others shared
                    let edges = g.edge_range(NodeId(lo as u32)).start
                        ..g.edge_range(NodeId(hi as u32 - 1)).end;
                    items.clear();
                    for e in edges.clone() {
                        let item = labels.and_then(|l| LabelTable::item_index(l.edge(e)));
                        if let Some(k) = item {
                            item_text.clear();
                            item_text.push(b'[');
                            super::json::push_uint(&mut item_text, u64::from(k));
                            item_text.push(b']');
                            items.push(&item_text);
                        }
                    }
                    items.arrays(&mut cut);
                    let mut cut = cut.drain(..);
                    arrays.clear();
                    for e in edges {
                        arrays.push(match labels.map(|l| l.edge(e)) {
                            Some(id) if LabelTable::item_index(id).is_some() => {
                                cut.next().expect("one cut text per item label")
                            }
                            Some(id) => label_texts[id.index()].clone(),
                            None => unlabelled.clone(),
                        });
                    }
                    texts(c, &arrays, None)
                }
            }
        })?;
        ticker.advance((hi - lo) as u64)?;
        lo = hi;
    }
    table.finish()
}

#[cfg(test)]
mod tests {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    use super::super::{sample, ExportFormat};
    use super::*;

    /// A table's rows, each as its fields in schema order.
    fn rows(path: &Path) -> Vec<Vec<Field>> {
        let reader = SerializedFileReader::try_from(File::open(path).unwrap()).unwrap();
        reader
            .into_iter()
            .map(|r| {
                r.unwrap()
                    .get_column_iter()
                    .map(|(_, f)| f.clone())
                    .collect()
            })
            .collect()
    }

    fn long(f: &Field) -> Option<i64> {
        match f {
            Field::Long(v) => Some(*v),
            Field::Null => None,
            other => panic!("not a long: {other:?}"),
        }
    }

    fn text(f: &Field) -> Option<&str> {
        match f {
            Field::Str(s) => Some(s),
            Field::Null => None,
            other => panic!("not a string: {other:?}"),
        }
    }

    #[test]
    fn the_tables_read_back_with_sizes_dominators_labels_and_types() {
        let (g, notes) = sample::graph();
        let (dir, out) = sample::exported(ExportFormat::Parquet, "parquet", &g, &notes);
        assert!(is_export_dir(&out));
        let tree = DominatorTree::compute(&g);
        let objects = rows(&out.join("objects.parquet"));
        assert_eq!(objects.len(), g.node_count());
        for (k, row) in objects.iter().enumerate() {
            let v = NodeId(k as u32);
            assert_eq!(long(&row[0]), Some(k as i64));
            assert_eq!(long(&row[1]), Some(sample::address(k as u32) as i64));
            assert_eq!(row[2], Field::Int(sample::NODE_TYPES[k] as i32));
            assert_eq!(long(&row[3]), Some(sample::size(k as u32) as i64));
            assert_eq!(long(&row[4]), Some(tree.retained_size(v) as i64));
            assert_eq!(row[6], Field::Bool(k < 9), "reachable {k}");
        }
        // the module retains what only it reaches; the str the root names directly
        // and the list's dict hold has the virtual root as its dominator (null)
        let dominator = |k: usize| long(&objects[k][5]);
        assert_eq!(dominator(1), Some(0));
        assert_eq!(dominator(4), Some(3));
        assert_eq!(dominator(0), None);
        assert_eq!(dominator(5), None);
        assert_eq!(dominator(9), None, "unreachable");
        let total: u64 = (0..9).map(sample::size).sum();
        let root_children: i64 = (0..9)
            .filter(|&k| dominator(k).is_none())
            .map(|k| long(&objects[k][4]).unwrap())
            .sum();
        assert_eq!(
            root_children, total as i64,
            "the roots retain all they reach"
        );
        assert_eq!(
            long(&objects[4][7]),
            Some(3),
            "owner of the instance's dict"
        );
        assert_eq!(long(&objects[2][7]), None);
        assert_eq!(text(&objects[5][8]), Some(sample::NASTY));
        assert_eq!(text(&objects[2][8]), Some("*2"));
        assert_eq!(text(&objects[3][8]), None);

        let edges = rows(&out.join("edges.parquet"));
        let got: Vec<(i64, i64, String)> = edges
            .iter()
            .map(|r| {
                let label = text(&r[2]).unwrap().to_string();
                (long(&r[0]).unwrap(), long(&r[1]).unwrap(), label)
            })
            .collect();
        let mut want: Vec<(i64, i64, String)> = sample::EDGES
            .iter()
            .map(|&(s, d, l)| {
                let label = match l {
                    Ok(i) => format!("[{i}]"),
                    Err((rel, t)) => heapscope_core::Label::new(rel, t, 0).text(),
                };
                (i64::from(s), i64::from(d), label)
            })
            .collect();
        want.sort_by_key(|e| e.0);
        assert_eq!(got, want);

        let types = rows(&out.join("types.parquet"));
        assert_eq!(types.len(), sample::TYPES.len());
        assert_eq!(text(&types[6][1]), Some("app.Item"));
        assert_eq!(text(&types[6][2]), Some("app"));
        assert_eq!(text(&types[6][3]), Some("Item"));
        assert_eq!(types[1][5], Field::Bool(true), "dict is_dict");
        assert_eq!(types[0][7], Field::Null, "object has no base");
        assert_eq!(types[6][7], Field::Int(0));
        let roots = rows(&out.join("roots.parquet"));
        assert_eq!(roots.len(), 2);
        assert_eq!(text(&roots[1][0]), Some(sample::ROOTS[1].0));
        assert_eq!(long(&roots[1][1]), Some(5));
        // the snapshot's metadata rides in the objects table's footer
        let reader =
            SerializedFileReader::try_from(File::open(out.join("objects.parquet")).unwrap())
                .unwrap();
        let kv = reader
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .unwrap();
        let version = kv.iter().find(|kv| kv.key == "heapscope.python_version");
        assert_eq!(version.and_then(|kv| kv.value.as_deref()), Some("3.12.1"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn only_a_directory_of_export_tables_is_replaceable() {
        let dir = sample::scratch("replaceable");
        assert!(is_export_dir(&dir), "empty");
        std::fs::write(dir.join("objects.parquet"), b"").unwrap();
        assert!(is_export_dir(&dir));
        std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
        assert!(!is_export_dir(&dir));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
