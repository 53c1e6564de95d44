//! `Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s)`: retry attempts, maximum event
//! age and destinations per `$LATEST`, version or alias. Stored first, then mirrored in memory
//! for the dispatcher.

use crate::functions::{ControlError, page_size};
use crate::platform::Platform;
use nimbus_api::async_invoke::{
    Destination, DestinationConfig, EVENT_AGE_S_MAX, FunctionEventInvokeConfig,
    ListFunctionEventInvokeConfigsResponse, PutFunctionEventInvokeConfigRequest,
    RETRY_ATTEMPTS_DEFAULT, validate_event_invoke_config,
};
use nimbus_api::error::{ErrorBody, ErrorCode};
use nimbus_store::{EventInvokeConfigRow, StoreError};

/// What the dispatcher applies to one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventSettings {
    pub max_retries: i64,
    pub max_age_s: i64,
    pub on_success: Option<String>,
    pub on_failure: Option<String>,
}

/// The qualifier a configuration is stored under (`$LATEST` when unqualified).
fn config_qualifier(qualifier: Option<&str>) -> String {
    qualifier.unwrap_or("$LATEST").to_string()
}

impl Platform {
    pub(crate) async fn load_event_invoke_configs(&self) -> anyhow::Result<()> {
        let names: Vec<String> = self
            .functions
            .read()
            .map(|f| f.keys().cloned().collect())
            .unwrap_or_default();
        let mut all = Vec::new();
        for name in names {
            all.extend(
                self.async_events
                    .store
                    .list_event_invoke_configs(&name)
                    .await?,
            );
        }
        if let Ok(mut cache) = self.async_events.configs.write() {
            for row in all {
                cache.insert((row.function_name.clone(), row.qualifier.clone()), row);
            }
        }
        Ok(())
    }

    /// The settings an event of `function` invoked with `qualifier` runs under.
    pub(crate) fn event_settings(&self, function: &str, qualifier: Option<&str>) -> EventSettings {
        let row = self.async_events.configs.read().ok().and_then(|c| {
            c.get(&(function.to_string(), config_qualifier(qualifier)))
                .cloned()
        });
        EventSettings {
            max_retries: row
                .as_ref()
                .and_then(|r| r.maximum_retry_attempts)
                .unwrap_or(RETRY_ATTEMPTS_DEFAULT),
            max_age_s: row
                .as_ref()
                .and_then(|r| r.maximum_event_age_s)
                .unwrap_or(EVENT_AGE_S_MAX),
            on_success: row.as_ref().and_then(|r| r.on_success.clone()),
            on_failure: row.and_then(|r| r.on_failure),
        }
    }

    /// Drops cached configurations the store deleted with a function, version or alias.
    pub(crate) fn forget_event_invoke_configs(&self, function: &str, qualifier: Option<&str>) {
        if let Ok(mut cache) = self.async_events.configs.write() {
            cache.retain(|(f, q), _| f != function || qualifier.is_some_and(|x| x != q));
        }
    }

    /// PutFunctionEventInvokeConfig (`merge: false`: members left out are removed) and
    /// UpdateFunctionEventInvokeConfig (`merge: true`: they are kept).
    pub async fn put_event_invoke_config(
        &self,
        function: &str,
        qualifier: Option<&str>,
        req: PutFunctionEventInvokeConfigRequest,
        merge: bool,
    ) -> Result<FunctionEventInvokeConfig, ControlError> {
        let (name, qualifier) = self.event_config_target(function, qualifier).await?;
        validate_event_invoke_config(&req)?;
        let _writes = self.writes.lock().await;
        let current = if merge {
            let key = (name.clone(), qualifier.clone());
            self.async_events
                .configs
                .read()
                .ok()
                .and_then(|c| c.get(&key).cloned())
        } else {
            None
        };
        let destination = |pick: fn(&DestinationConfig) -> Option<&Destination>| {
            req.destination_config
                .as_ref()
                .and_then(pick)
                .map(|d| d.destination.clone().filter(|a| !a.is_empty()))
        };
        let on_success = destination(|d| d.on_success.as_ref());
        let on_failure = destination(|d| d.on_failure.as_ref());
        let row = EventInvokeConfigRow {
            function_name: name.clone(),
            qualifier: qualifier.clone(),
            maximum_retry_attempts: req
                .maximum_retry_attempts
                .or(current.as_ref().and_then(|c| c.maximum_retry_attempts)),
            maximum_event_age_s: req
                .maximum_event_age_in_seconds
                .or(current.as_ref().and_then(|c| c.maximum_event_age_s)),
            on_success: match on_success {
                Some(v) => v,
                None => current.as_ref().and_then(|c| c.on_success.clone()),
            },
            on_failure: match on_failure {
                Some(v) => v,
                None => current.as_ref().and_then(|c| c.on_failure.clone()),
            },
            modified_ms: crate::clock::now_ms(),
        };
        match self.async_events.store.put_event_invoke_config(&row).await {
            Ok(()) => {}
            Err(StoreError::NotFound { .. }) => {
                return Err(ControlError::not_found(&self.function_arn(&name)));
            }
            Err(e) => return Err(ControlError::service("could not save the configuration", e)),
        }
        if let Ok(mut cache) = self.async_events.configs.write() {
            cache.insert((name, qualifier), row.clone());
        }
        Ok(self.render_event_invoke_config(&row))
    }

    /// GetFunctionEventInvokeConfig.
    pub async fn get_event_invoke_config(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionEventInvokeConfig, ControlError> {
        let (name, qualifier) = self.event_config_target(function, qualifier).await?;
        let row = self
            .async_events
            .configs
            .read()
            .ok()
            .and_then(|c| c.get(&(name.clone(), qualifier.clone())).cloned())
            .ok_or_else(|| self.event_config_not_found(&name, &qualifier))?;
        Ok(self.render_event_invoke_config(&row))
    }

    /// DeleteFunctionEventInvokeConfig.
    pub async fn delete_event_invoke_config(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(), ControlError> {
        let (name, qualifier) = self.event_config_target(function, qualifier).await?;
        let _writes = self.writes.lock().await;
        let deleted = self
            .async_events
            .store
            .delete_event_invoke_config(&name, &qualifier)
            .await
            .map_err(|e| ControlError::service("could not delete the configuration", e))?;
        if !deleted {
            return Err(self.event_config_not_found(&name, &qualifier));
        }
        self.forget_event_invoke_configs(&name, Some(&qualifier));
        Ok(())
    }

    /// ListFunctionEventInvokeConfigs (`Marker` is the last qualifier listed).
    pub async fn list_event_invoke_configs(
        &self,
        function: &str,
        marker: Option<&str>,
        max_items: Option<&str>,
    ) -> Result<ListFunctionEventInvokeConfigsResponse, ControlError> {
        let name = self.unqualified_name(function)?;
        self.latest_or_404(&name)?;
        let page = page_size(max_items)?;
        let mut rows: Vec<EventInvokeConfigRow> = self
            .async_events
            .configs
            .read()
            .map(|c| {
                c.values()
                    .filter(|r| r.function_name == name)
                    .filter(|r| marker.is_none_or(|m| r.qualifier.as_str() > m))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        rows.sort_by(|a, b| a.qualifier.cmp(&b.qualifier));
        let more = rows.len() > page;
        rows.truncate(page);
        Ok(ListFunctionEventInvokeConfigsResponse {
            next_marker: if more {
                rows.last().map(|r| r.qualifier.clone())
            } else {
                None
            },
            function_event_invoke_configs: Some(
                rows.iter()
                    .map(|r| self.render_event_invoke_config(r))
                    .collect(),
            ),
        })
    }

    /// The function and qualifier a call names; the qualifier must exist.
    async fn event_config_target(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(String, String), ControlError> {
        let (r, q) = self.parse_qualified(function, qualifier)?;
        self.latest_or_404(&r.name)?;
        let q = config_qualifier(q.as_deref());
        let exists = self
            .resolve_qualifier(&r.name, Some(&q), false)
            .await
            .map_err(|e| ControlError::service("could not read the version", e))?
            .is_some();
        if !exists {
            return Err(ControlError::not_found(&format!(
                "{}:{q}",
                self.function_arn(&r.name)
            )));
        }
        Ok((r.name, q))
    }

    fn event_config_not_found(&self, name: &str, qualifier: &str) -> ControlError {
        ControlError::Lambda(ErrorBody::new(
            ErrorCode::ResourceNotFound,
            format!(
                "The function {}:{qualifier} doesn't have an EventInvokeConfig",
                self.function_arn(name)
            ),
        ))
    }

    fn render_event_invoke_config(&self, row: &EventInvokeConfigRow) -> FunctionEventInvokeConfig {
        let destination = |arn: &Option<String>| {
            Some(Destination {
                destination: arn.clone(),
            })
            .filter(|d| d.destination.is_some())
        };
        FunctionEventInvokeConfig {
            last_modified: Some(row.modified_ms as f64 / 1000.0),
            function_arn: Some(format!(
                "{}:{}",
                self.function_arn(&row.function_name),
                row.qualifier
            )),
            maximum_retry_attempts: row.maximum_retry_attempts,
            maximum_event_age_in_seconds: row.maximum_event_age_s,
            destination_config: Some(DestinationConfig {
                on_success: destination(&row.on_success).or(Some(Destination::default())),
                on_failure: destination(&row.on_failure).or(Some(Destination::default())),
            }),
        }
    }
}
