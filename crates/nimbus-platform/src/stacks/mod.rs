//! Stacks: the declarative side of `nimbus deploy`. A deploy hands the engine a resolved
//! [`StackSpec`]; the engine converges the platform to it and touches only what differs, so
//! a second deploy of the same spec changes nothing.
//!
//! Durability: before anything changes, the spec being applied is stored as the stack's
//! `pending` spec next to the one it last converged to. A crash mid-deploy therefore leaves a
//! record of every resource either spec owns; the next deploy (or `stack delete`) converges
//! from whatever state the platform is in, because every step compares the platform's actual
//! state with the spec rather than with the previous spec.
//!
//! Ownership: a stack owns the functions and queues its specs name. A deploy that would take
//! over a function or queue that exists outside the stack, or a route another stack serves,
//! is refused before anything changes.

mod apply;
mod code;
mod wiring;

pub use code::UploadedCode;

use std::collections::BTreeSet;
use std::sync::Arc;

use nimbus_api::error::{ErrorBody, ErrorCode};
use nimbus_api::stack::{ChangeAction, DeployResult, ResourceChange, StackSpec};
use nimbus_store::{StackRow, StackStore};
use serde::Serialize;

use crate::Platform;
use crate::functions::ControlError;

/// Longest stack name (CloudFormation's limit).
pub const STACK_NAME_CHARS_MAX: usize = 128;
/// Most functions one stack may hold (CloudFormation allows 500 resources per template).
pub const STACK_FUNCTIONS_MAX: usize = 200;
/// Most queues one stack may hold.
pub const STACK_QUEUES_MAX: usize = 200;
/// Most events one function may have.
pub const FUNCTION_EVENTS_MAX: usize = 100;

/// Resource type words used in change summaries.
pub mod kinds {
    /// A function.
    pub const FUNCTION: &str = "AWS::Serverless::Function";
    /// A queue.
    pub const QUEUE: &str = "AWS::SQS::Queue";
    /// A published version.
    pub const VERSION: &str = "AWS::Lambda::Version";
    /// An alias.
    pub const ALIAS: &str = "AWS::Lambda::Alias";
    /// An event source mapping.
    pub const MAPPING: &str = "AWS::Lambda::EventSourceMapping";
    /// An HTTP route on the gateway.
    pub const ROUTE: &str = "Nimbus::Gateway::Route";
    /// A schedule.
    pub const SCHEDULE: &str = "Nimbus::Schedule";
    /// A function URL.
    pub const URL: &str = "AWS::Lambda::Url";
    /// A traffic-shifting deployment.
    pub const DEPLOYMENT: &str = "Nimbus::Deployment";
}

/// The stacks' store and the lock that serialises deploys and deletes (one at a time: they
/// are rare, and concurrent ones could race each other's ownership checks).
pub struct StacksState {
    pub(crate) store: Arc<dyn StackStore>,
    pub(crate) lock: tokio::sync::Mutex<()>,
    pub(crate) uploads: code::Uploads,
    /// Where clients reach the APIs and the gateway (set once by `nimbus serve` after
    /// binding; templates resolve queue URLs and route URLs against them).
    urls: std::sync::OnceLock<PublicUrls>,
}

/// The addresses `nimbus serve` listens on, as clients should use them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicUrls {
    /// The API listener (`--endpoint-url`).
    pub endpoint_url: String,
    /// The gateway listener serving HTTP routes, if on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_url: Option<String>,
}

/// What `GET /nimbus/v1/info` answers: what a deployer needs to resolve a template.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerInfo {
    /// Region in ARNs.
    pub region: String,
    /// Account id in ARNs.
    pub account_id: String,
    /// Listener addresses, once known.
    #[serde(flatten)]
    pub urls: Option<PublicUrls>,
}

impl StacksState {
    pub(crate) fn new(store: Arc<dyn StackStore>) -> Self {
        StacksState {
            store,
            lock: tokio::sync::Mutex::new(()),
            uploads: code::Uploads::default(),
            urls: std::sync::OnceLock::new(),
        }
    }
}

/// A stack as listed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StackView {
    /// Name.
    pub name: String,
    /// `CREATE_COMPLETE`, `UPDATE_FAILED`, …
    pub status: String,
    /// Why the last operation failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
    /// Last change, ms since the epoch.
    pub updated_ms: i64,
    /// The converged spec.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<StackSpec>,
}

pub(crate) fn invalid(message: impl Into<String>) -> ControlError {
    ControlError::Lambda(ErrorBody::new(ErrorCode::InvalidParameterValue, message))
}

pub(crate) fn conflict_error(message: impl Into<String>) -> ControlError {
    ControlError::Lambda(ErrorBody::new(ErrorCode::ResourceConflict, message))
}

fn not_found(message: impl Into<String>) -> ControlError {
    ControlError::Lambda(ErrorBody::new(ErrorCode::ResourceNotFound, message))
}

fn store_failed(e: impl std::fmt::Display) -> ControlError {
    ControlError::service("stack store", e)
}

fn parse_spec(json: Option<&str>) -> Result<Option<StackSpec>, ControlError> {
    match json {
        None => Ok(None),
        Some(j) => serde_json::from_str(j)
            .map(Some)
            .map_err(|e| ControlError::service("stored stack spec unreadable", e)),
    }
}

fn to_json(spec: &StackSpec) -> Result<String, ControlError> {
    serde_json::to_string(spec).map_err(|e| ControlError::service("stack spec", e))
}

/// Checks what can be checked without touching anything: names, limits, duplicates.
fn check_spec(spec: &StackSpec) -> Result<(), ControlError> {
    let name_ok = !spec.name.is_empty()
        && spec.name.len() <= STACK_NAME_CHARS_MAX
        && spec.name.starts_with(|c: char| c.is_ascii_alphabetic())
        && spec
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !name_ok {
        return Err(invalid(format!(
            "Stack name '{}' is not valid: 1-{STACK_NAME_CHARS_MAX} characters, letters, digits \
             and hyphens, starting with a letter.",
            spec.name
        )));
    }
    if spec.functions.len() > STACK_FUNCTIONS_MAX {
        return Err(invalid(format!(
            "A stack holds at most {STACK_FUNCTIONS_MAX} functions."
        )));
    }
    if spec.queues.len() > STACK_QUEUES_MAX {
        return Err(invalid(format!(
            "A stack holds at most {STACK_QUEUES_MAX} queues."
        )));
    }
    let mut names = BTreeSet::new();
    for f in &spec.functions {
        if !names.insert(f.function_name.as_str()) {
            return Err(invalid(format!(
                "Two functions of the stack are named '{}'.",
                f.function_name
            )));
        }
        if f.events.len() > FUNCTION_EVENTS_MAX {
            return Err(invalid(format!(
                "Function {} has more than {FUNCTION_EVENTS_MAX} events.",
                f.logical_id
            )));
        }
        if f.provisioned_concurrency.is_some() && f.auto_publish_alias.is_none() {
            return Err(invalid(format!(
                "Function {}: ProvisionedConcurrencyConfig needs AutoPublishAlias.",
                f.logical_id
            )));
        }
        if f.deployment_preference.is_some() && f.auto_publish_alias.is_none() {
            return Err(invalid(format!(
                "Function {}: DeploymentPreference needs AutoPublishAlias.",
                f.logical_id
            )));
        }
    }
    let mut queues = BTreeSet::new();
    for q in &spec.queues {
        if !queues.insert(q.queue_name.as_str()) {
            return Err(invalid(format!(
                "Two queues of the stack are named '{}'.",
                q.queue_name
            )));
        }
    }
    Ok(())
}

impl Platform {
    /// Rebuilds what lives only in memory from the stored stacks (the gateway's route table).
    pub(crate) async fn load_stacks(&self) -> anyhow::Result<()> {
        let rows = self.stacks.store.list_stacks().await?;
        for row in rows {
            // Routes follow the spec being applied when a deploy was cut short: its functions
            // may already have changed, and the next deploy converges either way.
            let spec = match parse_spec(row.pending_json.as_deref().or(row.spec_json.as_deref())) {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(stack = %row.name, error = %e, "stack spec unreadable; its routes are not served");
                    continue;
                }
            };
            if let Err(e) = self.install_routes(&spec) {
                tracing::error!(stack = %row.name, error = %e, "stack routes not served");
            }
        }
        Ok(())
    }

    /// Records where clients reach this server (first call wins).
    pub fn set_public_urls(&self, urls: PublicUrls) {
        let _ = self.stacks.urls.set(urls);
    }

    /// Region, account and listener addresses.
    pub fn server_info(&self) -> ServerInfo {
        ServerInfo {
            region: self.config.region.clone(),
            account_id: self.config.account_id.clone(),
            urls: self.stacks.urls.get().cloned(),
        }
    }

    /// Every stack.
    pub async fn list_stacks(&self) -> Result<Vec<StackView>, ControlError> {
        let rows = self
            .stacks
            .store
            .list_stacks()
            .await
            .map_err(store_failed)?;
        rows.into_iter().map(view).collect()
    }

    /// One stack.
    pub async fn get_stack(&self, name: &str) -> Result<StackView, ControlError> {
        match self
            .stacks
            .store
            .get_stack(name)
            .await
            .map_err(store_failed)?
        {
            Some(row) => view(row),
            None => Err(not_found(format!("Stack {name} does not exist."))),
        }
    }

    /// Converges the platform to `spec` (see the module docs).
    pub async fn deploy_stack(
        self: &Arc<Self>,
        spec: StackSpec,
    ) -> Result<DeployResult, ControlError> {
        check_spec(&spec)?;
        let _one_at_a_time = self.stacks.lock.lock().await;
        let now = self.config.clock.now_ms();
        let existing = self
            .stacks
            .store
            .get_stack(&spec.name)
            .await
            .map_err(store_failed)?;
        let (created_ms, converged, pending) = match &existing {
            Some(r) => (
                r.created_ms,
                parse_spec(r.spec_json.as_deref())?,
                parse_spec(r.pending_json.as_deref())?,
            ),
            None => (now, None, None),
        };
        let owned = apply::Owned::of([converged.as_ref(), pending.as_ref()]);
        self.check_ownership(&spec, &owned).await?;
        self.check_routes(&spec)?;
        self.check_events(&spec)?;
        let in_progress = if converged.is_some() {
            "UPDATE_IN_PROGRESS"
        } else {
            "CREATE_IN_PROGRESS"
        };
        let converged_json = converged.as_ref().map(to_json).transpose()?;
        self.put_stack_row(StackRow {
            name: spec.name.clone(),
            spec_json: converged_json.clone(),
            pending_json: Some(to_json(&spec)?),
            status: in_progress.into(),
            reason: None,
            created_ms,
            updated_ms: now,
        })
        .await?;
        let mut changes = Vec::new();
        let mut deployments = Vec::new();
        let applied = self
            .apply_spec(&spec, &owned, &mut changes, &mut deployments)
            .await;
        let now = self.config.clock.now_ms();
        match applied {
            Ok(()) => {
                let status = if converged.is_some() {
                    "UPDATE_COMPLETE"
                } else {
                    "CREATE_COMPLETE"
                };
                self.put_stack_row(StackRow {
                    name: spec.name.clone(),
                    spec_json: Some(to_json(&spec)?),
                    pending_json: None,
                    status: status.into(),
                    reason: None,
                    created_ms,
                    updated_ms: now,
                })
                .await?;
                tracing::info!(stack = %spec.name, changed = changes.iter().filter(|c| c.action != ChangeAction::NoChange).count(), "stack deployed");
                Ok(DeployResult {
                    stack: spec.name.clone(),
                    changes,
                    deployments,
                    outputs: spec.outputs.clone(),
                })
            }
            Err(e) => {
                let failed = if converged.is_some() {
                    "UPDATE_FAILED"
                } else {
                    "CREATE_FAILED"
                };
                // The pending spec stays: it names resources that may now exist.
                self.put_stack_row(StackRow {
                    name: spec.name.clone(),
                    spec_json: converged_json,
                    pending_json: Some(to_json(&spec)?),
                    status: failed.into(),
                    reason: Some(e.to_string()),
                    created_ms,
                    updated_ms: now,
                })
                .await?;
                tracing::warn!(stack = %spec.name, error = %e, "stack deploy failed");
                Err(e)
            }
        }
    }

    /// Removes everything the stack created, then the stack.
    pub async fn delete_stack(self: &Arc<Self>, name: &str) -> Result<DeployResult, ControlError> {
        let _one_at_a_time = self.stacks.lock.lock().await;
        let Some(row) = self
            .stacks
            .store
            .get_stack(name)
            .await
            .map_err(store_failed)?
        else {
            return Err(not_found(format!("Stack {name} does not exist.")));
        };
        let converged = parse_spec(row.spec_json.as_deref())?;
        let pending = parse_spec(row.pending_json.as_deref())?;
        let owned = apply::Owned::of([converged.as_ref(), pending.as_ref()]);
        let now = self.config.clock.now_ms();
        self.put_stack_row(StackRow {
            status: "DELETE_IN_PROGRESS".into(),
            reason: None,
            updated_ms: now,
            ..row.clone()
        })
        .await?;
        let empty = StackSpec {
            name: name.to_string(),
            ..StackSpec::default()
        };
        let mut changes = Vec::new();
        let mut deployments = Vec::new();
        if let Err(e) = self
            .apply_spec(&empty, &owned, &mut changes, &mut deployments)
            .await
        {
            self.put_stack_row(StackRow {
                status: "DELETE_FAILED".into(),
                reason: Some(e.to_string()),
                updated_ms: self.config.clock.now_ms(),
                ..row
            })
            .await?;
            return Err(e);
        }
        self.stacks
            .store
            .delete_stack(name)
            .await
            .map_err(store_failed)?;
        tracing::info!(stack = %name, "stack deleted");
        Ok(DeployResult {
            stack: name.to_string(),
            changes,
            deployments,
            outputs: Vec::new(),
        })
    }

    async fn put_stack_row(&self, row: StackRow) -> Result<(), ControlError> {
        self.stacks
            .store
            .put_stack(&row)
            .await
            .map_err(store_failed)
    }
}

fn view(row: StackRow) -> Result<StackView, ControlError> {
    Ok(StackView {
        spec: parse_spec(row.spec_json.as_deref())?,
        name: row.name,
        status: row.status,
        reason: row.reason,
        created_ms: row.created_ms,
        updated_ms: row.updated_ms,
    })
}

pub(crate) fn change(
    logical_id: impl Into<String>,
    resource_type: &str,
    physical_id: impl Into<String>,
    action: ChangeAction,
    detail: impl Into<String>,
) -> ResourceChange {
    ResourceChange {
        logical_id: logical_id.into(),
        resource_type: resource_type.to_string(),
        physical_id: physical_id.into(),
        action,
        detail: detail.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_api::stack::FunctionSpec;

    fn spec(name: &str) -> StackSpec {
        StackSpec {
            name: name.into(),
            ..StackSpec::default()
        }
    }

    #[test]
    fn stack_names_follow_cloudformation() {
        assert!(check_spec(&spec("my-app-2")).is_ok());
        for bad in ["", "2app", "my_app", "a b", &"a".repeat(129)] {
            assert!(check_spec(&spec(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn duplicates_and_dependencies_are_refused() {
        let f = |id: &str, name: &str| FunctionSpec {
            logical_id: id.into(),
            function_name: name.into(),
            ..FunctionSpec::default()
        };
        let mut s = spec("app");
        s.functions = vec![f("A", "same"), f("B", "same")];
        let e = check_spec(&s).unwrap_err().to_string();
        assert!(e.contains("named 'same'"), "{e}");

        let mut s = spec("app");
        let mut g = f("A", "a");
        g.provisioned_concurrency = Some(2);
        s.functions = vec![g];
        let e = check_spec(&s).unwrap_err().to_string();
        assert!(e.contains("needs AutoPublishAlias"), "{e}");
    }
}
