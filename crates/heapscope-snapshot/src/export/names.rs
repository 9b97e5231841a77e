//! What the exports say about a node besides its address, type and size: which
//! builtin it is (strings and numbers are named by their value in a `.heapsnapshot`),
//! a function's name, a dict's owner, its recorded text, the roots that name it.
//!
//! Every export walks the nodes in id order, so per-node data that the notes keep as
//! sorted lists (texts, owners, roots) is read with cursors ([`InOrder`]) instead of a
//! search per node.

use std::iter::Peekable;

use heapscope_core::{GraphNotes, HeapGraph, LabelId, NodeId, TypeId};

/// The builtin types the exports treat apart (by `module` and `qualname`, so that a
/// subclass of `str` is an object of its own class).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    Str,
    Number,
    Function,
    Code,
    Other,
}

/// Per-type facts and per-node look-ups shared by the formats.
pub(crate) struct Naming<'a> {
    pub(crate) g: &'a HeapGraph,
    pub(crate) notes: &'a GraphNotes,
    builtins: Vec<Builtin>,
    /// The labels `.__qualname__` and `.__name__`, if any edge has them.
    name_labels: [Option<LabelId>; 2],
}

impl<'a> Naming<'a> {
    pub(crate) fn new(g: &'a HeapGraph, notes: &'a GraphNotes) -> Self {
        let builtins = (0..g.types().len())
            .map(|t| match notes.types.get(t) {
                Some(p) if p.module == "builtins" => match p.qualname.as_str() {
                    "str" => Builtin::Str,
                    "int" | "float" | "bool" | "complex" => Builtin::Number,
                    "function" => Builtin::Function,
                    "code" => Builtin::Code,
                    _ => Builtin::Other,
                },
                _ => Builtin::Other,
            })
            .collect();
        let name_labels = match g.edge_labels() {
            Some(l) => [".__qualname__", ".__name__"].map(|t| l.table.id_of_text(t)),
            None => [None, None],
        };
        Naming {
            g,
            notes,
            builtins,
            name_labels,
        }
    }

    pub(crate) fn builtin(&self, t: TypeId) -> Builtin {
        self.builtins[t.index()]
    }

    /// Heapy's kind name of a type (`int`, `app.models.User`).
    pub(crate) fn type_name(&self, t: TypeId) -> &'a str {
        &self.g.type_record(t).name
    }

    /// A function's `__qualname__` (else `__name__`), read from the text of the str
    /// its edge of that label leads to: the snapshot keeps no name for functions, but
    /// keeps the strs' texts.
    pub(crate) fn function_name(&self, n: NodeId) -> Option<&'a str> {
        let labels = self.g.edge_labels()?;
        for wanted in self.name_labels.iter().flatten() {
            let range = self.g.edge_range(n);
            let found = self
                .g
                .referents(n)
                .iter()
                .zip(&labels.per_edge()[range])
                .find(|(_, l)| *l == wanted);
            if let Some(text) = found.and_then(|(&t, _)| self.notes.text(t)) {
                return Some(unquote(text));
            }
        }
        None
    }

    /// The texts in node order.
    pub(crate) fn texts(&self) -> InOrder<impl Iterator<Item = (NodeId, &'a str)> + 'a> {
        InOrder::new(self.notes.texts.iter())
    }

    /// `(dict, owner)` in dict order.
    pub(crate) fn owners(&self) -> Vec<(NodeId, NodeId)> {
        let mut owners = self.notes.dict_owners.clone();
        owners.sort_unstable();
        owners
    }

    /// `(node, root index)` in node order: which roots name each node.
    pub(crate) fn root_members(&self) -> Vec<(NodeId, usize)> {
        let mut members: Vec<(NodeId, usize)> = self
            .g
            .roots()
            .iter()
            .enumerate()
            .map(|(k, &(_, n))| (n, k))
            .collect();
        members.sort_unstable();
        members
    }
}

/// A str's repr without its outer quotes (`'it\'s'` -> `it\'s`: escapes stay), any
/// other text as it is.
pub(crate) fn unquote(text: &str) -> &str {
    let b = text.as_bytes();
    match (b.first(), b.last()) {
        (Some(&q), Some(&e)) if b.len() >= 2 && q == e && (q == b'\'' || q == b'"') => {
            &text[1..text.len() - 1]
        }
        _ => text,
    }
}

/// A cursor over `(node, value)` pairs sorted by node, asked about increasing nodes.
pub(crate) struct InOrder<I: Iterator> {
    it: Peekable<I>,
}

impl<T, I: Iterator<Item = (NodeId, T)>> InOrder<I> {
    pub(crate) fn new(it: I) -> Self {
        InOrder { it: it.peekable() }
    }

    /// The value of `n` (the first, if several), skipping those of earlier nodes.
    pub(crate) fn at(&mut self, n: NodeId) -> Option<T> {
        while self.it.peek().is_some_and(|(m, _)| *m < n) {
            self.it.next();
        }
        if self.it.peek().is_some_and(|(m, _)| *m == n) {
            return self.it.next().map(|(_, v)| v);
        }
        None
    }

    /// Every value of `n`, in order, passed to `each`.
    pub(crate) fn each_at(&mut self, n: NodeId, mut each: impl FnMut(T)) {
        while let Some(v) = self.at(n) {
            each(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_strips_one_pair_of_matching_quotes_only() {
        assert_eq!(unquote("'abc'"), "abc");
        assert_eq!(unquote("\"it's\""), "it's");
        assert_eq!(unquote("'"), "'");
        assert_eq!(unquote("'a\""), "'a\"");
        assert_eq!(unquote("42"), "42");
        assert_eq!(unquote(""), "");
    }

    #[test]
    fn a_cursor_finds_values_of_increasing_nodes() {
        let pairs = [(NodeId(1), 'a'), (NodeId(1), 'b'), (NodeId(4), 'c')];
        let mut c = InOrder::new(pairs.into_iter());
        assert_eq!(c.at(NodeId(0)), None);
        let mut got = Vec::new();
        c.each_at(NodeId(1), |v| got.push(v));
        assert_eq!(got, vec!['a', 'b']);
        assert_eq!(c.at(NodeId(3)), None);
        assert_eq!(c.at(NodeId(5)), None);
    }
}
