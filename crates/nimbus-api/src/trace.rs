//! X-Ray trace headers: `Root=1-<8 hex epoch seconds>-<24 hex random>;Parent=<16 hex>;Sampled=0|1`.
//!
//! The same text travels as the `X-Amzn-Trace-Id` HTTP header (Invoke, SendMessage, the
//! gateway), the Runtime API's `Lambda-Runtime-Trace-Id`, the function's `_X_AMZN_TRACE_ID`
//! and the SQS `AWSTraceHeader` message system attribute. Parsing is pure (no clock, no
//! randomness): callers pass the time and random bits in, so this crate stays free of I/O.
//!
//! What is kept: `Root` (required), `Parent` and `Sampled` (optional). Other fields (`Self`,
//! `Lineage`, vendor keys) are dropped: they describe hops Nimbus does not make. A header
//! without a well-formed `Root` is garbage and the caller starts a new trace; a malformed
//! `Parent` or `Sampled` is ignored rather than losing the caller's `Root`.

use std::fmt;
use std::str::FromStr;

/// Longest header accepted. Real headers are under 256 bytes (Root 40, Parent 23, Sampled
/// 9, Lineage and Self a few dozen); anything far longer is garbage, not a trace.
pub const TRACE_HEADER_BYTES_MAX: usize = 1_024;

/// The trace id version X-Ray defines (the `1` of `1-…`).
const TRACE_ID_VERSION: &str = "1";
/// Hex digits of the epoch part of a trace id (a `u32` of seconds).
const EPOCH_HEX_DIGITS: usize = 8;
/// Hex digits of the random part of a trace id (96 bits).
const RANDOM_HEX_DIGITS: usize = 24;
/// Hex digits of a segment id (64 bits).
const SEGMENT_HEX_DIGITS: usize = 16;
/// The 96 bits a trace id's random part holds.
const RANDOM_MASK: u128 = (1u128 << 96) - 1;

/// An X-Ray trace id, `1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId {
    epoch_s: u32,
    random: u128,
}

impl TraceId {
    /// A trace id started at `epoch_s` (seconds since the Unix epoch; X-Ray keeps the low 32
    /// bits) with the low 96 bits of `random`.
    pub fn new(epoch_s: u64, random: u128) -> TraceId {
        TraceId {
            // Eight hex digits: the low 32 bits, as X-Ray itself writes them (until 2106).
            epoch_s: (epoch_s & u64::from(u32::MAX)) as u32,
            random: random & RANDOM_MASK,
        }
    }

    /// The start time it carries, seconds since the Unix epoch.
    pub fn epoch_s(&self) -> u32 {
        self.epoch_s
    }

    /// The 128 bits of the id: the epoch seconds (high 32) then the random part (low 96).
    /// As hex, this is the Root without the `1-` and the dash, which is how AWS X-Ray and
    /// OpenTelemetry map ids onto each other (`1-5759e988-bd862e3fe1be46a994272793` ↔
    /// `5759e988bd862e3fe1be46a994272793`).
    pub fn as_u128(&self) -> u128 {
        (u128::from(self.epoch_s) << 96) | self.random
    }

    /// Parses `1-<8 hex>-<24 hex>` (hex digits of either case; written back in lower case).
    pub fn parse(s: &str) -> Result<TraceId, TraceHeaderError> {
        let mut parts = s.split('-');
        let (Some(version), Some(epoch), Some(random), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TraceHeaderError::BadRoot);
        };
        if version != TRACE_ID_VERSION {
            return Err(TraceHeaderError::BadRoot);
        }
        let epoch_s = parse_hex(epoch, EPOCH_HEX_DIGITS).ok_or(TraceHeaderError::BadRoot)?;
        let random = parse_hex(random, RANDOM_HEX_DIGITS).ok_or(TraceHeaderError::BadRoot)?;
        Ok(TraceId {
            epoch_s: u32::try_from(epoch_s).map_err(|_| TraceHeaderError::BadRoot)?,
            random,
        })
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{TRACE_ID_VERSION}-{:0e$x}-{:0r$x}",
            self.epoch_s,
            self.random,
            e = EPOCH_HEX_DIGITS,
            r = RANDOM_HEX_DIGITS
        )
    }
}

/// An X-Ray segment id (`Parent`), 64 bits written as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentId(pub u64);

impl SegmentId {
    /// Parses exactly 16 hex digits.
    pub fn parse(s: &str) -> Option<SegmentId> {
        parse_hex(s, SEGMENT_HEX_DIGITS)
            .and_then(|v| u64::try_from(v).ok())
            .map(SegmentId)
    }
}

impl fmt::Display for SegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:0w$x}", self.0, w = SEGMENT_HEX_DIGITS)
    }
}

/// A trace header: the trace, the segment that caused this hop, and the sampling decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceHeader {
    /// The trace every hop of a request shares.
    pub root: TraceId,
    /// The caller's segment (`None`: the caller did not say).
    pub parent: Option<SegmentId>,
    /// `Sampled=1` / `Sampled=0`; `None`: no decision yet (absent, or `Sampled=?`).
    pub sampled: Option<bool>,
}

/// Why a header is not a trace (the caller then starts a new one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceHeaderError {
    /// Longer than [`TRACE_HEADER_BYTES_MAX`].
    TooLong,
    /// No `Root` field.
    NoRoot,
    /// `Root` is not `1-<8 hex>-<24 hex>`, or appears twice.
    BadRoot,
    /// A field that is not `key=value`.
    Malformed,
}

impl fmt::Display for TraceHeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TraceHeaderError::TooLong => "the trace header is too long",
            TraceHeaderError::NoRoot => "the trace header has no Root",
            TraceHeaderError::BadRoot => "the trace header's Root is not 1-<8 hex>-<24 hex>",
            TraceHeaderError::Malformed => "the trace header is not a list of key=value fields",
        })
    }
}

impl std::error::Error for TraceHeaderError {}

impl TraceHeader {
    /// A new trace: `root`, no parent, no sampling decision.
    pub fn new(root: TraceId) -> TraceHeader {
        TraceHeader {
            root,
            parent: None,
            sampled: None,
        }
    }

    /// The same trace one hop further: `parent` is the segment of the hop being made; the
    /// sampling decision travels with it.
    pub fn child(&self, parent: SegmentId) -> TraceHeader {
        TraceHeader {
            parent: Some(parent),
            ..*self
        }
    }

    /// The same header with a sampling decision made where none was (a decision already
    /// made upstream is kept, as X-Ray requires).
    pub fn decided(&self, default: bool) -> TraceHeader {
        TraceHeader {
            sampled: Some(self.sampled.unwrap_or(default)),
            ..*self
        }
    }

    /// Parses a header (keys are case-insensitive, whitespace around fields is ignored,
    /// unknown fields are dropped).
    pub fn parse(s: &str) -> Result<TraceHeader, TraceHeaderError> {
        if s.len() > TRACE_HEADER_BYTES_MAX {
            return Err(TraceHeaderError::TooLong);
        }
        let mut root = None;
        let mut parent = None;
        let mut sampled = None;
        for field in s.split(';') {
            let field = field.trim_matches([' ', '\t']);
            if field.is_empty() {
                continue;
            }
            let (key, value) = field.split_once('=').ok_or(TraceHeaderError::Malformed)?;
            let (key, value) = (
                key.trim_matches([' ', '\t']),
                value.trim_matches([' ', '\t']),
            );
            if key.eq_ignore_ascii_case("root") {
                if root.is_some() {
                    return Err(TraceHeaderError::BadRoot);
                }
                root = Some(TraceId::parse(value)?);
            } else if key.eq_ignore_ascii_case("parent") {
                parent = SegmentId::parse(value);
            } else if key.eq_ignore_ascii_case("sampled") {
                sampled = match value {
                    "1" => Some(true),
                    "0" => Some(false),
                    // `?` asks the next hop to decide; anything else is no decision either.
                    _ => None,
                };
            }
        }
        Ok(TraceHeader {
            root: root.ok_or(TraceHeaderError::NoRoot)?,
            parent,
            sampled,
        })
    }

    /// [`TraceHeader::parse`] of an optional header, `None` for garbage (the caller then
    /// starts a new trace).
    pub fn parse_lenient(s: Option<&str>) -> Option<TraceHeader> {
        s.and_then(|s| TraceHeader::parse(s).ok())
    }
}

impl FromStr for TraceHeader {
    type Err = TraceHeaderError;

    fn from_str(s: &str) -> Result<TraceHeader, TraceHeaderError> {
        TraceHeader::parse(s)
    }
}

impl fmt::Display for TraceHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Root={}", self.root)?;
        if let Some(parent) = self.parent {
            write!(f, ";Parent={parent}")?;
        }
        if let Some(sampled) = self.sampled {
            write!(f, ";Sampled={}", u8::from(sampled))?;
        }
        Ok(())
    }
}

/// Exactly `digits` hex digits (either case) as a number.
fn parse_hex(s: &str, digits: usize) -> Option<u128> {
    if s.len() != digits || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

    #[test]
    fn a_full_header_round_trips() {
        let h = TraceHeader::parse(FULL).unwrap();
        assert_eq!(h.root.to_string(), "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(h.root.epoch_s(), 0x5759_e988);
        assert_eq!(h.parent, Some(SegmentId(0x5399_5c3f_42cd_8ad8)));
        assert_eq!(h.sampled, Some(true));
        assert_eq!(h.to_string(), FULL);
    }

    #[test]
    fn parent_and_sampled_may_be_missing() {
        let h = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793").unwrap();
        assert_eq!(h.parent, None);
        assert_eq!(h.sampled, None);
        assert_eq!(h.to_string(), "Root=1-5759e988-bd862e3fe1be46a994272793");
        let h = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0").unwrap();
        assert_eq!(h.sampled, Some(false));
        assert_eq!(
            h.to_string(),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0"
        );
    }

    #[test]
    fn field_order_case_whitespace_and_unknown_fields_are_tolerated() {
        let h = TraceHeader::parse(
            " Self=1-67891234-12456789abcdef012345678; sampled=1 ;parent=53995C3F42CD8AD8;root=1-5759E988-BD862E3FE1BE46A994272793;Lineage=a87bd80c:1|68fd508a:5;",
        )
        .unwrap();
        assert_eq!(h.to_string(), FULL);
    }

    #[test]
    fn sampled_question_mark_is_no_decision() {
        let h = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?").unwrap();
        assert_eq!(h.sampled, None);
    }

    #[test]
    fn a_bad_parent_or_sampled_keeps_the_root() {
        let h =
            TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=xyz;Sampled=maybe")
                .unwrap();
        assert_eq!(h.parent, None);
        assert_eq!(h.sampled, None);
        assert_eq!(h.root.to_string(), "1-5759e988-bd862e3fe1be46a994272793");
    }

    #[test]
    fn garbage_is_rejected() {
        let cases: &[(&str, TraceHeaderError)] = &[
            ("", TraceHeaderError::NoRoot),
            (
                "Parent=53995c3f42cd8ad8;Sampled=1",
                TraceHeaderError::NoRoot,
            ),
            ("hello", TraceHeaderError::Malformed),
            ("Root=1", TraceHeaderError::BadRoot),
            (
                "Root=2-5759e988-bd862e3fe1be46a994272793",
                TraceHeaderError::BadRoot,
            ),
            (
                "Root=1-5759e98-bd862e3fe1be46a994272793",
                TraceHeaderError::BadRoot,
            ),
            (
                "Root=1-5759e988-bd862e3fe1be46a99427279",
                TraceHeaderError::BadRoot,
            ),
            (
                "Root=1-5759e988-bd862e3fe1be46a99427279g",
                TraceHeaderError::BadRoot,
            ),
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793-00",
                TraceHeaderError::BadRoot,
            ),
            (
                "Root=1-+759e988-bd862e3fe1be46a994272793",
                TraceHeaderError::BadRoot,
            ),
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-bd862e3fe1be46a994272794",
                TraceHeaderError::BadRoot,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(TraceHeader::parse(input), Err(*want), "{input:?}");
            assert_eq!(TraceHeader::parse_lenient(Some(input)), None, "{input:?}");
        }
        assert_eq!(TraceHeader::parse_lenient(None), None);
    }

    #[test]
    fn length_is_bounded() {
        let padding = "x=y;".repeat(TRACE_HEADER_BYTES_MAX / 4);
        let long = format!("Root=1-5759e988-bd862e3fe1be46a994272793;{padding}");
        assert!(long.len() > TRACE_HEADER_BYTES_MAX);
        assert_eq!(TraceHeader::parse(&long), Err(TraceHeaderError::TooLong));
    }

    #[test]
    fn new_ids_are_well_formed() {
        let id = TraceId::new(0x1_6000_0001, u128::MAX);
        // The low 32 bits of the seconds, the low 96 bits of the random value.
        assert_eq!(id.to_string(), "1-60000001-ffffffffffffffffffffffff");
        let small = TraceId::new(1, 1);
        assert_eq!(small.to_string(), "1-00000001-000000000000000000000001");
        let h = TraceHeader::new(small).child(SegmentId(2)).decided(false);
        assert_eq!(
            h.to_string(),
            "Root=1-00000001-000000000000000000000001;Parent=0000000000000002;Sampled=0"
        );
        assert_eq!(TraceHeader::parse(&h.to_string()), Ok(h));
    }

    #[test]
    fn the_128_bit_form_is_the_root_without_version_and_dash() {
        let id = TraceId::parse("1-5759e988-bd862e3fe1be46a994272793").unwrap();
        assert_eq!(
            format!("{:032x}", id.as_u128()),
            "5759e988bd862e3fe1be46a994272793"
        );
        assert_eq!(TraceId::new(0, 0).as_u128(), 0);
        assert_eq!(TraceId::new(1, 1).as_u128(), (1u128 << 96) | 1);
    }

    #[test]
    fn a_child_keeps_root_and_decision_and_replaces_parent() {
        let h = TraceHeader::parse(FULL).unwrap();
        let c = h.child(SegmentId(7));
        assert_eq!(c.root, h.root);
        assert_eq!(c.sampled, Some(true));
        assert_eq!(c.parent, Some(SegmentId(7)));
        // A decision made upstream is kept; none made takes the default.
        assert_eq!(c.decided(false).sampled, Some(true));
        assert_eq!(TraceHeader::new(h.root).decided(true).sampled, Some(true));
    }

    proptest::proptest! {
        #[test]
        fn formatted_headers_parse_back(
            epoch in proptest::prelude::any::<u64>(),
            random in proptest::prelude::any::<u128>(),
            parent in proptest::option::of(proptest::prelude::any::<u64>()),
            sampled in proptest::option::of(proptest::prelude::any::<bool>()),
        ) {
            let h = TraceHeader {
                root: TraceId::new(epoch, random),
                parent: parent.map(SegmentId),
                sampled,
            };
            proptest::prop_assert_eq!(TraceHeader::parse(&h.to_string()), Ok(h));
        }

        #[test]
        fn any_text_parses_or_is_refused_without_panicking(s in ".{0,200}") {
            if let Ok(h) = TraceHeader::parse(&s) {
                // Whatever was kept is well-formed again.
                proptest::prop_assert_eq!(TraceHeader::parse(&h.to_string()), Ok(h));
            }
        }
    }
}
