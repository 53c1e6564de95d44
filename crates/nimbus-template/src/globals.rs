//! `Globals`: properties shared by every function (and API), merged by SAM's rules
//! (samtranslator `globals.py`):
//!
//! - a primitive (scalar, or an intrinsic function call): the function's own value wins;
//! - lists: concatenated, global items first, no de-duplication;
//! - maps: merged key by key with these same rules;
//! - different kinds: the function's own value wins.
//!
//! The merge happens on the template tree before any intrinsic is evaluated, as SAM's.

use std::collections::HashMap;

use crate::ast::{Entry, Map, Node, Value};
use crate::diag::{Diags, Fail, Res};
use crate::eval::Budget;

/// Function properties `Globals.Function` may not set (SAM rejects them too).
const NOT_GLOBAL: &[&str] = &["Role", "Policies", "FunctionName", "Events"];

/// `Globals` sections of resource types Nimbus does not support.
const UNSUPPORTED_SECTIONS: &[&str] = &[
    "SimpleTable",
    "StateMachine",
    "LayerVersion",
    "CapacityProvider",
    "WebSocketApi",
];

/// The parts of `Globals` that matter.
#[derive(Debug, Default)]
pub(crate) struct Globals {
    /// `Globals.Function`, merged into each function.
    pub function: Option<Node>,
    /// `Globals.Api.StageName`: the stage of the implicit REST API (`Prod` by default).
    pub api_stage: Option<Node>,
    /// `Globals.HttpApi.StageName`.
    pub http_api_stage: Option<Node>,
}

/// Reads the `Globals` section.
pub(crate) fn read(section: Option<&Node>, diags: &mut Diags) -> Res<Globals> {
    let mut globals = Globals::default();
    let Some(section) = section else {
        return Ok(globals);
    };
    for entry in &section.map("Globals")?.entries {
        match entry.key.as_str() {
            "Function" => {
                let map = entry.value.map("Globals.Function")?;
                if let Some(bad) = map
                    .entries
                    .iter()
                    .find(|e| NOT_GLOBAL.contains(&e.key.as_str()))
                {
                    return Err(Fail::invalid(
                        bad.key_pos,
                        format!(
                            "Globals.Function cannot set {} (SAM allows it only on each function)",
                            bad.key
                        ),
                    ));
                }
                globals.function = Some(entry.value.clone());
            }
            "Api" | "HttpApi" => {
                let map = entry.value.map(&format!("Globals.{}", entry.key))?;
                let mut ignored = Vec::new();
                for e in &map.entries {
                    if e.key == "StageName" {
                        let stage = Some(e.value.clone());
                        if entry.key == "Api" {
                            globals.api_stage = stage;
                        } else {
                            globals.http_api_stage = stage;
                        }
                    } else {
                        ignored.push(e.key.as_str());
                    }
                }
                if !ignored.is_empty() {
                    diags.note(
                        entry.key_pos,
                        format!(
                            "Globals.{}: {} ignored: Nimbus serves every route on its gateway listener",
                            entry.key,
                            ignored.join(", ")
                        ),
                    );
                }
            }
            s if UNSUPPORTED_SECTIONS.contains(&s) => diags.warn(
                entry.key_pos,
                format!("Globals.{s}: Nimbus does not support these resources, ignored"),
            ),
            s => diags.warn(
                entry.key_pos,
                format!("unknown Globals section '{s}', ignored"),
            ),
        }
    }
    Ok(globals)
}

/// Which globals a resource opts out of (`IgnoreGlobals: "*"` or a list of properties).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ignore {
    None,
    All,
    Some(Vec<String>),
}

/// Reads a resource's `IgnoreGlobals` attribute.
pub(crate) fn ignore(node: Option<&Node>) -> Res<Ignore> {
    let Some(node) = node else {
        return Ok(Ignore::None);
    };
    match &node.value {
        Value::Scalar(s) if s.text == "*" => Ok(Ignore::All),
        Value::List(_) => Ok(Ignore::Some(node.texts("IgnoreGlobals")?)),
        _ => Err(Fail::ty(
            node.pos,
            "IgnoreGlobals",
            "\"*\" or a list of properties",
        )),
    }
}

/// A function's properties with `Globals.Function` merged in.
pub(crate) fn apply(
    global: Option<&Node>,
    local: Node,
    ignore: &Ignore,
    budget: &Budget,
) -> Res<Node> {
    let Some(global) = global else {
        return Ok(local);
    };
    let mut global = global.clone();
    match ignore {
        Ignore::All => return Ok(local),
        Ignore::Some(keys) => {
            if let Value::Map(m) = &mut global.value {
                m.entries.retain(|e| !keys.contains(&e.key));
            }
        }
        Ignore::None => {}
    }
    budget.charge(global.count(), local.pos)?;
    Ok(merge(global, local))
}

/// SAM's merge of a global value and a local one.
pub(crate) fn merge(global: Node, local: Node) -> Node {
    match (global.value, local.value) {
        (Value::Map(g), Value::Map(l)) if !is_call(&g) && !is_call(&l) => Node {
            pos: local.pos,
            value: Value::Map(merge_maps(g, l)),
        },
        (Value::List(mut g), Value::List(l)) => {
            g.extend(l);
            Node {
                pos: local.pos,
                value: Value::List(g),
            }
        }
        (_, value) => Node {
            pos: local.pos,
            value,
        },
    }
}

fn merge_maps(global: Map, local: Map) -> Map {
    let mut out = global;
    let mut index: HashMap<String, usize> = out
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.key.clone(), i))
        .collect();
    for entry in local.entries {
        match index.get(&entry.key) {
            Some(&i) => {
                let placeholder = Node::string(entry.value.pos, "");
                let g = std::mem::replace(&mut out.entries[i].value, placeholder);
                out.entries[i] = Entry {
                    key: entry.key,
                    key_pos: entry.key_pos,
                    value: merge(g, entry.value),
                };
            }
            None => {
                index.insert(entry.key.clone(), out.entries.len());
                out.entries.push(entry);
            }
        }
    }
    out
}

/// An intrinsic call is a primitive to the merge, as in SAM.
fn is_call(map: &Map) -> bool {
    map.intrinsic().is_some()
}
