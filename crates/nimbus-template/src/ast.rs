//! The template tree: YAML scalars, lists and maps, each with the place it came from.
//!
//! Short-form intrinsics (`!Ref X`) are already rewritten to their long form (`{Ref: X}`)
//! by the reader, so the evaluator knows one spelling. Scalars keep the text as written, so
//! `1.0` stays `"1.0"` and `0755` stays `"0755"` when a string is wanted — as
//! CloudFormation, which turns every scalar into a string, does.

use crate::diag::{Fail, Pos, Res};

/// One node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where it starts.
    pub pos: Pos,
    /// What it is.
    pub value: Value,
}

/// A scalar, a list or a map.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar.
    Scalar(Scalar),
    /// A sequence.
    List(Vec<Node>),
    /// A mapping, in written order.
    Map(Map),
}

/// A scalar: its text as written and what YAML's core schema makes of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// The text (without quotes).
    pub text: String,
    /// Its resolved type.
    pub kind: ScalarKind,
}

/// The YAML 1.2 core-schema type of a scalar (a quoted scalar is always a string).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScalarKind {
    /// A string.
    Str,
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
    /// `null`, `~` or nothing.
    Null,
}

/// A mapping: entries in written order (keys are unique: the reader rejects duplicates).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map {
    /// The entries.
    pub entries: Vec<Entry>,
}

/// One `key: value` of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key's text.
    pub key: String,
    /// Where the key is.
    pub key_pos: Pos,
    /// The value.
    pub value: Node,
}

impl Map {
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The entry under `key`.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// Removes and returns the entry under `key`.
    pub fn remove(&mut self, key: &str) -> Option<Entry> {
        let i = self.entries.iter().position(|e| e.key == key)?;
        Some(self.entries.remove(i))
    }

    /// The single entry of an intrinsic-function map (`{Ref: X}`, `{Fn::Sub: …}`), if this
    /// map is one.
    pub fn intrinsic(&self) -> Option<&Entry> {
        match self.entries.as_slice() {
            [e] if is_intrinsic_key(&e.key) => Some(e),
            _ => None,
        }
    }
}

/// True for `Ref` and `Fn::*`: the keys that make a one-entry map a function call.
pub fn is_intrinsic_key(key: &str) -> bool {
    key == "Ref" || key.starts_with("Fn::")
}

impl Node {
    /// A string scalar at `pos`.
    pub fn string(pos: Pos, text: impl Into<String>) -> Node {
        Node {
            pos,
            value: Value::Scalar(Scalar {
                text: text.into(),
                kind: ScalarKind::Str,
            }),
        }
    }

    /// A list of string scalars at `pos`.
    pub fn strings(pos: Pos, items: impl IntoIterator<Item = String>) -> Node {
        Node {
            pos,
            value: Value::List(items.into_iter().map(|s| Node::string(pos, s)).collect()),
        }
    }

    /// The map, if this node is one.
    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The map, or "`what` must be a map" here.
    pub fn map(&self, what: &str) -> Res<&Map> {
        self.as_map()
            .ok_or_else(|| Fail::ty(self.pos, what, "a map"))
    }

    /// Consumes the node into its map, or "`what` must be a map".
    pub fn into_map(self, what: &str) -> Res<Map> {
        match self.value {
            Value::Map(m) => Ok(m),
            _ => Err(Fail::ty(self.pos, what, "a map")),
        }
    }

    /// The list, or "`what` must be a list".
    pub fn list(&self, what: &str) -> Res<&[Node]> {
        match &self.value {
            Value::List(items) => Ok(items),
            _ => Err(Fail::ty(self.pos, what, "a list")),
        }
    }

    /// The text of a non-null scalar (numbers and booleans as written), or "`what` must be
    /// a string".
    pub fn text(&self, what: &str) -> Res<String> {
        match &self.value {
            Value::Scalar(s) if s.kind != ScalarKind::Null => Ok(s.text.clone()),
            _ => Err(Fail::ty(self.pos, what, "a string")),
        }
    }

    /// An integer, also from a string of digits (CloudFormation accepts `"128"`).
    pub fn int(&self, what: &str) -> Res<i64> {
        match &self.value {
            Value::Scalar(Scalar {
                kind: ScalarKind::Int(i),
                ..
            }) => Ok(*i),
            Value::Scalar(Scalar {
                kind: ScalarKind::Str,
                text,
            }) => text
                .trim()
                .parse::<i64>()
                .map_err(|_| Fail::ty(self.pos, what, "an integer")),
            _ => Err(Fail::ty(self.pos, what, "an integer")),
        }
    }

    /// A number, also from a numeric string.
    pub fn number(&self, what: &str) -> Res<f64> {
        match &self.value {
            Value::Scalar(Scalar {
                kind: ScalarKind::Int(i),
                ..
            }) => Ok(*i as f64),
            Value::Scalar(Scalar {
                kind: ScalarKind::Float(x),
                ..
            }) if x.is_finite() => Ok(*x),
            Value::Scalar(Scalar {
                kind: ScalarKind::Str,
                text,
            }) => match text.trim().parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(x),
                _ => Err(Fail::ty(self.pos, what, "a number")),
            },
            _ => Err(Fail::ty(self.pos, what, "a number")),
        }
    }

    /// A boolean, also from the strings `"true"` / `"false"` in any case.
    pub fn boolean(&self, what: &str) -> Res<bool> {
        match &self.value {
            Value::Scalar(Scalar {
                kind: ScalarKind::Bool(b),
                ..
            }) => Ok(*b),
            Value::Scalar(Scalar {
                kind: ScalarKind::Str,
                text,
            }) if text.eq_ignore_ascii_case("true") => Ok(true),
            Value::Scalar(Scalar {
                kind: ScalarKind::Str,
                text,
            }) if text.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err(Fail::ty(self.pos, what, "a boolean")),
        }
    }

    /// A list of strings.
    pub fn texts(&self, what: &str) -> Res<Vec<String>> {
        self.list(what)?.iter().map(|n| n.text(what)).collect()
    }

    /// How many nodes this subtree has (itself included).
    pub fn count(&self) -> usize {
        match &self.value {
            Value::Scalar(_) => 1,
            Value::List(items) => 1 + items.iter().map(Node::count).sum::<usize>(),
            Value::Map(m) => 1 + m.entries.iter().map(|e| e.value.count()).sum::<usize>(),
        }
    }

    /// The value as JSON: strings, numbers, booleans, null, arrays, objects.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Scalar(s) => match s.kind {
                ScalarKind::Str => serde_json::Value::String(s.text.clone()),
                ScalarKind::Int(i) => serde_json::Value::from(i),
                ScalarKind::Float(x) => serde_json::Number::from_f64(x)
                    .map(serde_json::Value::Number)
                    .unwrap_or_else(|| serde_json::Value::String(s.text.clone())),
                ScalarKind::Bool(b) => serde_json::Value::Bool(b),
                ScalarKind::Null => serde_json::Value::Null,
            },
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(m) => serde_json::Value::Object(
                m.entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}
