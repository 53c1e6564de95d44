//! Payload format 1.0: the REST API proxy event (also HTTP APIs configured for 1.0).
//!
//! The event is produced with `aws_lambda_events`' `ApiGatewayProxyRequest`, so its shape is
//! the one the official Rust runtime reads, then serialised and adjusted where that type
//! cannot say what API Gateway sends:
//! * `headers` / `multiValueHeaders` keep the header names' case as received (the type's
//!   `HeaderMap` lower-cases them) and the single-value map holds a repeated header's *last*
//!   value, as API Gateway's does;
//! * `queryStringParameters` likewise holds the last value of a repeated parameter;
//! * absent maps are `null`, not `{}` (API Gateway sends `null`);
//! * `requestContext.extendedRequestId` (REST) and `version: "1.0"` (HTTP APIs) are added.

use std::collections::{BTreeMap, HashMap};

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyRequestContext};
use aws_lambda_events::query_map::QueryMap;
use serde_json::{Map, Value};

use crate::EventError;
use crate::request::{
    EventContext, HttpRequest, encode_body, format_request_time, header_groups, query_groups,
};
use crate::routes::{ApiKind, Route};

/// Builds the 1.0 event for `req` reaching `route` with `params`.
pub fn build_v1(
    req: &HttpRequest,
    route: &Route,
    params: &BTreeMap<String, String>,
    ctx: &EventContext,
) -> Result<Value, EventError> {
    let method = crate::method(&req.method)?;
    let headers = header_groups(&req.headers);
    let query = query_groups(&req.raw_query);
    let (body, is_base64) = encode_body(req);

    let mut context = ApiGatewayProxyRequestContext::default();
    context.account_id = Some(ctx.account_id.clone());
    context.resource_id = match route.api {
        ApiKind::Rest => Some(crate::short_id(&route.route_key, RESOURCE_ID_CHARS)),
        ApiKind::Http { .. } => None,
    };
    context.stage = Some(route.api.stage().to_string());
    context.domain_name = Some(ctx.domain_name.clone());
    context.domain_prefix = Some(ctx.domain_prefix.clone());
    context.request_id = Some(ctx.request_id.clone());
    context.protocol = Some(req.protocol.clone());
    context.identity.source_ip = Some(req.source_ip.clone());
    context.identity.user_agent = req.header("user-agent").map(str::to_string);
    context.resource_path = Some(route.path.clone());
    // A REST API's path as seen from its execute-api domain includes the stage.
    context.path = Some(match route.api {
        ApiKind::Rest => format!("/{}{}", route.api.stage(), req.raw_path),
        ApiKind::Http { .. } => req.raw_path.clone(),
    });
    context.http_method = method.clone();
    context.request_time = Some(format_request_time(req.time_epoch_ms));
    context.request_time_epoch = req.time_epoch_ms;
    context.apiid = Some(ctx.api_id.clone());

    let mut event = ApiGatewayProxyRequest::default();
    event.resource = Some(route.path.clone());
    event.path = Some(req.raw_path.clone());
    event.http_method = method;
    event.headers = crate::header_map(&headers, Join::Last);
    event.multi_value_headers = crate::header_map(&headers, Join::All);
    let query_map: HashMap<String, Vec<String>> = query.iter().cloned().collect();
    event.query_string_parameters = QueryMap::from(query_map.clone());
    event.multi_value_query_string_parameters = QueryMap::from(query_map);
    event.path_parameters = params.clone().into_iter().collect();
    event.request_context = context;
    event.body = body;
    event.is_base64_encoded = is_base64;

    let mut value = serde_json::to_value(&event).map_err(EventError::Serialize)?;
    let Some(obj) = value.as_object_mut() else {
        return Err(EventError::Shape);
    };
    obj.insert(
        "headers".into(),
        map_or_null(headers.iter().map(|(n, v)| (n, last(v)))),
    );
    obj.insert(
        "multiValueHeaders".into(),
        map_or_null(headers.iter().map(|(n, v)| (n, strings(v)))),
    );
    obj.insert(
        "queryStringParameters".into(),
        map_or_null(query.iter().map(|(n, v)| (n, last(v)))),
    );
    obj.insert(
        "multiValueQueryStringParameters".into(),
        map_or_null(query.iter().map(|(n, v)| (n, strings(v)))),
    );
    obj.insert(
        "pathParameters".into(),
        map_or_null(params.iter().map(|(n, v)| (n, Value::String(v.clone())))),
    );
    obj.insert("stageVariables".into(), Value::Null);
    match route.api {
        ApiKind::Rest => {
            if let Some(rc) = obj.get_mut("requestContext").and_then(Value::as_object_mut) {
                rc.insert(
                    "extendedRequestId".into(),
                    Value::String(ctx.request_id.clone()),
                );
            }
        }
        ApiKind::Http { .. } => {
            obj.insert("version".into(), Value::String("1.0".into()));
        }
    }
    Ok(value)
}

/// Characters of a REST API resource id (API Gateway's are 6, e.g. `roq9wj`).
const RESOURCE_ID_CHARS: usize = 6;

/// How a repeated header folds into one `HeaderMap` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Join {
    /// Every value as its own entry.
    All,
    /// Only the last value.
    Last,
    /// One value, the values joined with `,`.
    Comma,
}

fn last(values: &[String]) -> Value {
    Value::String(values.last().cloned().unwrap_or_default())
}

fn strings(values: &[String]) -> Value {
    Value::Array(values.iter().cloned().map(Value::String).collect())
}

fn map_or_null<'a>(entries: impl Iterator<Item = (&'a String, Value)>) -> Value {
    let map: Map<String, Value> = entries.map(|(k, v)| (k.clone(), v)).collect();
    if map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    }
}
