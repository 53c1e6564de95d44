//! Reading request bodies with a byte limit enforced while streaming: nothing over the
//! limit is ever buffered. An oversized body is still read (and thrown away) up to a bound,
//! so that clients which send the whole body before reading the response (boto3, the AWS CLI)
//! see the 413 instead of a broken pipe — and do not retry.

use axum::body::Body;
use bytes::Bytes;
use http_body_util::BodyExt;
use std::time::Duration;

/// Bytes of an oversized body read and discarded past the limit before the connection is
/// dropped: enough for any honest client's request; a hostile upload is cut off.
const DISCARD_PAST_LIMIT_BYTES: u64 = 16 * 1024 * 1024;

/// Longest a client may pause while sending a body (the header timeout's twin): a body that
/// stops arriving ends the request instead of holding it open forever.
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Every body may take this long, plus [`BODY_SECONDS_PER_MIB`] per MiB its operation allows:
/// a trickle (1 KB/s of a 6 MB invoke) is cut off instead of holding a connection for hours.
const BODY_READ_BASE: Duration = Duration::from_secs(30);

/// Allowance per MiB of an operation's limit: a 1 MiB/s client always finishes.
const BODY_SECONDS_PER_MIB: u64 = 1;

/// The deadline for a body of at most `limit_bytes`.
fn body_deadline(limit_bytes: u64) -> tokio::time::Instant {
    let mib = limit_bytes.div_ceil(1024 * 1024);
    tokio::time::Instant::now()
        + BODY_READ_BASE
        + Duration::from_secs(mib.saturating_mul(BODY_SECONDS_PER_MIB))
}

/// The body's next frame, or `None` at its end; `Some(Err(timed_out))` on an error, after
/// [`BODY_IDLE_TIMEOUT`] of silence or past `deadline`.
async fn next_frame(
    body: &mut Body,
    deadline: tokio::time::Instant,
) -> Option<Result<hyper::body::Frame<Bytes>, bool>> {
    let idle_until = tokio::time::Instant::now() + BODY_IDLE_TIMEOUT;
    match tokio::time::timeout_at(idle_until.min(deadline), body.frame()).await {
        Ok(Some(Ok(frame))) => Some(Ok(frame)),
        Ok(Some(Err(_))) => Some(Err(false)),
        Err(_) => Some(Err(true)),
        Ok(None) => None,
    }
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// Over the limit.
    TooLarge,
    /// The client went away or sent a broken body.
    Broken,
    /// The body stopped arriving, or arrived too slowly.
    TimedOut,
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
    let deadline = body_deadline(limit as u64);
    if declared.is_some_and(|len| len > limit as u64) {
        discard(body, limit as u64 + DISCARD_PAST_LIMIT_BYTES, deadline).await;
        return Err(BodyError::TooLarge);
    }
    let mut body = body;
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = next_frame(&mut body, deadline).await {
        let frame = match frame {
            Ok(frame) => frame,
            Err(true) => return Err(BodyError::TimedOut),
            Err(false) => return Err(BodyError::Broken),
        };
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                let seen = (buf.len() + data.len()) as u64;
                drop(buf);
                discard(
                    body,
                    (limit as u64 + DISCARD_PAST_LIMIT_BYTES).saturating_sub(seen),
                    deadline,
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
async fn discard(mut body: Body, max: u64, deadline: tokio::time::Instant) {
    let mut seen: u64 = 0;
    while let Some(Ok(frame)) = next_frame(&mut body, deadline).await {
        if let Ok(data) = frame.into_data() {
            seen += data.len() as u64;
            if seen > max {
                return;
            }
        }
    }
}
