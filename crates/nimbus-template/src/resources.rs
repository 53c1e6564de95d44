//! The resource table: every logical id (SAM's implicit ones included) with the values
//! `Ref` and `Fn::GetAtt` give for it.
//!
//! It is built before any property is read ([`plan`]), from the few properties that decide
//! names (`FunctionName`, `QueueName`, `AutoPublishAlias`, …), so the properties of any
//! resource may refer to any other. Those naming properties may themselves refer to
//! parameters and to resources named earlier in the template.

use std::collections::BTreeMap;

use crate::Context;
use crate::ast::{Node, Value};
use crate::diag::{ErrorKind, Fail, Pos, Res};
use crate::eval::{Budget, Env, Notes};
use crate::limits::{ALARM_NAME_CHARS_MAX, ROLE_NAME_CHARS_MAX};
use crate::names;
use crate::params::Params;
use nimbus_api::limits::FUNCTION_NAME_CHARS_MAX;
use nimbus_api::sqs::MAX_QUEUE_NAME_CHARS;

/// The logical id SAM gives the REST API it creates for `Api` events.
pub(crate) const IMPLICIT_REST_API: &str = "ServerlessRestApi";
/// The logical id SAM gives the HTTP API it creates for `HttpApi` events.
pub(crate) const IMPLICIT_HTTP_API: &str = "ServerlessHttpApi";
/// SAM's default stage of the implicit REST API.
const DEFAULT_REST_STAGE: &str = "Prod";
/// The CodeDeploy application SAM creates for functions with a `DeploymentPreference`.
const DEPLOYMENT_APPLICATION: &str = "ServerlessDeploymentApplication";
/// The HTTP API stage served without a path prefix.
pub(crate) const DEFAULT_HTTP_STAGE: &str = "$default";
/// `.fifo`, the suffix every FIFO queue name has.
pub(crate) const FIFO_SUFFIX: &str = ".fifo";

/// One resource of the template, as read from `Resources` (properties unevaluated).
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub id: String,
    pub id_pos: Pos,
    pub type_name: String,
    pub type_pos: Pos,
    /// `Properties` (for functions: with `Globals.Function` merged in).
    pub props: Option<Node>,
    /// False when the resource's `Condition` is false: it does not exist.
    pub enabled: bool,
    pub condition: Option<String>,
}

/// What a logical id stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Not named yet (only while [`plan`] runs).
    Pending,
    /// Its `Condition` is false.
    Disabled {
        condition: String,
    },
    Function {
        name: String,
        alias: Option<String>,
    },
    /// `<Fn>Alias<Name>`, SAM's alias of an `AutoPublishAlias` function.
    FunctionAlias {
        function: String,
        alias: String,
    },
    /// `<Fn>Url`, SAM's function URL of a `FunctionUrlConfig` function (on its alias when
    /// it has `AutoPublishAlias`, else on `$LATEST`).
    FunctionUrl {
        function: String,
        qualifier: String,
    },
    Queue {
        name: String,
    },
    Alarm {
        name: String,
    },
    /// An API (explicit, or SAM's `ServerlessRestApi` / `ServerlessHttpApi`).
    Api {
        id: String,
        stage: String,
        http: bool,
    },
    Role {
        name: String,
    },
    Policy {
        name: String,
    },
    /// A resource SAM generates and Nimbus has no counterpart of (the CodeDeploy
    /// application): `Ref` gives a name so policies that mention it still resolve.
    Generated {
        name: String,
    },
    /// A type Nimbus ignores (already warned about): references give a placeholder.
    Unsupported {
        type_name: String,
    },
}

/// Every logical id and what it stands for.
#[derive(Debug, Default)]
pub(crate) struct ResourceTable {
    entries: BTreeMap<String, Kind>,
}

impl ResourceTable {
    pub fn get(&self, id: &str) -> Option<&Kind> {
        self.entries.get(id)
    }

    /// The APIs: `(logical id, api id, stage, is HTTP API)`.
    pub fn apis(&self) -> impl Iterator<Item = (&str, &str, &str, bool)> {
        self.entries.iter().filter_map(|(logical, k)| match k {
            Kind::Api { id, stage, http } => {
                Some((logical.as_str(), id.as_str(), stage.as_str(), *http))
            }
            _ => None,
        })
    }

    /// The logical id of the alarm named `name`, if the stack defines it.
    pub fn alarm_by_name(&self, name: &str) -> Option<&str> {
        self.entries.iter().find_map(|(logical, k)| match k {
            Kind::Alarm { name: n } if n == name => Some(logical.as_str()),
            _ => None,
        })
    }

    fn usable(&self, id: &str, pos: Pos) -> Res<&Kind> {
        match self.entries.get(id) {
            None => Err(Fail::new(pos, ErrorKind::Unresolved(id.to_string()))),
            Some(Kind::Pending) => Err(Fail::invalid(
                pos,
                format!(
                    "'{id}' cannot be used here: names are resolved before other resources (refer only to parameters, or to resources defined earlier)"
                ),
            )),
            Some(Kind::Disabled { condition }) => Err(Fail::invalid(
                pos,
                format!("'{id}' does not exist: its Condition '{condition}' is false"),
            )),
            Some(kind) => Ok(kind),
        }
    }

    /// What `Ref: id` gives (`id` may be SAM's `Fn.Alias` / `Api.Stage`).
    pub fn reference(&self, id: &str, ctx: &Context, pos: Pos) -> Res<String> {
        if !self.entries.contains_key(id)
            && let Some((base, property)) = id.split_once('.')
        {
            return self.referable(base, property, ctx, pos);
        }
        Ok(match self.usable(id, pos)? {
            Kind::Function { name, .. } => name.clone(),
            Kind::FunctionAlias { function, alias } => {
                names::function_arn(ctx, function, Some(alias))
            }
            Kind::FunctionUrl { function, .. } => names::function_arn(ctx, function, None),
            Kind::Queue { name } => names::queue_url(ctx, name),
            Kind::Alarm { name }
            | Kind::Role { name }
            | Kind::Policy { name }
            | Kind::Generated { name } => name.clone(),
            Kind::Api { id, .. } => id.clone(),
            Kind::Unsupported { .. } => placeholder(ctx, id),
            Kind::Pending | Kind::Disabled { .. } => unreachable_kind(pos)?,
        })
    }

    /// SAM's referable properties: `!Ref Fn.Alias`, `!Ref Fn.Version`, `!Ref Api.Stage`.
    fn referable(&self, base: &str, property: &str, ctx: &Context, pos: Pos) -> Res<String> {
        let whole = format!("{base}.{property}");
        match (self.usable(base, pos)?, property) {
            (
                Kind::Function {
                    name,
                    alias: Some(alias),
                },
                "Alias",
            ) => Ok(names::function_arn(ctx, name, Some(alias))),
            (Kind::Function { alias: None, .. }, "Alias") => Err(Fail::invalid(
                pos,
                format!("{whole} needs AutoPublishAlias on '{base}'"),
            )),
            (
                Kind::Function {
                    name,
                    alias: Some(_),
                },
                "Version",
            ) => Ok(names::function_arn(
                ctx,
                name,
                Some(nimbus_api::names::LATEST),
            )),
            (Kind::Function { alias: None, .. }, "Version") => Err(Fail::invalid(
                pos,
                format!("{whole} needs AutoPublishAlias on '{base}'"),
            )),
            (Kind::Api { stage, .. }, "Stage") => Ok(stage.clone()),
            _ => Err(Fail::new(pos, ErrorKind::Unresolved(whole))),
        }
    }

    /// What `Fn::GetAtt: [id, attribute]` gives.
    pub fn attribute(&self, id: &str, attribute: &str, ctx: &Context, pos: Pos) -> Res<String> {
        let kind = self.usable(id, pos)?;
        let value = match (kind, attribute) {
            (Kind::Function { name, .. }, "Arn") => Some(names::function_arn(ctx, name, None)),
            (Kind::FunctionUrl { function, .. }, "FunctionArn") => {
                Some(names::function_arn(ctx, function, None))
            }
            (
                Kind::FunctionUrl {
                    function,
                    qualifier,
                },
                "FunctionUrl",
            ) => Some(names::function_url(ctx, function, qualifier)),
            (Kind::Queue { name }, "Arn") => Some(names::queue_arn(ctx, name)),
            (Kind::Queue { name }, "QueueName") => Some(name.clone()),
            (Kind::Queue { name }, "QueueUrl") => Some(names::queue_url(ctx, name)),
            (Kind::Alarm { name }, "Arn") => Some(names::alarm_arn(ctx, name)),
            (Kind::Api { id: api, .. }, "ApiEndpoint") => Some(names::execute_api_base(ctx, api)),
            (Kind::Api { id: api, .. }, "RootResourceId") => Some(names::api_id(ctx, api)),
            (Kind::Role { name }, "Arn") => Some(names::role_arn(ctx, name)),
            (Kind::Role { name }, "RoleId") => Some(names::unique_id("AROA", name)),
            (Kind::Policy { name }, "Id") => Some(names::unique_id("ANPA", name)),
            (Kind::Policy { name }, "Arn") => Some(names::policy_arn(ctx, name)),
            (Kind::Unsupported { .. }, _) => Some(format!("{}.{attribute}", placeholder(ctx, id))),
            _ => None,
        };
        value.ok_or_else(|| Fail::new(pos, ErrorKind::Unresolved(format!("{id}.{attribute}"))))
    }
}

fn unreachable_kind(pos: Pos) -> Res<String> {
    Err(Fail::invalid(pos, "internal error: unusable resource"))
}

/// What references to an unsupported resource give: the name SAM would generate.
fn placeholder(ctx: &Context, id: &str) -> String {
    names::generated(ctx, id, usize::MAX)
}

/// The values intrinsics can see besides resources.
pub(crate) struct Scope<'a> {
    pub ctx: &'a Context,
    pub params: &'a Params,
    pub mappings: &'a crate::ast::Map,
    pub conditions: &'a BTreeMap<String, bool>,
    pub budget: &'a Budget,
    pub notes: &'a Notes,
}

impl<'a> Scope<'a> {
    pub fn env(&self, resources: &'a ResourceTable) -> Env<'a> {
        Env {
            ctx: self.ctx,
            params: self.params,
            mappings: self.mappings,
            conditions: self.conditions,
            resources,
            budget: self.budget,
            notes: self.notes,
        }
    }
}

/// Names every resource (see the module comment).
pub(crate) fn plan(
    raws: &[Raw],
    scope: &Scope<'_>,
    api_stage: Option<&Node>,
    http_api_stage: Option<&Node>,
) -> Res<ResourceTable> {
    let mut table = ResourceTable::default();
    for raw in raws {
        let kind = if raw.enabled {
            Kind::Pending
        } else {
            Kind::Disabled {
                condition: raw.condition.clone().unwrap_or_default(),
            }
        };
        table.entries.insert(raw.id.clone(), kind);
    }
    let mut implicit = Vec::new();
    let mut physical = PhysicalNames::default();
    for raw in raws.iter().filter(|r| r.enabled) {
        let kind = {
            let env = scope.env(&table);
            let naming = Naming {
                raw,
                env: &env,
                ctx: scope.ctx,
            };
            naming.kind(&mut implicit)?
        };
        physical.claim(raw, &kind)?;
        table.entries.insert(raw.id.clone(), kind);
    }
    let stage = |node: Option<&Node>, default: &str| -> Res<String> {
        let env = scope.env(&table);
        Ok(match node {
            Some(n) => env
                .eval_text(n, "StageName")?
                .unwrap_or_else(|| default.to_string()),
            None => default.to_string(),
        })
    };
    let rest_stage = stage(api_stage, DEFAULT_REST_STAGE)?;
    let http_stage = stage(http_api_stage, DEFAULT_HTTP_STAGE)?;
    for (id, kind) in implicit {
        let kind = match kind {
            Kind::Api { http: false, .. } => Kind::Api {
                id: names::api_id(scope.ctx, &id),
                stage: rest_stage.clone(),
                http: false,
            },
            Kind::Api { http: true, .. } => Kind::Api {
                id: names::api_id(scope.ctx, &id),
                stage: http_stage.clone(),
                http: true,
            },
            other => other,
        };
        // An explicit resource of the same id wins, as in SAM.
        table.entries.entry(id).or_insert(kind);
    }
    Ok(table)
}

/// Physical names must be unique per kind: two functions cut to the same 64 characters,
/// or two equal `QueueName`s, are an error rather than one resource overwriting another.
#[derive(Default)]
struct PhysicalNames {
    used: BTreeMap<(&'static str, String), String>,
}

impl PhysicalNames {
    fn claim(&mut self, raw: &Raw, kind: &Kind) -> Res<()> {
        let (what, name) = match kind {
            Kind::Function { name, .. } => ("function name", name),
            Kind::Queue { name } => ("queue name", name),
            Kind::Alarm { name } => ("alarm name", name),
            _ => return Ok(()),
        };
        if let Some(other) = self.used.get(&(what, name.clone())) {
            return Err(Fail::invalid(
                raw.id_pos,
                format!("{what} '{name}' is already used by '{other}'"),
            ));
        }
        self.used.insert((what, name.clone()), raw.id.clone());
        Ok(())
    }
}

/// Reads the naming properties of one resource.
struct Naming<'a> {
    raw: &'a Raw,
    env: &'a Env<'a>,
    ctx: &'a Context,
}

impl Naming<'_> {
    fn prop(&self, key: &str) -> Option<&Node> {
        self.raw.props.as_ref()?.as_map()?.get(key)
    }

    fn text(&self, key: &str) -> Res<Option<(String, Pos)>> {
        match self.prop(key) {
            Some(n) => Ok(self.env.eval_text(n, key)?.map(|t| (t, n.pos))),
            None => Ok(None),
        }
    }

    fn kind(&self, implicit: &mut Vec<(String, Kind)>) -> Res<Kind> {
        let id = &self.raw.id;
        Ok(match self.raw.type_name.as_str() {
            "AWS::Serverless::Function" => self.function(implicit)?,
            "AWS::SQS::Queue" => self.queue()?,
            "AWS::CloudWatch::Alarm" => {
                let name = match self.text("AlarmName")? {
                    Some((n, pos)) => checked(n, pos, "AlarmName", ALARM_NAME_CHARS_MAX, |_| true)?,
                    None => names::generated(self.ctx, id, ALARM_NAME_CHARS_MAX),
                };
                Kind::Alarm { name }
            }
            t @ ("AWS::Serverless::Api" | "AWS::Serverless::HttpApi") => {
                let http = t == "AWS::Serverless::HttpApi";
                let default = if http {
                    DEFAULT_HTTP_STAGE
                } else {
                    DEFAULT_REST_STAGE
                };
                let stage = self
                    .text("StageName")?
                    .map_or_else(|| default.to_string(), |(s, _)| s);
                Kind::Api {
                    id: names::api_id(self.ctx, id),
                    stage,
                    http,
                }
            }
            "AWS::IAM::Role" => Kind::Role {
                name: self.text("RoleName")?.map_or_else(
                    || names::generated(self.ctx, id, ROLE_NAME_CHARS_MAX),
                    |(n, _)| n,
                ),
            },
            "AWS::IAM::Policy" => Kind::Policy {
                name: self.text("PolicyName")?.map_or_else(
                    || names::generated(self.ctx, id, ROLE_NAME_CHARS_MAX),
                    |(n, _)| n,
                ),
            },
            other => Kind::Unsupported {
                type_name: other.to_string(),
            },
        })
    }

    fn function(&self, implicit: &mut Vec<(String, Kind)>) -> Res<Kind> {
        let id = &self.raw.id;
        let name = match self.text("FunctionName")? {
            Some((n, pos)) => checked(n, pos, "FunctionName", FUNCTION_NAME_CHARS_MAX, |c| {
                names::is_name_char(c)
            })?,
            None => names::generated(self.ctx, id, FUNCTION_NAME_CHARS_MAX),
        };
        let alias = self.text("AutoPublishAlias")?.map(|(a, _)| a);
        if let Some(alias) = &alias {
            implicit.push((
                format!("{id}Alias{alias}"),
                Kind::FunctionAlias {
                    function: name.clone(),
                    alias: alias.clone(),
                },
            ));
        }
        if self.prop("Role").is_none() {
            implicit.push((
                format!("{id}Role"),
                Kind::Role {
                    name: names::generated(self.ctx, &format!("{id}Role"), ROLE_NAME_CHARS_MAX),
                },
            ));
        }
        if self.prop("FunctionUrlConfig").is_some() {
            implicit.push((
                format!("{id}Url"),
                Kind::FunctionUrl {
                    function: name.clone(),
                    qualifier: alias
                        .clone()
                        .unwrap_or_else(|| nimbus_api::names::LATEST.to_string()),
                },
            ));
        }
        if self.prop("DeploymentPreference").is_some() {
            implicit.push((
                DEPLOYMENT_APPLICATION.to_string(),
                Kind::Generated {
                    name: names::generated(self.ctx, DEPLOYMENT_APPLICATION, usize::MAX),
                },
            ));
        }
        if let Some(Value::Map(events)) = self.prop("Events").map(|n| &n.value) {
            for event in &events.entries {
                implicit.extend(implicit_api(&event.value));
            }
        }
        Ok(Kind::Function { name, alias })
    }

    fn queue(&self) -> Res<Kind> {
        let fifo = match self.prop("FifoQueue") {
            Some(n) => self
                .env
                .eval(n)?
                .map(|v| v.boolean("FifoQueue"))
                .transpose()?
                .unwrap_or(false),
            None => false,
        };
        let name = match self.text("QueueName")? {
            Some((n, pos)) => {
                let base = n.strip_suffix(FIFO_SUFFIX).unwrap_or(&n);
                checked(
                    base.to_string(),
                    pos,
                    "QueueName",
                    MAX_QUEUE_NAME_CHARS,
                    names::is_name_char,
                )?;
                if fifo != n.ends_with(FIFO_SUFFIX) {
                    return Err(Fail::invalid(
                        pos,
                        "QueueName must end in .fifo exactly when FifoQueue is true",
                    ));
                }
                if n.chars().count() > MAX_QUEUE_NAME_CHARS {
                    return Err(Fail::invalid(
                        pos,
                        format!("QueueName is longer than {MAX_QUEUE_NAME_CHARS} characters"),
                    ));
                }
                n
            }
            None if fifo => {
                let max = MAX_QUEUE_NAME_CHARS - FIFO_SUFFIX.len();
                format!(
                    "{}{FIFO_SUFFIX}",
                    names::generated(self.ctx, &self.raw.id, max)
                )
            }
            None => names::generated(self.ctx, &self.raw.id, MAX_QUEUE_NAME_CHARS),
        };
        Ok(Kind::Queue { name })
    }
}

/// The implicit API an `Api` / `HttpApi` event without `RestApiId` / `ApiId` needs.
fn implicit_api(event: &Node) -> Option<(String, Kind)> {
    let map = event.as_map()?;
    let ty = match &map.get("Type")?.value {
        Value::Scalar(s) => s.text.as_str(),
        _ => return None,
    };
    let props = map.get("Properties").and_then(Node::as_map);
    let has = |key: &str| props.is_some_and(|p| p.get(key).is_some());
    let (id, http) = match ty {
        "Api" if !has("RestApiId") => (IMPLICIT_REST_API, false),
        "HttpApi" if !has("ApiId") => (IMPLICIT_HTTP_API, true),
        _ => return None,
    };
    Some((
        id.to_string(),
        Kind::Api {
            id: String::new(),
            stage: String::new(),
            http,
        },
    ))
}

/// A given physical name, checked for length and characters.
fn checked(
    name: String,
    pos: Pos,
    what: &str,
    max: usize,
    valid_char: impl Fn(char) -> bool,
) -> Res<String> {
    if name.is_empty() || name.chars().count() > max {
        return Err(Fail::invalid(
            pos,
            format!("{what} must be 1 to {max} characters"),
        ));
    }
    if let Some(c) = name.chars().find(|c| !valid_char(*c)) {
        return Err(Fail::invalid(
            pos,
            format!("{what} '{name}' contains '{c}' (allowed: letters, digits, '-' and '_')"),
        ));
    }
    Ok(name)
}
