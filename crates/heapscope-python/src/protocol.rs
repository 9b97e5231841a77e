//! The protocol strings the Python layer passes to the native classes, as enums:
//! classifier names (`"Clodo"`, products `"Type&Size"`), comparison operators (`"<="`),
//! the kinds `NodeSet.select_kind` selects by (`"dictof"`) and the tags of kind
//! descriptions `(tag, object, number)` (`"type"`, `"size"`, ...) and export formats
//! (`"heapsnapshot"`, `"jsonl"`, `"parquet"`). Each implements
//! `FromPyObject` for the same Python strings, so a method takes the enum and the Python
//! layer passes what it always passed; a string that is none of the accepted values is
//! a `ValueError` naming them (`errors::UnknownName`). Kind tags also convert back into
//! the same strings, for `Partition.row_kinds`.

use std::convert::Infallible;

use heapscope_core::{Classifier, Cmp};
use heapscope_snapshot::ExportFormat;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::errors::UnknownName;

/// The value `text` names in `table`, or the error naming every accepted text.
fn named<T: Copy>(
    what: &'static str,
    table: &[(&'static str, T)],
    text: &str,
) -> Result<T, UnknownName> {
    table
        .iter()
        .find(|&&(name, _)| name == text)
        .map(|&(_, value)| value)
        .ok_or_else(|| UnknownName {
            what,
            accepted: table.iter().map(|&(name, _)| name).collect(),
            got: text.to_string(),
        })
}

/// The name of `value` in `table` (every value has one).
fn name_of<T: Copy + PartialEq>(table: &[(&'static str, T)], value: T) -> &'static str {
    table
        .iter()
        .find(|&&(_, v)| v == value)
        .map_or("?", |&(name, _)| name)
}

/// An export format by name: `heapsnapshot`, `jsonl` or `parquet`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportFormatArg(pub ExportFormat);

impl<'a, 'py> FromPyObject<'a, 'py> for ExportFormatArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let name: &str = obj.extract()?;
        let table = ExportFormat::ALL.map(|f| (f.name(), f));
        Ok(ExportFormatArg(named("an export format", &table, name)?))
    }
}

const CLASSIFIERS: [(&str, Classifier); 6] = [
    ("Clodo", Classifier::Clodo),
    ("Type", Classifier::Type),
    ("Size", Classifier::Size),
    ("Id", Classifier::Id),
    ("Module", Classifier::Module),
    ("Unity", Classifier::Unity),
];

/// A classifier by name: `Clodo`, `Type`, `Size`, `Id`, `Module` or `Unity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassifierArg(pub Classifier);

impl<'a, 'py> FromPyObject<'a, 'py> for ClassifierArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let name: &str = obj.extract()?;
        Ok(ClassifierArg(named("a classifier", &CLASSIFIERS, name)?))
    }
}

/// A classifier, or a product of classifiers written `"Type&Size"` (spaces around the
/// names are ignored; the core checks the number of factors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassifierProduct(pub Vec<Classifier>);

impl<'a, 'py> FromPyObject<'a, 'py> for ClassifierProduct {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let text: &str = obj.extract()?;
        let factors = text
            .split('&')
            .map(|name| named("a classifier", &CLASSIFIERS, name.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ClassifierProduct(factors))
    }
}

/// In the order the comparison error has always listed them.
const COMPARISONS: [(&str, Cmp); 6] = [
    ("<", Cmp::Lt),
    ("<=", Cmp::Le),
    (">=", Cmp::Ge),
    (">", Cmp::Gt),
    ("==", Cmp::Eq),
    ("!=", Cmp::Ne),
];

/// A comparison of a kind's `.alt(op)`: `<`, `<=`, `>=`, `>`, `==` or `!=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CmpArg(pub Cmp);

impl CmpArg {
    /// `==`, the comparison of a kind itself.
    pub const EQ: CmpArg = CmpArg(Cmp::Eq);

    /// The operator as Python writes it.
    pub fn op(self) -> &'static str {
        name_of(&COMPARISONS, self.0)
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for CmpArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let op: &str = obj.extract()?;
        Ok(CmpArg(named("a comparison", &COMPARISONS, op)?))
    }
}

/// What `NodeSet.select_kind` selects by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectKind {
    /// `type`: the argument is a type, compared by subclassing over the MRO.
    Type,
    /// `class`: Clodo's class (a type; dicts left out).
    Class,
    /// `dictof`: dicts by owner type (None: dicts with no owner).
    DictOf,
    /// `size`: individual size, an int.
    Size,
    /// `module`: modules by name (`==` only).
    Module,
}

const SELECT_KINDS: [(&str, SelectKind); 5] = [
    ("type", SelectKind::Type),
    ("class", SelectKind::Class),
    ("dictof", SelectKind::DictOf),
    ("size", SelectKind::Size),
    ("module", SelectKind::Module),
];

impl<'a, 'py> FromPyObject<'a, 'py> for SelectKind {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let kind: &str = obj.extract()?;
        Ok(named("a selection kind", &SELECT_KINDS, kind)?)
    }
}

/// The tag of a kind description `(tag, object, number)`: what `Partition.row_kinds`
/// gives for a row's class, and what `NodeSet.select_referred_by` takes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindTag {
    /// `type`: object is the type.
    Type,
    /// `dictof`: object is the owner type, or None for dicts with no owner.
    DictOf,
    /// `size`: number is the size.
    Size,
    /// `id`: object is the object itself.
    Id,
    /// `module`: object is the module (in a selection: its name).
    Module,
    /// `notmodule`: everything but modules (Module's other class).
    NotModule,
    /// `unity`: everything.
    Unity,
    /// `unknown`: a kind that is no class of the relation (selections count it apart).
    Unknown,
}

const KIND_TAGS: [(&str, KindTag); 8] = [
    ("type", KindTag::Type),
    ("dictof", KindTag::DictOf),
    ("size", KindTag::Size),
    ("id", KindTag::Id),
    ("module", KindTag::Module),
    ("notmodule", KindTag::NotModule),
    ("unity", KindTag::Unity),
    ("unknown", KindTag::Unknown),
];

impl KindTag {
    /// The tag as Python writes it.
    pub fn as_str(self) -> &'static str {
        name_of(&KIND_TAGS, self)
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for KindTag {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let tag: &str = obj.extract()?;
        Ok(named("a kind tag", &KIND_TAGS, tag)?)
    }
}

impl<'py> IntoPyObject<'py> for KindTag {
    type Target = PyString;
    type Output = Bound<'py, PyString>;
    type Error = Infallible;

    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        Ok(PyString::new(py, self.as_str()))
    }
}
