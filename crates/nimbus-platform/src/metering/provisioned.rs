//! Provisioned concurrency is billed per GB-s while configured. Rather than hook every
//! configuration change, a janitor task samples the stored configurations every
//! [`PROVISIONED_SAMPLE_INTERVAL`] and records, for each, the interval since the previous
//! sample (or since the configuration's last change, if later) at its current size. So:
//! * a configuration accrues while it exists and the server runs (a stopped server runs no
//!   environments, so nothing accrues across a restart);
//! * a change of size, or a deletion, is seen at the next sample: the up-to-a-minute since
//!   the previous sample is counted at the new size, or not at all. Lambda instead rounds
//!   each enabled period up to 5 minutes; the difference is at most a few minutes per change.
//!
//! The same task deletes metering rows older than the retention, every
//! [`super::METERING_PRUNE_INTERVAL`].

use super::METERING_PRUNE_INTERVAL;
use crate::platform::Platform;
use nimbus_cost::Arch;
use nimbus_store::ProvisionedUsageRow;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often configured provisioned concurrency is sampled: the resolution of its bill. Ours.
pub const PROVISIONED_SAMPLE_INTERVAL: Duration = Duration::from_secs(60);

impl Platform {
    /// Starts the task that samples provisioned concurrency and prunes old records.
    pub(crate) fn start_metering_janitor(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(janitor_loop(Arc::downgrade(self)))
    }

    /// Provisioned concurrency configured from the last sample up to `now_ms`, one row per
    /// configuration (not stored).
    pub(crate) async fn provisioned_since_sample(&self, now_ms: i64) -> Vec<ProvisionedUsageRow> {
        let from_ms = self
            .metering
            .provisioned_sampled_ms
            .lock()
            .map(|at| *at)
            .unwrap_or(now_ms);
        let configs = match self.store.list_provisioned().await {
            Ok(configs) => configs,
            Err(e) => {
                tracing::warn!(error = %e, "could not read provisioned concurrency for metering");
                return Vec::new();
            }
        };
        let mut rows = Vec::new();
        for config in configs {
            // The configuration's change time is on the system clock; clamp it to ours.
            let start_ms = from_ms.max(config.modified_ms.min(now_ms));
            if config.requested <= 0 || start_ms >= now_ms {
                continue;
            }
            let Ok((version, _)) = self
                .resolve_target(&config.function_name, Some(&config.qualifier), false)
                .await
            else {
                // Its function, version or alias is being deleted: nothing to bill.
                continue;
            };
            rows.push(ProvisionedUsageRow {
                function_name: config.function_name,
                qualifier: config.qualifier,
                version: version.version.clone(),
                architecture: Arch::of_function(&version.config.architectures)
                    .as_str()
                    .to_string(),
                memory_mb: i64::from(version.config.memory_mb),
                concurrency: config.requested,
                start_ms,
                end_ms: now_ms,
            });
        }
        rows
    }

    /// Stores the provisioned concurrency accrued since the last sample. On a store error
    /// the sample point stays, so the next sample covers the interval.
    pub(crate) async fn sample_provisioned(&self) {
        let now_ms = self.config.clock.now_ms();
        let rows = self.provisioned_since_sample(now_ms).await;
        if let Err(e) = self.metering.store.append_provisioned_usage(&rows).await {
            tracing::warn!(error = %e, "could not store provisioned concurrency usage");
            return;
        }
        if let Ok(mut at) = self.metering.provisioned_sampled_ms.lock() {
            *at = (*at).max(now_ms);
        }
    }

    /// Deletes records older than the retention.
    pub(crate) async fn prune_metering(&self) {
        let retention_ms =
            i64::try_from(self.metering.config.retention.as_millis()).unwrap_or(i64::MAX);
        let before_ms = self.config.clock.now_ms().saturating_sub(retention_ms);
        match self.metering.store.prune_metering(before_ms).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "pruned metering records past the retention"),
            Err(e) => tracing::warn!(error = %e, "could not prune metering records"),
        }
    }
}

async fn janitor_loop(platform: Weak<Platform>) {
    let mut tick = tokio::time::interval(PROVISIONED_SAMPLE_INTERVAL);
    // The first tick is immediate: prune at start-up.
    let mut next_prune = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        let Some(platform) = platform.upgrade() else {
            return;
        };
        platform.sample_provisioned().await;
        if tokio::time::Instant::now() >= next_prune {
            platform.prune_metering().await;
            next_prune = tokio::time::Instant::now() + METERING_PRUNE_INTERVAL;
        }
    }
}
