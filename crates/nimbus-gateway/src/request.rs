//! The HTTP request as the gateway received it, and the pieces both payload formats derive
//! from it: query parameters, header groups, the body encoding and the request time.

use base64::Engine;

use crate::path::query_decode;

/// An HTTP request as received, before any Lambda mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method as sent (`GET`, `POST`, …).
    pub method: String,
    /// Path as sent, still percent-encoded (`/hello/J%C3%BCrgen`).
    pub raw_path: String,
    /// Query string without the `?`, as sent (may be empty).
    pub raw_query: String,
    /// Headers in arrival order; repeated names appear repeatedly.
    pub headers: Vec<(String, String)>,
    /// Body bytes (empty when there was none).
    pub body: Vec<u8>,
    /// The peer's address (`requestContext.identity.sourceIp` / `http.sourceIp`).
    pub source_ip: String,
    /// Arrival time, ms since the Unix epoch.
    pub time_epoch_ms: i64,
    /// `HTTP/1.1`, `HTTP/2.0`.
    pub protocol: String,
}

/// Who answers the request: ids and names the event's `requestContext` carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventContext {
    /// The 12-digit account owning the API.
    pub account_id: String,
    /// API id (function URLs: the URL id).
    pub api_id: String,
    /// `requestContext.requestId` (Nimbus also uses it as the Lambda request id).
    pub request_id: String,
    /// `requestContext.domainName` (the `Host` the request came to, without a port).
    pub domain_name: String,
    /// `requestContext.domainPrefix`: the domain name's first label.
    pub domain_prefix: String,
}

impl HttpRequest {
    /// The last value of a header (case-insensitive name), as API Gateway's single-value
    /// maps keep it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Header values grouped by name in first-appearance order; names keep the case of their
/// first appearance, values their arrival order.
pub(crate) fn header_groups(headers: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in headers {
        match groups
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some((_, values)) => values.push(value.clone()),
            None => groups.push((name.clone(), vec![value.clone()])),
        }
    }
    groups
}

/// Query parameters decoded (`%XX`, `+` as space) and grouped by name in first-appearance
/// order; `?flag` has the value `""`.
pub(crate) fn query_groups(raw_query: &str) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (query_decode(k), query_decode(v));
        match groups.iter_mut().find(|(n, _)| *n == k) {
            Some((_, values)) => values.push(v),
            None => groups.push((k, vec![v])),
        }
    }
    groups
}

/// Content types passed to the function as text. Everything else, and any body that is not
/// UTF-8, is base64-encoded with `isBase64Encoded: true`, as HTTP APIs and function URLs do
/// (they encode form posts too). Nimbus applies the same rule to payload 1.0: as if the REST
/// API declared every non-text type in `binaryMediaTypes`, so binary bodies arrive intact
/// instead of being mangled into a string.
const TEXT_MEDIA_TYPES: [&str; 8] = [
    "application/json",
    "application/javascript",
    "application/ecmascript",
    "application/xml",
    "application/xhtml+xml",
    "application/yaml",
    "application/x-yaml",
    "application/graphql",
];

/// True when a body of this content type is passed as text.
pub fn is_text_content_type(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return true;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime.is_empty()
        || mime.starts_with("text/")
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
        || TEXT_MEDIA_TYPES.contains(&mime.as_str())
}

/// The event's `body` and `isBase64Encoded`: `None` when the request had no body.
pub(crate) fn encode_body(req: &HttpRequest) -> (Option<String>, bool) {
    if req.body.is_empty() {
        return (None, false);
    }
    if is_text_content_type(req.header("content-type"))
        && let Ok(text) = std::str::from_utf8(&req.body)
    {
        return (Some(text.to_string()), false);
    }
    (
        Some(base64::engine::general_purpose::STANDARD.encode(&req.body)),
        true,
    )
}

/// Month abbreviations of the CLF time format.
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// API Gateway's request time: `09/Apr/2015:12:34:56 +0000` (UTC).
pub fn format_request_time(epoch_ms: i64) -> String {
    const MS_PER_DAY: i64 = 86_400_000;
    let days = epoch_ms.div_euclid(MS_PER_DAY);
    let ms_of_day = epoch_ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = nimbus_api::time::civil_from_days(days);
    let month_name = MONTHS
        .get(month.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("Jan");
    format!(
        "{day:02}/{month_name}/{year:04}:{:02}:{:02}:{:02} +0000",
        ms_of_day / 3_600_000,
        (ms_of_day / 60_000) % 60,
        (ms_of_day / 1000) % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_time_format() {
        assert_eq!(
            format_request_time(1_428_582_896_000),
            "09/Apr/2015:12:34:56 +0000"
        );
        assert_eq!(
            format_request_time(1_587_481_701_067),
            "21/Apr/2020:15:08:21 +0000"
        );
    }

    #[test]
    fn text_types() {
        for t in [
            None,
            Some("text/plain; charset=utf-8"),
            Some("Application/JSON"),
            Some("application/vnd.api+json"),
            Some("application/soap+xml"),
        ] {
            assert!(is_text_content_type(t), "{t:?}");
        }
        for t in [
            "application/octet-stream",
            "image/png",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
        ] {
            assert!(!is_text_content_type(Some(t)), "{t}");
        }
    }

    #[test]
    fn query_and_header_groups() {
        let q = query_groups("a=1&b=x+y&a=2&flag&&c=%2F");
        assert_eq!(
            q,
            vec![
                ("a".to_string(), vec!["1".to_string(), "2".to_string()]),
                ("b".to_string(), vec!["x y".to_string()]),
                ("flag".to_string(), vec![String::new()]),
                ("c".to_string(), vec!["/".to_string()]),
            ]
        );
        let h = header_groups(&[
            ("Accept".into(), "a".into()),
            ("X-Y".into(), "1".into()),
            ("accept".into(), "b".into()),
        ]);
        assert_eq!(h[0], ("Accept".to_string(), vec!["a".into(), "b".into()]));
        assert_eq!(h.len(), 2);
    }
}
