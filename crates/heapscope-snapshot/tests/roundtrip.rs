//! Snapshots written and read back, and damaged ones refused cleanly.

use std::path::PathBuf;

use heapscope_core::{
    EdgeParts, GraphParts, Label, LabelId, LabelOrder, LabelTable, NodeId, NodeParts, Relation,
    RootPart, SitePart, ThreadPart, TypeId, TypePart, NODE_UNREACHABLE,
};
use heapscope_snapshot::{
    read_snapshot, read_snapshot_from, write_snapshot, write_snapshot_to, SnapshotError,
    FORMAT_VERSION,
};

/// A deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A heap of `n` objects with random references, labels, texts and sites.
fn heap(n: u32, seed: u64) -> GraphParts<'static> {
    let mut rng = Rng(seed);
    let names = ["object", "dict", "list", "str", "app.models.Order", "int"];
    let types: Vec<TypePart> = names
        .iter()
        .enumerate()
        .map(|(i, name)| TypePart {
            address: 0x55_0000 + i as u64 * 0x1a0,
            name: name.to_string(),
            module: if name.contains('.') {
                "app.models".into()
            } else {
                "builtins".into()
            },
            qualname: name.rsplit('.').next().unwrap().into(),
            is_dict: *name == "dict",
            is_module: false,
            mro: if i == 0 { vec![] } else { vec![TypeId(0)] },
        })
        .collect();
    let mut addresses = Vec::new();
    let mut a = 0x7f00_0000_0000u64;
    for _ in 0..n {
        a = a
            .wrapping_add(16 * (1 + rng.below(20)))
            .wrapping_sub(if rng.below(10) == 0 { 1 << 20 } else { 0 });
        addresses.push(a);
    }
    let nodes = NodeParts {
        addresses: addresses.into(),
        types: (0..n)
            .map(|_| TypeId(rng.below(names.len() as u64) as u32))
            .collect::<Vec<_>>()
            .into(),
        sizes: (0..n)
            .map(|_| 16 + rng.below(400))
            .collect::<Vec<_>>()
            .into(),
        flags: (0..n)
            .map(|i| if i % 97 == 5 { NODE_UNREACHABLE } else { 0 })
            .collect(),
    };
    let labels = vec![
        Label {
            relation: Relation::Index,
            order: LabelOrder::Int(0),
        },
        Label {
            relation: Relation::Index,
            order: LabelOrder::Int(-3),
        },
        Label {
            relation: Relation::Attribute,
            order: LabelOrder::Text("__dict__".into()),
        },
        Label {
            relation: Relation::KeyIndex,
            order: LabelOrder::Int(7),
        },
        Label {
            relation: Relation::Unnamed,
            order: LabelOrder::Text(String::new()),
        },
        Label {
            relation: Relation::Local,
            order: LabelOrder::Text("clé ✓".into()),
        },
    ];
    let mut starts = vec![0u32];
    let mut targets = Vec::new();
    let mut edge_labels = Vec::new();
    for _ in 0..n {
        for _ in 0..rng.below(4) {
            targets.push(NodeId(rng.below(n as u64) as u32));
            // item labels [i] are encoded in the id, the others index the table
            edge_labels.push(if rng.below(3) == 0 {
                LabelTable::item_label(rng.below(1 << 31) as u32)
            } else {
                LabelId(rng.below(labels.len() as u64) as u32)
            });
        }
        starts.push(targets.len() as u32);
    }
    GraphParts {
        meta: vec![
            ("python_version".into(), "3.12.1".into()),
            ("argv".into(), "[\"app.py\", \"--port\", \"8000\"]".into()),
        ],
        types,
        nodes,
        edges: Some(EdgeParts {
            starts: starts.into(),
            targets: targets.into(),
            labels: edge_labels.into(),
        }),
        labels,
        dict_owners: (0..n / 10)
            .map(|i| (NodeId(i * 10), NodeId(i * 10 + 1)))
            .collect(),
        roots: vec![
            RootPart {
                name: "i0_modules".into(),
                node: NodeId(0),
            },
            RootPart {
                name: "i0_t140_f0:handler.f_locals['x']".into(),
                node: NodeId(n - 1),
            },
        ],
        threads: vec![ThreadPart {
            id: 140,
            name: "MainThread".into(),
        }],
        texts: {
            let texts: Vec<(NodeId, String)> = (0..n)
                .step_by(3)
                .map(|i| (NodeId(i), format!("'text {i}'")))
                .collect();
            texts.iter().map(|(n, t)| (*n, t.as_str())).collect()
        },
        sites: vec![SitePart {
            filename: "app/models.py".into(),
            lineno: 42,
        }],
        node_sites: (0..n).step_by(5).map(|i| (NodeId(i), 0)).collect(),
    }
}

fn bytes_of(parts: &GraphParts<'_>) -> Vec<u8> {
    write_snapshot_to(Vec::new(), parts).unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hsnap-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_heap_reads_back_equal_and_small() {
    for (n, seed) in [(1u32, 1u64), (1000, 2), (200_000, 3)] {
        let parts = heap(n, seed);
        let bytes = bytes_of(&parts);
        let back = read_snapshot_from(&bytes[..]).unwrap();
        assert_eq!(back, parts, "n={n}");
        if n == 200_000 {
            // random edges compress worst; real heaps do better
            let per_object = bytes.len() as f64 / n as f64;
            assert!(per_object < 24.0, "{per_object} bytes per object");
        }
    }
    let mut census = heap(500, 4);
    census.edges = None;
    assert_eq!(read_snapshot_from(&bytes_of(&census)[..]).unwrap(), census);
    let empty = GraphParts::default();
    assert_eq!(read_snapshot_from(&bytes_of(&empty)[..]).unwrap(), empty);
}

#[test]
fn every_truncation_is_a_format_error() {
    let bytes = bytes_of(&heap(300, 5));
    for len in 0..bytes.len() {
        match read_snapshot_from(&bytes[..len]) {
            Err(SnapshotError::Format { what, .. }) => {
                assert!(
                    what.contains("truncated") || what.contains("too short"),
                    "at {len}: {what}"
                )
            }
            other => panic!(
                "a file cut at {len} of {} bytes read as {other:?}",
                bytes.len()
            ),
        }
    }
}

#[test]
fn damaged_bytes_never_panic_and_never_pass_unnoticed() {
    let parts = heap(2000, 6);
    let bytes = bytes_of(&parts);
    let mut rng = Rng(0x5eed);
    for _ in 0..3000 {
        let mut damaged = bytes.clone();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(damaged.len() as u64) as usize;
            damaged[at] ^= 1 << rng.below(8);
        }
        match read_snapshot_from(&damaged[..]) {
            Err(SnapshotError::Format { .. }) | Err(SnapshotError::NewerVersion { .. }) => {}
            // only the reserved header flags (bytes 12..16) may change without notice
            Ok(back) => assert_eq!(back, parts),
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    // appended garbage and foreign files
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"junk");
    assert!(matches!(
        read_snapshot_from(&longer[..]),
        Err(SnapshotError::Format { .. })
    ));
    for foreign in [
        &b""[..],
        b"PK\x03\x04zipfile",
        b"{\"snapshot\": {}}",
        &bytes[..15],
    ] {
        let err = read_snapshot_from(foreign).unwrap_err().to_string();
        assert!(err.contains("not a valid heapscope snapshot"), "{err}");
    }
}

#[test]
fn a_newer_format_is_refused_with_the_version_needed() {
    let mut bytes = bytes_of(&heap(10, 7));
    bytes[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let err = read_snapshot_from(&bytes[..]).unwrap_err();
    assert!(
        matches!(err, SnapshotError::NewerVersion { found, .. } if found == FORMAT_VERSION + 1)
    );
    assert!(err.to_string().contains("upgrade heapscope"), "{err}");
}

#[test]
fn files_are_written_atomically_and_errors_leave_nothing() {
    let dir = temp_dir("atomic");
    let target = dir.join("app.hsnap");
    let first = heap(100, 8);
    write_snapshot(&target, &first).unwrap();
    assert_eq!(read_snapshot(&target).unwrap(), first);
    let second = heap(200, 9);
    write_snapshot(&target, &second).unwrap(); // replaces it whole
    assert_eq!(read_snapshot(&target).unwrap(), second);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("app.hsnap")]); // no temporary left

    let missing = dir.join("no/such/dir/x.hsnap");
    let err = write_snapshot(&missing, &first).unwrap_err().to_string();
    assert!(err.starts_with("cannot create"), "{err}");
    let err = read_snapshot(&dir.join("absent.hsnap"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("cannot open"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_staged_write_is_the_same_file_and_an_abandoned_one_leaves_nothing() {
    use std::sync::mpsc;

    use heapscope_snapshot::write_snapshot_staged;

    let dir = temp_dir("staged");
    let whole = heap(3000, 11);
    let early = GraphParts {
        meta: whole.meta.clone(),
        types: whole.types.clone(),
        nodes: whole.nodes.clone(),
        ..GraphParts::default()
    };
    let edges = GraphParts {
        edges: whole.edges.clone(),
        labels: whole.labels.clone(),
        ..GraphParts::default()
    };
    let rest = GraphParts {
        dict_owners: whole.dict_owners.clone(),
        roots: whole.roots.clone(),
        threads: whole.threads.clone(),
        texts: whole.texts.clone(),
        sites: whole.sites.clone(),
        node_sites: whole.node_sites.clone(),
        ..GraphParts::default()
    };
    let path = dir.join("staged.hsnap");
    let (send, later) = mpsc::channel();
    std::thread::scope(|s| {
        let writer = s.spawn(|| write_snapshot_staged(&path, &early, later));
        send.send(edges).unwrap();
        send.send(rest).unwrap();
        writer.join().unwrap().unwrap();
    });
    assert_eq!(std::fs::read(&path).unwrap(), bytes_of(&whole));
    // the maker gives up after the first stage: no file, no temporary
    let gone = dir.join("abandoned.hsnap");
    let (send, later) = mpsc::channel::<GraphParts<'_>>();
    let edges_again = GraphParts {
        edges: whole.edges.clone(),
        labels: whole.labels.clone(),
        ..GraphParts::default()
    };
    std::thread::scope(|s| {
        let writer = s.spawn(|| write_snapshot_staged(&gone, &early, later));
        send.send(edges_again).unwrap();
        drop(send);
        let err = writer.join().unwrap().unwrap_err().to_string();
        assert!(err.contains("stopped before its parts were made"), "{err}");
    });
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("staged.hsnap")]);
}
