//! `AWS::CloudWatch::Alarm` → [`AlarmSpec`], for the alarms Nimbus can evaluate on its own
//! metrics: one `AWS/Lambda` metric, a plain statistic, a static threshold. Any other
//! alarm is skipped with a warning (it can then not roll a deployment back).

use nimbus_api::stack::AlarmSpec;

use crate::diag::{Diags, Fail, Pos, Res};
use crate::eval::Env;
use crate::props::{Known, Props};
use crate::resources::{Kind, Raw};

const OWNER: &str = "AWS::CloudWatch::Alarm";

/// The namespace of Lambda's metrics, the only one Nimbus produces.
const LAMBDA_NAMESPACE: &str = "AWS/Lambda";

/// Lambda metrics Nimbus counts.
const METRICS: &[&str] = &["Errors", "Throttles", "Invocations", "Duration"];

/// Plain statistics.
const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

/// Static-threshold comparisons.
const COMPARISONS: &[&str] = &[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];

/// Shortest `Period` CloudWatch accepts (high-resolution alarms).
const PERIOD_S_MIN: i64 = 10;

/// Properties recognised and not used.
const KNOWN: &[(&str, Known)] = &[
    (
        "ActionsEnabled",
        Known::Note("has no effect: Nimbus sends no alarm notifications"),
    ),
    (
        "AlarmActions",
        Known::Note("has no effect: Nimbus sends no alarm notifications"),
    ),
    (
        "OKActions",
        Known::Note("has no effect: Nimbus sends no alarm notifications"),
    ),
    (
        "InsufficientDataActions",
        Known::Note("has no effect: Nimbus sends no alarm notifications"),
    ),
    ("Unit", Known::Note("has no effect")),
    ("Tags", Known::Note("has no effect")),
    (
        "EvaluateLowSampleCountPercentile",
        Known::Note("has no effect"),
    ),
    (
        "TreatMissingData",
        Known::Warn("is not supported, ignored: missing data does not breach"),
    ),
    (
        "DatapointsToAlarm",
        Known::Warn("is not supported, ignored: every evaluation period must breach"),
    ),
];

/// Reads one (enabled) alarm; `None` (with a warning) when Nimbus cannot evaluate it.
pub(crate) fn build(raw: &Raw, env: &Env<'_>, diags: &mut Diags) -> Res<Option<AlarmSpec>> {
    let alarm_name = match env.resources.get(&raw.id) {
        Some(Kind::Alarm { name }) => name.clone(),
        _ => {
            return Err(Fail::invalid(
                raw.id_pos,
                "internal error: alarm not planned",
            ));
        }
    };
    let evaluated = match &raw.props {
        Some(p) => env.eval(p)?,
        None => None,
    };
    let mut p = Props::new(evaluated, OWNER, raw.id_pos)?;
    p.take("AlarmName");
    p.take("AlarmDescription");
    let skip = |diags: &mut Diags, pos: Pos, why: String| {
        diags.warn(pos, format!("alarm '{}' is skipped: {why}", raw.id));
        Ok(None)
    };
    for unsupported in ["Metrics", "ExtendedStatistic", "ThresholdMetricId"] {
        if let Some(e) = p.take_entry(unsupported) {
            return skip(diags, e.key_pos, format!("{unsupported} is not supported"));
        }
    }
    let pos = p.pos;
    let (namespace, ns_pos) = p
        .text_at("Namespace")?
        .ok_or_else(|| Fail::missing(pos, format!("{OWNER}: Namespace")))?;
    if namespace != LAMBDA_NAMESPACE {
        return skip(
            diags,
            ns_pos,
            format!(
                "namespace '{namespace}' is not evaluated (Nimbus has only {LAMBDA_NAMESPACE} metrics)"
            ),
        );
    }
    let (metric_name, metric_pos) = p
        .text_at("MetricName")?
        .ok_or_else(|| Fail::missing(pos, format!("{OWNER}: MetricName")))?;
    if !METRICS.contains(&metric_name.as_str()) {
        return skip(
            diags,
            metric_pos,
            format!(
                "metric '{metric_name}' is not one Nimbus counts ({})",
                METRICS.join(", ")
            ),
        );
    }
    let (function_name, resource) = dimensions(&mut p, diags)?;
    let statistic = one_of(&mut p, "Statistic", STATISTICS)?;
    let comparison_operator = one_of(&mut p, "ComparisonOperator", COMPARISONS)?;
    let period = required_int(&mut p, "Period", PERIOD_S_MIN)?;
    let evaluation_periods = required_int(&mut p, "EvaluationPeriods", 1)?;
    let threshold = p
        .number("Threshold")?
        .ok_or_else(|| Fail::missing(pos, format!("{OWNER}: Threshold")))?;
    p.finish(diags, KNOWN);
    Ok(Some(AlarmSpec {
        logical_id: raw.id.clone(),
        alarm_name,
        metric_name,
        function_name,
        resource,
        statistic,
        period,
        evaluation_periods,
        threshold,
        comparison_operator,
    }))
}

fn one_of(p: &mut Props, key: &str, allowed: &[&str]) -> Res<String> {
    let pos = p.pos;
    let (v, vpos) = p
        .text_at(key)?
        .ok_or_else(|| Fail::missing(pos, format!("{OWNER}: {key}")))?;
    if !allowed.contains(&v.as_str()) {
        return Err(Fail::invalid(
            vpos,
            format!("{key} '{v}' is not one of: {}", allowed.join(", ")),
        ));
    }
    Ok(v)
}

fn required_int(p: &mut Props, key: &str, min: i64) -> Res<i64> {
    let pos = p.pos;
    p.int_in(key, min, i64::MAX)?
        .ok_or_else(|| Fail::missing(pos, format!("{OWNER}: {key}")))
}

/// `Dimensions: [{Name: FunctionName | Resource, Value}]`.
fn dimensions(p: &mut Props, diags: &mut Diags) -> Res<(Option<String>, Option<String>)> {
    let (mut function_name, mut resource) = (None, None);
    let Some(node) = p.take("Dimensions") else {
        return Ok((None, None));
    };
    for item in node.list("Dimensions")? {
        let map = item.map("a dimension")?;
        let name = map
            .get("Name")
            .ok_or_else(|| Fail::missing(item.pos, "Dimensions[].Name"))?
            .text("Dimensions[].Name")?;
        let value = map
            .get("Value")
            .ok_or_else(|| Fail::missing(item.pos, "Dimensions[].Value"))?
            .text("Dimensions[].Value")?;
        match name.as_str() {
            "FunctionName" => function_name = Some(value),
            "Resource" => resource = Some(value),
            other => diags.warn(
                item.pos,
                format!(
                    "dimension '{other}' is not supported, ignored (FunctionName and Resource are)"
                ),
            ),
        }
    }
    Ok((function_name, resource))
}
