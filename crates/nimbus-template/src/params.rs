//! `Parameters`: each one's value from `--parameter` or its `Default`, checked against its
//! type and constraints, as CloudFormation does at stack creation.

use std::collections::BTreeMap;

use crate::ast::{Entry, Node};
use crate::diag::{Diags, Fail, Pos, Res};
use crate::limits::PARAMETERS_MAX;
use crate::names::is_alphanumeric_id;

/// A resolved parameter: a string (`String`, `Number`, …) or a list (`CommaDelimitedList`,
/// `List<…>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParamValue {
    Str(String),
    List(Vec<String>),
}

/// The template's parameters by name.
#[derive(Debug, Default)]
pub(crate) struct Params {
    values: BTreeMap<String, ParamValue>,
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.values.get(name)
    }
}

/// The properties a parameter may have.
const PARAMETER_PROPERTIES: &[&str] = &[
    "Type",
    "Default",
    "AllowedValues",
    "AllowedPattern",
    "MinLength",
    "MaxLength",
    "MinValue",
    "MaxValue",
    "Description",
    "ConstraintDescription",
    "NoEcho",
];

/// How a parameter's value is shaped and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Number,
    List,
    NumberList,
}

/// Resolves the `Parameters` section (`section` is its entry, if the template has one).
pub(crate) fn resolve(
    section: Option<&Entry>,
    overrides: &BTreeMap<String, String>,
    diags: &mut Diags,
) -> Res<Params> {
    let mut params = Params::default();
    let Some(section) = section else {
        if let Some(name) = overrides.keys().next() {
            return Err(unknown_override(name, Pos::new(1, 1)));
        }
        return Ok(params);
    };
    let map = section.value.map("Parameters")?;
    if map.entries.len() > PARAMETERS_MAX {
        return Err(Fail::limit(
            section.key_pos,
            format!("a template has at most {PARAMETERS_MAX} parameters"),
        ));
    }
    for entry in &map.entries {
        let value = parameter(entry, overrides.get(&entry.key), diags)?;
        params.values.insert(entry.key.clone(), value);
    }
    if let Some(name) = overrides.keys().find(|k| map.get(k).is_none()) {
        return Err(unknown_override(name, section.key_pos));
    }
    Ok(params)
}

fn unknown_override(name: &str, pos: Pos) -> Fail {
    Fail::invalid(
        pos,
        format!("--parameter {name}: the template has no parameter '{name}'"),
    )
}

fn parameter(entry: &Entry, given: Option<&String>, diags: &mut Diags) -> Res<ParamValue> {
    let name = &entry.key;
    if !is_alphanumeric_id(name) {
        return Err(Fail::invalid(
            entry.key_pos,
            format!("parameter name '{name}' must be alphanumeric"),
        ));
    }
    let props = entry.value.map(&format!("parameter '{name}'"))?;
    for p in &props.entries {
        if !PARAMETER_PROPERTIES.contains(&p.key.as_str()) {
            diags.warn(
                p.key_pos,
                format!("unknown parameter property '{}', ignored", p.key),
            );
        }
    }
    let type_node = props
        .get("Type")
        .ok_or_else(|| Fail::missing(entry.key_pos, format!("parameter '{name}': Type")))?;
    let kind = kind_of(type_node, diags)?;
    // The value, and where to point if it breaks a constraint.
    let (raw, pos) = match (given, props.get("Default")) {
        (Some(v), _) => (v.clone(), entry.key_pos),
        (None, Some(d)) => (d.text(&format!("parameter '{name}': Default"))?, d.pos),
        (None, None) => {
            return Err(Fail::invalid(
                entry.key_pos,
                format!(
                    "parameter '{name}' has no value: give it a Default or pass --parameter {name}=VALUE"
                ),
            ));
        }
    };
    let value = match kind {
        Kind::String | Kind::Number => ParamValue::Str(raw),
        Kind::List | Kind::NumberList => {
            ParamValue::List(raw.split(',').map(|s| s.trim().to_string()).collect())
        }
    };
    let items: Vec<&String> = match &value {
        ParamValue::Str(s) => vec![s],
        ParamValue::List(items) => items.iter().collect(),
    };
    let check = Check {
        name,
        pos,
        props,
        hint: props
            .get("ConstraintDescription")
            .and_then(|n| n.text("ConstraintDescription").ok()),
    };
    for item in items {
        check.item(item, kind)?;
    }
    if props.get("AllowedPattern").is_some() {
        diags.note(
            props
                .entry("AllowedPattern")
                .map_or(entry.key_pos, |e| e.key_pos),
            format!("parameter '{name}': AllowedPattern is not checked by Nimbus"),
        );
    }
    Ok(value)
}

fn kind_of(type_node: &Node, diags: &mut Diags) -> Res<Kind> {
    let ty = type_node.text("a parameter's Type")?;
    Ok(match ty.as_str() {
        "String" => Kind::String,
        "Number" => Kind::Number,
        "CommaDelimitedList" => Kind::List,
        "List<Number>" => Kind::NumberList,
        t if t.starts_with("AWS::SSM::Parameter::Value<") => {
            diags.warn(
                type_node.pos,
                "SSM parameter types are not resolved by Nimbus: the value is used as written",
            );
            if t.contains("List<") || t.contains("CommaDelimitedList") {
                Kind::List
            } else {
                Kind::String
            }
        }
        t if t.starts_with("List<AWS::") => Kind::List,
        t if t.starts_with("AWS::") => Kind::String,
        t => {
            return Err(Fail::invalid(
                type_node.pos,
                format!("unknown parameter Type '{t}'"),
            ));
        }
    })
}

/// The constraints of one parameter.
struct Check<'a> {
    name: &'a str,
    pos: Pos,
    props: &'a crate::ast::Map,
    hint: Option<String>,
}

impl Check<'_> {
    fn fail(&self, message: String) -> Fail {
        let message = match &self.hint {
            Some(h) => format!("parameter '{}': {message} ({h})", self.name),
            None => format!("parameter '{}': {message}", self.name),
        };
        Fail::invalid(self.pos, message)
    }

    fn item(&self, value: &str, kind: Kind) -> Res<()> {
        if let Some(allowed) = self.props.get("AllowedValues") {
            let allowed = allowed.texts("AllowedValues")?;
            if !allowed.iter().any(|a| a == value) {
                return Err(self.fail(format!(
                    "value '{value}' is not one of the AllowedValues ({})",
                    allowed.join(", ")
                )));
            }
        }
        let chars = value.chars().count();
        if let Some(min) = self.props.get("MinLength") {
            let min = min.int("MinLength")?;
            if i64::try_from(chars).unwrap_or(i64::MAX) < min {
                return Err(self.fail(format!("value is shorter than MinLength {min}")));
            }
        }
        if let Some(max) = self.props.get("MaxLength") {
            let max = max.int("MaxLength")?;
            if i64::try_from(chars).unwrap_or(i64::MAX) > max {
                return Err(self.fail(format!("value is longer than MaxLength {max}")));
            }
        }
        if matches!(kind, Kind::Number | Kind::NumberList) {
            let number = value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| self.fail(format!("value '{value}' is not a number")))?;
            if let Some(min) = self.props.get("MinValue") {
                let min = min.number("MinValue")?;
                if number < min {
                    return Err(self.fail(format!("value {value} is less than MinValue {min}")));
                }
            }
            if let Some(max) = self.props.get("MaxValue") {
                let max = max.number("MaxValue")?;
                if number > max {
                    return Err(self.fail(format!("value {value} is more than MaxValue {max}")));
                }
            }
        }
        Ok(())
    }
}
