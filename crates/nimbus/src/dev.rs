//! `nimbus dev`: the `sam local start-api` habit on the real engine. Starts `nimbus serve`
//! (or uses a running one), deploys the template, prints its URLs, and redeploys whenever the
//! template or a function's code directory changes. Ctrl-C stops the server it started.

use crate::cli::{Output, block_on};
use crate::client::Client;
use crate::deploy::{self, TEMPLATE_DEFAULT};
use anyhow::{Context, bail};
use clap::Args;
use nimbus_template::CodeSource;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

/// How often the files are looked at.
const WATCH_INTERVAL: Duration = Duration::from_millis(700);
/// How long a burst of saves must settle before a redeploy.
const SETTLE: Duration = Duration::from_millis(300);
/// How long the server it starts may take to answer.
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);
/// Files looked at per watched tree (beyond this, changes deeper in are not noticed).
const WATCH_FILES_MAX: usize = 20_000;
/// Log filter of the server it starts, unless `NIMBUS_LOG` says otherwise.
const SERVER_LOG_DEFAULT: &str = "warn";
/// Directory names never watched (dependencies and build output churn).
const WATCH_SKIP_DIRS: [&str; 5] = [".git", ".nimbus", "node_modules", "__pycache__", ".aws-sam"];

#[derive(Debug, Args)]
pub struct DevArgs {
    /// The SAM template.
    #[arg(default_value = TEMPLATE_DEFAULT)]
    pub template: PathBuf,
    /// Stack name (default: the template directory's name).
    #[arg(long)]
    pub stack: Option<String>,
    /// Template parameter override (repeatable).
    #[arg(long = "parameter", value_name = "KEY=VALUE")]
    pub parameters: Vec<String>,
    /// Use this running server instead of starting one.
    #[arg(long, env = "NIMBUS_ENDPOINT")]
    pub endpoint: Option<String>,
    /// API listener of the server it starts.
    #[arg(long, default_value = "127.0.0.1:9000")]
    pub listen: String,
    /// Gateway (HTTP routes) listener of the server it starts.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub gateway_listen: String,
    /// State directory of the server it starts (default: `.nimbus` next to the template).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Extra `nimbus serve` flag for the server it starts (repeatable), e.g. `--serve-arg=--process-isolation=true`.
    #[arg(long = "serve-arg", allow_hyphen_values = true)]
    pub serve_args: Vec<String>,
    /// Deploy once and exit (no watching): what CI and tests use.
    #[arg(long)]
    pub once: bool,
}

/// A `nimbus serve` child, stopped when dropped.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM lets it stop its environments; it exits within its shutdown grace.
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run(a: DevArgs) -> anyhow::Result<ExitCode> {
    if !a.template.is_file() {
        bail!("no template at {}", a.template.display());
    }
    let (endpoint, server) = match &a.endpoint {
        Some(e) => (e.clone(), None),
        None => {
            let data_dir = a.data_dir.clone().unwrap_or_else(|| {
                a.template
                    .parent()
                    .unwrap_or(Path::new("."))
                    .join(".nimbus")
            });
            let exe = std::env::current_exe().context("locate the nimbus binary")?;
            let child = std::process::Command::new(exe)
                .arg("serve")
                .arg("--listen")
                .arg(&a.listen)
                .arg("--gateway-listen")
                .arg(&a.gateway_listen)
                .arg("--data-dir")
                .arg(&data_dir)
                .args(&a.serve_args)
                // The deploy summary is the interesting output; the server's own progress
                // lines would bury it (NIMBUS_LOG still wins when set).
                .env(
                    "NIMBUS_LOG",
                    std::env::var("NIMBUS_LOG").unwrap_or_else(|_| SERVER_LOG_DEFAULT.into()),
                )
                .spawn()
                .context("start nimbus serve")?;
            (format!("http://{}", a.listen), Some(Server(child)))
        }
    };
    block_on(dev(a, endpoint, server))
}

async fn wait_ready(client: &Client, server: &mut Option<Server>) -> anyhow::Result<()> {
    let deadline = Instant::now() + SERVER_START_TIMEOUT;
    loop {
        if client
            .send(reqwest::Method::GET, "/health", &[], None)
            .await
            .is_ok()
        {
            return Ok(());
        }
        if let Some(Server(child)) = server
            && let Ok(Some(status)) = child.try_wait()
        {
            bail!("nimbus serve exited before it was ready ({status})");
        }
        if Instant::now() > deadline {
            bail!("the server did not answer within {SERVER_START_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn dev(a: DevArgs, endpoint: String, mut server: Option<Server>) -> anyhow::Result<ExitCode> {
    let client = Client::new(&endpoint)?;
    wait_ready(&client, &mut server).await?;
    let info = deploy::server_info(&client).await?;
    let stack = a
        .stack
        .clone()
        .unwrap_or_else(|| deploy::default_stack_name(&a.template));
    let mut watched = match deploy_once(&client, &a, &stack, &info, &endpoint, true).await {
        Ok(w) => w,
        Err(e) if !a.once => {
            eprintln!("nimbus dev: deploy failed: {e:#}");
            vec![a.template.clone()]
        }
        Err(e) => return Err(e),
    };
    if a.once {
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "\nWatching {} for changes (Ctrl-C to stop).",
        describe(&watched)
    );
    let mut seen = fingerprint(&watched);
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                println!("\nStopping.");
                drop(server);
                return Ok(ExitCode::SUCCESS);
            }
            _ = tokio::time::sleep(WATCH_INTERVAL) => {}
        }
        if let Some(Server(child)) = &mut server
            && let Ok(Some(status)) = child.try_wait()
        {
            bail!("nimbus serve exited ({status})");
        }
        let now = fingerprint(&watched);
        if now == seen {
            continue;
        }
        tokio::time::sleep(SETTLE).await;
        seen = fingerprint(&watched);
        println!("\nChange detected; redeploying…");
        match deploy_once(&client, &a, &stack, &info, &endpoint, false).await {
            Ok(w) => {
                watched = w;
                seen = fingerprint(&watched);
            }
            Err(e) => eprintln!("nimbus dev: deploy failed: {e:#}"),
        }
    }
}

/// Deploys; returns the paths to watch (the template and every code directory or zip).
async fn deploy_once(
    client: &Client,
    a: &DevArgs,
    stack: &str,
    info: &deploy::ServerInfo,
    endpoint: &str,
    first: bool,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut loaded = deploy::load_template(&a.template, stack, &a.parameters, info, endpoint)?;
    let mut watched = vec![a.template.clone()];
    for source in loaded.code.values() {
        match source {
            CodeSource::Dir(p) | CodeSource::Zip(p) => watched.push(p.clone()),
            CodeSource::Inline(_) => {}
        }
    }
    watched.sort();
    watched.dedup();
    deploy::package_and_upload(client, &mut loaded).await?;
    let result = deploy::apply(client, &loaded.spec).await?;
    deploy::print_result(&result, Some(&loaded), Output::Table);
    if first && let Some(gw) = info.gateway_url.as_deref() {
        let routes = deploy::route_lines(&loaded.spec, gw);
        if !routes.is_empty() {
            println!("\nRoutes:");
            for r in routes {
                println!("  {r}");
            }
        }
        println!("\nAPI endpoint (for aws --endpoint-url / boto3): {endpoint}");
    }
    if !result.deployments.is_empty() {
        println!(
            "Traffic shifting started ({}); `nimbus deployments` shows it.",
            result.deployments.join(", ")
        );
    }
    Ok(watched)
}

fn describe(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// (path, size, mtime) of every file under the watched paths, sorted: equal iff unchanged.
fn fingerprint(paths: &[PathBuf]) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out = Vec::new();
    for p in paths {
        walk(p, &mut out);
    }
    out.sort();
    out
}

fn walk(path: &Path, out: &mut Vec<(PathBuf, u64, Option<SystemTime>)>) {
    let mut stack = vec![path.to_path_buf()];
    let mut seen = 0usize;
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            let skip = p
                .file_name()
                .is_some_and(|n| WATCH_SKIP_DIRS.iter().any(|s| n == *s));
            if skip && p != path {
                continue;
            }
            if let Ok(entries) = std::fs::read_dir(&p) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else {
            out.push((p, meta.len(), meta.modified().ok()));
            seen += 1;
            if seen >= WATCH_FILES_MAX {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_file_changes_the_fingerprint_and_ignored_dirs_do_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.py"), "x = 1\n").unwrap();
        std::fs::create_dir(dir.path().join("__pycache__")).unwrap();
        let paths = vec![dir.path().to_path_buf()];
        let before = fingerprint(&paths);
        std::fs::write(dir.path().join("__pycache__/app.pyc"), "junk").unwrap();
        assert_eq!(fingerprint(&paths), before);
        std::fs::write(dir.path().join("app.py"), "x = 22\n").unwrap();
        assert_ne!(fingerprint(&paths), before);
        std::fs::write(dir.path().join("new.py"), "").unwrap();
        assert_eq!(fingerprint(&paths).len(), 2);
    }
}
