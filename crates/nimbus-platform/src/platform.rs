//! The engine object the server talks to: owns the store, code, runtimes, sandboxes, the
//! environment pool, admission and the log writer.

use crate::admission::Admission;
use crate::async_events::AsyncEvents;
use crate::config::PlatformConfig;
use crate::limits::{
    ASYNC_DISPATCH_CONCURRENT_MAX, CODE_UPLOADS_CONCURRENT_MAX, REAPER_INTERVAL, SCALING_WINDOW,
};
use crate::logs::LogSink;
use crate::model::FunctionVersion;
use crate::package::CodeStore;
use crate::pool::Pool;
use crate::provisioned::ProvisionedState;
use crate::runtimes::RuntimeCatalog;
use crate::scaling::ScaleLimiter;
use anyhow::Context;
use nimbus_queues::Queues;
use nimbus_sandbox::Sandboxes;
use nimbus_store::MappingStore;
use nimbus_store::{AliasRow, EventStore, Store};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use tokio::sync::Semaphore;

/// Counters kept for metrics.
#[derive(Debug, Default)]
pub struct Stats {
    /// Invocations served by a new environment.
    pub cold_starts: AtomicU64,
    /// Invocations served by a warm environment.
    pub warm_starts: AtomicU64,
    /// Cold starts that used a pre-built sandbox.
    pub prebuilt_shells: AtomicU64,
    /// Invocations served by a provisioned-concurrency environment.
    pub provisioned_invocations: AtomicU64,
}

/// A snapshot of the engine's counters (served at `/nimbus/v1/stats`; the metrics work
/// builds on it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsSnapshot {
    /// Account limit, reservations and what runs now.
    pub account: AccountStats,
    /// Invocations served by a new environment.
    pub cold_starts: u64,
    /// Invocations served by a warm environment (provisioned ones included).
    pub warm_starts: u64,
    /// Of the warm ones, served by a provisioned-concurrency environment.
    pub provisioned_invocations: u64,
    /// Invocations of functions with provisioned concurrency that ran on on-demand capacity.
    pub spillover_invocations: u64,
    /// Cold starts that used a pre-built sandbox.
    pub prebuilt_shells: u64,
    /// Environments alive now.
    pub environments: usize,
    /// Of which idle.
    pub idle_environments: usize,
    /// Of which kept by provisioned concurrency.
    pub provisioned_environments: usize,
    /// Invocations refused, by `Reason`.
    pub throttles: BTreeMap<String, u64>,
    /// Log events dropped because the writer was behind.
    pub log_events_dropped: u64,
    /// Functions with settings or invocations in flight.
    pub functions: Vec<FunctionStatsSnapshot>,
}

/// Account-wide concurrency.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountStats {
    /// The account concurrency limit.
    pub limit: u32,
    /// Σ reserved concurrency.
    pub reserved: u32,
    /// Limit minus reservations.
    pub unreserved: u32,
    /// Concurrent executions now.
    pub in_flight: u32,
}

/// One function's concurrency.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionStatsSnapshot {
    /// Function name.
    pub name: String,
    /// Concurrent executions now.
    pub in_flight: u32,
    /// Reserved concurrency, if set.
    pub reserved: Option<u32>,
    /// Provisioned concurrency requested (all versions and aliases).
    pub provisioned: u32,
    /// Executions on provisioned capacity now (utilisation = this / `provisioned`).
    pub provisioned_in_flight: u32,
}

/// The durable state the engine runs on: one handle per store trait (the SQLite store
/// implements them all; see [`Stores::sqlite`]).
pub struct Stores {
    /// Functions, versions, aliases, settings, logs.
    pub functions: Arc<dyn Store>,
    /// Asynchronous events and event-invoke configurations.
    pub events: Arc<dyn EventStore>,
    /// The queue service (on the same store).
    pub queues: Arc<Queues>,
    /// Event source mappings.
    pub mappings: Arc<dyn MappingStore>,
    /// Function URL configurations.
    pub function_urls: Arc<dyn nimbus_store::FunctionUrlStore>,
    /// Schedules (`Type: Schedule | ScheduleV2` events) and the slots they fired.
    pub schedules: Arc<dyn nimbus_store::ScheduleStore>,
    /// Stacks deployed from templates.
    pub stacks: Arc<dyn nimbus_store::StackStore>,
    /// Traffic-shifting deployments.
    pub deployments: Arc<dyn nimbus_store::DeploymentStore>,
    /// Invocation records and provisioned-concurrency intervals (metering).
    pub metering: Arc<dyn nimbus_store::MeteringStore>,
}

impl Stores {
    /// Every store on one SQLite database, and the queue service on it.
    pub fn sqlite(store: Arc<nimbus_store::SqliteStore>, queues: Arc<Queues>) -> Self {
        Stores {
            functions: store.clone(),
            events: store.clone(),
            function_urls: store.clone(),
            queues,
            mappings: store.clone(),
            schedules: store.clone(),
            stacks: store.clone(),
            metering: store.clone(),
            deployments: store,
        }
    }
}

/// The Nimbus engine.
pub struct Platform {
    pub(crate) config: PlatformConfig,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) code: Arc<CodeStore>,
    pub(crate) runtimes: Arc<RuntimeCatalog>,
    pub(crate) sandboxes: Arc<Sandboxes>,
    pub(crate) pool: Pool,
    pub(crate) admission: Admission,
    pub(crate) logs: LogSink,
    /// `$LATEST` of every function, mirrored from the store (the store is the truth; every
    /// control-plane write goes through it first).
    pub(crate) functions: RwLock<HashMap<String, Arc<FunctionVersion>>>,
    /// Serialises control-plane writes (SQLite has one writer anyway) so the cache and the
    /// store never disagree.
    pub(crate) writes: tokio::sync::Mutex<()>,
    /// Published versions read so far (immutable, so never invalidated except on delete).
    pub(crate) versions: RwLock<HashMap<(String, i64), Arc<FunctionVersion>>>,
    /// Recent init failures per snapshot key, so a broken function is not respawned in a loop.
    pub(crate) init_failures:
        Mutex<HashMap<String, (tokio::time::Instant, crate::invoke::InitFailure)>>,
    pub(crate) uploads: Semaphore,
    /// Code garbage collection excludes writes that may reference a package: a write holds
    /// it shared from storing the package until its row is committed; GC holds it exclusively.
    pub(crate) code_gc: tokio::sync::RwLock<()>,
    pub(crate) stats: Stats,
    /// Aliases of every function, mirrored from the store like `functions`.
    pub(crate) aliases: RwLock<HashMap<String, BTreeMap<String, AliasRow>>>,
    /// Splits weighted-alias traffic (seedable for reproducible tests).
    pub(crate) routing: Mutex<StdRng>,
    /// Provisioned-concurrency configurations and their reconciler's bookkeeping.
    pub(crate) provisioned: ProvisionedState,
    /// The per-function scaling rate of new environments.
    pub(crate) scaling: ScaleLimiter,
    /// Asynchronous invocations: accepts, dispatcher, deliveries.
    pub(crate) async_events: AsyncEvents,
    /// The SQS-compatible queue service (destinations, DLQs and event source mappings use it).
    pub(crate) queues: Arc<Queues>,
    pub(crate) mapping_store: Arc<dyn MappingStore>,
    /// Function URL configurations, mirrored by URL id for the gateway.
    pub(crate) function_urls: crate::function_urls::FunctionUrls,
    /// The gateway's HTTP routes of every deployed stack (see [`Platform::routes`]).
    pub(crate) routes: Arc<RwLock<nimbus_gateway::RouteTable>>,
    pub(crate) event_sources: crate::event_sources::EventSources,
    /// Schedules and their scheduler's wake-up.
    pub(crate) schedules: crate::schedules::Schedules,
    /// Stacks: their store and the lock that serialises deploys and deletes.
    pub(crate) stacks: crate::stacks::StacksState,
    /// Per-version invocation metrics (deployment health checks read them).
    pub(crate) version_metrics: crate::version_metrics::VersionMetrics,
    /// Invocation records (queued, batched), provisioned-concurrency sampling, billing rules.
    pub(crate) metering: crate::metering::Metering,
    /// Prometheus series and duration sketches (`GET /metrics`, `nimbus metrics`).
    pub(crate) metrics: crate::metrics::Metrics,
    /// Traffic-shifting deployments.
    pub(crate) deployments: crate::deployments::DeploymentsState,
    /// Woken (all waiters) when the wall clock was moved by hand ([`Platform::clock_advanced`]).
    pub(crate) clock_tick: Arc<tokio::sync::Notify>,
    background: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    log_writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Platform {
    /// Opens the state in `config.data_dir` and starts the engine's background tasks.
    /// `sandboxes` must have been started before the async runtime (see `Sandboxes::start`).
    pub async fn open(
        config: PlatformConfig,
        stores: Stores,
        sandboxes: Arc<Sandboxes>,
    ) -> anyhow::Result<Arc<Self>> {
        let Stores {
            functions: store,
            events,
            queues,
            mappings,
            function_urls,
            schedules: schedule_store,
            stacks,
            deployments,
            metering,
        } = stores;
        let code_dir = config.code_dir();
        let code = tokio::task::spawn_blocking(move || -> anyhow::Result<CodeStore> {
            let code = CodeStore::open(&code_dir).context("open code store")?;
            code.sweep_staging().context("sweep code staging")?;
            Ok(code)
        })
        .await??;
        crate::runtimes::install_bootstraps(&config.runtime_dir())
            .context("install runtime bootstraps")?;
        let runtimes = Arc::new(RuntimeCatalog::new(
            config.runtime_paths.clone(),
            config.runtime_dir(),
        ));
        let (logs, log_writer) = LogSink::start(Arc::clone(&store), config.log_retention_bytes);
        let routing = match config.routing_seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        let scaling = ScaleLimiter::new(config.scaling_per_window, SCALING_WINDOW);
        let async_events = AsyncEvents::new(
            events,
            config.async_time_scale,
            ASYNC_DISPATCH_CONCURRENT_MAX.min(config.account_concurrency as usize),
        );
        let schedules = crate::schedules::Schedules::new(
            schedule_store,
            config.clock.clone(),
            config.region.clone(),
            config.account_id.clone(),
        );
        let version_metrics = crate::version_metrics::VersionMetrics::new(config.clock.clone());
        let metering = crate::metering::Metering::start(
            metering,
            config.metering.clone(),
            config.clock.now_ms(),
        );
        let metrics = crate::metrics::Metrics::new(config.clock.clone());
        let platform = Arc::new(Self {
            admission: Admission::with_unreserved_minimum(
                config.account_concurrency,
                config.unreserved_minimum(),
            ),
            config,
            store,
            code: Arc::new(code),
            runtimes,
            sandboxes,
            pool: Pool::default(),
            logs,
            functions: RwLock::new(HashMap::new()),
            writes: tokio::sync::Mutex::new(()),
            versions: RwLock::new(HashMap::new()),
            init_failures: Mutex::new(HashMap::new()),
            uploads: Semaphore::new(CODE_UPLOADS_CONCURRENT_MAX),
            code_gc: tokio::sync::RwLock::new(()),
            stats: Stats::default(),
            aliases: RwLock::new(HashMap::new()),
            routing: Mutex::new(routing),
            provisioned: ProvisionedState::default(),
            scaling,
            async_events,
            queues,
            mapping_store: mappings,
            function_urls: crate::function_urls::FunctionUrls::new(function_urls),
            routes: Arc::new(RwLock::new(nimbus_gateway::RouteTable::new())),
            event_sources: Default::default(),
            schedules,
            stacks: crate::stacks::StacksState::new(stacks),
            version_metrics,
            metering,
            metrics,
            deployments: crate::deployments::DeploymentsState::new(deployments),
            clock_tick: Arc::new(tokio::sync::Notify::new()),
            background: Mutex::new(Vec::new()),
            log_writer: Mutex::new(Some(log_writer)),
        });
        platform.load_functions().await?;
        platform.load_aliases().await?;
        platform.load_reserved().await?;
        platform.load_provisioned().await?;
        platform.load_function_urls().await?;
        platform.collect_garbage_code().await;
        let reaper = tokio::spawn(reap_loop(Arc::downgrade(&platform)));
        let reconciler = platform.start_provisioned_reconciler();
        platform.set_queue_sink(Arc::new(crate::queue_sink::LocalQueueSink(Arc::clone(
            &platform.queues,
        ))));
        let janitor = platform.queues.spawn_janitor();
        let async_tasks = platform.start_async_events().await?;
        platform.start_event_sources().await?;
        platform.load_stacks().await?;
        let scheduler = platform.start_scheduler();
        let deployments_engine = platform.start_deployments_engine();
        let metering_janitor = platform.start_metering_janitor();
        if let Ok(mut bg) = platform.background.lock() {
            bg.push(reaper);
            bg.push(reconciler);
            bg.push(janitor);
            bg.extend(async_tasks);
            bg.push(scheduler);
            bg.push(deployments_engine);
            bg.push(metering_janitor);
        }
        Ok(platform)
    }

    /// The gateway's route table, shared with the gateway listener: stack deploys fill it,
    /// the listener matches requests against it.
    pub fn routes(&self) -> Arc<RwLock<nimbus_gateway::RouteTable>> {
        Arc::clone(&self.routes)
    }

    /// The queue service.
    pub fn queues(&self) -> &Queues {
        &self.queues
    }

    /// The configuration in use.
    pub fn config(&self) -> &PlatformConfig {
        &self.config
    }

    /// Says the wall clock (`PlatformConfig::clock`) was moved by hand (a `ManualClock` in
    /// tests and under `nimbus serve --manual-clock`): every task scheduling in wall time
    /// (deployments, schedules) waits on `clock_tick` and re-evaluates now.
    pub fn clock_advanced(&self) {
        self.clock_tick.notify_waiters();
    }

    /// What the sandbox layer enforces on this host.
    pub fn protections(&self) -> &nimbus_sandbox::Protections {
        self.sandboxes.protections()
    }

    /// Engine counters.
    pub fn stats(&self) -> StatsSnapshot {
        let (environments, idle_environments) = self.pool.counts();
        let provisioned_environments = self
            .pool
            .live()
            .iter()
            .filter(|e| e.is_provisioned())
            .count();
        let account = self.admission.stats();
        StatsSnapshot {
            account: AccountStats {
                limit: account.account_limit,
                reserved: account.reserved_total,
                unreserved: account.unreserved,
                in_flight: account.in_flight,
            },
            cold_starts: self.stats.cold_starts.load(Ordering::Relaxed),
            warm_starts: self.stats.warm_starts.load(Ordering::Relaxed),
            provisioned_invocations: self.stats.provisioned_invocations.load(Ordering::Relaxed),
            spillover_invocations: account.spillovers,
            prebuilt_shells: self.stats.prebuilt_shells.load(Ordering::Relaxed),
            environments,
            idle_environments,
            provisioned_environments,
            throttles: account.throttles.into_iter().collect(),
            log_events_dropped: self.logs.dropped(),
            functions: self
                .admission
                .all_function_stats()
                .into_iter()
                .map(|(name, f)| FunctionStatsSnapshot {
                    name,
                    in_flight: f.in_flight,
                    reserved: f.reserved,
                    provisioned: f.provisioned,
                    provisioned_in_flight: f.provisioned_in_flight,
                })
                .collect(),
        }
    }

    /// Stops every environment and background task and flushes logs. Call once, at exit.
    pub async fn shutdown(&self) {
        self.event_sources.stop_all();
        if let Ok(mut bg) = self.background.lock() {
            for task in bg.drain(..) {
                task.abort();
            }
        }
        let envs = self.pool.live();
        let teardowns = envs.iter().map(|env| async move {
            env.kill();
            env.teardown().await;
        });
        futures::future::join_all(teardowns).await;
        self.sandboxes.shutdown();
        // Everything logged so far is stored before we stop the writer.
        self.logs.flush().await;
        self.stop_metering().await;
        let writer = self.log_writer.lock().ok().and_then(|mut w| w.take());
        if let Some(writer) = writer {
            writer.abort();
        }
    }

    /// `arn:aws:lambda:<region>:<account>:function:<name>`.
    pub fn function_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.config.region, self.config.account_id, name
        )
    }

    pub(crate) fn cached(&self, name: &str) -> Option<Arc<FunctionVersion>> {
        self.functions.read().ok()?.get(name).cloned()
    }

    /// Removes code no function references (at start-up; later on delete/update when no
    /// environment still runs it).
    pub(crate) async fn collect_garbage_code(&self) {
        let _exclusive = self.code_gc.write().await;
        let Ok(mut keep) = self.store.code_refs().await else {
            return;
        };
        for env in self.pool.live() {
            keep.insert(env.function.code.sha256_hex.clone());
        }
        // Uploads a deploy is about to reference.
        keep.extend(self.stacks.uploads.protected(self.config.clock.now_ms()));
        let code = Arc::clone(&self.code);
        let removed = tokio::task::spawn_blocking(move || code.gc(&keep)).await;
        if let Ok(Ok(n)) = removed
            && n > 0
        {
            tracing::info!(removed = n, "removed unreferenced code packages");
        }
    }

    /// Tears down an environment in the background.
    pub(crate) fn retire(&self, env: Arc<crate::env::Env>) {
        self.pool.forget(&env);
        tokio::spawn(async move {
            env.kill();
            env.teardown().await;
        });
    }
}

async fn reap_loop(platform: Weak<Platform>) {
    let mut tick = tokio::time::interval(REAPER_INTERVAL);
    loop {
        tick.tick().await;
        let Some(platform) = platform.upgrade() else {
            return;
        };
        let now = tokio::time::Instant::now();
        for env in platform
            .pool
            .collect_expired(now, platform.config.keep_alive)
        {
            tracing::debug!(env = %env.id, function = %env.function.name, "scaling idle environment to zero");
            platform.retire(env);
        }
    }
}
