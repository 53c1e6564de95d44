//! Client subcommands: they talk to a running server over its HTTP APIs (Lambda and
//! CloudWatch Logs), exactly as any AWS client would.

use crate::client::{Client, ENDPOINT_DEFAULT, segment};
use crate::zipdir;
use anyhow::{Context, bail};
use base64::Engine;
use clap::{Args, Subcommand, ValueEnum};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Role recorded when `--role` is not given (Nimbus does not assume roles).
const ROLE_DEFAULT: &str = "arn:aws:iam::000000000000:role/nimbus-function";
/// How often `logs --follow` polls.
const FOLLOW_INTERVAL: Duration = Duration::from_secs(1);
/// Event ids remembered by `logs --follow` to skip repeats (bounded).
const FOLLOW_SEEN_MAX: usize = 10_000;

#[derive(Debug, Clone, Args)]
pub struct Endpoint {
    /// Server URL.
    #[arg(long, env = "NIMBUS_ENDPOINT", default_value = ENDPOINT_DEFAULT, global = true)]
    pub endpoint: String,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create a function from a directory (zipped for you) or a .zip.
    Create(CreateArgs),
    /// Replace a function's code.
    UpdateCode(UpdateCodeArgs),
    /// List functions.
    List(ListArgs),
    /// Show one function's configuration.
    Get(GetArgs),
    /// Delete a function.
    Delete(DeleteArgs),
    /// Invoke a function; prints the result, and the REPORT line on stderr.
    Invoke(InvokeArgs),
    /// Print a function's logs.
    Logs(LogsArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Function name.
    pub name: String,
    /// Runtime (python3.12, nodejs20.x, provided.al2023, …).
    #[arg(long)]
    pub runtime: String,
    /// Handler (`module.function`, `file.export`; for provided runtimes any value).
    #[arg(long)]
    pub handler: String,
    /// Code: a directory or a .zip file.
    #[arg(long)]
    pub code: PathBuf,
    /// MemorySize in MB.
    #[arg(long)]
    pub memory: Option<u32>,
    /// Timeout in seconds.
    #[arg(long)]
    pub timeout: Option<u32>,
    /// /tmp size in MB.
    #[arg(long)]
    pub tmp: Option<u32>,
    /// Environment variable (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Description.
    #[arg(long)]
    pub description: Option<String>,
    /// Execution role ARN (recorded).
    #[arg(long, default_value = ROLE_DEFAULT)]
    pub role: String,
    /// Also publish version 1.
    #[arg(long)]
    pub publish: bool,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

#[derive(Debug, Args)]
pub struct UpdateCodeArgs {
    /// Function name.
    pub name: String,
    /// Code: a directory or a .zip file.
    #[arg(long)]
    pub code: PathBuf,
    /// Also publish a version.
    #[arg(long)]
    pub publish: bool,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum Output {
    /// Human-readable.
    #[default]
    Table,
    /// JSON.
    Json,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// Function name (or ARN, or name:qualifier).
    pub name: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Function name.
    pub name: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// Function name (or ARN, or name:qualifier).
    pub name: String,
    /// Event JSON, or @file to read it from a file.
    #[arg(long, default_value = "{}")]
    pub payload: String,
    /// Version or alias.
    #[arg(long)]
    pub qualifier: Option<String>,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Function name.
    pub name: String,
    /// Keep printing new events.
    #[arg(long)]
    pub follow: bool,
    /// How far back to start, e.g. 30s, 10m, 2h, 1d.
    #[arg(long, default_value = "1h")]
    pub since: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

/// Runs one client future on a small runtime.
pub fn block_on(
    f: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f)
}

pub fn run_client(command: ClientCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match command {
            ClientCommand::Create(a) => create(a).await,
            ClientCommand::UpdateCode(a) => update_code(a).await,
            ClientCommand::List(a) => list(a).await,
            ClientCommand::Get(a) => get(a).await,
            ClientCommand::Delete(a) => delete(a).await,
            ClientCommand::Invoke(a) => invoke(a).await,
            ClientCommand::Logs(a) => logs(a).await,
        }
    })
}

fn zip_b64(path: &std::path::Path) -> anyhow::Result<String> {
    let zip = zipdir::load_code(path)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(zip))
}

async fn create(a: CreateArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&a.endpoint.endpoint)?;
    let mut vars = serde_json::Map::new();
    for kv in &a.env {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--env expects KEY=VALUE, got {kv:?}"))?;
        vars.insert(k.to_string(), Value::String(v.to_string()));
    }
    let mut body = json!({
        "FunctionName": a.name,
        "Runtime": a.runtime,
        "Handler": a.handler,
        "Role": a.role,
        "Code": { "ZipFile": zip_b64(&a.code)? },
        "Publish": a.publish,
    });
    if let Some(m) = a.memory {
        body["MemorySize"] = json!(m);
    }
    if let Some(t) = a.timeout {
        body["Timeout"] = json!(t);
    }
    if let Some(t) = a.tmp {
        body["EphemeralStorage"] = json!({ "Size": t });
    }
    if !vars.is_empty() {
        body["Environment"] = json!({ "Variables": vars });
    }
    if let Some(d) = a.description {
        body["Description"] = json!(d);
    }
    let config: Value = client
        .json(Method::POST, "/2015-03-31/functions", Some(&body))
        .await?;
    print_config(&config, Output::Table);
    Ok(ExitCode::SUCCESS)
}

async fn update_code(a: UpdateCodeArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&a.endpoint.endpoint)?;
    let body = json!({ "ZipFile": zip_b64(&a.code)?, "Publish": a.publish });
    let path = format!("/2015-03-31/functions/{}/code", segment(&a.name));
    let config: Value = client.json(Method::PUT, &path, Some(&body)).await?;
    print_config(&config, Output::Table);
    Ok(ExitCode::SUCCESS)
}

async fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&a.endpoint.endpoint)?;
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    // Bounded: a page has 50 functions; 10,000 pages is far beyond any deployment.
    for _ in 0..10_000 {
        let path = match &marker {
            Some(m) => format!("/2015-03-31/functions?Marker={}", segment(m)),
            None => "/2015-03-31/functions".to_string(),
        };
        let page: Value = client.json(Method::GET, &path, None).await?;
        if let Some(fns) = page.get("Functions").and_then(Value::as_array) {
            all.extend(fns.iter().cloned());
        }
        marker = page
            .get("NextMarker")
            .and_then(Value::as_str)
            .map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    match a.output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "Functions": all }))?
        ),
        Output::Table => {
            let mut table = comfy_table::Table::new();
            table.load_style(comfy_table::presets::NOTHING);
            table.set_header([
                "NAME",
                "RUNTIME",
                "MEMORY",
                "TIMEOUT",
                "CODE SIZE",
                "LAST MODIFIED",
            ]);
            for f in &all {
                let s = |k: &str| {
                    f.get(k)
                        .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
                        .unwrap_or_default()
                };
                table.add_row([
                    s("FunctionName"),
                    s("Runtime"),
                    s("MemorySize"),
                    s("Timeout"),
                    s("CodeSize"),
                    s("LastModified"),
                ]);
            }
            println!("{table}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn get(a: GetArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&a.endpoint.endpoint)?;
    let path = format!("/2015-03-31/functions/{}", segment(&a.name));
    let details: Value = client.json(Method::GET, &path, None).await?;
    match a.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&details)?),
        Output::Table => print_config(
            details.get("Configuration").unwrap_or(&Value::Null),
            Output::Table,
        ),
    }
    Ok(ExitCode::SUCCESS)
}

async fn delete(a: DeleteArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&a.endpoint.endpoint)?;
    let path = format!("/2015-03-31/functions/{}", segment(&a.name));
    client.send(Method::DELETE, &path, &[], None).await?;
    println!("deleted {}", a.name);
    Ok(ExitCode::SUCCESS)
}

async fn invoke(a: InvokeArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&a.endpoint.endpoint)?;
    let payload = match a.payload.strip_prefix('@') {
        // The largest payload any invocation type accepts; the server says which applies.
        Some(file) => crate::files::read_capped(
            std::path::Path::new(file),
            nimbus_api::limits::SYNC_PAYLOAD_BYTES_MAX as u64,
            "an invocation payload",
        )?,
        None => a.payload.into_bytes(),
    };
    let mut path = format!("/2015-03-31/functions/{}/invocations", segment(&a.name));
    if let Some(q) = &a.qualifier {
        path.push_str(&format!("?Qualifier={}", segment(q)));
    }
    let headers = [("x-amz-log-type", "Tail".to_string())];
    let raw = client
        .send(Method::POST, &path, &headers, Some(payload))
        .await?;
    println!("{}", String::from_utf8_lossy(&raw.body));
    let log = raw
        .headers
        .get("x-amz-log-result")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    for line in log.lines().filter(|l| l.starts_with("REPORT ")) {
        eprintln!("{}", line.trim_end());
    }
    if raw.headers.contains_key("x-amz-function-error") {
        eprintln!("function error (X-Amz-Function-Error: Unhandled)");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

async fn logs(a: LogsArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&a.endpoint.endpoint)?;
    let group = format!("/aws/lambda/{}", a.name);
    let since = parse_duration(&a.since)?;
    let mut start = nimbus_now_ms() - since.as_millis() as i64;
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        let mut token: Option<String> = None;
        // Page through what is there now (bounded).
        for _ in 0..1_000 {
            let mut req = json!({ "logGroupName": group, "startTime": start });
            if let Some(t) = &token {
                req["nextToken"] = json!(t);
            }
            let page = client.logs("FilterLogEvents", &req).await?;
            for e in page
                .get("events")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let id = e
                    .get("eventId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if !seen.insert(id) {
                    continue;
                }
                let ts = e.get("timestamp").and_then(Value::as_i64).unwrap_or(0);
                let message = e.get("message").and_then(Value::as_str).unwrap_or_default();
                println!("{} {}", format_ts(ts), message.replace('\r', "\n"));
                start = start.max(ts);
            }
            token = page
                .get("nextToken")
                .and_then(Value::as_str)
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        if !a.follow {
            return Ok(ExitCode::SUCCESS);
        }
        if seen.len() > FOLLOW_SEEN_MAX {
            // Older ids can no longer come back once `start` moved past them.
            seen.clear();
        }
        tokio::time::sleep(FOLLOW_INTERVAL).await;
    }
}

fn nimbus_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn format_ts(ms: i64) -> String {
    nimbus_api::time::format_last_modified(ms)
}

fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .with_context(|| format!("bad duration {s:?} (e.g. 30s, 10m, 2h, 1d)"))?;
    let secs = match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => bail!("bad duration unit in {s:?} (s, m, h or d)"),
    };
    Ok(Duration::from_secs(secs))
}

fn print_config(config: &Value, _output: Output) {
    let s = |k: &str| {
        config
            .get(k)
            .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
            .unwrap_or_default()
    };
    println!("FunctionName: {}", s("FunctionName"));
    println!("FunctionArn:  {}", s("FunctionArn"));
    println!("Runtime:      {}", s("Runtime"));
    println!("Handler:      {}", s("Handler"));
    println!("MemorySize:   {} MB", s("MemorySize"));
    println!("Timeout:      {} s", s("Timeout"));
    println!("CodeSize:     {} bytes", s("CodeSize"));
    println!("CodeSha256:   {}", s("CodeSha256"));
    println!("Version:      {}", s("Version"));
    println!("State:        {}", s("State"));
    println!("RevisionId:   {}", s("RevisionId"));
    println!("LastModified: {}", s("LastModified"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").expect("s"), Duration::from_secs(30));
        assert_eq!(parse_duration("10m").expect("m"), Duration::from_secs(600));
        assert_eq!(parse_duration("2h").expect("h"), Duration::from_secs(7200));
        assert!(parse_duration("5y").is_err());
    }
}
