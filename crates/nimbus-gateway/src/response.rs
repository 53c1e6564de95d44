//! From the function's result (or an invocation failure) to the HTTP response the client
//! gets, with API Gateway's rules and its error bodies.
//!
//! Answers that are not the function's (`{"message": …}` bodies):
//!
//! | case | REST API | HTTP API | function URL |
//! |---|---|---|---|
//! | no route | 403 Missing Authentication Token | 404 Not Found | 404 Not Found |
//! | body over the limit | 413 Request Entity Too Large | 413 | 413 |
//! | function error (`X-Amz-Function-Error`) | 502 Internal server error | 502 | 502 |
//! | malformed function response | 502 Internal server error | 502 | 502 |
//! | Lambda throttled the invocation | 500 Internal server error | 500 | 429 Rate Exceeded. |
//! | any other invocation failure | 500 Internal server error | 500 | 500 |
//!
//! API Gateway treats every Lambda rejection, throttles included, as an integration failure
//! (500; AWS Lambda docs "Handling Lambda errors with an API Gateway API"); a function URL
//! answers a throttle with 429 (Lambda docs "Throttling function URLs").

use base64::Engine;
use serde_json::{Map, Value};

/// An HTTP response to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers in order; a name may repeat (`set-cookie`).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// Which front end answers: it decides the error answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// A REST API (payload 1.0).
    RestApi,
    /// An HTTP API (payload 1.0 or 2.0).
    HttpApi,
    /// A Lambda function URL (payload 2.0).
    FunctionUrl,
}

/// Why an invocation produced no function result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvokeFailure {
    /// The function ran and failed (`X-Amz-Function-Error`).
    FunctionError,
    /// Lambda refused the invocation for concurrency.
    Throttled,
    /// Anything else (missing function, platform error).
    Other,
}

/// Headers of the function's response that must not reach the client as given: hop-by-hop
/// headers and `content-length` (the server frames the body itself; a wrong length from a
/// function would corrupt the connection).
const DROPPED_RESPONSE_HEADERS: [&str; 8] = [
    "connection",
    "content-length",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Members a 1.0 response may have; any other makes it malformed (API Gateway's
/// "Malformed Lambda proxy response").
const V1_RESPONSE_MEMBERS: [&str; 5] = [
    "statusCode",
    "headers",
    "multiValueHeaders",
    "body",
    "isBase64Encoded",
];

/// Lowest and highest status a function may return.
const STATUS_MIN: u64 = 100;
const STATUS_MAX: u64 = 599;

fn message(status: u16, text: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: serde_json::json!({ "message": text })
            .to_string()
            .into_bytes(),
    }
}

/// 502 `{"message":"Internal server error"}`: the function failed or answered badly.
pub fn bad_gateway() -> HttpResponse {
    message(502, "Internal server error")
}

/// 500 `{"message":"Internal server error"}`: the invocation could not be made.
pub fn internal_error() -> HttpResponse {
    message(500, "Internal server error")
}

/// 413 `{"message":"Request Entity Too Large"}`: the request or the event is over its limit.
pub fn too_large() -> HttpResponse {
    message(413, "Request Entity Too Large")
}

/// 400 `{"message":"Bad Request"}`: the request could not be read.
pub fn bad_request() -> HttpResponse {
    message(400, "Bad Request")
}

/// The answer when the request body did not arrive in time.
pub fn request_timeout() -> HttpResponse {
    message(408, "Request Timeout")
}

/// The answer to a request no route (or no function URL) matches.
pub fn no_route(surface: Surface) -> HttpResponse {
    match surface {
        Surface::RestApi => {
            let mut r = message(403, "Missing Authentication Token");
            r.headers.push((
                "x-amzn-errortype".into(),
                "MissingAuthenticationTokenException".into(),
            ));
            r
        }
        Surface::HttpApi | Surface::FunctionUrl => message(404, "Not Found"),
    }
}

/// The answer when the invocation gave no usable result.
pub fn invoke_failure(surface: Surface, failure: InvokeFailure) -> HttpResponse {
    match (failure, surface) {
        (InvokeFailure::FunctionError, _) => bad_gateway(),
        (InvokeFailure::Throttled, Surface::FunctionUrl) => message(429, "Rate Exceeded."),
        (InvokeFailure::Throttled | InvokeFailure::Other, _) => internal_error(),
    }
}

/// Maps a payload-1.0 function result: an object with `statusCode` and only the five 1.0
/// members; `headers` and `multiValueHeaders` merged (a value in both is sent once);
/// `body` base64-decoded when `isBase64Encoded`; `content-type: application/json` when the
/// function set none (API Gateway's default). Anything else is a 502.
pub fn map_v1(payload: &[u8]) -> HttpResponse {
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(payload) else {
        return bad_gateway();
    };
    if obj
        .keys()
        .any(|k| !V1_RESPONSE_MEMBERS.contains(&k.as_str()))
    {
        return bad_gateway();
    }
    let Some(status) = obj.get("statusCode").and_then(status_code) else {
        return bad_gateway();
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    match obj.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (name, values) in m {
                match values {
                    Value::Array(items) => {
                        for item in items {
                            let Some(v) = scalar(item) else {
                                return bad_gateway();
                            };
                            headers.push((name.clone(), v));
                        }
                    }
                    Value::Null => {}
                    _ => return bad_gateway(),
                }
            }
        }
        Some(_) => return bad_gateway(),
    }
    let Some(single) = header_object(obj.get("headers")) else {
        return bad_gateway();
    };
    for (name, value) in single {
        let dup = headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(&name) && *v == value);
        if !dup {
            headers.push((name, value));
        }
    }
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("content-type".into(), "application/json".into()));
    }
    let Some(body) = body_bytes(&obj) else {
        return bad_gateway();
    };
    finish(status, headers, body)
}

/// Maps a payload-2.0 function result. A JSON object with `statusCode` is a response
/// (`headers`, `cookies` → one `set-cookie` each, `body`, `isBase64Encoded`; other members
/// ignored). Any other valid JSON — an object without `statusCode`, an array, a string, a
/// number — is the body itself: 200, `content-type: application/json`, the function's JSON
/// text verbatim (so a returned string keeps its quotes, as function URLs send it).
/// Not JSON at all: 502.
pub fn map_v2(payload: &[u8]) -> HttpResponse {
    let Ok(value) = serde_json::from_slice::<Value>(payload) else {
        return bad_gateway();
    };
    let obj = match value {
        Value::Object(obj) if obj.contains_key("statusCode") => obj,
        _ => {
            return HttpResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: payload.to_vec(),
            };
        }
    };
    let Some(status) = obj.get("statusCode").and_then(status_code) else {
        return bad_gateway();
    };
    let Some(mut headers) = header_object(obj.get("headers")) else {
        return bad_gateway();
    };
    match obj.get("cookies") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let Some(c) = item.as_str() else {
                    return bad_gateway();
                };
                headers.push(("set-cookie".into(), c.to_string()));
            }
        }
        Some(_) => return bad_gateway(),
    }
    let Some(body) = body_bytes(&obj) else {
        return bad_gateway();
    };
    finish(status, headers, body)
}

fn finish(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> HttpResponse {
    let headers = headers
        .into_iter()
        .filter(|(n, v)| {
            let lower = n.to_ascii_lowercase();
            !DROPPED_RESPONSE_HEADERS.contains(&lower.as_str()) && crate::valid_header(n, v)
        })
        .collect();
    HttpResponse {
        status,
        headers,
        body,
    }
}

/// `statusCode` as a number or a numeric string, within 100–599.
fn status_code(v: &Value) -> Option<u16> {
    let n = match v {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse::<u64>().ok()?,
        _ => return None,
    };
    (STATUS_MIN..=STATUS_MAX)
        .contains(&n)
        .then(|| u16::try_from(n).ok())
        .flatten()
}

/// A header value the function may give: a string, a number or a boolean.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `headers` as (name, value) pairs; `None` when malformed. Null values are skipped.
fn header_object(v: Option<&Value>) -> Option<Vec<(String, String)>> {
    match v {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Object(m)) => {
            let mut out = Vec::with_capacity(m.len());
            for (name, value) in m {
                if value.is_null() {
                    continue;
                }
                out.push((name.clone(), scalar(value)?));
            }
            Some(out)
        }
        Some(_) => None,
    }
}

/// The body bytes: `body` must be a string (or absent/null: empty); base64-decoded when
/// `isBase64Encoded` is true. `None` when malformed.
fn body_bytes(obj: &Map<String, Value>) -> Option<Vec<u8>> {
    let encoded = match obj.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return None,
    };
    let text = match obj.get("body") {
        None | Some(Value::Null) => return Some(Vec::new()),
        Some(Value::String(s)) => s,
        Some(_) => return None,
    };
    if encoded {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()
    } else {
        Some(text.as_bytes().to_vec())
    }
}
