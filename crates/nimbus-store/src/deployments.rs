//! Traffic-shifting deployments in the store: the [`DeploymentStore`] trait and its row.

use async_trait::async_trait;

use crate::StoreError;

/// Most deployments one list call returns; larger limits are clamped (finished ones are
/// pruned per function, so a list never needs more).
pub const DEPLOYMENT_LIST_LIMIT_MAX: u32 = 10_000;

/// One deployment. Hooks, alarms and events are the engine's JSON, opaque here.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DeploymentRow {
    /// Deployment id (`d-XXXXXXXXX`).
    pub id: String,
    /// Who started it (a stack name, `api`, …).
    pub owner: String,
    /// Function name.
    pub function_name: String,
    /// Alias whose traffic moves.
    pub alias: String,
    /// The version traffic moves away from (and returns to on rollback).
    pub from_version: String,
    /// The version traffic moves to.
    pub to_version: String,
    /// `Canary10Percent5Minutes`, `Linear10PercentEvery1Minute`, `AllAtOnce`, …
    pub deployment_type: String,
    /// The engine's status word.
    pub status: String,
    /// True until the status is terminal (the engine resumes these at start-up).
    pub in_progress: bool,
    /// Share of the alias's traffic on `to_version` now, in percent.
    pub weight_percent: i64,
    /// Index of the traffic step reached.
    pub step: i64,
    /// Start, ms since the Unix epoch.
    pub started_ms: i64,
    /// When the next traffic step is due (absolute), if one is scheduled.
    pub next_step_ms: Option<i64>,
    /// Hooks and their state.
    pub hooks_json: String,
    /// Alarms evaluated during the deployment.
    pub alarms_json: String,
    /// Why it rolled back or failed.
    pub reason: Option<String>,
    /// The timeline.
    pub events_json: String,
    /// Last change, ms since the Unix epoch.
    pub updated_ms: i64,
}

/// Persistence of deployments.
#[async_trait]
pub trait DeploymentStore: Send + Sync {
    /// Inserts or replaces a deployment.
    async fn put_deployment(&self, row: &DeploymentRow) -> Result<(), StoreError>;
    /// One deployment.
    async fn get_deployment(&self, id: &str) -> Result<Option<DeploymentRow>, StoreError>;
    /// Deployments (of one function, or all), newest first, at most `limit`.
    async fn list_deployments(
        &self,
        function: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DeploymentRow>, StoreError>;
    /// Every deployment still in progress, oldest first.
    async fn list_deployments_in_progress(&self) -> Result<Vec<DeploymentRow>, StoreError>;
    /// Deletes the finished deployments of `function` beyond the newest `keep`; returns how
    /// many were deleted.
    async fn prune_deployments(&self, function: &str, keep: u32) -> Result<u64, StoreError>;
}
