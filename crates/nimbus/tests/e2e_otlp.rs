//! End-to-end: OTLP export of platform spans, on real sandboxes. A real OTLP/HTTP receiver
//! (axum, decoding the protobuf with `opentelemetry-proto`) runs inside the test; the
//! server exports to it with `--otlp-endpoint`. Each invocation is one `invocation` span with
//! children `admission`, `cold_start` (cold only), `queue_wait` (async) and `run`, in the
//! trace whose id is the caller's X-Ray Root, under the caller's `Parent`; the function's
//! own `Parent` is the `run` span. Without an endpoint no exporter thread exists.

mod common;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use bytes::Bytes;
use nimbus_testkit::{Lambda, Response, Server, python_zip, unique};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long exported spans may take to arrive (the batch processor sends every 5 s).
const ARRIVAL_WITHIN: Duration = Duration::from_secs(60);

/// Returns the `_X_AMZN_TRACE_ID` the function saw.
const REPORTER: &str = r#"import os
def handler(event, context):
    return {'env': os.environ.get('_X_AMZN_TRACE_ID')}
"#;

/// A span as the collector received it, with its resource's `service.name`.
#[derive(Clone, Debug)]
struct Received {
    service: Option<String>,
    span: Span,
}

/// A real OTLP/HTTP traces receiver on an ephemeral port.
struct Collector {
    base_url: String,
    spans: Arc<Mutex<Vec<Received>>>,
}

impl Collector {
    fn start() -> Collector {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind collector");
        listener.set_nonblocking(true).expect("nonblocking");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let spans = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .route("/v1/traces", axum::routing::post(receive))
            .with_state(Arc::clone(&spans));
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("collector runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                axum::serve(listener, app).await.expect("collector serve");
            });
        });
        Collector { base_url, spans }
    }

    fn spans(&self) -> Vec<Received> {
        self.spans.lock().expect("spans").clone()
    }

    /// The spans of one trace (by OTel hex id), once `want` span names have all arrived.
    fn wait_for(&self, trace_hex: &str, want: &[&str]) -> Vec<Received> {
        let deadline = Instant::now() + ARRIVAL_WITHIN;
        loop {
            let spans: Vec<Received> = self
                .spans()
                .into_iter()
                .filter(|r| hex(&r.span.trace_id) == trace_hex)
                .collect();
            if want
                .iter()
                .all(|name| spans.iter().any(|r| r.span.name == *name))
            {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "spans {want:?} of trace {trace_hex} did not arrive; got {:?}",
                self.spans()
                    .iter()
                    .map(|r| (r.span.name.clone(), hex(&r.span.trace_id)))
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

async fn receive(
    State(spans): State<Arc<Mutex<Vec<Received>>>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let protobuf = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/x-protobuf");
    if !protobuf {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, Vec::new());
    }
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return (StatusCode::BAD_REQUEST, Vec::new());
    };
    let mut got = Vec::new();
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .as_ref()
            .and_then(|r| string_attr(&r.attributes, "service.name"));
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                got.push(Received {
                    service: service.clone(),
                    span,
                });
            }
        }
    }
    spans.lock().expect("spans").extend(got);
    (
        StatusCode::OK,
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.as_ref())
}

fn string_attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    match attr(attrs, key) {
        Some(any_value::Value::StringValue(s)) => Some(s.clone()),
        _ => None,
    }
}

fn bool_attr(attrs: &[KeyValue], key: &str) -> Option<bool> {
    match attr(attrs, key) {
        Some(any_value::Value::BoolValue(b)) => Some(*b),
        _ => None,
    }
}

/// Spans of one trace by name (each name once: one invocation per trace here).
fn by_name(spans: &[Received]) -> BTreeMap<String, Span> {
    let mut map = BTreeMap::new();
    for r in spans {
        assert_eq!(r.service.as_deref(), Some("nimbus"), "{:?}", r.span.name);
        let earlier = map.insert(r.span.name.clone(), r.span.clone());
        assert!(
            earlier.is_none(),
            "two {:?} spans in one trace",
            r.span.name
        );
    }
    map
}

/// A Root that cannot occur by chance, and its OTel trace id.
fn caller_root(tag: u32) -> (String, String) {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    let (secs, nanos) = (since_epoch.as_secs(), since_epoch.subsec_nanos());
    let random = format!("{tag:08x}{nanos:08x}{:08x}", std::process::id());
    (
        format!("1-{secs:08x}-{random}"),
        format!("{secs:08x}{random}"),
    )
}

fn invoke(l: &Lambda, name: &str, headers: &[(&str, &str)]) -> Response {
    l.request(
        "POST",
        &format!("/2015-03-31/functions/{name}/invocations"),
        headers,
        Some(b"{}".to_vec()),
    )
}

/// `_X_AMZN_TRACE_ID` as the function saw it.
fn seen_header(r: &Response) -> String {
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("x-amz-function-error").is_none(), "{}", r.text());
    r.json()["env"].as_str().expect("env").to_string()
}

fn parent_of(header: &str) -> String {
    header
        .split(';')
        .find_map(|f| f.strip_prefix("Parent="))
        .unwrap_or_else(|| panic!("no Parent in {header:?}"))
        .to_string()
}

/// Threads of `pid` whose name starts with `prefix`.
fn threads_named(pid: u32, prefix: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .flatten()
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.starts_with(prefix))
                })
                .count()
        })
        .unwrap_or(0)
}

/// The batch span processor's thread (`OpenTelemetry.Traces.BatchProcessor`, cut to 15
/// bytes by the kernel).
const EXPORTER_THREAD: &str = "OpenTelemetry";

#[test]
fn platform_spans_reach_an_otlp_collector_in_the_callers_trace() {
    let collector = Collector::start();
    let mut server = Server::start(
        common::bin(),
        &["--shell-pool", "1", "--otlp-endpoint", &collector.base_url],
    );
    let pid = server.pid().expect("pid");
    assert_eq!(threads_named(pid, EXPORTER_THREAD), 1);
    let l = server.lambda();
    let name = unique("otlp");
    let r = l.create(
        &name,
        "python3.12",
        "app.handler",
        &python_zip(REPORTER),
        json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.text());

    // 1. Cold, with the caller's Root and Parent.
    let (root1, trace1) = caller_root(1);
    let header1 = format!("Root={root1};Parent=53995c3f42cd8ad8;Sampled=1");
    let r1 = invoke(&l, &name, &[("x-amzn-trace-id", &header1)]);
    let seen1 = seen_header(&r1);
    let request_id1 = r1.header("x-amzn-requestid").expect("request id");
    // 2. Warm, with a Root only: the invocation is the root of its trace.
    let (root2, trace2) = caller_root(2);
    let seen2 = seen_header(&invoke(
        &l,
        &name,
        &[("x-amzn-trace-id", &format!("Root={root2}"))],
    ));
    // 3. Asynchronous: the event waits in the event queue before its attempt.
    let (root3, trace3) = caller_root(3);
    let r3 = invoke(
        &l,
        &name,
        &[
            ("x-amz-invocation-type", "Event"),
            ("x-amzn-trace-id", &format!("Root={root3};Sampled=0")),
        ],
    );
    assert_eq!(r3.status, 202, "{}", r3.text());

    let cold =
        by_name(&collector.wait_for(&trace1, &["invocation", "admission", "cold_start", "run"]));
    let invocation = &cold["invocation"];
    assert_eq!(hex(&invocation.parent_span_id), "53995c3f42cd8ad8");
    for child in ["admission", "cold_start", "run"] {
        assert_eq!(
            cold[child].parent_span_id, invocation.span_id,
            "{child} is not a child of the invocation"
        );
    }
    let a = &invocation.attributes;
    assert_eq!(string_attr(a, "faas.name").as_deref(), Some(name.as_str()));
    assert_eq!(string_attr(a, "faas.version").as_deref(), Some("$LATEST"));
    assert_eq!(bool_attr(a, "faas.coldstart"), Some(true));
    assert_eq!(
        string_attr(a, "faas.invocation_id").as_deref(),
        Some(request_id1.as_str())
    );
    assert_eq!(string_attr(a, "faas.trigger").as_deref(), Some("other"));
    assert_eq!(string_attr(a, "nimbus.trigger").as_deref(), Some("sync"));
    assert_eq!(string_attr(a, "outcome").as_deref(), Some("success"));
    // The header the function saw, whose Parent is the run span: its spans nest under it.
    assert_eq!(
        string_attr(a, "aws.xray.trace_header").as_deref(),
        Some(seen1.as_str())
    );
    assert_eq!(parent_of(&seen1), hex(&cold["run"].span_id));
    assert!(seen1.starts_with(&format!("Root={root1};")), "{seen1}");
    // The children lie within the invocation.
    for child in ["admission", "cold_start", "run"] {
        let s = &cold[child];
        assert!(
            s.start_time_unix_nano >= invocation.start_time_unix_nano
                && s.end_time_unix_nano <= invocation.end_time_unix_nano
                && s.start_time_unix_nano <= s.end_time_unix_nano,
            "{child}: {s:?} not within {invocation:?}"
        );
    }
    assert!(cold["cold_start"].end_time_unix_nano <= cold["run"].start_time_unix_nano);

    let warm = by_name(&collector.wait_for(&trace2, &["invocation", "admission", "run"]));
    assert!(!warm.contains_key("cold_start"), "{:?}", warm.keys());
    assert!(warm["invocation"].parent_span_id.is_empty());
    assert_eq!(
        bool_attr(&warm["invocation"].attributes, "faas.coldstart"),
        Some(false)
    );
    assert_eq!(parent_of(&seen2), hex(&warm["run"].span_id));

    let event =
        by_name(&collector.wait_for(&trace3, &["invocation", "admission", "queue_wait", "run"]));
    let a = &event["invocation"].attributes;
    assert_eq!(string_attr(a, "faas.trigger").as_deref(), Some("pubsub"));
    assert_eq!(string_attr(a, "nimbus.trigger").as_deref(), Some("async"));
    assert_eq!(
        event["queue_wait"].parent_span_id,
        event["invocation"].span_id
    );
    assert!(event["queue_wait"].start_time_unix_nano <= event["queue_wait"].end_time_unix_nano);
    assert!(
        event["queue_wait"].end_time_unix_nano <= event["run"].start_time_unix_nano,
        "the wait ends before the run starts"
    );

    // 4. Spans still queued when the server stops are flushed on the way out.
    let (root4, trace4) = caller_root(4);
    seen_header(&invoke(
        &l,
        &name,
        &[("x-amzn-trace-id", &format!("Root={root4}"))],
    ));
    server.stop();
    let last = by_name(&collector.wait_for(&trace4, &["invocation", "run"]));
    assert!(last.contains_key("admission"));
}

#[test]
fn without_an_endpoint_nothing_is_exported() {
    let server = Server::start(common::bin(), &["--shell-pool", "1"]);
    let l = server.lambda();
    let name = unique("otlp-off");
    let r = l.create(
        &name,
        "python3.12",
        "app.handler",
        &python_zip(REPORTER),
        json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let (root, _) = caller_root(5);
    let seen = seen_header(&invoke(
        &l,
        &name,
        &[("x-amzn-trace-id", &format!("Root={root}"))],
    ));
    // The trace still flows to the function, with a Parent of its own.
    assert!(seen.starts_with(&format!("Root={root};Parent=")), "{seen}");
    assert_eq!(
        threads_named(server.pid().expect("pid"), EXPORTER_THREAD),
        0,
        "an exporter thread runs without an endpoint"
    );
}
