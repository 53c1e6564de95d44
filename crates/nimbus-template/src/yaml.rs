//! YAML text → [`Node`] tree, from `saphyr-parser`'s event stream.
//!
//! Building the tree from events with an explicit stack (instead of a recursive loader) lets
//! us stop at [`DEPTH_MAX`] before anything deep is built, count nodes (alias expansions
//! included) against [`NODES_MAX`], keep each scalar's text and quoting, and rewrite the
//! short intrinsic tags (`!Ref`, `!GetAtt`, …) into their long form as they arrive.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span, Tag};

use crate::ast::{Entry, Map, Node, Scalar, ScalarKind, Value};
use crate::diag::{ErrorKind, Fail, Pos, Res};
use crate::limits::{DEPTH_MAX, NODES_MAX};

/// The YAML 1.2 core-schema handle (`!!str` is `tag:yaml.org,2002:str`).
const CORE_SCHEMA_HANDLE: &str = "tag:yaml.org,2002:";

/// Short-form tags CloudFormation knows, with the long-form key each stands for.
const SHORT_TAGS: &[(&str, &str)] = &[
    ("Ref", "Ref"),
    ("Condition", "Condition"),
    ("GetAtt", "Fn::GetAtt"),
    ("Sub", "Fn::Sub"),
    ("Join", "Fn::Join"),
    ("Select", "Fn::Select"),
    ("Split", "Fn::Split"),
    ("If", "Fn::If"),
    ("Equals", "Fn::Equals"),
    ("Not", "Fn::Not"),
    ("And", "Fn::And"),
    ("Or", "Fn::Or"),
    ("FindInMap", "Fn::FindInMap"),
    ("GetAZs", "Fn::GetAZs"),
    ("Base64", "Fn::Base64"),
    ("ImportValue", "Fn::ImportValue"),
    ("Cidr", "Fn::Cidr"),
    ("Transform", "Fn::Transform"),
    ("Length", "Fn::Length"),
    ("ToJsonString", "Fn::ToJsonString"),
];

/// Parses one YAML document into a tree.
pub(crate) fn parse(text: &str) -> Res<Node> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut builder = Builder::default();
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| syntax_error(text, &e))?;
        builder.event(event, span)?;
    }
    builder
        .root
        .ok_or_else(|| Fail::invalid(Pos::new(1, 1), "the template is empty"))
}

fn pos_of(marker: Marker) -> Pos {
    Pos::new(marker.line(), marker.col() + 1)
}

/// A scanner error at its place. saphyr-parser 0.3.4 advances the column over a `%`
/// directive's name and parameters by their bytes, not characters, so an error later on
/// such a line can point past its end: the column is kept within the line.
fn syntax_error(text: &str, e: &ScanError) -> Fail {
    let mut pos = pos_of(*e.marker());
    if let Some(chars) = line_chars(text, pos.line) {
        pos.column = pos.column.min(chars + 1);
    }
    Fail::new(pos, ErrorKind::Syntax(e.info().to_string()))
}

/// The characters of 1-based line `line`, lines ending as YAML ends them (`\r\n`, `\r`,
/// `\n`).
fn line_chars(text: &str, line: usize) -> Option<usize> {
    let mut rest = text;
    for _ in 1..line {
        let end = rest.find(['\r', '\n'])?;
        let after = if rest[end..].starts_with("\r\n") {
            end + 2
        } else {
            end + 1
        };
        rest = &rest[after..];
    }
    let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
    Some(rest[..end].chars().count())
}

/// A collection being read.
struct Frame {
    pos: Pos,
    anchor: usize,
    tag: Option<Tag>,
    body: Body,
}

enum Body {
    List(Vec<Node>),
    Map {
        map: Map,
        /// The key read, waiting for its value.
        key: Option<(String, Pos)>,
        /// Keys seen, to reject duplicates in O(1).
        seen: HashSet<String>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    documents: usize,
    anchors: HashMap<usize, Node>,
    nodes: usize,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, span: Span) -> Res<()> {
        let pos = pos_of(span.start);
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(Fail::invalid(
                        pos,
                        "a template is a single YAML document (found a second one)",
                    ));
                }
                Ok(())
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, pos)?;
                let node = scalar(text.into_owned(), style, tag.as_deref(), pos)?;
                self.finish(node, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(pos, anchor, tag, Body::List(Vec::new()))
            }
            Event::MappingStart(anchor, tag) => self.open(
                pos,
                anchor,
                tag,
                Body::Map {
                    map: Map::default(),
                    key: None,
                    seen: HashSet::new(),
                },
            ),
            Event::SequenceEnd | Event::MappingEnd => self.close(pos),
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id) else {
                    return Err(Fail::invalid(pos, "alias to an unknown anchor"));
                };
                let mut node = node.clone();
                self.count(node.count(), pos)?;
                node.pos = pos;
                self.push(node)
            }
        }
    }

    fn count(&mut self, n: usize, pos: Pos) -> Res<()> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > NODES_MAX {
            return Err(Fail::limit(
                pos,
                format!("the template has more than {NODES_MAX} YAML nodes (aliases expanded)"),
            ));
        }
        Ok(())
    }

    fn open(
        &mut self,
        pos: Pos,
        anchor: usize,
        tag: Option<std::borrow::Cow<'_, Tag>>,
        body: Body,
    ) -> Res<()> {
        self.count(1, pos)?;
        if self.stack.len() >= DEPTH_MAX {
            return Err(Fail::limit(
                pos,
                format!("the template nests deeper than {DEPTH_MAX} levels"),
            ));
        }
        self.stack.push(Frame {
            pos,
            anchor,
            tag: tag.map(std::borrow::Cow::into_owned),
            body,
        });
        Ok(())
    }

    fn close(&mut self, pos: Pos) -> Res<()> {
        let Some(frame) = self.stack.pop() else {
            return Err(Fail::invalid(pos, "unbalanced collection end"));
        };
        let value = match frame.body {
            Body::List(items) => Value::List(items),
            Body::Map { map, key: None, .. } => Value::Map(map),
            Body::Map { key: Some(_), .. } => {
                return Err(Fail::invalid(pos, "a mapping key has no value"));
            }
        };
        let node = Node {
            pos: frame.pos,
            value,
        };
        let node = match &frame.tag {
            Some(tag) => apply_tag(node, tag)?,
            None => node,
        };
        self.finish(node, frame.anchor)
    }

    /// Records an anchored node, then hands the node to its parent.
    fn finish(&mut self, node: Node, anchor: usize) -> Res<()> {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.push(node)
    }

    fn push(&mut self, node: Node) -> Res<()> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        match &mut frame.body {
            Body::List(items) => items.push(node),
            Body::Map { map, key, seen } => match key.take() {
                None => {
                    let pos = node.pos;
                    *key = Some((key_text(node)?, pos));
                }
                Some((k, key_pos)) => {
                    if !seen.insert(k.clone()) {
                        return Err(Fail::invalid(key_pos, format!("duplicate key '{k}'")));
                    }
                    map.entries.push(Entry {
                        key: k,
                        key_pos,
                        value: node,
                    });
                }
            },
        }
        Ok(())
    }
}

/// A mapping key must be a plain or quoted scalar; its text is the key.
fn key_text(node: Node) -> Res<String> {
    match node.value {
        Value::Scalar(s) => Ok(s.text),
        _ => Err(Fail::invalid(node.pos, "a mapping key must be a scalar")),
    }
}

/// A scalar node: core-schema typing for plain scalars, `!!type` tags honoured, short
/// intrinsic tags rewritten.
fn scalar(text: String, style: ScalarStyle, tag: Option<&Tag>, pos: Pos) -> Res<Node> {
    let kind = match tag {
        Some(t) if t.handle == CORE_SCHEMA_HANDLE => core_tagged(&text, &t.suffix, pos)?,
        _ if style != ScalarStyle::Plain => ScalarKind::Str,
        _ => resolve_plain(&text),
    };
    let node = Node {
        pos,
        value: Value::Scalar(Scalar { text, kind }),
    };
    match tag {
        Some(t) if t.handle != CORE_SCHEMA_HANDLE => apply_tag(node, t),
        _ => Ok(node),
    }
}

fn core_tagged(text: &str, suffix: &str, pos: Pos) -> Res<ScalarKind> {
    let bad = || Fail::invalid(pos, format!("'{text}' is not a valid !!{suffix}"));
    Ok(match suffix {
        "int" => ScalarKind::Int(text.parse().map_err(|_| bad())?),
        "float" => ScalarKind::Float(text.parse().map_err(|_| bad())?),
        "bool" => ScalarKind::Bool(text.parse().map_err(|_| bad())?),
        "null" => ScalarKind::Null,
        _ => ScalarKind::Str,
    })
}

/// Rewrites `!Ref x` into `{Ref: x}` (and so on); any other local tag is an error, since
/// CloudFormation would reject it too.
fn apply_tag(node: Node, tag: &Tag) -> Res<Node> {
    if tag.handle == CORE_SCHEMA_HANDLE {
        return Ok(node);
    }
    let long = SHORT_TAGS
        .iter()
        .find(|(short, _)| tag.handle == "!" && *short == tag.suffix)
        .map(|(_, long)| *long);
    let Some(long) = long else {
        return Err(Fail::invalid(node.pos, format!("unknown tag '{tag}'")));
    };
    let pos = node.pos;
    Ok(Node {
        pos,
        value: Value::Map(Map {
            entries: vec![Entry {
                key: long.to_string(),
                key_pos: pos,
                value: node,
            }],
        }),
    })
}

/// YAML 1.2 core schema for an untagged plain scalar.
fn resolve_plain(text: &str) -> ScalarKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarKind::Null,
        "true" | "True" | "TRUE" => return ScalarKind::Bool(true),
        "false" | "False" | "FALSE" => return ScalarKind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return ScalarKind::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return ScalarKind::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return ScalarKind::Float(f64::NAN),
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return ScalarKind::Int(i);
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return ScalarKind::Int(i);
    }
    if is_decimal_int(text) {
        if let Ok(i) = text.parse::<i64>() {
            return ScalarKind::Int(i);
        }
        return ScalarKind::Str;
    }
    if is_core_float(text)
        && let Ok(x) = text.parse::<f64>()
    {
        return ScalarKind::Float(x);
    }
    ScalarKind::Str
}

/// `[-+]?[0-9]+`
fn is_decimal_int(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_core_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (!int.is_empty() || !frac.is_empty())
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
                && !(int.is_empty() && frac.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(is_decimal_int);
    mantissa_ok && exponent_ok
}
