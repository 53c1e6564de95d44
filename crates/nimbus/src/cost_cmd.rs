//! `nimbus cost`: what the metered invocations cost (over `/nimbus/v1/cost`, priced here with
//! the chosen price table), and `nimbus cost model`: what a hypothetical workload would cost
//! (no server needed).
//!
//! ```text
//! nimbus cost [--function F] [--since 1h|24h|7d|RFC3339] [--free-tier on|off] [--prices FILE]
//! nimbus cost model --memory 256 --duration 200ms --invocations 10M [--arch arm64]
//! nimbus cost model --memory 256 --concurrency 1000 --hours-per-day 24 [--days 30]
//! ```

use crate::cli::{Endpoint, Output};
use crate::client::Client;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use nimbus_api::limits;
use nimbus_cost::crossover::{Advice, parse_instances, span, text_plot, usd};
use nimbus_cost::parse::{
    format_count, format_gb_seconds, format_utc_ms, parse_count, parse_duration_us,
    parse_hours_per_day, parse_memory_mb, parse_on_off,
};
use nimbus_cost::{
    Arch, Bill, MB_PER_GB_AWS, MB_PER_GB_DECIMAL, MONTH_MS, Modeled, Money, Period, PriceTable,
    Usage, model, model_steady,
};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Largest price file read (a table is a few hundred bytes).
const PRICE_FILE_BYTES_MAX: u64 = 1024 * 1024;

/// Days a steady-load model covers by default: the 30-day month bills are projected to.
const MODEL_DAYS_DEFAULT: u32 = 30;

/// Longest steady-load model, in days (a year: beyond it the monthly tiers mean little).
const MODEL_DAYS_MAX: u32 = 366;

/// Most invocations a month a model prices: a trillion is ~385,000 a second, past any one
/// account's concurrency, and keeps every product exact.
const MODEL_INVOCATIONS_MAX: u64 = 1_000_000_000_000;

/// Most concurrent executions a steady-load model prices (far past Lambda's raised quotas).
const MODEL_CONCURRENCY_MAX: u64 = 1_000_000;

#[derive(Debug, Args)]
pub struct CostArgs {
    #[command(subcommand)]
    pub action: Option<CostAction>,
    /// Only this function.
    #[arg(long)]
    pub function: Option<String>,
    /// Start of the window: a length of time ago (1h, 24h, 7d), an RFC 3339 time, or ms
    /// since the epoch.
    #[arg(long, default_value = "24h")]
    pub since: String,
    /// End of the window (default: now), in the same forms.
    #[arg(long)]
    pub until: Option<String>,
    #[command(flatten)]
    pub pricing: PricingArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

#[derive(Debug, Subcommand)]
pub enum CostAction {
    /// Price a hypothetical workload: invocations × duration × memory per month, or a
    /// steady concurrency some hours a day.
    Model(ModelArgs),
    /// FaaS or always-on instances? From each function's measured concurrency per minute:
    /// what the same load costs on N instances, where the two lines cross, and a verdict.
    Crossover(CrossoverArgs),
}

#[derive(Debug, Args)]
pub struct CrossoverArgs {
    /// Only this function.
    #[arg(long)]
    pub function: Option<String>,
    /// Start of the window (each function's starts at its first metered minute in it).
    #[arg(long, default_value = "30d")]
    pub since: String,
    /// End of the window (default: now).
    #[arg(long)]
    pub until: Option<String>,
    /// Instance table (JSON `{"Instances": [...]}` or TOML `[[Instances]]`, rows `Name`,
    /// `Vcpus`, `MemoryMb`, `HourlyUsd`) instead of the defaults (EC2 on-demand us-east-1).
    #[arg(long, value_name = "FILE")]
    pub instances: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

/// How to price.
#[derive(Debug, Clone, Args)]
pub struct PricingArgs {
    /// Apply the monthly free tier (1M requests, 400,000 GB-s): on or off.
    #[arg(long, default_value = "off", value_parser = on_off, action = clap::ArgAction::Set)]
    pub free_tier: bool,
    /// Price table (TOML or JSON) overriding the defaults (AWS Lambda us-east-1).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// MB per GB in GB-seconds: 1024 (AWS's pricing) or 1000 (the convention of the seed's
    /// worked examples).
    #[arg(long, value_name = "MB")]
    pub mb_per_gb: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Memory per invocation: 256, 256MB, 1GB.
    #[arg(long, value_parser = memory)]
    pub memory: u32,
    /// Average duration: 200ms, 1s, 1.5s.
    #[arg(long, value_parser = duration)]
    pub duration: Option<u64>,
    /// Invocations per month: 10M, 1.5k, 10,000,000.
    #[arg(long, value_parser = count)]
    pub invocations: Option<u64>,
    /// Steady load: invocations in flight at once.
    #[arg(long, value_parser = count)]
    pub concurrency: Option<u64>,
    /// Steady load: hours a day at that concurrency (8, 8.5, 24).
    #[arg(long, value_parser = hours)]
    pub hours_per_day: Option<u64>,
    /// Steady load: days.
    #[arg(long, default_value_t = MODEL_DAYS_DEFAULT)]
    pub days: u32,
    /// Architecture: x86_64 or arm64.
    #[arg(long, default_value = "x86_64", value_parser = arch)]
    pub arch: Arch,
    #[command(flatten)]
    pub pricing: PricingArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

fn on_off(s: &str) -> Result<bool, String> {
    parse_on_off(s).map_err(|e| e.to_string())
}
fn memory(s: &str) -> Result<u32, String> {
    parse_memory_mb(s).map_err(|e| e.to_string())
}
fn duration(s: &str) -> Result<u64, String> {
    match parse_duration_us(s) {
        Ok(0) => Err(format!("{s:?} is not a positive duration")),
        Ok(us) => Ok(us),
        Err(e) => Err(e.to_string()),
    }
}
fn count(s: &str) -> Result<u64, String> {
    parse_count(s).map_err(|e| e.to_string())
}
fn hours(s: &str) -> Result<u64, String> {
    parse_hours_per_day(s).map_err(|e| e.to_string())
}
fn arch(s: &str) -> Result<Arch, String> {
    Arch::parse(s).ok_or_else(|| format!("{s:?} is not x86_64 or arm64"))
}

/// Runs the command.
pub fn run(a: CostArgs) -> anyhow::Result<ExitCode> {
    match a.action {
        Some(CostAction::Model(m)) => run_model(m),
        Some(CostAction::Crossover(c)) => crate::cli::block_on(crossover(c)),
        None => crate::cli::block_on(report(a)),
    }
}

impl PricingArgs {
    /// The default table, or the file's, with `--mb-per-gb` applied.
    fn table(&self) -> anyhow::Result<PriceTable> {
        let mut table = match &self.prices {
            Some(path) => read_prices(path)?,
            None => PriceTable::default(),
        };
        if let Some(mb) = self.mb_per_gb {
            if mb != MB_PER_GB_AWS && mb != MB_PER_GB_DECIMAL {
                bail!("--mb-per-gb must be {MB_PER_GB_AWS} (AWS) or {MB_PER_GB_DECIMAL} (decimal)");
            }
            table.mb_per_gb = mb;
        }
        Ok(table)
    }
}

fn read_prices(path: &Path) -> anyhow::Result<PriceTable> {
    let text = crate::files::read_text_capped(path, PRICE_FILE_BYTES_MAX, "a price table")?;
    if text.trim().is_empty() {
        bail!(
            "{} is empty; a price table names its prices",
            path.display()
        );
    }
    PriceTable::parse(&text).with_context(|| format!("price table {}", path.display()))
}

// ---- nimbus cost model ----

/// What `cost model --output json` prints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ModelOutput {
    workload: String,
    prices: String,
    mb_per_gb: u32,
    days: u32,
    gb_seconds: f64,
    usage: Usage,
    bill: Bill,
    /// The same workload with 1 GB = 1,000 MB, when the table uses another convention.
    #[serde(skip_serializing_if = "Option::is_none")]
    decimal_gb: Option<DecimalGb>,
}

/// A model priced in the seed's convention (1 GB = 1,000 MB).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DecimalGb {
    gb_seconds: f64,
    bill: Bill,
}

fn run_model(a: ModelArgs) -> anyhow::Result<ExitCode> {
    let table = a.pricing.table()?;
    let (workload, days) = model_workload(&a)?;
    let (modeled, bill) = price_model(&a, &table);
    let gb_seconds = modeled.usage.invocation_gb_seconds(&table);
    // The seed's worked examples count 1 GB as 1,000 MB; AWS bills 1,024. Unless the user
    // chose a convention, show the seed's figure beside AWS's so both can be checked.
    let decimal =
        (a.pricing.mb_per_gb.is_none() && table.mb_per_gb != MB_PER_GB_DECIMAL).then(|| {
            let mut seed = table.clone();
            seed.mb_per_gb = MB_PER_GB_DECIMAL;
            let (m, bill) = price_model(&a, &seed);
            (m.usage.invocation_gb_seconds(&seed), bill)
        });
    match a.output {
        Output::Json => {
            let out = ModelOutput {
                workload,
                prices: table.name.clone(),
                mb_per_gb: table.mb_per_gb,
                days,
                gb_seconds,
                usage: modeled.usage,
                bill,
                decimal_gb: decimal.map(|(gb_seconds, bill)| DecimalGb { gb_seconds, bill }),
            };
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        Output::Table => {
            println!("Workload  {workload}");
            println!(
                "Prices    {}; 1 GB = {} MB; free tier {}",
                table.name,
                format_count(u64::from(table.mb_per_gb)),
                if a.pricing.free_tier { "on" } else { "off" }
            );
            println!();
            println!("{}", bill_table(&bill));
            if let Some((gb_seconds, seed)) = decimal {
                println!();
                println!(
                    "With 1 GB = 1,000 MB (the seed's convention; --mb-per-gb 1000): {} GB-s, \
                     requests {} + duration {} = {}",
                    format_gb_seconds(gb_seconds),
                    seed.requests,
                    seed.duration,
                    seed.total
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks the model's flags and describes the workload (and the days it covers).
fn model_workload(a: &ModelArgs) -> anyhow::Result<(String, u32)> {
    let memory = i64::from(a.memory);
    if !(limits::MEMORY_MB_MIN..=limits::MEMORY_MB_MAX).contains(&memory) {
        bail!(
            "--memory must be {}..={} MB (Lambda's range)",
            limits::MEMORY_MB_MIN,
            limits::MEMORY_MB_MAX
        );
    }
    match (a.invocations, a.concurrency, a.hours_per_day) {
        (Some(invocations), None, None) => {
            let Some(duration_us) = a.duration else {
                bail!("--invocations needs --duration (the average, e.g. 200ms)");
            };
            let duration_us_max = limits::TIMEOUT_S_MAX.unsigned_abs() * 1_000_000;
            if duration_us > duration_us_max {
                bail!(
                    "--duration must be at most {} s (Lambda's longest timeout)",
                    limits::TIMEOUT_S_MAX
                );
            }
            if invocations > MODEL_INVOCATIONS_MAX {
                bail!(
                    "--invocations must be at most {} a month",
                    format_count(MODEL_INVOCATIONS_MAX)
                );
            }
            let workload = format!(
                "{} invocations × {} × {} MB ({}), per 30-day month",
                format_count(invocations),
                show_duration(duration_us),
                a.memory,
                a.arch
            );
            Ok((workload, MODEL_DAYS_DEFAULT))
        }
        (None, Some(concurrency), Some(seconds_per_day)) => {
            if a.days == 0 || a.days > MODEL_DAYS_MAX {
                bail!("--days must be 1..={MODEL_DAYS_MAX}");
            }
            if concurrency == 0 || concurrency > MODEL_CONCURRENCY_MAX {
                bail!(
                    "--concurrency must be 1..={}",
                    format_count(MODEL_CONCURRENCY_MAX)
                );
            }
            let workload = format!(
                "{} concurrent × {} MB ({}) × {} h/day × {} days",
                format_count(concurrency),
                a.memory,
                a.arch,
                show_hours(seconds_per_day),
                a.days
            );
            Ok((workload, a.days))
        }
        _ => {
            bail!("give either --invocations N --duration D, or --concurrency N --hours-per-day H")
        }
    }
}

/// The modeled usage and its bill under `table` (flags already checked by
/// [`model_workload`]).
fn price_model(a: &ModelArgs, table: &PriceTable) -> (Modeled, Bill) {
    let modeled = match (a.invocations, a.concurrency, a.hours_per_day) {
        (Some(invocations), _, _) => model(
            table,
            a.memory,
            a.duration.unwrap_or(0),
            invocations,
            a.arch,
        ),
        (_, Some(concurrency), Some(seconds_per_day)) => model_steady(
            table,
            concurrency,
            a.memory,
            seconds_per_day,
            a.days,
            a.arch,
            a.duration,
        ),
        _ => model(table, a.memory, 0, 0, a.arch),
    };
    let bill = table.bill(&modeled.usage, modeled.period, a.pricing.free_tier);
    (modeled, bill)
}

// ---- nimbus cost crossover ----

/// Width of the text plot's longest bar, in characters.
const PLOT_WIDTH: usize = 40;

/// Largest instance table read.
const INSTANCE_FILE_BYTES_MAX: u64 = 64 * 1024;

/// The part of `/nimbus/v1/cost/crossover` shown here.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CrossoverView {
    until_ms: i64,
    functions: Vec<FunctionCrossoverView>,
    functions_omitted: usize,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FunctionCrossoverView {
    function_name: String,
    memory_mb: u32,
    since_ms: i64,
    #[serde(flatten)]
    advice: Advice,
}

/// `base?since=…[&function=…][&until=…]`, each value percent-encoded.
fn window_path(base: &str, function: Option<&str>, since: &str, until: Option<&str>) -> String {
    let mut query = vec![format!("since={}", encode(since))];
    if let Some(f) = function {
        query.push(format!("function={}", encode(f)));
    }
    if let Some(u) = until {
        query.push(format!("until={}", encode(u)));
    }
    format!("{base}?{}", query.join("&"))
}

async fn crossover(a: CrossoverArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&a.endpoint.endpoint)?;
    let path = window_path(
        "/nimbus/v1/cost/crossover",
        a.function.as_deref(),
        &a.since,
        a.until.as_deref(),
    );
    let value: serde_json::Value = match &a.instances {
        Some(file) => {
            let text =
                crate::files::read_text_capped(file, INSTANCE_FILE_BYTES_MAX, "an instance table")?;
            let instances = parse_instances(&text)
                .with_context(|| format!("instance table {}", file.display()))?;
            let body = serde_json::json!({ "Instances": instances });
            client.json(Method::POST, &path, Some(&body)).await?
        }
        None => client.json(Method::GET, &path, None).await?,
    };
    if let Output::Json = a.output {
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    let view: CrossoverView = serde_json::from_value(value)?;
    if view.functions.is_empty() {
        println!("No metered invocations in the window: nothing to compare.");
    }
    for f in &view.functions {
        print_crossover(f, view.until_ms);
    }
    if view.functions_omitted > 0 {
        println!("({} more functions not shown)", view.functions_omitted);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_crossover(f: &FunctionCrossoverView, until_ms: i64) {
    let a = &f.advice;
    println!(
        "{} ({} MB), {} → {} ({})",
        f.function_name,
        f.memory_mb,
        format_utc_ms(f.since_ms),
        format_utc_ms(until_ms),
        span(a.hours)
    );
    println!(
        "  concurrency: average {:.3}, peak minute {:.3}; FaaS cost {}",
        a.average_concurrency,
        a.peak_concurrency,
        usd(a.faas_usd)
    );
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::NOTHING);
    table.set_header([
        "INSTANCE",
        "PER INSTANCE",
        "INSTANCES",
        "ALWAYS-ON",
        "UTILISATION",
        "CROSSOVER",
    ]);
    for o in &a.options {
        table.add_row([
            o.instance.clone(),
            o.per_instance.to_string(),
            o.instances.to_string(),
            usd(o.reserved_usd),
            format!("{:.1} %", o.utilisation * 100.0),
            o.crossover
                .map_or_else(|| "none".to_string(), |c| format!("{:.1} %", c * 100.0)),
        ]);
    }
    println!("{table}");
    println!("  Verdict: {}. {}", a.verdict, a.explanation);
    let plot = text_plot(a, PLOT_WIDTH);
    if !plot.is_empty() {
        println!();
        for line in plot.lines() {
            println!("  {line}");
        }
    }
    println!();
}

/// The line items of a bill and its total.
fn bill_table(bill: &Bill) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::NOTHING);
    table.set_header(["ITEM", "QUANTITY", "FREE", "UNIT PRICE", "AMOUNT"]);
    for line in &bill.lines {
        let item = match line.arch {
            Some(arch) => format!("{} ({arch})", line.item),
            None => line.item.to_string(),
        };
        let (quantity, free, unit_price) = if line.unit == "requests" {
            (
                format!("{} requests", format_count(line.quantity as u64)),
                format_count(line.free as u64),
                format!("{} per 1M", line.unit_price.mul_div(1_000_000, 1)),
            )
        } else {
            (
                format!("{} GB-s", format_gb_seconds(line.quantity)),
                format_gb_seconds(line.free),
                format!("${}/GB-s", line.unit_price.to_decimal_string()),
            )
        };
        table.add_row([item, quantity, free, unit_price, line.amount.to_string()]);
    }
    table.add_row([
        "TOTAL".to_string(),
        String::new(),
        String::new(),
        String::new(),
        bill.total.to_string(),
    ]);
    table
}

fn show_duration(us: u64) -> String {
    if us.is_multiple_of(1000) {
        format!("{} ms", format_count(us / 1000))
    } else {
        format!("{:.3} ms", us as f64 / 1000.0)
    }
}

fn show_hours(seconds: u64) -> String {
    let hours = seconds as f64 / 3600.0;
    if seconds.is_multiple_of(3600) {
        format!("{}", seconds / 3600)
    } else {
        format!("{hours:.2}")
    }
}

// ---- nimbus cost ----

/// The part of `GET /nimbus/v1/cost` priced here.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ServerReport {
    since_ms: i64,
    until_ms: i64,
    bill_init: bool,
    functions: Vec<ServerFunction>,
    total: ServerLine,
    records_dropped: u64,
    records_lost: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ServerFunction {
    #[serde(rename = "FunctionName")]
    function: String,
    #[serde(flatten)]
    line: ServerLine,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ServerLine {
    cold_starts: u64,
    errors: u64,
    usage: Usage,
}

/// One priced row of `nimbus cost`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PricedLine {
    #[serde(rename = "FunctionName")]
    function: String,
    requests: u64,
    gb_seconds: f64,
    provisioned_gb_seconds: f64,
    cold_starts: u64,
    errors: u64,
    bill: Bill,
    month: Bill,
}

/// What `nimbus cost --output json` prints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CostOutput {
    since_ms: i64,
    until_ms: i64,
    prices: String,
    mb_per_gb: u32,
    free_tier: bool,
    bill_init: bool,
    functions: Vec<PricedLine>,
    total: PricedLine,
    records_dropped: u64,
    records_lost: u64,
}

async fn report(a: CostArgs) -> anyhow::Result<ExitCode> {
    let table = a.pricing.table()?;
    let client = Client::new(&a.endpoint.endpoint)?;
    let path = window_path(
        "/nimbus/v1/cost",
        a.function.as_deref(),
        &a.since,
        a.until.as_deref(),
    );
    let server: ServerReport = client.json(Method::GET, &path, None).await?;
    let out = price(&table, server, a.pricing.free_tier);
    match a.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&out)?),
        Output::Table => print_report(&out),
    }
    Ok(ExitCode::SUCCESS)
}

/// Prices the server's quantities with `table`: rows without the free tier (it is per
/// account), the total with it when asked.
fn price(table: &PriceTable, server: ServerReport, free_tier: bool) -> CostOutput {
    let window_ms = u64::try_from(server.until_ms - server.since_ms).unwrap_or(MONTH_MS);
    let period = Period::of_ms(window_ms);
    let priced = |function: String, line: ServerLine, free: bool| PricedLine {
        function,
        requests: line.usage.requests,
        gb_seconds: line.usage.invocation_gb_seconds(table),
        provisioned_gb_seconds: nimbus_cost::gb_seconds(
            line.usage.provisioned_configured.total(),
            table,
        ),
        cold_starts: line.cold_starts,
        errors: line.errors,
        bill: table.bill(&line.usage, period, free),
        month: table.bill(&line.usage.projected_to_month(period), Period::MONTH, free),
    };
    CostOutput {
        since_ms: server.since_ms,
        until_ms: server.until_ms,
        prices: table.name.clone(),
        mb_per_gb: table.mb_per_gb,
        free_tier,
        bill_init: server.bill_init,
        functions: server
            .functions
            .into_iter()
            .map(|f| priced(f.function, f.line, false))
            .collect(),
        total: priced("TOTAL".to_string(), server.total, free_tier),
        records_dropped: server.records_dropped,
        records_lost: server.records_lost,
    }
}

fn print_report(out: &CostOutput) {
    println!(
        "Window    {} → {} ({})",
        format_utc_ms(out.since_ms),
        format_utc_ms(out.until_ms),
        show_window(out.until_ms - out.since_ms)
    );
    println!(
        "Prices    {}; 1 GB = {} MB; free tier {}; init {}",
        out.prices,
        format_count(u64::from(out.mb_per_gb)),
        if out.free_tier {
            "on (total only)"
        } else {
            "off"
        },
        if out.bill_init {
            "billed"
        } else {
            "not billed"
        }
    );
    println!();
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::NOTHING);
    table.set_header([
        "FUNCTION",
        "REQUESTS",
        "GB-S",
        "REQUEST $",
        "DURATION $",
        "TOTAL $",
        "MONTH $",
    ]);
    for line in out.functions.iter().chain(std::iter::once(&out.total)) {
        table.add_row(row(line));
    }
    println!("{table}");
    let pc: f64 = out.total.provisioned_gb_seconds;
    if pc > 0.0 {
        println!(
            "\nProvisioned concurrency: {} GB-s configured, {} (in DURATION $).",
            format_gb_seconds(pc),
            out.total.bill.provisioned
        );
    }
    if out.records_dropped + out.records_lost > 0 {
        println!(
            "\nWarning: {} invocation records were not stored (writer behind or store failing); \
             they are not in this report.",
            out.records_dropped + out.records_lost
        );
    }
}

fn row(line: &PricedLine) -> [String; 7] {
    let non_request: Money = line.bill.total - line.bill.requests;
    [
        line.function.clone(),
        format_count(line.requests),
        format_gb_seconds(line.gb_seconds),
        line.bill.requests.to_string(),
        non_request.to_string(),
        line.bill.total.to_string(),
        line.month.total.to_string(),
    ]
}

fn show_window(ms: i64) -> String {
    let hours = ms as f64 / 3_600_000.0;
    if hours >= 48.0 {
        format!("{:.1} days", hours / 24.0)
    } else {
        format!("{hours:.1} h")
    }
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_report() -> ServerReport {
        let table = PriceTable::default();
        let mut usage = Usage::default();
        // A day of 1,000,000 invocations × 100 ms × 1,024 MB = 100,000 GB-s.
        usage.add_invocations(
            &table,
            Arch::X86_64,
            1024,
            512,
            1_000_000,
            100_000_000,
            false,
        );
        let line = || ServerLine {
            cold_starts: 3,
            errors: 1,
            usage: usage.clone(),
        };
        ServerReport {
            since_ms: 0,
            until_ms: 86_400_000,
            bill_init: true,
            functions: vec![ServerFunction {
                function: "f".into(),
                line: line(),
            }],
            total: line(),
            records_dropped: 0,
            records_lost: 0,
        }
    }

    #[test]
    fn rows_are_priced_without_the_free_tier_and_the_total_with_it() {
        let out = price(&PriceTable::default(), server_report(), true);
        let f = &out.functions[0];
        assert_eq!(f.gb_seconds, 100_000.0);
        assert_eq!(f.bill.requests.to_string(), "$0.20");
        assert_eq!(f.bill.duration.to_string(), "$1.67");
        // A month at this rate: 30M requests, 3M GB-s.
        assert_eq!(f.month.requests.to_string(), "$6.00");
        assert_eq!(f.month.duration.to_string(), "$50.00");
        // The total gets a day's share of the free tier (33,333 requests, 13,333.33 GB-s).
        assert!(out.total.bill.total < f.bill.total);
        assert_eq!(out.total.month.requests.to_string(), "$5.80");
        assert_eq!(out.total.month.duration.to_string(), "$43.33");
        assert_eq!(row(f)[4], "$1.67");
    }

    #[test]
    fn a_price_file_and_mb_per_gb_change_the_table() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("prices.toml");
        std::fs::write(&path, "requests_per_million = \"0.40\"\n").expect("write");
        let pricing = PricingArgs {
            free_tier: false,
            prices: Some(path),
            mb_per_gb: Some(1000),
        };
        let table = pricing.table().expect("table");
        assert_eq!(table.requests_per_million.to_decimal_string(), "0.4");
        assert_eq!(table.mb_per_gb, 1000);
        let missing = PricingArgs {
            free_tier: false,
            prices: Some(dir.path().join("nope.toml")),
            mb_per_gb: None,
        };
        assert!(missing.table().is_err());
    }

    #[test]
    fn model_arguments_parse_like_humans_write_them() {
        assert_eq!(duration("200ms"), Ok(200_000));
        assert!(duration("0ms").is_err());
        assert_eq!(count("10M"), Ok(10_000_000));
        assert_eq!(memory("1GB"), Ok(1024));
        assert_eq!(hours("8"), Ok(28_800));
        assert_eq!(arch("arm64"), Ok(Arch::Arm64));
        assert!(arch("mips").is_err());
        assert_eq!(show_duration(200_000), "200 ms");
        assert_eq!(show_duration(1_500), "1.500 ms");
        assert_eq!(show_hours(30_600), "8.50");
        assert_eq!(
            encode("2025-08-01T00:00:00+02:00"),
            "2025-08-01T00%3A00%3A00%2B02%3A00"
        );
    }
}
