//! Section framing: a 4-byte tag, then chunks of at most [`CHUNK_RAW_MAX`] raw bytes, each
//! `raw_len: u32, stored_len: u32, crc32(stored): u32` (little endian) and the zstd frame;
//! a chunk header of zeros ends the section. The writer holds a few chunks in memory
//! (one being encoded, the others being compressed and written by a second thread); the
//! reader checks each chunk before decompressing it.

use std::io::{self, Read, Write};
use std::sync::mpsc;

use crate::format::{Section, CHUNK_RAW_MAX, ZSTD_LEVEL};
use crate::SnapshotError;

const CHUNK_FILL: usize = CHUNK_RAW_MAX - 16;

/// What the encoding side hands the writing side, in file order.
enum Piece {
    /// Bytes written as they are (header, section tags, terminators).
    Raw(Vec<u8>),
    /// A chunk's raw bytes, compressed and framed by the writing side.
    Chunk(Vec<u8>),
}

/// Streams sections: values are appended with the encoding methods and cut into chunks
/// as the buffer fills. Chunks are compressed and written by a second thread (see
/// [`write_chunked`]) while the next one is encoded, so a dump uses both cores; at most
/// a few chunk buffers are in flight.
pub(crate) struct ChunkWriter {
    to_writer: mpsc::SyncSender<Piece>,
    /// Emptied buffers coming back for reuse.
    spare: mpsc::Receiver<Vec<u8>>,
    buf: Vec<u8>,
    pub(crate) sections: u64,
}

/// Runs `encode` with a [`ChunkWriter`] whose pieces a second thread compresses and
/// writes to `out`, in order. Returns `out`, or the first error of either side.
pub(crate) fn write_chunked<W: Write + Send>(
    out: W,
    encode: impl FnOnce(&mut ChunkWriter) -> io::Result<()>,
) -> io::Result<W> {
    let (to_writer, pieces) = mpsc::sync_channel::<Piece>(2);
    let (give_back, spare) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> io::Result<W> {
            let mut out = out;
            let mut compressor = zstd::bulk::Compressor::new(ZSTD_LEVEL)?;
            for piece in pieces {
                match piece {
                    Piece::Raw(bytes) => out.write_all(&bytes)?,
                    Piece::Chunk(mut raw) => {
                        let stored = compressor.compress(&raw)?;
                        let mut header = [0u8; 12];
                        header[0..4].copy_from_slice(&(raw.len() as u32).to_le_bytes());
                        header[4..8].copy_from_slice(&(stored.len() as u32).to_le_bytes());
                        header[8..12].copy_from_slice(&crc32fast::hash(&stored).to_le_bytes());
                        out.write_all(&header)?;
                        out.write_all(&stored)?;
                        raw.clear();
                        let _ = give_back.send(raw);
                    }
                }
            }
            Ok(out)
        });
        let mut w = ChunkWriter {
            to_writer,
            spare,
            buf: Vec::with_capacity(CHUNK_RAW_MAX + 64),
            sections: 0,
        };
        let encoded = encode(&mut w);
        drop(w); // ends the pieces: the writer finishes
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the snapshot writer thread panicked")));
        // the writer's error explains an encoding side that could no longer send
        let out = written?;
        encoded.map(|()| out)
    })
}

impl ChunkWriter {
    fn send(&mut self, piece: Piece) -> io::Result<()> {
        self.to_writer
            .send(piece)
            .map_err(|_| io::Error::other("the snapshot writer stopped"))
    }

    pub(crate) fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.send(Piece::Raw(bytes.to_vec()))
    }

    pub(crate) fn begin(&mut self, section: Section) -> io::Result<()> {
        self.sections += 1;
        self.send(Piece::Raw(section.tag().to_vec()))
    }

    pub(crate) fn end(&mut self) -> io::Result<()> {
        self.flush_chunk()?;
        self.send(Piece::Raw(vec![0u8; 12]))
    }

    fn flush_chunk(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK_RAW_MAX + 64));
        let full = std::mem::replace(&mut self.buf, next);
        self.send(Piece::Chunk(full))
    }

    /// Cuts a chunk once the buffer is within one value (a varint is at most 10 bytes)
    /// of the chunk limit, so no chunk exceeds it.
    #[inline]
    fn room(&mut self) -> io::Result<()> {
        if self.buf.len() >= CHUNK_FILL {
            self.flush_chunk()?;
        }
        Ok(())
    }

    pub(crate) fn u8(&mut self, v: u8) -> io::Result<()> {
        self.buf.push(v);
        self.room()
    }

    /// Unsigned LEB128.
    pub(crate) fn varint(&mut self, mut v: u64) -> io::Result<()> {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
        self.room()
    }

    /// Signed values (deltas) zigzag-encoded, then LEB128.
    pub(crate) fn zigzag(&mut self, v: i64) -> io::Result<()> {
        self.varint(((v << 1) ^ (v >> 63)) as u64)
    }

    pub(crate) fn str(&mut self, s: &str) -> io::Result<()> {
        self.varint(s.len() as u64)?;
        let mut rest = s.as_bytes();
        while !rest.is_empty() {
            let take = rest.len().min(CHUNK_FILL - self.buf.len());
            self.buf.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            self.room()?;
        }
        Ok(())
    }
}

/// Reads sections back, counting bytes so errors can say where.
pub(crate) struct ChunkReader<R: Read> {
    input: R,
    pub(crate) offset: u64,
}

/// One section as read: its tag (known or not) and its raw bytes, with the file offset
/// of its first chunk for error messages.
pub(crate) struct RawSection {
    pub(crate) tag: [u8; 4],
    pub(crate) bytes: Vec<u8>,
    pub(crate) offset: u64,
}

impl<R: Read> ChunkReader<R> {
    pub(crate) fn new(input: R) -> Self {
        ChunkReader { input, offset: 0 }
    }

    /// Exactly `buf.len()` bytes, or a format error naming what was cut off.
    pub(crate) fn exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), SnapshotError> {
        match self.input.read_exact(buf) {
            Ok(()) => {
                self.offset += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(SnapshotError::format(
                format!("the file ends inside {what} (truncated)"),
                self.offset,
            )),
            Err(e) => Err(SnapshotError::Io {
                action: "cannot read",
                path: "the snapshot".into(),
                source: e,
            }),
        }
    }

    /// The next section; `None` at a clean end of input (no bytes left).
    pub(crate) fn section(&mut self) -> Result<Option<RawSection>, SnapshotError> {
        let mut tag = [0u8; 4];
        let start = self.offset;
        let got = read_up_to(&mut self.input, &mut tag).map_err(|e| SnapshotError::Io {
            action: "cannot read",
            path: "the snapshot".into(),
            source: e,
        })?;
        self.offset += got as u64;
        if got == 0 {
            return Ok(None);
        }
        if got < 4 {
            return Err(SnapshotError::format(
                "the file ends inside a section tag (truncated)",
                start,
            ));
        }
        let name = String::from_utf8_lossy(&tag).into_owned();
        let mut bytes = Vec::new();
        loop {
            let mut header = [0u8; 12];
            self.exact(&mut header, &format!("a chunk header of section {name}"))?;
            let word = |i: usize| u32::from_le_bytes(header[i..i + 4].try_into().unwrap());
            let (raw_len, stored_len, crc) = (word(0) as usize, word(4) as usize, word(8));
            if raw_len == 0 && stored_len == 0 && crc == 0 {
                break;
            }
            let at = self.offset - 12;
            if raw_len == 0 || raw_len > CHUNK_RAW_MAX || stored_len == 0 {
                return Err(SnapshotError::format(
                    format!("section {name} has a chunk of impossible length ({raw_len} raw, {stored_len} stored bytes)"),
                    at,
                ));
            }
            if stored_len > zstd::zstd_safe::compress_bound(CHUNK_RAW_MAX) {
                return Err(SnapshotError::format(
                    format!("section {name} has a chunk of {stored_len} stored bytes, more than any chunk needs"),
                    at,
                ));
            }
            let mut stored = vec![0u8; stored_len];
            self.exact(&mut stored, &format!("a chunk of section {name}"))?;
            if crc32fast::hash(&stored) != crc {
                return Err(SnapshotError::format(
                    format!(
                        "section {name}: a chunk's checksum does not match (the file is damaged)"
                    ),
                    at,
                ));
            }
            let raw = zstd::bulk::decompress(&stored, raw_len).map_err(|e| {
                SnapshotError::format(
                    format!("section {name}: a chunk does not decompress ({e})"),
                    at,
                )
            })?;
            if raw.len() != raw_len {
                return Err(SnapshotError::format(
                    format!(
                        "section {name}: a chunk decompresses to {} bytes, not {raw_len}",
                        raw.len()
                    ),
                    at,
                ));
            }
            bytes.extend_from_slice(&raw);
        }
        Ok(Some(RawSection {
            tag,
            bytes,
            offset: start,
        }))
    }
}

/// Like `read_exact`, but a short read at the end of input is returned, not an error.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
