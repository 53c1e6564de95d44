//! Strict, iterative (no recursion) RFC 8259 validator for Invoke payloads.
//!
//! Rules:
//! - UTF-8 required; a byte-order mark is refused (a function parsing the
//!   payload would choke on it);
//! - any top-level value is allowed (object, array, string, number, literal);
//! - no `NaN`/`Infinity`, no trailing commas, no comments, no single quotes,
//!   no raw control characters in strings, no lone surrogate escapes;
//! - nesting depth at most [`JSON_DEPTH_MAX`] (512) open containers;
//! - numbers are checked for grammar only: `1e400`, `-0` and huge integers are
//!   valid and passed through untouched; duplicate object keys are valid and
//!   passed through untouched (the function's parser decides);
//! - an empty or whitespace-only body is *not* an error here:
//!   [`validate_json_payload`] accepts it and [`payload_is_empty`] tells the
//!   caller to substitute `{}`.
//!
//! Error detail imitates Jackson's wording (what Lambda runs), e.g.
//! `Unexpected character ('}' (code 125)): expected a valid value (...)`,
//! followed by the location; the exact detail is ours, the prefix
//! `Could not parse request body into json: Could not parse payload into json: `
//! is Lambda's.

use std::fmt;

use crate::error::ErrorCode;
pub use crate::limits::JSON_DEPTH_MAX;
use crate::validate::ValidationFailure;

/// Lambda's prefix for payloads that are not JSON (InvalidRequestContentException).
pub const PAYLOAD_ERROR_PREFIX: &str =
    "Could not parse request body into json: Could not parse payload into json: ";

/// Jackson's list of what a value may start with.
const EXPECTED_VALUE: &str = "expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')";

/// Jackson's list after an unrecognized token.
const EXPECTED_TOKEN: &str =
    "was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')";

/// What went wrong in a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadErrorKind {
    /// Bytes are not UTF-8.
    InvalidUtf8 {
        /// The first offending byte.
        byte: u8,
    },
    /// Input starts with a UTF-8 byte-order mark.
    ByteOrderMark,
    /// A character that cannot appear here; `expected` says what could.
    UnexpectedChar {
        /// The character found.
        found: char,
        /// Jackson-style continuation, e.g. `was expecting comma to separate Array entries`.
        expected: &'static str,
    },
    /// A bare word that is not `true`, `false` or `null`.
    UnrecognizedToken {
        /// The word (truncated to 256 characters).
        token: String,
    },
    /// `NaN`, `Infinity` or `-Infinity`.
    NonStandardNumber {
        /// The token.
        token: &'static str,
    },
    /// A number with a leading zero, e.g. `01`.
    LeadingZero,
    /// Input ended inside a value or container.
    UnexpectedEnd {
        /// What was still open or expected.
        expected: &'static str,
    },
    /// Raw control character inside a string.
    ControlCharInString {
        /// Its code.
        code: u32,
    },
    /// Backslash followed by something that is not a JSON escape.
    InvalidEscape {
        /// The character after the backslash.
        found: char,
    },
    /// `\u` not followed by four hex digits.
    InvalidUnicodeEscape,
    /// `\uD800`-`\uDBFF` not followed by a low surrogate, or a lone `\uDC00`-`\uDFFF`.
    LoneSurrogate {
        /// The surrogate code unit.
        unit: u16,
    },
    /// More than [`JSON_DEPTH_MAX`] open containers.
    TooDeep,
}

/// A payload error with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadError {
    /// What went wrong.
    pub kind: PayloadErrorKind,
    /// Byte offset of the offending input.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters, of the offending input.
    pub column: usize,
}

impl PayloadError {
    /// The detail, Jackson style, with the location suffix.
    pub fn detail(&self) -> String {
        let what = match &self.kind {
            PayloadErrorKind::InvalidUtf8 { byte } => {
                format!("Invalid UTF-8 start byte 0x{byte:02x}")
            }
            PayloadErrorKind::ByteOrderMark => {
                "Unexpected character (byte-order mark U+FEFF): expected a valid value".to_string()
            }
            PayloadErrorKind::UnexpectedChar { found, expected } => {
                format!(
                    "Unexpected character ({}): {expected}",
                    describe_char(*found)
                )
            }
            PayloadErrorKind::UnrecognizedToken { token } => {
                format!("Unrecognized token '{token}': {EXPECTED_TOKEN}")
            }
            PayloadErrorKind::NonStandardNumber { token } => format!(
                "Non-standard token '{token}': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"
            ),
            PayloadErrorKind::LeadingZero => {
                "Invalid numeric value: Leading zeroes not allowed".to_string()
            }
            PayloadErrorKind::UnexpectedEnd { expected } => {
                format!("Unexpected end-of-input: {expected}")
            }
            PayloadErrorKind::ControlCharInString { code } => format!(
                "Illegal unquoted character ((CTRL-CHAR, code {code})): has to be escaped using backslash to be included in string value"
            ),
            PayloadErrorKind::InvalidEscape { found } => {
                format!("Unrecognized character escape {}", describe_char(*found))
            }
            PayloadErrorKind::InvalidUnicodeEscape => {
                "Unexpected character in Unicode escape: expected a hex-digit".to_string()
            }
            PayloadErrorKind::LoneSurrogate { unit } => {
                format!("Invalid surrogate: lone surrogate \\u{unit:04X} in string value")
            }
            PayloadErrorKind::TooDeep => format!(
                "Document nesting depth ({}) exceeds the maximum allowed ({JSON_DEPTH_MAX})",
                JSON_DEPTH_MAX + 1
            ),
        };
        format!(
            "{what}\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: {}, column: {}]",
            self.line, self.column
        )
    }

    /// The full Lambda message: prefix + detail.
    pub fn message(&self) -> String {
        format!("{PAYLOAD_ERROR_PREFIX}{}", self.detail())
    }

    /// `InvalidRequestContentException` with [`PayloadError::message`].
    pub fn to_failure(&self) -> ValidationFailure {
        ValidationFailure::new(ErrorCode::InvalidRequestContent, self.message())
    }
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for PayloadError {}

/// Jackson's rendering of a character: `'x' (code 120)` or `CTRL-CHAR, code 10`.
fn describe_char(c: char) -> String {
    let code = u32::from(c);
    if code < 0x20 {
        format!("(CTRL-CHAR, code {code})")
    } else {
        format!("'{c}' (code {code})")
    }
}

/// True if the body has no JSON content (empty or only JSON whitespace); the
/// caller then invokes with `{}`.
pub fn payload_is_empty(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| is_ws(*b))
}

/// JSON insignificant whitespace.
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Validate an Invoke payload. See the module docs for the rules.
pub fn validate_json_payload(bytes: &[u8]) -> Result<(), PayloadError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let byte = bytes.get(at).copied().unwrap_or(0);
            return Err(make_error(
                bytes,
                at,
                PayloadErrorKind::InvalidUtf8 { byte },
            ));
        }
    };
    if text.starts_with('\u{feff}') {
        return Err(make_error(bytes, 0, PayloadErrorKind::ByteOrderMark));
    }
    Validator::new(text).run()
}

/// Build an error with line/column computed from the offset.
fn make_error(bytes: &[u8], offset: usize, kind: PayloadErrorKind) -> PayloadError {
    let offset = offset.min(bytes.len());
    let prefix = &bytes[..offset];
    let line = 1 + prefix.iter().filter(|b| **b == b'\n').count();
    let line_start = prefix
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    // Count characters (UTF-8 lead bytes) between the line start and the offset.
    let column = 1 + bytes[line_start..offset]
        .iter()
        .filter(|b| (**b & 0xC0) != 0x80)
        .count();
    PayloadError {
        kind,
        offset,
        line,
        column,
    }
}

/// Open container kinds on the explicit stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Object,
    Array,
}

/// Parser state: what may come next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (top level, after `:`, after `,` in an array).
    Value,
    /// First member of an object or `}`.
    KeyOrEnd,
    /// A member key (after `,` in an object).
    Key,
    /// `:` after a key.
    Colon,
    /// `,` or `}` after a member value.
    ObjectCommaOrEnd,
    /// First element of an array or `]`.
    ValueOrArrayEnd,
    /// `,` or `]` after an element.
    ArrayCommaOrEnd,
    /// Only whitespace may follow.
    End,
}

/// The iterative validator.
struct Validator<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    stack: Vec<Container>,
}

impl<'a> Validator<'a> {
    fn new(text: &'a str) -> Validator<'a> {
        Validator {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            stack: Vec::new(),
        }
    }

    fn error(&self, offset: usize, kind: PayloadErrorKind) -> PayloadError {
        make_error(self.bytes, offset, kind)
    }

    /// The character starting at `offset` (input is valid UTF-8).
    fn char_at(&self, offset: usize) -> char {
        self.text
            .get(offset..)
            .and_then(|s| s.chars().next())
            .unwrap_or('\u{fffd}')
    }

    fn unexpected(&self, offset: usize, expected: &'static str) -> PayloadError {
        self.error(
            offset,
            PayloadErrorKind::UnexpectedChar {
                found: self.char_at(offset),
                expected,
            },
        )
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.bytes.get(self.pos) {
            if is_ws(*b) {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// What to expect after a complete value, given the open containers.
    fn after_value(&self) -> Expect {
        match self.stack.last() {
            None => Expect::End,
            Some(Container::Object) => Expect::ObjectCommaOrEnd,
            Some(Container::Array) => Expect::ArrayCommaOrEnd,
        }
    }

    fn push(&mut self, c: Container) -> Result<(), PayloadError> {
        if self.stack.len() >= JSON_DEPTH_MAX {
            return Err(self.error(self.pos, PayloadErrorKind::TooDeep));
        }
        self.stack.push(c);
        Ok(())
    }

    fn end_of_input(&self, state: Expect) -> Result<(), PayloadError> {
        let expected = match (state, self.stack.last()) {
            (Expect::End, _) => return Ok(()),
            // Whitespace-only body: allowed here, see `payload_is_empty`.
            (Expect::Value, None) => return Ok(()),
            (_, Some(Container::Object)) => "expected close marker for Object",
            (_, Some(Container::Array)) => "expected close marker for Array",
            (_, None) => "expected a value",
        };
        Err(self.error(self.pos, PayloadErrorKind::UnexpectedEnd { expected }))
    }

    fn run(mut self) -> Result<(), PayloadError> {
        let mut state = Expect::Value;
        loop {
            self.skip_ws();
            let Some(&b) = self.bytes.get(self.pos) else {
                return self.end_of_input(state);
            };
            state = match state {
                Expect::Value => self.value(b)?,
                Expect::ValueOrArrayEnd => {
                    if b == b']' {
                        self.pos += 1;
                        self.stack.pop();
                        self.after_value()
                    } else {
                        self.value(b)?
                    }
                }
                Expect::KeyOrEnd | Expect::Key => {
                    if b == b'}' && state == Expect::KeyOrEnd {
                        self.pos += 1;
                        self.stack.pop();
                        self.after_value()
                    } else if b == b'"' {
                        self.string()?;
                        Expect::Colon
                    } else {
                        return Err(self.unexpected(
                            self.pos,
                            "was expecting double-quote to start field name",
                        ));
                    }
                }
                Expect::Colon => {
                    if b == b':' {
                        self.pos += 1;
                        Expect::Value
                    } else {
                        return Err(self.unexpected(
                            self.pos,
                            "was expecting a colon to separate field name and value",
                        ));
                    }
                }
                Expect::ObjectCommaOrEnd => match b {
                    b',' => {
                        self.pos += 1;
                        Expect::Key
                    }
                    b'}' => {
                        self.pos += 1;
                        self.stack.pop();
                        self.after_value()
                    }
                    _ => {
                        return Err(self.unexpected(
                            self.pos,
                            "was expecting comma to separate Object entries",
                        ));
                    }
                },
                Expect::ArrayCommaOrEnd => match b {
                    b',' => {
                        self.pos += 1;
                        Expect::Value
                    }
                    b']' => {
                        self.pos += 1;
                        self.stack.pop();
                        self.after_value()
                    }
                    _ => {
                        return Err(self.unexpected(
                            self.pos,
                            "was expecting comma to separate Array entries",
                        ));
                    }
                },
                Expect::End => {
                    return Err(self.unexpected(self.pos, "expected end-of-input"));
                }
            };
        }
    }

    /// Parse the value starting with byte `b`; return the next state.
    fn value(&mut self, b: u8) -> Result<Expect, PayloadError> {
        match b {
            b'{' => {
                self.push(Container::Object)?;
                self.pos += 1;
                Ok(Expect::KeyOrEnd)
            }
            b'[' => {
                self.push(Container::Array)?;
                self.pos += 1;
                Ok(Expect::ValueOrArrayEnd)
            }
            b'"' => {
                self.string()?;
                Ok(self.after_value())
            }
            b'-' | b'0'..=b'9' => {
                self.number()?;
                Ok(self.after_value())
            }
            b'/' => Err(self.unexpected(
                self.pos,
                "maybe a (non-standard) comment? (not recognized as one since Feature 'ALLOW_COMMENTS' not enabled for parser)",
            )),
            _ if b.is_ascii_alphabetic() => {
                self.literal()?;
                Ok(self.after_value())
            }
            _ => Err(self.unexpected(self.pos, EXPECTED_VALUE)),
        }
    }

    /// `true`, `false`, `null`, or an error naming the bare word.
    fn literal(&mut self) -> Result<(), PayloadError> {
        let start = self.pos;
        let mut end = start;
        while let Some(b) = self.bytes.get(end) {
            if is_ws(*b) || matches!(b, b'{' | b'}' | b'[' | b']' | b',' | b':' | b'"') {
                break;
            }
            end += 1;
        }
        // `end` stops at an ASCII byte or the end of input: always a char boundary.
        let token = self.text.get(start..end).unwrap_or("");
        match token {
            "true" | "false" | "null" => {
                self.pos = end;
                Ok(())
            }
            "NaN" => Err(self.error(start, PayloadErrorKind::NonStandardNumber { token: "NaN" })),
            "Infinity" => Err(self.error(
                start,
                PayloadErrorKind::NonStandardNumber { token: "Infinity" },
            )),
            _ => Err(self.error(
                start,
                PayloadErrorKind::UnrecognizedToken {
                    token: token.chars().take(256).collect(),
                },
            )),
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<(), PayloadError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
            if self.text[self.pos..].starts_with("Infinity") {
                return Err(self.error(
                    start,
                    PayloadErrorKind::NonStandardNumber { token: "-Infinity" },
                ));
            }
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.error(self.pos, PayloadErrorKind::LeadingZero));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            Some(_) => {
                return Err(self.unexpected(
                    self.pos,
                    "expected digit (0-9) to follow minus sign, for valid numeric value",
                ));
            }
            None => {
                return Err(self.error(
                    self.pos,
                    PayloadErrorKind::UnexpectedEnd {
                        expected: "expected digit (0-9) to follow minus sign, for valid numeric value",
                    },
                ));
            }
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.require_digit("Decimal point not followed by a digit")?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.require_digit("Exponent indicator not followed by a digit")?;
        }
        Ok(())
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    /// One or more digits, else an error with `expected`.
    fn require_digit(&mut self, expected: &'static str) -> Result<(), PayloadError> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            Some(_) => Err(self.unexpected(self.pos, expected)),
            None => Err(self.error(self.pos, PayloadErrorKind::UnexpectedEnd { expected })),
        }
    }

    /// A string starting at the opening quote; leaves `pos` after the closing quote.
    fn string(&mut self) -> Result<(), PayloadError> {
        self.pos += 1; // opening quote
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error(
                    self.pos,
                    PayloadErrorKind::UnexpectedEnd {
                        expected: "was expecting closing quote for a string value",
                    },
                ));
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                b'\\' => self.escape()?,
                0x00..=0x1f => {
                    return Err(self.error(
                        self.pos,
                        PayloadErrorKind::ControlCharInString { code: u32::from(b) },
                    ));
                }
                _ => self.pos += 1,
            }
        }
    }

    /// An escape starting at the backslash.
    fn escape(&mut self) -> Result<(), PayloadError> {
        let backslash = self.pos;
        self.pos += 1;
        let Some(e) = self.peek() else {
            return Err(self.error(
                self.pos,
                PayloadErrorKind::UnexpectedEnd {
                    expected: "was expecting closing quote for a string value",
                },
            ));
        };
        match e {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                self.pos += 1;
                Ok(())
            }
            b'u' => {
                self.pos += 1;
                let unit = self.hex4()?;
                if (0xDC00..=0xDFFF).contains(&unit) {
                    return Err(self.error(backslash, PayloadErrorKind::LoneSurrogate { unit }));
                }
                if (0xD800..=0xDBFF).contains(&unit) {
                    // A high surrogate must be followed by `\u` + a low surrogate.
                    let next_is_escape = self.bytes.get(self.pos) == Some(&b'\\')
                        && self.bytes.get(self.pos + 1) == Some(&b'u');
                    if !next_is_escape {
                        return Err(self.error(backslash, PayloadErrorKind::LoneSurrogate { unit }));
                    }
                    self.pos += 2;
                    let low = self.hex4()?;
                    if !(0xDC00..=0xDFFF).contains(&low) {
                        return Err(self.error(backslash, PayloadErrorKind::LoneSurrogate { unit }));
                    }
                }
                Ok(())
            }
            _ => Err(self.error(
                self.pos,
                PayloadErrorKind::InvalidEscape {
                    found: self.char_at(self.pos),
                },
            )),
        }
    }

    /// Four hex digits → code unit.
    fn hex4(&mut self) -> Result<u16, PayloadError> {
        let mut unit: u16 = 0;
        for _ in 0..4 {
            let Some(b) = self.peek() else {
                return Err(self.error(
                    self.pos,
                    PayloadErrorKind::UnexpectedEnd {
                        expected: "was expecting closing quote for a string value",
                    },
                ));
            };
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return Err(self.error(self.pos, PayloadErrorKind::InvalidUnicodeEscape)),
            };
            unit = (unit << 4) | u16::from(d);
            self.pos += 1;
        }
        Ok(unit)
    }
}

/// Remove insignificant whitespace from valid JSON text (whitespace inside
/// strings is kept). Used to put client-context JSON into one header line.
pub fn minify_json(valid_json: &str) -> String {
    let mut out = String::with_capacity(valid_json.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in valid_json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) {
        assert!(
            validate_json_payload(s.as_bytes()).is_ok(),
            "should accept {s:?}"
        );
    }

    fn bad(s: &[u8]) -> PayloadError {
        match validate_json_payload(s) {
            Ok(()) => panic!("should reject {:?}", String::from_utf8_lossy(s)),
            Err(e) => e,
        }
    }

    #[test]
    fn valid_corpus() {
        for s in [
            "{}",
            "[]",
            "0",
            "-0",
            "1.5e+10",
            "1E-2",
            "123456789012345678901234567890",
            "1e400",
            "\"\"",
            "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
            "\"\\u00e9\\uD83D\\uDE00\"",
            "\"é🦀\"",
            "true",
            "false",
            "null",
            " \t\r\n{\"a\" : [1, 2, {\"b\": null}], \"c\": \"d\"}\n ",
            "{\"a\":1,\"a\":2}",
            "[[[[[]]]]]",
            "{\"k\":{\"k\":{\"k\":[true,false,null]}}}",
            "",
            "   \n\t",
        ] {
            ok(s);
        }
        assert!(payload_is_empty(b""));
        assert!(payload_is_empty(b" \n\t\r"));
        assert!(!payload_is_empty(b" {} "));
    }

    #[test]
    fn invalid_corpus() {
        for s in [
            &b"{"[..],
            b"}",
            b"[1,]",
            b"{\"a\":1,}",
            b"[1 2]",
            b"{\"a\" 1}",
            b"{a:1}",
            b"{'a':1}",
            b"'a'",
            b"NaN",
            b"Infinity",
            b"-Infinity",
            b"[NaN]",
            b"nul",
            b"truex",
            b"True",
            b"01",
            b"-",
            b"1.",
            b"1e",
            b"1e+",
            b".5",
            b"+1",
            b"0x10",
            b"\"abc",
            b"\"a\nb\"",
            b"\"\x00\"",
            b"\"\\x\"",
            b"\"\\u12G4\"",
            b"\"\\uD800\"",
            b"\"\\uD800x\"",
            b"\"\\uD800\\u0041\"",
            b"\"\\uDC00\"",
            b"// c\n{}",
            b"/* c */ {}",
            b"{} x",
            b"{}{}",
            b"1 2",
            b"\xef\xbb\xbf{}",
            b"\xff",
            b"{\"a\":\"\xc3\x28\"}",
            b"\xed\xa0\x80",
            b"[",
            b"[1,",
            b"{\"a\":",
            b"{\"a\"",
        ] {
            bad(s);
        }
    }

    #[test]
    fn messages_look_like_lambda() {
        let e = bad(b"'test'");
        assert_eq!(
            e.message(),
            "Could not parse request body into json: Could not parse payload into json: Unexpected character (''' (code 39)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1]"
        );
        let f = e.to_failure();
        assert_eq!(f.code, ErrorCode::InvalidRequestContent);
        assert!(f.message.starts_with(PAYLOAD_ERROR_PREFIX));
        let e = bad(b"{c:1}");
        assert!(e.detail().starts_with(
            "Unexpected character ('c' (code 99)): was expecting double-quote to start field name"
        ));
        assert_eq!((e.line, e.column), (1, 2));
        let e = bad(b"{\n  \"a\": 1\n  \"b\": 2}");
        assert!(e.detail().starts_with(
            "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries"
        ));
        assert_eq!((e.line, e.column), (3, 3));
        let e = bad("[\"é\", ²]".as_bytes());
        assert!(
            e.detail()
                .starts_with("Unexpected character ('²' (code 178))")
        );
        assert_eq!(e.column, 7);
        assert!(
            bad(b"tru")
                .detail()
                .starts_with("Unrecognized token 'tru': was expecting")
        );
        assert!(bad(b"NaN").detail().starts_with("Non-standard token 'NaN'"));
        assert!(
            bad(b"[1,]")
                .detail()
                .starts_with("Unexpected character (']' (code 93)): expected a valid value")
        );
        assert!(
            bad(b"\"a\nb\"")
                .detail()
                .starts_with("Illegal unquoted character ((CTRL-CHAR, code 10))")
        );
        assert!(
            bad(b"{\"a\":1")
                .detail()
                .starts_with("Unexpected end-of-input: expected close marker for Object")
        );
        assert!(
            bad(b"\xff")
                .detail()
                .starts_with("Invalid UTF-8 start byte 0xff")
        );
        assert!(matches!(
            bad(b"\"\\uD800\"").kind,
            PayloadErrorKind::LoneSurrogate { unit: 0xD800 }
        ));
    }

    #[test]
    fn depth_cap() {
        let at_cap = format!(
            "{}{}",
            "[".repeat(JSON_DEPTH_MAX),
            "]".repeat(JSON_DEPTH_MAX)
        );
        ok(&at_cap);
        let over = format!(
            "{}{}",
            "[".repeat(JSON_DEPTH_MAX + 1),
            "]".repeat(JSON_DEPTH_MAX + 1)
        );
        let e = bad(over.as_bytes());
        assert_eq!(e.kind, PayloadErrorKind::TooDeep);
        assert_eq!(e.offset, JSON_DEPTH_MAX);
        let objects = "{\"a\":".repeat(JSON_DEPTH_MAX + 1);
        assert_eq!(bad(objects.as_bytes()).kind, PayloadErrorKind::TooDeep);
    }

    #[test]
    fn ten_thousand_deep_is_rejected_without_recursion() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(bad(deep.as_bytes()).kind, PayloadErrorKind::TooDeep);
        let deep_open = "[".repeat(1_000_000);
        assert_eq!(bad(deep_open.as_bytes()).kind, PayloadErrorKind::TooDeep);
    }

    #[test]
    fn large_flat_payload() {
        let mut s = String::from("[");
        for i in 0..200_000 {
            if i > 0 {
                s.push(',');
            }
            s.push_str("{\"k\":\"v\",\"n\":-1.5e3}");
        }
        s.push(']');
        ok(&s);
    }

    #[test]
    fn minify() {
        assert_eq!(
            minify_json("{ \"a b\" :\n [1, \"x\\\" y\"] }"),
            "{\"a b\":[1,\"x\\\" y\"]}"
        );
    }

    /// Arbitrary JSON values up to a given depth.
    fn json_value(depth: u32) -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| serde_json::json!(f)),
            "\\PC{0,12}".prop_map(serde_json::Value::String),
            any::<String>().prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(depth, 256, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::btree_map("\\PC{0,8}", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Bytes that look like JSON, to exercise both accept and reject paths.
    fn jsonish_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                Just(b"{".to_vec()),
                Just(b"}".to_vec()),
                Just(b"[".to_vec()),
                Just(b"]".to_vec()),
                Just(b",".to_vec()),
                Just(b":".to_vec()),
                Just(b"\"".to_vec()),
                Just(b"\\".to_vec()),
                Just(b"\\u".to_vec()),
                Just(b"d800".to_vec()),
                Just(b"dc00".to_vec()),
                Just(b"0".to_vec()),
                Just(b"1".to_vec()),
                Just(b"-".to_vec()),
                Just(b".".to_vec()),
                Just(b"e".to_vec()),
                Just(b"true".to_vec()),
                Just(b"null".to_vec()),
                Just(b" ".to_vec()),
                Just(b"\n".to_vec()),
                Just(b"a".to_vec()),
                Just("é".as_bytes().to_vec()),
                Just(vec![0xff]),
                Just(vec![0x01]),
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn agrees_with_serde_json_on_valid_documents(v in json_value(8)) {
            let compact = serde_json::to_vec(&v).unwrap();
            prop_assert!(validate_json_payload(&compact).is_ok());
            let pretty = serde_json::to_vec_pretty(&v).unwrap();
            prop_assert!(validate_json_payload(&pretty).is_ok());
        }

        #[test]
        fn agrees_with_serde_json_on_jsonish_bytes(bytes in jsonish_bytes()) {
            if payload_is_empty(&bytes) {
                prop_assert!(validate_json_payload(&bytes).is_ok());
            } else {
                let ours = validate_json_payload(&bytes).is_ok();
                // Parse into `Value`: `IgnoredAny` skips surrogate checks.
                let theirs = serde_json::from_slice::<serde_json::Value>(&bytes);
                match theirs {
                    Ok(_) => prop_assert!(ours, "serde_json accepted, we refused"),
                    // serde_json rejects out-of-range numbers that we (like Jackson) accept.
                    Err(e) if ours => prop_assert!(
                        e.to_string().contains("number out of range"),
                        "we accepted, serde_json refused: {e}"
                    ),
                    Err(_) => {}
                }
            }
        }

        #[test]
        fn agrees_with_serde_json_on_deep_documents(
            inner in json_value(2),
            wrappers in prop::collection::vec(any::<bool>(), 1..99),
        ) {
            // Wrap `inner` in up to 98 arrays/objects: total depth < 100, below
            // serde_json's own recursion limit of 128.
            let mut v = inner;
            for as_array in wrappers {
                v = if as_array {
                    serde_json::Value::Array(vec![v, serde_json::Value::Null])
                } else {
                    let mut m = serde_json::Map::new();
                    m.insert("k".to_string(), v);
                    serde_json::Value::Object(m)
                };
            }
            let text = serde_json::to_vec(&v).unwrap();
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&text).is_ok());
            prop_assert!(validate_json_payload(&text).is_ok());
            // Cutting the last byte breaks both.
            let cut = &text[..text.len() - 1];
            let theirs = serde_json::from_slice::<serde_json::Value>(cut).is_ok();
            prop_assert_eq!(validate_json_payload(cut).is_ok(), theirs);
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = validate_json_payload(&bytes).map_err(|e| e.message());
        }
    }

    #[test]
    fn deep_documents_agree_with_serde_json_below_its_limit() {
        // serde_json's own recursion limit is 128; compare up to depth 99.
        for depth in [1usize, 10, 50, 99] {
            let s = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            assert!(serde_json::from_str::<serde_json::Value>(&s).is_ok());
            ok(&s);
            let broken = format!("{}1{}", "[".repeat(depth), "]".repeat(depth - 1));
            assert!(serde_json::from_str::<serde_json::Value>(&broken).is_err());
            assert!(validate_json_payload(broken.as_bytes()).is_err());
        }
    }
}
