//! A small client for Nimbus's own HTTP APIs (the CLI's only way in: no shortcuts into the
//! data directory).

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// Server address used when neither `--endpoint` nor `NIMBUS_ENDPOINT` is given.
pub const ENDPOINT_DEFAULT: &str = "http://127.0.0.1:9000";
/// Longest any single API call may take (an invoke may run up to 900 s plus Init).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(960);
/// Connection set-up bound.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// An HTTP response that was an AWS error.
#[derive(Debug)]
pub struct AwsError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for AwsError {}

/// A raw response.
pub struct Raw {
    pub headers: reqwest::header::HeaderMap,
    pub body: bytes::Bytes,
}

pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    pub fn new(endpoint: &str) -> anyhow::Result<Self> {
        let base = endpoint.trim_end_matches('/').to_string();
        if !base.starts_with("http://") && !base.starts_with("https://") {
            bail!("endpoint must start with http:// or https://, got {endpoint:?}");
        }
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()?;
        Ok(Self { http, base })
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Raw> {
        self.send_inner(method, path, headers, body.map(reqwest::Body::from))
            .await
    }

    /// [`Client::send`] with a streamed body (uploads with progress).
    pub async fn send_body(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, String)],
        body: reqwest::Body,
    ) -> anyhow::Result<Raw> {
        self.send_inner(method, path, headers, Some(body)).await
    }

    async fn send_inner(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<reqwest::Body>,
    ) -> anyhow::Result<Raw> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, &url);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.with_context(|| {
            format!(
                "cannot reach the Nimbus server at {} (is `nimbus serve` running?)",
                self.base
            )
        })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?;
        if status >= 400 {
            let code = headers
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(':').next().unwrap_or(v).to_string())
                .unwrap_or_else(|| "Error".into());
            let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let message = parsed
                .get("message")
                .or_else(|| parsed.get("Message"))
                .and_then(Value::as_str)
                .unwrap_or_else(|| std::str::from_utf8(&body).unwrap_or(""))
                .to_string();
            return Err(AwsError {
                status,
                code,
                message,
            }
            .into());
        }
        Ok(Raw { headers, body })
    }

    pub async fn json<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<T> {
        let bytes = body.map(serde_json::to_vec).transpose()?;
        let headers = [("content-type", "application/json".to_string())];
        let raw = self.send(method, path, &headers, bytes).await?;
        if raw.body.is_empty() {
            return Ok(serde_json::from_value(Value::Null)?);
        }
        Ok(serde_json::from_slice(&raw.body)?)
    }

    /// A CloudWatch Logs (JSON 1.1) call.
    pub async fn logs(&self, operation: &str, body: &Value) -> anyhow::Result<Value> {
        let headers = [
            ("content-type", "application/x-amz-json-1.1".to_string()),
            ("x-amz-target", format!("Logs_20140328.{operation}")),
        ];
        let raw = self
            .send(
                reqwest::Method::POST,
                "/",
                &headers,
                Some(serde_json::to_vec(body)?),
            )
            .await?;
        Ok(serde_json::from_slice(&raw.body)?)
    }
}

/// Percent-encodes a path segment (function names are `[a-zA-Z0-9-_]`, ARNs add `:`).
pub fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
