//! Synchronous invocations: resolve → admit → warm environment or cold start → run → logs,
//! `REPORT`, and the result. A function's failure (error, crash, timeout, OOM) is an outcome
//! returned as data with `X-Amz-Function-Error`, never an engine error.

use crate::admission::ThrottleReason;
use crate::env::rapi::{RuntimeReply, error_body};
use crate::env::{Env, InitResult, Invocation, RunResult, Starting};
use crate::limits::{FAILED_INIT_RESTARTS_PER_SECOND_MAX, INIT_TIMEOUT};
use crate::logs::{self, InvocationLog, Report, ReportStatus};
use crate::model::FunctionVersion;
use crate::platform::Platform;
use crate::runtimes::{Family, Interpreter};
use bytes::Bytes;
use nimbus_api::names::FunctionRef;
use nimbus_sandbox::LaunchSpec;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::time::{Duration, Instant};
use tracing::Instrument;

/// A synchronous invocation request (already size-checked and JSON-validated by the server).
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    /// The `FunctionName` path parameter (name, partial or full ARN, optional `:qualifier`).
    pub function: String,
    /// The `Qualifier` query parameter.
    pub qualifier: Option<String>,
    /// Event payload (`{}` when the body was empty).
    pub payload: Bytes,
    /// `X-Amz-Log-Type: Tail`.
    pub log_tail: bool,
    /// Decoded `X-Amz-Client-Context` JSON text.
    pub client_context: Option<String>,
    /// The request id to use (an asynchronous event keeps its id across attempts); `None`:
    /// a new one.
    pub request_id: Option<String>,
    /// What made the invocation happen (metering).
    pub trigger: crate::metering::Trigger,
    /// The caller's X-Ray trace (`X-Amzn-Trace-Id`, a message's `AWSTraceHeader`, an
    /// event's stored header); `None`: the invocation starts a new trace.
    pub trace: Option<nimbus_api::trace::TraceHeader>,
    /// When the input became due after waiting in a queue (Unix ms: an asynchronous event's
    /// acceptance or retry time, a queue message's send time); `None`: it did not wait.
    /// Exported as the `queue_wait` span.
    pub queued_since_ms: Option<i64>,
}

/// The result of an invocation that ran (successfully or not).
#[derive(Debug, Clone)]
pub struct InvokeResponse {
    /// Request id (also the runtime's `Lambda-Runtime-Aws-Request-Id`).
    pub request_id: String,
    /// Response payload, or the error document when `function_error` is set.
    pub payload: Bytes,
    /// `X-Amz-Function-Error: Unhandled`.
    pub function_error: bool,
    /// `X-Amz-Executed-Version`.
    pub executed_version: String,
    /// `X-Amz-Log-Result` (base64 of the last 4 KB of the log), when asked for.
    pub log_result: Option<String>,
    /// Content type the runtime gave its response.
    pub content_type: Option<String>,
}

/// Why an invocation did not run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InvokeError {
    /// No such function (or version, or qualifier).
    #[error("{0}")]
    NotFound(String),
    /// Over a concurrency limit.
    #[error("Rate Exceeded.")]
    Throttled(ThrottleReason),
    /// A malformed name, ARN or qualifier.
    #[error("{0}")]
    InvalidParameter(String),
    /// The platform could not run the function (not the function's fault).
    #[error("{0}")]
    Service(String),
}

/// How one invocation ended, as data.
struct Outcome {
    body: Bytes,
    function_error: bool,
    content_type: Option<String>,
    status: Option<ReportStatus>,
    /// Platform-detected failures are written to the log before END.
    log_lines: Vec<String>,
}

impl Outcome {
    fn success(body: Bytes, content_type: Option<String>) -> Self {
        Self {
            body,
            function_error: false,
            content_type,
            status: None,
            log_lines: Vec::new(),
        }
    }

    /// A failure the platform detected: `{"errorMessage":"RequestId: <id> Error: …","errorType":…}`.
    fn platform(request_id: &str, error_type: &str, detail: &str, status: ReportStatus) -> Self {
        let message = format!("RequestId: {request_id} Error: {detail}");
        Self {
            body: error_body(error_type, &message),
            function_error: true,
            content_type: None,
            status: Some(status),
            log_lines: vec![message, error_type.to_string()],
        }
    }
}

/// An init failure remembered for a second, so a broken function is not respawned in a loop.
#[derive(Clone)]
pub(crate) enum InitFailure {
    /// The runtime reported it (`/runtime/init/error`): its body goes to the client as is.
    Reported { error_type: String, body: Bytes },
    /// The platform saw it (exit, bad entrypoint, timeout).
    Platform {
        error_type: String,
        detail: String,
        status: ReportStatus,
    },
}

impl InitFailure {
    fn outcome(&self, request_id: &str) -> Outcome {
        match self {
            InitFailure::Reported { error_type, body } => Outcome {
                body: body.clone(),
                function_error: true,
                content_type: None,
                status: Some(ReportStatus::Error(error_type.clone())),
                log_lines: Vec::new(),
            },
            InitFailure::Platform {
                error_type,
                detail,
                status,
            } => Outcome::platform(request_id, error_type, detail, status.clone()),
        }
    }
}

/// A warm or freshly initialised environment ready for the event.
struct Ready {
    env: Arc<Env>,
    init_ms: Option<f64>,
    /// Time already spent on a suppressed init, charged to the function timeout.
    init_in_invoke: Duration,
}

impl Platform {
    /// Finds the function version an invocation targets, and the qualifier it was invoked
    /// with (from the name or the `Qualifier` parameter).
    pub async fn resolve(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(Arc<FunctionVersion>, Option<String>), InvokeError> {
        self.resolve_target(function, qualifier, true).await
    }

    /// [`Platform::resolve`]; `route`: draw a weighted alias's version (an invocation) or
    /// take its primary version (a check that must not consume a draw).
    pub(crate) async fn resolve_target(
        &self,
        function: &str,
        qualifier: Option<&str>,
        route: bool,
    ) -> Result<(Arc<FunctionVersion>, Option<String>), InvokeError> {
        let r = FunctionRef::parse(function)
            .map_err(|e| InvokeError::InvalidParameter(e.to_string()))?;
        let qualifier = match (r.qualifier.as_deref(), qualifier) {
            (Some(a), Some(b)) if a != b => {
                return Err(InvokeError::InvalidParameter(
                    "The derived qualifier from the function name does not match the specified qualifier.".into(),
                ));
            }
            (Some(a), _) => Some(a.to_string()),
            (None, b) => b.map(str::to_string),
        };
        let arn = match &qualifier {
            Some(q) => format!("{}:{q}", self.function_arn(&r.name)),
            None => self.function_arn(&r.name),
        };
        let not_found = || InvokeError::NotFound(format!("Function not found: {arn}"));
        if self.is_foreign(&r) {
            // Named as asked: our own ARN here would point at a function that does exist.
            return Err(InvokeError::NotFound(format!("Function not found: {r}")));
        }
        if let Some(q) = qualifier.as_deref() {
            nimbus_api::names::parse_qualifier(q)
                .map_err(|e| InvokeError::InvalidParameter(e.to_string()))?;
        }
        match self
            .resolve_qualifier(&r.name, qualifier.as_deref(), route)
            .await
        {
            Ok(Some(resolved)) => Ok((resolved.function, qualifier)),
            Ok(None) => Err(not_found()),
            Err(e) => Err(InvokeError::Service(format!(
                "could not read the version: {e}"
            ))),
        }
    }

    /// Runs one synchronous invocation. It runs to completion in its own task even if the
    /// caller goes away (as on Lambda): the environment is then released or retired and the
    /// logs written; a dropped request never leaks an environment.
    pub async fn invoke(
        self: &Arc<Self>,
        mut req: InvokeRequest,
    ) -> Result<InvokeResponse, InvokeError> {
        let (function, qualifier) = self
            .resolve(&req.function, req.qualifier.as_deref())
            .await?;
        let request_id = req
            .request_id
            .clone()
            .unwrap_or_else(|| fast_uuid().to_string());
        // The trace is settled before the span exists, so the exported spans carry its Root.
        let incoming = *req.trace.get_or_insert_with(crate::traces::new_trace);
        // Field names follow OpenTelemetry's FaaS conventions: they become span attributes.
        let span = tracing::info_span!(
            "invocation",
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            faas.invocation_id = %request_id,
            faas.name = %function.name,
            faas.version = %function.version,
            faas.trigger = crate::otel::faas_trigger(req.trigger),
            nimbus.trigger = req.trigger.as_str(),
            faas.coldstart = tracing::field::Empty,
            env = tracing::field::Empty,
            outcome = tracing::field::Empty,
            aws.xray.trace_header = tracing::field::Empty,
            nimbus.queue_wait_ms = tracing::field::Empty,
        );
        crate::otel::continue_trace(&span, &incoming);
        if let Some(since) = req.queued_since_ms {
            let waited = crate::clock::now_ms().saturating_sub(since).max(0);
            span.record("nimbus.queue_wait_ms", waited);
            crate::otel::queue_wait(&span, since);
        }
        let admitted = {
            let _admission = tracing::info_span!(parent: &span, "admission").entered();
            self.admission.try_acquire(&function.name)
        };
        let permit = admitted.map_err(|reason| {
            span.record("outcome", "throttled");
            self.count_throttle(&function);
            InvokeError::Throttled(reason)
        })?;
        // The ARN as invoked: qualified when the caller qualified it.
        let invoked_arn = match &qualifier {
            Some(q) => format!("{}:{q}", function.arn),
            None => function.arn.clone(),
        };
        let platform = Arc::clone(self);
        let task = tokio::spawn(
            async move {
                let result = platform
                    .run_invocation(&function, &request_id, &invoked_arn, req)
                    .await;
                drop(permit);
                result
            }
            .instrument(span),
        );
        task.await
            .map_err(|e| InvokeError::Service(format!("invocation task failed: {e}")))?
    }

    async fn run_invocation(
        &self,
        function: &Arc<FunctionVersion>,
        request_id: &str,
        invoked_arn: &str,
        req: InvokeRequest,
    ) -> Result<InvokeResponse, InvokeError> {
        let mut log = InvocationLog::default();
        let group = function.log_group();
        let key = function.env_key();
        let (warm, dead) = self.pool.acquire(&key);
        for env in dead {
            self.retire(env);
        }
        let cold = warm.is_none();
        let span = tracing::Span::current();
        span.record("faas.coldstart", cold);
        let acquired = match warm {
            Some(env) => {
                self.stats.warm_starts.fetch_add(1, Ordering::Relaxed);
                if env.is_provisioned() {
                    self.stats
                        .provisioned_invocations
                        .fetch_add(1, Ordering::Relaxed);
                }
                // Output written while idle belongs to the stream, not to this invocation. It
                // was written long ago, so no drain of the pipe is needed (saves a round trip).
                let idle_lines = env.take_collected_logs();
                self.logs.emit(&group, &env.stream, &idle_lines);
                Ok(Ready {
                    env,
                    init_ms: None,
                    init_in_invoke: Duration::ZERO,
                })
            }
            None => {
                if !self.scaling.try_start(&function.name, Instant::now()) {
                    let reason = if self.reserved(&function.name).is_some() {
                        ThrottleReason::ReservedFunctionInvocationRateLimitExceeded
                    } else {
                        ThrottleReason::FunctionInvocationRateLimitExceeded
                    };
                    self.admission.count_throttle(reason);
                    self.count_throttle(function);
                    return Err(InvokeError::Throttled(reason));
                }
                self.stats.cold_starts.fetch_add(1, Ordering::Relaxed);
                self.cold_start(function, request_id, &mut log)
                    .instrument(tracing::info_span!("cold_start"))
                    .await?
            }
        };
        let (outcome, duration_ms, init_ms, max_mem, stream, env) = match acquired {
            Ok(ready) => {
                span.record("env", ready.env.id.as_str());
                let env = ready.env;
                env.reset_memory_peak();
                log.push(logs::start_line(request_id, &function.version));
                let timeout = Duration::from_secs(u64::from(function.config.timeout_s))
                    .saturating_sub(ready.init_in_invoke);
                let run_span = tracing::info_span!("run");
                let trace = crate::traces::for_invocation(
                    req.trace.as_ref(),
                    &function.config.tracing_mode,
                    crate::otel::segment_of(&run_span),
                );
                span.record("aws.xray.trace_header", tracing::field::display(&trace));
                let started = Instant::now();
                let result = env
                    .run(Invocation {
                        request_id: request_id.to_string(),
                        invoked_arn: invoked_arn.to_string(),
                        trace_id: trace.to_string(),
                        client_context: req.client_context.clone(),
                        payload: req.payload.clone(),
                        timeout,
                    })
                    .instrument(run_span)
                    .await;
                let duration_ms = started.elapsed().as_secs_f64() * 1000.0
                    + ready.init_in_invoke.as_secs_f64() * 1000.0;
                if matches!(result, RunResult::TimedOut) {
                    env.kill();
                }
                log.extend(env.take_logs().await);
                // The OOM counter matters only when the runtime died (a killed child of a
                // surviving runtime is the function's business): read it only then.
                let oom = matches!(result, RunResult::Exited { .. }) && env.oom_kills() > 0;
                let outcome = self.outcome_of(function, request_id, result, oom);
                let max_mem = if oom {
                    u64::from(function.config.memory_mb)
                } else {
                    env.memory_peak_mb().unwrap_or(0)
                };
                let stream = env.stream.clone();
                (
                    outcome,
                    duration_ms,
                    ready.init_ms,
                    max_mem,
                    stream,
                    Some(env),
                )
            }
            Err((outcome, stream)) => {
                log.push(logs::start_line(request_id, &function.version));
                (outcome, 0.0, None, 0, stream, None)
            }
        };
        for line in &outcome.log_lines {
            log.push(line.clone());
        }
        log.push(logs::end_line(request_id));
        let billed = crate::metering::billed_ms(duration_ms, init_ms, self.init_billed(function));
        log.push(
            Report {
                request_id,
                duration_ms,
                billed_ms: billed,
                memory_mb: function.config.memory_mb,
                max_memory_used_mb: max_mem,
                init_duration_ms: init_ms,
                status: outcome.status.clone(),
            }
            .line(),
        );
        self.meter(crate::metering::Attempt {
            request_id,
            function,
            trigger: req.trigger,
            cold,
            provisioned: env.as_ref().is_some_and(|e| e.is_provisioned()),
            init_ms,
            duration_ms,
            billed_ms: billed,
            max_memory_used_mb: max_mem,
            status: outcome.status.as_ref(),
            function_error: outcome.function_error,
        });
        span.record(
            "outcome",
            match (&outcome.status, outcome.function_error) {
                (Some(ReportStatus::Timeout), _) => "timeout",
                (Some(ReportStatus::Error(_)), _) => "error",
                (None, true) => "function_error",
                (None, false) => "success",
            },
        );
        if outcome.function_error {
            span.record("otel.status_code", "error");
        }
        self.logs.emit(&group, &stream, log.take_unemitted());
        self.count_invocation(function, outcome.function_error, duration_ms);
        self.record_metrics(
            function,
            outcome.function_error,
            duration_ms,
            init_ms,
            env.as_deref(),
        );
        if let Some(env) = env {
            let current = self.is_current(function);
            if let Some(env) = self.pool.release(env, current) {
                self.retire(env);
            }
        }
        Ok(InvokeResponse {
            request_id: request_id.to_string(),
            payload: outcome.body,
            function_error: outcome.function_error,
            executed_version: function.version.clone(),
            log_result: req.log_tail.then(|| log.tail_base64()),
            content_type: outcome.content_type,
        })
    }

    /// Maps how the run ended to what the caller sees.
    fn outcome_of(
        &self,
        function: &FunctionVersion,
        request_id: &str,
        result: RunResult,
        oom: bool,
    ) -> Outcome {
        match result {
            RunResult::Reply(RuntimeReply::Response { body, content_type }) => {
                Outcome::success(body, content_type)
            }
            RunResult::Reply(RuntimeReply::Error { error_type, body }) => {
                tracing::debug!(error_type = %error_type, "function error");
                Outcome {
                    body,
                    function_error: true,
                    content_type: None,
                    status: None,
                    log_lines: Vec::new(),
                }
            }
            RunResult::Reply(RuntimeReply::TooLarge { size }) => {
                let message = format!(
                    "Response payload size ({size} bytes) exceeded maximum allowed payload size ({} bytes).",
                    nimbus_api::runtime_api::RUNTIME_RESPONSE_BYTES_MAX
                );
                Outcome {
                    body: error_body("Function.ResponseSizeTooLarge", &message),
                    function_error: true,
                    content_type: None,
                    status: Some(ReportStatus::Error("Function.ResponseSizeTooLarge".into())),
                    log_lines: Vec::new(),
                }
            }
            RunResult::TimedOut => {
                let secs = f64::from(function.config.timeout_s);
                let mut o = Outcome::platform(
                    request_id,
                    "Sandbox.Timedout",
                    &format!("Task timed out after {secs:.2} seconds"),
                    ReportStatus::Timeout,
                );
                o.log_lines = vec![format!(
                    "{} {request_id} Task timed out after {secs:.2} seconds",
                    rfc3339_now()
                )];
                o
            }
            RunResult::Exited { code, signal } if oom => Outcome::platform(
                request_id,
                "Runtime.OutOfMemory",
                &format!(
                    "Runtime exited with error: {}",
                    exit_description(code, signal)
                ),
                ReportStatus::Error("Runtime.OutOfMemory".into()),
            ),
            RunResult::Exited {
                code: Some(0),
                signal: None,
            } => Outcome::platform(
                request_id,
                "Runtime.ExitError",
                "Runtime exited without providing a reason",
                ReportStatus::Error("Runtime.ExitError".into()),
            ),
            RunResult::Exited { code, signal } => Outcome::platform(
                request_id,
                "Runtime.ExitError",
                &format!(
                    "Runtime exited with error: {}",
                    exit_description(code, signal)
                ),
                ReportStatus::Error("Runtime.ExitError".into()),
            ),
        }
    }

    /// Starts a new environment and waits for its Init. Returns the ready environment, or the
    /// failure outcome and the log stream it belongs to.
    async fn cold_start(
        &self,
        function: &Arc<FunctionVersion>,
        request_id: &str,
        log: &mut InvocationLog,
    ) -> Result<Result<Ready, (Outcome, String)>, InvokeError> {
        let key = function.env_key();
        if let Some(failure) = self.recent_init_failure(&key) {
            let stream = new_stream_name(&function.version);
            let mut outcome = failure.outcome(request_id);
            outcome.log_lines.insert(
                0,
                "[nimbus] Init failed less than a second ago; not retried yet".to_string(),
            );
            return Ok(Err((outcome, stream)));
        }
        let (spec, interpreter) = self.launch_spec(function, "on-demand").await?;
        let version_line = crate::runtimes::runtime_version_line(
            &function.config.runtime,
            interpreter.as_deref(),
            &self.config.region,
        );
        // Lambda's Init is capped at 10 s; after a timeout it is retried once inside the
        // invocation, bounded by the function timeout ("suppressed init").
        let function_timeout = Duration::from_secs(u64::from(function.config.timeout_s));
        let mut spent_in_invoke = Duration::ZERO;
        for phase in ["init", "invoke"] {
            let budget = if phase == "init" {
                INIT_TIMEOUT
            } else {
                function_timeout
            };
            let mut starting = self.start_env(function, &spec).await?;
            let env = Arc::clone(&starting.env);
            log.push(logs::init_start_line(&version_line));
            let result = starting.wait_init(budget).await;
            let init_elapsed = starting.started_at.elapsed();
            let init_ms = init_elapsed.as_secs_f64() * 1000.0;
            if matches!(result, InitResult::TimedOut) {
                env.kill();
            }
            log.extend(env.take_logs().await);
            let failure = match result {
                InitResult::Ready => {
                    if self.config.cpu_hard_cap {
                        env.apply_cpu_cap(function.config.memory_mb);
                    }
                    if phase == "invoke" {
                        spent_in_invoke = init_elapsed;
                    }
                    return Ok(Ok(Ready {
                        env,
                        init_ms: (phase == "init").then_some(init_ms),
                        init_in_invoke: spent_in_invoke,
                    }));
                }
                InitResult::TimedOut if phase == "init" => {
                    log.push(logs::init_report_line(
                        init_ms,
                        phase,
                        &ReportStatus::Timeout,
                    ));
                    self.emit_stream(function, &env, log);
                    self.retire(env);
                    continue;
                }
                InitResult::TimedOut => InitFailure::Platform {
                    error_type: "Sandbox.Timedout".into(),
                    detail: format!(
                        "Task timed out after {:.2} seconds",
                        f64::from(function.config.timeout_s)
                    ),
                    status: ReportStatus::Timeout,
                },
                InitResult::Failed { error_type, body } => {
                    InitFailure::Reported { error_type, body }
                }
                InitResult::Exited { code, signal } => {
                    let oom = env.oom_kills() > 0;
                    InitFailure::Platform {
                        error_type: if oom {
                            "Runtime.OutOfMemory"
                        } else {
                            "Runtime.ExitError"
                        }
                        .into(),
                        detail: format!(
                            "Runtime exited with error: {}",
                            exit_description(code, signal)
                        ),
                        status: ReportStatus::Error(
                            if oom {
                                "Runtime.OutOfMemory"
                            } else {
                                "Runtime.ExitError"
                            }
                            .into(),
                        ),
                    }
                }
                InitResult::ExecFailed { errno, message } => InitFailure::Platform {
                    error_type: "Runtime.InvalidEntrypoint".into(),
                    detail: entrypoint_detail(&function.config.runtime, errno, &message),
                    status: ReportStatus::Error("Runtime.InvalidEntrypoint".into()),
                },
            };
            let status = match &failure {
                InitFailure::Reported { error_type, .. } => ReportStatus::Error(error_type.clone()),
                InitFailure::Platform { status, .. } => status.clone(),
            };
            log.push(logs::init_report_line(init_ms, phase, &status));
            self.remember_init_failure(&key, failure.clone());
            let stream = env.stream.clone();
            self.retire(env);
            return Ok(Err((failure.outcome(request_id), stream)));
        }
        Err(InvokeError::Service(
            "init retry loop ended without a result".into(),
        ))
    }

    /// Writes what is in `log` so far to the environment's stream (used when an environment
    /// is abandoned before the invocation's own stream is known).
    fn emit_stream(&self, function: &FunctionVersion, env: &Env, log: &mut InvocationLog) {
        self.logs
            .emit(&function.log_group(), &env.stream, log.take_unemitted());
    }

    pub(crate) async fn start_env(
        &self,
        function: &Arc<FunctionVersion>,
        spec: &LaunchSpec,
    ) -> Result<Starting, InvokeError> {
        let stream = stream_from_spec(spec);
        let starting = Env::start(&self.sandboxes, Arc::clone(function), spec.clone(), |_| {
            stream
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "could not start an execution environment");
            InvokeError::Service(format!("Could not start an execution environment: {e}"))
        })?;
        if starting.prebuilt {
            self.stats.prebuilt_shells.fetch_add(1, Ordering::Relaxed);
        }
        self.pool.register(&starting.env);
        Ok(starting)
    }

    /// True while `function` is still what its qualifier names: `$LATEST` at the same
    /// revision, or a published version not deleted since. Environments of anything else are
    /// not reused.
    pub(crate) fn is_current(&self, function: &FunctionVersion) -> bool {
        if function.version == "$LATEST" {
            return self
                .cached(&function.name)
                .is_some_and(|f| f.revision_id == function.revision_id);
        }
        let Ok(n) = function.version.parse::<i64>() else {
            return false;
        };
        self.cached(&function.name).is_some()
            && self
                .versions
                .read()
                .is_ok_and(|v| v.contains_key(&(function.name.clone(), n)))
    }

    fn recent_init_failure(&self, key: &str) -> Option<InitFailure> {
        let failures = self.init_failures.lock().ok()?;
        let (at, failure) = failures.get(key)?;
        let window = Duration::from_secs(1) / FAILED_INIT_RESTARTS_PER_SECOND_MAX;
        (at.elapsed() < window).then(|| failure.clone())
    }

    fn remember_init_failure(&self, key: &str, failure: InitFailure) {
        if let Ok(mut failures) = self.init_failures.lock() {
            // Bounded by the number of function snapshots; stale entries are overwritten.
            failures.retain(|_, (at, _)| at.elapsed() < Duration::from_secs(60));
            failures.insert(key.to_string(), (Instant::now(), failure));
        }
    }

    /// The command line, environment and mounts a function's runtime starts with.
    /// `init_type` is `AWS_LAMBDA_INITIALIZATION_TYPE` (`on-demand`, `provisioned-concurrency`).
    pub(crate) async fn launch_spec(
        &self,
        function: &FunctionVersion,
        init_type: &str,
    ) -> Result<(LaunchSpec, Option<Arc<Interpreter>>), InvokeError> {
        let code = Arc::clone(&self.code);
        let hex = function.code.sha256_hex.clone();
        let runtimes = Arc::clone(&self.runtimes);
        let runtime = function.config.runtime.clone();
        let (task_dir, interpreter) = tokio::task::spawn_blocking(move || {
            let dir = match crate::package::CodeHash::from_hex(&hex) {
                Some(hash) => code.ensure_extracted(&hash).map_err(|e| e.to_string()),
                None => Err(format!("stored code hash {hex:?} is malformed")),
            };
            let interpreter = runtimes.interpreter(&runtime).map_err(|e| e.to_string());
            (dir, interpreter)
        })
        .await
        .map_err(|e| InvokeError::Service(e.to_string()))?;
        let task_dir =
            task_dir.map_err(|e| InvokeError::Service(format!("code package unavailable: {e}")))?;
        let interpreter = interpreter.map_err(InvokeError::Service)?;
        let inside = self.sandboxes.inside_paths(&task_dir);
        let stream = new_stream_name(&function.version);
        let env = crate::runtime_env::environment(
            function,
            &self.config,
            &inside,
            interpreter.as_deref(),
            &stream,
            init_type,
        );
        let argv = crate::runtime_env::argv(function, &inside, interpreter.as_deref());
        let spec = LaunchSpec {
            memory_mb: function.config.memory_mb,
            tmp_mb: function.config.ephemeral_mb,
            task_dir,
            extra_ro_dirs: interpreter
                .as_ref()
                .map(|i| i.mounts.clone())
                .unwrap_or_default(),
            argv,
            envp: env,
        };
        Ok((spec, interpreter))
    }
}

/// Reads the stream name back out of a launch spec's environment.
fn stream_from_spec(spec: &LaunchSpec) -> String {
    spec.envp
        .iter()
        .find_map(|kv| kv.strip_prefix("AWS_LAMBDA_LOG_STREAM_NAME="))
        .map(str::to_string)
        .unwrap_or_default()
}

/// A random (v4) UUID from the thread-local generator: request ids are on the hot path and
/// `Uuid::new_v4` costs a `getrandom` syscall each time.
fn fast_uuid() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid()
}

/// `YYYY/MM/DD/[<version>]<32 hex>`, one per execution environment.
pub(crate) fn new_stream_name(version: &str) -> String {
    let date = chrono::Utc::now().format("%Y/%m/%d");
    format!("{date}/[{version}]{}", fast_uuid().simple())
}

fn rfc3339_now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Go's `os.ProcessState` wording, which Lambda's messages use.
fn exit_description(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (_, Some(sig)) => format!("signal: {}", signal_name(sig)),
        (Some(code), None) => format!("exit status {code}"),
        (None, None) => "signal: killed".to_string(),
    }
}

fn signal_name(sig: i32) -> String {
    match sig {
        1 => "hangup".into(),
        2 => "interrupt".into(),
        3 => "quit".into(),
        4 => "illegal instruction".into(),
        5 => "trace/breakpoint trap".into(),
        6 => "aborted".into(),
        7 => "bus error".into(),
        8 => "floating point exception".into(),
        9 => "killed".into(),
        11 => "segmentation fault".into(),
        13 => "broken pipe".into(),
        15 => "terminated".into(),
        24 => "CPU time limit exceeded".into(),
        25 => "file size limit exceeded".into(),
        31 => "bad system call".into(),
        n => format!("signal {n}"),
    }
}

fn entrypoint_detail(runtime: &str, errno: Option<i32>, message: &str) -> String {
    match (crate::runtimes::family_of(runtime), errno) {
        // ENOENT: no bootstrap in the package.
        (Some(Family::Provided), Some(2)) => {
            "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]".to_string()
        }
        (_, Some(13)) => "fork/exec /var/task/bootstrap: permission denied".to_string(),
        (_, Some(8)) => "fork/exec /var/task/bootstrap: exec format error".to_string(),
        _ => message.to_string(),
    }
}
