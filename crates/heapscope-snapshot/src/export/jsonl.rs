//! JSON lines: one object per line, in node id order, and nothing else (no header
//! line), so that the line count is the object count and any line can be read alone.
//!
//! The keys are meliae's where meliae has one (`address`, `type`, `size`, `refs` as
//! addresses, `len`, `value`, `name`), so scripts written for meliae's dumps read these
//! too; heapscope adds the node's `id`, the `labels` of its references (Heapy's text,
//! in the order of `refs`), a dict's `owner`, `unreachable` for `heapu()`'s part and
//! the `roots` that name the object. Keys without a value for an object are left out.
//! docs/exports.md lists them.

use heapscope_core::{LabelTable, NodeId};

use super::json::{push_escaped, push_uint, JsonOut};
use super::names::{Builtin, InOrder, Naming};
use super::progress::Ticker;
use super::{ExportError, ExportSource};

/// `s` as a JSON string, quotes included.
fn quoted(s: &str) -> Vec<u8> {
    let mut v = vec![b'"'];
    push_escaped(&mut v, s);
    v.push(b'"');
    v
}

/// Writes every node as a line to `out`.
pub(super) fn write(
    source: &ExportSource<'_>,
    out: &mut JsonOut,
    ticker: &mut Ticker<'_>,
) -> Result<(), ExportError> {
    let g = source.graph;
    let notes = source.notes;
    let naming = Naming::new(g, notes);
    // everything written per type, label or root is escaped once
    let type_names: Vec<Vec<u8>> = g.types().iter().map(|t| quoted(&t.name)).collect();
    let labels = g.edge_labels();
    let label_texts: Vec<Vec<u8>> = labels
        .map(|l| l.table.labels().iter().map(|l| quoted(&l.text())).collect())
        .unwrap_or_default();
    let root_names: Vec<Vec<u8>> = g.roots().iter().map(|(name, _)| quoted(name)).collect();
    let mut texts = naming.texts();
    let mut owners = InOrder::new(naming.owners().into_iter());
    let mut roots = InOrder::new(naming.root_members().into_iter());
    let mut line: Vec<u8> = Vec::with_capacity(1 << 12);
    for k in 0..g.node_count() {
        let v = NodeId(k as u32);
        let t = g.type_of(v);
        line.clear();
        line.extend_from_slice(b"{\"id\":");
        push_uint(&mut line, k as u64);
        line.extend_from_slice(b",\"address\":");
        push_uint(&mut line, g.address(v));
        line.extend_from_slice(b",\"type\":");
        line.extend_from_slice(&type_names[t.index()]);
        line.extend_from_slice(b",\"size\":");
        push_uint(&mut line, g.size_of(v));
        line.extend_from_slice(b",\"refs\":[");
        if g.has_edges() {
            for (j, &r) in g.referents(v).iter().enumerate() {
                if j > 0 {
                    line.push(b',');
                }
                push_uint(&mut line, g.address(r));
            }
        }
        line.push(b']');
        if let (Some(labels), true) = (labels, g.has_edges()) {
            line.extend_from_slice(b",\"labels\":[");
            for (j, e) in g.edge_range(v).enumerate() {
                if j > 0 {
                    line.push(b',');
                }
                let l = labels.edge(e);
                match LabelTable::item_index(l) {
                    Some(i) => {
                        line.extend_from_slice(b"\"[");
                        push_uint(&mut line, u64::from(i));
                        line.extend_from_slice(b"]\"");
                    }
                    None => line.extend_from_slice(&label_texts[l.index()]),
                }
            }
            line.push(b']');
        }
        if let Some(owner) = owners.at(v) {
            line.extend_from_slice(b",\"owner\":");
            push_uint(&mut line, g.address(owner));
        }
        if let Some(text) = texts.at(v) {
            let length = text.strip_prefix('*').and_then(|l| l.parse::<u64>().ok());
            if let Some(length) = length {
                line.extend_from_slice(b",\"len\":");
                push_uint(&mut line, length);
            } else {
                let key: &[u8] = if g.type_record(t).is_module {
                    b",\"name\":\""
                } else {
                    b",\"value\":\""
                };
                line.extend_from_slice(key);
                push_escaped(&mut line, text);
                line.push(b'"');
            }
        }
        if naming.builtin(t) == Builtin::Function {
            if let Some(name) = naming.function_name(v) {
                line.extend_from_slice(b",\"name\":\"");
                push_escaped(&mut line, name);
                line.push(b'"');
            }
        }
        if notes.unreachable(v) {
            line.extend_from_slice(b",\"unreachable\":true");
        }
        let mut first_root = true;
        roots.each_at(v, |r| {
            line.extend_from_slice(if std::mem::take(&mut first_root) {
                b",\"roots\":["
            } else {
                b","
            });
            line.extend_from_slice(&root_names[r]);
        });
        if !first_root {
            line.push(b']');
        }
        line.extend_from_slice(b"}\n");
        out.raw(&line);
        out.spill()?;
        ticker.tick()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::{sample, ExportFormat};

    #[test]
    fn every_object_is_a_line_with_meliae_keys_and_ours() {
        let (g, notes) = sample::graph();
        let (dir, path) = sample::exported(ExportFormat::JsonLines, "jsonl", &g, &notes);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), g.node_count());
        assert!(text.ends_with("}\n"));
        let a = sample::address;
        for (k, line) in lines.iter().enumerate() {
            assert_eq!(line["id"], k);
            assert_eq!(line["address"], a(k as u32));
            assert_eq!(line["size"], sample::size(k as u32));
            let t = sample::NODE_TYPES[k] as usize;
            assert_eq!(line["type"], sample::TYPES[t].0);
            let refs = line["refs"].as_array().unwrap();
            assert_eq!(refs.len(), line["labels"].as_array().unwrap().len());
        }
        assert_eq!(
            lines[0],
            json!({"id": 0, "address": a(0), "type": "module", "size": 100,
                   "refs": [a(1)], "labels": [".__dict__"], "name": "app",
                   "roots": ["i0_modules"]})
        );
        assert_eq!(lines[1]["owner"], a(0));
        assert_eq!(
            lines[1]["labels"],
            json!(["['items']", "['make_item']", "['answer']"])
        );
        assert_eq!(lines[2]["len"], 2);
        assert_eq!(lines[2]["labels"], json!(["[0]", "[1]"]));
        assert_eq!(lines[3]["labels"], json!([".__dict__", ".??"]));
        assert_eq!(lines[4]["owner"], a(3));
        assert_eq!(lines[5]["value"], sample::NASTY);
        assert_eq!(lines[5]["roots"], json!(["i0_t140_f0:main.f_locals['x']"]));
        assert_eq!(lines[6]["value"], "42");
        assert_eq!(lines[7]["name"], "make_item");
        assert_eq!(
            lines[7]["labels"],
            json!([".__qualname__", "->func_defaults"])
        );
        let unreachable: Vec<usize> = (0..lines.len())
            .filter(|&k| lines[k].get("unreachable") == Some(&Value::Bool(true)))
            .collect();
        assert_eq!(unreachable, vec![9, 10, 11, 12]);
        assert_eq!(lines[10]["refs"], json!([a(9)]));
    }
}
