//! A function's `Events` → [`EventSpec`]s: `Api`, `HttpApi`, `SQS`, `Schedule` and
//! `ScheduleV2`. Every other type is warned about and skipped.

use nimbus_api::stack::{EventSource, EventSpec};

use crate::ast::Node;
use crate::diag::{Diags, Fail, Res};
use crate::props::{Known, Props};
use crate::schedule;

/// Event types SAM has and Nimbus does not wire up (yet).
const UNSUPPORTED_TYPES: &[&str] = &[
    "S3",
    "SNS",
    "Kinesis",
    "DynamoDB",
    "EventBridgeRule",
    "CloudWatchEvent",
    "CloudWatchLogs",
    "IoTRule",
    "AlexaSkill",
    "Cognito",
    "MSK",
    "MQ",
    "SelfManagedKafka",
    "DocumentDB",
];

/// HTTP methods a route may name (`ANY` matches all).
const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

/// `PayloadFormatVersion` values of HTTP API integrations.
const PAYLOAD_FORMATS: &[&str] = &["1.0", "2.0"];

/// The payload format HTTP APIs use unless told otherwise.
const DEFAULT_PAYLOAD_FORMAT: &str = "2.0";

/// Bounds of the SQS mapping settings (Lambda's).
const SQS_BATCH_SIZE_RANGE: (i64, i64) = (1, 10_000);
const SQS_BATCHING_WINDOW_S_RANGE: (i64, i64) = (0, 300);
const SQS_MAX_CONCURRENCY_RANGE: (i64, i64) = (2, 1_000);

/// The one `FunctionResponseTypes` value.
const REPORT_BATCH_ITEM_FAILURES: &str = "ReportBatchItemFailures";

/// Reads the resolved `Events` map; the result is sorted by event name.
pub(crate) fn build(events: Node, diags: &mut Diags) -> Res<Vec<EventSpec>> {
    let map = events.into_map("Events")?;
    let mut out = Vec::new();
    for entry in map.entries {
        let owner = format!("event '{}'", entry.key);
        entry.value.map(&owner)?;
        let mut event = Props::new(Some(entry.value), &owner, entry.key_pos)?;
        let pos = event.pos;
        let kind = event
            .text("Type")?
            .ok_or_else(|| Fail::missing(pos, format!("{owner}: Type")))?;
        let props = event.take("Properties");
        let props_pos = props.as_ref().map_or(pos, |n| n.pos);
        event.finish(diags, &[]);
        let mut p = Props::new(props, &format!("{kind} {owner}"), props_pos)?;
        p.take("Description");
        let source = match kind.as_str() {
            "Api" => api(&mut p)?,
            "HttpApi" => http_api(&mut p)?,
            "SQS" => sqs(&mut p, diags)?,
            "Schedule" => schedule_v1(&mut p)?,
            "ScheduleV2" => schedule_v2(&mut p)?,
            t if UNSUPPORTED_TYPES.contains(&t) => {
                diags.warn(
                    entry.key_pos,
                    format!(
                        "event '{}': type {t} is not supported yet, ignored",
                        entry.key
                    ),
                );
                continue;
            }
            t => {
                diags.warn(
                    entry.key_pos,
                    format!("event '{}': unknown event type '{t}', ignored", entry.key),
                );
                continue;
            }
        };
        p.finish(diags, known_for(&kind));
        out.push(EventSpec {
            name: entry.key,
            source,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// What each event type's ignored properties mean.
fn known_for(kind: &str) -> &'static [(&'static str, Known)] {
    match kind {
        "Api" => &[
            (
                "Stage",
                Known::Note("has no effect: routes are served without a stage prefix"),
            ),
            (
                "TimeoutInMillis",
                Known::Note("has no effect: the function's Timeout applies"),
            ),
            (
                "Auth",
                Known::Warn("is not supported, ignored: the route is not authorized"),
            ),
            (
                "RequestModel",
                Known::Warn("is not supported, ignored: requests are not validated"),
            ),
            (
                "RequestParameters",
                Known::Warn("is not supported, ignored"),
            ),
        ],
        "HttpApi" => &[
            (
                "TimeoutInMillis",
                Known::Note("has no effect: the function's Timeout applies"),
            ),
            (
                "Auth",
                Known::Warn("is not supported, ignored: the route is not authorized"),
            ),
            ("RouteSettings", Known::Warn("is not supported, ignored")),
        ],
        "SQS" => &[
            (
                "FilterCriteria",
                Known::Warn("is not supported, ignored: every message is delivered"),
            ),
            ("KmsKeyArn", Known::Note("has no effect")),
            ("MetricsConfig", Known::Note("has no effect")),
        ],
        "Schedule" => &[
            (
                "Name",
                Known::Note("has no effect: the rule is named after the function and event"),
            ),
            ("DeadLetterConfig", Known::Warn("is not supported, ignored")),
            ("RetryPolicy", Known::Warn("is not supported, ignored")),
        ],
        "ScheduleV2" => &[
            (
                "Name",
                Known::Note("has no effect: the schedule is named after the function and event"),
            ),
            ("GroupName", Known::Note("has no effect")),
            (
                "RoleArn",
                Known::Note("has no effect: Nimbus has no IAM engine"),
            ),
            (
                "PermissionsBoundary",
                Known::Note("has no effect: Nimbus has no IAM engine"),
            ),
            ("OmitName", Known::Note("has no effect")),
            (
                "FlexibleTimeWindow",
                Known::Warn("is not supported, ignored: schedules fire on time"),
            ),
            ("StartDate", Known::Warn("is not supported, ignored")),
            ("EndDate", Known::Warn("is not supported, ignored")),
            ("DeadLetterConfig", Known::Warn("is not supported, ignored")),
            ("RetryPolicy", Known::Warn("is not supported, ignored")),
            ("KmsKeyArn", Known::Note("has no effect")),
        ],
        _ => &[],
    }
}

/// `Path` must start with `/`.
fn path(p: &mut Props) -> Res<Option<String>> {
    match p.text_at("Path")? {
        Some((path, _)) if path.starts_with('/') => Ok(Some(path)),
        Some((path, pos)) => Err(Fail::invalid(
            pos,
            format!("Path '{path}' must start with '/'"),
        )),
        None => Ok(None),
    }
}

/// `Method` in any case → upper case (`any` → `ANY`).
fn method(p: &mut Props) -> Res<Option<String>> {
    match p.text_at("Method")? {
        Some((m, pos)) => {
            let upper = m.to_ascii_uppercase();
            if METHODS.contains(&upper.as_str()) {
                Ok(Some(upper))
            } else {
                Err(Fail::invalid(
                    pos,
                    format!("Method '{m}' is not one of {}", METHODS.join(", ")),
                ))
            }
        }
        None => Ok(None),
    }
}

fn api(p: &mut Props) -> Res<EventSource> {
    // The API it names (already resolved, so it exists) shares the one gateway.
    p.take("RestApiId");
    let pos = p.pos;
    let path = path(p)?.ok_or_else(|| Fail::missing(pos, "Api event: Path"))?;
    let method = method(p)?.ok_or_else(|| Fail::missing(pos, "Api event: Method"))?;
    Ok(EventSource::Api { path, method })
}

/// Without `Path` and `Method`: the catch-all (`$default`) route.
fn http_api(p: &mut Props) -> Res<EventSource> {
    // The API it names (already resolved, so it exists) shares the one gateway.
    p.take("ApiId");
    let path = path(p)?;
    let method_pos = p.pos;
    let method = method(p)?;
    let method = match (&path, method) {
        (Some(_), None) => Some("ANY".to_string()),
        (None, Some(_)) => {
            return Err(Fail::invalid(
                method_pos,
                "an HttpApi event with a Method needs a Path",
            ));
        }
        (_, m) => m,
    };
    let payload_format_version = match p.text_at("PayloadFormatVersion")? {
        Some((v, _)) if PAYLOAD_FORMATS.contains(&v.as_str()) => v,
        Some((v, pos)) => {
            return Err(Fail::invalid(
                pos,
                format!("PayloadFormatVersion '{v}' is not 1.0 or 2.0 (quote it: \"2.0\")"),
            ));
        }
        None => DEFAULT_PAYLOAD_FORMAT.to_string(),
    };
    Ok(EventSource::HttpApi {
        path,
        method,
        payload_format_version,
    })
}

fn sqs(p: &mut Props, diags: &mut Diags) -> Res<EventSource> {
    let pos = p.pos;
    let (queue_arn, queue_pos) = p
        .text_at("Queue")?
        .ok_or_else(|| Fail::missing(pos, "SQS event: Queue"))?;
    if nimbus_api::sqs::parse_queue_arn(&queue_arn).is_none() {
        return Err(Fail::invalid(
            queue_pos,
            format!("Queue '{queue_arn}' is not an SQS queue ARN (use !GetAtt MyQueue.Arn)"),
        ));
    }
    let (b_min, b_max) = SQS_BATCH_SIZE_RANGE;
    let (w_min, w_max) = SQS_BATCHING_WINDOW_S_RANGE;
    let batch_size = p.int_in("BatchSize", b_min, b_max)?;
    let maximum_batching_window_in_seconds =
        p.int_in("MaximumBatchingWindowInSeconds", w_min, w_max)?;
    let enabled = p.boolean("Enabled")?.unwrap_or(true);
    let function_response_types = match p.take("FunctionResponseTypes") {
        Some(node) => {
            let types = node.texts("FunctionResponseTypes")?;
            if types.iter().any(|t| t != REPORT_BATCH_ITEM_FAILURES) {
                return Err(Fail::invalid(
                    node.pos,
                    format!("FunctionResponseTypes may only contain {REPORT_BATCH_ITEM_FAILURES}"),
                ));
            }
            types
        }
        None => Vec::new(),
    };
    let mut maximum_concurrency = None;
    if let Some(mut scaling) = p.map("ScalingConfig")? {
        let (c_min, c_max) = SQS_MAX_CONCURRENCY_RANGE;
        maximum_concurrency = scaling.int_in("MaximumConcurrency", c_min, c_max)?;
        scaling.finish(diags, &[]);
    }
    Ok(EventSource::Sqs {
        queue_arn,
        batch_size,
        maximum_batching_window_in_seconds,
        enabled,
        function_response_types,
        maximum_concurrency,
    })
}

/// `Input`: JSON text.
fn input(p: &mut Props) -> Res<Option<String>> {
    match p.text_at("Input")? {
        Some((text, pos)) => {
            if serde_json::from_str::<serde_json::Value>(&text).is_err() {
                return Err(Fail::invalid(pos, "Input must be JSON text"));
            }
            Ok(Some(text))
        }
        None => Ok(None),
    }
}

/// `State: ENABLED | DISABLED` → enabled.
fn state(p: &mut Props) -> Res<Option<bool>> {
    match p.text_at("State")? {
        Some((s, _)) if s == "ENABLED" => Ok(Some(true)),
        Some((s, _)) if s == "DISABLED" => Ok(Some(false)),
        Some((s, pos)) => Err(Fail::invalid(
            pos,
            format!("State '{s}' is not ENABLED or DISABLED"),
        )),
        None => Ok(None),
    }
}

fn schedule_v1(p: &mut Props) -> Res<EventSource> {
    let pos = p.pos;
    let (expression, expr_pos) = p
        .text_at("Schedule")?
        .ok_or_else(|| Fail::missing(pos, "Schedule event: Schedule"))?;
    schedule::check(&expression, false).map_err(|why| Fail::invalid(expr_pos, why))?;
    let input = input(p)?;
    let enabled_pos = p.pos;
    let enabled = match (p.boolean("Enabled")?, state(p)?) {
        (Some(_), Some(_)) => {
            return Err(Fail::invalid(
                enabled_pos,
                "a Schedule event takes Enabled or State, not both",
            ));
        }
        (Some(e), None) | (None, Some(e)) => e,
        (None, None) => true,
    };
    Ok(EventSource::Schedule {
        expression,
        timezone: None,
        input,
        enabled,
        v2: false,
    })
}

fn schedule_v2(p: &mut Props) -> Res<EventSource> {
    let pos = p.pos;
    let (expression, expr_pos) = p
        .text_at("ScheduleExpression")?
        .ok_or_else(|| Fail::missing(pos, "ScheduleV2 event: ScheduleExpression"))?;
    schedule::check(&expression, true).map_err(|why| Fail::invalid(expr_pos, why))?;
    let timezone = p.text("ScheduleExpressionTimezone")?;
    let input = input(p)?;
    let enabled = state(p)?.unwrap_or(true);
    Ok(EventSource::Schedule {
        expression,
        timezone,
        input,
        enabled,
        v2: true,
    })
}
