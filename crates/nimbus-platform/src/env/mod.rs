//! One execution environment as the engine sees it: a sandbox running one function version's
//! runtime, its Runtime API, its log pipe and its process state.
//!
//! Lifecycle: [`Env::start`] (cold start: launch the sandbox, serve its Runtime API) →
//! [`Env::wait_init`] (until the runtime's first `/next`, an init error, an exit, or the
//! Init cap) → [`Env::run`] once per invocation, one at a time → [`Env::teardown`].

pub(crate) mod control;
pub(crate) mod logpipe;
pub(crate) mod rapi;

use crate::model::FunctionVersion;
use bytes::Bytes;
use control::ProcState;
use logpipe::{LogLine, LogPipe};
use nimbus_sandbox::cgroup::EnvCgroup;
use nimbus_sandbox::{EnvHandle, LaunchSpec, Sandboxes};
use rapi::{Event, InitSignal, RuntimeApi, RuntimeReply};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{oneshot, watch};
use tokio::task::AbortHandle;
use tokio::time::{Duration, Instant};

/// How Init ended.
#[derive(Debug)]
pub(crate) enum InitResult {
    /// The runtime asked for its first event.
    Ready,
    /// The runtime reported an init error (`/runtime/init/error`).
    Failed { error_type: String, body: Bytes },
    /// The runtime process exited (or was killed) before its first `/next`.
    Exited {
        code: Option<i32>,
        signal: Option<i32>,
    },
    /// The runtime could not even be exec'd (missing or non-executable bootstrap).
    ExecFailed { errno: Option<i32>, message: String },
    /// Init did not finish in time.
    TimedOut,
}

/// How one invocation ended inside the environment.
#[derive(Debug)]
pub(crate) enum RunResult {
    /// The runtime answered.
    Reply(RuntimeReply),
    /// The runtime process exited or was killed mid-invocation.
    Exited {
        code: Option<i32>,
        signal: Option<i32>,
    },
    /// The function timeout passed.
    TimedOut,
}

/// An invocation as handed to an environment.
pub(crate) struct Invocation {
    pub request_id: String,
    pub invoked_arn: String,
    pub trace_id: String,
    pub client_context: Option<String>,
    pub payload: Bytes,
    pub timeout: Duration,
}

/// A running execution environment.
pub(crate) struct Env {
    pub id: String,
    pub function: Arc<FunctionVersion>,
    /// Log stream name: `YYYY/MM/DD/[<version>]<env id>`.
    pub stream: String,
    pub created: Instant,
    rapi: Arc<RuntimeApi>,
    logs: LogPipe,
    proc: watch::Receiver<ProcState>,
    cgroup: Option<EnvCgroup>,
    handle: Mutex<Option<EnvHandle>>,
    tasks: Vec<AbortHandle>,
    last_used: Mutex<Instant>,
    broken: AtomicBool,
    /// The provisioned-concurrency configuration that keeps this environment warm (`None`:
    /// on-demand, reaped after the keep-alive).
    provisioned_for: Mutex<Option<String>>,
}

/// A cold start in progress.
pub(crate) struct Starting {
    pub env: Arc<Env>,
    init: oneshot::Receiver<InitSignal>,
    pub started_at: Instant,
    pub prebuilt: bool,
}

impl Env {
    /// Launches a sandbox for `function` and starts serving its Runtime API and logs.
    pub(crate) async fn start(
        sandboxes: &Arc<Sandboxes>,
        function: Arc<FunctionVersion>,
        spec: LaunchSpec,
        stream_for: impl FnOnce(&str) -> String,
    ) -> std::io::Result<Starting> {
        let started_at = Instant::now();
        let sandboxes = Arc::clone(sandboxes);
        let launched = tokio::task::spawn_blocking(move || sandboxes.launch(&spec))
            .await
            .map_err(std::io::Error::other)??;
        let nimbus_sandbox::Launched {
            handle,
            control,
            logs,
            listener,
            prebuilt,
        } = launched;
        // From here on, failures must tear the sandbox down.
        let wired = (|| -> std::io::Result<_> {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let (proc, control_task) = control::follow(control)?;
            let (logs, log_task) = LogPipe::start(logs)?;
            Ok((listener, proc, control_task, logs, log_task))
        })();
        let (listener, proc, control_task, logs, log_task) = match wired {
            Ok(parts) => parts,
            Err(e) => {
                let _ = tokio::task::spawn_blocking(move || handle.teardown()).await;
                return Err(e);
            }
        };
        let (rapi, init) = RuntimeApi::new();
        let rapi_task = tokio::spawn(Arc::clone(&rapi).serve(listener));
        let env = Arc::new(Env {
            id: handle.id.clone(),
            stream: stream_for(&handle.id),
            function,
            created: started_at,
            rapi,
            logs,
            proc,
            cgroup: handle.cgroup().cloned(),
            handle: Mutex::new(Some(handle)),
            tasks: vec![
                rapi_task.abort_handle(),
                control_task.abort_handle(),
                log_task.abort_handle(),
            ],
            last_used: Mutex::new(started_at),
            broken: AtomicBool::new(false),
            provisioned_for: Mutex::new(None),
        });
        Ok(Starting {
            env,
            init,
            started_at,
            prebuilt,
        })
    }

    /// True when the environment can take another invocation.
    pub(crate) fn is_usable(&self) -> bool {
        !self.broken.load(Ordering::Acquire) && !self.proc.borrow().is_dead()
    }

    /// Marks the environment as not reusable (it will be torn down when released).
    pub(crate) fn mark_broken(&self) {
        self.broken.store(true, Ordering::Release);
    }

    /// The provisioned-concurrency configuration owning this environment, if any.
    pub(crate) fn provisioned_for(&self) -> Option<String> {
        self.provisioned_for.lock().ok().and_then(|o| o.clone())
    }

    /// True when a provisioned-concurrency configuration keeps this environment.
    pub(crate) fn is_provisioned(&self) -> bool {
        self.provisioned_for.lock().is_ok_and(|o| o.is_some())
    }

    /// Hands the environment to a provisioned configuration (`Some`) or back to on-demand.
    pub(crate) fn set_provisioned_for(&self, owner: Option<String>) {
        if let Ok(mut o) = self.provisioned_for.lock() {
            *o = owner;
        }
    }

    /// When it last finished an invocation (or was created).
    pub(crate) fn last_used(&self) -> Instant {
        self.last_used.lock().map(|t| *t).unwrap_or(self.created)
    }

    /// Lines the runtime wrote since the last call.
    pub(crate) async fn take_logs(&self) -> Vec<LogLine> {
        self.logs.take().await
    }

    /// Lines already collected, without draining the pipe (cheap; for idle-time output).
    pub(crate) fn take_collected_logs(&self) -> Vec<LogLine> {
        self.logs.take_collected()
    }

    /// Resets the cgroup's memory peak (start of an invocation).
    pub(crate) fn reset_memory_peak(&self) {
        if let Some(cg) = &self.cgroup {
            let _ = cg.reset_peak();
        }
    }

    /// Peak memory of the environment in MiB (rounded up), from the cgroup.
    pub(crate) fn memory_peak_mb(&self) -> Option<u64> {
        let bytes = self.cgroup.as_ref()?.peak_bytes()?;
        Some(bytes.div_ceil(1024 * 1024))
    }

    /// OOM kills counted by the cgroup so far.
    pub(crate) fn oom_kills(&self) -> u64 {
        self.cgroup
            .as_ref()
            .and_then(EnvCgroup::oom_kills)
            .unwrap_or(0)
    }

    /// Applies the optional hard CPU cap (only after Init: a cap during Init makes small
    /// cold starts ~10× slower).
    pub(crate) fn apply_cpu_cap(&self, memory_mb: u32) {
        if let Some(cg) = &self.cgroup
            && let Err(e) = cg.set_cpu_quota_for_memory(memory_mb)
        {
            tracing::warn!(env = %self.id, error = %e, "could not apply the CPU cap");
        }
    }

    /// Kills every process of the environment now.
    pub(crate) fn kill(&self) {
        self.mark_broken();
        if let Ok(handle) = self.handle.lock()
            && let Some(handle) = handle.as_ref()
        {
            handle.kill();
        }
    }

    /// Stops the environment's tasks and removes everything it holds on the host.
    pub(crate) async fn teardown(&self) {
        self.mark_broken();
        self.rapi.abandon();
        for task in &self.tasks {
            task.abort();
        }
        let handle = self.handle.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let id = self.id.clone();
            let result = tokio::task::spawn_blocking(move || handle.teardown()).await;
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(env = %id, error = %e, "environment teardown incomplete")
                }
                Err(e) => tracing::warn!(env = %id, error = %e, "environment teardown task failed"),
            }
        }
    }
}

impl Starting {
    /// Waits for Init to end, at most `budget` (measured from the launch).
    pub(crate) async fn wait_init(&mut self, budget: Duration) -> InitResult {
        let deadline = self.started_at + budget;
        let mut proc = self.env.proc.clone();
        loop {
            tokio::select! {
                signal = &mut self.init => {
                    return match signal {
                        Ok(InitSignal::Ready) => InitResult::Ready,
                        Ok(InitSignal::Failed { error_type, body }) => InitResult::Failed { error_type, body },
                        // The Runtime API was dropped: only happens when the env is torn down.
                        Err(_) => InitResult::Exited { code: None, signal: None },
                    };
                }
                changed = proc.changed() => {
                    let state = proc.borrow_and_update().clone();
                    match state {
                        ProcState::Failed { stage, errno, message } if stage == "exec" => {
                            return InitResult::ExecFailed { errno, message };
                        }
                        ProcState::Failed { message, .. } => {
                            return InitResult::ExecFailed { errno: None, message };
                        }
                        ProcState::Exited { code, signal } => return InitResult::Exited { code, signal },
                        ProcState::Gone => return InitResult::Exited { code: None, signal: Some(9) },
                        ProcState::Starting | ProcState::Running => {}
                    }
                    if changed.is_err() {
                        return InitResult::Exited { code: None, signal: None };
                    }
                }
                _ = tokio::time::sleep_until(deadline) => return InitResult::TimedOut,
            }
        }
    }
}

impl Env {
    /// Runs one invocation: hands the event to the runtime and waits for its reply, its
    /// death, or the timeout.
    pub(crate) async fn run(&self, inv: Invocation) -> RunResult {
        let deadline = Instant::now() + inv.timeout;
        let deadline_ms = crate::clock::now_ms() as u64 + inv.timeout.as_millis() as u64;
        let reply = self.rapi.deliver(Event {
            request_id: inv.request_id,
            deadline_ms,
            invoked_arn: inv.invoked_arn,
            trace_id: inv.trace_id,
            client_context: inv.client_context,
            payload: inv.payload,
        });
        let mut proc = self.proc.clone();
        let result = tokio::select! {
            // A reply that raced with an exit still counts.
            biased;
            reply = reply => match reply {
                Ok(reply) => RunResult::Reply(reply),
                Err(_) => RunResult::Exited { code: None, signal: None },
            },
            state = wait_dead(&mut proc) => match state {
                ProcState::Exited { code, signal } => RunResult::Exited { code, signal },
                _ => RunResult::Exited { code: None, signal: Some(9) },
            },
            _ = tokio::time::sleep_until(deadline) => RunResult::TimedOut,
        };
        if let Ok(mut t) = self.last_used.lock() {
            *t = Instant::now();
        }
        result
    }
}

/// Resolves when the process state turns dead, with that state.
async fn wait_dead(proc: &mut watch::Receiver<ProcState>) -> ProcState {
    loop {
        {
            let state = proc.borrow_and_update();
            if state.is_dead() {
                return state.clone();
            }
        }
        if proc.changed().await.is_err() {
            return ProcState::Gone;
        }
    }
}
