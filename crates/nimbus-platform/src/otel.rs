//! Platform spans for OpenTelemetry: the X-Ray ↔ OTel id mapping, the parent of an
//! invocation's span, and the `queue_wait` span.
//!
//! An invocation is one `invocation` span (`tracing`, target `nimbus_platform::invoke`) with
//! children `admission`, `cold_start` (cold only) and `run`, plus `queue_wait` when its input
//! waited in a queue. They are exported only when `nimbus serve` installs an OpenTelemetry
//! layer (`--otlp-endpoint`); without one every function here is a cheap no-op.
//!
//! The OTel trace id *is* the X-Ray Root (`1-5759e988-bd862e3fe1be46a994272793` ↔
//! `5759e988bd862e3fe1be46a994272793`, AWS's convention), so platform spans and the
//! function's own spans land in one trace. The caller's `Parent` segment becomes the remote
//! parent span; an invocation without one is the root of its trace, and [`XrayIdGenerator`]
//! gives that root span the X-Ray Root as its trace id. The `Parent` the function sees is
//! the `run` span's id, so the function's spans nest under it.

use nimbus_api::trace::{SegmentId, TraceHeader, TraceId as XrayTraceId};
use opentelemetry::Context;
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    Tracer as _,
};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};
use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The instrumentation scope of the platform's spans.
pub const TRACER_NAME: &str = "nimbus";

/// The OTel trace id of an X-Ray Root; `None` for the all-zero id, which OTel reserves for
/// "no trace" (such a Root is well-formed X-Ray but cannot be joined).
pub fn trace_id(root: &XrayTraceId) -> Option<TraceId> {
    let id = TraceId::from_bytes(root.as_u128().to_be_bytes());
    (id != TraceId::INVALID).then_some(id)
}

/// [`trace_id`] of a Root's text (`1-<8 hex>-<24 hex>`); `None` for anything else.
pub fn trace_id_of_root(root: &str) -> Option<TraceId> {
    XrayTraceId::parse(root).ok().as_ref().and_then(trace_id)
}

/// The OTel span id of an X-Ray segment id; `None` for zero (invalid in OTel).
pub fn span_id(segment: SegmentId) -> Option<SpanId> {
    let id = SpanId::from_bytes(segment.0.to_be_bytes());
    (id != SpanId::INVALID).then_some(id)
}

/// The remote span context a header's `Parent` names; `None` without a (valid) parent.
pub fn remote_parent(header: &TraceHeader) -> Option<SpanContext> {
    let trace_id = trace_id(&header.root)?;
    let span_id = header.parent.and_then(span_id)?;
    let flags = if header.sampled == Some(true) {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    Some(SpanContext::new(
        trace_id,
        span_id,
        flags,
        true,
        TraceState::default(),
    ))
}

thread_local! {
    /// The trace id the next root span built on this thread takes (see [`XrayIdGenerator`]).
    static NEXT_TRACE_ID: Cell<Option<TraceId>> = const { Cell::new(None) };
}

/// Random ids, except that a root span built inside [`continue_trace`] takes the X-Ray
/// Root as its trace id: the SDK offers no other way to choose a root span's trace id.
#[derive(Debug, Default)]
pub struct XrayIdGenerator {
    random: RandomIdGenerator,
}

impl IdGenerator for XrayIdGenerator {
    fn new_trace_id(&self) -> TraceId {
        NEXT_TRACE_ID
            .with(Cell::take)
            .unwrap_or_else(|| self.random.new_trace_id())
    }

    fn new_span_id(&self) -> SpanId {
        self.random.new_span_id()
    }
}

/// Makes `span` (just created, not yet entered) continue `header`'s trace: a child of the
/// caller's segment when it named one, else the root of the trace with the Root's id.
pub(crate) fn continue_trace(span: &tracing::Span, header: &TraceHeader) {
    let Some(trace_id) = trace_id(&header.root) else {
        return;
    };
    let parent = match remote_parent(header) {
        Some(parent) => Context::new().with_remote_span_context(parent),
        // An empty parent: the root of its trace, not a child of whatever span is current.
        None => Context::new(),
    };
    if span.set_parent(parent).is_err() {
        // No OpenTelemetry layer (nothing is exported) or the span is disabled.
        return;
    }
    // Build the OTel span now, on this thread, so the id generator sees the Root.
    NEXT_TRACE_ID.with(|next| next.set(Some(trace_id)));
    let _ = span.context();
    NEXT_TRACE_ID.with(|next| next.set(None));
}

/// The segment id the function should see as its `Parent`: `span`'s OTel span id, so the
/// function's spans become its children; `None` when nothing is exported.
pub(crate) fn segment_of(span: &tracing::Span) -> Option<SegmentId> {
    let cx = span.context();
    let context = cx.span().span_context().clone();
    context
        .is_valid()
        .then(|| SegmentId(u64::from_be_bytes(context.span_id().to_bytes())))
}

/// A `queue_wait` span under `span` from `since_ms` (Unix ms: when the input became due)
/// until now. Its start lies in the past, so it is made with the OTel API directly
/// (`tracing` spans start when created).
pub(crate) fn queue_wait(span: &tracing::Span, since_ms: i64) {
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return;
    }
    let now = SystemTime::now();
    let since = UNIX_EPOCH + Duration::from_millis(u64::try_from(since_ms).unwrap_or(0));
    // Clocks of other writers (a restarted server, a queue's sender) may be ahead of ours.
    let start = since.min(now);
    let tracer = opentelemetry::global::tracer(TRACER_NAME);
    let mut wait = tracer
        .span_builder("queue_wait")
        .with_start_time(start)
        .start_with_context(&tracer, &cx);
    wait.end_with_timestamp(now);
}

/// OpenTelemetry's `faas.trigger` for a Nimbus trigger (`http`, `pubsub` or `other`; our own
/// word is `nimbus.trigger`).
pub(crate) fn faas_trigger(trigger: crate::metering::Trigger) -> &'static str {
    use crate::metering::Trigger;
    match trigger {
        Trigger::Gateway => "http",
        Trigger::Queue | Trigger::Async => "pubsub",
        Trigger::Sync | Trigger::DeploymentHook => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_maps_to_its_hex_without_version_and_dash() {
        let id = trace_id_of_root("1-5759e988-bd862e3fe1be46a994272793").unwrap();
        assert_eq!(id.to_string(), "5759e988bd862e3fe1be46a994272793");
        // Upper-case hex is the same trace.
        assert_eq!(
            trace_id_of_root("1-5759E988-BD862E3FE1BE46A994272793"),
            Some(id)
        );
        let header =
            TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8")
                .unwrap();
        assert_eq!(trace_id(&header.root), Some(id));
    }

    #[test]
    fn bad_roots_are_refused() {
        for root in [
            "",
            "1",
            "5759e988bd862e3fe1be46a994272793",
            "2-5759e988-bd862e3fe1be46a994272793",
            "1-5759e98-bd862e3fe1be46a994272793",
            "1-5759e988-bd862e3fe1be46a99427279",
            "1-5759e988-bd862e3fe1be46a99427279g",
            "1-5759e988-bd862e3fe1be46a994272793-00",
            "Root=1-5759e988-bd862e3fe1be46a994272793",
            // Well-formed X-Ray, but the all-zero id means "no trace" in OTel.
            "1-00000000-000000000000000000000000",
        ] {
            assert_eq!(trace_id_of_root(root), None, "{root:?}");
        }
    }

    #[test]
    fn the_parent_segment_is_the_remote_parent_span() {
        let header = TraceHeader::parse(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        )
        .unwrap();
        let parent = remote_parent(&header).unwrap();
        assert_eq!(
            parent.trace_id().to_string(),
            "5759e988bd862e3fe1be46a994272793"
        );
        assert_eq!(parent.span_id().to_string(), "53995c3f42cd8ad8");
        assert!(parent.is_remote() && parent.is_sampled());
        // No parent, or a zero one: no remote parent (the invocation is the root).
        let no_parent = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793").unwrap();
        assert!(remote_parent(&no_parent).is_none());
        assert!(remote_parent(&no_parent.child(SegmentId(0))).is_none());
        assert_eq!(span_id(SegmentId(0)), None);
    }

    #[test]
    fn the_generator_hands_out_the_root_once_then_random_ids() {
        let generator = XrayIdGenerator::default();
        let root = trace_id_of_root("1-5759e988-bd862e3fe1be46a994272793").unwrap();
        NEXT_TRACE_ID.with(|next| next.set(Some(root)));
        assert_eq!(generator.new_trace_id(), root);
        let next = generator.new_trace_id();
        assert_ne!(next, root);
        assert_ne!(next, TraceId::INVALID);
    }

    #[test]
    fn without_an_exporter_nothing_happens() {
        // No OpenTelemetry layer is installed in unit tests.
        let span = tracing::Span::none();
        let header = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793").unwrap();
        continue_trace(&span, &header);
        queue_wait(&span, 0);
        assert_eq!(segment_of(&span), None);
    }

    proptest::proptest! {
        #[test]
        fn any_text_maps_or_is_refused_without_panicking(s in ".{0,64}") {
            if let Some(id) = trace_id_of_root(&s) {
                proptest::prop_assert_ne!(id, TraceId::INVALID);
            }
        }

        #[test]
        fn every_nonzero_root_maps_to_its_128_bits(epoch in 0u64..=u64::from(u32::MAX), random in proptest::prelude::any::<u128>()) {
            let root = XrayTraceId::new(epoch, random);
            match trace_id(&root) {
                Some(id) => proptest::prop_assert_eq!(u128::from_be_bytes(id.to_bytes()), root.as_u128()),
                None => proptest::prop_assert_eq!(root.as_u128(), 0),
            }
        }
    }
}
