//! Converging the platform to a stack spec, one resource kind at a time. Every step reads the
//! platform's actual state and changes only what differs from the spec.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use base64::Engine;
use nimbus_api::async_invoke::PutFunctionEventInvokeConfigRequest;
use nimbus_api::event_source::{
    CreateEventSourceMappingRequest, EventSourceMappingConfiguration, ScalingConfig,
    UpdateEventSourceMappingRequest,
};
use nimbus_api::function::{
    CreateFunctionRequest, DeadLetterConfig, Environment, EphemeralStorage, FunctionCode,
    TracingConfig, UpdateFunctionCodeRequest, UpdateFunctionConfigurationRequest,
};
use nimbus_api::sqs::SqsErrorCode;
use nimbus_api::stack::{
    ChangeAction, EventSource, FunctionSpec, QueueSpec, ResourceChange, StackSpec,
};
use nimbus_api::versions::{
    CreateAliasRequest, PublishVersionRequest, PutFunctionConcurrencyRequest,
    PutProvisionedConcurrencyConfigRequest, UpdateAliasRequest,
};

use super::{change, invalid, kinds};
use crate::Platform;
use crate::functions::ControlError;
use crate::model::FunctionVersion;

/// Lambda's default for a function without `Tracing`.
const TRACING_DEFAULT: &str = "PassThrough";
/// Lambda's default architecture.
const ARCHITECTURE_DEFAULT: &str = "x86_64";
/// Most mappings read back for one function (a function has a handful at most).
const MAPPINGS_PER_FUNCTION_MAX: &str = "1000";

/// Everything a stack's specs (converged and pending) name: what it may change or remove.
#[derive(Debug, Default)]
pub(crate) struct Owned {
    pub functions: BTreeMap<String, FunctionSpec>,
    pub queues: BTreeMap<String, QueueSpec>,
}

impl Owned {
    pub(crate) fn of<'a>(specs: impl IntoIterator<Item = Option<&'a StackSpec>>) -> Owned {
        let mut owned = Owned::default();
        for spec in specs.into_iter().flatten() {
            for f in &spec.functions {
                owned.functions.insert(f.function_name.clone(), f.clone());
            }
            for q in &spec.queues {
                owned.queues.insert(q.queue_name.clone(), q.clone());
            }
        }
        owned
    }
}

fn queue_error(queue: &str, e: nimbus_api::sqs::SqsError) -> ControlError {
    invalid(format!("Queue {queue}: {}", e.message))
}

fn function_error(logical: &str, e: ControlError) -> ControlError {
    let mut body = e.body();
    body.message = format!("Function {logical}: {}", body.message);
    ControlError::Lambda(body)
}

impl Platform {
    /// Refuses to take over functions or queues that exist outside the stack.
    pub(crate) async fn check_ownership(
        &self,
        spec: &StackSpec,
        owned: &Owned,
    ) -> Result<(), ControlError> {
        for f in &spec.functions {
            if !owned.functions.contains_key(&f.function_name)
                && self.latest_or_404(&f.function_name).is_ok()
            {
                return Err(super::conflict_error(format!(
                    "Function {} ({}) already exists and does not belong to stack {}.",
                    f.function_name, f.logical_id, spec.name
                )));
            }
        }
        for q in &spec.queues {
            if !owned.queues.contains_key(&q.queue_name)
                && self.queues.get(&q.queue_name).await.is_ok()
            {
                return Err(super::conflict_error(format!(
                    "Queue {} ({}) already exists and does not belong to stack {}.",
                    q.queue_name, q.logical_id, spec.name
                )));
            }
        }
        Ok(())
    }

    /// Applies `spec`; removes what `owned` names and `spec` does not.
    pub(crate) async fn apply_spec(
        self: &Arc<Self>,
        spec: &StackSpec,
        owned: &Owned,
        changes: &mut Vec<ResourceChange>,
        deployments: &mut Vec<String>,
    ) -> Result<(), ControlError> {
        // Queues that others redrive into come first.
        let mut queues: Vec<&QueueSpec> = spec.queues.iter().collect();
        queues.sort_by_key(|q| q.attributes.contains_key("RedrivePolicy"));
        for q in queues {
            changes.push(self.apply_queue(q).await?);
        }
        let mut shifts = Vec::new();
        for f in &spec.functions {
            self.apply_function(spec, f, owned, changes, &mut shifts)
                .await
                .map_err(|e| function_error(&f.logical_id, e))?;
        }
        // Traffic shifting starts once every function (hooks included) exists.
        for shift in shifts {
            let (change, id) = self.start_shift(spec, shift).await?;
            changes.push(change);
            deployments.extend(id);
        }
        changes.extend(self.apply_routes(spec)?);
        changes.extend(self.apply_schedules(spec).await?);
        // Removals: functions (with their mappings, URLs and schedules) before queues.
        let wanted: BTreeSet<&str> = spec
            .functions
            .iter()
            .map(|f| f.function_name.as_str())
            .collect();
        for (name, f) in &owned.functions {
            if wanted.contains(name.as_str()) {
                continue;
            }
            changes.extend(self.remove_function(f).await?);
        }
        let wanted: BTreeSet<&str> = spec.queues.iter().map(|q| q.queue_name.as_str()).collect();
        for (name, q) in &owned.queues {
            if wanted.contains(name.as_str()) {
                continue;
            }
            match self.queues.delete_queue(name).await {
                Ok(()) => changes.push(change(
                    &q.logical_id,
                    kinds::QUEUE,
                    name,
                    ChangeAction::Delete,
                    "",
                )),
                Err(e) if e.code == SqsErrorCode::QueueDoesNotExist => {}
                Err(e) => return Err(queue_error(name, e)),
            }
        }
        Ok(())
    }

    async fn apply_queue(&self, q: &QueueSpec) -> Result<ResourceChange, ControlError> {
        let name = q.queue_name.as_str();
        let existing = match self.queues.get(name).await {
            Ok(existing) => existing,
            Err(e) if e.code == SqsErrorCode::QueueDoesNotExist => {
                self.queues
                    .create(name, &q.attributes, &q.tags)
                    .await
                    .map_err(|e| queue_error(name, e))?;
                return Ok(change(
                    &q.logical_id,
                    kinds::QUEUE,
                    name,
                    ChangeAction::Create,
                    "",
                ));
            }
            Err(e) => return Err(queue_error(name, e)),
        };
        let have = existing.attributes.to_wire();
        let differs: BTreeMap<String, String> = q
            .attributes
            .iter()
            .filter(|(k, v)| !same_attribute(k, v, have.get(*k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut what: Vec<String> = differs.keys().cloned().collect();
        if !differs.is_empty() {
            self.queues
                .set_attributes(name, &differs)
                .await
                .map_err(|e| queue_error(name, e))?;
        }
        if existing.tags != q.tags {
            let remove: Vec<String> = existing
                .tags
                .keys()
                .filter(|k| !q.tags.contains_key(*k))
                .cloned()
                .collect();
            self.queues
                .retag(name, &q.tags, &remove)
                .await
                .map_err(|e| queue_error(name, e))?;
            what.push("Tags".into());
        }
        let action = if what.is_empty() {
            ChangeAction::NoChange
        } else {
            ChangeAction::Update
        };
        Ok(change(
            &q.logical_id,
            kinds::QUEUE,
            name,
            action,
            what.join(", "),
        ))
    }

    async fn apply_function(
        self: &Arc<Self>,
        stack: &StackSpec,
        f: &FunctionSpec,
        owned: &Owned,
        changes: &mut Vec<ResourceChange>,
        shifts: &mut Vec<Shift>,
    ) -> Result<(), ControlError> {
        let name = f.function_name.as_str();
        let role = f.role.clone().unwrap_or_else(|| {
            format!(
                "arn:aws:iam::{}:role/{}-{}Role",
                self.config.account_id, stack.name, f.logical_id
            )
        });
        match self.latest_or_404(name) {
            Err(_) => {
                let zip = self.code_b64(&f.code_sha256).await?;
                self.create_function(CreateFunctionRequest {
                    function_name: Some(name.to_string()),
                    runtime: Some(f.runtime.clone()),
                    role: Some(role),
                    handler: Some(f.handler.clone()),
                    code: Some(FunctionCode {
                        zip_file: Some(zip),
                        ..FunctionCode::default()
                    }),
                    description: f.description.clone(),
                    timeout: Some(f.timeout),
                    memory_size: Some(f.memory_size),
                    environment: Some(Environment {
                        variables: Some(f.environment.clone()),
                    }),
                    ephemeral_storage: f
                        .ephemeral_storage
                        .map(|s| EphemeralStorage { size: Some(s) }),
                    architectures: Some(architectures(f)),
                    tracing_config: Some(TracingConfig {
                        mode: Some(f.tracing.clone().unwrap_or_else(|| TRACING_DEFAULT.into())),
                    }),
                    dead_letter_config: f.dead_letter_target_arn.clone().map(|t| {
                        DeadLetterConfig {
                            target_arn: Some(t),
                        }
                    }),
                    tags: (!f.tags.is_empty()).then(|| f.tags.clone()),
                    ..CreateFunctionRequest::default()
                })
                .await?;
                changes.push(change(
                    &f.logical_id,
                    kinds::FUNCTION,
                    name,
                    ChangeAction::Create,
                    "",
                ));
            }
            Ok(current) => {
                let mut what = Vec::new();
                let arch = architectures(f);
                if current.code.sha256_hex != f.code_sha256 || current.config.architectures != arch
                {
                    let zip = self.code_b64(&f.code_sha256).await?;
                    self.update_function_code(
                        name,
                        UpdateFunctionCodeRequest {
                            zip_file: Some(zip),
                            architectures: Some(arch),
                            ..UpdateFunctionCodeRequest::default()
                        },
                    )
                    .await?;
                    what.push("Code".to_string());
                }
                let config_changes = config_differences(&current, f, &role);
                if !config_changes.is_empty() {
                    self.update_function_configuration(name, desired_configuration(f, &role))
                        .await?;
                    what.extend(config_changes.iter().map(|s| s.to_string()));
                }
                let action = if what.is_empty() {
                    ChangeAction::NoChange
                } else {
                    ChangeAction::Update
                };
                changes.push(change(
                    &f.logical_id,
                    kinds::FUNCTION,
                    name,
                    action,
                    what.join(", "),
                ));
            }
        }
        self.apply_reserved(f).await?;
        let qualifier = f.auto_publish_alias.as_deref();
        if let Some(alias) = qualifier {
            self.apply_alias(f, alias, changes, shifts).await?;
        }
        self.apply_event_invoke_config(f, qualifier, owned).await?;
        if let Some(alias) = qualifier {
            self.apply_provisioned(f, alias).await?;
        }
        changes.extend(self.apply_mappings(f, qualifier).await?);
        let had_url = owned
            .functions
            .get(name)
            .is_some_and(|p| p.function_url.is_some());
        changes.extend(self.apply_function_url(f, qualifier, had_url).await?);
        Ok(())
    }

    async fn apply_reserved(&self, f: &FunctionSpec) -> Result<(), ControlError> {
        let name = f.function_name.as_str();
        let have = self
            .get_function_concurrency(name)
            .await?
            .reserved_concurrent_executions;
        if have == f.reserved_concurrency {
            return Ok(());
        }
        match f.reserved_concurrency {
            Some(n) => {
                self.put_function_concurrency(
                    name,
                    PutFunctionConcurrencyRequest {
                        reserved_concurrent_executions: Some(n),
                    },
                )
                .await?;
            }
            None => self.delete_function_concurrency(name).await?,
        }
        Ok(())
    }

    async fn apply_event_invoke_config(
        &self,
        f: &FunctionSpec,
        qualifier: Option<&str>,
        owned: &Owned,
    ) -> Result<(), ControlError> {
        let name = f.function_name.as_str();
        let have = self.get_event_invoke_config(name, qualifier).await.ok();
        match &f.event_invoke_config {
            Some(want) => {
                let same = have.as_ref().is_some_and(|h| {
                    h.maximum_retry_attempts == want.maximum_retry_attempts
                        && h.maximum_event_age_in_seconds == want.maximum_event_age_in_seconds
                        && h.destination_config.clone().unwrap_or_default()
                            == want.destination_config.clone().unwrap_or_default()
                });
                if !same {
                    self.put_event_invoke_config(
                        name,
                        qualifier,
                        PutFunctionEventInvokeConfigRequest {
                            maximum_retry_attempts: want.maximum_retry_attempts,
                            maximum_event_age_in_seconds: want.maximum_event_age_in_seconds,
                            destination_config: want.destination_config.clone(),
                        },
                        false,
                    )
                    .await?;
                }
            }
            None => {
                // Only a configuration the stack set is the stack's to remove.
                let had = owned
                    .functions
                    .get(name)
                    .is_some_and(|p| p.event_invoke_config.is_some());
                if have.is_some() && had {
                    self.delete_event_invoke_config(name, qualifier).await?;
                }
            }
        }
        Ok(())
    }

    async fn apply_alias(
        &self,
        f: &FunctionSpec,
        alias: &str,
        changes: &mut Vec<ResourceChange>,
        shifts: &mut Vec<Shift>,
    ) -> Result<(), ControlError> {
        let name = f.function_name.as_str();
        let published_before = self.latest_or_404(name)?.last_published;
        let published = self
            .publish_version(name, PublishVersionRequest::default())
            .await?;
        let version = published.version.clone().unwrap_or_default();
        // Publishing an unchanged $LATEST returns the version it was published as.
        let new_version = version.parse::<u64>().is_ok_and(|v| v > published_before);
        let version_change = change(
            format!("{}Version", f.logical_id),
            kinds::VERSION,
            format!("{}:{version}", self.function_arn(name)),
            if new_version {
                ChangeAction::Create
            } else {
                ChangeAction::NoChange
            },
            format!("version {version}"),
        );
        let alias_id = format!("{}Alias{alias}", f.logical_id);
        let alias_arn = format!("{}:{alias}", self.function_arn(name));
        let current = match self.get_alias(name, alias).await {
            Ok(a) => a,
            Err(_) => {
                changes.push(version_change);
                self.create_alias(
                    name,
                    CreateAliasRequest {
                        name: Some(alias.to_string()),
                        function_version: Some(version.clone()),
                        ..CreateAliasRequest::default()
                    },
                )
                .await?;
                changes.push(change(
                    alias_id,
                    kinds::ALIAS,
                    alias_arn,
                    ChangeAction::Create,
                    format!("→ version {version}"),
                ));
                return Ok(());
            }
        };
        let primary = current.function_version.clone().unwrap_or_default();
        let weighted: Vec<String> = current
            .routing_config
            .as_ref()
            .and_then(|r| r.additional_version_weights.as_ref())
            .map(|w| w.keys().cloned().collect())
            .unwrap_or_default();
        changes.push(version_change);
        if primary == version && weighted.is_empty() {
            changes.push(change(
                alias_id,
                kinds::ALIAS,
                alias_arn,
                ChangeAction::NoChange,
                format!("→ version {version}"),
            ));
            return Ok(());
        }
        let shifting = f
            .deployment_preference
            .as_ref()
            .filter(|p| p.enabled && p.kind != "AllAtOnce");
        if shifting.is_some()
            && let Some(id) = self.running_shift(name, alias, &version).await?
        {
            // Redeploying during a canary: the shift already under way is the change.
            changes.push(change(
                alias_id,
                kinds::DEPLOYMENT,
                id,
                ChangeAction::NoChange,
                format!("shifting {primary} → {version}"),
            ));
            return Ok(());
        }
        match shifting {
            Some(_) => shifts.push(Shift {
                function: f.clone(),
                alias: alias.to_string(),
                from_version: primary,
                to_version: version,
            }),
            None => {
                self.update_alias(
                    name,
                    alias,
                    UpdateAliasRequest {
                        function_version: Some(version.clone()),
                        routing_config: Some(Default::default()),
                        ..UpdateAliasRequest::default()
                    },
                )
                .await?;
                changes.push(change(
                    alias_id,
                    kinds::ALIAS,
                    alias_arn,
                    ChangeAction::Update,
                    format!("{primary} → {version}"),
                ));
            }
        }
        Ok(())
    }

    async fn apply_provisioned(&self, f: &FunctionSpec, alias: &str) -> Result<(), ControlError> {
        let name = f.function_name.as_str();
        let have = self
            .get_provisioned_concurrency(name, Some(alias))
            .await
            .ok()
            .and_then(|p| p.requested_provisioned_concurrent_executions);
        if have == f.provisioned_concurrency {
            return Ok(());
        }
        match f.provisioned_concurrency {
            Some(n) => {
                self.put_provisioned_concurrency(
                    name,
                    Some(alias),
                    PutProvisionedConcurrencyConfigRequest {
                        provisioned_concurrent_executions: Some(n),
                    },
                )
                .await?;
            }
            None => {
                self.delete_provisioned_concurrency(name, Some(alias))
                    .await?
            }
        }
        Ok(())
    }

    async fn function_mappings(
        &self,
        name: &str,
    ) -> Result<Vec<EventSourceMappingConfiguration>, ControlError> {
        Ok(self
            .list_event_source_mappings(Some(name), None, None, Some(MAPPINGS_PER_FUNCTION_MAX))
            .await?
            .event_source_mappings)
    }

    async fn apply_mappings(
        self: &Arc<Self>,
        f: &FunctionSpec,
        qualifier: Option<&str>,
    ) -> Result<Vec<ResourceChange>, ControlError> {
        let name = f.function_name.as_str();
        let target = match qualifier {
            Some(q) => format!("{name}:{q}"),
            None => name.to_string(),
        };
        let target_arn = match qualifier {
            Some(q) => format!("{}:{q}", self.function_arn(name)),
            None => self.function_arn(name),
        };
        let mut existing: BTreeMap<String, EventSourceMappingConfiguration> = self
            .function_mappings(name)
            .await?
            .into_iter()
            .map(|m| (m.event_source_arn.clone(), m))
            .collect();
        let mut out = Vec::new();
        for e in &f.events {
            let EventSource::Sqs {
                queue_arn,
                batch_size,
                maximum_batching_window_in_seconds,
                enabled,
                function_response_types,
                maximum_concurrency,
            } = &e.source
            else {
                continue;
            };
            let logical = format!("{}.{}", f.logical_id, e.name);
            let batch = batch_size.unwrap_or(10);
            let window = maximum_batching_window_in_seconds.unwrap_or(0);
            let scaling = maximum_concurrency.map(|m| ScalingConfig {
                maximum_concurrency: Some(m),
            });
            match existing.remove(queue_arn) {
                None => {
                    let m = self
                        .create_event_source_mapping(CreateEventSourceMappingRequest {
                            event_source_arn: Some(queue_arn.clone()),
                            function_name: Some(target.clone()),
                            enabled: Some(*enabled),
                            batch_size: Some(batch),
                            maximum_batching_window_in_seconds: Some(window),
                            function_response_types: Some(function_response_types.clone()),
                            scaling_config: scaling,
                            ..CreateEventSourceMappingRequest::default()
                        })
                        .await?;
                    out.push(change(
                        logical,
                        kinds::MAPPING,
                        m.uuid,
                        ChangeAction::Create,
                        queue_arn.clone(),
                    ));
                }
                Some(m) => {
                    let is_enabled = !matches!(m.state.as_str(), "Disabled" | "Disabling");
                    let same = m.function_arn == target_arn
                        && is_enabled == *enabled
                        && m.batch_size == batch
                        && m.maximum_batching_window_in_seconds == window
                        && m.function_response_types == *function_response_types
                        && m.scaling_config
                            .as_ref()
                            .and_then(|s| s.maximum_concurrency)
                            == *maximum_concurrency;
                    if same {
                        out.push(change(
                            logical,
                            kinds::MAPPING,
                            m.uuid,
                            ChangeAction::NoChange,
                            queue_arn.clone(),
                        ));
                        continue;
                    }
                    self.update_event_source_mapping(
                        &m.uuid,
                        UpdateEventSourceMappingRequest {
                            function_name: Some(target.clone()),
                            enabled: Some(*enabled),
                            batch_size: Some(batch),
                            maximum_batching_window_in_seconds: Some(window),
                            function_response_types: Some(function_response_types.clone()),
                            scaling_config: Some(scaling.unwrap_or_default()),
                            ..UpdateEventSourceMappingRequest::default()
                        },
                    )
                    .await?;
                    out.push(change(
                        logical,
                        kinds::MAPPING,
                        m.uuid,
                        ChangeAction::Update,
                        queue_arn.clone(),
                    ));
                }
            }
        }
        // Mappings of this function the template no longer has.
        for (arn, m) in existing {
            self.delete_event_source_mapping(&m.uuid).await?;
            out.push(change(
                format!("{}.?", f.logical_id),
                kinds::MAPPING,
                m.uuid,
                ChangeAction::Delete,
                arn,
            ));
        }
        Ok(out)
    }

    async fn remove_function(&self, f: &FunctionSpec) -> Result<Vec<ResourceChange>, ControlError> {
        let name = f.function_name.as_str();
        let mut out = Vec::new();
        if self.latest_or_404(name).is_err() {
            return Ok(out);
        }
        for m in self.function_mappings(name).await? {
            self.delete_event_source_mapping(&m.uuid).await?;
            out.push(change(
                format!("{}.?", f.logical_id),
                kinds::MAPPING,
                m.uuid,
                ChangeAction::Delete,
                m.event_source_arn,
            ));
        }
        self.stop_shifts_of(name).await;
        // Aliases would keep versions alive; the function's deletion takes them all.
        self.delete_function(name, None).await?;
        out.push(change(
            &f.logical_id,
            kinds::FUNCTION,
            name,
            ChangeAction::Delete,
            "",
        ));
        Ok(out)
    }

    /// The base64 of an uploaded package, as CreateFunction/UpdateFunctionCode take it.
    async fn code_b64(&self, sha256_hex: &str) -> Result<String, ControlError> {
        let zip = self.read_uploaded_code(sha256_hex).await?;
        Ok(base64::engine::general_purpose::STANDARD.encode(zip))
    }
}

/// A traffic shift to start once every function exists.
pub(crate) struct Shift {
    pub function: FunctionSpec,
    pub alias: String,
    pub from_version: String,
    pub to_version: String,
}

fn architectures(f: &FunctionSpec) -> Vec<String> {
    if f.architectures.is_empty() {
        vec![ARCHITECTURE_DEFAULT.to_string()]
    } else {
        f.architectures.clone()
    }
}

/// Names of the configuration members whose value differs from the spec.
fn config_differences(
    current: &FunctionVersion,
    f: &FunctionSpec,
    role: &str,
) -> Vec<&'static str> {
    let c = &current.config;
    let mut out = Vec::new();
    let tracing = f.tracing.as_deref().unwrap_or(TRACING_DEFAULT);
    let ephemeral = f
        .ephemeral_storage
        .unwrap_or(nimbus_api::limits::EPHEMERAL_MB_DEFAULT);
    let checks: [(&'static str, bool); 10] = [
        ("Runtime", c.runtime == f.runtime),
        ("Handler", c.handler == f.handler),
        ("Role", c.role == role),
        (
            "Description",
            c.description == f.description.clone().unwrap_or_default(),
        ),
        ("Timeout", i64::from(c.timeout_s) == f.timeout),
        ("MemorySize", i64::from(c.memory_mb) == f.memory_size),
        ("EphemeralStorage", i64::from(c.ephemeral_mb) == ephemeral),
        ("Environment", c.environment == f.environment),
        ("Tracing", c.tracing_mode == tracing),
        (
            "DeadLetterQueue",
            c.dead_letter_target == f.dead_letter_target_arn,
        ),
    ];
    for (name, same) in checks {
        if !same {
            out.push(name);
        }
    }
    out
}

fn desired_configuration(f: &FunctionSpec, role: &str) -> UpdateFunctionConfigurationRequest {
    UpdateFunctionConfigurationRequest {
        runtime: Some(f.runtime.clone()),
        handler: Some(f.handler.clone()),
        role: Some(role.to_string()),
        description: Some(f.description.clone().unwrap_or_default()),
        timeout: Some(f.timeout),
        memory_size: Some(f.memory_size),
        ephemeral_storage: Some(EphemeralStorage {
            size: Some(
                f.ephemeral_storage
                    .unwrap_or(nimbus_api::limits::EPHEMERAL_MB_DEFAULT),
            ),
        }),
        environment: Some(Environment {
            variables: Some(f.environment.clone()),
        }),
        tracing_config: Some(TracingConfig {
            mode: Some(f.tracing.clone().unwrap_or_else(|| TRACING_DEFAULT.into())),
        }),
        dead_letter_config: Some(DeadLetterConfig {
            target_arn: Some(f.dead_letter_target_arn.clone().unwrap_or_default()),
        }),
        ..UpdateFunctionConfigurationRequest::default()
    }
}

/// Attribute equality as SQS means it: policies compare as JSON (a template may write
/// `maxReceiveCount: 3` where SQS renders `"3"`), everything else as text.
fn same_attribute(key: &str, want: &str, have: Option<&String>) -> bool {
    let Some(have) = have else { return false };
    if want == have {
        return true;
    }
    if key.ends_with("Policy") {
        let norm = |s: &str| -> Option<BTreeMap<String, String>> {
            let v: serde_json::Value = serde_json::from_str(s).ok()?;
            Some(
                v.as_object()?
                    .iter()
                    .map(|(k, v)| {
                        let s = match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (k.clone(), s)
                    })
                    .collect(),
            )
        };
        return norm(want).is_some() && norm(want) == norm(have);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_compare_as_json() {
        let have = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq","maxReceiveCount":"3"}"#
            .to_string();
        let want =
            r#"{"maxReceiveCount": 3, "deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq"}"#;
        assert!(same_attribute("RedrivePolicy", want, Some(&have)));
        assert!(!same_attribute(
            "RedrivePolicy",
            r#"{"maxReceiveCount":4,"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq"}"#,
            Some(&have)
        ));
        assert!(same_attribute(
            "VisibilityTimeout",
            "30",
            Some(&"30".to_string())
        ));
        assert!(!same_attribute(
            "VisibilityTimeout",
            "30",
            Some(&"31".to_string())
        ));
        assert!(!same_attribute("VisibilityTimeout", "30", None));
    }
}
