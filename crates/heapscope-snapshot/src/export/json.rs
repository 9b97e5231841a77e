//! Streaming JSON text for the exports: a byte buffer spilled to the file every MiB,
//! integers formatted by hand and strings escaped per RFC 8259.
//!
//! Millions of small values go through here (ten per node in a `.heapsnapshot`), so
//! nothing allocates per value and nothing goes through `fmt`.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use super::ExportError;
use crate::staging::io_error;

/// Bytes to hold before writing them out.
const SPILL: usize = 1 << 20;

/// JSON text on its way to a file.
pub(crate) struct JsonOut {
    file: File,
    path: PathBuf,
    buf: Vec<u8>,
}

impl JsonOut {
    pub(crate) fn new(file: File, path: PathBuf) -> Self {
        JsonOut {
            file,
            path,
            buf: Vec::with_capacity(SPILL + (SPILL >> 2)),
        }
    }

    #[inline]
    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    #[inline]
    pub(crate) fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    #[inline]
    pub(crate) fn uint(&mut self, v: u64) {
        push_uint(&mut self.buf, v);
    }

    /// `s` as a JSON string, quotes included.
    #[inline]
    pub(crate) fn string(&mut self, s: &str) {
        self.buf.push(b'"');
        push_escaped(&mut self.buf, s);
        self.buf.push(b'"');
    }

    /// Writes the buffer out once it holds a MiB (call between values).
    #[inline]
    pub(crate) fn spill(&mut self) -> Result<(), ExportError> {
        if self.buf.len() >= SPILL {
            self.write_out()?;
        }
        Ok(())
    }

    fn write_out(&mut self) -> Result<(), ExportError> {
        self.file
            .write_all(&self.buf)
            .map_err(io_error("cannot write", &self.path))?;
        self.buf.clear();
        Ok(())
    }

    /// Writes what is left and makes it durable.
    pub(crate) fn finish(mut self) -> Result<(), ExportError> {
        self.write_out()?;
        self.file
            .sync_all()
            .map_err(io_error("cannot write", &self.path))?;
        Ok(())
    }
}

/// Appends the decimal digits of `v`.
#[inline]
pub(crate) fn push_uint(out: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends `s` escaped for the inside of a JSON string: quotes, backslashes and control
/// characters escaped, and everything outside ASCII as `\uXXXX` (UTF-16 code units, a
/// surrogate pair above U+FFFF), as V8 writes its own snapshots. The output is ASCII,
/// so a reader that decodes the file in pieces (memlab decodes each 4 MiB chunk on its
/// own) never cuts a character in two.
pub(crate) fn push_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b >= 0x80 {
            out.extend_from_slice(&bytes[start..i]);
            let c = s[i..]
                .chars()
                .next()
                .expect("a character starts at a non-ASCII lead byte");
            let mut units = [0u16; 2];
            for &unit in c.encode_utf16(&mut units).iter() {
                push_unicode_escape(out, unit);
            }
            i += c.len_utf8();
            start = i;
            continue;
        }
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[start..i]);
        if short.is_empty() {
            push_unicode_escape(out, u16::from(b));
        } else {
            out.extend_from_slice(short);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// `\uXXXX` for one UTF-16 code unit.
fn push_unicode_escape(out: &mut Vec<u8>, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\u");
    for shift in [12u16, 8, 4, 0] {
        out.push(HEX[usize::from((unit >> shift) & 15)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_strings_read_back_as_json() {
        for v in [0, 7, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            push_uint(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
        let nasty = "q\"uo\\te\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f} clé 雪 🦀 \u{2028}'";
        let mut out = vec![b'"'];
        push_escaped(&mut out, nasty);
        out.push(b'"');
        let text = String::from_utf8(out).unwrap();
        assert!(text.is_ascii(), "{text}");
        assert!(!text.contains("clé") && text.contains("cl\\u00e9"));
        assert!(text.contains("\\ud83e\\udd80"), "{text}"); // the crab, as a surrogate pair
        assert!(text.contains("\\u0000") && text.contains("\\u001f") && text.contains("\\b"));
        let back: String = serde_json::from_str(&text).unwrap();
        assert_eq!(back, nasty);
    }
}
