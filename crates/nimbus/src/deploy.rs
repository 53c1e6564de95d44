//! `nimbus deploy` and `nimbus stack …`: read a SAM template, package and upload each
//! function's code once (content-addressed), send the resolved spec, and show what changed.

use crate::cli::{Endpoint, Output};
use crate::client::{Client, segment};
use crate::zipdir;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use nimbus_api::stack::{ChangeAction, DeployResult, EventSource, StackSpec};
use nimbus_template::{CodeSource, Loaded};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The template read when none is named (SAM's default).
pub const TEMPLATE_DEFAULT: &str = "template.yaml";
/// Upload chunk size (the progress bar moves per chunk).
const UPLOAD_CHUNK_BYTES: usize = 256 * 1024;
/// How often `--wait` polls a running deployment.
const WAIT_POLL: Duration = Duration::from_millis(500);
/// Deployment statuses after which nothing changes any more.
const DEPLOYMENT_DONE: [&str; 3] = ["Succeeded", "RolledBack", "Failed"];

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The SAM template.
    #[arg(default_value = TEMPLATE_DEFAULT)]
    pub template: PathBuf,
    /// Stack name (default: the template directory's name).
    #[arg(long)]
    pub stack: Option<String>,
    /// Template parameter override (repeatable).
    #[arg(long = "parameter", value_name = "KEY=VALUE")]
    pub parameters: Vec<String>,
    /// Wait for traffic-shifting deployments to finish, showing each step.
    #[arg(long)]
    pub wait: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

#[derive(Debug, Subcommand)]
pub enum StackCommand {
    /// List stacks.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
        #[command(flatten)]
        endpoint: Endpoint,
    },
    /// Delete a stack and everything it created.
    Delete {
        /// Stack name.
        name: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
        #[command(flatten)]
        endpoint: Endpoint,
    },
}

/// What the server tells a deployer about itself.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerInfo {
    pub region: String,
    pub account_id: String,
    pub endpoint_url: Option<String>,
    pub gateway_url: Option<String>,
}

pub async fn server_info(client: &Client) -> anyhow::Result<ServerInfo> {
    client
        .json(Method::GET, "/nimbus/v1/info", None)
        .await
        .context("ask the server for its region, account and gateway")
}

/// Stack name from the template's directory when not given.
pub fn default_stack_name(template: &Path) -> String {
    let dir = template
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let raw = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut name: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name = format!("stack-{name}");
    }
    name.trim_end_matches('-').chars().take(100).collect()
}

/// Reads and resolves a template; prints its diagnostics to stderr.
pub fn load_template(
    template: &Path,
    stack: &str,
    parameters: &[String],
    info: &ServerInfo,
    endpoint: &str,
) -> anyhow::Result<Loaded> {
    let mut params = BTreeMap::new();
    for kv in parameters {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--parameter expects KEY=VALUE, got {kv:?}"))?;
        params.insert(k.to_string(), v.to_string());
    }
    let ctx = nimbus_template::Context {
        stack_name: stack.to_string(),
        region: info.region.clone(),
        account_id: info.account_id.clone(),
        queue_url_base: info
            .endpoint_url
            .clone()
            .unwrap_or_else(|| endpoint.trim_end_matches('/').to_string()),
        gateway_url: info
            .gateway_url
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1:3000".to_string()),
        parameters: params,
    };
    let loaded = nimbus_template::load(template, &ctx).map_err(|e| anyhow::anyhow!("{e}"))?;
    for d in &loaded.diagnostics {
        eprintln!("{d}");
    }
    Ok(loaded)
}

/// The zip for one function's code.
fn package(source: &CodeSource, handler: &str, runtime: &str) -> anyhow::Result<Vec<u8>> {
    match source {
        CodeSource::Dir(dir) => zipdir::zip_dir(dir),
        CodeSource::Zip(path) => crate::files::read_capped(
            path,
            nimbus_api::limits::CODE_ZIP_BYTES_MAX,
            "a deployment zip",
        ),
        CodeSource::Inline(text) => {
            // CloudFormation's ZipFile convention: one file named after the handler's module.
            let module = handler.split('.').next().unwrap_or("index");
            let ext = if runtime.starts_with("python") {
                "py"
            } else if runtime.starts_with("nodejs") {
                "js"
            } else {
                bail!("InlineCode is supported for Python and Node.js runtimes only")
            };
            zipdir::zip_files(&[(format!("{module}.{ext}"), text.as_bytes().to_vec(), false)])
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn bar(len: u64, template: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb
}

/// Packages every function's code and uploads what the server does not have yet. Fills in
/// each function's `CodeSha256`.
pub async fn package_and_upload(client: &Client, loaded: &mut Loaded) -> anyhow::Result<()> {
    let count = loaded.spec.functions.len() as u64;
    let packing = bar(count, "packaging {bar:30} {pos}/{len} {msg}");
    let mut zips: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for f in &mut loaded.spec.functions {
        packing.set_message(f.logical_id.clone());
        let source = loaded
            .code
            .get(&f.logical_id)
            .with_context(|| format!("function {} has no code", f.logical_id))?;
        let zip = package(source, &f.handler, &f.runtime)
            .with_context(|| format!("package {}", f.logical_id))?;
        f.code_sha256 = sha256_hex(&zip);
        zips.insert(f.code_sha256.clone(), zip);
        packing.inc(1);
    }
    packing.finish_and_clear();
    for (sha, zip) in zips {
        let have = client
            .send(
                Method::HEAD,
                &format!("/nimbus/v1/code/{sha}.zip"),
                &[],
                None,
            )
            .await
            .is_ok();
        if have {
            continue;
        }
        upload(client, &sha, zip).await?;
    }
    Ok(())
}

async fn upload(client: &Client, sha: &str, zip: Vec<u8>) -> anyhow::Result<()> {
    let pb = bar(
        zip.len() as u64,
        "uploading {bar:30} {bytes}/{total_bytes} {msg}",
    );
    pb.set_message(sha[..12].to_string());
    let chunks: Vec<Vec<u8>> = zip.chunks(UPLOAD_CHUNK_BYTES).map(<[u8]>::to_vec).collect();
    let progress = pb.clone();
    let stream = futures::stream::iter(chunks.into_iter().map(move |c| {
        progress.inc(c.len() as u64);
        Ok::<_, std::io::Error>(c)
    }));
    let len = zip.len();
    let resp = client
        .send_body(
            Method::POST,
            "/nimbus/v1/code",
            &[
                ("content-type", "application/zip".to_string()),
                ("content-length", len.to_string()),
            ],
            reqwest::Body::wrap_stream(stream),
        )
        .await?;
    pb.finish_and_clear();
    let uploaded: Value = serde_json::from_slice(&resp.body)?;
    if uploaded.get("CodeSha256").and_then(Value::as_str) != Some(sha) {
        bail!("the server stored the upload under another hash: {uploaded}");
    }
    Ok(())
}

/// Sends the spec.
pub async fn apply(client: &Client, spec: &StackSpec) -> anyhow::Result<DeployResult> {
    let body = serde_json::to_value(spec)?;
    client
        .json(
            Method::PUT,
            &format!("/nimbus/v1/stacks/{}", segment(&spec.name)),
            Some(&body),
        )
        .await
}

/// The HTTP routes of a spec, as URLs on the gateway.
pub fn route_lines(spec: &StackSpec, gateway: &str) -> Vec<String> {
    let mut out = Vec::new();
    for f in &spec.functions {
        for e in &f.events {
            match &e.source {
                EventSource::Api { path, method } => {
                    out.push(format!("{method:<6} {gateway}{path}  → {}", f.logical_id))
                }
                EventSource::HttpApi { path, method, .. } => {
                    let method = method.as_deref().unwrap_or("ANY");
                    let path = path.as_deref().unwrap_or("/{proxy+} ($default)");
                    out.push(format!("{method:<6} {gateway}{path}  → {}", f.logical_id));
                }
                _ => {}
            }
        }
    }
    out
}

pub fn print_result(result: &DeployResult, loaded: Option<&Loaded>, output: Output) {
    if let Output::Json = output {
        let diagnostics: Vec<String> = loaded
            .map(|l| l.diagnostics.iter().map(|d| d.to_string()).collect())
            .unwrap_or_default();
        let mut v = json!({ "Result": result, "Diagnostics": diagnostics });
        if let Some(l) = loaded {
            v["Lint"] = json!(crate::lint_cmd::lint_loaded(l));
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::UTF8_BORDERS_ONLY);
    table.set_header(["Action", "LogicalId", "Type", "PhysicalId", "Detail"]);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &result.changes {
        *counts.entry(c.action.as_str()).or_default() += 1;
        if c.action == ChangeAction::NoChange {
            continue;
        }
        table.add_row([
            c.action.as_str(),
            &c.logical_id,
            &c.resource_type,
            &c.physical_id,
            &c.detail,
        ]);
    }
    if result.is_no_op() {
        println!(
            "Stack {}: no changes ({} resources up to date).",
            result.stack,
            result.changes.len()
        );
    } else {
        println!("{table}");
        let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
        println!("Stack {}: {}.", result.stack, summary.join(", "));
    }
    if !result.outputs.is_empty() {
        println!("\nOutputs:");
        for o in &result.outputs {
            println!("  {:<24} {}", o.key, o.value);
        }
    }
}

/// Follows deployments until they end, printing each change of weight or status.
pub async fn wait_for(client: &Client, ids: &[String]) -> anyhow::Result<bool> {
    let mut all_ok = true;
    for id in ids {
        let mut last = String::new();
        loop {
            let d: Value = client
                .json(
                    Method::GET,
                    &format!("/nimbus/v1/deployments/{}", segment(id)),
                    None,
                )
                .await?;
            let status = d
                .get("Status")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            let percent = d.get("TrafficPercent").and_then(Value::as_u64).unwrap_or(0);
            let line = format!(
                "deployment {id}: {status}, {percent}% on version {}",
                d.get("ToVersion").and_then(Value::as_str).unwrap_or("?")
            );
            if line != last {
                println!("{line}");
                let _ = std::io::stdout().flush();
                last = line;
            }
            if DEPLOYMENT_DONE.contains(&status.as_str()) {
                if status != "Succeeded" {
                    all_ok = false;
                    if let Some(r) = d.get("Reason").and_then(Value::as_str) {
                        println!("  reason: {r}");
                    }
                }
                break;
            }
            tokio::time::sleep(WAIT_POLL).await;
        }
    }
    Ok(all_ok)
}

pub async fn deploy(a: DeployArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&a.endpoint.endpoint)?;
    let info = server_info(&client).await?;
    let stack = a
        .stack
        .clone()
        .unwrap_or_else(|| default_stack_name(&a.template));
    let mut loaded = load_template(
        &a.template,
        &stack,
        &a.parameters,
        &info,
        &a.endpoint.endpoint,
    )?;
    if let Output::Table = a.output {
        crate::lint_cmd::print_for_deploy(&crate::lint_cmd::lint_loaded(&loaded));
    }
    package_and_upload(&client, &mut loaded).await?;
    let result = apply(&client, &loaded.spec).await?;
    print_result(&result, Some(&loaded), a.output);
    if let (Output::Table, Some(gw)) = (a.output, info.gateway_url.as_deref()) {
        let routes = route_lines(&loaded.spec, gw);
        if !routes.is_empty() {
            println!("\nRoutes:");
            for r in routes {
                println!("  {r}");
            }
        }
    }
    if !result.deployments.is_empty() {
        if a.wait {
            if !wait_for(&client, &result.deployments).await? {
                return Ok(ExitCode::FAILURE);
            }
        } else if let Output::Table = a.output {
            println!(
                "\nTraffic shifting started ({}); follow it with `nimbus deployments`.",
                result.deployments.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn stack(command: StackCommand) -> anyhow::Result<ExitCode> {
    match command {
        StackCommand::List { output, endpoint } => {
            let client = Client::new(&endpoint.endpoint)?;
            let v: Value = client.json(Method::GET, "/nimbus/v1/stacks", None).await?;
            if let Output::Json = output {
                println!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(ExitCode::SUCCESS);
            }
            let mut table = comfy_table::Table::new();
            table.load_style(comfy_table::presets::UTF8_BORDERS_ONLY);
            table.set_header(["Stack", "Status", "Functions", "Reason"]);
            for s in v
                .get("Stacks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let functions = s
                    .pointer("/Spec/Functions")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                table.add_row([
                    s.get("Name").and_then(Value::as_str).unwrap_or(""),
                    s.get("Status").and_then(Value::as_str).unwrap_or(""),
                    &functions.to_string(),
                    s.get("Reason").and_then(Value::as_str).unwrap_or(""),
                ]);
            }
            println!("{table}");
            Ok(ExitCode::SUCCESS)
        }
        StackCommand::Delete {
            name,
            output,
            endpoint,
        } => {
            let client = Client::new(&endpoint.endpoint)?;
            let result: DeployResult = client
                .json(
                    Method::DELETE,
                    &format!("/nimbus/v1/stacks/{}", segment(&name)),
                    None,
                )
                .await?;
            print_result(&result, None, output);
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names_come_from_the_template_directory() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("my_app");
        std::fs::create_dir(&app).unwrap();
        let t = app.join("template.yaml");
        std::fs::write(&t, "x").unwrap();
        assert_eq!(default_stack_name(&t), "my-app");
        let app = dir.path().join("1st");
        std::fs::create_dir(&app).unwrap();
        let t = app.join("template.yaml");
        std::fs::write(&t, "x").unwrap();
        assert_eq!(default_stack_name(&t), "stack-1st");
    }

    #[test]
    fn inline_code_is_one_file_named_after_the_handler_module() {
        let zip = package(
            &CodeSource::Inline("def handler(e, c):\n    return 1\n".into()),
            "app.handler",
            "python3.12",
        )
        .unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        assert_eq!(archive.len(), 1);
        assert_eq!(archive.by_index(0).unwrap().name().unwrap(), "app.py");
        assert!(package(&CodeSource::Inline("x".into()), "h", "provided.al2023").is_err());
    }

    #[test]
    fn packaging_is_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.py"), "x = 1\n").unwrap();
        let one = package(&CodeSource::Dir(dir.path().into()), "a.h", "python3.12").unwrap();
        let two = package(&CodeSource::Dir(dir.path().into()), "a.h", "python3.12").unwrap();
        assert_eq!(sha256_hex(&one), sha256_hex(&two));
    }
}
