//! Provisioned concurrency: per version or alias, that many execution environments are
//! initialised ahead of traffic (`AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency`,
//! Init capped at max(130 s, timeout) rather than 10 s), kept warm, never reaped while
//! configured, and replaced when they die.
//!
//! The configuration is the truth (store first, then [`ProvisionedState`]); a reconciler
//! brings the environments to it: on every change and every
//! [`PROVISIONED_RECONCILE_INTERVAL`]. An environment belongs to a configuration through
//! [`Env::provisioned_for`]; handing it back to on-demand (config deleted, alias moved,
//! fewer requested) makes it an ordinary idle environment that the keep-alive reaps.
//! Status is derived, not stored: READY once as many live environments as requested are
//! initialised, FAILED (with the init error) after a failed Init until the retry, else
//! IN_PROGRESS.

use crate::env::Env;
use crate::functions::{ControlError, page_size, violation};
use crate::limits::{
    PROVISIONED_INIT_TIMEOUT_MIN, PROVISIONED_RECONCILE_INTERVAL, PROVISIONED_RETRY_AFTER_FAILURE,
    PROVISIONED_STARTS_CONCURRENT_MAX,
};
use crate::logs::{self, InvocationLog, ReportStatus};
use crate::model::FunctionVersion;
use crate::platform::Platform;
use nimbus_api::error::{ErrorBody, ErrorCode};
use nimbus_api::names;
use nimbus_api::validate::{self, ValidationFailure, Violation};
use nimbus_api::versions::{
    ListProvisionedConcurrencyConfigsResponse, ProvisionedConcurrencyConfig,
    ProvisionedConcurrencyConfigListItem, ProvisionedConcurrencyStatus,
    PutProvisionedConcurrencyConfigRequest,
};
use nimbus_store::ProvisionedRow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::{Notify, Semaphore};
use tokio::time::{Duration, Instant};

/// Lambda's hard ceiling on any Init, provisioned or not (the function timeout maximum).
const INIT_TIMEOUT_MAX: Duration = Duration::from_secs(900);

/// The request member named in validation messages.
const PROVISIONED_MEMBER: &str = "provisionedConcurrentExecutions";

/// `(function, qualifier)`.
type ConfigKey = (String, String);

#[derive(Debug, Clone)]
struct Config {
    requested: u32,
    modified_ms: i64,
    /// Inits in progress, by environment key.
    starting: HashMap<String, u32>,
    /// The last Init failure and when it happened; no new starts until the retry delay.
    failure: Option<(Instant, String)>,
}

/// The provisioned-concurrency configurations and the reconciler's bookkeeping.
pub(crate) struct ProvisionedState {
    configs: Mutex<HashMap<ConfigKey, Config>>,
    wake: Arc<Notify>,
    starts: Arc<Semaphore>,
}

impl Default for ProvisionedState {
    fn default() -> Self {
        Self {
            configs: Mutex::new(HashMap::new()),
            wake: Arc::new(Notify::new()),
            starts: Arc::new(Semaphore::new(PROVISIONED_STARTS_CONCURRENT_MAX)),
        }
    }
}

impl ProvisionedState {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ConfigKey, Config>> {
        self.configs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The owner tag an environment of a configuration carries.
fn owner_tag(function: &str, qualifier: &str) -> String {
    format!("{function}\u{0}{qualifier}")
}

/// A configuration's environments as counted now.
struct Allocation {
    allocated: u32,
}

impl Platform {
    /// Loads the configurations at start-up and tells admission about them.
    pub(crate) async fn load_provisioned(&self) -> anyhow::Result<()> {
        let rows = self.store.list_provisioned().await?;
        {
            let mut configs = self.provisioned.lock();
            for row in rows {
                configs.insert(
                    (row.function_name, row.qualifier),
                    Config {
                        requested: u32::try_from(row.requested).unwrap_or(0),
                        modified_ms: row.modified_ms,
                        starting: HashMap::new(),
                        failure: None,
                    },
                );
            }
        }
        let functions: Vec<String> = self
            .provisioned
            .lock()
            .keys()
            .map(|(f, _)| f.clone())
            .collect();
        for f in functions {
            self.admission
                .set_provisioned(&f, self.provisioned_total(&f, None));
        }
        Ok(())
    }

    /// Starts the reconciler (once, at open).
    pub(crate) fn start_provisioned_reconciler(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let wake = Arc::clone(&self.provisioned.wake);
        tokio::spawn(reconcile_loop(Arc::downgrade(self), wake))
    }

    /// Something that decides which environments a configuration needs changed (an alias
    /// moved, a configuration was written): reconcile now rather than at the next tick.
    pub(crate) fn provisioned_changed(&self) {
        self.provisioned.wake.notify_one();
    }

    /// Drops the configurations of `function` (all, or the one on `qualifier`) after the
    /// store deleted them (function, version or alias deleted).
    pub(crate) fn forget_provisioned(&self, function: &str, qualifier: Option<&str>) {
        self.provisioned
            .lock()
            .retain(|(f, q), _| f != function || qualifier.is_some_and(|x| x != q));
        self.admission
            .set_provisioned(function, self.provisioned_total(function, None));
        self.provisioned_changed();
    }

    /// Σ requested over `function`'s configurations, with `replace` standing in for one.
    fn provisioned_total(&self, function: &str, replace: Option<(&str, u32)>) -> u32 {
        let configs = self.provisioned.lock();
        let total = configs
            .iter()
            .filter(|((f, q), _)| f == function && replace.is_none_or(|(rq, _)| rq != q))
            .fold(0u32, |sum, (_, c)| sum.saturating_add(c.requested));
        total.saturating_add(replace.map_or(0, |(_, n)| n))
    }

    /// PutProvisionedConcurrencyConfig (answered 202 while the environments initialise).
    pub async fn put_provisioned_concurrency(
        &self,
        function: &str,
        qualifier: Option<&str>,
        req: PutProvisionedConcurrencyConfigRequest,
    ) -> Result<ProvisionedConcurrencyConfig, ControlError> {
        let (name, qualifier) = self.provisioned_target(function, qualifier).await?;
        let requested = match req.provisioned_concurrent_executions {
            None => return Err(violation(Violation::null(PROVISIONED_MEMBER))),
            Some(n) if n < 1 => {
                return Err(violation(Violation::new(
                    n.to_string(),
                    PROVISIONED_MEMBER,
                    validate::min_value(1),
                )));
            }
            // Past u32 it cannot fit any account: admission refuses it below.
            Some(n) => u32::try_from(n).unwrap_or(u32::MAX),
        };
        let _writes = self.writes.lock().await;
        let total = self.provisioned_total(&name, Some((&qualifier, requested)));
        self.admission
            .check_provisioned(&name, total)
            .map_err(|e| {
                ControlError::Invalid(ValidationFailure::invalid_parameter(e.to_string()))
            })?;
        let now = crate::clock::now_ms();
        self.store
            .put_provisioned(&ProvisionedRow {
                function_name: name.clone(),
                qualifier: qualifier.clone(),
                requested: i64::from(requested),
                modified_ms: now,
            })
            .await
            .map_err(|e| ControlError::service("could not save the configuration", e))?;
        {
            let mut configs = self.provisioned.lock();
            let entry = configs
                .entry((name.clone(), qualifier.clone()))
                .or_insert(Config {
                    requested,
                    modified_ms: now,
                    starting: HashMap::new(),
                    failure: None,
                });
            entry.requested = requested;
            entry.modified_ms = now;
            // A new request is a new attempt.
            entry.failure = None;
        }
        self.admission.set_provisioned(&name, total);
        drop(_writes);
        tracing::info!(function = %name, qualifier = %qualifier, requested, "provisioned concurrency configured");
        self.provisioned_changed();
        self.provisioned_config(&name, &qualifier)
            .ok_or_else(|| self.provisioned_not_found())
    }

    /// GetProvisionedConcurrencyConfig.
    pub async fn get_provisioned_concurrency(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<ProvisionedConcurrencyConfig, ControlError> {
        let (name, qualifier) = self.provisioned_key(function, qualifier)?;
        self.provisioned_config(&name, &qualifier)
            .ok_or_else(|| self.provisioned_not_found())
    }

    /// DeleteProvisionedConcurrencyConfig. Its environments become on-demand ones (reaped
    /// after the keep-alive).
    pub async fn delete_provisioned_concurrency(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(), ControlError> {
        let (name, qualifier) = self.provisioned_key(function, qualifier)?;
        let _writes = self.writes.lock().await;
        let deleted = self
            .store
            .delete_provisioned(&name, &qualifier)
            .await
            .map_err(|e| ControlError::service("could not delete the configuration", e))?;
        if !deleted {
            return Err(self.provisioned_not_found());
        }
        self.forget_provisioned(&name, Some(&qualifier));
        tracing::info!(function = %name, qualifier = %qualifier, "provisioned concurrency removed");
        Ok(())
    }

    /// ListProvisionedConcurrencyConfigs (one page: a function has few aliases and versions
    /// with a configuration; `MaxItems` and `Marker` page by qualifier).
    pub async fn list_provisioned_concurrency(
        &self,
        function: &str,
        marker: Option<&str>,
        max_items: Option<&str>,
    ) -> Result<ListProvisionedConcurrencyConfigsResponse, ControlError> {
        let name = self.unqualified_name(function)?;
        self.latest_or_404(&name)?;
        let page = page_size(max_items)?;
        let mut qualifiers: Vec<String> = self
            .provisioned
            .lock()
            .keys()
            .filter(|(f, q)| f == &name && marker.is_none_or(|m| q.as_str() > m))
            .map(|(_, q)| q.clone())
            .collect();
        qualifiers.sort();
        let more = qualifiers.len() > page;
        qualifiers.truncate(page);
        let items = qualifiers
            .iter()
            .filter_map(|q| {
                Some(ProvisionedConcurrencyConfigListItem {
                    function_arn: Some(format!("{}:{q}", self.function_arn(&name))),
                    config: self.provisioned_config(&name, q)?,
                })
            })
            .collect();
        Ok(ListProvisionedConcurrencyConfigsResponse {
            provisioned_concurrency_configs: Some(items),
            next_marker: if more {
                qualifiers.last().cloned()
            } else {
                None
            },
        })
    }

    /// The function and qualifier a Put names; the qualifier must be a published version or
    /// an alias of one.
    async fn provisioned_target(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(String, String), ControlError> {
        let (name, qualifier) = self.provisioned_key(function, qualifier)?;
        self.latest_or_404(&name)?;
        let unpublished = || {
            ControlError::Invalid(ValidationFailure::invalid_parameter(
                "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
            ))
        };
        if qualifier == "$LATEST" {
            return Err(unpublished());
        }
        let resolved = self
            .resolve_qualifier(&name, Some(&qualifier), false)
            .await
            .map_err(|e| ControlError::service("could not read the version", e))?;
        match resolved {
            None => Err(ControlError::Lambda(ErrorBody::function_not_found(
                &format!("{}:{qualifier}", self.function_arn(&name)),
            ))),
            Some(r) if r.function.version == "$LATEST" => Err(unpublished()),
            Some(_) => Ok((name, qualifier)),
        }
    }

    /// Function name and the required qualifier of a provisioned-concurrency call.
    fn provisioned_key(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(String, String), ControlError> {
        let (r, q) = self.parse_qualified(function, qualifier)?;
        let Some(q) = q else {
            return Err(violation(Violation::null("qualifier")));
        };
        if !names::is_version_number(&q) && q != "$LATEST" {
            names::validate_alias_name(&q).map_err(|e| ControlError::Invalid(e.to_failure()))?;
        }
        Ok((r.name, q))
    }

    fn provisioned_not_found(&self) -> ControlError {
        ControlError::Lambda(ErrorBody::new(
            ErrorCode::ProvisionedConcurrencyConfigNotFound,
            "No Provisioned Concurrency Config found for this function",
        ))
    }

    /// A configuration as the API shows it.
    fn provisioned_config(
        &self,
        name: &str,
        qualifier: &str,
    ) -> Option<ProvisionedConcurrencyConfig> {
        let config = self
            .provisioned
            .lock()
            .get(&(name.to_string(), qualifier.to_string()))
            .cloned()?;
        let Allocation { allocated } = self.allocation(name, qualifier);
        let failed = config
            .failure
            .as_ref()
            .filter(|_| allocated < config.requested)
            .map(|(_, reason)| reason.clone());
        let status = if allocated >= config.requested {
            ProvisionedConcurrencyStatus::Ready
        } else if failed.is_some() {
            ProvisionedConcurrencyStatus::Failed
        } else {
            ProvisionedConcurrencyStatus::InProgress
        };
        Some(ProvisionedConcurrencyConfig {
            requested_provisioned_concurrent_executions: Some(i64::from(config.requested)),
            allocated_provisioned_concurrent_executions: Some(i64::from(
                allocated.min(config.requested),
            )),
            available_provisioned_concurrent_executions: Some(i64::from(
                allocated.min(config.requested),
            )),
            status: Some(status),
            status_reason: failed,
            last_modified: Some(nimbus_api::time::format_last_modified(config.modified_ms)),
        })
    }

    /// Live, initialised environments of a configuration.
    fn allocation(&self, name: &str, qualifier: &str) -> Allocation {
        let tag = owner_tag(name, qualifier);
        let allocated = self
            .pool
            .live()
            .iter()
            .filter(|e| e.is_usable() && e.provisioned_for().as_deref() == Some(tag.as_str()))
            .count();
        Allocation {
            allocated: u32::try_from(allocated).unwrap_or(u32::MAX),
        }
    }

    /// The environments a configuration needs, per version snapshot: an alias with a
    /// weighted second version gets the split of its weights (as Lambda distributes it).
    async fn provisioned_targets(
        &self,
        name: &str,
        qualifier: &str,
        requested: u32,
    ) -> Vec<(Arc<FunctionVersion>, u32)> {
        let mut out = Vec::new();
        let (primary, extra) = if names::is_version_number(qualifier) {
            (qualifier.to_string(), None)
        } else {
            match self.alias(name, qualifier) {
                Some(row) => (
                    row.function_version.clone(),
                    row.additional_version.clone().zip(row.additional_weight),
                ),
                None => return out,
            }
        };
        let extra_n = extra
            .as_ref()
            .map(|(_, w)| (f64::from(requested) * w).round() as u32)
            .unwrap_or(0)
            .min(requested);
        let mut wanted = vec![(primary, requested - extra_n)];
        if let Some((v, _)) = extra {
            wanted.push((v, extra_n));
        }
        for (version, n) in wanted {
            if n == 0 || version == "$LATEST" {
                continue;
            }
            if let Ok(Some(f)) = self.published(name, &version).await {
                out.push((f, n));
            }
        }
        out
    }

    /// One pass of the reconciler: hand back surplus environments, start missing ones.
    async fn reconcile_provisioned(self: &Arc<Self>) {
        let configs: Vec<(ConfigKey, Config)> = self
            .provisioned
            .lock()
            .iter()
            .map(|(k, c)| (k.clone(), c.clone()))
            .collect();
        // Environments by owner, then by snapshot.
        let mut owned: HashMap<String, HashMap<String, Vec<Arc<Env>>>> = HashMap::new();
        for env in self.pool.live() {
            if let Some(tag) = env.provisioned_for() {
                if env.is_usable() {
                    owned
                        .entry(tag)
                        .or_default()
                        .entry(env.function.env_key())
                        .or_default()
                        .push(env);
                } else {
                    // Dead: it no longer counts; the pool tears it down.
                    env.set_provisioned_for(None);
                }
            }
        }
        for ((name, qualifier), config) in configs {
            let tag = owner_tag(&name, &qualifier);
            let targets = self
                .provisioned_targets(&name, &qualifier, config.requested)
                .await;
            let mut mine = owned.remove(&tag).unwrap_or_default();
            for (function, n) in targets {
                let key = function.env_key();
                let have = mine.remove(&key).unwrap_or_default();
                let have_n = u32::try_from(have.len()).unwrap_or(u32::MAX);
                for surplus in have.iter().skip(n as usize) {
                    surplus.set_provisioned_for(None);
                }
                let starting = config.starting.get(&key).copied().unwrap_or(0);
                let backing_off = config
                    .failure
                    .as_ref()
                    .is_some_and(|(at, _)| at.elapsed() < PROVISIONED_RETRY_AFTER_FAILURE);
                let missing = n.saturating_sub(have_n + starting);
                if missing == 0 || backing_off {
                    continue;
                }
                if let Some(c) = self
                    .provisioned
                    .lock()
                    .get_mut(&(name.clone(), qualifier.clone()))
                {
                    *c.starting.entry(key.clone()).or_insert(0) += missing;
                } else {
                    continue;
                }
                for _ in 0..missing {
                    let platform = Arc::clone(self);
                    let function = Arc::clone(&function);
                    let (name, qualifier) = (name.clone(), qualifier.clone());
                    tokio::spawn(async move {
                        platform
                            .start_provisioned_env(&name, &qualifier, function)
                            .await;
                    });
                }
            }
            // Snapshots the configuration no longer wants (the alias moved).
            for env in mine.into_values().flatten() {
                env.set_provisioned_for(None);
            }
        }
        // Owners without a configuration (deleted).
        for env in owned.into_values().flat_map(HashMap::into_values).flatten() {
            env.set_provisioned_for(None);
        }
    }

    /// Initialises one environment for a configuration.
    async fn start_provisioned_env(
        self: Arc<Self>,
        name: &str,
        qualifier: &str,
        function: Arc<FunctionVersion>,
    ) {
        let result = self.init_provisioned_env(name, qualifier, &function).await;
        let key = function.env_key();
        let mut configs = self.provisioned.lock();
        let Some(config) = configs.get_mut(&(name.to_string(), qualifier.to_string())) else {
            return;
        };
        if let Some(n) = config.starting.get_mut(&key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                config.starting.remove(&key);
            }
        }
        if let Err(reason) = result {
            tracing::warn!(function = %name, qualifier = %qualifier, reason = %reason, "provisioned environment failed to initialise");
            config.failure = Some((Instant::now(), reason));
        }
    }

    async fn init_provisioned_env(
        &self,
        name: &str,
        qualifier: &str,
        function: &Arc<FunctionVersion>,
    ) -> Result<(), String> {
        let _slot = Arc::clone(&self.provisioned.starts)
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let (spec, interpreter) = self
            .launch_spec(function, "provisioned-concurrency")
            .await
            .map_err(|e| e.to_string())?;
        let version_line = crate::runtimes::runtime_version_line(
            &function.config.runtime,
            interpreter.as_deref(),
            &self.config.region,
        );
        let mut starting = self
            .start_env(function, &spec)
            .await
            .map_err(|e| e.to_string())?;
        let env = Arc::clone(&starting.env);
        let mut log = InvocationLog::default();
        log.push(logs::init_start_line(&version_line));
        let budget = Duration::from_secs(u64::from(function.config.timeout_s))
            .max(PROVISIONED_INIT_TIMEOUT_MIN)
            .min(INIT_TIMEOUT_MAX);
        let result = starting.wait_init(budget).await;
        let init_ms = starting.started_at.elapsed().as_secs_f64() * 1000.0;
        if matches!(result, crate::env::InitResult::TimedOut) {
            env.kill();
        }
        log.extend(env.take_logs().await);
        let failure = match result {
            crate::env::InitResult::Ready => None,
            crate::env::InitResult::TimedOut => Some((
                ReportStatus::Timeout,
                format!("Init timed out after {:.2} seconds", budget.as_secs_f64()),
            )),
            crate::env::InitResult::Failed { error_type, body } => Some((
                ReportStatus::Error(error_type.clone()),
                format!("{error_type}: {}", String::from_utf8_lossy(&body)),
            )),
            crate::env::InitResult::Exited { code, signal } => Some((
                ReportStatus::Error("Runtime.ExitError".into()),
                format!(
                    "Runtime.ExitError: Runtime exited during Init (code {code:?}, signal {signal:?})"
                ),
            )),
            crate::env::InitResult::ExecFailed { message, .. } => Some((
                ReportStatus::Error("Runtime.InvalidEntrypoint".into()),
                format!("Runtime.InvalidEntrypoint: {message}"),
            )),
        };
        if let Some((status, reason)) = failure {
            log.push(logs::init_report_line(init_ms, "init", &status));
            self.logs
                .emit(&function.log_group(), &env.stream, log.take_unemitted());
            self.retire(env);
            return Err(reason);
        }
        self.logs
            .emit(&function.log_group(), &env.stream, log.take_unemitted());
        if self.config.cpu_hard_cap {
            env.apply_cpu_cap(function.config.memory_mb);
        }
        // Still wanted? (Deleted or replaced while it initialised: it serves on-demand.)
        let wanted = self
            .provisioned
            .lock()
            .contains_key(&(name.to_string(), qualifier.to_string()));
        if wanted {
            env.set_provisioned_for(Some(owner_tag(name, qualifier)));
        }
        if let Some(env) = self.pool.release(env, true) {
            self.retire(env);
        }
        // The reconciler re-checks the surplus (e.g. the request was lowered meanwhile).
        self.provisioned_changed();
        Ok(())
    }
}

async fn reconcile_loop(platform: Weak<Platform>, wake: Arc<Notify>) {
    loop {
        {
            let Some(platform) = platform.upgrade() else {
                return;
            };
            platform.reconcile_provisioned().await;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(PROVISIONED_RECONCILE_INTERVAL) => {}
        }
    }
}
