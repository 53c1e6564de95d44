//! The FaaS-versus-reserved-capacity crossover, from measured concurrency.
//!
//! The seed argues that pay-per-use wins below some sustained utilisation and always-on
//! instances win above it. Here the load is not a guess: it is the per-minute average
//! concurrency a function actually had (from metering). The same load on always-on instances
//! needs enough of them for the *peak*; FaaS is billed for the *average*. So:
//!
//! - capacity per instance `k` = concurrent executions one instance holds at the function's
//!   memory size and CPU share (Lambda gives 1 vCPU per 1,769 MB), the smaller of the two;
//! - instances `N = ceil(peak / k)`; reserved cost = `N × hourly price × hours`;
//! - utilisation `u = average concurrency / (N × k)`;
//! - FaaS cost grows linearly with `u` (duration at that average concurrency, and requests in
//!   proportion), so the two lines cross at `u* = reserved cost / FaaS cost at u = 100 %`.
//!
//! Below `u*` stay on FaaS; above it, reserved capacity is cheaper. Money here is `f64`
//! dollars: the curves are for a verdict and a plot, not for a bill.

use serde::{Deserialize, Serialize};

use crate::Money;

/// Memory that buys one full vCPU on Lambda (CPU is allocated in proportion to memory).
pub const MB_PER_VCPU: f64 = 1769.0;
/// Memory an instance keeps for its OS and runtime, not for executions.
pub const INSTANCE_RESERVED_MB: f64 = 256.0;
/// Longest instance type name (EC2's are under 20 characters).
pub const INSTANCE_NAME_MAX: usize = 64;
/// Most vCPUs an instance may claim (EC2's largest have under 900).
pub const INSTANCE_VCPUS_MAX: f64 = 1_024.0;
/// Most memory an instance may claim, MiB (32 TiB: EC2's largest).
pub const INSTANCE_MEMORY_MB_MAX: f64 = 33_554_432.0;
/// Highest hourly price accepted, dollars (EC2's dearest on-demand type is ~$400/h); keeps
/// every cost over a 31-day window finite.
pub const INSTANCE_HOURLY_USD_MAX: f64 = 10_000.0;
/// Points on the plotted cost curves (0 %, 5 %, … 100 %).
pub const CURVE_POINTS: usize = 21;

/// One always-on instance type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Instance {
    /// `t3.small`, …
    pub name: String,
    /// vCPUs.
    pub vcpus: f64,
    /// Memory, MiB.
    pub memory_mb: f64,
    /// On-demand price per hour, dollars.
    pub hourly_usd: f64,
}

/// Default instance prices: EC2 on-demand, us-east-1, Linux (the seed's t3.small and
/// t3.xlarge among them). Override with a file of the same shape.
pub fn default_instances() -> Vec<Instance> {
    let i = |name: &str, vcpus: f64, gib: f64, hourly_usd: f64| Instance {
        name: name.to_string(),
        vcpus,
        memory_mb: gib * 1024.0,
        hourly_usd,
    };
    vec![
        i("t3.small", 2.0, 2.0, 0.0208),
        i("t3.medium", 2.0, 4.0, 0.0416),
        i("t3.large", 2.0, 8.0, 0.0832),
        i("t3.xlarge", 4.0, 16.0, 0.1664),
        i("m5.large", 2.0, 8.0, 0.096),
        i("c5.xlarge", 4.0, 8.0, 0.17),
    ]
}

/// An instance table as a file holds it: `{"Instances": [...]}` in JSON, or
/// `[[Instances]]` tables in TOML, each row `Name`, `Vcpus`, `MemoryMb`, `HourlyUsd`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct InstanceFile {
    instances: Vec<Instance>,
}

/// Reads an instance table (JSON or TOML; see [`InstanceFile`]) and checks its numbers.
pub fn parse_instances(text: &str) -> Result<Vec<Instance>, crate::PriceError> {
    use crate::PriceError;
    let file: InstanceFile = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| PriceError::Syntax(e.to_string()))?
    } else {
        toml::from_str(text).map_err(|e| PriceError::Syntax(e.to_string()))?
    };
    if file.instances.is_empty() {
        return Err(PriceError::Invalid("no Instances".into()));
    }
    for i in &file.instances {
        check_instance(i).map_err(PriceError::Invalid)?;
    }
    Ok(file.instances)
}

/// Checks one instance row: a name, positive vCPUs and memory, a price ≥ 0.
pub fn check_instance(i: &Instance) -> Result<(), String> {
    let within = |v: f64, max: f64| v.is_finite() && v > 0.0 && v <= max;
    if i.name.trim().is_empty()
        || i.name.chars().count() > INSTANCE_NAME_MAX
        || i.name.chars().any(char::is_control)
    {
        return Err(format!(
            "an instance Name must be 1-{INSTANCE_NAME_MAX} printable characters"
        ));
    }
    if !within(i.vcpus, INSTANCE_VCPUS_MAX) || !within(i.memory_mb, INSTANCE_MEMORY_MB_MAX) {
        return Err(format!(
            "instance {}: Vcpus must be in (0, {INSTANCE_VCPUS_MAX}] and MemoryMb in \
             (0, {INSTANCE_MEMORY_MB_MAX}]",
            i.name
        ));
    }
    if !(i.hourly_usd.is_finite() && (0.0..=INSTANCE_HOURLY_USD_MAX).contains(&i.hourly_usd)) {
        return Err(format!(
            "instance {}: HourlyUsd must be in [0, {INSTANCE_HOURLY_USD_MAX}]",
            i.name
        ));
    }
    Ok(())
}

/// What was measured for one function over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Memory size, MB.
    pub memory_mb: u32,
    /// Average concurrency of each minute of the window (Σ execution time in the minute / 60 s).
    pub concurrency_per_minute: Vec<f64>,
    /// What FaaS charged for the window (requests + duration), from the bill.
    pub faas_cost: Money,
}

/// The comparison with one instance type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceOption {
    /// Instance type.
    pub instance: String,
    /// Concurrent executions one instance holds.
    pub per_instance: u32,
    /// Instances needed for the peak.
    pub instances: u32,
    /// Always-on cost over the window, dollars.
    pub reserved_usd: f64,
    /// Utilisation of those instances by the measured load, 0–1.
    pub utilisation: f64,
    /// Utilisation at which FaaS and these instances cost the same, 0–1 (None: FaaS is
    /// cheaper even at 100 %).
    pub crossover: Option<f64>,
}

/// The advice for one function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Advice {
    /// Window length, hours.
    pub hours: f64,
    /// Average concurrency over the window.
    pub average_concurrency: f64,
    /// Highest per-minute average concurrency.
    pub peak_concurrency: f64,
    /// What FaaS cost, dollars.
    pub faas_usd: f64,
    /// The cheapest instance option (what the verdict compares with).
    pub best: Option<InstanceOption>,
    /// Every instance type that can hold one execution.
    pub options: Vec<InstanceOption>,
    /// `(utilisation, FaaS dollars, reserved dollars)` for the plot, 0 %…100 %.
    pub curve: Vec<(f64, f64, f64)>,
    /// "stay on FaaS" or "move to reserved capacity".
    pub verdict: String,
    /// One sentence with the numbers.
    pub explanation: String,
}

/// Dollars for a sentence: cents from $1, else four decimals (short windows cost little).
pub fn usd(v: f64) -> String {
    if v >= 1.0 {
        format!("${v:.2}")
    } else {
        format!("${v:.4}")
    }
}

/// A 0–1 share as a percentage: one decimal below 10 %.
fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p < 10.0 {
        format!("{p:.1} %")
    } else {
        format!("{p:.0} %")
    }
}

/// A window's length: minutes below an hour, else hours.
pub fn span(hours: f64) -> String {
    if hours < 1.0 {
        format!("{:.0} min", hours * 60.0)
    } else {
        format!("{hours:.1} h")
    }
}

fn dollars(m: Money) -> f64 {
    m.picos() as f64 / crate::PICOS_PER_DOLLAR as f64
}

/// Concurrent executions one instance holds at `memory_mb` (memory and CPU share both).
pub fn per_instance(instance: &Instance, memory_mb: u32) -> u32 {
    let mem = f64::from(memory_mb.max(1));
    let by_memory = ((instance.memory_mb - INSTANCE_RESERVED_MB).max(0.0) / mem).floor();
    let by_cpu = (instance.vcpus * MB_PER_VCPU / mem).floor();
    by_memory.min(by_cpu).max(0.0) as u32
}

/// Compares the measured load with always-on `instances`.
pub fn advise(m: &Measured, instances: &[Instance]) -> Advice {
    let minutes = m.concurrency_per_minute.len();
    let hours = minutes as f64 / 60.0;
    let average = if minutes == 0 {
        0.0
    } else {
        m.concurrency_per_minute.iter().sum::<f64>() / minutes as f64
    };
    let peak = m
        .concurrency_per_minute
        .iter()
        .copied()
        .fold(0.0_f64, f64::max);
    let faas = dollars(m.faas_cost);
    let mut options: Vec<InstanceOption> = instances
        .iter()
        .filter_map(|i| {
            let k = per_instance(i, m.memory_mb);
            if k == 0 {
                return None;
            }
            let n = (peak / f64::from(k)).ceil().max(1.0) as u32;
            let capacity = f64::from(n) * f64::from(k);
            let utilisation = (average / capacity).min(1.0);
            let reserved = f64::from(n) * i.hourly_usd * hours;
            // FaaS cost at 100 % of this capacity: today's cost scaled by capacity / average.
            let faas_full = if average > 0.0 {
                faas * capacity / average
            } else {
                0.0
            };
            let crossover = (faas_full > 0.0 && reserved < faas_full).then(|| reserved / faas_full);
            Some(InstanceOption {
                instance: i.name.clone(),
                per_instance: k,
                instances: n,
                reserved_usd: reserved,
                utilisation,
                crossover,
            })
        })
        .collect();
    options.sort_by(|a, b| a.reserved_usd.total_cmp(&b.reserved_usd));
    let best = options.first().cloned();
    let (verdict, explanation, curve) = match &best {
        None => (
            "stay on FaaS".to_string(),
            format!(
                "No instance type holds one {} MB execution; FaaS cost {}.",
                m.memory_mb,
                usd(faas)
            ),
            Vec::new(),
        ),
        Some(b) => {
            let faas_full = if b.utilisation > 0.0 {
                faas / b.utilisation
            } else {
                0.0
            };
            let curve = (0..CURVE_POINTS)
                .map(|p| {
                    let u = p as f64 / (CURVE_POINTS - 1) as f64;
                    (u, faas_full * u, b.reserved_usd)
                })
                .collect();
            let cross = match b.crossover {
                Some(c) => format!("the lines cross at {} utilisation", percent(c)),
                None => "FaaS stays cheaper even at 100 % utilisation".to_string(),
            };
            let cheaper_reserved = b.crossover.is_some_and(|c| b.utilisation > c);
            let verdict = if cheaper_reserved {
                "move to reserved capacity"
            } else {
                "stay on FaaS"
            };
            (
                verdict.to_string(),
                format!(
                    "Over {window} at {average:.3} average and {peak:.3} peak concurrency, FaaS cost {faas_usd}; {n} × {inst} always on would cost {res} at {util} utilisation; {cross}.",
                    window = span(hours),
                    faas_usd = usd(faas),
                    n = b.instances,
                    inst = b.instance,
                    res = usd(b.reserved_usd),
                    util = percent(b.utilisation),
                ),
                curve,
            )
        }
    };
    Advice {
        hours,
        average_concurrency: average,
        peak_concurrency: peak,
        faas_usd: faas,
        best,
        options,
        curve,
        verdict,
        explanation,
    }
}

/// Text bars of the two cost lines, for the terminal.
pub fn text_plot(advice: &Advice, width: usize) -> String {
    let max = advice
        .curve
        .iter()
        .map(|(_, f, r)| f.max(*r))
        .fold(0.0_f64, f64::max);
    if max <= 0.0 {
        return String::new();
    }
    let bar = |v: f64, c: char| -> String {
        let n = ((v / max) * width as f64).round() as usize;
        std::iter::repeat_n(c, n).collect()
    };
    let mut out = String::from("utilisation  cost (F = FaaS, R = reserved)\n");
    for (u, f, r) in advice.curve.iter().step_by(2) {
        out.push_str(&format!(
            "{:>5.0} %  F {:<w$} {}\n",
            u * 100.0,
            bar(*f, '#'),
            usd(*f),
            w = width
        ));
        out.push_str(&format!(
            "         R {:<w$} {}\n",
            bar(*r, '='),
            usd(*r),
            w = width
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t3(name: &str) -> Instance {
        default_instances()
            .into_iter()
            .find(|i| i.name == name)
            .unwrap()
    }

    #[test]
    fn capacity_is_the_smaller_of_memory_and_cpu() {
        // 2 GiB − 256 MB = 1,792 MB: seven 256 MB executions by memory; 2 vCPU × 1,769 MB =
        // 3,538 MB: thirteen by CPU share.
        assert_eq!(per_instance(&t3("t3.small"), 256), 7);
        // 16 GiB, 4 vCPU: CPU-bound, 4 × 1,769 / 256 = 27.
        assert_eq!(per_instance(&t3("t3.xlarge"), 256), 27);
        assert_eq!(per_instance(&t3("t3.small"), 4096), 0);
    }

    #[test]
    fn steady_high_load_moves_to_reserved_and_spiky_low_load_stays() {
        // The seed's shape: 1,000 concurrent × 256 MB around the clock for 30 days.
        let minutes = 30 * 24 * 60;
        let table = crate::PriceTable::default();
        let modeled =
            crate::model_steady(&table, 1000, 256, 24 * 3600, 30, crate::Arch::X86_64, None);
        let faas = table.bill(&modeled.usage, modeled.period, false);
        let steady = Measured {
            memory_mb: 256,
            concurrency_per_minute: vec![1000.0; minutes],
            faas_cost: faas.total,
        };
        let a = advise(&steady, &default_instances());
        assert_eq!(a.verdict, "move to reserved capacity", "{}", a.explanation);
        let best = a.best.clone().unwrap();
        assert!(best.utilisation > 0.9, "{best:?}");
        assert!(best.reserved_usd < a.faas_usd, "{a:?}");

        // One busy minute an hour: peak 50, average below 1.
        let spiky: Vec<f64> = (0..minutes)
            .map(|m| if m % 60 == 0 { 50.0 } else { 0.0 })
            .collect();
        let avg = spiky.iter().sum::<f64>() / minutes as f64;
        let gb_s = avg * minutes as f64 * 60.0 * 0.25;
        let spiky = Measured {
            memory_mb: 256,
            concurrency_per_minute: spiky,
            faas_cost: Money::from_picos(
                (gb_s * 0.0000166667 * crate::PICOS_PER_DOLLAR as f64) as i128,
            ),
        };
        let b = advise(&spiky, &default_instances());
        assert_eq!(b.verdict, "stay on FaaS", "{}", b.explanation);
        let c = b.best.clone().unwrap().crossover.expect("the lines cross");
        assert!(c > 0.0 && c < 1.0, "{c}");
        assert!(text_plot(&b, 30).contains("F "));
    }

    #[test]
    fn instance_files_read_as_json_or_toml_and_are_checked() {
        let json =
            r#"{"Instances": [{"Name": "big", "Vcpus": 8, "MemoryMb": 32768, "HourlyUsd": 0.3}]}"#;
        let toml = "[[Instances]]\nName = \"big\"\nVcpus = 8\nMemoryMb = 32768\nHourlyUsd = 0.3\n";
        let a = parse_instances(json).expect("json");
        assert_eq!(a, parse_instances(toml).expect("toml"));
        assert_eq!(a[0].memory_mb, 32768.0);
        assert!(parse_instances(r#"{"Instances": []}"#).is_err());
        let negative =
            r#"{"Instances": [{"Name": "x", "Vcpus": 2, "MemoryMb": 2048, "HourlyUsd": -1}]}"#;
        assert!(parse_instances(negative).is_err());
        assert!(parse_instances(r#"{"Instances": [{"Name": "x"}]}"#).is_err());
    }

    #[test]
    fn no_load_has_a_verdict_and_no_division_by_zero() {
        let a = advise(
            &Measured {
                memory_mb: 128,
                concurrency_per_minute: vec![0.0; 60],
                faas_cost: Money::ZERO,
            },
            &default_instances(),
        );
        assert_eq!(a.verdict, "stay on FaaS");
        assert!(
            a.explanation.contains("FaaS cost $0.0000"),
            "{}",
            a.explanation
        );
    }
}
