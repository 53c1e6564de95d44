//! The deployment engine: the state machine of one deployment ([`Platform::advance_deployment`]),
//! hooks, health checks, and the task that re-evaluates every deployment in progress.

use super::alarms::AlarmRule;
use super::checks::{ROLLBACK_ERROR_RATE, error_rate_reason};
use super::record::{
    Deployment, DeploymentStatus, HOOK_ERROR_CHARS_MAX, HookState, HookStatus, truncate_chars,
};
use super::schedule::{FULL_PERCENT, Progress};
use super::{DEPLOYMENTS_KEPT_PER_FUNCTION, ENGINE_TICK};
use crate::functions::ControlError;
use crate::invoke::InvokeRequest;
use crate::platform::Platform;
use crate::version_metrics::BUCKET_MS;
use nimbus_api::names;
use nimbus_api::stack::AlarmSpec;
use nimbus_api::versions::{AliasRoutingConfiguration, UpdateAliasRequest};
use nimbus_store::DeploymentRow;
use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use tokio::sync::Notify;

/// Status changes one evaluation may make (Created → PreTraffic → Shifting → PostTraffic →
/// Succeeded is four; a rollback two more): a bound against a loop, far above real needs.
const TRANSITIONS_PER_PASS_MAX: usize = 8;

/// The two lifecycle hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    PreTraffic,
    PostTraffic,
}

impl Phase {
    fn label(self) -> &'static str {
        match self {
            Phase::PreTraffic => "PreTraffic",
            Phase::PostTraffic => "PostTraffic",
        }
    }

    /// The deployment status during which this hook runs.
    fn status(self) -> DeploymentStatus {
        match self {
            Phase::PreTraffic => DeploymentStatus::PreTraffic,
            Phase::PostTraffic => DeploymentStatus::PostTraffic,
        }
    }

    fn hook(self, d: &mut Deployment) -> Option<&mut HookState> {
        match self {
            Phase::PreTraffic => d.hooks.pre_traffic.as_mut(),
            Phase::PostTraffic => d.hooks.post_traffic.as_mut(),
        }
    }
}

/// Starts a rollback: the next evaluation restores the alias.
pub(super) fn begin_rollback(d: &mut Deployment, now: i64, reason: String) {
    d.status = DeploymentStatus::RollingBack;
    d.progress.next_step_ms = None;
    d.event(now, format!("rolling back: {reason}"));
    d.reason = Some(reason);
}

impl Platform {
    /// Starts the engine task (from `Platform::open`).
    pub(crate) fn start_deployments_engine(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let _ = self.deployments.platform.set(Arc::downgrade(self));
        tokio::spawn(engine_loop(
            Arc::downgrade(self),
            Arc::clone(&self.deployments.wake),
            Arc::clone(&self.clock_tick),
        ))
    }

    /// One evaluation of every deployment in progress.
    async fn advance_all_deployments(&self) {
        let _guard = self.deployments.lock.lock().await;
        let rows = match self.deployments.store.list_deployments_in_progress().await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "could not list deployments in progress");
                return;
            }
        };
        let now = self.config.clock.now_ms();
        for row in rows {
            let mut d = match Deployment::from_row(row.clone()) {
                Ok(d) => d,
                Err(e) => {
                    self.fail_unreadable(row, &e, now).await;
                    continue;
                }
            };
            self.advance_deployment(&mut d, now).await;
            if let Err(e) = self.save_deployment(&d, Some(&row)).await {
                tracing::warn!(deployment = %d.id, error = %e, "could not save a deployment");
            }
        }
    }

    /// A row the engine cannot read is ended (and says why) rather than retried forever.
    async fn fail_unreadable(&self, mut row: DeploymentRow, error: &str, now: i64) {
        tracing::error!(deployment = %row.id, %error, "unreadable deployment; marking it Failed");
        row.status = DeploymentStatus::Failed.as_str().to_string();
        row.in_progress = false;
        row.next_step_ms = None;
        row.reason = Some(format!("unreadable deployment record: {error}"));
        row.updated_ms = now;
        if let Err(e) = self.deployments.store.put_deployment(&row).await {
            tracing::warn!(deployment = %row.id, error = %e, "could not save a deployment");
        }
    }

    /// Stores `d` if it differs from `before`; prunes old deployments once it is finished.
    pub(super) async fn save_deployment(
        &self,
        d: &Deployment,
        before: Option<&DeploymentRow>,
    ) -> Result<(), ControlError> {
        let row = d
            .to_row()
            .map_err(|e| ControlError::service("could not encode the deployment", e))?;
        if before == Some(&row) {
            return Ok(());
        }
        self.deployments
            .store
            .put_deployment(&row)
            .await
            .map_err(|e| ControlError::service("could not save the deployment", e))?;
        if d.status.is_terminal() {
            tracing::info!(deployment = %d.id, status = d.status.as_str(), reason = ?d.reason, "deployment finished");
            if let Err(e) = self
                .deployments
                .store
                .prune_deployments(&d.function, DEPLOYMENTS_KEPT_PER_FUNCTION)
                .await
            {
                tracing::warn!(error = %e, "could not prune old deployments");
            }
        }
        Ok(())
    }

    /// Takes every transition due at `now` (the deployments lock is held).
    pub(super) async fn advance_deployment(&self, d: &mut Deployment, now: i64) {
        for _ in 0..TRANSITIONS_PER_PASS_MAX {
            let before = d.status;
            match d.status {
                DeploymentStatus::Created => on_created(d, now),
                DeploymentStatus::PreTraffic => self.on_hook_phase(d, Phase::PreTraffic, now),
                DeploymentStatus::Shifting => self.on_shifting(d, now).await,
                DeploymentStatus::PostTraffic => self.on_hook_phase(d, Phase::PostTraffic, now),
                DeploymentStatus::RollingBack => self.on_rolling_back(d, now).await,
                DeploymentStatus::Succeeded
                | DeploymentStatus::RolledBack
                | DeploymentStatus::Failed => {}
            }
            if d.status == before {
                return;
            }
        }
    }

    /// PreTraffic or PostTraffic: health (once traffic flows), then the hook's state decides.
    fn on_hook_phase(&self, d: &mut Deployment, phase: Phase, now: i64) {
        if phase == Phase::PostTraffic
            && let Some(reason) = self.unhealthy(d, now)
        {
            begin_rollback(d, now, reason);
            return;
        }
        let hook = phase
            .hook(d)
            .map(|h| (h.status, h.function_name.clone(), h.error.clone()));
        match hook {
            None | Some((HookStatus::Succeeded, _, _)) => match phase {
                Phase::PreTraffic => {
                    d.status = DeploymentStatus::Shifting;
                    d.event(now, "traffic shifting begins");
                }
                Phase::PostTraffic => {
                    d.status = DeploymentStatus::Succeeded;
                    d.event(
                        now,
                        format!(
                            "succeeded: alias {} serves version {}",
                            d.alias, d.to_version
                        ),
                    );
                }
            },
            Some((HookStatus::Failed, function, error)) => {
                let error = error.unwrap_or_default();
                begin_rollback(
                    d,
                    now,
                    format!("{} hook {function} failed: {error}", phase.label()),
                );
            }
            Some((HookStatus::Pending | HookStatus::Running, _, _)) => {
                self.ensure_hook(d, phase, now);
            }
        }
    }

    /// Shifting: health, then every step due.
    async fn on_shifting(&self, d: &mut Deployment, now: i64) {
        let started = d.progress.percent > 0;
        if started && let Some(reason) = self.unhealthy(d, now) {
            begin_rollback(d, now, reason);
            return;
        }
        let next = if started {
            d.progress.catch_up(d.kind, now)
        } else {
            Progress::first(d.kind, now)
        };
        if next != d.progress {
            if let Err(e) = self.set_traffic(d, next.percent).await {
                begin_rollback(d, now, format!("could not shift traffic: {e}"));
                return;
            }
            d.progress = next;
            d.event(
                now,
                format!(
                    "{} % of alias {} on version {}",
                    next.percent, d.alias, d.to_version
                ),
            );
        }
        if d.progress.percent >= FULL_PERCENT {
            d.status = DeploymentStatus::PostTraffic;
            d.event(now, "all traffic shifted");
        }
    }

    /// Restores the alias (when it moved) and ends the deployment.
    async fn on_rolling_back(&self, d: &mut Deployment, now: i64) {
        if d.progress.percent == 0 {
            d.status = DeploymentStatus::RolledBack;
            d.event(now, format!("rolled back: alias {} untouched", d.alias));
            return;
        }
        match self.set_traffic(d, 0).await {
            Ok(()) => {
                d.progress.percent = 0;
                d.status = DeploymentStatus::RolledBack;
                d.event(
                    now,
                    format!(
                        "rolled back: alias {} on version {}",
                        d.alias, d.from_version
                    ),
                );
            }
            Err(e) => {
                d.status = DeploymentStatus::Failed;
                let reason = format!(
                    "{}; rollback failed: {e}",
                    d.reason.as_deref().unwrap_or("rollback")
                );
                d.event(now, reason.clone());
                d.reason = Some(reason);
            }
        }
    }

    /// Points the alias so that `percent` of its traffic goes to the new version, through
    /// the platform's own UpdateAlias (store, cache and provisioned concurrency follow).
    async fn set_traffic(&self, d: &Deployment, percent: u32) -> Result<(), String> {
        let (primary, weights) = match percent {
            0 => (d.from_version.clone(), BTreeMap::new()),
            p if p >= FULL_PERCENT => (d.to_version.clone(), BTreeMap::new()),
            p => (
                d.from_version.clone(),
                BTreeMap::from([(d.to_version.clone(), f64::from(p) / f64::from(FULL_PERCENT))]),
            ),
        };
        let req = UpdateAliasRequest {
            function_version: Some(primary),
            description: None,
            routing_config: Some(AliasRoutingConfiguration {
                additional_version_weights: Some(weights),
            }),
            revision_id: None,
        };
        self.update_alias(&d.function, &d.alias, req)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The built-in error-rate check, then every alarm; the first trip's reason.
    fn unhealthy(&self, d: &Deployment, now: i64) -> Option<String> {
        let totals = self
            .version_metrics
            .window(&d.function, &d.to_version, d.started_ms, now + 1);
        if let Some(reason) = error_rate_reason(&totals, &d.to_version, ROLLBACK_ERROR_RATE) {
            return Some(reason);
        }
        let now_minute = now.div_euclid(BUCKET_MS);
        for spec in &d.alarms {
            // Checked when the deployment started; an alarm stored unreadable is skipped.
            let Ok(rule) = AlarmRule::parse(spec) else {
                continue;
            };
            let (function, version) = self.alarm_source(spec, d);
            let window = rule.window_minutes();
            let first = now_minute - i64::try_from(window).unwrap_or(0) + 1;
            let minutes =
                self.version_metrics
                    .minutes(&function, version.as_deref(), first, window);
            if let Some(value) = rule.evaluate(&minutes) {
                return Some(rule.reason(value));
            }
        }
        None
    }

    /// Which series an alarm watches: `Resource` `fn:version` that version; `fn:alias` the
    /// deployment's new version when it is this deployment's alias, else the alias's primary
    /// version; `FunctionName` alone every version of the function (none: this function).
    fn alarm_source(&self, spec: &AlarmSpec, d: &Deployment) -> (String, Option<String>) {
        if let Some((function, qualifier)) =
            spec.resource.as_deref().and_then(|r| r.rsplit_once(':'))
        {
            if names::is_version_number(qualifier) || qualifier == "$LATEST" {
                return (function.to_string(), Some(qualifier.to_string()));
            }
            if function == d.function && qualifier == d.alias {
                return (function.to_string(), Some(d.to_version.clone()));
            }
            let primary = self.alias(function, qualifier).map(|a| a.function_version);
            return (function.to_string(), primary);
        }
        let function = spec
            .function_name
            .clone()
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| d.function.clone());
        (function, None)
    }

    /// Invokes the phase's hook in its own task unless it is already running.
    fn ensure_hook(&self, d: &mut Deployment, phase: Phase, now: i64) {
        if self.deployments.hooks_running().contains(&d.id) {
            return;
        }
        let Some(platform) = self.deployments.platform.get().and_then(Weak::upgrade) else {
            // The engine has not started yet; it runs the hook when it does.
            return;
        };
        let deployment_id = d.id.clone();
        let execution_id = uuid::Uuid::new_v4().to_string();
        let Some(hook) = phase.hook(d) else {
            return;
        };
        hook.status = HookStatus::Running;
        hook.execution_id = Some(execution_id.clone());
        hook.error = None;
        let function = hook.function_name.clone();
        d.event(
            now,
            format!(
                "{} hook {function} invoked (LifecycleEventHookExecutionId {execution_id})",
                phase.label()
            ),
        );
        self.deployments
            .hooks_running()
            .insert(deployment_id.clone());
        tokio::spawn(async move {
            let outcome = platform
                .run_hook(&function, &deployment_id, &execution_id)
                .await;
            platform
                .hook_finished(&deployment_id, phase, &execution_id, outcome)
                .await;
        });
    }

    /// Invokes a hook function synchronously with CodeDeploy's payload; `Err` says why the
    /// hook failed.
    async fn run_hook(
        self: &Arc<Self>,
        function: &str,
        deployment_id: &str,
        execution_id: &str,
    ) -> Result<(), String> {
        let payload = serde_json::json!({
            "DeploymentId": deployment_id,
            "LifecycleEventHookExecutionId": execution_id,
        });
        let req = InvokeRequest {
            function: function.to_string(),
            qualifier: None,
            payload: bytes::Bytes::from(payload.to_string()),
            log_tail: false,
            client_context: None,
            request_id: None,
            trigger: crate::metering::Trigger::DeploymentHook,
            trace: None,
            queued_since_ms: None,
        };
        match self.invoke(req).await {
            Ok(resp) if resp.function_error => Err(format!(
                "function error: {}",
                truncate_chars(
                    &String::from_utf8_lossy(&resp.payload),
                    HOOK_ERROR_CHARS_MAX
                )
            )),
            Ok(_) => Ok(()),
            Err(e) => Err(format!(
                "invoke failed: {}",
                truncate_chars(&e.to_string(), HOOK_ERROR_CHARS_MAX)
            )),
        }
    }

    /// Records a hook's outcome and evaluates the deployment at once. An outcome for a run
    /// the deployment no longer waits for (stopped, or re-run after a restart) is ignored.
    async fn hook_finished(
        &self,
        deployment_id: &str,
        phase: Phase,
        execution_id: &str,
        outcome: Result<(), String>,
    ) {
        let _guard = self.deployments.lock.lock().await;
        self.deployments.hooks_running().remove(deployment_id);
        let row = match self.deployments.store.get_deployment(deployment_id).await {
            Ok(Some(row)) => row,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(deployment = %deployment_id, error = %e, "could not read a deployment; its hook runs again");
                self.deployments.wake.notify_one();
                return;
            }
        };
        let Ok(mut d) = Deployment::from_row(row.clone()) else {
            return;
        };
        let now = self.config.clock.now_ms();
        if d.status != phase.status() {
            return;
        }
        let Some(hook) = phase.hook(&mut d) else {
            return;
        };
        if hook.execution_id.as_deref() != Some(execution_id) {
            return;
        }
        let function = hook.function_name.clone();
        let message = match outcome {
            Ok(()) => {
                hook.status = HookStatus::Succeeded;
                format!("{} hook {function} succeeded", phase.label())
            }
            Err(e) => {
                hook.status = HookStatus::Failed;
                hook.error = Some(e.clone());
                format!("{} hook {function} failed: {e}", phase.label())
            }
        };
        d.event(now, message);
        self.advance_deployment(&mut d, now).await;
        if let Err(e) = self.save_deployment(&d, Some(&row)).await {
            tracing::warn!(deployment = %d.id, error = %e, "could not save a deployment");
        }
        self.deployments.wake.notify_one();
    }
}

/// Created: the PreTraffic hook first, if there is one.
fn on_created(d: &mut Deployment, now: i64) {
    if d.hooks.pre_traffic.is_some() {
        d.status = DeploymentStatus::PreTraffic;
        d.event(now, "PreTraffic hook pending");
    } else {
        d.status = DeploymentStatus::Shifting;
        d.event(now, "traffic shifting begins");
    }
}

/// Re-evaluates every deployment in progress each [`ENGINE_TICK`], when woken, and when
/// the clock is moved by hand ([`Platform::clock_advanced`]).
async fn engine_loop(platform: Weak<Platform>, wake: Arc<Notify>, clock_tick: Arc<Notify>) {
    loop {
        // Registered before the pass, so a wake-up during it is not lost.
        let woken = wake.notified();
        let ticked = clock_tick.notified();
        tokio::pin!(woken);
        tokio::pin!(ticked);
        woken.as_mut().enable();
        ticked.as_mut().enable();
        {
            let Some(platform) = platform.upgrade() else {
                return;
            };
            platform.advance_all_deployments().await;
        }
        tokio::select! {
            _ = woken => {}
            _ = ticked => {}
            _ = tokio::time::sleep(ENGINE_TICK) => {}
        }
    }
}
