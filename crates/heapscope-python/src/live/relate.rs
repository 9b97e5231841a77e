//! Naming the references of live objects: runs the shim's `hs_relate` over every node of
//! a graph and hands the names to the core's [`EdgeLabeler`], which matches them to the
//! recorded edges.
//!
//! The shim only reports `(relation, name | key | index, target)` (or a name template
//! with a key or index, see `HS_REL_TEMPLATE`); no Python code runs
//! while an object is being related. Keys (dict keys, variable names) are strongly
//! referenced as they are reported and rendered with `repr` only after the object is
//! done, because a user-defined `__repr__` (or a collection it triggers) may mutate the
//! heap; a `repr` that fails gives `<T object>`.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};

use heapscope_core::{
    match_names, CoreError, EdgeLabeler, EdgeLabels, FastMap, HeapGraph, Label, LabelId,
    LabelTable, NodeId, PathLabels, Relation,
};
use pyo3::ffi::{self, PyObject, Py_ssize_t};
use pyo3::prelude::*;

use super::shim;

/// The shim's flag for a name that is a template: `{}` stands for the key's repr, or the
/// index when there is no key (`HS_REL_TEMPLATE` in capture_shim.h).
const TEMPLATE: c_int = 0x100;

/// What identifies a raw relation cheaply: relation code and a name pointer, key address
/// or index (keys are kept alive until labelling ends, so addresses stay unique).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Raw {
    Name(i32, usize),
    Key(i32, usize),
    Index(i32, isize),
    /// A template name with its key (address, or 0) and index.
    Template(i32, usize, usize, isize),
}

struct Collect {
    found: Vec<(u64, Raw)>,
    /// Keys met for the first time in this object: referenced, rendered afterwards.
    new_keys: Vec<usize>,
    known_keys: FastMap<usize, ()>,
}

unsafe extern "C" fn on_relation(
    relation: c_int,
    name: *const c_char,
    key: *mut PyObject,
    index: Py_ssize_t,
    target: *mut PyObject,
    arg: *mut c_void,
) -> c_int {
    let c = unsafe { &mut *(arg as *mut Collect) };
    let code = relation & !TEMPLATE;
    let raw = if relation & TEMPLATE != 0 && !name.is_null() {
        Raw::Template(code, name as usize, key as usize, index)
    } else if !name.is_null() {
        Raw::Name(code, name as usize)
    } else if !key.is_null() {
        Raw::Key(code, key as usize)
    } else {
        Raw::Index(code, index)
    };
    if let Raw::Key(_, k) | Raw::Template(_, _, k, _) = raw {
        if k != 0 && c.known_keys.insert(k, ()).is_none() {
            unsafe { ffi::Py_INCREF(k as *mut PyObject) };
            c.new_keys.push(k);
        }
    }
    c.found.push((target as u64, raw));
    0
}

/// Whether `repr(obj)` runs only CPython's own code: exact str, bytes, int, float,
/// complex, bool and None, tuples of those, and classes whose metaclass is `type`.
fn repr_is_builtin(obj: *mut PyObject, depth: u8) -> bool {
    unsafe {
        let tp = ffi::Py_TYPE(obj);
        let builtin = [
            std::ptr::addr_of_mut!(ffi::PyUnicode_Type),
            std::ptr::addr_of_mut!(ffi::PyBytes_Type),
            std::ptr::addr_of_mut!(ffi::PyLong_Type),
            std::ptr::addr_of_mut!(ffi::PyFloat_Type),
            std::ptr::addr_of_mut!(ffi::PyComplex_Type),
            std::ptr::addr_of_mut!(ffi::PyBool_Type),
            std::ptr::addr_of_mut!(ffi::PyType_Type),
        ];
        if builtin.contains(&tp) || obj == ffi::Py_None() {
            return true;
        }
        if tp == std::ptr::addr_of_mut!(ffi::PyTuple_Type) && depth < 4 {
            let n = ffi::PyTuple_Size(obj);
            return (0..n).all(|i| repr_is_builtin(ffi::PyTuple_GetItem(obj, i), depth + 1));
        }
        false
    }
}

/// A key's repr when it runs no user code; otherwise `<T object at 0x...>` (labels
/// are computed for the whole heap: calling every key's `__repr__` would be slow and
/// could change the heap). A repr that fails gives `<T object>`.
fn repr_of(py: Python<'_>, addr: usize) -> String {
    let ptr = addr as *mut PyObject;
    let type_name = || {
        let name = unsafe { (*ffi::Py_TYPE(ptr)).tp_name };
        if name.is_null() {
            "?".to_string()
        } else {
            unsafe { CStr::from_ptr(name) }
                .to_string_lossy()
                .into_owned()
        }
    };
    if !repr_is_builtin(ptr, 0) {
        return format!("<{} object at {addr:#x}>", type_name());
    }
    let obj = unsafe { Bound::from_borrowed_ptr(py, ptr) };
    match obj.repr() {
        Ok(r) => r.to_string_lossy().into_owned(),
        Err(_) => format!("<{} object>", type_name()),
    }
}

/// The text of a `str` key (attribute names), falling back to its repr.
fn str_of(py: Python<'_>, addr: usize) -> String {
    let obj = unsafe { Bound::from_borrowed_ptr(py, addr as *mut PyObject) };
    super::text::str_text(&obj).unwrap_or_else(|| repr_of(py, addr))
}

/// Names the references of one node at a time through the shim's `hs_relate`, interning
/// the labels in the table the caller gives. Keys stay referenced until the namer is
/// dropped (they are rendered after their object is done).
struct NodeNamer<'g> {
    g: &'g HeapGraph,
    ids: FastMap<Raw, LabelId>,
    collect: Collect,
    named: Vec<(u64, LabelId)>,
    ob_type: LabelId,
}

impl<'g> NodeNamer<'g> {
    fn new(g: &'g HeapGraph, table: &mut LabelTable) -> Self {
        NodeNamer {
            g,
            ids: FastMap::default(),
            collect: Collect {
                found: Vec::new(),
                new_keys: Vec::new(),
                known_keys: FastMap::default(),
            },
            named: Vec::new(),
            ob_type: table.intern(Label::new(Relation::Internal, "ob_type", 0)),
        }
    }

    /// `n`'s references as `(target address, label)`.
    fn name(&mut self, py: Python<'_>, table: &mut LabelTable, n: NodeId) -> &[(u64, LabelId)] {
        let g = self.g;
        self.named.clear();
        let targets = g.referents(n);
        if targets.is_empty() {
            return &self.named;
        }
        // Most objects (ints, strs, floats) refer to their type only: no need to ask.
        let type_address = g.type_record(g.type_of(n)).address;
        if targets.len() == 1 && g.address(targets[0]) == type_address {
            self.named.push((type_address, self.ob_type));
            return &self.named;
        }
        self.collect.found.clear();
        let obj = g.address(n) as *mut PyObject;
        unsafe {
            shim::hs_relate(
                obj,
                on_relation,
                &mut self.collect as *mut Collect as *mut c_void,
            )
        };
        for &(target, raw) in &self.collect.found {
            let id = match raw {
                // indices need no rendering: intern directly (no second map of them)
                Raw::Index(..) => table.intern(render(py, raw)),
                _ => *self
                    .ids
                    .entry(raw)
                    .or_insert_with(|| table.intern(render(py, raw))),
            };
            self.named.push((target, id));
        }
        &self.named
    }
}

impl Drop for NodeNamer<'_> {
    fn drop(&mut self) {
        for &k in &self.collect.new_keys {
            unsafe { ffi::Py_DECREF(k as *mut PyObject) };
        }
    }
}

/// Computes every edge's label (once per graph; later calls return the stored labels).
pub fn edge_labels<'g>(py: Python<'_>, g: &'g HeapGraph) -> Result<&'g EdgeLabels, CoreError> {
    if let Some(l) = g.edge_labels() {
        return Ok(l);
    }
    let mut labeler = EdgeLabeler::new(g)?;
    let mut namer = NodeNamer::new(g, &mut labeler.table);
    for k in 0..g.node_count() {
        let n = NodeId(k as u32);
        if g.referents(n).is_empty() {
            continue;
        }
        let named = namer.name(py, &mut labeler.table, n);
        labeler.label_node(n, named);
    }
    drop(namer);
    g.set_edge_labels(labeler.finish())?;
    Ok(g.edge_labels().expect("just stored"))
}

/// Labels for one path search: a graph whose edges are all labelled answers from its
/// labels; otherwise only the nodes the search asks about are named (a path query on a
/// large capture then costs no labelling of the whole heap).
pub struct SearchLabels<'g, 'py> {
    py: Python<'py>,
    table: LabelTable,
    namer: NodeNamer<'g>,
    unnamed: LabelId,
    scratch: FastMap<u64, Vec<usize>>,
}

impl<'g, 'py> SearchLabels<'g, 'py> {
    pub fn new(py: Python<'py>, g: &'g HeapGraph) -> Self {
        let mut table = LabelTable::default();
        let unnamed = table.intern(Label::unnamed());
        let namer = NodeNamer::new(g, &mut table);
        SearchLabels {
            py,
            table,
            namer,
            unnamed,
            scratch: FastMap::default(),
        }
    }
}

impl PathLabels for SearchLabels<'_, '_> {
    fn node(&mut self, g: &HeapGraph, n: NodeId, edges: &[usize]) -> Vec<Label> {
        let named = self.namer.name(self.py, &mut self.table, n);
        let mut ids = vec![self.unnamed; g.referents(n).len()];
        match_names(g, n, named, self.unnamed, &mut ids, &mut self.scratch);
        edges
            .iter()
            .map(|&e| self.table.get(ids[e]).into_owned())
            .collect()
    }
}

fn render(py: Python<'_>, raw: Raw) -> Label {
    let (code, text, index) = match raw {
        Raw::Name(code, p) => {
            let s = unsafe { CStr::from_ptr(p as *const c_char) };
            (code, s.to_string_lossy().into_owned(), 0)
        }
        Raw::Key(code, k) => {
            let text = if code == 1 {
                // attribute names (managed values) are shown bare: `.name`
                str_of(py, k)
            } else {
                repr_of(py, k)
            };
            (code, text, 0)
        }
        Raw::Index(code, i) => (code, String::new(), i as i64),
        Raw::Template(code, p, k, i) => {
            let template = unsafe { CStr::from_ptr(p as *const c_char) }.to_string_lossy();
            let hole = if k != 0 {
                repr_of(py, k)
            } else {
                i.to_string()
            };
            (code, template.replacen("{}", &hole, 1), 0)
        }
    };
    match Relation::from_code(code) {
        Some(rel) => Label::new(rel, &text, index),
        None => Label::unnamed(),
    }
}
