//! Short texts of some nodes (value renderings, module names), stored as one string
//! buffer with offsets: a heap of ten million numbers and strings has ten million
//! texts, and a `String` each would cost more memory than the graph itself.

use crate::NodeId;

/// Texts of nodes in increasing node order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeTexts {
    nodes: Vec<NodeId>,
    /// `data[ends[i - 1]..ends[i]]` is the text of `nodes[i]`.
    ends: Vec<u64>,
    data: String,
}

impl NodeTexts {
    /// Appends the text of `node`, which must come after every node already in.
    pub fn push(&mut self, node: NodeId, text: &str) -> Result<(), NodeId> {
        if self.nodes.last().is_some_and(|&last| last >= node) {
            return Err(node);
        }
        self.nodes.push(node);
        self.data.push_str(text);
        self.ends.push(self.data.len() as u64);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The text of `node`, if it has one.
    pub fn get(&self, node: NodeId) -> Option<&str> {
        self.nodes.binary_search(&node).ok().map(|i| self.at(i))
    }

    fn at(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.data[start..self.ends[i] as usize]
    }

    /// `(node, text)` in node order.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, &str)> + '_ {
        self.nodes.iter().enumerate().map(|(i, &n)| (n, self.at(i)))
    }

    /// The last node that has a text.
    pub fn last_node(&self) -> Option<NodeId> {
        self.nodes.last().copied()
    }

    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * 4 + self.ends.capacity() * 8 + self.data.capacity()
    }
}

impl<'a> FromIterator<(NodeId, &'a str)> for NodeTexts {
    /// Texts from pairs in any order (sorted here; a later duplicate is dropped).
    fn from_iter<I: IntoIterator<Item = (NodeId, &'a str)>>(pairs: I) -> Self {
        let mut pairs: Vec<(NodeId, &str)> = pairs.into_iter().collect();
        pairs.sort_by_key(|&(n, _)| n);
        pairs.dedup_by_key(|&mut (n, _)| n);
        let mut out = NodeTexts::default();
        for (n, t) in pairs {
            out.push(n, t).expect("sorted and distinct");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_by_node_in_one_buffer() {
        let mut t = NodeTexts::default();
        t.push(NodeId(2), "'a'").unwrap();
        t.push(NodeId(5), "").unwrap();
        t.push(NodeId(9), "clé").unwrap();
        assert_eq!(t.push(NodeId(9), "again"), Err(NodeId(9)));
        assert_eq!(t.get(NodeId(2)), Some("'a'"));
        assert_eq!(t.get(NodeId(5)), Some(""));
        assert_eq!(t.get(NodeId(9)), Some("clé"));
        assert_eq!(t.get(NodeId(3)), None);
        let again: NodeTexts = [(NodeId(9), "clé"), (NodeId(2), "'a'"), (NodeId(5), "")]
            .into_iter()
            .collect();
        assert_eq!(again, t);
        assert_eq!(t.iter().count(), 3);
    }
}
