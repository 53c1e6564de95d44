//! Reading request bodies with a byte limit enforced while streaming: nothing over the
//! limit is ever buffered. An oversized body is still read (and thrown away) up to a bound,
//! so that clients which send the whole body before reading the response (boto3, the AWS CLI)
//! see the 413 instead of a broken pipe — and do not retry.

use axum::body::Body;
use bytes::Bytes;
use http_body_util::BodyExt;

/// Bytes of an oversized body read and discarded past the limit before the connection is
/// dropped: enough for any honest client's request; a hostile upload is cut off.
const DISCARD_PAST_LIMIT_BYTES: u64 = 16 * 1024 * 1024;

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// Over the limit.
    TooLarge,
    /// The client went away or sent a broken body.
    Broken,
}

/// Reads at most `limit` bytes.
pub async fn read_limited(
    headers: &axum::http::HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        discard(body, limit as u64 + DISCARD_PAST_LIMIT_BYTES).await;
        return Err(BodyError::TooLarge);
    }
    let mut body = body;
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(BodyError::Broken);
        };
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                let seen = (buf.len() + data.len()) as u64;
                drop(buf);
                discard(
                    body,
                    (limit as u64 + DISCARD_PAST_LIMIT_BYTES).saturating_sub(seen),
                )
                .await;
                return Err(BodyError::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// Reads and drops up to `max` bytes of a body.
async fn discard(mut body: Body, max: u64) {
    let mut seen: u64 = 0;
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            seen += data.len() as u64;
            if seen > max {
                return;
            }
        }
    }
}
