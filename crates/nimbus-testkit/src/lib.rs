//! Test support for Nimbus's end-to-end tests: a real `nimbus serve` process on an
//! ephemeral port with a throw-away data directory, a blocking Lambda client over real HTTP,
//! and deployment-package builders. Tests use the same wire APIs as users do.

#![forbid(unsafe_code)]

use base64::Engine;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to print its ready line.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Timeout of one HTTP call made by tests (invokes may run for tens of seconds).
const HTTP_TIMEOUT: Duration = Duration::from_secs(120);

/// A running `nimbus serve`.
pub struct Server {
    bin: PathBuf,
    /// Run as this uid/gid (through `setpriv`) instead of as the test's user.
    run_as: Option<u32>,
    child: Option<Child>,
    data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    args: Vec<String>,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The gateway listener (API Gateway routes, function URLs), `http://127.0.0.1:<port>`;
    /// `None` when started with `--gateway-listen off`.
    pub gateway_endpoint: Option<String>,
    /// Where the server's stderr goes (read it when a test fails).
    pub log_path: PathBuf,
}

impl Server {
    /// Starts `bin serve` with a fresh data directory and `args` appended.
    pub fn start(bin: &Path, args: &[&str]) -> Server {
        Self::start_with(bin, args, None)
    }

    /// Starts the server as an unprivileged user (uid = gid = `uid`, no supplementary
    /// groups), to test the fallback without namespaces and cgroups. Needs root and `setpriv`.
    pub fn start_unprivileged(bin: &Path, args: &[&str], uid: u32) -> Server {
        Self::start_with(bin, args, Some(uid))
    }

    fn start_with(bin: &Path, args: &[&str], run_as: Option<u32>) -> Server {
        sweep_stale_dirs();
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempdir()
            .expect("create temp data dir");
        // Servers shared through statics are never dropped; record who owns this directory
        // so a later test run can remove it once both processes are gone.
        std::fs::write(temp.path().join(OWNER_FILE), std::process::id().to_string())
            .expect("owner file");
        if let Some(uid) = run_as {
            std::os::unix::fs::chown(temp.path(), Some(uid), Some(uid)).expect("chown temp dir");
        }
        let data_dir = temp.path().join("data");
        let mut server = Server {
            bin: bin.to_path_buf(),
            run_as,
            child: None,
            log_path: temp.path().join("server.log"),
            data_dir,
            _temp: Some(temp),
            args: args.iter().map(|s| s.to_string()).collect(),
            endpoint: String::new(),
            gateway_endpoint: None,
        };
        server.spawn();
        server
    }

    /// The data directory (survives restarts).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open server log");
        let mut command = match self.run_as {
            Some(uid) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={uid}"))
                    .arg("--clear-groups")
                    .arg(&self.bin)
                    .env("HOME", self.data_dir.parent().unwrap_or(Path::new("/tmp")));
                c
            }
            None => Command::new(&self.bin),
        };
        let mut child = command
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&self.data_dir)
            // An ephemeral gateway port too, unless the test chose one (or `off`).
            .args(
                if self.args.iter().any(|a| a.starts_with("--gateway-listen")) {
                    &[][..]
                } else {
                    &["--gateway-listen", "127.0.0.1:0"][..]
                },
            )
            .args(&self.args)
            .env("NIMBUS_LOG", "info,sqlx=warn,nimbus_platform=debug")
            // The server exits when this pipe closes: when the test process ends, however.
            .env("NIMBUS_EXIT_WITH_STDIN", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn nimbus serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so the server never blocks on a full pipe.
            for _ in lines {}
        });
        let line = rx.recv_timeout(START_TIMEOUT).unwrap_or_else(|e| {
            // Say how it ended: an exit status or signal tells a crash from a hang.
            let status = match child.try_wait() {
                Ok(Some(status)) => format!("exited: {status}"),
                _ => {
                    let _ = child.kill();
                    format!("still running after {e}; killed")
                }
            };
            panic!(
                "nimbus serve did not become ready ({status}); log:\n{}",
                self.log()
            )
        });
        let endpoint = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("unexpected ready line {line:?}"))
            .to_string();
        self.endpoint = endpoint;
        // "... and the gateway on http://127.0.0.1:<port> (...)".
        self.gateway_endpoint = line
            .split_once(" gateway on ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .map(str::to_string);
        if let Some(dir) = self.data_dir.parent() {
            let _ = std::fs::write(dir.join(SERVER_FILE), child.id().to_string());
        }
        self.child = Some(child);
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Stops the server with SIGTERM and waits.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Closing stdin is the server's shutdown signal in tests (NIMBUS_EXIT_WITH_STDIN).
            drop(child.stdin.take());
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server with SIGKILL (no chance to clean up).
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same data directory (new port).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// The running server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Starts the server again after [`Server::kill9`].
    pub fn start_again(&mut self) {
        self.spawn();
    }

    /// A client for this server.
    pub fn lambda(&self) -> Lambda {
        Lambda::new(&self.endpoint)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

const TEMP_PREFIX: &str = "nimbus-test-";
const OWNER_FILE: &str = "owner.pid";
const SERVER_FILE: &str = "server.pid";

/// Removes temp directories of earlier test runs whose test process and server are gone.
fn sweep_stale_dirs() {
    let alive = |path: &Path| {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok())
            .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
    };
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_ours = entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX);
        if !is_ours || !path.join(OWNER_FILE).exists() {
            continue;
        }
        if !alive(&path.join(OWNER_FILE)) && !alive(&path.join(SERVER_FILE)) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// A response as the test sees it.
#[derive(Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers (lower-case names).
    pub headers: reqwest::header::HeaderMap,
    /// Raw body.
    pub body: Vec<u8>,
}

impl Response {
    /// Body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    /// Body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// `X-Amzn-ErrorType`.
    pub fn error_type(&self) -> Option<String> {
        self.header("x-amzn-errortype")
    }

    /// The decoded `X-Amz-Log-Result`.
    pub fn log_tail(&self) -> String {
        self.header("x-amz-log-result")
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

/// A blocking client of the Lambda REST API (no signing: Nimbus accepts any caller).
pub struct Lambda {
    http: reqwest::blocking::Client,
    endpoint: String,
}

impl Lambda {
    /// For `endpoint` (`http://host:port`).
    pub fn new(endpoint: &str) -> Lambda {
        Lambda {
            http: reqwest::blocking::Client::builder()
                .timeout(HTTP_TIMEOUT)
                .build()
                .expect("http client"),
            endpoint: endpoint.to_string(),
        }
    }

    /// Any request; a transport failure (refused, reset, timed out) is `Err`.
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Response, String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.endpoint));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().map_err(|e| e.to_string())?.to_vec();
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    /// An SQS call (JSON 1.0, `X-Amz-Target: AmazonSQS.<action>`); transport failures are `Err`.
    pub fn sqs(&self, action: &str, body: &Value) -> Result<Response, String> {
        let target = format!("AmazonSQS.{action}");
        self.try_request(
            "POST",
            "/",
            &[
                ("x-amz-target", target.as_str()),
                ("content-type", "application/x-amz-json-1.0"),
            ],
            Some(body.to_string().into_bytes()),
        )
    }

    /// Any request; panics on a transport failure.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Response {
        self.try_request(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// Asynchronous events not yet terminal (pending, running or delivering), from
    /// `GET /nimbus/v1/async-events`; `None` when the server does not answer.
    pub fn unfinished_async_events(&self) -> Option<i64> {
        let r = self
            .try_request("GET", "/nimbus/v1/async-events", &[], None)
            .ok()?;
        let v = r.json();
        let by_state = v["byState"].as_object()?;
        Some(
            ["pending", "running", "delivering"]
                .iter()
                .map(|s| by_state.get(*s).and_then(Value::as_i64).unwrap_or(0))
                .sum(),
        )
    }

    /// CreateFunction with the given zip and extra members merged into the body.
    pub fn create(
        &self,
        name: &str,
        runtime: &str,
        handler: &str,
        zip: &[u8],
        extra: Value,
    ) -> Response {
        let mut body = json!({
            "FunctionName": name,
            "Runtime": runtime,
            "Handler": handler,
            "Role": "arn:aws:iam::000000000000:role/test",
            "Code": { "ZipFile": base64::engine::general_purpose::STANDARD.encode(zip) },
        });
        if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
            b.extend(extra);
        }
        self.request(
            "POST",
            "/2015-03-31/functions",
            &[("content-type", "application/json")],
            Some(serde_json::to_vec(&body).expect("json")),
        )
    }

    /// Synchronous Invoke with `X-Amz-Log-Type: Tail`.
    pub fn invoke(&self, name: &str, payload: &str) -> Response {
        self.request(
            "POST",
            &format!("/2015-03-31/functions/{name}/invocations"),
            &[("x-amz-log-type", "Tail")],
            Some(payload.as_bytes().to_vec()),
        )
    }

    /// GetFunction.
    pub fn get(&self, name: &str) -> Response {
        self.request("GET", &format!("/2015-03-31/functions/{name}"), &[], None)
    }

    /// DeleteFunction.
    pub fn delete(&self, name: &str) -> Response {
        self.request(
            "DELETE",
            &format!("/2015-03-31/functions/{name}"),
            &[],
            None,
        )
    }
}

/// A file in a test package.
pub struct File<'a> {
    /// Path inside the zip.
    pub name: &'a str,
    /// Contents.
    pub data: &'a [u8],
    /// Unix mode (0o755 for executables).
    pub mode: u32,
}

/// Builds a deployment zip.
pub fn zip(files: &[File<'_>]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for f in files {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(f.mode);
        out.start_file(f.name, opts).expect("zip entry");
        out.write_all(f.data).expect("zip write");
    }
    out.finish().expect("zip finish").into_inner()
}

/// A zip holding one Python file `app.py`.
pub fn python_zip(source: &str) -> Vec<u8> {
    zip(&[File {
        name: "app.py",
        data: source.as_bytes(),
        mode: 0o644,
    }])
}

/// A zip holding one Node file `index.js` (or `index.mjs` when `esm`).
pub fn node_zip(source: &str, esm: bool) -> Vec<u8> {
    zip(&[File {
        name: if esm { "index.mjs" } else { "index.js" },
        data: source.as_bytes(),
        mode: 0o644,
    }])
}

/// A zip whose `bootstrap` is the given executable file.
pub fn bootstrap_zip(bootstrap: &[u8]) -> Vec<u8> {
    zip(&[File {
        name: "bootstrap",
        data: bootstrap,
        mode: 0o755,
    }])
}

/// A unique function name for one test (names are global per server).
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
