//! The constants of the `.hsnap` format (docs/snapshot-format.md).

/// First 8 bytes of every snapshot (a PNG-style signature: a non-ASCII byte, the name,
/// CR LF, ^Z, LF, so text-mode transfers are detected).
pub const MAGIC: [u8; 8] = *b"\x89HSN\r\n\x1a\n";

/// The format version this crate writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Raw (uncompressed) bytes per chunk at most: the writer's buffer and the most a
/// reader decompresses at once.
pub const CHUNK_RAW_MAX: usize = 1 << 20;

/// zstd level: speed first (snapshots are taken in a running process).
pub const ZSTD_LEVEL: i32 = 1;

/// The sections, in the order they are written. Readers skip tags they do not know
/// (a later minor addition) but require every tag here except the optional ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Meta,
    Types,
    Nodes,
    Labels,
    Edges,
    Owners,
    Roots,
    Threads,
    Texts,
    Sites,
    End,
}

impl Section {
    pub const ALL: [Section; 11] = [
        Section::Meta,
        Section::Types,
        Section::Nodes,
        Section::Labels,
        Section::Edges,
        Section::Owners,
        Section::Roots,
        Section::Threads,
        Section::Texts,
        Section::Sites,
        Section::End,
    ];

    pub fn tag(self) -> [u8; 4] {
        *match self {
            Section::Meta => b"META",
            Section::Types => b"TYPE",
            Section::Nodes => b"NODE",
            Section::Labels => b"LABL",
            Section::Edges => b"EDGE",
            Section::Owners => b"OWNR",
            Section::Roots => b"ROOT",
            Section::Threads => b"THRD",
            Section::Texts => b"TEXT",
            Section::Sites => b"SITE",
            Section::End => b"END_",
        }
    }

    pub fn from_tag(tag: [u8; 4]) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.tag() == tag)
    }
}
