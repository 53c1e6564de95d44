//! `nimbus`: the platform daemon (`nimbus serve`) and its command-line client.

#![forbid(unsafe_code)]

mod cli;
mod client;
mod cost_cmd;
mod deploy;
mod deployments_cmd;
mod dev;
mod files;
mod lint_cmd;
mod metrics_cmd;
mod otlp;
mod serve;
mod settings;
mod zipdir;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "nimbus",
    version,
    about = "Self-hosted serverless functions with AWS Lambda's semantics and APIs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve every API (Lambda control plane, Invoke, logs) on one listener.
    Serve(settings::ServeArgs),
    /// Deploy a SAM template: package, upload, converge, show what changed.
    Deploy(deploy::DeployArgs),
    /// Stacks deployed from templates.
    #[command(subcommand)]
    Stack(deploy::StackCommand),
    /// Serve, deploy a template, print its URLs, and redeploy when its files change.
    Dev(dev::DevArgs),
    /// Traffic-shifting deployments: list, show (--watch), stop.
    Deployments(deployments_cmd::DeploymentsArgs),
    /// Production-readiness checks of a template, or of the deployed stacks.
    Lint(lint_cmd::LintArgs),
    /// What the metered invocations cost (per function, projected to a month), or what a
    /// hypothetical workload would (`cost model`).
    Cost(cost_cmd::CostArgs),
    /// Invocations, error %, throttles, p50/p99 duration and cold-start % per function.
    Metrics(metrics_cmd::MetricsArgs),
    #[command(flatten)]
    Client(cli::ClientCommand),
}

fn main() -> ExitCode {
    // The sandbox spawner is this same binary re-executed; dispatch before anything else
    // so it stays single-threaded.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == nimbus_sandbox::SPAWNER_ARG)
    {
        nimbus_sandbox::spawner_main();
    }
    let cli = Cli::parse();
    // Commands that only print end quietly when their reader goes away (`| head`); the
    // server and `dev` (which runs one) keep Rust's default of ignoring SIGPIPE.
    if !matches!(cli.command, Command::Serve(_) | Command::Dev(_)) {
        nimbus_sandbox::sys::default_sigpipe();
    }
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Deploy(args) => cli::block_on(deploy::deploy(args)),
        Command::Stack(command) => cli::block_on(deploy::stack(command)),
        Command::Dev(args) => dev::run(args),
        Command::Deployments(args) => deployments_cmd::run(args),
        Command::Lint(args) => cli::block_on(lint_cmd::run(args)),
        Command::Cost(args) => cost_cmd::run(args),
        Command::Metrics(args) => metrics_cmd::run(args),
        Command::Client(command) => cli::run_client(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nimbus: {e:#}");
            ExitCode::FAILURE
        }
    }
}
