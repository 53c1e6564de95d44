//! Intrinsic functions: `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::Select`,
//! `Fn::Split`, `Fn::If`, `Fn::FindInMap`, `Fn::GetAZs`, `Fn::Base64`, and the pseudo
//! parameters.
//!
//! Evaluation turns a tree with intrinsics into a plain tree. A result of `None` is
//! `AWS::NoValue`: the map entry or list item holding it disappears. Results keep the place
//! of the intrinsic that produced them, so a later type error ("MemorySize must be an
//! integer") points at the `!Ref` that gave the wrong value.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use base64::Engine as _;

use crate::Context;
use crate::ast::{Map, Node, Value};
use crate::diag::{ErrorKind, Fail, Pos, Res};
use crate::limits::{EVAL_BYTES_MAX, EVAL_DEPTH_MAX, STRING_BYTES_MAX};
use crate::names;
use crate::params::{ParamValue, Params};
use crate::resources::ResourceTable;

/// Counts what evaluation produces against [`EVAL_BYTES_MAX`].
#[derive(Debug, Default)]
pub(crate) struct Budget {
    used: Cell<usize>,
}

impl Budget {
    /// Adds `bytes` to the total; fails past the limit.
    pub fn charge(&self, bytes: usize, pos: Pos) -> Res<()> {
        let used = self.used.get().saturating_add(bytes);
        self.used.set(used);
        if used > EVAL_BYTES_MAX {
            return Err(Fail::limit(
                pos,
                format!("evaluating the template produced more than {EVAL_BYTES_MAX} bytes"),
            ));
        }
        Ok(())
    }
}

/// Notes raised while evaluating (evaluation borrows no `Diags`): moved into the
/// diagnostics when the template is done.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    list: RefCell<Vec<(Pos, String)>>,
}

impl Notes {
    pub fn add(&self, pos: Pos, message: String) {
        self.list.borrow_mut().push((pos, message));
    }

    pub fn drain_into(&self, diags: &mut crate::diag::Diags) {
        for (pos, message) in self.list.borrow_mut().drain(..) {
            diags.note(pos, message);
        }
    }
}

/// Everything an intrinsic can refer to.
pub(crate) struct Env<'a> {
    pub ctx: &'a Context,
    pub params: &'a Params,
    pub mappings: &'a Map,
    pub conditions: &'a BTreeMap<String, bool>,
    pub resources: &'a ResourceTable,
    pub budget: &'a Budget,
    pub notes: &'a Notes,
}

/// The condition functions, which only `Conditions` (and `Fn::If`'s first argument, by
/// name) may use.
const CONDITION_FUNCTIONS: &[&str] = &["Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"];

/// Intrinsics CloudFormation has and Nimbus does not evaluate, with the reason.
const UNSUPPORTED_FUNCTIONS: &[(&str, &str)] = &[
    (
        "Fn::ImportValue",
        "cross-stack references (Fn::ImportValue) are not supported",
    ),
    ("Fn::Cidr", "Fn::Cidr is not supported (Nimbus has no VPCs)"),
    (
        "Fn::Transform",
        "Fn::Transform (CloudFormation macros) is not supported",
    ),
    (
        "Fn::Length",
        "Fn::Length needs the AWS::LanguageExtensions transform, which is not supported",
    ),
    (
        "Fn::ToJsonString",
        "Fn::ToJsonString needs the AWS::LanguageExtensions transform, which is not supported",
    ),
];

impl Env<'_> {
    /// Resolves every intrinsic in `node`; `None` is `AWS::NoValue`.
    pub fn eval(&self, node: &Node) -> Res<Option<Node>> {
        self.eval_at(node, 0)
    }

    /// Resolves `node` and requires a string ("`what` must be a string").
    pub fn eval_text(&self, node: &Node, what: &str) -> Res<Option<String>> {
        match self.eval(node)? {
            Some(n) => n.text(what).map(Some),
            None => Ok(None),
        }
    }

    /// The value of the named condition.
    pub fn condition(&self, name: &str, pos: Pos) -> Res<bool> {
        self.conditions
            .get(name)
            .copied()
            .ok_or_else(|| Fail::invalid(pos, format!("unknown condition '{name}'")))
    }

    pub(crate) fn eval_at(&self, node: &Node, depth: usize) -> Res<Option<Node>> {
        if depth > EVAL_DEPTH_MAX {
            return Err(Fail::limit(
                node.pos,
                format!("intrinsic functions nest deeper than {EVAL_DEPTH_MAX} levels"),
            ));
        }
        match &node.value {
            Value::Scalar(s) => {
                self.budget.charge(1 + s.text.len(), node.pos)?;
                Ok(Some(node.clone()))
            }
            Value::List(items) => {
                self.budget.charge(1, node.pos)?;
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(v) = self.eval_at(item, depth + 1)? {
                        out.push(v);
                    }
                }
                Ok(Some(Node {
                    pos: node.pos,
                    value: Value::List(out),
                }))
            }
            Value::Map(map) => {
                if let Some(call) = map.intrinsic() {
                    return self.call(&call.key, &call.value, node.pos, depth + 1);
                }
                self.budget.charge(1, node.pos)?;
                let mut out = Map::default();
                for entry in &map.entries {
                    self.budget.charge(entry.key.len(), entry.key_pos)?;
                    if let Some(v) = self.eval_at(&entry.value, depth + 1)? {
                        out.entries.push(crate::ast::Entry {
                            key: entry.key.clone(),
                            key_pos: entry.key_pos,
                            value: v,
                        });
                    }
                }
                Ok(Some(Node {
                    pos: node.pos,
                    value: Value::Map(out),
                }))
            }
        }
    }

    /// Evaluates `node` where a value is required (an argument of another function).
    fn required(&self, node: &Node, depth: usize, what: &str) -> Res<Node> {
        self.eval_at(node, depth)?
            .ok_or_else(|| Fail::invalid(node.pos, format!("{what} cannot be AWS::NoValue")))
    }

    fn required_text(&self, node: &Node, depth: usize, what: &str) -> Res<String> {
        self.required(node, depth, what)?.text(what)
    }

    fn call(&self, name: &str, arg: &Node, pos: Pos, depth: usize) -> Res<Option<Node>> {
        match name {
            "Ref" => {
                let target = arg.text("Ref's argument")?;
                self.reference(&target, pos)
            }
            "Fn::GetAtt" => self.get_att(arg, pos, depth).map(Some),
            "Fn::Sub" => self.sub(arg, pos, depth).map(Some),
            "Fn::Join" => self.join(arg, pos, depth).map(Some),
            "Fn::Select" => self.select(arg, pos, depth),
            "Fn::Split" => self.split(arg, pos, depth).map(Some),
            "Fn::If" => self.if_(arg, pos, depth),
            "Fn::FindInMap" => self.find_in_map(arg, pos, depth).map(Some),
            "Fn::GetAZs" => self.get_azs(arg, pos, depth).map(Some),
            "Fn::Base64" => {
                let text = self.required_text(arg, depth, "Fn::Base64's argument")?;
                let encoded = base64::engine::general_purpose::STANDARD.encode(text);
                self.produce(encoded, pos).map(Some)
            }
            _ if CONDITION_FUNCTIONS.contains(&name) => Err(Fail::invalid(
                pos,
                format!("{name} can only be used in the Conditions section"),
            )),
            _ => match UNSUPPORTED_FUNCTIONS.iter().find(|(n, _)| *n == name) {
                Some((_, why)) => Err(Fail::unsupported(pos, *why)),
                None => Err(Fail::invalid(
                    pos,
                    format!("unknown intrinsic function '{name}'"),
                )),
            },
        }
    }

    /// A string result of an intrinsic, checked against the length and total budgets.
    fn produce(&self, text: String, pos: Pos) -> Res<Node> {
        if text.len() > STRING_BYTES_MAX {
            return Err(Fail::limit(
                pos,
                format!("an intrinsic produced a string longer than {STRING_BYTES_MAX} bytes"),
            ));
        }
        self.budget.charge(text.len(), pos)?;
        Ok(Node::string(pos, text))
    }

    /// `Ref`: pseudo parameters, parameters, then resources.
    pub fn reference(&self, target: &str, pos: Pos) -> Res<Option<Node>> {
        if target == "AWS::NoValue" {
            return Ok(None);
        }
        if target == "AWS::NotificationARNs" {
            return Ok(Some(Node::strings(pos, Vec::new())));
        }
        if let Some(value) = self.pseudo(target) {
            return self.produce(value, pos).map(Some);
        }
        if let Some(value) = self.params.get(target) {
            return match value {
                ParamValue::Str(s) => self.produce(s.clone(), pos).map(Some),
                ParamValue::List(items) => {
                    self.budget
                        .charge(items.iter().map(|s| s.len() + 1).sum(), pos)?;
                    Ok(Some(Node::strings(pos, items.iter().cloned())))
                }
            };
        }
        let value = self.resources.reference(target, self.ctx, pos)?;
        if let Some(function) = target.strip_suffix(".Version") {
            self.notes.add(
                pos,
                format!(
                    "{target} resolves to {value}: version numbers are assigned at deploy time, and $LATEST holds the code being deployed (refer to {function}.Alias for the alias)"
                ),
            );
        }
        self.produce(value, pos).map(Some)
    }

    /// The value of a pseudo parameter (`AWS::Region`, …) other than `AWS::NoValue`.
    fn pseudo(&self, name: &str) -> Option<String> {
        let ctx = self.ctx;
        Some(match name {
            "AWS::Region" => ctx.region.clone(),
            "AWS::AccountId" => ctx.account_id.clone(),
            "AWS::StackName" => ctx.stack_name.clone(),
            "AWS::Partition" => names::partition(&ctx.region).to_string(),
            "AWS::URLSuffix" => names::url_suffix(&ctx.region).to_string(),
            "AWS::StackId" => names::stack_id(ctx),
            _ => return None,
        })
    }

    /// `Fn::GetAtt`: `Res.Attr` or `[Res, Attr]` (the attribute may be an intrinsic).
    fn get_att(&self, arg: &Node, pos: Pos, depth: usize) -> Res<Node> {
        let (resource, attribute) = match &arg.value {
            Value::List(items) => match items.as_slice() {
                [r, a] => (
                    r.text("Fn::GetAtt's resource")?,
                    self.required_text(a, depth, "Fn::GetAtt's attribute")?,
                ),
                _ => {
                    return Err(Fail::invalid(
                        pos,
                        "Fn::GetAtt takes [LogicalId, Attribute]",
                    ));
                }
            },
            _ => {
                let text = arg.text("Fn::GetAtt's argument")?;
                match text.split_once('.') {
                    Some((r, a)) => (r.to_string(), a.to_string()),
                    None => {
                        return Err(Fail::invalid(
                            pos,
                            format!("Fn::GetAtt takes LogicalId.Attribute, not '{text}'"),
                        ));
                    }
                }
            }
        };
        let value = self
            .resources
            .attribute(&resource, &attribute, self.ctx, pos)?;
        self.produce(value, pos)
    }

    /// `Fn::Sub`: `"text ${Var}"` or `["text ${Var}", {Var: value}]`.
    fn sub(&self, arg: &Node, pos: Pos, depth: usize) -> Res<Node> {
        let (template, vars) = match &arg.value {
            Value::List(items) => match items.as_slice() {
                [t, v] => {
                    let template = t.text("Fn::Sub's string")?;
                    let mut vars = BTreeMap::new();
                    for entry in &v.map("Fn::Sub's variables")?.entries {
                        let value = self.required_text(
                            &entry.value,
                            depth,
                            &format!("Fn::Sub variable '{}'", entry.key),
                        )?;
                        vars.insert(entry.key.clone(), value);
                    }
                    (template, vars)
                }
                _ => {
                    return Err(Fail::invalid(
                        pos,
                        "Fn::Sub takes a string or [string, {variables}]",
                    ));
                }
            },
            _ => (arg.text("Fn::Sub's argument")?, BTreeMap::new()),
        };
        let mut out = String::new();
        let mut rest = template.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                // `${!Name}` is the literal text `${Name}`.
                out.push_str("${");
                rest = literal;
                continue;
            }
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = after[..end].trim();
            out.push_str(&self.sub_variable(name, &vars, pos)?);
            if out.len() > STRING_BYTES_MAX {
                break;
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        self.produce(out, pos)
    }

    fn sub_variable(&self, name: &str, vars: &BTreeMap<String, String>, pos: Pos) -> Res<String> {
        if let Some(v) = vars.get(name) {
            return Ok(v.clone());
        }
        let node = match name.split_once('.') {
            Some((resource, attribute)) if !name.starts_with("AWS::") => Some(Node::string(
                pos,
                self.resources
                    .attribute(resource, attribute, self.ctx, pos)?,
            )),
            _ => self.reference(name, pos)?,
        };
        match node {
            Some(n) => n.text(&format!("'${{{name}}}' in Fn::Sub")),
            None => Ok(String::new()),
        }
    }

    /// `Fn::Join: [delimiter, [items…]]`.
    fn join(&self, arg: &Node, pos: Pos, depth: usize) -> Res<Node> {
        let [delimiter, items] = pair(arg, pos, "Fn::Join takes [delimiter, [values]]")?;
        let delimiter = delimiter.text("Fn::Join's delimiter")?;
        let items = self.required(items, depth, "Fn::Join's values")?;
        let mut out = String::new();
        for (i, item) in items.list("Fn::Join's values")?.iter().enumerate() {
            if i > 0 {
                out.push_str(&delimiter);
            }
            out.push_str(&item.text("a value joined by Fn::Join")?);
            if out.len() > STRING_BYTES_MAX {
                break;
            }
        }
        self.produce(out, pos)
    }

    /// `Fn::Select: [index, [items…]]`.
    fn select(&self, arg: &Node, pos: Pos, depth: usize) -> Res<Option<Node>> {
        let [index, items] = pair(arg, pos, "Fn::Select takes [index, [values]]")?;
        let index = self
            .required(index, depth, "Fn::Select's index")?
            .int("Fn::Select's index")?;
        let items = self.required(items, depth, "Fn::Select's values")?;
        let list = items.list("Fn::Select's values")?;
        let picked = usize::try_from(index).ok().and_then(|i| list.get(i));
        match picked {
            Some(item) => Ok(Some(Node {
                pos,
                value: item.value.clone(),
            })),
            None => Err(Fail::invalid(
                pos,
                format!(
                    "Fn::Select index {index} is out of range (the list has {} items)",
                    list.len()
                ),
            )),
        }
    }

    /// `Fn::Split: [delimiter, string]`.
    fn split(&self, arg: &Node, pos: Pos, depth: usize) -> Res<Node> {
        let [delimiter, source] = pair(arg, pos, "Fn::Split takes [delimiter, string]")?;
        let delimiter = delimiter.text("Fn::Split's delimiter")?;
        if delimiter.is_empty() {
            return Err(Fail::invalid(pos, "Fn::Split's delimiter cannot be empty"));
        }
        let source = self.required_text(source, depth, "Fn::Split's string")?;
        let parts: Vec<String> = source
            .split(delimiter.as_str())
            .map(str::to_string)
            .collect();
        self.budget.charge(source.len() + parts.len(), pos)?;
        Ok(Node::strings(pos, parts))
    }

    /// `Fn::If: [condition, then, else]`.
    fn if_(&self, arg: &Node, pos: Pos, depth: usize) -> Res<Option<Node>> {
        let items = arg.list("Fn::If's argument")?;
        let [condition, then, otherwise] = items else {
            return Err(Fail::invalid(
                pos,
                "Fn::If takes [condition, value if true, value if false]",
            ));
        };
        let name = condition.text("Fn::If's condition")?;
        let chosen = if self.condition(&name, condition.pos)? {
            then
        } else {
            otherwise
        };
        self.eval_at(chosen, depth)
    }

    /// `Fn::FindInMap: [map, top-level key, second-level key]`.
    fn find_in_map(&self, arg: &Node, pos: Pos, depth: usize) -> Res<Node> {
        let items = arg.list("Fn::FindInMap's argument")?;
        let [map, top, second] = items else {
            return Err(Fail::invalid(
                pos,
                "Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey]",
            ));
        };
        let map_name = self.required_text(map, depth, "Fn::FindInMap's map name")?;
        let top = self.required_text(top, depth, "Fn::FindInMap's top-level key")?;
        let second = self.required_text(second, depth, "Fn::FindInMap's second-level key")?;
        let mapping = self
            .mappings
            .get(&map_name)
            .ok_or_else(|| Fail::invalid(map.pos, format!("unknown mapping '{map_name}'")))?;
        let level = mapping.as_map().and_then(|m| m.get(&top)).ok_or_else(|| {
            Fail::invalid(pos, format!("mapping '{map_name}' has no key '{top}'"))
        })?;
        let value = level.as_map().and_then(|m| m.get(&second)).ok_or_else(|| {
            Fail::invalid(
                pos,
                format!("mapping '{map_name}' has no key '{top}'.'{second}'"),
            )
        })?;
        self.budget.charge(value.count(), pos)?;
        Ok(Node {
            pos,
            value: value.value.clone(),
        })
    }

    /// `Fn::GetAZs: region` ("" is the stack's region): three zones, `a` to `c`.
    fn get_azs(&self, arg: &Node, pos: Pos, depth: usize) -> Res<Node> {
        let region = match self.eval_at(arg, depth)? {
            Some(n) if n.as_map().is_none() => match &n.value {
                Value::Scalar(s) if s.kind == crate::ast::ScalarKind::Null => String::new(),
                _ => n.text("Fn::GetAZs's region")?,
            },
            Some(n) => return Err(Fail::ty(n.pos, "Fn::GetAZs's region", "a string")),
            None => String::new(),
        };
        let region = if region.is_empty() {
            self.ctx.region.clone()
        } else {
            region
        };
        self.budget.charge(3 * (region.len() + 2), pos)?;
        Ok(Node::strings(
            pos,
            ["a", "b", "c"].iter().map(|z| format!("{region}{z}")),
        ))
    }
}

/// The two items of a two-item list argument.
fn pair<'n>(arg: &'n Node, pos: Pos, usage: &str) -> Res<[&'n Node; 2]> {
    match &arg.value {
        Value::List(items) => match items.as_slice() {
            [a, b] => Ok([a, b]),
            _ => Err(Fail::invalid(pos, usage)),
        },
        _ => Err(Fail::new(pos, ErrorKind::Invalid(usage.to_string()))),
    }
}
