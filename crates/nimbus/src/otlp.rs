//! Optional OTLP export of platform spans (`nimbus serve --otlp-endpoint URL`).
//!
//! The spans themselves are made on the invoke path (`nimbus_platform::otel`); here they are
//! batched and sent over OTLP/HTTP protobuf. Off by default: without an endpoint no exporter,
//! thread or connection exists, and the spans only feed the log lines as before.

use anyhow::{Context, bail};
use nimbus_platform::otel::{TRACER_NAME, XrayIdGenerator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use std::time::Duration;
use tracing_subscriber::Layer as _;

/// The collector base URL (`/v1/traces` is appended), as OpenTelemetry SDKs read it.
pub const ENV_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The full traces URL (used as is), as OpenTelemetry SDKs read it.
pub const ENV_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// The path of the OTLP/HTTP traces endpoint under a base URL.
const TRACES_PATH: &str = "/v1/traces";
/// The `service.name` of every exported span.
const SERVICE_NAME: &str = "nimbus";
/// Spans waiting for export. When a collector is slow or down, new spans are dropped (the
/// SDK counts them) instead of growing memory; this holds ~3 s of spans at 1,000
/// invocations per second with 5 spans each.
const QUEUE_SPANS_MAX: usize = 16_384;
/// How long shutdown waits for the last export: a collector that is down must not hold up
/// the server's exit for the exporter's full timeout and retries.
const SHUTDOWN_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// Only the invocation path's spans are exported (`invocation` and its children); the
/// other spans are for the log.
const EXPORTED_TARGET: &str = "nimbus_platform::invoke";

/// The traces URL from `--otlp-endpoint` (a base URL), else the traces variable (a full
/// URL), else the generic variable (a base URL); `None`: export is off. Empty values count
/// as unset, as in the OpenTelemetry SDKs.
pub fn traces_url(
    flag: Option<&str>,
    traces_env: Option<&str>,
    generic_env: Option<&str>,
) -> anyhow::Result<Option<String>> {
    fn given(v: Option<&str>) -> Option<&str> {
        v.map(str::trim).filter(|v| !v.is_empty())
    }
    // (what was given, whether `/v1/traces` is to be appended)
    let (given, is_base) = if let Some(base) = given(flag) {
        (base, true)
    } else if let Some(full) = given(traces_env) {
        (full, false)
    } else if let Some(base) = given(generic_env) {
        (base, true)
    } else {
        return Ok(None);
    };
    let parsed = reqwest::Url::parse(given).with_context(|| format!("OTLP endpoint {given:?}"))?;
    match parsed.scheme() {
        "http" => {}
        // The binary carries no TLS client (as for every other outgoing call).
        "https" => bail!(
            "OTLP endpoint {given:?}: https is not supported; export to a collector over http \
             (e.g. a local OpenTelemetry Collector that forwards over TLS)"
        ),
        other => bail!("OTLP endpoint {given:?}: scheme {other:?} is not http"),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        bail!("OTLP endpoint {given:?} has no host");
    }
    let url = if is_base {
        format!("{}{TRACES_PATH}", given.trim_end_matches('/'))
    } else {
        given.to_string()
    };
    Ok(Some(url))
}

/// Starts the exporter: a batch span processor (its own thread) sending to `url`. Call it
/// only once the process may have threads (after the sandboxes started).
pub fn start(url: &str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .build()
        .context("build the OTLP span exporter")?;
    let batch = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(QUEUE_SPANS_MAX)
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(batch)
        // Every invocation's spans: the operator asked for them. X-Ray's `Sampled` is the
        // function's own decision and travels on unchanged.
        .with_sampler(Sampler::AlwaysOn)
        .with_id_generator(XrayIdGenerator::default())
        .with_resource(
            Resource::builder()
                .with_service_name(SERVICE_NAME)
                .with_attribute(opentelemetry::KeyValue::new(
                    "service.version",
                    env!("CARGO_PKG_VERSION"),
                ))
                .build(),
        )
        .build();
    // The `queue_wait` span is made through the global tracer (its start lies in the past).
    opentelemetry::global::set_tracer_provider(provider.clone());
    Ok(provider)
}

/// The `tracing` layer that turns the invocation path's spans into OTel spans.
pub fn layer<S>(provider: &SdkTracerProvider) -> impl tracing_subscriber::Layer<S> + Send + Sync
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync,
{
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(TRACER_NAME))
        .with_location(false)
        .with_threads(false)
        .with_filter(
            tracing_subscriber::filter::Targets::new()
                .with_target(EXPORTED_TARGET, tracing::Level::INFO),
        )
}

/// Exports what is still queued and stops the exporter (bounded by
/// [`SHUTDOWN_FLUSH_TIMEOUT`]). Blocking: call it outside the async runtime.
pub fn shutdown(provider: &SdkTracerProvider) {
    if let Err(e) = provider.shutdown_with_timeout(SHUTDOWN_FLUSH_TIMEOUT) {
        eprintln!("nimbus: WARNING: could not flush the last platform spans: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_beats_the_traces_variable_which_beats_the_generic_one() {
        let url = |f, t, g| traces_url(f, t, g).unwrap();
        assert_eq!(url(None, None, None), None);
        assert_eq!(url(Some(""), Some(" "), Some("")), None);
        assert_eq!(
            url(
                Some("http://127.0.0.1:4318"),
                Some("http://t/x"),
                Some("http://g")
            ),
            Some("http://127.0.0.1:4318/v1/traces".into())
        );
        assert_eq!(
            url(Some("http://c:4318/"), None, None),
            Some("http://c:4318/v1/traces".into())
        );
        // The traces variable is a full URL, used as is.
        assert_eq!(
            url(None, Some("http://t:4318/custom"), Some("http://g")),
            Some("http://t:4318/custom".into())
        );
        assert_eq!(
            url(None, None, Some("http://g:4318/base")),
            Some("http://g:4318/base/v1/traces".into())
        );
    }

    #[test]
    fn unusable_endpoints_are_refused_at_start() {
        for bad in [
            "https://c:4318",
            "grpc://c:4317",
            "c:4318",
            "not a url",
            "http://",
        ] {
            assert!(traces_url(Some(bad), None, None).is_err(), "{bad:?}");
        }
    }
}
