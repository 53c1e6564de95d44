//! Payload format 2.0: HTTP APIs and function URLs.
//!
//! Produced with `aws_lambda_events`' `ApiGatewayV2httpRequest` and serialised; then the
//! members that type carries only for custom-authorizer payloads (`type`, `methodArn`,
//! `httpMethod`, `identitySource`, `authorizationToken`, `resource`) and an empty
//! `stageVariables` are removed, as API Gateway does not send them.
//!
//! Rules: header names lower-cased and repeated headers joined with `,`; the `Cookie`
//! header(s) moved to `cookies` (split at `;`); query parameters decoded and repeats joined
//! with `,` while `rawQueryString` keeps the original; `body` absent when empty.

use std::collections::{BTreeMap, HashMap};

use aws_lambda_events::apigw::{
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
    ApiGatewayV2httpRequestContextHttpDescription,
};
use aws_lambda_events::query_map::QueryMap;
use serde_json::Value;

use crate::EventError;
use crate::request::{
    EventContext, HttpRequest, encode_body, format_request_time, header_groups, query_groups,
};
use crate::routes::Route;
use crate::v1::Join;

/// Members the 2.0 type serialises for authorizer payloads only.
const AUTHORIZER_ONLY_MEMBERS: [&str; 6] = [
    "type",
    "methodArn",
    "httpMethod",
    "identitySource",
    "authorizationToken",
    "resource",
];

/// Builds the 2.0 event for `req` reaching `route` with `params`.
pub fn build_v2(
    req: &HttpRequest,
    route: &Route,
    params: &BTreeMap<String, String>,
    ctx: &EventContext,
) -> Result<Value, EventError> {
    let method = crate::method(&req.method)?;
    let mut cookies: Vec<String> = Vec::new();
    let mut others: Vec<(String, String)> = Vec::with_capacity(req.headers.len());
    for (name, value) in &req.headers {
        if name.eq_ignore_ascii_case("cookie") {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
            );
        } else {
            others.push((name.clone(), value.clone()));
        }
    }
    let headers = header_groups(&others);
    let user_agent = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
        .map(|(_, v)| v.join(","));
    let query: HashMap<String, Vec<String>> = query_groups(&req.raw_query).into_iter().collect();
    let (body, is_base64) = encode_body(req);

    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = method;
    http.path = Some(req.raw_path.clone());
    http.protocol = Some(req.protocol.clone());
    http.source_ip = Some(req.source_ip.clone());
    http.user_agent = user_agent;

    let mut context = ApiGatewayV2httpRequestContext::default();
    context.route_key = Some(route.route_key.clone());
    context.account_id = Some(ctx.account_id.clone());
    context.stage = Some(route.api.stage().to_string());
    context.request_id = Some(ctx.request_id.clone());
    context.apiid = Some(ctx.api_id.clone());
    context.domain_name = Some(ctx.domain_name.clone());
    context.domain_prefix = Some(ctx.domain_prefix.clone());
    context.time = Some(format_request_time(req.time_epoch_ms));
    context.time_epoch = req.time_epoch_ms;
    context.http = http;

    let mut event = ApiGatewayV2httpRequest::default();
    event.version = Some("2.0".to_string());
    event.route_key = Some(route.route_key.clone());
    event.raw_path = Some(req.raw_path.clone());
    event.raw_query_string = Some(req.raw_query.clone());
    event.cookies = (!cookies.is_empty()).then_some(cookies);
    event.headers = crate::header_map(&headers, Join::Comma);
    event.query_string_parameters = QueryMap::from(query);
    event.path_parameters = params.clone().into_iter().collect();
    event.request_context = context;
    event.body = body;
    event.is_base64_encoded = is_base64;

    let mut value = serde_json::to_value(&event).map_err(EventError::Serialize)?;
    let Some(obj) = value.as_object_mut() else {
        return Err(EventError::Shape);
    };
    for member in AUTHORIZER_ONLY_MEMBERS {
        obj.remove(member);
    }
    if obj
        .get("stageVariables")
        .and_then(Value::as_object)
        .is_some_and(|m| m.is_empty())
    {
        obj.remove("stageVariables");
    }
    Ok(value)
}
