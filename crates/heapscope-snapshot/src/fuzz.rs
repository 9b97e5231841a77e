//! Structure-aware fuzzing of the reader, bounded in time so that it runs with every
//! test run: a snapshot's sections are taken apart, one section's *decompressed* bytes
//! are mutated, and the file is put back together with valid checksums, so the damage
//! reaches the decoder, the validation and the graph built from the parts (checksums
//! alone would stop nearly every mutation at the chunk). Whatever the bytes, reading
//! must give parts or a `SnapshotError`, and parts that read must build a graph (or be
//! refused) that every analysis can then walk without panicking.

use std::time::{Duration, Instant};

use heapscope_core::{
    Classifier, DominatorTree, EdgeParts, GraphParts, HeapGraph, Label, LabelId, LabelOrder,
    LabelTable, NodeId, NodeParts, Partition, Relation, RootPart, TypeId, TypePart,
};

use crate::chunks::{write_chunked, ChunkReader};
use crate::format::{Section, FORMAT_VERSION, MAGIC};
use crate::{read_snapshot_from, write_snapshot_to};

/// splitmix64: a deterministic generator, so a failure names a reproducible case.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A small heap: a module dict, lists of instances with dicts, strings; edges of
/// every label kind, roots, texts.
fn heap(n: u32) -> GraphParts<'static> {
    let type_names = ["object", "dict", "list", "str", "app.Item"];
    let types = type_names
        .iter()
        .enumerate()
        .map(|(i, name)| TypePart {
            address: 0x5500 + 0x40 * i as u64,
            name: name.to_string(),
            module: "builtins".into(),
            qualname: name.to_string(),
            is_dict: *name == "dict",
            is_module: false,
            mro: if i == 0 { vec![] } else { vec![TypeId(0)] },
        })
        .collect();
    let node_types: Vec<TypeId> = (0..n).map(|i| TypeId(1 + i % 4)).collect();
    let mut starts = vec![0u32];
    let mut targets = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        for k in 0..(i % 3) {
            targets.push(NodeId((i * 7 + k + 1) % n));
            labels.push(if k == 0 {
                LabelTable::item_label(k)
            } else {
                LabelId(k % 2)
            });
        }
        starts.push(targets.len() as u32);
    }
    GraphParts {
        meta: vec![("python_version".into(), "3.12.1".into())],
        types,
        nodes: NodeParts {
            addresses: (0..n)
                .map(|i| 0x7f00_0000 + 0x30 * u64::from(i))
                .collect::<Vec<_>>()
                .into(),
            types: node_types.into(),
            sizes: (0..n)
                .map(|i| 16 + u64::from(i % 90))
                .collect::<Vec<_>>()
                .into(),
            flags: (0..n).map(|i| u8::from(i % 11 == 3)).collect(),
        },
        edges: Some(EdgeParts {
            starts: starts.into(),
            targets: targets.into(),
            labels: labels.into(),
        }),
        labels: vec![
            Label {
                relation: Relation::Attribute,
                order: LabelOrder::Text("__dict__".into()),
            },
            Label {
                relation: Relation::Index,
                order: LabelOrder::Text("'key'".into()),
            },
        ],
        dict_owners: vec![(NodeId(0), NodeId(3))],
        roots: vec![RootPart {
            name: "i0_modules".into(),
            node: NodeId(0),
        }],
        threads: vec![],
        texts: {
            let texts: Vec<(NodeId, String)> = (0..n)
                .step_by(4)
                .map(|i| (NodeId(i), format!("'t{i}'")))
                .collect();
            texts.iter().map(|(n, t)| (*n, t.as_str())).collect()
        },
        sites: vec![],
        node_sites: vec![],
    }
}

/// The sections of a file, decompressed.
fn take_apart(file: &[u8]) -> Vec<(Section, Vec<u8>)> {
    let mut r = ChunkReader::new(&file[16..]);
    let mut out = Vec::new();
    while let Some(raw) = r.section().unwrap() {
        out.push((Section::from_tag(raw.tag).unwrap(), raw.bytes));
    }
    out
}

/// A file of these sections, with valid checksums.
fn put_together(sections: &[(Section, Vec<u8>)]) -> Vec<u8> {
    write_chunked(Vec::new(), |w| {
        w.raw(&MAGIC)?;
        w.raw(&FORMAT_VERSION.to_le_bytes())?;
        w.raw(&0u32.to_le_bytes())?;
        for (section, bytes) in sections {
            w.begin(*section)?;
            for &b in bytes {
                w.u8(b)?;
            }
            w.end()?;
        }
        Ok(())
    })
    .unwrap()
}

fn mutate(rng: &mut Mix, bytes: &mut Vec<u8>) {
    let len = bytes.len() as u64;
    match rng.below(5) {
        0 if len > 0 => {
            let i = rng.below(len) as usize;
            bytes[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len) as usize;
            bytes[i] = [0x00, 0x7f, 0x80, 0xff][rng.below(4) as usize];
        }
        2 => bytes.truncate(rng.below(len + 1) as usize),
        3 => {
            let i = rng.below(len + 1) as usize;
            let junk: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.next() as u8).collect();
            bytes.splice(i..i, junk);
        }
        _ if len > 1 => {
            let i = rng.below(len) as usize;
            let j = (i + 1 + rng.below(16) as usize).min(bytes.len());
            bytes.drain(i..j);
        }
        _ => bytes.push(rng.next() as u8),
    }
}

/// Everything an analysis does with a graph, on one that read back from damaged bytes.
fn exercise(parts: GraphParts<'static>) {
    let Ok((g, notes)) = HeapGraph::from_parts(parts) else {
        return;
    };
    let all = g.full_set();
    for c in [Classifier::Clodo, Classifier::Type, Classifier::Size] {
        let p = Partition::new(&g, &all, &[c], |_| String::new()).unwrap();
        assert_eq!(p.count, g.node_count() as u64);
    }
    if g.has_edges() {
        let tree = DominatorTree::compute(&g);
        assert!(tree.total_retained() <= g.total_size(&all));
        let _ = Partition::by_via(&g, &all);
        for k in 0..g.node_count().min(50) {
            let _ = g.referrers(NodeId(k as u32));
        }
    }
    for k in 0..g.node_count().min(50) {
        let _ = notes.text(NodeId(k as u32));
    }
}

#[test]
fn mutated_sections_are_read_or_refused_never_panic() {
    let file = write_snapshot_to(Vec::new(), &heap(120)).unwrap();
    let sections = take_apart(&file);
    assert_eq!(sections.len(), Section::ALL.len());
    assert_eq!(
        put_together(&sections),
        file,
        "taking apart and back is exact"
    );
    let mut rng = Mix(0x5eed);
    let (mut read, mut refused) = (0u32, 0u32);
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut case = 0u64;
    while Instant::now() < deadline || case < 500 {
        case += 1;
        let mut damaged = sections.clone();
        let which = rng.below(damaged.len() as u64) as usize;
        for _ in 0..1 + rng.below(3) {
            mutate(&mut rng, &mut damaged[which].1);
        }
        let bytes = put_together(&damaged);
        match read_snapshot_from(bytes.as_slice()) {
            Ok(parts) => {
                read += 1;
                exercise(parts);
            }
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().is_empty(), "case {case}");
            }
        }
    }
    // both outcomes happen: the mutations reach past the decoder's first check
    assert!(read > 0 && refused > 0, "read {read}, refused {refused}");
}
