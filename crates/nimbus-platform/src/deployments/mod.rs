//! Safe deploys: CodeDeploy-style traffic shifting on an alias, with lifecycle hooks and
//! automatic rollback.
//!
//! A deployment moves an alias's traffic from one version to another on a schedule
//! ([`DeploymentType`]: canary, linear or all at once). The lifecycle mirrors CodeDeploy's:
//!
//! ```text
//! Created ─▶ PreTraffic hook ─▶ Shifting (10 % … 100 %) ─▶ PostTraffic hook ─▶ Succeeded
//!    any running state ─▶ RollingBack ─▶ RolledBack   (alias back on from_version, no weights)
//!                                    └─▶ Failed       (the alias could not be restored)
//! ```
//!
//! * Shifting writes the alias through [`Platform::update_alias`] (store, cache, provisioned
//!   concurrency all follow): below 100 % the alias stays on `from_version` with `to_version`
//!   in `RoutingConfig.AdditionalVersionWeights`; at 100 % its primary is `to_version` and
//!   it has no routing configuration.
//! * Hooks are functions invoked synchronously with CodeDeploy's payload
//!   `{"DeploymentId", "LifecycleEventHookExecutionId"}`; the invocation's outcome is the
//!   hook's status (no `PutLifecycleEventHookExecutionStatus`): a function error or a failed
//!   invocation fails the hook, and the deployment rolls back. A failed PreTraffic hook leaves
//!   the alias untouched.
//! * While traffic flows to the new version (Shifting, PostTraffic) every evaluation checks
//!   the built-in error rate ([`ROLLBACK_ERROR_RATE`], from [`crate::version_metrics`]) and
//!   each alarm ([`alarms`]); a trip rolls back with a reason naming the rate or the alarm.
//! * A new deployment of an alias that has one running stops that one first: it is rolled
//!   back (reason "superseded by deployment …") before the new one starts, so two never
//!   write the same alias.
//! * [`Platform::stop_deployment`] rolls back with the reason "stopped by request".
//!
//! State is durable (`deployments` table) and every time comes from the platform's wall
//! clock (`PlatformConfig::clock`). The engine task re-evaluates every deployment in
//! progress each [`ENGINE_TICK`] and whenever woken (a start, a stop, a hook's outcome,
//! [`Platform::clock_advanced`]); step times are absolute, so after a restart a deployment
//! resumes at the step it would have reached, and a hook that was running is run again with
//! a new execution id.

pub mod alarms;
pub mod checks;
mod engine;
mod record;
pub mod schedule;

pub use checks::ROLLBACK_ERROR_RATE;
pub use record::{DeploymentEvent, DeploymentStatus, DeploymentView, HookState, HookStatus, Hooks};
pub use schedule::DeploymentType;

use crate::functions::ControlError;
use crate::platform::Platform;
use alarms::AlarmRule;
use nimbus_api::error::{ErrorBody, ErrorCode};
use nimbus_api::names;
use nimbus_api::stack::{AlarmSpec, DeploymentPreferenceSpec};
use nimbus_api::validate::ValidationFailure;
use nimbus_store::DeploymentStore;
use rand::Rng;
use record::Deployment;
use schedule::Progress;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;
use tokio::sync::Notify;

/// How often the engine re-evaluates deployments in progress without being woken: bounds
/// how late a step, an alarm or a rollback can be (in real time) to one second.
pub const ENGINE_TICK: Duration = Duration::from_secs(1);
/// Finished deployments kept per function (older ones are deleted): enough history to see
/// what happened, without the table growing with every deploy.
pub const DEPLOYMENTS_KEPT_PER_FUNCTION: u32 = 50;
/// Most deployments one list returns.
pub const DEPLOYMENT_LIST_MAX: u32 = 1000;
/// Longest `owner` accepted (a stack name or a caller's label).
pub const OWNER_CHARS_MAX: usize = 256;
/// Owner recorded when the caller gives none.
pub const OWNER_DEFAULT: &str = "api";
/// Random characters after `d-` in a deployment id (CodeDeploy's ids look the same).
const ID_CHARS: usize = 9;

/// What to deploy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploymentRequest {
    /// Function name (or ARN).
    pub function: String,
    /// Alias whose traffic moves.
    pub alias: String,
    /// Version the alias serves now (and returns to on rollback).
    pub from_version: String,
    /// Version to move the traffic to.
    pub to_version: String,
    /// Type, hooks, enabled (`Enabled: false` deploys all at once). Its `Alarms` names are
    /// not read: the caller resolves them into `alarms`.
    pub preference: DeploymentPreferenceSpec,
    /// Alarms that roll the deployment back.
    pub alarms: Vec<AlarmSpec>,
    /// Who starts it (a stack name, …); empty means [`OWNER_DEFAULT`].
    pub owner: String,
}

/// The engine's shared state.
pub(crate) struct DeploymentsState {
    store: Arc<dyn DeploymentStore>,
    /// Serialises every change of a deployment (engine passes, starts, stops, hook
    /// outcomes). Never held while a hook runs.
    lock: tokio::sync::Mutex<()>,
    /// Wakes the engine (a start, a stop, a hook's outcome).
    wake: Arc<Notify>,
    /// Deployments whose hook is being invoked now (one at a time per deployment).
    hooks_running: Mutex<HashSet<String>>,
    /// The platform, for the hook tasks (set when the engine starts).
    platform: OnceLock<Weak<Platform>>,
}

impl DeploymentsState {
    /// The state on `store`.
    pub(crate) fn new(store: Arc<dyn DeploymentStore>) -> Self {
        DeploymentsState {
            store,
            lock: tokio::sync::Mutex::new(()),
            wake: Arc::new(Notify::new()),
            hooks_running: Mutex::new(HashSet::new()),
            platform: OnceLock::new(),
        }
    }

    fn hooks_running(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.hooks_running.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A new deployment id, `d-` and nine characters of `[A-Z0-9]`.
fn new_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..ID_CHARS)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("d-{tail}")
}

fn not_found(id: &str) -> ControlError {
    ControlError::Lambda(ErrorBody::new(
        ErrorCode::ResourceNotFound,
        format!("Deployment not found: {id}"),
    ))
}

fn invalid(message: impl Into<String>) -> ControlError {
    ValidationFailure::invalid_parameter(message).into()
}

impl Platform {
    /// Starts a traffic-shifting deployment of `req.alias` from `req.from_version` to
    /// `req.to_version`. A deployment of the same alias still running is rolled back first.
    /// Returns the deployment after its first evaluation (e.g. at 10 % for a canary without
    /// a PreTraffic hook).
    pub async fn start_deployment(
        &self,
        req: DeploymentRequest,
    ) -> Result<DeploymentView, ControlError> {
        let checked = self.check_deployment(&req).await?;
        let _guard = self.deployments.lock.lock().await;
        let now = self.config.clock.now_ms();
        let id = new_id();
        self.supersede(&checked.function, &req.alias, &id, now)
            .await?;
        let mut d = Deployment {
            id,
            owner: checked.owner,
            function: checked.function,
            alias: req.alias.clone(),
            from_version: req.from_version.clone(),
            to_version: req.to_version.clone(),
            kind: checked.kind,
            status: DeploymentStatus::Created,
            progress: Progress {
                step: 0,
                percent: 0,
                next_step_ms: None,
            },
            started_ms: now,
            hooks: Hooks::new(
                checked.pre_traffic_hook.clone(),
                checked.post_traffic_hook.clone(),
            ),
            alarms: req.alarms.clone(),
            reason: None,
            events: Vec::new(),
            updated_ms: now,
        };
        d.event(
            now,
            format!(
                "created: alias {} moves from version {} to {} ({})",
                d.alias,
                d.from_version,
                d.to_version,
                d.kind.name()
            ),
        );
        self.save_deployment(&d, None).await?;
        let before = d.to_row().ok();
        self.advance_deployment(&mut d, now).await;
        self.save_deployment(&d, before.as_ref()).await?;
        self.deployments.wake.notify_one();
        Ok(d.view())
    }

    /// Deployments (of `function`, or all), newest first.
    pub async fn list_deployments(
        &self,
        function: Option<&str>,
    ) -> Result<Vec<DeploymentView>, ControlError> {
        let rows = self
            .deployments
            .store
            .list_deployments(function, DEPLOYMENT_LIST_MAX)
            .await
            .map_err(|e| ControlError::service("could not list deployments", e))?;
        Ok(rows
            .into_iter()
            .filter_map(|row| match Deployment::from_row(row) {
                Ok(d) => Some(d.view()),
                Err(e) => {
                    tracing::warn!(error = %e, "skipping an unreadable deployment");
                    None
                }
            })
            .collect())
    }

    /// One deployment.
    pub async fn get_deployment(&self, id: &str) -> Result<DeploymentView, ControlError> {
        Ok(self.load_deployment(id).await?.view())
    }

    /// Stops a deployment in progress: it rolls back (reason "stopped by request").
    pub async fn stop_deployment(&self, id: &str) -> Result<DeploymentView, ControlError> {
        let _guard = self.deployments.lock.lock().await;
        let mut d = self.load_deployment(id).await?;
        if d.status.is_terminal() {
            return Err(ControlError::Lambda(ErrorBody::new(
                ErrorCode::ResourceConflict,
                format!(
                    "Deployment {id} is not in progress (status {})",
                    d.status.as_str()
                ),
            )));
        }
        let before = d.to_row().ok();
        let now = self.config.clock.now_ms();
        engine::begin_rollback(&mut d, now, "stopped by request".to_string());
        self.advance_deployment(&mut d, now).await;
        self.save_deployment(&d, before.as_ref()).await?;
        Ok(d.view())
    }

    async fn load_deployment(&self, id: &str) -> Result<Deployment, ControlError> {
        let row = self
            .deployments
            .store
            .get_deployment(id)
            .await
            .map_err(|e| ControlError::service("could not read the deployment", e))?
            .ok_or_else(|| not_found(id))?;
        Deployment::from_row(row)
            .map_err(|e| ControlError::service("could not read the deployment", e))
    }

    /// Rolls back every running deployment of `function`'s `alias` (the lock is held).
    async fn supersede(
        &self,
        function: &str,
        alias: &str,
        by: &str,
        now: i64,
    ) -> Result<(), ControlError> {
        let running = self
            .deployments
            .store
            .list_deployments_in_progress()
            .await
            .map_err(|e| ControlError::service("could not list deployments", e))?;
        for row in running
            .into_iter()
            .filter(|r| r.function_name == function && r.alias == alias)
        {
            let Ok(mut d) = Deployment::from_row(row.clone()) else {
                continue;
            };
            engine::begin_rollback(&mut d, now, format!("superseded by deployment {by}"));
            self.advance_deployment(&mut d, now).await;
            self.save_deployment(&d, Some(&row)).await?;
        }
        Ok(())
    }

    /// Validates a request: function, alias, versions, type, hooks, alarms, owner.
    async fn check_deployment(
        &self,
        req: &DeploymentRequest,
    ) -> Result<CheckedRequest, ControlError> {
        let function = self.unqualified_name(&req.function)?;
        self.latest_or_404(&function)?;
        if self.alias(&function, &req.alias).is_none() {
            return Err(ControlError::Lambda(ErrorBody::new(
                ErrorCode::ResourceNotFound,
                format!(
                    "Alias not found: {}:{}",
                    self.function_arn(&function),
                    req.alias
                ),
            )));
        }
        for (member, version) in [
            ("FromVersion", &req.from_version),
            ("ToVersion", &req.to_version),
        ] {
            if !names::is_version_number(version) {
                return Err(invalid(format!(
                    "{member} must be a published version number, got {version:?}"
                )));
            }
            let exists = self
                .published(&function, version)
                .await
                .map_err(|e| ControlError::service("could not read the version", e))?;
            if exists.is_none() {
                return Err(ControlError::not_found(&format!(
                    "{}:{version}",
                    self.function_arn(&function)
                )));
            }
        }
        if req.from_version == req.to_version {
            return Err(invalid(format!(
                "FromVersion and ToVersion are both {}: nothing to deploy",
                req.to_version
            )));
        }
        let kind = if req.preference.enabled {
            DeploymentType::parse(&req.preference.kind).ok_or_else(|| {
                invalid(format!(
                    "Unknown deployment type {:?}; valid types: {}",
                    req.preference.kind,
                    DeploymentType::valid_names().join(", ")
                ))
            })?
        } else {
            DeploymentType::AllAtOnce
        };
        let pre_traffic_hook = self.check_hook("PreTraffic", &req.preference.pre_traffic_hook)?;
        let post_traffic_hook =
            self.check_hook("PostTraffic", &req.preference.post_traffic_hook)?;
        for alarm in &req.alarms {
            AlarmRule::parse(alarm).map_err(invalid)?;
        }
        let owner = if req.owner.is_empty() {
            OWNER_DEFAULT.to_string()
        } else {
            req.owner.clone()
        };
        if owner.chars().count() > OWNER_CHARS_MAX {
            return Err(invalid(format!(
                "Owner must be at most {OWNER_CHARS_MAX} characters"
            )));
        }
        Ok(CheckedRequest {
            function,
            kind,
            pre_traffic_hook,
            post_traffic_hook,
            owner,
        })
    }

    /// A hook function must exist when the deployment starts.
    fn check_hook(
        &self,
        which: &str,
        hook: &Option<String>,
    ) -> Result<Option<String>, ControlError> {
        let Some(hook) = hook.as_deref().filter(|h| !h.is_empty()) else {
            return Ok(None);
        };
        let r = self.parse_ref(hook)?;
        if self.cached(&r.name).is_none() {
            return Err(invalid(format!(
                "{which} hook function {hook} does not exist"
            )));
        }
        Ok(Some(hook.to_string()))
    }
}

/// A request once checked.
struct CheckedRequest {
    function: String,
    kind: DeploymentType,
    pre_traffic_hook: Option<String>,
    post_traffic_hook: Option<String>,
    owner: String,
}
