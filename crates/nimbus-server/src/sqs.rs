//! The SQS-compatible API on `POST /` (AWS JSON 1.0, `X-Amz-Target: AmazonSQS.<Op>`), as
//! current boto3 and the AWS CLI speak it. Parsing and error shapes are in
//! [`nimbus_api::sqs`]; semantics are in [`nimbus_queues::Queues`].

use std::collections::{BTreeMap, BTreeSet};

use crate::AppState;
use crate::body::{BodyError, read_limited};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use nimbus_api::sqs::{self, MessageAttributeValue, SqsAction, SqsError, SqsErrorCode};
use nimbus_queues::{Queues, ReceiveOptions, Received, SendEntry};
use serde::de::DeserializeOwned;

/// Largest request body: a batch of ten messages whose total is at most 1 MiB of text, with
/// room for JSON escaping (a control character becomes six bytes).
const SQS_BODY_BYTES_MAX: usize = 8 * 1024 * 1024;

/// ListQueues returns at most this many URLs without MaxResults (as SQS does).
const LIST_QUEUES_DEFAULT: u32 = 1_000;

const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

fn error_response(e: &SqsError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (status, e.body()).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(&e.query_error()) {
        h.insert("x-amzn-query-error", v);
    }
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

fn ok<T: serde::Serialize>(value: &T) -> Response {
    let mut resp = (
        StatusCode::OK,
        serde_json::to_vec(value).unwrap_or_default(),
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, SqsError> {
    let bytes = if bytes.is_empty() {
        b"{}" as &[u8]
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| {
        SqsError::new(
            SqsErrorCode::MalformedJson,
            format!("The request body could not be parsed: {e}"),
        )
    })
}

/// `true` when `POST /` carries an SQS target (the Logs API shares the path).
pub(crate) fn is_sqs(headers: &HeaderMap) -> bool {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with(sqs::TARGET_PREFIX))
}

/// The base of queue URLs: the listener as the client reached it.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("localhost");
    format!("http://{host}")
}

pub(crate) async fn dispatch(p: AppState, headers: HeaderMap, body: Body) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let Some(action) = SqsAction::from_target(&target) else {
        return error_response(&SqsError::new(
            SqsErrorCode::InvalidAction,
            format!("The action {target} is not valid for this endpoint."),
        ));
    };
    let bytes = match read_limited(&headers, body, SQS_BODY_BYTES_MAX).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return error_response(&SqsError::new(
                SqsErrorCode::InvalidParameterValue,
                format!("The request is larger than {SQS_BODY_BYTES_MAX} bytes."),
            ));
        }
        Err(BodyError::Broken | BodyError::TimedOut) => {
            return error_response(&SqsError::new(
                SqsErrorCode::MalformedJson,
                "The request body could not be read.",
            ));
        }
    };
    let api = Api {
        queues: p.queues(),
        base: base_url(&headers),
        http_trace: http_trace(&headers),
    };
    let span = tracing::debug_span!("sqs", action = action.name());
    let _enter = span.enter();
    match api.run(action, &bytes).await {
        Ok(resp) => resp,
        Err(e) => {
            if e.status() >= 500 {
                tracing::error!(action = action.name(), error = %e, "sqs request failed");
            }
            error_response(&e)
        }
    }
}

struct Api<'a> {
    queues: &'a Queues,
    base: String,
    /// The request's `X-Amzn-Trace-Id`: the `AWSTraceHeader` of every message it sends that
    /// does not carry its own (the system attribute wins, as SQS documents).
    http_trace: Option<String>,
}

/// A well-formed `X-Amzn-Trace-Id` of the request, normalised; garbage is ignored.
fn http_trace(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-amzn-trace-id").and_then(|v| v.to_str().ok());
    nimbus_api::trace::TraceHeader::parse_lenient(value).map(|t| t.to_string())
}

fn batch_error(id: &str, e: &SqsError) -> sqs::BatchResultErrorEntry {
    sqs::BatchResultErrorEntry::from_error(id, e)
}

fn u32_field(value: Option<i64>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok())
}

impl Api<'_> {
    fn url(&self, name: &str) -> String {
        sqs::queue_url(&self.base, self.queues.account(), name)
    }

    /// The queue a URL names; another account's queue does not exist here.
    fn queue_name(&self, url: &str) -> Result<String, SqsError> {
        let (account, name) = sqs::parse_queue_url(url)?;
        if account != self.queues.account() {
            return Err(SqsError::new(
                SqsErrorCode::QueueDoesNotExist,
                "The specified queue does not exist.",
            ));
        }
        Ok(name)
    }

    async fn run(&self, action: SqsAction, bytes: &[u8]) -> Result<Response, SqsError> {
        match action {
            SqsAction::CreateQueue => {
                let req: sqs::CreateQueueRequest = parse(bytes)?;
                req.validate()?;
                let q = self
                    .queues
                    .create(
                        &req.queue_name,
                        &req.attributes.unwrap_or_default(),
                        &req.tags.unwrap_or_default(),
                    )
                    .await?;
                Ok(ok(&sqs::CreateQueueResponse {
                    queue_url: self.url(&q.name),
                }))
            }
            SqsAction::GetQueueUrl => {
                let req: sqs::GetQueueUrlRequest = parse(bytes)?;
                req.validate()?;
                if let Some(owner) = &req.queue_owner_aws_account_id
                    && owner != self.queues.account()
                {
                    return Err(SqsError::new(
                        SqsErrorCode::QueueDoesNotExist,
                        "The specified queue does not exist.",
                    ));
                }
                let q = self.queues.get(&req.queue_name).await?;
                Ok(ok(&sqs::GetQueueUrlResponse {
                    queue_url: self.url(&q.name),
                }))
            }
            SqsAction::ListQueues => {
                let req: sqs::ListQueuesRequest = parse(bytes)?;
                self.list_queues(req).await
            }
            SqsAction::GetQueueAttributes => {
                let req: sqs::GetQueueAttributesRequest = parse(bytes)?;
                req.validate()?;
                let name = self.queue_name(&req.queue_url)?;
                let wanted =
                    sqs::wanted_queue_attribute_names(&req.attribute_names.unwrap_or_default())?;
                let all = self.queues.attributes(&name).await?;
                let attributes = match wanted {
                    None => all,
                    Some(names) => all.into_iter().filter(|(k, _)| names.contains(k)).collect(),
                };
                Ok(ok(&sqs::GetQueueAttributesResponse { attributes }))
            }
            SqsAction::SetQueueAttributes => {
                let req: sqs::SetQueueAttributesRequest = parse(bytes)?;
                req.validate()?;
                let name = self.queue_name(&req.queue_url)?;
                self.queues.set_attributes(&name, &req.attributes).await?;
                Ok(ok(&serde_json::json!({})))
            }
            SqsAction::DeleteQueue => {
                let req: sqs::QueueUrlRequest = parse(bytes)?;
                req.validate()?;
                let name = self.queue_name(&req.queue_url)?;
                self.queues.delete_queue(&name).await?;
                Ok(ok(&serde_json::json!({})))
            }
            SqsAction::PurgeQueue => {
                let req: sqs::QueueUrlRequest = parse(bytes)?;
                req.validate()?;
                let name = self.queue_name(&req.queue_url)?;
                self.queues.purge(&name).await?;
                Ok(ok(&serde_json::json!({})))
            }
            SqsAction::TagQueue => {
                let req: sqs::TagQueueRequest = parse(bytes)?;
                req.validate()?;
                let name = self.queue_name(&req.queue_url)?;
                self.queues.retag(&name, &req.tags, &[]).await?;
                Ok(ok(&serde_json::json!({})))
            }
            SqsAction::UntagQueue => {
                let req: sqs::UntagQueueRequest = parse(bytes)?;
                req.validate()?;
                let name = self.queue_name(&req.queue_url)?;
                self.queues
                    .retag(&name, &BTreeMap::new(), &req.tag_keys)
                    .await?;
                Ok(ok(&serde_json::json!({})))
            }
            SqsAction::ListQueueTags => {
                let req: sqs::QueueUrlRequest = parse(bytes)?;
                req.validate()?;
                let name = self.queue_name(&req.queue_url)?;
                let q = self.queues.get(&name).await?;
                Ok(ok(&sqs::ListQueueTagsResponse { tags: q.tags }))
            }
            SqsAction::ListDeadLetterSourceQueues => {
                let req: sqs::QueueUrlRequest = parse(bytes)?;
                req.validate()?;
                let name = self.queue_name(&req.queue_url)?;
                let target = self.queues.get(&name).await?;
                let mut urls = Vec::new();
                let mut after: Option<String> = None;
                loop {
                    let page = self
                        .queues
                        .list("", after.as_deref(), LIST_QUEUES_DEFAULT)
                        .await?;
                    let Some(last) = page.last().map(|q| q.name.clone()) else {
                        break;
                    };
                    for q in &page {
                        if q.attributes
                            .redrive_policy
                            .as_ref()
                            .is_some_and(|r| r.dead_letter_target_arn == target.arn)
                        {
                            urls.push(self.url(&q.name));
                        }
                    }
                    after = Some(last);
                }
                Ok(ok(&sqs::ListDeadLetterSourceQueuesResponse {
                    queue_urls: urls,
                    next_token: None,
                }))
            }
            SqsAction::SendMessage => {
                let req: sqs::SendMessageRequest = parse(bytes)?;
                req.validate()?;
                let name = self.queue_name(&req.queue_url)?;
                let md5_system = req
                    .message_system_attributes
                    .as_ref()
                    .and_then(sqs::md5_of_message_attributes);
                let mut entry = send_entry(
                    req.message_body,
                    req.delay_seconds,
                    req.message_attributes,
                    req.message_system_attributes,
                    req.message_group_id,
                    req.message_deduplication_id,
                )?;
                entry.trace_header = entry.trace_header.or_else(|| self.http_trace.clone());
                let mut results = self.queues.send(&name, &[entry]).await?;
                let sent = results.pop().ok_or_else(|| {
                    SqsError::new(SqsErrorCode::InternalError, "no result for the message")
                })??;
                Ok(ok(&sqs::SendMessageResponse {
                    message_id: sent.message_id,
                    md5_of_message_body: sent.md5_body,
                    md5_of_message_attributes: sent.md5_attributes,
                    md5_of_message_system_attributes: md5_system,
                    sequence_number: sent.sequence_number,
                }))
            }
            SqsAction::SendMessageBatch => {
                let req: sqs::SendMessageBatchRequest = parse(bytes)?;
                req.validate()?;
                let name = self.queue_name(&req.queue_url)?;
                sqs::validate_batch_ids(req.entries.iter().map(|e| e.id.as_str()))?;
                // The batch total has SQS's fixed 1 MiB limit; each message is checked
                // against the queue's MaximumMessageSize by the engine.
                let total: usize = req.entries.iter().map(|e| e.message_body.len()).sum();
                sqs::check_batch_size(total, sqs::MESSAGE_SIZE_RANGE.1)?;
                let mut failed = Vec::new();
                let mut ids = Vec::new();
                let mut entries = Vec::new();
                for e in req.entries {
                    if let Err(err) = e.validate() {
                        failed.push(batch_error(&e.id, &err));
                        continue;
                    }
                    let md5_system = e
                        .message_system_attributes
                        .as_ref()
                        .and_then(sqs::md5_of_message_attributes);
                    match send_entry(
                        e.message_body,
                        e.delay_seconds,
                        e.message_attributes,
                        e.message_system_attributes,
                        e.message_group_id,
                        e.message_deduplication_id,
                    ) {
                        Ok(mut entry) => {
                            entry.trace_header =
                                entry.trace_header.or_else(|| self.http_trace.clone());
                            ids.push((e.id, md5_system));
                            entries.push(entry);
                        }
                        Err(err) => failed.push(batch_error(&e.id, &err)),
                    }
                }
                let results = self.queues.send(&name, &entries).await?;
                let mut successful = Vec::new();
                for ((id, md5_system), result) in ids.into_iter().zip(results) {
                    match result {
                        Ok(sent) => successful.push(sqs::SendMessageBatchResultEntry {
                            id,
                            message_id: sent.message_id,
                            md5_of_message_body: sent.md5_body,
                            md5_of_message_attributes: sent.md5_attributes,
                            md5_of_message_system_attributes: md5_system,
                            sequence_number: sent.sequence_number,
                        }),
                        Err(err) => failed.push(batch_error(&id, &err)),
                    }
                }
                Ok(ok(&sqs::SendMessageBatchResponse { successful, failed }))
            }
            SqsAction::ReceiveMessage => {
                let req: sqs::ReceiveMessageRequest = parse(bytes)?;
                req.validate()?;
                sqs::validate_receive(&req)?;
                let name = self.queue_name(&req.queue_url)?;
                let options = ReceiveOptions {
                    max: u32_field(req.max_number_of_messages).unwrap_or(1),
                    visibility_s: u32_field(req.visibility_timeout),
                    wait_s: u32_field(req.wait_time_seconds),
                };
                let got = self
                    .queues
                    .receive_attempt(&name, options, req.receive_request_attempt_id.as_deref())
                    .await?;
                // `None`: all system attributes.
                let system = sqs::wanted_system_attributes(&req);
                let filter = sqs::wanted_message_attributes(
                    req.message_attribute_names.as_deref().unwrap_or_default(),
                );
                let messages = got
                    .into_iter()
                    .map(|m| wire_message(m, system.as_ref(), &filter))
                    .collect();
                Ok(ok(&sqs::ReceiveMessageResponse { messages }))
            }
            SqsAction::DeleteMessage => {
                let req: sqs::DeleteMessageRequest = parse(bytes)?;
                req.validate()?;
                let name = self.queue_name(&req.queue_url)?;
                let mut results = self
                    .queues
                    .delete(&name, std::slice::from_ref(&req.receipt_handle))
                    .await?;
                results.pop().unwrap_or(Ok(()))?;
                Ok(ok(&serde_json::json!({})))
            }
            SqsAction::DeleteMessageBatch => {
                let req: sqs::DeleteMessageBatchRequest = parse(bytes)?;
                req.validate()?;
                let name = self.queue_name(&req.queue_url)?;
                sqs::validate_batch_ids(req.entries.iter().map(|e| e.id.as_str()))?;
                let handles: Vec<String> = req
                    .entries
                    .iter()
                    .map(|e| e.receipt_handle.clone())
                    .collect();
                let results = self.queues.delete(&name, &handles).await?;
                let (successful, failed) =
                    batch_outcome(req.entries.iter().map(|e| e.id.as_str()), results);
                Ok(ok(&sqs::DeleteMessageBatchResponse { successful, failed }))
            }
            SqsAction::ChangeMessageVisibility => {
                let req: sqs::ChangeMessageVisibilityRequest = parse(bytes)?;
                req.validate()?;
                let name = self.queue_name(&req.queue_url)?;
                let mut results = self
                    .queues
                    .change_visibility(&name, &[(req.receipt_handle, req.visibility_timeout)])
                    .await?;
                results.pop().unwrap_or(Ok(()))?;
                Ok(ok(&serde_json::json!({})))
            }
            SqsAction::ChangeMessageVisibilityBatch => {
                let req: sqs::ChangeMessageVisibilityBatchRequest = parse(bytes)?;
                req.validate()?;
                let name = self.queue_name(&req.queue_url)?;
                sqs::validate_batch_ids(req.entries.iter().map(|e| e.id.as_str()))?;
                let mut failed = Vec::new();
                let mut ids = Vec::new();
                let mut changes: Vec<(String, i64)> = Vec::new();
                for e in &req.entries {
                    match sqs::validate_visibility_timeout(e.visibility_timeout) {
                        Ok(v) => {
                            ids.push(e.id.as_str());
                            changes.push((e.receipt_handle.clone(), i64::from(v)));
                        }
                        Err(err) => failed.push(batch_error(&e.id, &err)),
                    }
                }
                let results = self.queues.change_visibility(&name, &changes).await?;
                let (successful, more_failed) = batch_outcome(ids.into_iter(), results);
                failed.extend(more_failed);
                Ok(ok(&sqs::ChangeMessageVisibilityBatchResponse {
                    successful,
                    failed,
                }))
            }
        }
    }

    async fn list_queues(&self, req: sqs::ListQueuesRequest) -> Result<Response, SqsError> {
        let limit = match sqs::validate_max_results(req.max_results)? {
            Some(n) => u32::try_from(n).unwrap_or(LIST_QUEUES_DEFAULT),
            None => LIST_QUEUES_DEFAULT,
        };
        let after = match &req.next_token {
            None => None,
            Some(t) => Some(decode_token(t)?),
        };
        let prefix = req.queue_name_prefix.unwrap_or_default();
        // One more than asked tells whether another page exists.
        let mut page = self
            .queues
            .list(&prefix, after.as_deref(), limit + 1)
            .await?;
        let more = page.len() > limit as usize;
        page.truncate(limit as usize);
        let next_token = if more && req.max_results.is_some() {
            page.last().map(|q| encode_token(&q.name))
        } else {
            None
        };
        Ok(ok(&sqs::ListQueuesResponse {
            queue_urls: page.iter().map(|q| self.url(&q.name)).collect(),
            next_token,
        }))
    }
}

fn encode_token(name: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(name)
}

fn decode_token(token: &str) -> Result<String, SqsError> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            SqsError::new(
                SqsErrorCode::InvalidParameterValue,
                "Invalid NextToken value.",
            )
        })
}

fn batch_outcome<'a>(
    ids: impl Iterator<Item = &'a str>,
    results: Vec<Result<(), SqsError>>,
) -> (Vec<sqs::BatchResultEntry>, Vec<sqs::BatchResultErrorEntry>) {
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    for (id, result) in ids.zip(results) {
        match result {
            Ok(()) => successful.push(sqs::BatchResultEntry { id: id.to_string() }),
            Err(e) => failed.push(batch_error(id, &e)),
        }
    }
    (successful, failed)
}

fn send_entry(
    body: String,
    delay_seconds: Option<i64>,
    message_attributes: Option<BTreeMap<String, MessageAttributeValue>>,
    system_attributes: Option<BTreeMap<String, MessageAttributeValue>>,
    group_id: Option<String>,
    dedup_id: Option<String>,
) -> Result<SendEntry, SqsError> {
    if let Some(d) = delay_seconds
        && !(0..=i64::from(sqs::MAX_DELAY_SECONDS)).contains(&d)
    {
        return Err(SqsError::new(
            SqsErrorCode::InvalidParameterValue,
            format!(
                "Value {d} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= {}.",
                sqs::MAX_DELAY_SECONDS
            ),
        ));
    }
    let mut trace_header = None;
    for (name, value) in system_attributes.unwrap_or_default() {
        if name != "AWSTraceHeader" || value.data_type != "String" || value.string_value.is_none() {
            return Err(SqsError::new(
                SqsErrorCode::InvalidParameterValue,
                format!("Message system attribute name '{name}' is invalid."),
            ));
        }
        trace_header = value.string_value;
    }
    Ok(SendEntry {
        body,
        delay_seconds,
        message_attributes: message_attributes.unwrap_or_default(),
        trace_header,
        group_id,
        dedup_id,
    })
}

fn wire_message(
    m: Received,
    system: Option<&BTreeSet<String>>,
    filter: &sqs::AttributeFilter,
) -> sqs::Message {
    let attributes: BTreeMap<String, String> = m
        .attributes
        .into_iter()
        .filter(|(k, _)| system.is_none_or(|names| names.contains(k)))
        .collect();
    let message_attributes = filter.select(&m.message_attributes);
    // Clients check the MD5 against the attributes they got, so it covers only those.
    let md5_of_message_attributes = sqs::md5_of_message_attributes(&message_attributes);
    sqs::Message {
        message_id: m.message_id,
        receipt_handle: m.receipt_handle,
        md5_of_body: m.md5_body,
        body: m.body,
        attributes: (!attributes.is_empty()).then_some(attributes),
        md5_of_message_attributes,
        message_attributes: (!message_attributes.is_empty()).then_some(message_attributes),
    }
}
