//! The whole template: sections in dependency order (parameters → mappings → conditions →
//! globals → resources → outputs), then the spec in the order the server expects.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use nimbus_api::stack::StackSpec;

use crate::ast::{Map, Node, Value};
use crate::diag::{Diags, Fail, Pos, Res};
use crate::eval::{Budget, Notes};
use crate::globals::{self, Globals};
use crate::limits::{MAPPINGS_MAX, RESOURCES_MAX};
use crate::names;
use crate::resources::{self, Kind, Raw, ResourceTable, Scope};
use crate::{CodeSource, Context, alarm, conditions, function, outputs, params, queue};

/// The transform that makes a template a SAM template.
const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";

/// The only template format version there is.
const FORMAT_VERSION: &str = "2010-09-09";

/// Top-level sections Nimbus reads.
const SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Transform",
    "Globals",
    "Parameters",
    "Mappings",
    "Conditions",
    "Resources",
    "Outputs",
];

/// Resource attributes besides `Type` and `Properties`.
const ATTRIBUTES: &[&str] = &[
    "Condition",
    "DependsOn",
    "Metadata",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "UpdatePolicy",
    "CreationPolicy",
    "IgnoreGlobals",
];

const FUNCTION: &str = "AWS::Serverless::Function";
const QUEUE: &str = "AWS::SQS::Queue";
const ALARM: &str = "AWS::CloudWatch::Alarm";
const REST_API: &str = "AWS::Serverless::Api";
const HTTP_API: &str = "AWS::Serverless::HttpApi";
const IAM_ROLE: &str = "AWS::IAM::Role";
const IAM_POLICY: &str = "AWS::IAM::Policy";

/// What [`build`] makes: the spec, each function's code, and each existing resource's
/// (line, column) by logical id.
pub(crate) type Built = (
    StackSpec,
    BTreeMap<String, CodeSource>,
    BTreeMap<String, (usize, usize)>,
);

/// Resolves a parsed template.
pub(crate) fn build(root: Node, ctx: &Context, base: &Path, diags: &mut Diags) -> Res<Built> {
    let root_pos = root.pos;
    let top = root.into_map("a template")?;
    check_sections(&top, diags)?;
    let serverless = transform(&top, diags)?;
    let params = params::resolve(top.entry("Parameters"), &ctx.parameters, diags)?;
    let mappings = mappings(top.get("Mappings"))?;
    let budget = Budget::default();
    let notes = Notes::default();
    let no_conditions = BTreeMap::new();
    let empty_table = ResourceTable::default();
    let conditions = {
        let scope = Scope {
            ctx,
            params: &params,
            mappings: &mappings,
            conditions: &no_conditions,
            budget: &budget,
            notes: &notes,
        };
        conditions::evaluate(top.get("Conditions"), &scope.env(&empty_table))?
    };
    let scope = Scope {
        ctx,
        params: &params,
        mappings: &mappings,
        conditions: &conditions,
        budget: &budget,
        notes: &notes,
    };
    if let Some(entry) = top.entry("Globals")
        && !serverless
    {
        return Err(Fail::invalid(
            entry.key_pos,
            format!("Globals needs `Transform: {SAM_TRANSFORM}`"),
        ));
    }
    let globals = globals::read(top.get("Globals"), diags)?;
    let raws = read_resources(&top, root_pos, serverless, &scope, &globals, diags)?;
    let table = resources::plan(
        &raws,
        &scope,
        globals.api_stage.as_ref(),
        globals.http_api_stage.as_ref(),
    )?;
    let env = scope.env(&table);
    let mut spec = StackSpec {
        name: ctx.stack_name.clone(),
        ..StackSpec::default()
    };
    let mut code = BTreeMap::new();
    let mut iam_noted = false;
    for raw in raws.iter().filter(|r| r.enabled) {
        match raw.type_name.as_str() {
            FUNCTION => {
                let built = function::build(raw, &env, base, diags)?;
                if !iam_noted && (built.spec.role.is_some() || built.spec.policies.is_some()) {
                    iam_noted = true;
                    diags.note(
                        raw.type_pos,
                        "Role and Policies are recorded, but nothing is enforced: Nimbus has no IAM engine",
                    );
                }
                code.insert(raw.id.clone(), built.code);
                spec.functions.push(built.spec);
            }
            QUEUE => spec.queues.push(queue::build(raw, &env, diags)?),
            ALARM => spec.alarms.extend(alarm::build(raw, &env, diags)?),
            REST_API | HTTP_API => api(raw, &env, diags)?,
            IAM_ROLE | IAM_POLICY => {
                if let Some(p) = &raw.props {
                    env.eval(p)?;
                }
                if !iam_noted {
                    iam_noted = true;
                    diags.note(
                        raw.type_pos,
                        "IAM roles and policies are accepted and their names and ARNs resolve, but nothing is enforced: Nimbus has no IAM engine",
                    );
                }
            }
            _ => {}
        }
    }
    spec.outputs = outputs::build(top.get("Outputs"), &env, diags)?;
    notes.drain_into(diags);
    spec.functions
        .sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    spec.queues.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    spec.alarms.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    let positions = raws
        .iter()
        .filter(|r| r.enabled)
        .map(|r| (r.id.clone(), (r.id_pos.line, r.id_pos.column)))
        .collect();
    Ok((spec, code, positions))
}

fn check_sections(top: &Map, diags: &mut Diags) -> Res<()> {
    for entry in &top.entries {
        match entry.key.as_str() {
            "AWSTemplateFormatVersion" => {
                let v = entry.value.text("AWSTemplateFormatVersion")?;
                if v != FORMAT_VERSION {
                    return Err(Fail::invalid(
                        entry.value.pos,
                        format!("AWSTemplateFormatVersion must be {FORMAT_VERSION}"),
                    ));
                }
            }
            "Rules" => diags.warn(entry.key_pos, "Rules are not checked by Nimbus, ignored"),
            k if SECTIONS.contains(&k) => {}
            k => diags.warn(
                entry.key_pos,
                format!("unknown top-level section '{k}', ignored"),
            ),
        }
    }
    Ok(())
}

/// True when the template uses SAM's transform; other transforms are warned about.
fn transform(top: &Map, diags: &mut Diags) -> Res<bool> {
    let Some(node) = top.get("Transform") else {
        return Ok(false);
    };
    let items: Vec<(String, Pos)> = match &node.value {
        Value::List(items) => items
            .iter()
            .map(|n| n.text("Transform").map(|t| (t, n.pos)))
            .collect::<Res<_>>()?,
        _ => vec![(node.text("Transform")?, node.pos)],
    };
    let mut serverless = false;
    for (name, pos) in items {
        if name == SAM_TRANSFORM {
            serverless = true;
        } else {
            diags.warn(
                pos,
                format!("transform '{name}' is not supported by Nimbus, ignored"),
            );
        }
    }
    Ok(serverless)
}

/// `Mappings`: maps of maps of values.
fn mappings(node: Option<&Node>) -> Res<Map> {
    let Some(node) = node else {
        return Ok(Map::default());
    };
    let map = node.map("Mappings")?;
    if map.entries.len() > MAPPINGS_MAX {
        return Err(Fail::limit(
            node.pos,
            format!("a template has at most {MAPPINGS_MAX} mappings"),
        ));
    }
    for entry in &map.entries {
        for level in &entry
            .value
            .map(&format!("mapping '{}'", entry.key))?
            .entries
        {
            level
                .value
                .map(&format!("mapping '{}'.'{}'", entry.key, level.key))?;
        }
    }
    Ok(map.clone())
}

/// Reads `Resources` into [`Raw`] resources (functions with their globals merged).
fn read_resources(
    top: &Map,
    root_pos: Pos,
    serverless: bool,
    scope: &Scope<'_>,
    globals: &Globals,
    diags: &mut Diags,
) -> Res<Vec<Raw>> {
    let section = top
        .get("Resources")
        .ok_or_else(|| Fail::missing(root_pos, "the Resources section"))?;
    let map = section.map("Resources")?;
    if map.entries.is_empty() {
        return Err(Fail::invalid(section.pos, "Resources is empty"));
    }
    if map.entries.len() > RESOURCES_MAX {
        return Err(Fail::limit(
            section.pos,
            format!(
                "a template has at most {RESOURCES_MAX} resources (this one has {})",
                map.entries.len()
            ),
        ));
    }
    let ids: BTreeSet<&str> = map.entries.iter().map(|e| e.key.as_str()).collect();
    let empty_table = ResourceTable::default();
    let env = scope.env(&empty_table);
    let mut raws = Vec::new();
    for entry in &map.entries {
        let id = &entry.key;
        if !names::is_alphanumeric_id(id) {
            return Err(Fail::invalid(
                entry.key_pos,
                format!("logical id '{id}' must be alphanumeric"),
            ));
        }
        let mut definition = entry.value.clone().into_map(&format!("resource '{id}'"))?;
        let type_entry = definition
            .remove("Type")
            .ok_or_else(|| Fail::missing(entry.key_pos, format!("resource '{id}': Type")))?;
        let type_name = type_entry.value.text("Type")?;
        let type_pos = type_entry.value.pos;
        if type_name.starts_with("AWS::Serverless::") && !serverless {
            return Err(Fail::invalid(
                type_pos,
                format!(
                    "{type_name} needs `Transform: {SAM_TRANSFORM}` at the top of the template"
                ),
            ));
        }
        let props = definition.remove("Properties").map(|e| e.value);
        let ignore = globals::ignore(definition.get("IgnoreGlobals"))?;
        let (enabled, condition) = match definition.get("Condition") {
            Some(c) => {
                let name = c.text("Condition")?;
                (env.condition(&name, c.pos)?, Some(name))
            }
            None => (true, None),
        };
        check_attributes(&definition, &ids, diags)?;
        let props = if type_name == FUNCTION {
            let local = props.unwrap_or(Node {
                pos: entry.key_pos,
                value: Value::Map(Map::default()),
            });
            Some(globals::apply(
                globals.function.as_ref(),
                local,
                &ignore,
                scope.budget,
            )?)
        } else {
            props
        };
        if !is_supported(&type_name) {
            diags.warn(
                type_pos,
                format!(
                    "resource type {type_name} is not supported by Nimbus, ignored (references to '{id}' resolve to '{}')",
                    names::generated(scope.ctx, id, usize::MAX)
                ),
            );
        }
        raws.push(Raw {
            id: id.clone(),
            id_pos: entry.key_pos,
            type_name,
            type_pos,
            props,
            enabled,
            condition,
        });
    }
    Ok(raws)
}

fn is_supported(type_name: &str) -> bool {
    [
        FUNCTION, QUEUE, ALARM, REST_API, HTTP_API, IAM_ROLE, IAM_POLICY,
    ]
    .contains(&type_name)
}

/// Resource attributes: `DependsOn` must name resources; lifecycle policies Nimbus does
/// not honour get a note; anything unknown a warning.
fn check_attributes(definition: &Map, ids: &BTreeSet<&str>, diags: &mut Diags) -> Res<()> {
    for entry in &definition.entries {
        match entry.key.as_str() {
            "DependsOn" => {
                let targets = match &entry.value.value {
                    Value::List(_) => entry.value.texts("DependsOn")?,
                    _ => vec![entry.value.text("DependsOn")?],
                };
                if let Some(t) = targets.iter().find(|t| !ids.contains(t.as_str())) {
                    return Err(Fail::invalid(
                        entry.value.pos,
                        format!("DependsOn names '{t}', which is not a resource of this template"),
                    ));
                }
            }
            "DeletionPolicy" | "UpdateReplacePolicy" => {
                if entry.value.text(&entry.key)? != "Delete" {
                    diags.note(
                        entry.key_pos,
                        format!(
                            "{} has no effect: Nimbus deletes what a stack no longer has",
                            entry.key
                        ),
                    );
                }
            }
            "UpdatePolicy" | "CreationPolicy" => {
                diags.note(entry.key_pos, format!("{} has no effect", entry.key));
            }
            "Metadata" => {
                if let Some(m) = entry.value.as_map().and_then(|m| m.entry("BuildMethod")) {
                    diags.note(
                        m.key_pos,
                        "Metadata.BuildMethod has no effect: Nimbus packages CodeUri as it is (no `sam build`)",
                    );
                }
            }
            k if ATTRIBUTES.contains(&k) => {}
            k => diags.warn(
                entry.key_pos,
                format!("unknown resource attribute '{k}', ignored"),
            ),
        }
    }
    Ok(())
}

/// An explicit `AWS::Serverless::Api` / `HttpApi`: accepted; its routes come from the
/// functions' events. What it sets is reported, not silently dropped.
fn api(raw: &Raw, env: &crate::eval::Env<'_>, diags: &mut Diags) -> Res<()> {
    let Some(props) = &raw.props else {
        return Ok(());
    };
    let Some(evaluated) = env.eval(props)? else {
        return Ok(());
    };
    let map = evaluated.map("Properties")?;
    let mut ignored = Vec::new();
    for entry in &map.entries {
        match entry.key.as_str() {
            "Name" | "Description" => {}
            "DefinitionBody" | "DefinitionUri" => diags.warn(
                entry.key_pos,
                format!(
                    "{}: routes defined in an OpenAPI document are not served; only function Events become routes",
                    entry.key
                ),
            ),
            k => ignored.push(k),
        }
    }
    if !ignored.is_empty() {
        let (stage, http) = match env.resources.get(&raw.id) {
            Some(Kind::Api { stage, http, .. }) => (stage.as_str(), *http),
            _ => ("", false),
        };
        let what = if http { "HTTP API" } else { "REST API" };
        diags.note(
            raw.type_pos,
            format!(
                "{what} '{}' (stage '{stage}'): its routes are served on the shared gateway without the stage prefix; {} recorded but without effect",
                raw.id,
                ignored.join(", ")
            ),
        );
    }
    Ok(())
}
