//! Trace ids on invocations: new traces, the hop an invocation adds, and the trace of an
//! asynchronous event.
//!
//! Every invocation runs with an X-Ray header (`Lambda-Runtime-Trace-Id`, hence
//! `_X_AMZN_TRACE_ID`): the caller's `Root` when it sent one (Invoke's `X-Amzn-Trace-Id`, a
//! queue message's `AWSTraceHeader`, an event's stored header), else a new one. The
//! invocation is one hop: same `Root`, a new `Parent` (the function's segment), and a
//! sampling decision. The header syntax lives in [`nimbus_api::trace`]; the clock and the
//! random bits are here.

use nimbus_api::trace::{SegmentId, TraceHeader, TraceId};
use nimbus_store::EventRow;
use sha2::Digest;

/// A new trace starting now (random root, no parent, no sampling decision yet).
pub fn new_trace() -> TraceHeader {
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    TraceHeader::new(TraceId::new(now, rand::random()))
}

/// The header an invocation's runtime sees: the incoming trace (or a new one) one hop
/// further, with a new `Parent` (`segment`: the platform's `run` span when spans are
/// exported, else random). With no decision upstream, `TracingConfig.Mode` decides:
/// `Active` samples, `PassThrough` does not (Lambda's rule; no X-Ray segments are sent
/// either way).
pub(crate) fn for_invocation(
    incoming: Option<&TraceHeader>,
    tracing_mode: &str,
    segment: Option<SegmentId>,
) -> TraceHeader {
    let trace = incoming.copied().unwrap_or_else(new_trace);
    trace
        .child(segment.unwrap_or_else(|| SegmentId(rand::random())))
        .decided(tracing_mode == "Active")
}

/// The trace of an asynchronous event: the header stored when it was accepted, so every
/// attempt and every delivery shares its `Root`. An event stored without one (a schedule's
/// slot, a row written before traces were kept) gets a root derived from its request id and
/// acceptance time: new per event, and the same on every attempt and after a restart.
pub(crate) fn of_event(row: &EventRow) -> TraceHeader {
    TraceHeader::parse_lenient(row.trace_header.as_deref())
        .unwrap_or_else(|| derived(&row.id, row.received_ms))
}

/// A root that is a function of (`id`, `received_ms`) only.
fn derived(id: &str, received_ms: i64) -> TraceHeader {
    let digest = sha2::Sha256::digest(id.as_bytes());
    let mut random = [0u8; 16];
    random.copy_from_slice(&digest[..16]);
    let epoch_s = u64::try_from(received_ms / 1000).unwrap_or(0);
    TraceHeader::new(TraceId::new(epoch_s, u128::from_be_bytes(random)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, trace: Option<&str>) -> EventRow {
        let mut row =
            crate::async_events::new_event_row(id, "f", None, b"{}".to_vec(), 1_700_000_000_123);
        row.trace_header = trace.map(str::to_string);
        row
    }

    #[test]
    fn new_traces_are_distinct_and_current() {
        let (a, b) = (new_trace(), new_trace());
        assert_ne!(a.root, b.root);
        let now = chrono::Utc::now().timestamp();
        assert!((i64::from(a.root.epoch_s()) - now).abs() <= 1);
        assert_eq!((a.parent, a.sampled), (None, None));
    }

    #[test]
    fn an_invocation_continues_the_incoming_root_with_a_new_parent() {
        let incoming =
            TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8")
                .unwrap();
        let hop = for_invocation(Some(&incoming), "PassThrough", None);
        assert_eq!(hop.root, incoming.root);
        assert!(hop.parent.is_some());
        assert_ne!(hop.parent, incoming.parent);
        assert_eq!(hop.sampled, Some(false));
        assert_eq!(
            for_invocation(Some(&incoming), "Active", None).sampled,
            Some(true)
        );
        // An upstream decision wins over the mode.
        let sampled = TraceHeader {
            sampled: Some(false),
            ..incoming
        };
        assert_eq!(
            for_invocation(Some(&sampled), "Active", None).sampled,
            Some(false)
        );
    }

    #[test]
    fn an_invocation_without_a_trace_starts_one() {
        let a = for_invocation(None, "PassThrough", None);
        let b = for_invocation(None, "PassThrough", None);
        assert_ne!(a.root, b.root);
        assert!(a.parent.is_some());
        assert_eq!(a.sampled, Some(false));
        // The platform's span, when there is one, is the function's parent.
        let c = for_invocation(None, "PassThrough", Some(SegmentId(7)));
        assert_eq!(c.parent, Some(SegmentId(7)));
    }

    #[test]
    fn an_event_keeps_its_stored_trace_or_a_stable_derived_one() {
        let stored = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
        assert_eq!(of_event(&row("a", Some(stored))).to_string(), stored);
        let derived = of_event(&row("a", None));
        assert_eq!(derived, of_event(&row("a", None)));
        assert_eq!(derived, of_event(&row("a", Some("garbage"))));
        assert_ne!(derived.root, of_event(&row("b", None)).root);
        assert_eq!(derived.root.epoch_s(), 1_700_000_000);
    }
}
