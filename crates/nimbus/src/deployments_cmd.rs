//! `nimbus deployments [list|show ID|stop ID] [--output json] [--watch]`: traffic-shifting
//! deployments, over `/nimbus/v1/deployments`.

use crate::cli::{Endpoint, Output};
use crate::client::{Client, segment};
use clap::{Args, Subcommand};
use nimbus_platform::deployments::{DeploymentStatus, DeploymentView};
use reqwest::Method;
use serde::Deserialize;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How often `--watch` redraws.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);
/// Longest `--watch` (a Linear10PercentEvery10Minutes deployment takes 90 minutes, plus
/// hooks): a forgotten watch does not poll forever.
const WATCH_DURATION_MAX: Duration = Duration::from_secs(6 * 3600);
/// Width of the progress bar, in characters.
const BAR_WIDTH: u32 = 20;
/// Events shown by `show` in a table (the newest; `--output json` has them all).
const EVENTS_SHOWN_MAX: usize = 20;

#[derive(Debug, Args)]
pub struct DeploymentsArgs {
    #[command(subcommand)]
    pub action: Option<Action>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table, global = true)]
    pub output: Output,
    /// Redraw until the deployment (or, for `list`, every deployment) has finished; exits
    /// non-zero when a watched deployment did not succeed.
    #[arg(long, global = true)]
    pub watch: bool,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// List deployments, newest first (the default).
    List {
        /// Only this function's.
        #[arg(long)]
        function: Option<String>,
    },
    /// Show one deployment: progress, hooks and timeline.
    Show {
        /// Deployment id (`d-…`).
        id: String,
    },
    /// Stop a deployment in progress (it rolls back).
    Stop {
        /// Deployment id (`d-…`).
        id: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeploymentList {
    deployments: Vec<DeploymentView>,
}

/// Runs the command on a small runtime of its own.
pub fn run(a: DeploymentsArgs) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run_async(a))
}

async fn run_async(a: DeploymentsArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&a.endpoint.endpoint)?;
    match a.action.unwrap_or(Action::List { function: None }) {
        Action::List { function } => list(&client, function.as_deref(), a.output, a.watch).await,
        Action::Show { id } => show(&client, &id, a.output, a.watch).await,
        Action::Stop { id } => {
            let path = format!("/nimbus/v1/deployments/{}/stop", segment(&id));
            let d: DeploymentView = client.json(Method::POST, &path, None).await?;
            print_one(&d, a.output)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn fetch_list(client: &Client, function: Option<&str>) -> anyhow::Result<DeploymentList> {
    let path = match function {
        Some(f) => format!("/nimbus/v1/deployments?function={}", segment(f)),
        None => "/nimbus/v1/deployments".to_string(),
    };
    client.json(Method::GET, &path, None).await
}

async fn list(
    client: &Client,
    function: Option<&str>,
    output: Output,
    watch: bool,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    loop {
        let all = fetch_list(client, function).await?;
        if watch {
            clear_screen();
        }
        match output {
            Output::Json => println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "Deployments": all.deployments
                }))?
            ),
            Output::Table => println!("{}", list_table(&all.deployments)),
        }
        let running = all.deployments.iter().any(|d| !d.status.is_terminal());
        if !watch || !running || started.elapsed() > WATCH_DURATION_MAX {
            return Ok(ExitCode::SUCCESS);
        }
        tokio::time::sleep(WATCH_INTERVAL).await;
    }
}

async fn show(client: &Client, id: &str, output: Output, watch: bool) -> anyhow::Result<ExitCode> {
    let path = format!("/nimbus/v1/deployments/{}", segment(id));
    let started = Instant::now();
    loop {
        let d: DeploymentView = client.json(Method::GET, &path, None).await?;
        if watch {
            clear_screen();
        }
        print_one(&d, output)?;
        if !watch || started.elapsed() > WATCH_DURATION_MAX {
            return Ok(ExitCode::SUCCESS);
        }
        if d.status.is_terminal() {
            return Ok(if d.status == DeploymentStatus::Succeeded {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        tokio::time::sleep(WATCH_INTERVAL).await;
    }
}

/// Clears a terminal before a redraw (a pipe just gets one snapshot after another).
fn clear_screen() {
    if std::io::stdout().is_terminal() {
        print!("\x1b[2J\x1b[H");
    }
}

fn print_one(d: &DeploymentView, output: Output) -> anyhow::Result<()> {
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(d)?),
        Output::Table => println!("{}", detail(d)),
    }
    Ok(())
}

fn list_table(deployments: &[DeploymentView]) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::NOTHING);
    table.set_header([
        "ID", "FUNCTION", "ALIAS", "FROM", "TO", "TYPE", "STATUS", "TRAFFIC", "STARTED",
    ]);
    for d in deployments {
        table.add_row([
            d.deployment_id.clone(),
            d.function_name.clone(),
            d.alias.clone(),
            d.from_version.clone(),
            d.to_version.clone(),
            d.deployment_type.clone(),
            d.status.as_str().to_string(),
            format!("{} %", d.traffic_percent),
            format_ts(d.started_ms),
        ]);
    }
    table
}

/// `[######..............] 30 %`.
fn progress_bar(percent: u32) -> String {
    let filled = (percent.min(100) * BAR_WIDTH / 100) as usize;
    let empty = BAR_WIDTH as usize - filled;
    format!("[{}{}] {percent} %", "#".repeat(filled), ".".repeat(empty))
}

fn detail(d: &DeploymentView) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<13}{v}\n"));
    line("Deployment:", d.deployment_id.clone());
    line(
        "Function:",
        format!("{} (alias {}, owner {})", d.function_name, d.alias, d.owner),
    );
    line(
        "Versions:",
        format!("{} -> {}", d.from_version, d.to_version),
    );
    line("Type:", d.deployment_type.clone());
    line("Status:", d.status.as_str().to_string());
    line(
        "Traffic:",
        format!(
            "{}  step {}/{}",
            progress_bar(d.traffic_percent),
            (d.step + 1).min(d.steps),
            d.steps
        ),
    );
    line("Started:", format_ts(d.started_ms));
    if let Some(next) = d.next_step_ms {
        line("Next step:", format_ts(next));
    }
    for (label, hook) in [
        ("PreTraffic:", &d.pre_traffic_hook),
        ("PostTraffic:", &d.post_traffic_hook),
    ] {
        if let Some(h) = hook {
            line(label, format!("{} ({:?})", h.function_name, h.status));
        }
    }
    if !d.alarms.is_empty() {
        line("Alarms:", d.alarms.join(", "));
    }
    if let Some(reason) = &d.reason {
        line("Reason:", reason.clone());
    }
    let mut events = comfy_table::Table::new();
    events.load_style(comfy_table::presets::NOTHING);
    events.set_header(["TIME", "STATUS", "EVENT"]);
    let skip = d.events.len().saturating_sub(EVENTS_SHOWN_MAX);
    for e in d.events.iter().skip(skip) {
        events.add_row([
            format_ts(e.time_ms),
            e.status.as_str().to_string(),
            e.message.clone(),
        ]);
    }
    out.push('\n');
    out.push_str(&events.to_string());
    out
}

fn format_ts(ms: i64) -> String {
    nimbus_api::time::format_last_modified(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_the_traffic() {
        assert_eq!(progress_bar(0), format!("[{}] 0 %", ".".repeat(20)));
        assert_eq!(progress_bar(10), format!("[##{}] 10 %", ".".repeat(18)));
        assert_eq!(progress_bar(100), format!("[{}] 100 %", "#".repeat(20)));
    }
}
