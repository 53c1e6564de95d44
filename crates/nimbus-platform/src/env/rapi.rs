//! The Runtime API of one execution environment (`/2018-06-01/runtime/...`), served from the
//! platform on a listener that lives inside the environment's network namespace.
//!
//! One state machine per environment: the runtime's first `GET /next` ends Init; an
//! invocation is handed to the parked `/next`; exactly one `/response` or `/error` for that
//! request id completes it. Everything else gets the Runtime API's own 4xx errors. `/next` is
//! never timed out and never answered with a 5xx (awslambdaric crashes on a 500).

use crate::limits::{RUNTIME_API_CONNECTIONS_MAX, RUNTIME_API_HEADERS_MAX};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use nimbus_api::runtime_api as rapi;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};

/// Runtime API error types (lambda-compat §1.5).
const ERROR_INVALID_REQUEST_ID: &str = "InvalidRequestID";
const ERROR_REQUEST_ENTITY_TOO_LARGE: &str = "RequestEntityTooLarge";
const ERROR_TRUNCATED_REQUEST: &str = "TruncatedHTTPRequest";
const ERROR_INVALID_STATE_TRANSITION: &str = "InvalidStateTransition";

/// An event on its way to the runtime.
pub(crate) struct Event {
    pub request_id: String,
    pub deadline_ms: u64,
    pub invoked_arn: String,
    pub trace_id: String,
    pub client_context: Option<String>,
    pub payload: Bytes,
}

/// What the runtime answered for one invocation.
#[derive(Debug)]
pub(crate) enum RuntimeReply {
    /// `POST /response`.
    Response {
        body: Bytes,
        content_type: Option<String>,
    },
    /// `POST /error`: the sanitised error type and the body as the client will see it.
    Error { error_type: String, body: Bytes },
    /// The response was larger than Lambda allows; the runtime got a 413.
    TooLarge { size: u64 },
}

/// How Init ended, as seen by the Runtime API.
#[derive(Debug)]
pub(crate) enum InitSignal {
    /// The runtime asked for its first event.
    Ready,
    /// `POST /runtime/init/error`.
    Failed { error_type: String, body: Bytes },
}

struct Current {
    request_id: String,
    reply: oneshot::Sender<RuntimeReply>,
}

#[derive(Default)]
struct Inner {
    init: Option<oneshot::Sender<InitSignal>>,
    /// A `/next` waiting for an event.
    waiter: Option<oneshot::Sender<Event>>,
    /// An event waiting for a `/next`.
    pending: Option<Event>,
    current: Option<Current>,
    last_completed: Option<String>,
}

/// Shared state of one environment's Runtime API.
pub(crate) struct RuntimeApi {
    inner: Mutex<Inner>,
}

impl RuntimeApi {
    /// A fresh Runtime API; the receiver learns how Init ends.
    pub(crate) fn new() -> (Arc<Self>, oneshot::Receiver<InitSignal>) {
        let (tx, rx) = oneshot::channel();
        let api = Arc::new(Self {
            inner: Mutex::new(Inner {
                init: Some(tx),
                ..Inner::default()
            }),
        });
        (api, rx)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means another request panicked mid-update; the state itself
        // is still a valid value, so keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands `event` to the runtime; the receiver gets the runtime's reply.
    pub(crate) fn deliver(&self, event: Event) -> oneshot::Receiver<RuntimeReply> {
        let (tx, rx) = oneshot::channel();
        let mut inner = self.lock();
        inner.current = Some(Current {
            request_id: event.request_id.clone(),
            reply: tx,
        });
        match inner.waiter.take() {
            Some(waiter) => {
                if let Err(event) = waiter.send(event) {
                    // The parked /next went away; the runtime's next /next picks it up.
                    inner.pending = Some(event);
                }
            }
            None => inner.pending = Some(event),
        }
        rx
    }

    /// Forgets the current invocation (after a timeout: the environment is being killed).
    pub(crate) fn abandon(&self) {
        let mut inner = self.lock();
        inner.current = None;
        inner.pending = None;
    }

    /// Serves this Runtime API on `listener` until the task is aborted.
    pub(crate) async fn serve(self: Arc<Self>, listener: TcpListener) {
        let permits = Arc::new(Semaphore::new(RUNTIME_API_CONNECTIONS_MAX));
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                return;
            };
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::debug!(error = %e, "runtime api accept failed");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let api = Arc::clone(&self);
            connections.spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let api = Arc::clone(&api);
                    async move { Ok::<_, std::convert::Infallible>(api.handle(req).await) }
                });
                let mut builder = hyper::server::conn::http1::Builder::new();
                builder.max_headers(RUNTIME_API_HEADERS_MAX);
                let io = hyper_util::rt::TokioIo::new(stream);
                if let Err(e) = builder.serve_connection(io, service).await {
                    tracing::debug!(error = %e, "runtime api connection ended");
                }
                drop(permit);
            });
            // Reap finished connection tasks so the set stays small.
            while connections.try_join_next().is_some() {}
        }
    }

    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_string();
        let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
            return not_found(&path);
        };
        match (req.method().as_str(), rest) {
            ("GET", "invocation/next") => self.next().await,
            ("POST", "init/error") => self.init_error(req).await,
            ("POST", rest) => match rest.strip_prefix("invocation/") {
                Some(tail) => match tail.rsplit_once('/') {
                    Some((id, "response")) => {
                        let id = id.to_string();
                        self.response(&id, req).await
                    }
                    Some((id, "error")) => {
                        let id = id.to_string();
                        self.error(&id, req).await
                    }
                    _ => not_found(&path),
                },
                None => not_found(&path),
            },
            _ => not_found(&path),
        }
    }

    async fn next(&self) -> Response<Full<Bytes>> {
        let waiter = {
            let mut inner = self.lock();
            if let Some(init) = inner.init.take() {
                let _ = init.send(InitSignal::Ready);
            }
            if inner.current.is_some() && inner.pending.is_none() {
                return state_error("invoke", "next");
            }
            if inner.waiter.is_some() {
                return state_error("next", "next");
            }
            if let Some(event) = inner.pending.take() {
                return render_event(event);
            }
            let (tx, rx) = oneshot::channel();
            inner.waiter = Some(tx);
            rx
        };
        match waiter.await {
            Ok(event) => render_event(event),
            // The environment is going away; answer nothing (never a 5xx on /next).
            Err(_) => std::future::pending().await,
        }
    }

    /// Checks that `id` is the invocation in flight.
    fn check_current(&self, id: &str) -> Result<(), Box<Response<Full<Bytes>>>> {
        let inner = self.lock();
        match &inner.current {
            Some(c) if c.request_id == id => Ok(()),
            _ if inner.last_completed.as_deref() == Some(id) => {
                Err(Box::new(state_error("invoke-complete", "response")))
            }
            _ => Err(Box::new(json_error(
                StatusCode::BAD_REQUEST,
                ERROR_INVALID_REQUEST_ID,
                "Invalid request ID",
            ))),
        }
    }

    /// Completes the invocation `id` with `reply` (if it is still the current one).
    fn complete(&self, id: &str, reply: RuntimeReply) -> bool {
        let mut inner = self.lock();
        match inner.current.take() {
            Some(c) if c.request_id == id => {
                inner.last_completed = Some(c.request_id);
                let _ = c.reply.send(reply);
                true
            }
            other => {
                inner.current = other;
                false
            }
        }
    }

    async fn response(&self, id: &str, req: Request<Incoming>) -> Response<Full<Bytes>> {
        if let Err(resp) = self.check_current(id) {
            return *resp;
        }
        let content_type = header(&req, "content-type");
        match read_body(req.into_body(), rapi::RUNTIME_RESPONSE_BYTES_MAX).await {
            Body::Complete { body, trailers } => {
                // A streamed response reports a mid-stream failure in its trailers.
                let reply = match trailer_error(&trailers) {
                    Some((error_type, message)) => RuntimeReply::Error {
                        body: error_body(&error_type, &message),
                        error_type,
                    },
                    None => RuntimeReply::Response { body, content_type },
                };
                self.complete(id, reply);
                accepted()
            }
            Body::TooLarge { size } => {
                self.complete(id, RuntimeReply::TooLarge { size });
                json_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ERROR_REQUEST_ENTITY_TOO_LARGE,
                    &format!(
                        "Exceeded maximum allowed payload size ({} bytes).",
                        rapi::RUNTIME_RESPONSE_BYTES_MAX
                    ),
                )
            }
            Body::Broken => json_error(
                StatusCode::BAD_REQUEST,
                ERROR_TRUNCATED_REQUEST,
                "The request body was cut short",
            ),
        }
    }

    async fn error(&self, id: &str, req: Request<Incoming>) -> Response<Full<Bytes>> {
        if let Err(resp) = self.check_current(id) {
            return *resp;
        }
        let header_type = header(&req, rapi::HEADER_FUNCTION_ERROR_TYPE);
        let (error_type, body) =
            match read_body(req.into_body(), rapi::RUNTIME_RESPONSE_BYTES_MAX).await {
                Body::Complete { body, .. } => normalise_error(header_type.as_deref(), body),
                Body::TooLarge { .. } | Body::Broken => {
                    let t = "Runtime.Unknown".to_string();
                    let b = error_body(&t, "The runtime posted an unreadable error");
                    (t, b)
                }
            };
        self.complete(id, RuntimeReply::Error { error_type, body });
        accepted()
    }

    async fn init_error(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let header_type = header(&req, rapi::HEADER_FUNCTION_ERROR_TYPE);
        let Body::Complete { body, .. } =
            read_body(req.into_body(), rapi::RUNTIME_RESPONSE_BYTES_MAX).await
        else {
            return json_error(StatusCode::BAD_REQUEST, ERROR_TRUNCATED_REQUEST, "bad body");
        };
        let (error_type, body) = normalise_error(header_type.as_deref(), body);
        let init = self.lock().init.take();
        match init {
            Some(init) => {
                let _ = init.send(InitSignal::Failed { error_type, body });
                accepted()
            }
            None => state_error("ready", "init-error"),
        }
    }
}

enum Body {
    Complete {
        body: Bytes,
        trailers: Option<hyper::HeaderMap>,
    },
    TooLarge {
        size: u64,
    },
    Broken,
}

/// Reads a request body up to `limit` bytes. Past the limit the rest is read and counted
/// (never stored) so the error can name the size, up to a bound.
async fn read_body(mut body: Incoming, limit: usize) -> Body {
    /// Bytes we are willing to read past the limit just to report an exact size; past this
    /// the reported size is a lower bound and the runtime's connection is dropped.
    const OVERSIZE_COUNT_BYTES_MAX: u64 = 64 * 1024 * 1024;
    let mut buf = bytes::BytesMut::new();
    let mut size: u64 = 0;
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Body::Broken;
        };
        match frame.into_data() {
            Ok(data) => {
                size += data.len() as u64;
                if size > limit as u64 {
                    if size > OVERSIZE_COUNT_BYTES_MAX {
                        break;
                    }
                    continue;
                }
                buf.extend_from_slice(&data);
            }
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    trailers = Some(t);
                }
            }
        }
    }
    if size > limit as u64 {
        return Body::TooLarge { size };
    }
    Body::Complete {
        body: buf.freeze(),
        trailers,
    }
}

fn trailer_error(trailers: &Option<hyper::HeaderMap>) -> Option<(String, String)> {
    use base64::Engine;
    let t = trailers.as_ref()?;
    let error_type = t.get(rapi::HEADER_FUNCTION_ERROR_TYPE)?.to_str().ok()?;
    let message = t
        .get(rapi::HEADER_FUNCTION_ERROR_BODY)
        .and_then(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.as_bytes())
                .ok()
        })
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Some((rapi::sanitize_error_type(Some(error_type)), message))
}

/// The error type to report and the body the client sees. The body is passed through when
/// it is a JSON object (what Lambda returns); otherwise it is wrapped so clients always get
/// valid JSON.
fn normalise_error(header_type: Option<&str>, body: Bytes) -> (String, Bytes) {
    let parsed: Option<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(&body).ok();
    let body_type = parsed
        .as_ref()
        .and_then(|m| m.get("errorType"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let error_type = match (header_type, body_type) {
        (Some(h), _) => rapi::sanitize_error_type(Some(h)),
        (None, Some(b)) => b,
        (None, None) => rapi::sanitize_error_type(None),
    };
    match parsed {
        Some(_) => (error_type, body),
        None => {
            let message = String::from_utf8_lossy(&body).into_owned();
            let wrapped = error_body(&error_type, &message);
            (error_type, wrapped)
        }
    }
}

/// `{"errorMessage": ..., "errorType": ...}` as Lambda's runtimes write it.
pub(crate) fn error_body(error_type: &str, message: &str) -> Bytes {
    let value = serde_json::json!({ "errorMessage": message, "errorType": error_type });
    Bytes::from(value.to_string())
}

fn render_event(event: Event) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(rapi::HEADER_REQUEST_ID, &event.request_id)
        .header(rapi::HEADER_DEADLINE_MS, event.deadline_ms.to_string())
        .header(rapi::HEADER_INVOKED_FUNCTION_ARN, &event.invoked_arn)
        .header(rapi::HEADER_TRACE_ID, &event.trace_id)
        .header("content-type", "application/json");
    if let Some(cc) = &event.client_context {
        builder = builder.header(rapi::HEADER_CLIENT_CONTEXT, cc);
    }
    builder
        .body(Full::new(event.payload))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn header(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn accepted() -> Response<Full<Bytes>> {
    json_response(
        StatusCode::ACCEPTED,
        Bytes::from_static(b"{\"status\":\"OK\"}"),
    )
}

fn json_error(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type });
    json_response(status, Bytes::from(body.to_string()))
}

fn state_error(from: &str, to: &str) -> Response<Full<Bytes>> {
    json_error(
        StatusCode::FORBIDDEN,
        ERROR_INVALID_STATE_TRANSITION,
        &format!(
            "State transition from {from} to {to} failed for runtime. Error: State transition is not allowed"
        ),
    )
}

fn not_found(path: &str) -> Response<Full<Bytes>> {
    json_error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("No route for {path}"),
    )
}

fn json_response(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(body))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_error_bodies_become_valid_json() {
        let (t, b) = normalise_error(Some("unhandled"), Bytes::from_static(b"\xff not json"));
        assert_eq!(t, "Runtime.Unknown");
        let v: serde_json::Value = serde_json::from_slice(&b).expect("valid json");
        assert_eq!(v["errorType"], "Runtime.Unknown");
        let (t, b) = normalise_error(
            None,
            Bytes::from_static(br#"{"errorType":"ValueError","errorMessage":"x"}"#),
        );
        assert_eq!(t, "ValueError");
        assert_eq!(&b[..], br#"{"errorType":"ValueError","errorMessage":"x"}"#);
    }
}
