//! Route path templates (`/hello/{name}`, `/{proxy+}`, `$default`), request path segments and
//! percent-decoding.

use std::collections::BTreeMap;

use crate::routes::DEFAULT_ROUTE;

/// Longest parameter name: API Gateway's resource path parts are short; this only bounds
/// what a template may carry.
const PARAM_NAME_CHARS_MAX: usize = 128;

/// One segment of a route template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Must equal the (decoded) request segment.
    Literal(String),
    /// `{name}`: any one non-empty segment.
    Param(String),
    /// `{name+}`: one or more trailing segments.
    Greedy(String),
}

impl Segment {
    /// The segment with its parameter name erased: what two routes may not share.
    pub(crate) fn shape(&self) -> Segment {
        match self {
            Segment::Literal(s) => Segment::Literal(s.clone()),
            Segment::Param(_) => Segment::Param(String::new()),
            Segment::Greedy(_) => Segment::Greedy(String::new()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Segment::Literal(_) => 0,
            Segment::Param(_) => 1,
            Segment::Greedy(_) => 2,
        }
    }
}

/// A parsed route path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// HTTP APIs' catch-all.
    Default,
    /// `/` is an empty list.
    Segments(Vec<Segment>),
}

/// Sort key: smaller is more specific (see the precedence rules in `routes`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Precedence {
    is_default: bool,
    has_greedy: bool,
    ranks: Vec<u8>,
}

impl Pattern {
    pub(crate) fn precedence(&self) -> Precedence {
        match self {
            Pattern::Default => Precedence {
                is_default: true,
                has_greedy: false,
                ranks: Vec::new(),
            },
            Pattern::Segments(s) => Precedence {
                is_default: false,
                has_greedy: s.iter().any(|g| matches!(g, Segment::Greedy(_))),
                ranks: s.iter().map(Segment::rank).collect(),
            },
        }
    }
}

/// Parses a route template; the error says what is wrong.
pub(crate) fn parse_template(template: &str) -> Result<Pattern, String> {
    if template == DEFAULT_ROUTE {
        return Ok(Pattern::Default);
    }
    let Some(rest) = template.strip_prefix('/') else {
        return Err(format!("path {template:?} must start with '/'"));
    };
    if rest.is_empty() {
        return Ok(Pattern::Segments(Vec::new()));
    }
    let parts: Vec<&str> = rest.split('/').collect();
    let mut segments = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if part.is_empty() {
            return Err(format!("path {template:?} has an empty segment"));
        }
        let segment = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(inner) => {
                let (name, greedy) = match inner.strip_suffix('+') {
                    Some(name) => (name, true),
                    None => (inner, false),
                };
                check_param_name(template, name)?;
                if greedy && !last {
                    return Err(format!(
                        "path {template:?}: a greedy {{{name}+}} must be the last segment"
                    ));
                }
                if greedy {
                    Segment::Greedy(name.to_string())
                } else {
                    Segment::Param(name.to_string())
                }
            }
            None if part.contains(['{', '}']) => {
                return Err(format!(
                    "path {template:?}: a parameter must be a whole segment, got {part:?}"
                ));
            }
            None => Segment::Literal(part.to_string()),
        };
        segments.push(segment);
    }
    Ok(Pattern::Segments(segments))
}

fn check_param_name(template: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().count() <= PARAM_NAME_CHARS_MAX
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "path {template:?}: bad parameter name {name:?} (letters, digits, '_', '-', '.')"
        ))
    }
}

/// The decoded segments of a request path. A single trailing `/` is ignored (`/a/` is `/a`),
/// so `/` has no segments.
pub(crate) fn request_segments(raw_path: &str) -> Vec<String> {
    let trimmed = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed.split('/').map(percent_decode).collect()
}

/// Matches decoded request segments; the path parameters on success.
pub(crate) fn match_segments(
    pattern: &Pattern,
    request: &[String],
) -> Option<BTreeMap<String, String>> {
    let template = match pattern {
        Pattern::Default => return Some(BTreeMap::new()),
        Pattern::Segments(s) => s,
    };
    let mut params = BTreeMap::new();
    for (i, segment) in template.iter().enumerate() {
        match segment {
            Segment::Literal(l) => {
                if request.get(i) != Some(l) {
                    return None;
                }
            }
            Segment::Param(name) => {
                let value = request.get(i).filter(|v| !v.is_empty())?;
                params.insert(name.clone(), value.clone());
            }
            Segment::Greedy(name) => {
                let rest = request.get(i..).filter(|r| !r.is_empty())?;
                if rest.iter().all(String::is_empty) {
                    return None;
                }
                params.insert(name.clone(), rest.join("/"));
                return Some(params);
            }
        }
    }
    (request.len() == template.len()).then_some(params)
}

/// `%XX` decoding (UTF-8; invalid sequences are kept as they were).
pub fn percent_decode(s: &str) -> String {
    decode(s, false)
}

/// Query-string decoding: `%XX` and `+` as a space (`application/x-www-form-urlencoded`).
pub fn query_decode(s: &str) -> String {
    decode(s, true)
}

fn decode(s: &str, plus_is_space: bool) -> String {
    if !s.contains(['%', '+']) {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                    let h = std::str::from_utf8(h).ok()?;
                    u8::from_str_radix(h, 16).ok()
                });
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(decoded) => decoded,
        Err(_) => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("a%20b%2Fc"), "a b/c");
        assert_eq!(percent_decode("a+b"), "a+b");
        assert_eq!(query_decode("a+b%2B"), "a b+");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        // Not UTF-8 once decoded: kept raw.
        assert_eq!(percent_decode("%FF"), "%FF");
    }

    #[test]
    fn templates() {
        assert_eq!(parse_template("/"), Ok(Pattern::Segments(vec![])));
        assert_eq!(
            parse_template("/a/{b}/{c+}"),
            Ok(Pattern::Segments(vec![
                Segment::Literal("a".into()),
                Segment::Param("b".into()),
                Segment::Greedy("c".into()),
            ]))
        );
        assert!(parse_template("/a{b}").is_err());
        assert!(parse_template("/a/").is_err());
    }
}
