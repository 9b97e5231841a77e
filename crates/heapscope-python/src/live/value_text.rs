//! Short texts of values, written into snapshots so that a snapshot renders its objects
//! without them: what a byid row shows, computed while dumping.
//!
//! Only exact builtin types get a text, because their repr is C code (no user code runs,
//! nothing is cached in the object): Heapy's renderers are followed, that is reprlib's
//! limited repr for `str` and `bytes` (30 characters), `repr` for numbers, `True`,
//! `False` and `None`, the name for modules, and `*length` for lists, tuples and dicts
//! (shown after their address). Everything else renders by address.

use pyo3::ffi::{self, PyObject};
use pyo3::prelude::*;

use std::fmt::Write as _;

use crate::live::shim;
use crate::live::text::str_text;

/// reprlib's `maxstring` and `maxother`: the limit of a limited repr.
const LIMIT: usize = 30;
/// A limited repr keeps this many characters before the `...`, and `LIMIT - 3 - HEAD`
/// after it (reprlib's `i` and `j`).
const HEAD: usize = (LIMIT - 3) / 2;
const TAIL: usize = LIMIT - 3 - HEAD;
/// A bytes object longer than this is rendered from its two ends only.
const BYTES_ENDS: isize = 256;

/// Writes the text of the object at `obj` into `out` (cleared first), at most `cap`
/// characters; false when objects of its type render by address. The object must be
/// alive (a node of a live graph).
pub fn value_text(py: Python<'_>, obj: *mut PyObject, cap: usize, out: &mut String) -> bool {
    out.clear();
    let written = unsafe {
        if ffi::PyLong_CheckExact(obj) != 0 {
            int_text(py, obj, out)
        } else if ffi::PyUnicode_CheckExact(obj) != 0 {
            ascii_str_text(obj, out) || push(out, limited_str_repr(py, obj))
        } else if ffi::PyList_CheckExact(obj) != 0
            || ffi::PyTuple_CheckExact(obj) != 0
            || ffi::PyDict_CheckExact(obj) != 0
        {
            // Heapy shows these as `address*length`; the address is the node's own
            let _ = write!(out, "*{}", ffi::PyObject_Size(obj).max(0));
            true
        } else if ffi::PyBytes_CheckExact(obj) != 0 {
            push(out, limited_bytes_repr(py, obj))
        } else if ffi::PyFloat_CheckExact(obj) != 0
            || ffi::PyComplex_CheckExact(obj) != 0
            || ffi::PyBool_Check(obj) != 0
            || obj == ffi::Py_None()
        {
            push(out, repr_text(py, obj))
        } else if ffi::PyModule_Check(obj) != 0 {
            push(out, module_name(py, obj))
        } else {
            false
        }
    };
    if written {
        if let Some((end, _)) = out.char_indices().nth(cap) {
            out.truncate(end);
        }
    }
    written
}

fn push(out: &mut String, text: Option<String>) -> bool {
    match text {
        Some(t) => {
            out.push_str(&t);
            true
        }
        None => false,
    }
}

/// An int's repr: written directly when it fits in 64 bits (most do), else through
/// Python's (an int too long to convert renders by address).
unsafe fn int_text(py: Python<'_>, obj: *mut PyObject, out: &mut String) -> bool {
    let mut overflow = 0;
    let v = unsafe { ffi::PyLong_AsLongLongAndOverflow(obj, &mut overflow) };
    if overflow == 0 && !(v == -1 && unsafe { !ffi::PyErr_Occurred().is_null() }) {
        let _ = write!(out, "{v}");
        return true;
    }
    unsafe { ffi::PyErr_Clear() };
    push(out, repr_text(py, obj))
}

/// reprlib's limited repr of an ASCII str without quotes, backslashes or control
/// characters in the part shown: `'text'`, or past 30 characters of repr the first 12
/// and last 13 characters around `...` (what `limited_str_repr` computes through
/// Python). False, with `out` untouched, for any other str.
unsafe fn ascii_str_text(obj: *mut PyObject, out: &mut String) -> bool {
    let mut len: ffi::Py_ssize_t = 0;
    let data = unsafe { shim::hs_ascii_chars(obj, &mut len) };
    if data.is_null() {
        return false;
    }
    // Safety: an ASCII str's data are `len` bytes, alive while the str is.
    let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len as usize) };
    let plain = |b: &[u8]| {
        b.iter()
            .all(|&c| (0x20..0x7f).contains(&c) && c != b'\'' && c != b'\\')
    };
    let n = bytes.len();
    // repr(x[:30]) is `'x[:30]'`: longer than 30 once x has 29 characters
    if n + 2 <= LIMIT {
        if !plain(bytes) {
            return false;
        }
        out.push('\'');
        out.push_str(std::str::from_utf8(bytes).unwrap_or_default());
        out.push('\'');
        return true;
    }
    let head = &bytes[..HEAD - 1];
    let tail = &bytes[n - (TAIL - 1)..];
    if !plain(&bytes[..LIMIT.min(n)]) || !plain(tail) {
        return false;
    }
    out.push('\'');
    out.push_str(std::str::from_utf8(head).unwrap_or_default());
    out.push_str("...");
    out.push_str(std::str::from_utf8(tail).unwrap_or_default());
    out.push('\'');
    true
}

/// The name of a module (its `__name__` as the module object keeps it).
pub fn module_name(py: Python<'_>, module: *mut PyObject) -> Option<String> {
    let name = unsafe { ffi::PyModule_GetNameObject(module) };
    owned_text(py, name)
}

/// Text of a new reference to a str (released here); `None` (error cleared) on null.
fn owned_text(py: Python<'_>, s: *mut PyObject) -> Option<String> {
    if s.is_null() {
        unsafe { ffi::PyErr_Clear() };
        return None;
    }
    let s = unsafe { Bound::from_owned_ptr(py, s) };
    str_text(&s)
}

fn repr_text(py: Python<'_>, obj: *mut PyObject) -> Option<String> {
    // an int too long to convert raises ValueError: it renders by address
    owned_text(py, unsafe { ffi::PyObject_Repr(obj) })
}

/// `s[:HEAD] + '...' + s[-TAIL:]` by characters.
fn elide(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let head: String = chars[..HEAD].iter().collect();
    let tail: String = chars[chars.len() - TAIL..].iter().collect();
    format!("{head}...{tail}")
}

/// reprlib's `repr_str`: the repr of the first 30 characters; if that is longer than 30,
/// the repr of the first 13 and last 14 characters, elided in the middle.
unsafe fn limited_str_repr(py: Python<'_>, s: *mut PyObject) -> Option<String> {
    unsafe {
        let len = ffi::PyUnicode_GetLength(s);
        let first = ffi::PyUnicode_Substring(s, 0, LIMIT as isize);
        if first.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        let r = repr_text(py, first);
        ffi::Py_DECREF(first);
        let r = r?;
        if r.chars().count() <= LIMIT {
            return Some(r);
        }
        let head = ffi::PyUnicode_Substring(s, 0, HEAD as isize);
        let tail = ffi::PyUnicode_Substring(s, (len - TAIL as isize).max(0), len);
        let joined = if head.is_null() || tail.is_null() {
            std::ptr::null_mut()
        } else {
            ffi::PyUnicode_Concat(head, tail)
        };
        ffi::Py_XDECREF(head);
        ffi::Py_XDECREF(tail);
        if joined.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        let r = repr_text(py, joined);
        ffi::Py_DECREF(joined);
        let r = r?;
        (r.chars().count() >= HEAD + TAIL).then(|| elide(&r))
    }
}

/// reprlib's `repr_instance` for bytes: the repr, elided in the middle past 30
/// characters (a long bytes object is rendered from its two ends).
unsafe fn limited_bytes_repr(py: Python<'_>, b: *mut PyObject) -> Option<String> {
    unsafe {
        let len = ffi::PyBytes_Size(b);
        let r = if len > 2 * BYTES_ENDS {
            let data = ffi::PyBytes_AsString(b) as *const u8;
            let bytes = std::slice::from_raw_parts(data, len as usize);
            let mut ends = bytes[..BYTES_ENDS as usize].to_vec();
            ends.extend_from_slice(&bytes[(len - BYTES_ENDS) as usize..]);
            let short = ffi::PyBytes_FromStringAndSize(ends.as_ptr().cast(), ends.len() as isize);
            if short.is_null() {
                ffi::PyErr_Clear();
                return None;
            }
            let r = repr_text(py, short);
            ffi::Py_DECREF(short);
            r
        } else {
            repr_text(py, b)
        }?;
        if r.chars().count() <= LIMIT {
            Some(r)
        } else {
            Some(elide(&r))
        }
    }
}
