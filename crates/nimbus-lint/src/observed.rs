//! Settings the measurements contradict: NL004 (memory), NL005 (p99 near the timeout) and
//! NL006 (Init near its cap). Each needs its measurement; without it the rule is silent.

use nimbus_api::stack::FunctionSpec;

use crate::thresholds::{
    INIT_CAP_MS, INIT_NEAR_MS, MEMORY_MIN_MB, MEMORY_NEAR_FRACTION, MEMORY_OVERSIZE_RATIO,
    MEMORY_OVERSIZE_SAMPLE_MIN, MEMORY_OVERSIZE_SLACK_MB, MEMORY_SUGGEST_HEADROOM,
    P99_NEAR_FRACTION,
};
use crate::{Finding, Input, Observed, Rule, Severity, finding};

pub(crate) fn check(input: &Input<'_>, out: &mut Vec<Finding>) {
    for f in &input.spec.functions {
        let Some(seen) = input.observed.get(&f.logical_id) else {
            continue;
        };
        memory(f, seen, out);
        p99(f, seen, out);
        init(f, seen, out);
    }
}

fn memory(f: &FunctionSpec, seen: &Observed, out: &mut Vec<Finding>) {
    let Some(peak) = seen.max_memory_used_mb else {
        return;
    };
    let size = f.memory_size as f64;
    let suggested = (peak * MEMORY_SUGGEST_HEADROOM).max(MEMORY_MIN_MB).ceil();
    if peak >= size * (1.0 - MEMORY_NEAR_FRACTION) {
        let mut found = finding(
            Rule::MemoryVsObserved,
            &f.logical_id,
            format!(
                "peak memory {peak:.0} MB is within {:.0} % of MemorySize {} MB",
                MEMORY_NEAR_FRACTION * 100.0,
                f.memory_size
            ),
        );
        found.fix = format!("raise MemorySize to at least {suggested:.0} MB");
        out.push(found);
        return;
    }
    let enough_samples = seen
        .invocations
        .is_none_or(|n| n >= MEMORY_OVERSIZE_SAMPLE_MIN);
    if enough_samples
        && size > peak * MEMORY_OVERSIZE_RATIO
        && size - peak > MEMORY_OVERSIZE_SLACK_MB
    {
        let mut found = finding(
            Rule::MemoryVsObserved,
            &f.logical_id,
            format!(
                "MemorySize {} MB is {:.0}× the peak used ({peak:.0} MB)",
                f.memory_size,
                size / peak.max(1.0)
            ),
        );
        // Oversized memory costs money but breaks nothing.
        found.severity = Severity::Info;
        found.fix = format!(
            "lower MemorySize to about {suggested:.0} MB (CPU scales with memory: check the duration after)"
        );
        out.push(found);
    }
}

fn p99(f: &FunctionSpec, seen: &Observed, out: &mut Vec<Finding>) {
    let Some(p99) = seen.p99_duration_ms else {
        return;
    };
    let timeout_ms = f.timeout as f64 * 1000.0;
    if p99 < timeout_ms * (1.0 - P99_NEAR_FRACTION) {
        return;
    }
    out.push(finding(
        Rule::P99NearTimeout,
        &f.logical_id,
        format!(
            "p99 duration {p99:.0} ms is within {:.0} % of Timeout {} s",
            P99_NEAR_FRACTION * 100.0,
            f.timeout
        ),
    ));
}

fn init(f: &FunctionSpec, seen: &Observed, out: &mut Vec<Finding>) {
    let Some(init) = seen.max_init_ms else {
        return;
    };
    if init < INIT_NEAR_MS {
        return;
    }
    out.push(finding(
        Rule::SlowInit,
        &f.logical_id,
        format!(
            "Init took up to {init:.0} ms (cap {:.0} s)",
            INIT_CAP_MS / 1000.0
        ),
    ));
}
