//! The control plane for functions: create, read, list, update, delete, publish, and the
//! account settings. Validation uses `nimbus_api::validate` (Lambda's messages); every write
//! goes to the store first (durable before it is acknowledged), then to the in-memory cache.

use crate::model::{CodeInfo, FunctionConfig, FunctionVersion, StoredFunction};
use crate::package::{CodeHash, PackageError};
use crate::platform::Platform;
use nimbus_api::account::AccountSettings;
use nimbus_api::error::{ErrorBody, ErrorCode};
use nimbus_api::function::{
    Architecture, CreateFunctionRequest, DeadLetterConfig, EnvironmentResponse, EphemeralStorage,
    FunctionConfiguration, LastUpdateStatus, LayerReference, ListFunctionsResponse, LoggingConfig,
    PackageType, SnapStartApplyOn, SnapStartOptimizationStatus, SnapStartResponse, State,
    TracingConfigResponse, TracingMode, UpdateFunctionCodeRequest,
    UpdateFunctionConfigurationRequest,
};
use nimbus_api::limits;
use nimbus_api::names::{self, FunctionRef};
use nimbus_api::validate::{self, ValidationFailure};
use nimbus_store::{FunctionRow, StoreError, VersionRow};
use std::sync::Arc;

/// Why a control-plane call failed; the server renders these as Lambda errors.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ControlError {
    /// A request that breaks a rule (ValidationException / InvalidParameterValueException).
    #[error("{}", .0.message)]
    Invalid(ValidationFailure),
    /// A Lambda error with its code and message.
    #[error("{}", .0.message)]
    Lambda(ErrorBody),
}

impl From<ValidationFailure> for ControlError {
    fn from(f: ValidationFailure) -> Self {
        ControlError::Invalid(f)
    }
}

impl ControlError {
    pub(crate) fn not_found(arn: &str) -> Self {
        ControlError::Lambda(ErrorBody::function_not_found(arn))
    }

    pub(crate) fn service(context: &str, e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "{context}");
        ControlError::Lambda(ErrorBody::service(format!("{context}: {e}")))
    }

    fn store(context: &str, e: StoreError) -> Self {
        Self::service(context, e)
    }

    /// The Lambda error body to send.
    pub fn body(&self) -> ErrorBody {
        match self {
            ControlError::Invalid(f) => f.clone().into_error_body(),
            ControlError::Lambda(b) => b.clone(),
        }
    }
}

/// Items per page of a List call: `MaxItems` (validated), at most Lambda's page size.
pub(crate) fn page_size(max_items: Option<&str>) -> Result<usize, ControlError> {
    Ok(match max_items {
        Some(raw) => validate::parse_max_items(raw)?.min(limits::LIST_PAGE_MAX as i64) as usize,
        None => limits::LIST_PAGE_MAX,
    })
}

/// A one-violation `ValidationException` in Coral's wording.
pub(crate) fn violation(v: validate::Violation) -> ControlError {
    match validate::validation_exception(std::slice::from_ref(&v)) {
        Some(f) => ControlError::Invalid(f),
        None => ControlError::Invalid(ValidationFailure::new(ErrorCode::Validation, v.render())),
    }
}

/// A publication of `$LATEST` as a new version.
#[derive(Debug, Clone, Default)]
pub(crate) struct Publish {
    /// The version's description (else `$LATEST`'s).
    pub description: Option<String>,
}

/// Result of GetFunction.
#[derive(Debug, Clone)]
pub struct FunctionDetails {
    /// The configuration.
    pub configuration: FunctionConfiguration,
    /// Content address of the zip (the server turns it into a download URL).
    pub code_sha256_hex: String,
    /// Tags.
    pub tags: std::collections::BTreeMap<String, String>,
    /// Reserved concurrency, when set.
    pub reserved_concurrency: Option<u32>,
}

impl Platform {
    /// Loads every function's `$LATEST` into the cache (start-up).
    pub(crate) async fn load_functions(&self) -> anyhow::Result<()> {
        let mut after: Option<String> = None;
        loop {
            let rows = self
                .store
                .list_functions(after.as_deref(), limits::LIST_PAGE_MAX as u32 * 20)
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.name.clone());
            let mut cache = self
                .functions
                .write()
                .map_err(|_| anyhow::anyhow!("function cache poisoned"))?;
            for row in rows {
                let f = self.snapshot(
                    &row.name,
                    "$LATEST",
                    &row.revision_id,
                    &row.config_json,
                    row.created_ms,
                    row.modified_ms,
                )?;
                cache.insert(row.name.clone(), Arc::new(f));
            }
        }
        Ok(())
    }

    fn snapshot(
        &self,
        name: &str,
        version: &str,
        revision_id: &str,
        config_json: &str,
        created_ms: i64,
        modified_ms: i64,
    ) -> anyhow::Result<FunctionVersion> {
        let stored: StoredFunction = serde_json::from_str(config_json)?;
        Ok(FunctionVersion {
            name: name.to_string(),
            version: version.to_string(),
            revision_id: revision_id.to_string(),
            arn: self.function_arn(name),
            config: stored.config,
            code: stored.code,
            created_ms,
            last_modified_ms: modified_ms,
            last_published: stored.last_published,
            published_from_revision: stored.published_from_revision,
        })
    }

    /// CreateFunction.
    pub async fn create_function(
        &self,
        req: CreateFunctionRequest,
    ) -> Result<FunctionConfiguration, ControlError> {
        let (name_ref, runtime) = validate::validate_create_function(&req)?;
        check_dead_letter_target(req.dead_letter_config.as_ref())?;
        self.check_own_function_ref(&name_ref)?;
        if name_ref.qualifier.is_some() {
            return Err(ValidationFailure::invalid_parameter(
                "The function name must not include a version or alias when creating a function.",
            )
            .into());
        }
        let name = name_ref.name.clone();
        self.check_runtime_available(runtime.as_str()).await?;
        let _no_gc = self.code_gc.read().await;
        let zip_b64 = req
            .code
            .as_ref()
            .and_then(|c| c.zip_file.clone())
            .unwrap_or_default();
        let code = self.store_code(&zip_b64).await?;
        let config = config_from_create(&req);
        let now = crate::clock::now_ms();
        let revision_id = uuid::Uuid::new_v4().to_string();
        let publish = req.publish.unwrap_or(false);
        let stored = StoredFunction {
            config,
            code,
            last_published: u64::from(publish),
            published_from_revision: publish.then(|| revision_id.clone()),
        };
        let row = FunctionRow {
            name: name.clone(),
            revision_id: revision_id.clone(),
            code_sha256: stored.code.sha256_hex.clone(),
            config_json: to_json(&stored)?,
            created_ms: now,
            modified_ms: now,
        };
        let _writes = self.writes.lock().await;
        let version_row = publish.then(|| VersionRow {
            name: name.clone(),
            version: 1,
            revision_id: uuid::Uuid::new_v4().to_string(),
            code_sha256: row.code_sha256.clone(),
            config_json: row.config_json.clone(),
            created_ms: now,
        });
        match self.store.insert_function(&row, version_row.as_ref()).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => {
                return Err(ControlError::Lambda(ErrorBody::function_already_exists(
                    &name,
                )));
            }
            Err(e) => return Err(ControlError::store("could not save the function", e)),
        }
        let latest = Arc::new(FunctionVersion {
            name: name.clone(),
            version: "$LATEST".into(),
            revision_id,
            arn: self.function_arn(&name),
            config: stored.config.clone(),
            code: stored.code.clone(),
            created_ms: now,
            last_modified_ms: now,
            last_published: stored.last_published,
            published_from_revision: stored.published_from_revision.clone(),
        });
        self.cache_put(Arc::clone(&latest));
        tracing::info!(function = %name, runtime = %latest.config.runtime, "function created");
        match version_row {
            Some(v) => Ok(self.render(&self.version_snapshot(&latest, &v))),
            None => Ok(self.render(&latest)),
        }
    }

    /// GetFunction.
    pub async fn get_function(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionDetails, ControlError> {
        let (f, configuration) = self.find(function, qualifier).await?;
        Ok(FunctionDetails {
            configuration,
            code_sha256_hex: f.code.sha256_hex.clone(),
            tags: f.config.tags.clone(),
            reserved_concurrency: self.reserved(&f.name),
        })
    }

    /// GetFunctionConfiguration.
    pub async fn get_function_configuration(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionConfiguration, ControlError> {
        Ok(self.find(function, qualifier).await?.1)
    }

    /// ListFunctions (`$LATEST` of each function, by name; `Marker` is the last name seen).
    /// With `all_versions` (`FunctionVersion=ALL`) each function's published versions follow
    /// its `$LATEST`; a page then holds `MaxItems` functions, with their versions.
    pub async fn list_functions(
        &self,
        marker: Option<&str>,
        max_items: Option<&str>,
        all_versions: bool,
    ) -> Result<ListFunctionsResponse, ControlError> {
        let page = page_size(max_items)?;
        let after = match marker {
            Some(m) => Some(decode_marker(m)?),
            None => None,
        };
        let rows = self
            .store
            .list_functions(after.as_deref(), page as u32 + 1)
            .await
            .map_err(|e| ControlError::store("could not list functions", e))?;
        let more = rows.len() > page;
        let mut functions = Vec::new();
        let mut last_name: Option<String> = None;
        for row in rows.into_iter().take(page) {
            let f = self
                .snapshot(
                    &row.name,
                    "$LATEST",
                    &row.revision_id,
                    &row.config_json,
                    row.created_ms,
                    row.modified_ms,
                )
                .map_err(|e| ControlError::service("stored function is unreadable", e))?;
            let name = f.name.clone();
            functions.push(list_item(self.render(&f)));
            if all_versions {
                let versions = self
                    .store
                    .list_versions(&name, None, VERSIONS_PER_FUNCTION_LISTED_MAX)
                    .await
                    .map_err(|e| ControlError::store("could not list versions", e))?;
                for v in versions {
                    functions.push(list_item(self.render(&self.version_snapshot(&f, &v))));
                }
            }
            last_name = Some(name);
        }
        let next_marker = if more {
            last_name.as_deref().map(encode_marker)
        } else {
            None
        };
        Ok(ListFunctionsResponse {
            functions: Some(functions),
            next_marker,
        })
    }

    /// UpdateFunctionCode.
    pub async fn update_function_code(
        &self,
        function: &str,
        req: UpdateFunctionCodeRequest,
    ) -> Result<FunctionConfiguration, ControlError> {
        validate::validate_update_function_code(&req)?;
        let name = self.unqualified_name(function)?;
        let current = self.latest_or_404(&name)?;
        check_revision(&current, req.revision_id.as_deref())?;
        // No code GC between storing the package and committing the row that references it.
        let no_gc = self.code_gc.read().await;
        let code = self
            .store_code(req.zip_file.as_deref().unwrap_or_default())
            .await?;
        if req.dry_run.unwrap_or(false) {
            return Ok(self.render(&current));
        }
        let mut config = current.config.clone();
        if let Some(a) = &req.architectures {
            config.architectures = a.clone();
        }
        let written = self
            .write_latest(
                &current,
                config,
                code,
                req.publish.unwrap_or(false).then(Publish::default),
                false,
            )
            .await;
        drop(no_gc);
        if written.is_ok() {
            // The previous package may now be unreferenced.
            self.collect_garbage_code().await;
        }
        written
    }

    /// UpdateFunctionConfiguration.
    pub async fn update_function_configuration(
        &self,
        function: &str,
        req: UpdateFunctionConfigurationRequest,
    ) -> Result<FunctionConfiguration, ControlError> {
        let runtime = validate::validate_update_function_configuration(&req)?;
        check_dead_letter_target(req.dead_letter_config.as_ref())?;
        reject_unsupported(&Requested {
            layers: req.layers.as_deref(),
            vpc: req.vpc_config.as_ref(),
            file_systems: req.file_system_configs.as_deref(),
            image: req.image_config.as_ref(),
            snap_start: req.snap_start.as_ref(),
            code_signing: None,
        })?;
        let name = self.unqualified_name(function)?;
        let current = self.latest_or_404(&name)?;
        check_revision(&current, req.revision_id.as_deref())?;
        if let Some(r) = runtime {
            self.check_runtime_available(r.as_str()).await?;
        }
        let mut c = current.config.clone();
        if let Some(v) = req.runtime {
            c.runtime = v;
        }
        if let Some(v) = req.handler {
            c.handler = v;
        }
        if let Some(v) = req.role {
            c.role = v;
        }
        if let Some(v) = req.description {
            c.description = v;
        }
        if let Some(v) = req.timeout {
            c.timeout_s = v as u32;
        }
        if let Some(v) = req.memory_size {
            c.memory_mb = v as u32;
        }
        if let Some(env) = req.environment {
            // The whole map is replaced, as Lambda does.
            c.environment = env.variables.unwrap_or_default();
        }
        if let Some(t) = req.tracing_config.and_then(|t| t.mode) {
            c.tracing_mode = t;
        }
        if let Some(e) = req.ephemeral_storage.and_then(|e| e.size) {
            c.ephemeral_mb = e as u32;
        }
        if let Some(l) = req.layers {
            c.layers = l;
        }
        if let Some(d) = req.dead_letter_config {
            c.dead_letter_target = d.target_arn.filter(|t| !t.is_empty());
        }
        if let Some(k) = req.kms_key_arn {
            c.kms_key_arn = Some(k).filter(|k| !k.is_empty());
        }
        if let Some(l) = req.logging_config {
            apply_logging(&mut c, &l);
        }
        let code = current.code.clone();
        self.write_latest(&current, c, code, None, false).await
    }

    /// DeleteFunction (the whole function; a numeric qualifier deletes one version).
    pub async fn delete_function(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(), ControlError> {
        let r = self.parse_ref(function)?;
        let qualifier = merge_qualifier(r.qualifier.as_deref(), qualifier)?;
        let name = r.name;
        let _writes = self.writes.lock().await;
        match qualifier.as_deref() {
            None => {}
            Some("$LATEST") => {
                return Err(ValidationFailure::invalid_parameter(
                    "$LATEST version cannot be deleted without deleting the function.",
                )
                .into());
            }
            Some(q) => {
                let Ok(n) = q.parse::<i64>() else {
                    return Err(ControlError::not_found(&format!(
                        "{}:{q}",
                        self.function_arn(&name)
                    )));
                };
                let deleted = match self.store.delete_version(&name, n).await {
                    Ok(deleted) => deleted,
                    Err(StoreError::Conflict { .. }) => {
                        let aliases: Vec<String> = self
                            .aliases
                            .read()
                            .ok()
                            .and_then(|a| {
                                a.get(&name).map(|m| {
                                    m.values()
                                        .filter(|r| {
                                            r.function_version == q
                                                || r.additional_version.as_deref() == Some(q)
                                        })
                                        .map(|r| r.name.clone())
                                        .collect()
                                })
                            })
                            .unwrap_or_default();
                        return Err(ControlError::Lambda(ErrorBody::new(
                            ErrorCode::ResourceConflict,
                            format!(
                                "Unable to delete version because the following aliases reference it: [{}]",
                                aliases.join(", ")
                            ),
                        )));
                    }
                    Err(e) => return Err(ControlError::store("could not delete the version", e)),
                };
                if !deleted {
                    return Err(ControlError::not_found(&format!(
                        "{}:{q}",
                        self.function_arn(&name)
                    )));
                }
                if let Ok(mut v) = self.versions.write() {
                    v.remove(&(name.clone(), n));
                }
                drop(_writes);
                self.forget_provisioned(&name, Some(q));
                self.forget_event_invoke_configs(&name, Some(q));
                for env in self.pool.collect_version(&name, q) {
                    self.retire(env);
                }
                self.collect_garbage_code().await;
                return Ok(());
            }
        }
        let deleted = self
            .store
            .delete_function(&name)
            .await
            .map_err(|e| ControlError::store("could not delete the function", e))?;
        if !deleted {
            return Err(ControlError::not_found(&self.function_arn(&name)));
        }
        if let Ok(mut cache) = self.functions.write() {
            cache.remove(&name);
        }
        if let Ok(mut v) = self.versions.write() {
            v.retain(|(n, _), _| n != &name);
        }
        if let Ok(mut a) = self.aliases.write() {
            a.remove(&name);
        }
        drop(_writes);
        self.forget_provisioned(&name, None);
        self.forget_event_invoke_configs(&name, None);
        self.forget_function_urls(&name);
        self.admission.remove_function(&name);
        self.scaling.remove(&name);
        for env in self.pool.collect_function(&name) {
            self.retire(env);
        }
        self.collect_garbage_code().await;
        tracing::info!(function = %name, "function deleted");
        Ok(())
    }

    /// GetAccountSettings.
    pub async fn account_settings(&self) -> Result<AccountSettings, ControlError> {
        let (count, code_bytes) = {
            let cache = self
                .functions
                .read()
                .map_err(|_| ControlError::service("account settings", "cache poisoned"))?;
            let count = cache.len() as i64;
            let bytes: u64 = cache.values().map(|f| f.code.size).sum();
            (count, bytes as i64)
        };
        Ok(AccountSettings::with_defaults(
            self.config.account_concurrency,
            self.admission.stats().reserved_total,
            code_bytes as u64,
            count as u64,
        ))
    }

    /// Path of a stored zip for download (GetFunction's `Code.Location`).
    pub fn code_zip(&self, sha256_hex: &str) -> Option<std::path::PathBuf> {
        let hash = CodeHash::from_hex(sha256_hex)?;
        let path = self.code.zip_path(&hash);
        path.exists().then_some(path)
    }

    // --- helpers -------------------------------------------------------------------------

    pub(crate) fn parse_ref(&self, function: &str) -> Result<FunctionRef, ControlError> {
        let r = FunctionRef::parse(function).map_err(|e| ControlError::Invalid(e.to_failure()))?;
        self.check_own_function_ref(&r)?;
        Ok(r)
    }

    /// Whether `r` is an ARN of another partition, account or region.
    pub(crate) fn is_foreign(&self, r: &FunctionRef) -> bool {
        let own_partition = nimbus_api::names::partition_for_region(&self.config.region);
        r.account
            .as_deref()
            .is_some_and(|a| a != self.config.account_id)
            || r.region.as_deref().is_some_and(|g| g != self.config.region)
            || r.partition.as_deref().is_some_and(|p| p != own_partition)
    }

    /// An ARN naming another partition, account or region is not ours: answer as if it did
    /// not exist.
    pub(crate) fn check_own_function_ref(&self, r: &FunctionRef) -> Result<(), ControlError> {
        if self.is_foreign(r) {
            return Err(ControlError::not_found(&r.to_string()));
        }
        Ok(())
    }

    pub(crate) fn unqualified_name(&self, function: &str) -> Result<String, ControlError> {
        let r = self.parse_ref(function)?;
        if let Some(q) = r.qualifier.as_deref().filter(|q| *q != "$LATEST") {
            return Err(ValidationFailure::invalid_parameter(format!(
                "Only the $LATEST version can be updated; got qualifier {q}."
            ))
            .into());
        }
        Ok(r.name)
    }

    pub(crate) fn latest_or_404(&self, name: &str) -> Result<Arc<FunctionVersion>, ControlError> {
        self.cached(name)
            .ok_or_else(|| ControlError::not_found(&self.function_arn(name)))
    }

    /// The `$LATEST`, published version or alias a control-plane call names, and its
    /// configuration as shown (through an alias: the alias's primary version, under the
    /// alias's ARN).
    async fn find(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(Arc<FunctionVersion>, FunctionConfiguration), ControlError> {
        let r = self.parse_ref(function)?;
        let qualifier = merge_qualifier(r.qualifier.as_deref(), qualifier)?;
        let resolved = self
            .resolve_qualifier(&r.name, qualifier.as_deref(), false)
            .await
            .map_err(|e| ControlError::service("could not read the version", e))?;
        match (resolved, qualifier) {
            (Some(resolved), q) => {
                let mut shown = self.render(&resolved.function);
                if let Some(alias) = q.filter(|q| *q != "$LATEST" && !names::is_version_number(q)) {
                    shown.function_arn = Some(format!("{}:{alias}", self.function_arn(&r.name)));
                }
                Ok((resolved.function, shown))
            }
            (None, None) => Err(ControlError::not_found(&self.function_arn(&r.name))),
            (None, Some(q)) => Err(ControlError::not_found(&format!(
                "{}:{q}",
                self.function_arn(&r.name)
            ))),
        }
    }

    /// A published version (cached after the first read); `None` if it does not exist.
    pub(crate) async fn published(
        &self,
        name: &str,
        qualifier: &str,
    ) -> anyhow::Result<Option<Arc<FunctionVersion>>> {
        let Ok(n) = qualifier.parse::<i64>() else {
            // Aliases arrive with the versions work.
            return Ok(None);
        };
        if let Some(v) = self
            .versions
            .read()
            .ok()
            .and_then(|v| v.get(&(name.to_string(), n)).cloned())
        {
            return Ok(Some(v));
        }
        let Some(latest) = self.cached(name) else {
            return Ok(None);
        };
        let Some(row) = self.store.get_version(name, n).await? else {
            return Ok(None);
        };
        let v = Arc::new(self.version_snapshot(&latest, &row));
        if let Ok(mut versions) = self.versions.write() {
            versions.insert((name.to_string(), n), Arc::clone(&v));
        }
        Ok(Some(v))
    }

    pub(crate) fn version_snapshot(
        &self,
        latest: &FunctionVersion,
        row: &VersionRow,
    ) -> FunctionVersion {
        let stored: Option<StoredFunction> = serde_json::from_str(&row.config_json).ok();
        let (config, code) = match stored {
            Some(s) => (s.config, s.code),
            None => (latest.config.clone(), latest.code.clone()),
        };
        FunctionVersion {
            name: row.name.clone(),
            version: row.version.to_string(),
            revision_id: row.revision_id.clone(),
            arn: self.function_arn(&row.name),
            config,
            code,
            created_ms: row.created_ms,
            last_modified_ms: row.created_ms,
            last_published: 0,
            published_from_revision: None,
        }
    }

    pub(crate) fn cache_put(&self, f: Arc<FunctionVersion>) {
        if let Ok(mut cache) = self.functions.write() {
            cache.insert(f.name.clone(), f);
        }
    }

    /// Writes `$LATEST` and optionally publishes it as the next version, in one transaction.
    /// A new RevisionId is given unless `keep_revision` (PublishVersion leaves `$LATEST` as
    /// is). Retires environments of the old `$LATEST` revision; returns what the caller sees
    /// (the new version when one was published).
    pub(crate) async fn write_latest(
        &self,
        current: &Arc<FunctionVersion>,
        config: FunctionConfig,
        code: CodeInfo,
        publish: Option<Publish>,
        keep_revision: bool,
    ) -> Result<FunctionConfiguration, ControlError> {
        let _writes = self.writes.lock().await;
        // Re-read under the write lock: a concurrent update may have won.
        let current = self.latest_or_404(&current.name)?;
        let now = crate::clock::now_ms();
        let revision_id = if keep_revision {
            current.revision_id.clone()
        } else {
            uuid::Uuid::new_v4().to_string()
        };
        let version_no = current.last_published as i64 + 1;
        let mut stored = StoredFunction {
            config,
            code,
            last_published: current.last_published,
            published_from_revision: current.published_from_revision.clone(),
        };
        let mut version_row = None;
        if let Some(publish) = &publish {
            stored.last_published = version_no as u64;
            stored.published_from_revision = Some(revision_id.clone());
            let mut version_config = stored.config.clone();
            if let Some(d) = &publish.description {
                version_config.description = d.clone();
            }
            let version_stored = StoredFunction {
                config: version_config,
                code: stored.code.clone(),
                last_published: 0,
                published_from_revision: None,
            };
            version_row = Some(VersionRow {
                name: current.name.clone(),
                version: version_no,
                revision_id: uuid::Uuid::new_v4().to_string(),
                code_sha256: stored.code.sha256_hex.clone(),
                config_json: to_json(&version_stored)?,
                created_ms: now,
            });
        }
        let row = FunctionRow {
            name: current.name.clone(),
            revision_id: revision_id.clone(),
            code_sha256: stored.code.sha256_hex.clone(),
            config_json: to_json(&stored)?,
            created_ms: current.created_ms,
            modified_ms: if keep_revision {
                current.last_modified_ms
            } else {
                now
            },
        };
        match self
            .store
            .update_function(&row, &current.revision_id, version_row.as_ref())
            .await
        {
            Ok(()) => {}
            Err(StoreError::NotFound { .. }) => return Err(ControlError::not_found(&current.arn)),
            Err(StoreError::RevisionMismatch { .. }) => {
                return Err(ControlError::Lambda(ErrorBody::revision_mismatch()));
            }
            Err(e) => return Err(ControlError::store("could not save the function", e)),
        }
        let latest = Arc::new(FunctionVersion {
            name: current.name.clone(),
            version: "$LATEST".into(),
            revision_id,
            arn: current.arn.clone(),
            config: stored.config.clone(),
            code: stored.code.clone(),
            created_ms: current.created_ms,
            last_modified_ms: row.modified_ms,
            last_published: stored.last_published,
            published_from_revision: stored.published_from_revision.clone(),
        });
        self.cache_put(Arc::clone(&latest));
        drop(_writes);
        if !keep_revision {
            // Idle environments of the old revision are never reused; busy ones are retired
            // when their invocation ends. Published versions are immutable: theirs stay.
            for env in self.pool.collect_version(&latest.name, "$LATEST") {
                self.retire(env);
            }
        }
        match version_row {
            Some(v) => Ok(self.render(&self.version_snapshot(&latest, &v))),
            None => Ok(self.render(&latest)),
        }
    }

    /// Decodes, extracts and stores a deployment package.
    async fn store_code(&self, zip_b64: &str) -> Result<CodeInfo, ControlError> {
        let _permit = self
            .uploads
            .acquire()
            .await
            .map_err(|e| ControlError::service("upload queue closed", e))?;
        let zip = validate::decode_zip_file(zip_b64)?;
        if zip.len() as u64 > limits::CODE_ZIP_BYTES_MAX {
            return Err(ControlError::Lambda(ErrorBody::request_entity_too_large(
                "CreateFunction",
            )));
        }
        let code = Arc::clone(&self.code);
        let stored = tokio::task::spawn_blocking(move || code.put(&zip))
            .await
            .map_err(|e| ControlError::service("package extraction failed", e))?;
        match stored {
            Ok(s) => Ok(CodeInfo {
                sha256_hex: s.sha256_hex.as_str().to_string(),
                sha256_b64: s.sha256_b64,
                size: s.size,
                unzipped_size: s.unzipped_size,
            }),
            Err(e) => Err(package_error(e)),
        }
    }

    /// Refuses a runtime whose interpreter cannot be found on this host.
    async fn check_runtime_available(&self, runtime: &str) -> Result<(), ControlError> {
        let runtimes = Arc::clone(&self.runtimes);
        let id = runtime.to_string();
        let found = tokio::task::spawn_blocking(move || runtimes.interpreter(&id))
            .await
            .map_err(|e| ControlError::service("runtime lookup failed", e))?;
        match found {
            Ok(_) => Ok(()),
            Err(e) => Err(ValidationFailure::invalid_parameter(format!(
                "The runtime parameter of {runtime} is not available on this Nimbus host: {e}"
            ))
            .into()),
        }
    }

    /// Renders a snapshot as Lambda's `FunctionConfiguration`.
    pub(crate) fn render(&self, f: &FunctionVersion) -> FunctionConfiguration {
        let c = &f.config;
        let arn = if f.version == "$LATEST" {
            f.arn.clone()
        } else {
            format!("{}:{}", f.arn, f.version)
        };
        FunctionConfiguration {
            function_name: Some(f.name.clone()),
            function_arn: Some(arn),
            runtime: Some(c.runtime.clone()),
            role: Some(c.role.clone()),
            handler: Some(c.handler.clone()),
            code_size: Some(f.code.size as i64),
            description: Some(c.description.clone()),
            timeout: Some(i64::from(c.timeout_s)),
            memory_size: Some(i64::from(c.memory_mb)),
            last_modified: Some(nimbus_api::time::format_last_modified(f.last_modified_ms)),
            code_sha256: Some(f.code.sha256_b64.clone()),
            version: Some(f.version.clone()),
            environment: (!c.environment.is_empty()).then(|| EnvironmentResponse {
                variables: Some(c.environment.clone()),
                error: None,
            }),
            tracing_config: Some(TracingConfigResponse {
                mode: Some(TracingMode::parse(&c.tracing_mode).unwrap_or(TracingMode::PassThrough)),
            }),
            revision_id: Some(f.revision_id.clone()),
            state: Some(State::Active),
            last_update_status: Some(LastUpdateStatus::Successful),
            package_type: Some(PackageType::Zip),
            architectures: Some({
                let archs: Vec<Architecture> = c
                    .architectures
                    .iter()
                    .filter_map(|a| Architecture::parse(a))
                    .collect();
                if archs.is_empty() {
                    vec![Architecture::X86_64]
                } else {
                    archs
                }
            }),
            ephemeral_storage: Some(EphemeralStorage {
                size: Some(i64::from(c.ephemeral_mb)),
            }),
            snap_start: Some(SnapStartResponse {
                apply_on: Some(SnapStartApplyOn::None),
                optimization_status: Some(SnapStartOptimizationStatus::Off),
            }),
            logging_config: Some(LoggingConfig {
                log_format: Some(c.log_format.clone().unwrap_or_else(|| "Text".into())),
                application_log_level: c.application_log_level.clone(),
                system_log_level: c.system_log_level.clone(),
                log_group: Some(f.log_group()),
            }),
            layers: (!c.layers.is_empty()).then(|| {
                c.layers
                    .iter()
                    .map(|arn| LayerReference {
                        arn: Some(arn.clone()),
                        code_size: Some(0),
                        ..LayerReference::default()
                    })
                    .collect()
            }),
            dead_letter_config: c.dead_letter_target.as_ref().map(|t| DeadLetterConfig {
                target_arn: Some(t.clone()),
            }),
            kms_key_arn: c.kms_key_arn.clone(),
            ..FunctionConfiguration::default()
        }
    }
}

/// Versions listed per function by `ListFunctions(FunctionVersion=ALL)` (bounds one page).
const VERSIONS_PER_FUNCTION_LISTED_MAX: u32 = 1_000;

/// ListFunctions items carry no state fields (as Lambda's).
fn list_item(mut c: FunctionConfiguration) -> FunctionConfiguration {
    c.state = None;
    c.state_reason = None;
    c.state_reason_code = None;
    c.last_update_status = None;
    c
}

/// Members of a request that name features Nimbus does not implement yet.
struct Requested<'a> {
    layers: Option<&'a [String]>,
    vpc: Option<&'a nimbus_api::function::VpcConfig>,
    file_systems: Option<&'a [nimbus_api::function::FileSystemConfig]>,
    image: Option<&'a nimbus_api::function::ImageConfig>,
    snap_start: Option<&'a nimbus_api::function::SnapStart>,
    code_signing: Option<&'a str>,
}

/// Refuses features that would otherwise be accepted and silently not honoured.
fn reject_unsupported(r: &Requested<'_>) -> Result<(), ControlError> {
    let unsupported = |what: &str| -> Result<(), ControlError> {
        Err(
            ValidationFailure::invalid_parameter(format!("{what} is not supported by Nimbus yet."))
                .into(),
        )
    };
    if r.layers.is_some_and(|l| !l.is_empty()) {
        return unsupported("Layers");
    }
    if r.vpc.is_some_and(|v| {
        v.subnet_ids.as_ref().is_some_and(|s| !s.is_empty())
            || v.security_group_ids.as_ref().is_some_and(|s| !s.is_empty())
    }) {
        return unsupported("VpcConfig (functions have no network access)");
    }
    if r.file_systems.is_some_and(|f| !f.is_empty()) {
        return unsupported("FileSystemConfigs");
    }
    if r.image.is_some_and(|i| {
        i.entry_point.is_some() || i.command.is_some() || i.working_directory.is_some()
    }) {
        return unsupported("ImageConfig (container images)");
    }
    if r.snap_start
        .is_some_and(|s| s.apply_on.as_deref().is_some_and(|a| a != "None"))
    {
        return unsupported("SnapStart");
    }
    if r.code_signing.is_some_and(|c| !c.is_empty()) {
        return unsupported("CodeSigningConfigArn");
    }
    Ok(())
}

/// Dead-letter queues must be SQS queues (Nimbus has no SNS yet): anything else is refused
/// rather than accepted and never delivered to.
fn check_dead_letter_target(config: Option<&DeadLetterConfig>) -> Result<(), ControlError> {
    let Some(arn) = config
        .and_then(|c| c.target_arn.as_deref())
        .filter(|a| !a.is_empty())
    else {
        return Ok(());
    };
    match nimbus_api::async_invoke::destination_kind(arn)? {
        nimbus_api::async_invoke::DestinationKind::Queue => Ok(()),
        nimbus_api::async_invoke::DestinationKind::Function => {
            Err(ValidationFailure::invalid_parameter(format!(
                "The dead-letter target {arn} must be an SQS queue (SNS topics are not supported by Nimbus yet)."
            ))
            .into())
        }
    }
}

fn to_json(stored: &StoredFunction) -> Result<String, ControlError> {
    serde_json::to_string(stored)
        .map_err(|e| ControlError::service("could not encode the function", e))
}

fn merge_qualifier(
    from_name: Option<&str>,
    param: Option<&str>,
) -> Result<Option<String>, ControlError> {
    match (from_name, param) {
        (Some(a), Some(b)) if a != b => Err(ValidationFailure::invalid_parameter(
            nimbus_api::names::MSG_QUALIFIER_CONFLICT,
        )
        .into()),
        (Some(a), _) => Ok(Some(a.to_string())),
        (None, Some(b)) => nimbus_api::names::parse_qualifier(b)
            .map(Some)
            .map_err(|e| ControlError::Invalid(e.to_failure())),
        (None, None) => Ok(None),
    }
}

fn check_revision(current: &FunctionVersion, expected: Option<&str>) -> Result<(), ControlError> {
    match expected {
        Some(r) if r != current.revision_id => {
            Err(ControlError::Lambda(ErrorBody::revision_mismatch()))
        }
        _ => Ok(()),
    }
}

/// Markers are opaque to clients; ours is the hex of the last name listed.
fn encode_marker(name: &str) -> String {
    name.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_marker(marker: &str) -> Result<String, ControlError> {
    let bad = || {
        ControlError::Invalid(ValidationFailure::invalid_parameter(
            "Invalid Marker value.",
        ))
    };
    // ASCII hex only: slicing by bytes below must never split a character.
    if !marker.len().is_multiple_of(2)
        || marker.len() > 2 * 256
        || !marker.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(bad());
    }
    let bytes: Result<Vec<u8>, _> = marker
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .map_err(|_| ())
                .and_then(|hex| u8::from_str_radix(hex, 16).map_err(|_| ()))
        })
        .collect();
    String::from_utf8(bytes.map_err(|_| bad())?).map_err(|_| bad())
}

pub(crate) fn package_error(e: PackageError) -> ControlError {
    match e {
        PackageError::TooLarge { .. } => {
            ControlError::Lambda(ErrorBody::request_entity_too_large("CreateFunction"))
        }
        e @ PackageError::Io { .. } => ControlError::service("could not store the package", e),
        other => ControlError::Invalid(ValidationFailure::new(
            ErrorCode::InvalidParameterValue,
            other.lambda_message(),
        )),
    }
}

fn apply_logging(c: &mut FunctionConfig, l: &LoggingConfig) {
    if let Some(v) = &l.log_format {
        c.log_format = Some(v.clone());
    }
    if let Some(v) = &l.application_log_level {
        c.application_log_level = Some(v.clone());
    }
    if let Some(v) = &l.system_log_level {
        c.system_log_level = Some(v.clone());
    }
    if let Some(v) = &l.log_group {
        c.log_group = Some(v.clone());
    }
}

fn config_from_create(req: &CreateFunctionRequest) -> FunctionConfig {
    let mut c = FunctionConfig {
        runtime: req.runtime.clone().unwrap_or_default(),
        handler: req.handler.clone().unwrap_or_default(),
        role: req.role.clone().unwrap_or_default(),
        description: req.description.clone().unwrap_or_default(),
        timeout_s: req.timeout.unwrap_or(limits::TIMEOUT_S_DEFAULT) as u32,
        memory_mb: req.memory_size.unwrap_or(limits::MEMORY_MB_DEFAULT) as u32,
        ephemeral_mb: req
            .ephemeral_storage
            .as_ref()
            .and_then(|e| e.size)
            .unwrap_or(limits::EPHEMERAL_MB_DEFAULT) as u32,
        environment: req
            .environment
            .as_ref()
            .and_then(|e| e.variables.clone())
            .unwrap_or_default(),
        architectures: req
            .architectures
            .clone()
            .unwrap_or_else(|| vec!["x86_64".into()]),
        tracing_mode: req
            .tracing_config
            .as_ref()
            .and_then(|t| t.mode.clone())
            .unwrap_or_else(|| "PassThrough".into()),
        layers: req.layers.clone().unwrap_or_default(),
        dead_letter_target: req
            .dead_letter_config
            .as_ref()
            .and_then(|d| d.target_arn.clone())
            .filter(|t| !t.is_empty()),
        kms_key_arn: req.kms_key_arn.clone().filter(|k| !k.is_empty()),
        log_format: None,
        log_group: None,
        application_log_level: None,
        system_log_level: None,
        tags: req.tags.clone().unwrap_or_default(),
    };
    if let Some(l) = &req.logging_config {
        apply_logging(&mut c, l);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_reject_garbage() {
        let m = encode_marker("my-fn_2");
        assert_eq!(decode_marker(&m).expect("decode"), "my-fn_2");
        assert!(decode_marker("zz").is_err());
        assert!(decode_marker("abc").is_err());
        // Multi-byte characters used to split mid-character and panic.
        assert!(decode_marker("€0").is_err());
        assert!(decode_marker("\u{ff}\0").is_err());
        assert!(decode_marker("+1").is_err());
    }
}
