//! `AWS::SQS::Queue` → [`QueueSpec`]: properties become SQS attribute strings, the form
//! `CreateQueue` takes.

use std::collections::BTreeMap;

use nimbus_api::sqs::{
    MAX_DELAY_SECONDS, MAX_RECEIVE_COUNT_RANGE, MAX_VISIBILITY_SECONDS, MAX_WAIT_SECONDS,
    MESSAGE_SIZE_RANGE, RETENTION_RANGE,
};
use nimbus_api::stack::QueueSpec;

use crate::diag::{Diags, Fail, Res};
use crate::eval::Env;
use crate::props::Props;
use crate::resources::{Kind, Raw};

const OWNER: &str = "AWS::SQS::Queue";

/// Properties passed through as attributes of the same name, as strings.
const TEXT_ATTRIBUTES: &[&str] = &["DeduplicationScope", "FifoThroughputLimit"];

/// KMS bounds of `KmsDataKeyReusePeriodSeconds` (SQS's).
const KMS_REUSE_S_RANGE: (i64, i64) = (60, 86_400);

/// Reads one (enabled) queue.
pub(crate) fn build(raw: &Raw, env: &Env<'_>, diags: &mut Diags) -> Res<QueueSpec> {
    let queue_name = match env.resources.get(&raw.id) {
        Some(Kind::Queue { name }) => name.clone(),
        _ => {
            return Err(Fail::invalid(
                raw.id_pos,
                "internal error: queue not planned",
            ));
        }
    };
    let evaluated = match &raw.props {
        Some(p) => env.eval(p)?,
        None => None,
    };
    let mut p = Props::new(evaluated, OWNER, raw.id_pos)?;
    p.take("QueueName");
    let mut attributes = BTreeMap::new();
    let fifo = p.boolean("FifoQueue")?.unwrap_or(false);
    if fifo {
        attributes.insert("FifoQueue".to_string(), "true".to_string());
    }
    if let Some(entry) = p.take_entry("ContentBasedDeduplication") {
        let on = entry.value.boolean("ContentBasedDeduplication")?;
        if !fifo {
            return Err(Fail::invalid(
                entry.key_pos,
                "ContentBasedDeduplication needs FifoQueue: true",
            ));
        }
        attributes.insert(entry.key, on.to_string());
    }
    let ints: [(&str, i64, i64); 5] = [
        ("VisibilityTimeout", 0, i64::from(MAX_VISIBILITY_SECONDS)),
        (
            "MessageRetentionPeriod",
            i64::from(RETENTION_RANGE.0),
            i64::from(RETENTION_RANGE.1),
        ),
        ("DelaySeconds", 0, i64::from(MAX_DELAY_SECONDS)),
        (
            "ReceiveMessageWaitTimeSeconds",
            0,
            i64::from(MAX_WAIT_SECONDS),
        ),
        (
            "MaximumMessageSize",
            i64::from(MESSAGE_SIZE_RANGE.0),
            i64::from(MESSAGE_SIZE_RANGE.1),
        ),
    ];
    for (key, min, max) in ints {
        if let Some(v) = p.int_in(key, min, max)? {
            attributes.insert(key.to_string(), v.to_string());
        }
    }
    if let Some(v) = p.int_in(
        "KmsDataKeyReusePeriodSeconds",
        KMS_REUSE_S_RANGE.0,
        KMS_REUSE_S_RANGE.1,
    )? {
        attributes.insert("KmsDataKeyReusePeriodSeconds".into(), v.to_string());
    }
    for key in TEXT_ATTRIBUTES {
        if let Some(v) = p.text(key)? {
            attributes.insert((*key).to_string(), v);
        }
    }
    if let Some(v) = redrive_policy(&mut p, diags)? {
        attributes.insert("RedrivePolicy".into(), v);
    }
    if let Some(node) = p.take("RedriveAllowPolicy") {
        let text = match node.as_map() {
            Some(_) => node.to_json().to_string(),
            None => node.text("RedriveAllowPolicy")?,
        };
        attributes.insert("RedriveAllowPolicy".into(), text);
    }
    if let Some(entry) = p.take_entry("KmsMasterKeyId") {
        attributes.insert(entry.key.clone(), entry.value.text("KmsMasterKeyId")?);
        diags.note(
            entry.key_pos,
            "KmsMasterKeyId is recorded, but Nimbus does not encrypt messages with KMS",
        );
    }
    if let Some(on) = p.boolean("SqsManagedSseEnabled")? {
        attributes.insert("SqsManagedSseEnabled".into(), on.to_string());
    }
    let tags = tags(&mut p)?;
    p.finish(diags, &[]);
    Ok(QueueSpec {
        logical_id: raw.id.clone(),
        queue_name,
        attributes,
        tags,
    })
}

/// `RedrivePolicy: {deadLetterTargetArn, maxReceiveCount}` → its JSON text (a JSON string
/// is taken as written).
fn redrive_policy(p: &mut Props, diags: &mut Diags) -> Res<Option<String>> {
    let Some(node) = p.take("RedrivePolicy") else {
        return Ok(None);
    };
    if node.as_map().is_none() {
        return node.text("RedrivePolicy").map(Some);
    }
    let mut r = Props::new(Some(node), "RedrivePolicy", p.pos)?;
    let pos = r.pos;
    let (target, target_pos) = r
        .text_at("deadLetterTargetArn")?
        .ok_or_else(|| Fail::missing(pos, "RedrivePolicy.deadLetterTargetArn"))?;
    if nimbus_api::sqs::parse_queue_arn(&target).is_none() {
        return Err(Fail::invalid(
            target_pos,
            format!(
                "RedrivePolicy.deadLetterTargetArn '{target}' is not a queue ARN (use !GetAtt MyDLQ.Arn)"
            ),
        ));
    }
    let (min, max) = MAX_RECEIVE_COUNT_RANGE;
    let count = r
        .int_in("maxReceiveCount", i64::from(min), i64::from(max))?
        .ok_or_else(|| Fail::missing(pos, "RedrivePolicy.maxReceiveCount"))?;
    r.finish(diags, &[]);
    let json = serde_json::json!({
        "deadLetterTargetArn": target,
        "maxReceiveCount": count,
    });
    Ok(Some(json.to_string()))
}

/// `Tags: [{Key, Value}, …]`.
fn tags(p: &mut Props) -> Res<BTreeMap<String, String>> {
    let Some(node) = p.take("Tags") else {
        return Ok(BTreeMap::new());
    };
    let mut tags = BTreeMap::new();
    for item in node.list("Tags")? {
        let map = item.map("a tag")?;
        let key = map
            .get("Key")
            .ok_or_else(|| Fail::missing(item.pos, "Tags[].Key"))?
            .text("Tags[].Key")?;
        let value = map
            .get("Value")
            .ok_or_else(|| Fail::missing(item.pos, "Tags[].Value"))?
            .text("Tags[].Value")?;
        tags.insert(key, value);
    }
    Ok(tags)
}
