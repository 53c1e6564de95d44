//! API Gateway emulation for Nimbus: which function an HTTP request reaches
//! ([`RouteTable`]), the Lambda proxy event it becomes ([`build_v1`], [`build_v2`]) and the
//! HTTP response the function's result becomes ([`map_v1`], [`map_v2`], [`response`]).
//!
//! Pure: no I/O, no async, no clock (the caller passes the request time and ids), so every
//! rule is unit-tested here and the server only moves bytes. Events are produced with the
//! `aws_lambda_events` types the official Rust runtime deserialises, so their shapes match.
//!
//! Decisions where API Gateway has a choice or Nimbus must pick one:
//! * REST APIs serve stage `Prod` (SAM's implicit stage) without it in the URL;
//!   `requestContext.path` still shows `/Prod/...` as on AWS. HTTP APIs use `$default`.
//! * Binary bodies: HTTP APIs and function URLs base64-encode every body that is not a text
//!   type (see [`is_text_content_type`]) or not UTF-8; payload 1.0 uses the same rule.
//! * `HEAD` matches only `HEAD` and `ANY` routes (no fallback to `GET`, as on API Gateway).
//! * No route: 403 "Missing Authentication Token" for a REST API, 404 "Not Found" for an
//!   HTTP API ([`RouteTable::api_for_miss`] picks which).
//! * A Lambda throttle is a 500 from an API (API Gateway's integration failure) and a 429
//!   from a function URL.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod path;
mod request;
pub mod response;
mod routes;
mod v1;
mod v2;

#[cfg(test)]
mod tests;

use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue, Method};

pub use path::{percent_decode, query_decode};
pub use request::{EventContext, HttpRequest, format_request_time, is_text_content_type};
pub use response::{HttpResponse, InvokeFailure, Surface, map_v1, map_v2};
pub use routes::{
    ApiKind, DEFAULT_ROUTE, PayloadVersion, ROUTE_METHODS, ROUTES_MAX, Route, RouteError, RouteRef,
    RouteTable, Target,
};
pub use v1::build_v1;
pub use v2::build_v2;

/// Largest request body the gateway accepts: API Gateway's payload quota (10 MB). Larger is
/// a 413 before any invocation.
pub const REQUEST_BODY_BYTES_MAX: usize = 10 * 1024 * 1024;

/// Largest event handed to the function: Lambda's synchronous payload limit (6 MB), which the
/// event (body, base64 and all) must fit even when the body fits the gateway's 10 MB; over it
/// the client gets 413 "Request Entity Too Large".
pub const EVENT_BYTES_MAX: usize = nimbus_api::limits::SYNC_PAYLOAD_BYTES_MAX;

/// Characters of an API id derived from a stack name (API Gateway's ids are 10).
pub const API_ID_CHARS: usize = 10;

/// Why an event could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The request method is not an HTTP token.
    #[error("invalid HTTP method {0:?}")]
    Method(String),
    /// serde could not serialise the event (a bug).
    #[error("could not serialise the event: {0}")]
    Serialize(serde_json::Error),
    /// The event did not serialise to a JSON object (a bug).
    #[error("the event did not serialise to an object")]
    Shape,
}

/// The event builder for a payload version.
pub fn build_event(
    version: PayloadVersion,
    req: &HttpRequest,
    route: &Route,
    params: &std::collections::BTreeMap<String, String>,
    ctx: &EventContext,
) -> Result<serde_json::Value, EventError> {
    match version {
        PayloadVersion::V1 => build_v1(req, route, params, ctx),
        PayloadVersion::V2 => build_v2(req, route, params, ctx),
    }
}

/// The response mapper for a payload version.
pub fn map_response(version: PayloadVersion, payload: &[u8]) -> HttpResponse {
    match version {
        PayloadVersion::V1 => map_v1(payload),
        PayloadVersion::V2 => map_v2(payload),
    }
}

/// A stable lowercase alphanumeric id of `len` characters derived from `input` (FNV-1a,
/// re-hashed per character): the same stack always gets the same API id.
pub fn short_id(input: &str, len: usize) -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = FNV_OFFSET;
    for b in input.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    }
    (0..len)
        .map(|i| {
            hash = (hash ^ i as u64).wrapping_mul(FNV_PRIME);
            ALPHABET[(hash % 36) as usize] as char
        })
        .collect()
}

/// The API id of a stack's API (10 characters, stable per stack name).
pub fn api_id(owner: &str) -> String {
    short_id(owner, API_ID_CHARS)
}

pub(crate) fn method(m: &str) -> Result<Method, EventError> {
    Method::from_bytes(m.as_bytes()).map_err(|_| EventError::Method(m.to_string()))
}

/// A `HeaderMap` for the event types; names or values HTTP cannot carry are skipped.
pub(crate) fn header_map(groups: &[(String, Vec<String>)], join: v1::Join) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, values) in groups {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        let chosen: Vec<String> = match join {
            v1::Join::All => values.clone(),
            v1::Join::Last => values.last().cloned().into_iter().collect(),
            v1::Join::Comma => vec![values.join(",")],
        };
        for v in chosen {
            if let Ok(v) = HeaderValue::from_str(&v) {
                map.append(name.clone(), v);
            }
        }
    }
    map
}

/// True when HTTP can carry this header name and value.
pub(crate) fn valid_header(name: &str, value: &str) -> bool {
    HeaderName::from_bytes(name.as_bytes()).is_ok() && HeaderValue::from_str(value).is_ok()
}
