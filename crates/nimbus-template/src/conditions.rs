//! `Conditions`: every named condition evaluated once, in any order (a condition may refer
//! to one defined later), with reference cycles reported.

use std::collections::BTreeMap;

use crate::ast::{Map, Node, Value};
use crate::diag::{Fail, Pos, Res};
use crate::eval::Env;
use crate::limits::{CONDITION_LIST_RANGE, EVAL_DEPTH_MAX};

/// Evaluates the whole `Conditions` section. `env`'s own condition table is not used.
pub(crate) fn evaluate(section: Option<&Node>, env: &Env<'_>) -> Res<BTreeMap<String, bool>> {
    let empty = Map::default();
    let definitions = match section {
        Some(node) => node.map("Conditions")?,
        None => &empty,
    };
    let mut state = State {
        definitions,
        values: BTreeMap::new(),
        visiting: Vec::new(),
    };
    for entry in &definitions.entries {
        state.named(&entry.key, entry.key_pos, env, 0)?;
    }
    Ok(state.values)
}

struct State<'a> {
    definitions: &'a Map,
    values: BTreeMap<String, bool>,
    /// The chain being evaluated, to catch `A → B → A`.
    visiting: Vec<String>,
}

impl State<'_> {
    fn named(&mut self, name: &str, pos: Pos, env: &Env<'_>, depth: usize) -> Res<bool> {
        if let Some(v) = self.values.get(name) {
            return Ok(*v);
        }
        if self.visiting.iter().any(|v| v == name) {
            return Err(Fail::invalid(
                pos,
                format!(
                    "condition '{name}' refers to itself ({} → {name})",
                    self.visiting.join(" → ")
                ),
            ));
        }
        let definition = self
            .definitions
            .get(name)
            .ok_or_else(|| Fail::invalid(pos, format!("unknown condition '{name}'")))?;
        self.visiting.push(name.to_string());
        let value = self.expression(definition, env, depth + 1)?;
        self.visiting.pop();
        self.values.insert(name.to_string(), value);
        Ok(value)
    }

    fn expression(&mut self, node: &Node, env: &Env<'_>, depth: usize) -> Res<bool> {
        if depth > EVAL_DEPTH_MAX {
            return Err(Fail::limit(
                node.pos,
                format!("conditions nest deeper than {EVAL_DEPTH_MAX} levels"),
            ));
        }
        let call = match node.as_map().map(|m| m.entries.as_slice()) {
            Some([entry]) => entry,
            _ => {
                return Err(Fail::invalid(
                    node.pos,
                    "a condition is Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition",
                ));
            }
        };
        let arg = &call.value;
        match call.key.as_str() {
            "Condition" => {
                let name = arg.text("Condition's argument")?;
                self.named(&name, arg.pos, env, depth + 1)
            }
            "Fn::Equals" => {
                let items = arg.list("Fn::Equals's argument")?;
                let [a, b] = items else {
                    return Err(Fail::invalid(node.pos, "Fn::Equals takes [value, value]"));
                };
                Ok(comparable(env, a, depth)? == comparable(env, b, depth)?)
            }
            "Fn::Not" => {
                let items = arg.list("Fn::Not's argument")?;
                let [inner] = items else {
                    return Err(Fail::invalid(node.pos, "Fn::Not takes [condition]"));
                };
                Ok(!self.expression(inner, env, depth + 1)?)
            }
            "Fn::And" | "Fn::Or" => {
                let items = arg.list(&format!("{}'s argument", call.key))?;
                let (min, max) = CONDITION_LIST_RANGE;
                if items.len() < min || items.len() > max {
                    return Err(Fail::invalid(
                        node.pos,
                        format!("{} takes {min} to {max} conditions", call.key),
                    ));
                }
                let is_and = call.key == "Fn::And";
                let mut result = is_and;
                // Every operand is evaluated, so an error anywhere is reported.
                for item in items {
                    let v = self.expression(item, env, depth + 1)?;
                    result = if is_and { result && v } else { result || v };
                }
                Ok(result)
            }
            other => Err(Fail::invalid(
                call.key_pos,
                format!(
                    "'{other}' cannot be a condition (use Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition)"
                ),
            )),
        }
    }
}

/// An `Fn::Equals` operand as JSON, so `"8"` and `8` compare equal as CloudFormation's
/// strings do and lists compare item by item.
fn comparable(env: &Env<'_>, node: &Node, depth: usize) -> Res<serde_json::Value> {
    let value = env
        .eval_at(node, depth + 1)?
        .ok_or_else(|| Fail::invalid(node.pos, "Fn::Equals cannot compare AWS::NoValue"))?;
    Ok(match &value.value {
        Value::Scalar(s) => serde_json::Value::String(s.text.clone()),
        _ => value.to_json(),
    })
}
