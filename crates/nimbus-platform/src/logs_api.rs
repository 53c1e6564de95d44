//! Reading function logs back: the CloudWatch Logs subset (`FilterLogEvents`,
//! `GetLogEvents`, `DescribeLogStreams`, `DescribeLogGroups`) that `aws logs` and
//! `nimbus logs` use.

use crate::platform::Platform;
use nimbus_api::logs::{
    DescribeLogGroupsRequest, DescribeLogGroupsResponse, DescribeLogStreamsRequest,
    DescribeLogStreamsResponse, FilterLogEventsRequest, FilterLogEventsResponse, FilteredLogEvent,
    GetLogEventsRequest, GetLogEventsResponse, LogGroup, LogStream, LogsErrorBody, LogsErrorCode,
    OutputLogEvent,
};
use nimbus_store::{LOG_QUERY_STREAMS_MAX, LogCursor, LogQuery, LogStreamRow};

/// Most events one call returns (CloudWatch's own maximum).
const EVENTS_PER_CALL_MAX: u32 = 10_000;
/// Most streams or groups one describe call returns.
const DESCRIBE_PAGE_MAX: u32 = 50;
/// Most terms in a filter pattern.
const FILTER_TERMS_MAX: usize = 16;

impl Platform {
    /// `FilterLogEvents`: events of a group, oldest first, optionally by stream, time range
    /// and a filter pattern of space-separated terms that must all appear (quoted phrases
    /// allowed).
    pub async fn filter_log_events(
        &self,
        req: FilterLogEventsRequest,
    ) -> Result<FilterLogEventsResponse, LogsErrorBody> {
        let group = group_name(
            req.log_group_name
                .as_deref()
                .or(req.log_group_identifier.as_deref()),
        )?;
        self.check_group(&group).await?;
        let limit = clamp_limit(req.limit)?;
        let terms = filter_terms(req.filter_pattern.as_deref())?;
        let after = req.next_token.as_deref().map(decode_token).transpose()?;
        let mut streams = req.log_stream_names.clone();
        if streams
            .as_ref()
            .is_some_and(|s| s.len() > LOG_QUERY_STREAMS_MAX)
        {
            return Err(LogsErrorBody::new(
                LogsErrorCode::InvalidParameter,
                format!(
                    "1 validation error detected: Value at 'logStreamNames' failed to satisfy \
                     constraint: Member must have length less than or equal to \
                     {LOG_QUERY_STREAMS_MAX}"
                ),
            ));
        }
        // Events of a prefix's streams, when more streams match than one query can name,
        // are read from the whole group and kept here (a page may then hold fewer events
        // than its limit; its token still moves on, as CloudWatch's may).
        let mut keep_prefix = None;
        if let Some(prefix) = &req.log_stream_name_prefix {
            if streams.is_some() {
                return Err(LogsErrorBody::new(
                    LogsErrorCode::InvalidParameter,
                    "logStreamNames and logStreamNamePrefix cannot both be given",
                ));
            }
            let all = self.streams(&group, EVENTS_PER_CALL_MAX).await?;
            let picked: Vec<String> = all
                .into_iter()
                .map(|s| s.stream)
                .filter(|s| s.starts_with(prefix.as_str()))
                .collect();
            if picked.len() > LOG_QUERY_STREAMS_MAX {
                keep_prefix = Some(prefix.as_str());
            } else {
                streams = Some(picked);
            }
        }
        let rows = self
            .store
            .query_logs(&LogQuery {
                group: group.clone(),
                streams,
                start_ms: req.start_time,
                end_ms: req.end_time,
                after,
                contains: terms.first().cloned(),
                limit,
            })
            .await
            .map_err(service)?;
        let full_page = rows.len() as u32 >= limit;
        let next_token = if full_page {
            rows.last().map(|r| encode_token(r.timestamp_ms, r.id))
        } else {
            None
        };
        let events = rows
            .into_iter()
            .filter(|r| keep_prefix.is_none_or(|p| r.stream.starts_with(p)))
            .filter(|r| terms.iter().skip(1).all(|t| r.message.contains(t.as_str())))
            .map(|r| FilteredLogEvent {
                log_stream_name: Some(r.stream),
                timestamp: Some(r.timestamp_ms),
                message: Some(r.message),
                ingestion_time: Some(r.ingestion_ms),
                event_id: Some(r.id.to_string()),
            })
            .collect();
        Ok(FilterLogEventsResponse {
            events: Some(events),
            searched_log_streams: None,
            next_token,
        })
    }

    /// `GetLogEvents`: one stream, oldest first.
    pub async fn get_log_events(
        &self,
        req: GetLogEventsRequest,
    ) -> Result<GetLogEventsResponse, LogsErrorBody> {
        let group = group_name(
            req.log_group_name
                .as_deref()
                .or(req.log_group_identifier.as_deref()),
        )?;
        let Some(stream) = req.log_stream_name.clone() else {
            return Err(LogsErrorBody::new(
                LogsErrorCode::InvalidParameter,
                "1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null",
            ));
        };
        let limit = clamp_limit(req.limit)?;
        let after = match req.next_token.as_deref() {
            Some(t) => Some(decode_token(
                t.trim_start_matches("f/").trim_start_matches("b/"),
            )?),
            None => None,
        };
        let rows = self
            .store
            .query_logs(&LogQuery {
                group,
                streams: Some(vec![stream]),
                start_ms: req.start_time,
                end_ms: req.end_time,
                after,
                contains: None,
                limit,
            })
            .await
            .map_err(service)?;
        let forward = match rows.last() {
            Some(r) => format!("f/{}", encode_token(r.timestamp_ms, r.id)),
            None => req
                .next_token
                .clone()
                .unwrap_or_else(|| "f/0.0".to_string()),
        };
        let backward = req
            .next_token
            .clone()
            .unwrap_or_else(|| "b/0.0".to_string());
        Ok(GetLogEventsResponse {
            events: Some(
                rows.into_iter()
                    .map(|r| OutputLogEvent {
                        timestamp: Some(r.timestamp_ms),
                        message: Some(r.message),
                        ingestion_time: Some(r.ingestion_ms),
                    })
                    .collect(),
            ),
            next_forward_token: Some(forward),
            next_backward_token: Some(backward),
        })
    }

    /// `DescribeLogStreams`: newest first.
    pub async fn describe_log_streams(
        &self,
        req: DescribeLogStreamsRequest,
    ) -> Result<DescribeLogStreamsResponse, LogsErrorBody> {
        let group = group_name(
            req.log_group_name
                .as_deref()
                .or(req.log_group_identifier.as_deref()),
        )?;
        self.check_group(&group).await?;
        let limit = req.limit.map_or(DESCRIBE_PAGE_MAX, |l| {
            l.clamp(1, i64::from(DESCRIBE_PAGE_MAX)) as u32
        });
        let mut rows = self.streams(&group, EVENTS_PER_CALL_MAX).await?;
        if let Some(prefix) = &req.log_stream_name_prefix {
            rows.retain(|s| s.stream.starts_with(prefix.as_str()));
        }
        rows.truncate(limit as usize);
        let region = &self.config.region;
        let account = &self.config.account_id;
        Ok(DescribeLogStreamsResponse {
            log_streams: Some(
                rows.into_iter()
                    .map(|s| LogStream {
                        arn: Some(format!(
                            "arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{}",
                            s.stream
                        )),
                        log_stream_name: Some(s.stream),
                        creation_time: Some(s.first_ms),
                        first_event_timestamp: Some(s.first_ms),
                        last_event_timestamp: Some(s.last_ms),
                        last_ingestion_time: Some(s.last_ms),
                        stored_bytes: Some(s.stored_bytes),
                        upload_sequence_token: None,
                    })
                    .collect(),
            ),
            next_token: None,
        })
    }

    /// `DescribeLogGroups`: the log group of every function.
    pub async fn describe_log_groups(
        &self,
        req: DescribeLogGroupsRequest,
    ) -> Result<DescribeLogGroupsResponse, LogsErrorBody> {
        let mut groups: Vec<String> = self
            .functions
            .read()
            .map(|f| f.values().map(|v| v.log_group()).collect())
            .unwrap_or_default();
        groups.sort();
        groups.dedup();
        if let Some(prefix) = &req.log_group_name_prefix {
            groups.retain(|g| g.starts_with(prefix.as_str()));
        }
        groups.truncate(DESCRIBE_PAGE_MAX as usize);
        let region = &self.config.region;
        let account = &self.config.account_id;
        Ok(DescribeLogGroupsResponse {
            log_groups: Some(
                groups
                    .into_iter()
                    .map(|g| LogGroup {
                        arn: Some(format!("arn:aws:logs:{region}:{account}:log-group:{g}:*")),
                        log_group_name: Some(g),
                        ..LogGroup::default()
                    })
                    .collect(),
            ),
            next_token: None,
        })
    }

    async fn streams(&self, group: &str, limit: u32) -> Result<Vec<LogStreamRow>, LogsErrorBody> {
        self.store
            .list_log_streams(group, limit)
            .await
            .map_err(service)
    }

    /// A group exists when a function writes to it or it still holds events.
    async fn check_group(&self, group: &str) -> Result<(), LogsErrorBody> {
        let known = self
            .functions
            .read()
            .map(|f| f.values().any(|v| v.log_group() == group))
            .unwrap_or(false);
        if known || !self.streams(group, 1).await?.is_empty() {
            Ok(())
        } else {
            Err(LogsErrorBody::log_group_not_found())
        }
    }
}

fn group_name(name: Option<&str>) -> Result<String, LogsErrorBody> {
    match name {
        Some(n) if !n.is_empty() && n.len() <= 512 => Ok(n.to_string()),
        _ => Err(LogsErrorBody::new(
            LogsErrorCode::InvalidParameter,
            "1 validation error detected: Value at 'logGroupName' failed to satisfy constraint: Member must have length between 1 and 512",
        )),
    }
}

fn clamp_limit(limit: Option<i64>) -> Result<u32, LogsErrorBody> {
    match limit {
        None => Ok(EVENTS_PER_CALL_MAX),
        Some(n) if (1..=i64::from(EVENTS_PER_CALL_MAX)).contains(&n) => Ok(n as u32),
        Some(n) => Err(LogsErrorBody::new(
            LogsErrorCode::InvalidParameter,
            format!(
                "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 10000"
            ),
        )),
    }
}

/// Splits a filter pattern into terms (quoted phrases kept whole).
fn filter_terms(pattern: Option<&str>) -> Result<Vec<String>, LogsErrorBody> {
    let Some(pattern) = pattern.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(Vec::new());
    };
    // Only term patterns are implemented; the space-delimited (`[...]`) and JSON (`{...}`)
    // syntaxes are refused rather than matched as literal text (which finds nothing).
    if pattern.starts_with(['[', '{']) {
        return Err(LogsErrorBody::new(
            LogsErrorCode::InvalidParameter,
            "Filter patterns of the [...] and {...} syntaxes are not supported; give terms \
             (words or \"quoted phrases\") that must all appear",
        ));
    }
    let mut terms = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        rest = rest.trim_start();
        if let Some(quoted) = rest.strip_prefix('"') {
            let Some(end) = quoted.find('"') else {
                return Err(LogsErrorBody::new(
                    LogsErrorCode::InvalidParameter,
                    "Invalid filter pattern: a quoted phrase is not closed",
                ));
            };
            terms.push(quoted[..end].to_string());
            rest = quoted.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            terms.push(rest[..end].to_string());
            rest = &rest[end..];
        }
        if terms.len() > FILTER_TERMS_MAX {
            return Err(LogsErrorBody::new(
                LogsErrorCode::InvalidParameter,
                "Filter pattern has too many terms",
            ));
        }
    }
    terms.retain(|t| !t.is_empty());
    // The longest term narrows the scan the most; the rest are checked in memory.
    terms.sort_by_key(|t| std::cmp::Reverse(t.len()));
    Ok(terms)
}

fn encode_token(timestamp_ms: i64, id: i64) -> String {
    format!("{timestamp_ms}.{id}")
}

fn decode_token(token: &str) -> Result<LogCursor, LogsErrorBody> {
    let bad = || {
        LogsErrorBody::new(
            LogsErrorCode::InvalidParameter,
            "The specified nextToken is invalid.",
        )
    };
    let (ts, id) = token.split_once('.').ok_or_else(bad)?;
    Ok(LogCursor::Time {
        timestamp_ms: ts.parse().map_err(|_| bad())?,
        id: id.parse().map_err(|_| bad())?,
    })
}

fn service(e: nimbus_store::StoreError) -> LogsErrorBody {
    tracing::error!(error = %e, "log query failed");
    LogsErrorBody::new(
        LogsErrorCode::ServiceUnavailable,
        format!("log store unavailable: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_terms_keep_phrases() {
        let t = filter_terms(Some(r#"ERROR "timed out" x"#)).expect("terms");
        assert_eq!(t, ["timed out", "ERROR", "x"]);
        assert!(filter_terms(Some("  ")).expect("empty").is_empty());
        // Syntaxes not implemented, and broken phrases, are errors, not silent misses.
        for bad in ["[[[", "[ip, user]", "{ $.level = \"ERROR\" }", "\"unclosed"] {
            let e = filter_terms(Some(bad)).expect_err(bad);
            assert_eq!(e.code, LogsErrorCode::InvalidParameter, "{bad}");
        }
    }

    #[test]
    fn tokens_round_trip() {
        let c = decode_token(&encode_token(12, 34)).expect("decode");
        assert!(matches!(
            c,
            LogCursor::Time {
                timestamp_ms: 12,
                id: 34
            }
        ));
        assert!(decode_token("garbage").is_err());
    }
}
