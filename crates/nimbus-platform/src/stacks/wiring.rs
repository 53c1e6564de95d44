//! A stack's event wiring: HTTP routes on the gateway, schedules, function URLs, and
//! traffic-shifting deployments of its aliases.

use std::sync::Arc;

use std::collections::BTreeMap;

use nimbus_api::stack::{ChangeAction, EventSource, ResourceChange, StackSpec};
use nimbus_gateway::{ApiKind, DEFAULT_ROUTE, PayloadVersion, Route, Target};

use nimbus_api::stack::FunctionSpec;

use super::apply::Shift;
use super::{change, invalid, kinds};
use crate::Platform;
use crate::deployments::DeploymentRequest;
use crate::deployments::schedule::DeploymentType;
use crate::function_urls::FunctionUrlConfigRequest;
use crate::functions::ControlError;
use crate::schedules::{SCHEDULE_NAME_CHARS_MAX, ScheduleSpec, SchedulesError};

impl Platform {
    /// The stack's routes as the gateway's route table holds them.
    fn stack_routes(&self, spec: &StackSpec) -> Result<Vec<Route>, ControlError> {
        let mut out = Vec::new();
        for f in &spec.functions {
            let target = Target {
                function: f.function_name.clone(),
                qualifier: f.auto_publish_alias.clone(),
            };
            for ev in &f.events {
                let (api, method, path) = match &ev.source {
                    EventSource::Api { path, method } => {
                        (ApiKind::Rest, method.as_str(), path.as_str())
                    }
                    EventSource::HttpApi {
                        path,
                        method,
                        payload_format_version,
                    } => {
                        let payload = if payload_format_version == "1.0" {
                            PayloadVersion::V1
                        } else {
                            PayloadVersion::V2
                        };
                        (
                            ApiKind::Http { payload },
                            method.as_deref().unwrap_or("ANY"),
                            path.as_deref().unwrap_or(DEFAULT_ROUTE),
                        )
                    }
                    _ => continue,
                };
                let route =
                    Route::new(api, method, path, target.clone(), &spec.name).map_err(|e| {
                        invalid(format!("Function {} event {}: {e}", f.logical_id, ev.name))
                    })?;
                out.push(route);
            }
        }
        Ok(out)
    }

    /// Refuses routes another stack serves (before anything changes).
    pub(crate) fn check_routes(&self, spec: &StackSpec) -> Result<(), ControlError> {
        let routes = self.stack_routes(spec)?;
        let mut trial = self
            .routes
            .read()
            .map_err(|_| ControlError::service("route table", "lock poisoned"))?
            .clone();
        trial
            .replace_owner(&spec.name, routes)
            .map_err(|e| super::conflict_error(e.to_string()))
    }

    /// Serves the stack's routes (replacing its previous ones).
    pub(crate) fn install_routes(&self, spec: &StackSpec) -> Result<(), ControlError> {
        self.install(&spec.name, self.stack_routes(spec)?)
    }

    fn install(&self, owner: &str, routes: Vec<Route>) -> Result<(), ControlError> {
        self.routes
            .write()
            .map_err(|_| ControlError::service("route table", "lock poisoned"))?
            .replace_owner(owner, routes)
            .map_err(|e| super::conflict_error(e.to_string()))
    }

    /// Installs the routes; reports each route created, removed or kept.
    pub(crate) fn apply_routes(
        &self,
        spec: &StackSpec,
    ) -> Result<Vec<ResourceChange>, ControlError> {
        let before: BTreeMap<String, String> = self
            .routes
            .read()
            .map_err(|_| ControlError::service("route table", "lock poisoned"))?
            .routes()
            .filter(|r| r.owner == spec.name)
            .map(|r| (r.route_key.clone(), target_label(&r.target)))
            .collect();
        let routes = self.stack_routes(spec)?;
        let after: BTreeMap<String, String> = routes
            .iter()
            .map(|r| (r.route_key.clone(), target_label(&r.target)))
            .collect();
        self.install(&spec.name, routes)?;
        let mut out = Vec::new();
        for (key, target) in &after {
            let action = match before.get(key) {
                None => ChangeAction::Create,
                Some(t) if t == target => ChangeAction::NoChange,
                Some(_) => ChangeAction::Update,
            };
            out.push(change(
                key.clone(),
                kinds::ROUTE,
                key.clone(),
                action,
                format!("→ {target}"),
            ));
        }
        for (key, target) in &before {
            if !after.contains_key(key) {
                out.push(change(
                    key.clone(),
                    kinds::ROUTE,
                    key.clone(),
                    ChangeAction::Delete,
                    format!("→ {target}"),
                ));
            }
        }
        Ok(out)
    }

    /// The stack's schedules.
    fn stack_schedules(spec: &StackSpec) -> Vec<ScheduleSpec> {
        let mut out = Vec::new();
        for f in &spec.functions {
            for ev in &f.events {
                let EventSource::Schedule {
                    expression,
                    timezone,
                    input,
                    enabled,
                    v2,
                } = &ev.source
                else {
                    continue;
                };
                // SAM names a rule `<stack>-<Function><Event>-<suffix>`; ours drops the suffix.
                let name: String = format!("{}-{}{}", spec.name, f.logical_id, ev.name)
                    .chars()
                    .take(SCHEDULE_NAME_CHARS_MAX)
                    .collect();
                out.push(ScheduleSpec {
                    name,
                    function: f.function_name.clone(),
                    qualifier: f.auto_publish_alias.clone(),
                    expression: expression.clone(),
                    timezone: timezone.clone(),
                    input: input.clone(),
                    v2: *v2,
                    enabled: *enabled,
                });
            }
        }
        out
    }

    /// Checks schedule expressions and deployment types (before anything changes).
    pub(crate) fn check_events(&self, spec: &StackSpec) -> Result<(), ControlError> {
        for s in Self::stack_schedules(spec) {
            Platform::check_schedule(&s).map_err(|e| invalid(e.to_string()))?;
        }
        for f in &spec.functions {
            if let Some(p) = &f.deployment_preference {
                if DeploymentType::parse(&p.kind).is_none() {
                    return Err(invalid(format!(
                        "Function {}: DeploymentPreference Type {} is not one of {}.",
                        f.logical_id,
                        p.kind,
                        DeploymentType::valid_names().join(", ")
                    )));
                }
                for a in &p.alarms {
                    if !spec
                        .alarms
                        .iter()
                        .any(|s| &s.logical_id == a || &s.alarm_name == a)
                    {
                        return Err(invalid(format!(
                            "Function {}: DeploymentPreference names alarm {a}, which the template does not define.",
                            f.logical_id
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) async fn apply_schedules(
        &self,
        spec: &StackSpec,
    ) -> Result<Vec<ResourceChange>, ControlError> {
        let done = self
            .put_schedules(&spec.name, Self::stack_schedules(spec))
            .await
            .map_err(|e| match e {
                SchedulesError::Store(e) => {
                    ControlError::service("could not save the schedules", e)
                }
                other => invalid(other.to_string()),
            })?;
        Ok(done
            .into_iter()
            .map(|c| change(c.name.clone(), kinds::SCHEDULE, c.arn, c.action, ""))
            .collect())
    }

    /// The function's URL as `FunctionUrlConfig` says; `had`: the stack set one before (only
    /// then is an existing URL the stack's to remove).
    pub(crate) async fn apply_function_url(
        &self,
        f: &FunctionSpec,
        qualifier: Option<&str>,
        had: bool,
    ) -> Result<Vec<ResourceChange>, ControlError> {
        let name = f.function_name.as_str();
        let id = format!("{}Url", f.logical_id);
        let have = self.get_function_url_config(name, qualifier).await.ok();
        match (&f.function_url, have) {
            (Some(want), have) => {
                let mode = want
                    .invoke_mode
                    .clone()
                    .unwrap_or_else(|| "BUFFERED".into());
                if let Some(h) = &have
                    && h.auth_type == want.auth_type
                    && h.invoke_mode == mode
                {
                    return Ok(vec![change(
                        id,
                        kinds::URL,
                        h.function_url.clone(),
                        ChangeAction::NoChange,
                        "",
                    )]);
                }
                let action = if have.is_some() {
                    ChangeAction::Update
                } else {
                    ChangeAction::Create
                };
                let url = self
                    .put_function_url_config(
                        name,
                        qualifier,
                        FunctionUrlConfigRequest {
                            auth_type: Some(want.auth_type.clone()),
                            cors: None,
                            invoke_mode: Some(mode),
                        },
                    )
                    .await?;
                let detail = if want.auth_type == "AWS_IAM" {
                    "AuthType AWS_IAM recorded; Nimbus does not verify signatures"
                } else {
                    ""
                };
                Ok(vec![change(
                    id,
                    kinds::URL,
                    url.function_url,
                    action,
                    detail,
                )])
            }
            (None, Some(h)) if had => {
                self.delete_function_url_config(name, qualifier).await?;
                Ok(vec![change(
                    id,
                    kinds::URL,
                    h.function_url,
                    ChangeAction::Delete,
                    "",
                )])
            }
            (None, _) => Ok(Vec::new()),
        }
    }

    /// A traffic shift of this alias to this version already running, if any.
    pub(crate) async fn running_shift(
        &self,
        function: &str,
        alias: &str,
        to_version: &str,
    ) -> Result<Option<String>, ControlError> {
        Ok(self
            .list_deployments(Some(function))
            .await?
            .into_iter()
            .find(|d| d.alias == alias && d.to_version == to_version && !d.status.is_terminal())
            .map(|d| d.deployment_id))
    }

    pub(crate) async fn start_shift(
        self: &Arc<Self>,
        spec: &StackSpec,
        shift: Shift,
    ) -> Result<(ResourceChange, Option<String>), ControlError> {
        let name = shift.function.function_name.as_str();
        let Some(preference) = shift.function.deployment_preference.clone() else {
            return Err(ControlError::service(
                "traffic shift",
                "no DeploymentPreference",
            ));
        };
        let alarms = spec
            .alarms
            .iter()
            .filter(|a| {
                preference
                    .alarms
                    .iter()
                    .any(|n| n == &a.logical_id || n == &a.alarm_name)
            })
            .cloned()
            .collect();
        let d = self
            .start_deployment(DeploymentRequest {
                function: name.to_string(),
                alias: shift.alias.clone(),
                from_version: shift.from_version.clone(),
                to_version: shift.to_version.clone(),
                preference: preference.clone(),
                alarms,
                owner: spec.name.clone(),
            })
            .await?;
        Ok((
            change(
                format!("{}Alias{}", shift.function.logical_id, shift.alias),
                kinds::DEPLOYMENT,
                d.deployment_id.clone(),
                ChangeAction::Update,
                format!(
                    "{} {} → {} ({}% now)",
                    preference.kind, shift.from_version, shift.to_version, d.traffic_percent
                ),
            ),
            Some(d.deployment_id),
        ))
    }

    /// Rolls back running traffic shifts of a function about to be removed.
    pub(crate) async fn stop_shifts_of(&self, function: &str) {
        let Ok(running) = self.list_deployments(Some(function)).await else {
            return;
        };
        for d in running.into_iter().filter(|d| !d.status.is_terminal()) {
            if let Err(e) = self.stop_deployment(&d.deployment_id).await {
                tracing::warn!(deployment = %d.deployment_id, error = %e, "could not stop a deployment of a removed function");
            }
        }
    }
}

fn target_label(t: &Target) -> String {
    match &t.qualifier {
        Some(q) => format!("{}:{q}", t.function),
        None => t.function.clone(),
    }
}
