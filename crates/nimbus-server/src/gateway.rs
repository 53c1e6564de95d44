//! The gateway listener: API Gateway routes and Lambda function URLs over plain HTTP.
//!
//! A request is dispatched by its `Host` first — `<url-id>.lambda-url.<region>.localhost` is a
//! function URL — and otherwise by method and path through the [`RouteTable`]. The body is
//! read with API Gateway's 10 MB limit while streaming; the event is built by
//! `nimbus_gateway` (payload 1.0 or 2.0), must fit Lambda's 6 MB, and is invoked
//! synchronously through the same admission path as the Invoke API; the function's result
//! (or the failure) is mapped back by `nimbus_gateway::response`.
//!
//! The request id is both the event's `requestContext.requestId` and the invocation's
//! request id, and is sent back as `x-amzn-RequestId` (REST APIs, function URLs) or
//! `apigw-requestid` (HTTP APIs).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use nimbus_api::trace::TraceHeader;
use nimbus_gateway::response::{self, HttpResponse, InvokeFailure, Surface};
use nimbus_gateway::{
    ApiKind, EVENT_BYTES_MAX, EventContext, HttpRequest, REQUEST_BODY_BYTES_MAX, Route, RouteRef,
    RouteTable, Target,
};
use nimbus_platform::Platform;
use nimbus_platform::function_urls::Cors;
use nimbus_platform::invoke::{InvokeError, InvokeRequest};

use crate::body::{BodyError, read_limited};

/// Source address used when the listener was not served with connection info.
const UNKNOWN_SOURCE_IP: &str = "127.0.0.1";

/// `X-Forwarded-Port` when the `Host` names no port (plain HTTP).
const DEFAULT_HTTP_PORT: &str = "80";

#[derive(Clone)]
struct GatewayState {
    platform: Arc<Platform>,
    routes: Arc<RwLock<RouteTable>>,
}

/// The gateway's router. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` so events carry the client's
/// address as `sourceIp`.
pub fn gateway_router(platform: Arc<Platform>, routes: Arc<RwLock<RouteTable>>) -> Router {
    Router::new()
        .fallback(handle)
        // Bodies are read by `body::read_limited` with API Gateway's limit.
        .layer(DefaultBodyLimit::disable())
        .with_state(GatewayState { platform, routes })
}

/// What a request reaches.
struct Dispatch {
    surface: Surface,
    route: RouteRef,
    params: BTreeMap<String, String>,
    api_id: String,
    /// Function URLs' CORS settings.
    cors: Option<Cors>,
}

async fn handle(State(s): State<GatewayState>, req: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let host = host_of(&parts.headers, &parts.uri);
    let (domain, port) = split_host(&host);
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();

    let dispatch = match find(&s, domain, &method, &path) {
        Ok(d) => d,
        Err(surface) => return send(response::no_route(surface), surface, &request_id),
    };
    let origin = header_str(&parts.headers, "origin").map(str::to_string);
    if let (Some(cors), Some(origin)) = (&dispatch.cors, &origin)
        && method == "OPTIONS"
        && parts.headers.contains_key("access-control-request-method")
    {
        // Lambda answers a function URL's CORS preflight itself, without the function.
        let mut r = HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        };
        apply_cors(&mut r, cors, origin, true);
        return send(r, dispatch.surface, &request_id);
    }

    let body = match read_limited(&parts.headers, body, REQUEST_BODY_BYTES_MAX).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return send(response::too_large(), dispatch.surface, &request_id);
        }
        Err(BodyError::Broken) => {
            return send(response::bad_request(), dispatch.surface, &request_id);
        }
        Err(BodyError::TimedOut) => {
            return send(response::request_timeout(), dispatch.surface, &request_id);
        }
    };
    let source_ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| UNKNOWN_SOURCE_IP.to_string());
    // API Gateway continues the caller's X-Amzn-Trace-Id or starts a trace, and the event's
    // headers carry it.
    let trace = TraceHeader::parse_lenient(header_str(&parts.headers, "x-amzn-trace-id"))
        .unwrap_or_else(nimbus_platform::traces::new_trace);
    let mut headers = request_headers(&parts.headers, &source_ip, port);
    headers.retain(|(name, _)| name != "x-amzn-trace-id");
    headers.push(("x-amzn-trace-id".into(), trace.to_string()));
    let http_request = HttpRequest {
        method,
        raw_path: path,
        raw_query: parts.uri.query().unwrap_or_default().to_string(),
        headers,
        body: body.to_vec(),
        source_ip,
        time_epoch_ms: nimbus_platform::clock::now_ms(),
        protocol: format!("{:?}", parts.version),
    };
    let ctx = EventContext {
        account_id: s.platform.config().account_id.clone(),
        api_id: dispatch.api_id.clone(),
        request_id: request_id.clone(),
        domain_name: domain.to_string(),
        domain_prefix: domain.split('.').next().unwrap_or_default().to_string(),
    };
    let version = dispatch.route.api.payload();
    let event = match nimbus_gateway::build_event(
        version,
        &http_request,
        &dispatch.route,
        &dispatch.params,
        &ctx,
    )
    .and_then(|e| serde_json::to_vec(&e).map_err(nimbus_gateway::EventError::Serialize))
    {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "could not build the gateway event");
            return send(response::internal_error(), dispatch.surface, &request_id);
        }
    };
    if event.len() > EVENT_BYTES_MAX {
        return send(response::too_large(), dispatch.surface, &request_id);
    }
    let result = s
        .platform
        .invoke(InvokeRequest {
            function: dispatch.route.target.function.clone(),
            qualifier: dispatch.route.target.qualifier.clone(),
            payload: Bytes::from(event),
            log_tail: false,
            client_context: None,
            request_id: Some(request_id.clone()),
            trigger: nimbus_platform::metering::Trigger::Gateway,
            trace: Some(trace),
            queued_since_ms: None,
        })
        .await;
    let mut answer = match result {
        Ok(r) if r.function_error => {
            response::invoke_failure(dispatch.surface, InvokeFailure::FunctionError)
        }
        Ok(r) => nimbus_gateway::map_response(version, &r.payload),
        Err(InvokeError::Throttled(_)) => {
            response::invoke_failure(dispatch.surface, InvokeFailure::Throttled)
        }
        Err(e) => {
            tracing::warn!(error = %e, route = %dispatch.route.route_key, "gateway invocation failed");
            response::invoke_failure(dispatch.surface, InvokeFailure::Other)
        }
    };
    if let (Some(cors), Some(origin)) = (&dispatch.cors, &origin) {
        apply_cors(&mut answer, cors, origin, false);
    }
    send(answer, dispatch.surface, &request_id)
}

/// The methods API Gateway and function URLs serve (`ANY` means these); TRACE, CONNECT and
/// invented methods never reach a function.
const ROUTABLE_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// The function URL or route a request reaches; else the surface whose "no route" answer
/// applies.
fn find(s: &GatewayState, domain: &str, method: &str, path: &str) -> Result<Dispatch, Surface> {
    let url_host = domain.contains(".lambda-url.");
    if !ROUTABLE_METHODS.contains(&method) {
        return Err(if url_host {
            Surface::FunctionUrl
        } else {
            Surface::HttpApi
        });
    }
    if let Some(id) = s.platform.function_url_id_of_host(domain) {
        let target = s
            .platform
            .function_url_target(id)
            .ok_or(Surface::FunctionUrl)?;
        return Ok(Dispatch {
            surface: Surface::FunctionUrl,
            route: Arc::new(Route::function_url(Target {
                function: target.function,
                qualifier: target.qualifier,
            })),
            params: BTreeMap::new(),
            api_id: target.url_id,
            cors: target.cors,
        });
    }
    // A function URL host that is not one of ours is a miss, never an HTTP API route.
    if url_host {
        return Err(Surface::FunctionUrl);
    }
    let Ok(table) = s.routes.read() else {
        return Err(Surface::HttpApi);
    };
    match table.match_request(method, path) {
        Some((route, params)) => Ok(Dispatch {
            surface: surface_of(route.api),
            api_id: nimbus_gateway::api_id(&route.owner),
            route,
            params,
            cors: None,
        }),
        None => Err(surface_of(table.api_for_miss(path))),
    }
}

fn surface_of(api: ApiKind) -> Surface {
    match api {
        ApiKind::Rest => Surface::RestApi,
        ApiKind::Http { .. } => Surface::HttpApi,
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The request's host: the `Host` header, else the URI's authority; lower-cased.
fn host_of(headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    header_str(headers, "host")
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// (`domain`, `port`) of a `Host` value (`[::1]:3000`, `a.b:80`, `a.b`).
fn split_host(host: &str) -> (&str, Option<&str>) {
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((addr, tail)) => (addr, tail.strip_prefix(':')),
            None => (host, None),
        };
    }
    match host.rsplit_once(':') {
        Some((d, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (d, Some(p)),
        _ => (host, None),
    }
}

/// The request's headers in order, plus the `X-Forwarded-*` headers API Gateway adds.
fn request_headers(
    headers: &HeaderMap,
    source_ip: &str,
    port: Option<&str>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(headers.len() + 3);
    let mut forwarded_for = None;
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match name.as_str() {
            "x-forwarded-for" => {
                forwarded_for = Some(match forwarded_for {
                    Some(prev) => format!("{prev}, {value}"),
                    None => value,
                });
            }
            "x-forwarded-proto" | "x-forwarded-port" => {}
            _ => out.push((name.as_str().to_string(), value)),
        }
    }
    let chain = match forwarded_for {
        Some(prev) => format!("{prev}, {source_ip}"),
        None => source_ip.to_string(),
    };
    out.push(("x-forwarded-for".into(), chain));
    out.push((
        "x-forwarded-port".into(),
        port.unwrap_or(DEFAULT_HTTP_PORT).to_string(),
    ));
    out.push(("x-forwarded-proto".into(), "http".into()));
    out
}

/// Adds a function URL's CORS headers; the configured ones replace the function's own.
fn apply_cors(r: &mut HttpResponse, cors: &Cors, origin: &str, preflight: bool) {
    let origins = cors.allow_origins.as_deref().unwrap_or_default();
    let allowed = if origins.iter().any(|o| o == "*") {
        "*"
    } else if origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
        origin
    } else {
        return;
    };
    let mut set = |name: &str, value: String| {
        r.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        r.headers.push((name.to_string(), value));
    };
    set("access-control-allow-origin", allowed.to_string());
    if cors.allow_credentials == Some(true) {
        set("access-control-allow-credentials", "true".into());
    }
    if let Some(expose) = cors.expose_headers.as_ref().filter(|e| !e.is_empty()) {
        set("access-control-expose-headers", expose.join(","));
    }
    if preflight {
        if let Some(methods) = cors.allow_methods.as_ref().filter(|m| !m.is_empty()) {
            set("access-control-allow-methods", methods.join(","));
        }
        if let Some(headers) = cors.allow_headers.as_ref().filter(|h| !h.is_empty()) {
            set("access-control-allow-headers", headers.join(","));
        }
        if let Some(age) = cors.max_age {
            set("access-control-max-age", age.to_string());
        }
    }
}

/// The HTTP response, with the request id header of the surface.
fn send(r: HttpResponse, surface: Surface, request_id: &str) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut resp = (status, Body::from(r.body)).into_response();
    let headers = resp.headers_mut();
    for (name, value) in r.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(n, v);
        }
    }
    let id_header = match surface {
        Surface::HttpApi => "apigw-requestid",
        Surface::RestApi | Surface::FunctionUrl => "x-amzn-requestid",
    };
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert(id_header, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_split_into_domain_and_port() {
        assert_eq!(split_host("a.b:3000"), ("a.b", Some("3000")));
        assert_eq!(split_host("a.b"), ("a.b", None));
        assert_eq!(split_host("[::1]:8080"), ("::1", Some("8080")));
        assert_eq!(split_host("[::1]"), ("::1", None));
        assert_eq!(split_host("a.b:"), ("a.b:", None));
    }

    #[test]
    fn forwarded_headers_are_added_and_chained() {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("x:3000"));
        h.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let out = request_headers(&h, "127.0.0.1", Some("3000"));
        let get = |n: &str| {
            out.iter()
                .filter(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("x-forwarded-for"), ["10.0.0.1, 127.0.0.1"]);
        assert_eq!(get("x-forwarded-proto"), ["http"]);
        assert_eq!(get("x-forwarded-port"), ["3000"]);
        assert_eq!(get("host"), ["x:3000"]);
    }

    #[test]
    fn cors_headers_for_allowed_origins_only() {
        let cors = Cors {
            allow_origins: Some(vec!["https://app.example".into()]),
            allow_methods: Some(vec!["GET".into(), "POST".into()]),
            allow_credentials: Some(true),
            max_age: Some(300),
            ..Default::default()
        };
        let mut r = HttpResponse {
            status: 200,
            headers: vec![("Access-Control-Allow-Origin".into(), "*".into())],
            body: Vec::new(),
        };
        apply_cors(&mut r, &cors, "https://app.example", true);
        let get = |n: &str| {
            r.headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("access-control-allow-origin"), ["https://app.example"]);
        assert_eq!(get("access-control-allow-methods"), ["GET,POST"]);
        assert_eq!(get("access-control-allow-credentials"), ["true"]);
        assert_eq!(get("access-control-max-age"), ["300"]);
        let mut other = HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        };
        apply_cors(&mut other, &cors, "https://evil.example", false);
        assert!(other.headers.is_empty());
    }

    #[test]
    fn responses_carry_the_request_id_of_their_surface() {
        let r = send(
            response::no_route(Surface::HttpApi),
            Surface::HttpApi,
            "id-1",
        );
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()["apigw-requestid"], "id-1");
        let r = send(
            response::no_route(Surface::RestApi),
            Surface::RestApi,
            "id-2",
        );
        assert_eq!(r.status(), 403);
        assert_eq!(r.headers()["x-amzn-requestid"], "id-2");
        assert_eq!(
            r.headers()["x-amzn-errortype"],
            "MissingAuthenticationTokenException"
        );
    }
}
