//! End-to-end: function URLs. Created, read, updated, listed and deleted through the Lambda
//! API; called over real HTTP through the gateway listener (`--gateway-listen`), which tells
//! them apart by `Host` and maps requests to payload-2.0 events and the function's answers
//! (or failures) back to HTTP.

mod common;

use common::server;
use nimbus_testkit::{Lambda, Response, python_zip, unique};
use serde_json::{Value, json};

/// Echoes the event, or answers in the shape the path asks for.
const HANDLER: &str = r#"
import base64, json

def handler(event, context):
    path = event.get("rawPath", "")
    if path == "/fail":
        raise Exception("boom")
    if path == "/plain":
        return {"hello": "world"}
    if path == "/string":
        return "hi"
    if path == "/malformed":
        return {"statusCode": "not a number"}
    if path == "/binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(bytes([0, 1, 255])).decode(), "isBase64Encoded": True}
    return {"statusCode": 201,
            "headers": {"content-type": "application/json", "x-custom": "v"},
            "cookies": ["a=b; Path=/", "c=d"],
            "body": json.dumps(event)}
"#;

fn create_function(l: &Lambda, name: &str) {
    let r = l.create(
        name,
        "python3.12",
        "app.handler",
        &python_zip(HANDLER),
        json!({}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

fn url_path(function: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("/2021-10-31/functions/{function}/url?Qualifier={q}"),
        None => format!("/2021-10-31/functions/{function}/url"),
    }
}

fn url_call(l: &Lambda, method: &str, function: &str, q: Option<&str>, body: Value) -> Response {
    let body = (method == "POST" || method == "PUT").then(|| body.to_string().into_bytes());
    l.request(
        method,
        &url_path(function, q),
        &[("content-type", "application/json")],
        body,
    )
}

/// The `Host` of a FunctionUrl (`http://<host>/` → `<host>`).
fn host_of(function_url: &str) -> String {
    function_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

fn gateway() -> Lambda {
    let endpoint = server()
        .gateway_endpoint
        .clone()
        .expect("the testkit starts a gateway listener");
    Lambda::new(&endpoint)
}

/// A function URL for a fresh echo function: (function name, Host).
fn echo_url() -> (String, String) {
    let l = server().lambda();
    let name = unique("gw-echo");
    create_function(&l, &name);
    let r = url_call(&l, "POST", &name, None, json!({"AuthType": "NONE"}));
    assert_eq!(r.status, 201, "{}", r.text());
    let url = r.json()["FunctionUrl"].as_str().expect("url").to_string();
    (name, host_of(&url))
}

#[test]
fn function_url_configs_through_the_lambda_api() {
    let l = server().lambda();
    let name = unique("gw-cfg");
    create_function(&l, &name);

    let created = url_call(
        &l,
        "POST",
        &name,
        None,
        json!({"AuthType": "NONE", "Cors": {"AllowOrigins": ["*"], "MaxAge": 60}}),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let c = created.json();
    let url = c["FunctionUrl"].as_str().expect("url");
    let host = host_of(url);
    let (domain, port) = host.rsplit_once(':').expect("port");
    let (id, rest) = domain.split_once('.').expect("id");
    assert_eq!(id.len(), 32, "{url}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert!(
        rest.starts_with("lambda-url.") && rest.ends_with(".localhost"),
        "{url}"
    );
    let gateway_port = server()
        .gateway_endpoint
        .as_deref()
        .and_then(|e| e.rsplit(':').next())
        .expect("gateway port")
        .to_string();
    assert_eq!(port, gateway_port, "the URL names the gateway's port");
    assert!(
        c["FunctionArn"]
            .as_str()
            .is_some_and(|a| a.ends_with(&format!(":function:{name}"))),
        "{c}"
    );
    assert_eq!(c["AuthType"], "NONE");
    assert_eq!(c["InvokeMode"], "BUFFERED");
    assert_eq!(c["Cors"], json!({"AllowOrigins": ["*"], "MaxAge": 60}));
    assert!(c["CreationTime"].as_str().is_some_and(|t| t.ends_with('Z')));

    // A second one for the same function conflicts.
    let again = url_call(&l, "POST", &name, None, json!({"AuthType": "NONE"}));
    assert_eq!(again.status, 409, "{}", again.text());
    assert_eq!(
        again.error_type().as_deref(),
        Some("ResourceConflictException")
    );

    let got = url_call(&l, "GET", &name, None, Value::Null);
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.json()["FunctionUrl"], url);
    assert!(got.json()["LastModifiedTime"].is_string());

    let updated = url_call(&l, "PUT", &name, None, json!({"AuthType": "AWS_IAM"}));
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_eq!(updated.json()["AuthType"], "AWS_IAM");
    assert_eq!(
        updated.json()["Cors"],
        json!({"AllowOrigins": ["*"], "MaxAge": 60})
    );

    // Bad input: a version qualifier, a bad enum, a missing AuthType.
    let version = url_call(&l, "POST", &name, Some("1"), json!({"AuthType": "NONE"}));
    assert_eq!(version.status, 400, "{}", version.text());
    let bad = url_call(&l, "POST", &name, Some("nope"), json!({"AuthType": "NONE"}));
    assert_eq!(bad.status, 404, "{}", bad.text());
    let missing = url_call(&l, "PUT", &name, None, json!({"AuthType": "BASIC"}));
    assert_eq!(missing.status, 400, "{}", missing.text());
    let other = unique("gw-none");
    let none = url_call(&l, "POST", &other, None, json!({"AuthType": "NONE"}));
    assert_eq!(none.status, 404, "{}", none.text());

    // An alias gets its own URL; the list shows both.
    let alias = l.request(
        "POST",
        &format!("/2015-03-31/functions/{name}/aliases"),
        &[("content-type", "application/json")],
        Some(
            json!({"Name": "live", "FunctionVersion": "$LATEST"})
                .to_string()
                .into_bytes(),
        ),
    );
    assert_eq!(alias.status, 201, "{}", alias.text());
    let on_alias = url_call(&l, "POST", &name, Some("live"), json!({"AuthType": "NONE"}));
    assert_eq!(on_alias.status, 201, "{}", on_alias.text());
    assert_ne!(on_alias.json()["FunctionUrl"], url);
    assert!(
        on_alias.json()["FunctionArn"]
            .as_str()
            .is_some_and(|a| a.ends_with(":live"))
    );
    let list = l.request(
        "GET",
        &format!("/2021-10-31/functions/{name}/urls"),
        &[],
        None,
    );
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(
        list.json()["FunctionUrlConfigs"].as_array().map(Vec::len),
        Some(2)
    );

    // Delete: 204, then gone.
    let deleted = url_call(&l, "DELETE", &name, Some("live"), Value::Null);
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    let gone = url_call(&l, "GET", &name, Some("live"), Value::Null);
    assert_eq!(gone.status, 404, "{}", gone.text());
    let twice = url_call(&l, "DELETE", &name, Some("live"), Value::Null);
    assert_eq!(twice.status, 404, "{}", twice.text());

    // Deleting the function deletes its URL: it no longer answers on the gateway.
    assert_eq!(l.delete(&name).status, 204);
    let after = url_call(&l, "GET", &name, None, Value::Null);
    assert_eq!(after.status, 404, "{}", after.text());
    let r = gateway().request("GET", "/", &[("host", &host)], None);
    assert_eq!(r.status, 404, "{}", r.text());
}

#[test]
fn function_urls_serve_http_through_the_gateway() {
    let (name, host) = echo_url();
    let g = gateway();

    let r = g.request(
        "POST",
        "/some/path?a=1&a=2&b=x%20y",
        &[
            ("host", &host),
            ("content-type", "text/plain"),
            ("cookie", "k1=v1; k2=v2"),
            ("x-multi", "one"),
            ("user-agent", "e2e"),
        ],
        Some(b"hello".to_vec()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("x-custom").as_deref(), Some("v"));
    let cookies: Vec<&str> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(cookies, ["a=b; Path=/", "c=d"]);
    let request_id = r.header("x-amzn-requestid").expect("request id");
    let e = r.json();
    assert_eq!(e["version"], "2.0");
    assert_eq!(e["routeKey"], "$default");
    assert_eq!(e["rawPath"], "/some/path");
    assert_eq!(e["rawQueryString"], "a=1&a=2&b=x%20y");
    assert_eq!(e["queryStringParameters"], json!({"a": "1,2", "b": "x y"}));
    assert_eq!(e["cookies"], json!(["k1=v1", "k2=v2"]));
    assert_eq!(e["headers"]["x-multi"], "one");
    assert!(e["headers"].get("cookie").is_none());
    assert_eq!(e["headers"]["x-forwarded-proto"], "http");
    assert_eq!(e["body"], "hello");
    assert_eq!(e["isBase64Encoded"], false);
    let rc = &e["requestContext"];
    let id = host.split('.').next().expect("id");
    assert_eq!(rc["domainPrefix"], id);
    assert_eq!(rc["apiId"], id);
    assert_eq!(rc["domainName"], host.rsplit_once(':').expect("port").0);
    assert_eq!(rc["http"]["method"], "POST");
    assert_eq!(rc["http"]["path"], "/some/path");
    assert_eq!(rc["http"]["sourceIp"], "127.0.0.1");
    assert_eq!(rc["http"]["userAgent"], "e2e");
    assert_eq!(rc["stage"], "$default");
    assert_eq!(rc["requestId"], request_id.as_str());
    assert!(rc["timeEpoch"].as_i64().is_some_and(|t| t > 0));
    assert!(rc["accountId"].as_str().is_some_and(|a| a.len() == 12));

    // A binary body arrives base64-encoded; a base64 response leaves decoded.
    let r = g.request(
        "PUT",
        "/echo",
        &[
            ("host", &host),
            ("content-type", "application/octet-stream"),
        ],
        Some(vec![0, 159, 255]),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["isBase64Encoded"], true);
    assert_eq!(r.json()["body"], "AJ//");
    let r = g.request("GET", "/binary", &[("host", &host)], None);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, [0, 1, 255]);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/octet-stream")
    );

    // Plain JSON without statusCode is the body (a string keeps its quotes).
    let r = g.request("GET", "/plain", &[("host", &host)], None);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(r.json(), json!({"hello": "world"}));
    let r = g.request("GET", "/string", &[("host", &host)], None);
    assert_eq!((r.status, r.text()), (200, "\"hi\"".to_string()));

    // A function error and a malformed answer are 502s.
    for path in ["/fail", "/malformed"] {
        let r = g.request("GET", path, &[("host", &host)], None);
        assert_eq!(r.status, 502, "{path}: {}", r.text());
        assert_eq!(r.json(), json!({"message": "Internal server error"}));
    }

    // Over Lambda's 6 MB payload (but within API Gateway's 10 MB): 413.
    let r = g.request(
        "POST",
        "/big",
        &[("host", &host), ("content-type", "text/plain")],
        Some(vec![b'x'; 7 * 1024 * 1024]),
    );
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.json(), json!({"message": "Request Entity Too Large"}));

    // A throttled invocation (reserved concurrency 0) is a function URL's 429.
    let l = server().lambda();
    let r = l.request(
        "PUT",
        &format!("/2017-10-31/functions/{name}/concurrency"),
        &[("content-type", "application/json")],
        Some(br#"{"ReservedConcurrentExecutions":0}"#.to_vec()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = g.request("GET", "/", &[("host", &host)], None);
    assert_eq!(r.status, 429, "{}", r.text());

    // An unknown URL id, and a host with no routes: 404 Not Found.
    let (_, rest) = host.split_once('.').expect("host");
    let unknown = format!("{}.{rest}", "a".repeat(32));
    // A made-up id of another shape is a function URL miss too, never an HTTP API route.
    let malformed = format!("x.{rest}");
    for h in [unknown.as_str(), malformed.as_str(), "localhost"] {
        let r = g.request("GET", "/", &[("host", h)], None);
        assert_eq!(r.status, 404, "{h}: {}", r.text());
        assert_eq!(r.json(), json!({"message": "Not Found"}));
    }
    // TRACE, CONNECT-like and invented methods never reach the function (which would
    // answer 429 now).
    for method in ["TRACE", "FOO"] {
        let r = g.request(method, "/", &[("host", &host)], None);
        assert_eq!(r.status, 404, "{method}: {}", r.text());
        assert_eq!(r.json(), json!({"message": "Not Found"}));
    }
}

#[test]
fn function_url_cors_preflight_is_answered_without_the_function() {
    let l = server().lambda();
    let name = unique("gw-cors");
    create_function(&l, &name);
    let r = url_call(
        &l,
        "POST",
        &name,
        None,
        json!({"AuthType": "NONE", "Cors": {
            "AllowOrigins": ["https://app.example"],
            "AllowMethods": ["GET", "POST"],
            "MaxAge": 300
        }}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let host = host_of(r.json()["FunctionUrl"].as_str().expect("url"));
    let g = gateway();
    let pre = g.request(
        "OPTIONS",
        "/",
        &[
            ("host", &host),
            ("origin", "https://app.example"),
            ("access-control-request-method", "POST"),
        ],
        None,
    );
    assert_eq!(pre.status, 200, "{}", pre.text());
    assert_eq!(
        pre.header("access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );
    assert_eq!(
        pre.header("access-control-allow-methods").as_deref(),
        Some("GET,POST")
    );
    assert_eq!(pre.header("access-control-max-age").as_deref(), Some("300"));
    let actual = g.request(
        "GET",
        "/",
        &[("host", &host), ("origin", "https://app.example")],
        None,
    );
    assert_eq!(actual.status, 201, "{}", actual.text());
    assert_eq!(
        actual.header("access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );
}
