//! Events against the reference examples (lambda-compat §8.1), round-tripped through the
//! `aws_lambda_events` types, and response mapping.

use std::collections::BTreeMap;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use base64::Engine;
use serde_json::{Value, json};

use crate::*;

fn request(method: &str, path: &str, query: &str, headers: &[(&str, &str)]) -> HttpRequest {
    HttpRequest {
        method: method.into(),
        raw_path: path.into(),
        raw_query: query.into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: Vec::new(),
        source_ip: "192.168.196.186".into(),
        time_epoch_ms: 1_428_582_896_000,
        protocol: "HTTP/1.1".into(),
    }
}

fn ctx(api_id: &str, domain: &str, request_id: &str) -> EventContext {
    EventContext {
        account_id: "123456789012".into(),
        api_id: api_id.into(),
        request_id: request_id.into(),
        domain_name: domain.into(),
        domain_prefix: domain.split('.').next().unwrap_or_default().into(),
    }
}

fn target() -> Target {
    Target {
        function: "fn".into(),
        qualifier: None,
    }
}

const HTTP_V2: ApiKind = ApiKind::Http {
    payload: PayloadVersion::V2,
};

/// Every member of `expected` (recursively) is in `actual` with the same value.
fn assert_contains(actual: &Value, expected: &Value, at: &str) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e {
                let av = a
                    .get(k)
                    .unwrap_or_else(|| panic!("{at}.{k} missing in {actual}"));
                assert_contains(av, ev, &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(actual, expected, "at {at}"),
    }
}

#[test]
fn v1_matches_the_rest_reference_example() {
    let mut req = request(
        "POST",
        "/hello/world",
        "name=me",
        &[
            ("Content-Type", "application/json"),
            ("User-Agent", "curl/8"),
        ],
    );
    req.body = br#"{"a":1}"#.to_vec();
    let route = Route::new(ApiKind::Rest, "ANY", "/{proxy+}", target(), "stack").expect("route");
    let (matched, params) = {
        let mut t = RouteTable::new();
        t.insert(route).expect("insert");
        t.match_request("POST", "/hello/world").expect("match")
    };
    let c = ctx(
        "1234567890",
        "id.execute-api.us-east-1.amazonaws.com",
        "deef4878-7910-11e6-8f14-25afc3e9ae33",
    );
    let event = build_v1(&req, &matched, &params, &c).expect("event");
    let reference = json!({
        "resource": "/{proxy+}", "path": "/hello/world", "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "User-Agent": "curl/8"},
        "multiValueHeaders": {"Content-Type": ["application/json"], "User-Agent": ["curl/8"]},
        "queryStringParameters": {"name": "me"},
        "multiValueQueryStringParameters": {"name": ["me"]},
        "pathParameters": {"proxy": "hello/world"},
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012", "stage": "Prod",
            "requestId": "deef4878-7910-11e6-8f14-25afc3e9ae33",
            "identity": {"sourceIp": "192.168.196.186", "userAgent": "curl/8"},
            "resourcePath": "/{proxy+}", "httpMethod": "POST", "apiId": "1234567890",
            "protocol": "HTTP/1.1", "path": "/Prod/hello/world",
            "domainName": "id.execute-api.us-east-1.amazonaws.com", "domainPrefix": "id",
            "requestTime": "09/Apr/2015:12:34:56 +0000", "requestTimeEpoch": 1428582896000_i64,
            "extendedRequestId": "deef4878-7910-11e6-8f14-25afc3e9ae33"
        },
        "body": "{\"a\":1}", "isBase64Encoded": false
    });
    assert_contains(&event, &reference, "event");
    let resource_id = event["requestContext"]["resourceId"].as_str().expect("id");
    assert_eq!(resource_id.len(), 6);
    assert!(event.get("version").is_none());

    // Round trip through the official type.
    let typed: ApiGatewayProxyRequest = serde_json::from_value(event).expect("typed");
    assert_eq!(typed.resource.as_deref(), Some("/{proxy+}"));
    assert_eq!(typed.path.as_deref(), Some("/hello/world"));
    assert_eq!(typed.http_method, "POST");
    assert_eq!(
        typed
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert_eq!(typed.query_string_parameters.first("name"), Some("me"));
    assert_eq!(
        typed.multi_value_query_string_parameters.all("name"),
        Some(vec!["me"])
    );
    assert_eq!(
        typed.path_parameters.get("proxy").map(String::as_str),
        Some("hello/world")
    );
    assert!(typed.stage_variables.is_empty());
    let rc = &typed.request_context;
    assert_eq!(rc.account_id.as_deref(), Some("123456789012"));
    assert_eq!(rc.stage.as_deref(), Some("Prod"));
    assert_eq!(rc.apiid.as_deref(), Some("1234567890"));
    assert_eq!(rc.identity.source_ip.as_deref(), Some("192.168.196.186"));
    assert_eq!(rc.resource_path.as_deref(), Some("/{proxy+}"));
    assert_eq!(rc.request_time_epoch, 1_428_582_896_000);
    assert_eq!(typed.body.as_deref(), Some(r#"{"a":1}"#));
    assert!(!typed.is_base64_encoded);
}

#[test]
fn v1_absent_maps_are_null_and_repeats_keep_the_last_value() {
    let req = request("GET", "/x", "", &[("Host", "h")]);
    let route = Route::new(ApiKind::Rest, "GET", "/x", target(), "s").expect("route");
    let e = build_v1(&req, &route, &BTreeMap::new(), &ctx("a", "h", "r")).expect("event");
    for member in [
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "body",
    ] {
        assert_eq!(e[member], Value::Null, "{member}");
    }
    assert_eq!(e["isBase64Encoded"], json!(false));

    let req = request(
        "GET",
        "/x",
        "P=v1&P=v2",
        &[("Accept", "a"), ("X-Multi", "1"), ("x-multi", "2")],
    );
    let e = build_v1(&req, &route, &BTreeMap::new(), &ctx("a", "h", "r")).expect("event");
    assert_eq!(e["queryStringParameters"], json!({"P": "v2"}));
    assert_eq!(
        e["multiValueQueryStringParameters"],
        json!({"P": ["v1", "v2"]})
    );
    assert_eq!(e["headers"]["X-Multi"], json!("2"));
    assert_eq!(e["multiValueHeaders"]["X-Multi"], json!(["1", "2"]));
    let typed: ApiGatewayProxyRequest = serde_json::from_value(e).expect("typed");
    assert_eq!(
        typed.multi_value_query_string_parameters.all("P"),
        Some(vec!["v1", "v2"])
    );
}

#[test]
fn v1_on_an_http_api_says_version_1_0_and_default_stage() {
    let req = request("GET", "/x", "", &[]);
    let api = ApiKind::Http {
        payload: PayloadVersion::V1,
    };
    let route = Route::new(api, "GET", "/x", target(), "s").expect("route");
    let e = build_v1(&req, &route, &BTreeMap::new(), &ctx("a", "h", "r")).expect("event");
    assert_eq!(e["version"], json!("1.0"));
    assert_eq!(e["requestContext"]["stage"], json!("$default"));
    assert_eq!(e["requestContext"]["path"], json!("/x"));
    assert_eq!(e["requestContext"]["resourceId"], Value::Null);
    assert!(e["requestContext"].get("extendedRequestId").is_none());
}

#[test]
fn v2_matches_the_http_api_reference_example() {
    let mut req = request(
        "GET",
        "/",
        "a=1",
        &[
            ("host", "abc.execute-api.us-west-2.amazonaws.com"),
            ("user-agent", "curl/7.58.0"),
            ("Cookie", "c1=v1"),
        ],
    );
    req.source_ip = "1.2.3.4".into();
    req.time_epoch_ms = 1_587_481_701_067;
    let route = Route::new(HTTP_V2, "ANY", "$default", target(), "s").expect("route");
    let c = ctx(
        "aaaaaaaaaa",
        "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com",
        "LV7fzho-PHcEJPw=",
    );
    let e = build_v2(&req, &route, &BTreeMap::new(), &c).expect("event");
    let reference = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "a=1",
        "cookies": ["c1=v1"],
        "headers": {"host": "abc.execute-api.us-west-2.amazonaws.com", "user-agent": "curl/7.58.0"},
        "queryStringParameters": {"a": "1"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "aaaaaaaaaa",
            "domainName": "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com",
            "domainPrefix": "aaaaaaaaaa",
            "http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1",
                     "sourceIp": "1.2.3.4", "userAgent": "curl/7.58.0"},
            "requestId": "LV7fzho-PHcEJPw=", "routeKey": "$default", "stage": "$default",
            "time": "21/Apr/2020:15:08:21 +0000", "timeEpoch": 1587481701067_i64
        },
        "isBase64Encoded": false
    });
    assert_contains(&e, &reference, "event");
    let obj = e.as_object().expect("object");
    assert_eq!(obj["headers"].as_object().map(|h| h.len()), Some(2));
    for absent in [
        "type",
        "methodArn",
        "httpMethod",
        "identitySource",
        "authorizationToken",
        "resource",
        "body",
        "pathParameters",
        "stageVariables",
    ] {
        assert!(!obj.contains_key(absent), "{absent} present: {e}");
    }

    let typed: ApiGatewayV2httpRequest = serde_json::from_value(e).expect("typed");
    assert_eq!(typed.version.as_deref(), Some("2.0"));
    assert_eq!(typed.route_key.as_deref(), Some("$default"));
    assert_eq!(typed.raw_path.as_deref(), Some("/"));
    assert_eq!(typed.raw_query_string.as_deref(), Some("a=1"));
    assert_eq!(typed.cookies, Some(vec!["c1=v1".to_string()]));
    assert_eq!(typed.query_string_parameters.first("a"), Some("1"));
    let rc = &typed.request_context;
    assert_eq!(rc.http.method, "GET");
    assert_eq!(rc.http.source_ip.as_deref(), Some("1.2.3.4"));
    assert_eq!(rc.http.user_agent.as_deref(), Some("curl/7.58.0"));
    assert_eq!(rc.stage.as_deref(), Some("$default"));
    assert_eq!(rc.time_epoch, 1_587_481_701_067);
    assert_eq!(rc.domain_prefix.as_deref(), Some("aaaaaaaaaa"));
    assert!(typed.body.is_none());
}

#[test]
fn v2_joins_repeats_and_splits_cookies() {
    let mut req = request(
        "POST",
        "/hello/J%C3%BCrgen",
        "P=v1&P=v2&q=a%20b",
        &[
            ("X-Multi", "1"),
            ("x-multi", "2"),
            ("cookie", "a=1; b=2"),
            ("cookie", "c=3"),
            ("content-type", "text/plain"),
        ],
    );
    req.body = b"hello".to_vec();
    let mut t = RouteTable::new();
    t.insert(Route::new(HTTP_V2, "POST", "/hello/{name}", target(), "s").expect("route"))
        .expect("insert");
    let (route, params) = t.match_request("POST", &req.raw_path).expect("match");
    let e = build_v2(&req, &route, &params, &ctx("a", "h", "r")).expect("event");
    assert_eq!(e["routeKey"], json!("POST /hello/{name}"));
    assert_eq!(e["requestContext"]["routeKey"], json!("POST /hello/{name}"));
    assert_eq!(e["rawPath"], json!("/hello/J%C3%BCrgen"));
    assert_eq!(e["rawQueryString"], json!("P=v1&P=v2&q=a%20b"));
    assert_eq!(
        e["queryStringParameters"],
        json!({"P": "v1,v2", "q": "a b"})
    );
    assert_eq!(e["headers"]["x-multi"], json!("1,2"));
    assert!(e["headers"].get("cookie").is_none());
    assert_eq!(e["cookies"], json!(["a=1", "b=2", "c=3"]));
    assert_eq!(e["pathParameters"], json!({"name": "Jürgen"}));
    assert_eq!(e["body"], json!("hello"));
    assert_eq!(e["isBase64Encoded"], json!(false));
    let typed: ApiGatewayV2httpRequest = serde_json::from_value(e).expect("typed");
    assert_eq!(
        typed.path_parameters.get("name").map(String::as_str),
        Some("Jürgen")
    );
}

#[test]
fn binary_bodies_are_base64_in_both_formats() {
    let cases: [(&str, &[u8], bool); 5] = [
        ("application/octet-stream", &[0, 159, 255], true),
        ("text/plain", &[0xff, 0xfe], true),
        ("application/x-www-form-urlencoded", b"a=1", true),
        ("application/json", b"{\"k\":\"\xc3\xa9\"}", false),
        ("text/html; charset=utf-8", b"<p>", false),
    ];
    for (ct, body, encoded) in cases {
        let mut req = request("POST", "/b", "", &[("content-type", ct)]);
        req.body = body.to_vec();
        let expected_body = if encoded {
            base64::engine::general_purpose::STANDARD.encode(body)
        } else {
            String::from_utf8(body.to_vec()).expect("utf8")
        };
        for api in [ApiKind::Rest, HTTP_V2] {
            let route = Route::new(api, "POST", "/b", target(), "s").expect("route");
            let e = build_event(
                api.payload(),
                &req,
                &route,
                &BTreeMap::new(),
                &ctx("a", "h", "r"),
            )
            .expect("event");
            assert_eq!(e["isBase64Encoded"], json!(encoded), "{ct} {api:?}");
            assert_eq!(e["body"], json!(expected_body), "{ct} {api:?}");
        }
    }
}

#[test]
fn function_url_route_is_a_default_v2_route() {
    let route = Route::function_url(target());
    assert_eq!(route.route_key, "$default");
    assert_eq!(route.api.payload(), PayloadVersion::V2);
    let req = request("DELETE", "/any/path", "", &[]);
    let e = build_v2(&req, &route, &BTreeMap::new(), &ctx("u", "u.x", "r")).expect("event");
    assert_eq!(e["requestContext"]["http"]["method"], json!("DELETE"));
    assert_eq!(e["requestContext"]["domainPrefix"], json!("u"));
}

#[test]
fn ids_are_stable_and_alphanumeric() {
    assert_eq!(api_id("stack"), api_id("stack"));
    assert_ne!(api_id("stack"), api_id("stack2"));
    let id = short_id("x", 32);
    assert_eq!(id.len(), 32);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
}

// --- responses ----------------------------------------------------------------------------

fn header<'a>(r: &'a HttpResponse, name: &str) -> Vec<&'a str> {
    r.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

fn internal(status: u16) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"message":"Internal server error"}"#.to_vec(),
    }
}

#[test]
fn v1_responses() {
    let r = map_v1(
        br#"{"statusCode":200,"headers":{"Content-Type":"text/plain"},"body":"Hello World","isBase64Encoded":false}"#,
    );
    assert_eq!(r.status, 200);
    assert_eq!(header(&r, "content-type"), ["text/plain"]);
    assert_eq!(r.body, b"Hello World");

    // multiValueHeaders merge with headers; a pair in both is sent once.
    let r = map_v1(
        br#"{"statusCode":"201","headers":{"X-A":"1","X-B":"b"},"multiValueHeaders":{"X-A":["1","2"]}}"#,
    );
    assert_eq!(r.status, 201);
    assert_eq!(header(&r, "x-a"), ["1", "2"]);
    assert_eq!(header(&r, "x-b"), ["b"]);
    // API Gateway's default content type, empty body.
    assert_eq!(header(&r, "content-type"), ["application/json"]);
    assert!(r.body.is_empty());

    let r = map_v1(br#"{"statusCode":200,"body":"AP8=","isBase64Encoded":true}"#);
    assert_eq!(r.body, [0, 255]);

    // Function-controlled framing headers are dropped; numbers and booleans are values.
    let r = map_v1(br#"{"statusCode":200,"headers":{"Content-Length":"99","X-N":5,"X-T":true}}"#);
    assert!(header(&r, "content-length").is_empty());
    assert_eq!(header(&r, "x-n"), ["5"]);
    assert_eq!(header(&r, "x-t"), ["true"]);

    for malformed in [
        &br#"{"body":"no status"}"#[..],
        br#"{"statusCode":200,"cookies":["a=b"]}"#,
        br#"{"statusCode":99}"#,
        br#"{"statusCode":200,"body":{"not":"a string"}}"#,
        br#"{"statusCode":200,"body":"%%%","isBase64Encoded":true}"#,
        br#"{"statusCode":200,"headers":{"X":{"nested":1}}}"#,
        br#""just a string""#,
        b"not json",
    ] {
        assert_eq!(
            map_v1(malformed),
            internal(502),
            "{}",
            String::from_utf8_lossy(malformed)
        );
    }
}

#[test]
fn v2_responses() {
    let r = map_v2(
        br#"{"statusCode":201,"headers":{"Content-Type":"application/json","My-Custom-Header":"Custom Value"},"body":"{ \"message\": \"Hello, world!\" }","cookies":["Cookie_1=Value1; Expires=21 Oct 2021 07:48 GMT","Cookie_2=Value2; Max-Age=78000"],"isBase64Encoded":false}"#,
    );
    assert_eq!(r.status, 201);
    assert_eq!(header(&r, "my-custom-header"), ["Custom Value"]);
    assert_eq!(
        header(&r, "set-cookie"),
        [
            "Cookie_1=Value1; Expires=21 Oct 2021 07:48 GMT",
            "Cookie_2=Value2; Max-Age=78000"
        ]
    );
    assert_eq!(r.body, br#"{ "message": "Hello, world!" }"#);

    // The shortcut: valid JSON without statusCode is the body, verbatim.
    for payload in [
        &br#"{"message":"Hello, world!"}"#[..],
        br#""Hello, world!""#,
        b"[1,2]",
        b"42",
        br#"{"body":"not a response without statusCode"}"#,
    ] {
        let r = map_v2(payload);
        assert_eq!(r.status, 200);
        assert_eq!(header(&r, "content-type"), ["application/json"]);
        assert_eq!(r.body, payload);
    }

    let r = map_v2(br#"{"statusCode":204,"body":"AP8=","isBase64Encoded":true,"extra":1}"#);
    assert_eq!(r.status, 204);
    assert_eq!(r.body, [0, 255]);

    for malformed in [
        &b"not json"[..],
        br#"{"statusCode":"abc"}"#,
        br#"{"statusCode":600}"#,
        br#"{"statusCode":200,"cookies":"a=b"}"#,
        br#"{"statusCode":200,"body":123}"#,
        b"",
    ] {
        assert_eq!(
            map_v2(malformed),
            internal(502),
            "{}",
            String::from_utf8_lossy(malformed)
        );
    }
}

#[test]
fn gateway_answers() {
    use response::{bad_gateway, internal_error, invoke_failure, no_route, too_large};
    let rest = no_route(Surface::RestApi);
    assert_eq!(rest.status, 403);
    assert_eq!(rest.body, br#"{"message":"Missing Authentication Token"}"#);
    for s in [Surface::HttpApi, Surface::FunctionUrl] {
        let r = no_route(s);
        assert_eq!(
            (r.status, r.body),
            (404, br#"{"message":"Not Found"}"#.to_vec())
        );
    }
    let big = too_large();
    assert_eq!(big.status, 413);
    assert_eq!(big.body, br#"{"message":"Request Entity Too Large"}"#);
    for s in [Surface::RestApi, Surface::HttpApi, Surface::FunctionUrl] {
        assert_eq!(
            invoke_failure(s, InvokeFailure::FunctionError),
            bad_gateway()
        );
        assert_eq!(invoke_failure(s, InvokeFailure::Other), internal_error());
    }
    assert_eq!(
        invoke_failure(Surface::RestApi, InvokeFailure::Throttled),
        internal(500)
    );
    assert_eq!(
        invoke_failure(Surface::HttpApi, InvokeFailure::Throttled),
        internal(500)
    );
    assert_eq!(
        invoke_failure(Surface::FunctionUrl, InvokeFailure::Throttled).status,
        429
    );
}
