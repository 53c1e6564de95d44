//! Reading a resolved property map into typed values, then accounting for every property
//! not read: a note or a warning for the ones Nimbus knows and ignores, a warning for the
//! unknown ones. Nothing in a template is dropped silently.

use crate::ast::{Entry, Node};
use crate::diag::{Diags, Fail, Pos, Res};

/// What to say about a property Nimbus recognises but does not use.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Known {
    /// Harmless on Nimbus: a note with this reason.
    Note(&'static str),
    /// Changes behaviour Nimbus does not reproduce: a warning with this reason.
    Warn(&'static str),
}

/// A resolved property map being read.
pub(crate) struct Props {
    /// "AWS::Serverless::Function" or "event 'Api'", for messages about leftovers.
    owner: String,
    /// "" for a resource's properties, "EphemeralStorage." for a nested map: prefixes the
    /// names in type errors ("EphemeralStorage.Size must be an integer").
    prefix: String,
    /// Where the map is: missing-property errors point here.
    pub pos: Pos,
    entries: Vec<Option<Entry>>,
}

impl Props {
    /// Reads `node` (a resolved map, or nothing: no properties) for `owner`.
    pub fn new(node: Option<Node>, owner: &str, pos: Pos) -> Res<Props> {
        Props::nested(node, owner, "", pos)
    }

    fn nested(node: Option<Node>, owner: &str, prefix: &str, pos: Pos) -> Res<Props> {
        let (pos, entries) = match node {
            Some(n) => {
                let pos = n.pos;
                let what = if prefix.is_empty() {
                    "Properties".to_string()
                } else {
                    prefix.trim_end_matches('.').to_string()
                };
                let map = n.into_map(&what)?;
                (pos, map.entries.into_iter().map(Some).collect())
            }
            None => (pos, Vec::new()),
        };
        Ok(Props {
            owner: owner.to_string(),
            prefix: prefix.to_string(),
            pos,
            entries,
        })
    }

    /// The full name of property `key` for messages.
    pub fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Takes the entry under `key`.
    pub fn take_entry(&mut self, key: &str) -> Option<Entry> {
        self.entries
            .iter_mut()
            .find(|e| e.as_ref().is_some_and(|e| e.key == key))
            .and_then(Option::take)
    }

    /// Where the key `key` is written, if present.
    pub fn entry_pos(&self, key: &str) -> Option<Pos> {
        self.entries
            .iter()
            .flatten()
            .find(|e| e.key == key)
            .map(|e| e.key_pos)
    }

    /// Takes the value under `key`.
    pub fn take(&mut self, key: &str) -> Option<Node> {
        self.take_entry(key).map(|e| e.value)
    }

    pub fn text(&mut self, key: &str) -> Res<Option<String>> {
        let what = self.name(key);
        self.take(key).map(|n| n.text(&what)).transpose()
    }

    /// A string with the place it was written.
    pub fn text_at(&mut self, key: &str) -> Res<Option<(String, Pos)>> {
        let what = self.name(key);
        self.take(key)
            .map(|n| n.text(&what).map(|t| (t, n.pos)))
            .transpose()
    }

    pub fn required_text(&mut self, key: &str) -> Res<String> {
        let missing = Fail::missing(self.pos, format!("{}: {}", self.owner, self.name(key)));
        self.text(key)?.ok_or(missing)
    }

    /// An integer within `min..=max`.
    pub fn int_in(&mut self, key: &str, min: i64, max: i64) -> Res<Option<i64>> {
        let what = self.name(key);
        let Some(node) = self.take(key) else {
            return Ok(None);
        };
        let value = node.int(&what)?;
        if value < min || value > max {
            return Err(Fail::invalid(
                node.pos,
                format!("{what} must be between {min} and {max}, not {value}"),
            ));
        }
        Ok(Some(value))
    }

    pub fn number(&mut self, key: &str) -> Res<Option<f64>> {
        let what = self.name(key);
        self.take(key).map(|n| n.number(&what)).transpose()
    }

    pub fn boolean(&mut self, key: &str) -> Res<Option<bool>> {
        let what = self.name(key);
        self.take(key).map(|n| n.boolean(&what)).transpose()
    }

    pub fn texts(&mut self, key: &str) -> Res<Option<Vec<String>>> {
        let what = self.name(key);
        self.take(key).map(|n| n.texts(&what)).transpose()
    }

    /// A nested map, read the same way.
    pub fn map(&mut self, key: &str) -> Res<Option<Props>> {
        let prefix = format!("{}{key}.", self.prefix);
        let owner = self.owner.clone();
        let pos = self.pos;
        match self.take(key) {
            Some(n) => Props::nested(Some(n), &owner, &prefix, pos).map(Some),
            None => Ok(None),
        }
    }

    /// Reports every property not taken: as `known` says, else as unknown.
    pub fn finish(self, diags: &mut Diags, known: &[(&str, Known)]) {
        for entry in self.entries.into_iter().flatten() {
            let name = format!("{}{}", self.prefix, entry.key);
            match known.iter().find(|(k, _)| *k == entry.key) {
                Some((_, Known::Note(why))) => diags.note(entry.key_pos, format!("{name} {why}")),
                Some((_, Known::Warn(why))) => diags.warn(entry.key_pos, format!("{name} {why}")),
                None => diags.warn(
                    entry.key_pos,
                    format!("unknown property '{name}' of {}, ignored", self.owner),
                ),
            }
        }
    }
}
