//! Aliases: named pointers to a version, optionally sending a share of the traffic to one
//! more version (`RoutingConfig.AdditionalVersionWeights`), and qualifier resolution for
//! invocations and control-plane reads.

use crate::functions::{ControlError, page_size, violation};
use crate::model::FunctionVersion;
use crate::platform::Platform;
use nimbus_api::error::{ErrorBody, ErrorCode};
use nimbus_api::names::{self, FunctionRef};
use nimbus_api::validate::{self, ValidationFailure, Violation};
use nimbus_api::versions::{
    AliasConfiguration, AliasRoutingConfiguration, CreateAliasRequest, ListAliasesResponse,
    UpdateAliasRequest,
};
use nimbus_store::{AliasRow, StoreError};
use rand::Rng;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Longest alias description (Lambda's `Description` limit).
const DESCRIPTION_CHARS_MAX: usize = 256;
/// Lambda routes to one additional version at most.
const ADDITIONAL_VERSIONS_MAX: usize = 1;

/// What a qualifier resolved to.
pub(crate) struct Resolved {
    /// The version snapshot to run or show.
    pub function: Arc<FunctionVersion>,
}

impl Platform {
    /// Loads every alias into the cache (start-up).
    pub(crate) async fn load_aliases(&self) -> anyhow::Result<()> {
        let names: Vec<String> = self
            .functions
            .read()
            .map(|f| f.keys().cloned().collect())
            .unwrap_or_default();
        for name in names {
            let rows = self.store.list_aliases(&name).await?;
            if let Ok(mut cache) = self.aliases.write() {
                cache.insert(
                    name,
                    rows.into_iter().map(|r| (r.name.clone(), r)).collect(),
                );
            }
        }
        Ok(())
    }

    pub(crate) fn alias(&self, function: &str, alias: &str) -> Option<AliasRow> {
        self.aliases.read().ok()?.get(function)?.get(alias).cloned()
    }

    fn alias_arn(&self, function: &str, alias: &str) -> String {
        format!("{}:{alias}", self.function_arn(function))
    }

    /// Resolves `$LATEST`, a version number or an alias of `name`. For an alias with an
    /// additional version, `route` picks a version by the weights (invocations); otherwise
    /// the alias's primary version is used (control-plane reads). `None`: no such qualifier.
    pub(crate) async fn resolve_qualifier(
        &self,
        name: &str,
        qualifier: Option<&str>,
        route: bool,
    ) -> anyhow::Result<Option<Resolved>> {
        let Some(latest) = self.cached(name) else {
            return Ok(None);
        };
        let version = match qualifier {
            None | Some("$LATEST") => return Ok(Some(Resolved { function: latest })),
            Some(q) if names::is_version_number(q) => q.to_string(),
            Some(alias) => {
                let Some(row) = self.alias(name, alias) else {
                    return Ok(None);
                };
                match (&row.additional_version, row.additional_weight) {
                    (Some(extra), Some(weight)) if route && self.route_to_additional(weight) => {
                        extra.clone()
                    }
                    _ => row.function_version.clone(),
                }
            }
        };
        if version == "$LATEST" {
            return Ok(Some(Resolved { function: latest }));
        }
        Ok(self
            .published(name, &version)
            .await?
            .map(|function| Resolved { function }))
    }

    /// One weighted draw from the routing generator (seeded with `--routing-seed` for
    /// reproducible tests).
    fn route_to_additional(&self, weight: f64) -> bool {
        let draw: f64 = match self.routing.lock() {
            Ok(mut rng) => rng.random(),
            Err(poisoned) => poisoned.into_inner().random(),
        };
        draw < weight
    }

    /// CreateAlias.
    pub async fn create_alias(
        &self,
        function: &str,
        req: CreateAliasRequest,
    ) -> Result<AliasConfiguration, ControlError> {
        let name = self.unqualified_name(function)?;
        self.latest_or_404(&name)?;
        let Some(alias) = req.name.clone() else {
            return Err(violation(Violation::null("name")));
        };
        names::validate_alias_name(&alias).map_err(|e| ControlError::Invalid(e.to_failure()))?;
        let Some(version) = req.function_version.clone() else {
            return Err(violation(Violation::null("functionVersion")));
        };
        check_description(req.description.as_deref())?;
        self.check_version_exists(&name, &version).await?;
        let (additional_version, additional_weight) = self
            .check_routing(&name, &version, req.routing_config.as_ref())
            .await?;
        let now = crate::clock::now_ms();
        let row = AliasRow {
            function_name: name.clone(),
            name: alias.clone(),
            function_version: version,
            description: req.description.unwrap_or_default(),
            additional_version,
            additional_weight,
            revision_id: uuid::Uuid::new_v4().to_string(),
            created_ms: now,
            modified_ms: now,
        };
        let _writes = self.writes.lock().await;
        match self.store.insert_alias(&row).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => {
                return Err(ControlError::Lambda(ErrorBody::new(
                    ErrorCode::ResourceConflict,
                    format!("Alias already exists: {}", self.alias_arn(&name, &alias)),
                )));
            }
            Err(StoreError::NotFound { .. }) => {
                return Err(ControlError::not_found(&self.function_arn(&name)));
            }
            Err(e) => return Err(ControlError::service("could not save the alias", e)),
        }
        self.cache_alias(row.clone());
        Ok(self.render_alias(&row))
    }

    /// GetAlias.
    pub async fn get_alias(
        &self,
        function: &str,
        alias: &str,
    ) -> Result<AliasConfiguration, ControlError> {
        let name = self.unqualified_name(function)?;
        self.latest_or_404(&name)?;
        let row = self
            .alias(&name, alias)
            .ok_or_else(|| self.alias_not_found(&name, alias))?;
        Ok(self.render_alias(&row))
    }

    /// UpdateAlias.
    pub async fn update_alias(
        &self,
        function: &str,
        alias: &str,
        req: UpdateAliasRequest,
    ) -> Result<AliasConfiguration, ControlError> {
        let name = self.unqualified_name(function)?;
        self.latest_or_404(&name)?;
        let current = self
            .alias(&name, alias)
            .ok_or_else(|| self.alias_not_found(&name, alias))?;
        if let Some(rev) = req.revision_id.as_deref()
            && rev != current.revision_id
        {
            return Err(ControlError::Lambda(ErrorBody::revision_mismatch()));
        }
        check_description(req.description.as_deref())?;
        let version = req
            .function_version
            .clone()
            .unwrap_or_else(|| current.function_version.clone());
        self.check_version_exists(&name, &version).await?;
        let (additional_version, additional_weight) = match &req.routing_config {
            Some(routing) => self.check_routing(&name, &version, Some(routing)).await?,
            None => {
                // Keep the existing routing if it is still valid for the (new) primary.
                let existing =
                    current
                        .additional_version
                        .as_ref()
                        .map(|v| AliasRoutingConfiguration {
                            additional_version_weights: Some(
                                [(v.clone(), current.additional_weight.unwrap_or(0.0))].into(),
                            ),
                        });
                self.check_routing(&name, &version, existing.as_ref())
                    .await?
            }
        };
        let row = AliasRow {
            function_version: version,
            description: req.description.unwrap_or(current.description.clone()),
            additional_version,
            additional_weight,
            revision_id: uuid::Uuid::new_v4().to_string(),
            modified_ms: crate::clock::now_ms(),
            ..current.clone()
        };
        let _writes = self.writes.lock().await;
        match self
            .store
            .update_alias(&row, Some(&current.revision_id))
            .await
        {
            Ok(()) => {}
            Err(StoreError::RevisionMismatch { .. }) => {
                return Err(ControlError::Lambda(ErrorBody::revision_mismatch()));
            }
            Err(StoreError::NotFound { .. }) => return Err(self.alias_not_found(&name, alias)),
            Err(e) => return Err(ControlError::service("could not save the alias", e)),
        }
        self.cache_alias(row.clone());
        drop(_writes);
        self.provisioned_changed();
        Ok(self.render_alias(&row))
    }

    /// ListAliases (optionally only those routing to `function_version`).
    pub async fn list_aliases(
        &self,
        function: &str,
        function_version: Option<&str>,
        marker: Option<&str>,
        max_items: Option<&str>,
    ) -> Result<ListAliasesResponse, ControlError> {
        let name = self.unqualified_name(function)?;
        self.latest_or_404(&name)?;
        let page = page_size(max_items)?;
        // The marker is the last alias name listed; anything else was not ours.
        if let Some(m) = marker
            && nimbus_api::names::validate_alias_name(m).is_err()
        {
            return Err(ControlError::Invalid(ValidationFailure::invalid_parameter(
                "Invalid Marker value.",
            )));
        }
        let rows: Vec<AliasRow> = self
            .aliases
            .read()
            .ok()
            .and_then(|a| a.get(&name).map(|m| m.values().cloned().collect()))
            .unwrap_or_default();
        let mut selected: Vec<AliasRow> = rows
            .into_iter()
            .filter(|r| marker.is_none_or(|m| r.name.as_str() > m))
            .filter(|r| {
                function_version.is_none_or(|v| {
                    r.function_version == v || r.additional_version.as_deref() == Some(v)
                })
            })
            .collect();
        let more = selected.len() > page;
        selected.truncate(page);
        Ok(ListAliasesResponse {
            next_marker: if more {
                selected.last().map(|r| r.name.clone())
            } else {
                None
            },
            aliases: Some(selected.iter().map(|r| self.render_alias(r)).collect()),
        })
    }

    /// DeleteAlias (also removes a provisioned-concurrency configuration on it).
    pub async fn delete_alias(&self, function: &str, alias: &str) -> Result<(), ControlError> {
        let name = self.unqualified_name(function)?;
        self.latest_or_404(&name)?;
        let _writes = self.writes.lock().await;
        let deleted = self
            .store
            .delete_alias(&name, alias)
            .await
            .map_err(|e| ControlError::service("could not delete the alias", e))?;
        if !deleted {
            return Err(self.alias_not_found(&name, alias));
        }
        if let Ok(mut cache) = self.aliases.write()
            && let Some(m) = cache.get_mut(&name)
        {
            m.remove(alias);
        }
        drop(_writes);
        self.forget_provisioned(&name, Some(alias));
        self.forget_event_invoke_configs(&name, Some(alias));
        Ok(())
    }

    fn cache_alias(&self, row: AliasRow) {
        if let Ok(mut cache) = self.aliases.write() {
            cache
                .entry(row.function_name.clone())
                .or_default()
                .insert(row.name.clone(), row);
        }
    }

    fn alias_not_found(&self, function: &str, alias: &str) -> ControlError {
        ControlError::Lambda(ErrorBody::new(
            ErrorCode::ResourceNotFound,
            format!("Alias not found: {}", self.alias_arn(function, alias)),
        ))
    }

    /// `$LATEST` or an existing published version.
    async fn check_version_exists(&self, name: &str, version: &str) -> Result<(), ControlError> {
        if version == "$LATEST" {
            return Ok(());
        }
        if !names::is_version_number(version) {
            return Err(violation(Violation::new(
                version,
                "functionVersion",
                "Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)",
            )));
        }
        match self
            .published(name, version)
            .await
            .map_err(|e| ControlError::service("could not read the version", e))?
        {
            Some(_) => Ok(()),
            None => Err(ControlError::not_found(&format!(
                "{}:{version}",
                self.function_arn(name)
            ))),
        }
    }

    /// Validates `RoutingConfig` for an alias whose primary version is `primary`.
    async fn check_routing(
        &self,
        name: &str,
        primary: &str,
        routing: Option<&AliasRoutingConfiguration>,
    ) -> Result<(Option<String>, Option<f64>), ControlError> {
        let weights: BTreeMap<String, f64> = routing
            .and_then(|r| r.additional_version_weights.clone())
            .unwrap_or_default();
        if weights.is_empty() {
            return Ok((None, None));
        }
        if weights.len() > ADDITIONAL_VERSIONS_MAX {
            return Err(ValidationFailure::invalid_parameter(
                "Number of items in AdditionalVersionWeights must not exceed 1.",
            )
            .into());
        }
        let Some((version, weight)) = weights.into_iter().next() else {
            return Ok((None, None));
        };
        if !(0.0..=1.0).contains(&weight) || weight.is_nan() {
            return Err(violation(Violation::new(
                weight.to_string(),
                "routingConfig.additionalVersionWeights",
                "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]",
            )));
        }
        if primary == "$LATEST" || version == "$LATEST" {
            return Err(ValidationFailure::invalid_parameter(
                "$LATEST is not supported for an alias pointing to more than 1 version",
            )
            .into());
        }
        if version == primary {
            return Err(ValidationFailure::invalid_parameter(format!(
                "Invalid function version {version}. Function version {version} is already included in routing configuration."
            ))
            .into());
        }
        self.check_version_exists(name, &version).await?;
        Ok((Some(version), Some(weight)))
    }

    pub(crate) fn render_alias(&self, row: &AliasRow) -> AliasConfiguration {
        AliasConfiguration {
            alias_arn: Some(self.alias_arn(&row.function_name, &row.name)),
            name: Some(row.name.clone()),
            function_version: Some(row.function_version.clone()),
            description: Some(row.description.clone()),
            routing_config: row
                .additional_version
                .as_ref()
                .map(|v| AliasRoutingConfiguration {
                    additional_version_weights: Some(
                        [(v.clone(), row.additional_weight.unwrap_or(0.0))].into(),
                    ),
                }),
            revision_id: Some(row.revision_id.clone()),
        }
    }

    /// Parses a function reference and its qualifier (path or `Qualifier` parameter).
    pub(crate) fn parse_qualified(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(FunctionRef, Option<String>), ControlError> {
        let r = self.parse_ref(function)?;
        let q = match (r.qualifier.as_deref(), qualifier) {
            (Some(a), Some(b)) if a != b => {
                return Err(
                    ValidationFailure::invalid_parameter(names::MSG_QUALIFIER_CONFLICT).into(),
                );
            }
            (Some(a), _) => Some(a.to_string()),
            (None, Some(b)) => {
                Some(names::parse_qualifier(b).map_err(|e| ControlError::Invalid(e.to_failure()))?)
            }
            (None, None) => None,
        };
        Ok((r, q))
    }
}

fn check_description(description: Option<&str>) -> Result<(), ControlError> {
    if let Some(d) = description
        && d.chars().count() > DESCRIPTION_CHARS_MAX
    {
        return Err(violation(Violation::new(
            d,
            "description",
            validate::max_length(DESCRIPTION_CHARS_MAX),
        )));
    }
    Ok(())
}
