//! Conformance tests for the runtime bootstraps Nimbus ships inside its binary:
//! `runtimes/python/bootstrap.py` and `runtimes/node/bootstrap.js`.
//!
//! Each case starts a std-only mock of the Lambda Runtime API (one thread per
//! connection, keep-alive, `/next` parked until an event is queued, every
//! request recorded), then runs a REAL interpreter on the bootstrap exactly as
//! the platform will (`python -S bootstrap.py` / `node bootstrap.js`, cleared
//! environment + Lambda's variables, a fixture directory as task root), and
//! checks what went over the wire and into the log pipe.
//!
//! Python cases run on every interpreter found (/usr/bin/python3 and each
//! pyenv 3.9–3.14 under /root/.pyenv/versions); Node cases on /usr/bin/node.
//! Nothing is skipped silently: every test prints the interpreters it ran
//! (`cargo test --test bootstrap_conformance -- --nocapture`), and
//! `ttfr_per_interpreter` prints the time from spawn to the first `/next`.

use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const NEXT_PATH: &str = "/2018-06-01/runtime/invocation/next";
const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";
const FUNCTION_NAME: &str = "conformance-fn";
const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:conformance-fn:live";
const LOG_STREAM: &str = "2026/11/27/[$LATEST]0123456789abcdef0123456789abcdef";
const TRACE_ID: &str = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1";
const NBSP: &str = "\u{a0}";

// ---------------------------------------------------------------------------
// Interpreters
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Lang {
    Python,
    Node,
}

#[derive(Clone, Debug)]
struct Interp {
    label: String,
    program: PathBuf,
    lang: Lang,
}

fn python_interpreters() -> Vec<Interp> {
    let mut found = Vec::new();
    if Path::new("/usr/bin/python3").exists() {
        found.push(Interp {
            label: "/usr/bin/python3".into(),
            program: "/usr/bin/python3".into(),
            lang: Lang::Python,
        });
    }
    let mut pyenv: Vec<((u32, u32), PathBuf)> = std::fs::read_dir("/root/.pyenv/versions")
        .map(|dir| {
            dir.filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                let mut parts = name.split('.');
                let major: u32 = parts.next()?.parse().ok()?;
                let minor: u32 = parts.next()?.parse().ok()?;
                // The runtimes Nimbus supports run on host Python 3.9+.
                if major != 3 || !(9..=14).contains(&minor) {
                    return None;
                }
                let program = PathBuf::from(format!(
                    "/root/.pyenv/versions/{name}/bin/python{major}.{minor}"
                ));
                program.exists().then_some(((major, minor), program))
            })
            .collect()
        })
        .unwrap_or_default();
    pyenv.sort();
    for (_, program) in pyenv {
        found.push(Interp {
            label: program.display().to_string(),
            program,
            lang: Lang::Python,
        });
    }
    assert!(!found.is_empty(), "no Python interpreter found");
    found
}

fn node_interpreters() -> Vec<Interp> {
    assert!(
        Path::new("/usr/bin/node").exists(),
        "/usr/bin/node not found"
    );
    vec![Interp {
        label: "/usr/bin/node".into(),
        program: "/usr/bin/node".into(),
        lang: Lang::Node,
    }]
}

fn announce(test: &str, interps: &[Interp]) {
    let labels: Vec<&str> = interps.iter().map(|i| i.label.as_str()).collect();
    println!("{test}: ran on {}", labels.join(", "));
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn runtime_dir(lang: Lang) -> PathBuf {
    manifest_dir().join("runtimes").join(match lang {
        Lang::Python => "python",
        Lang::Node => "node",
    })
}

fn task_root(lang: Lang) -> PathBuf {
    manifest_dir()
        .join("tests/fixtures/bootstraps")
        .join(match lang {
            Lang::Python => "python",
            Lang::Node => "node",
        })
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// 1-based line number of the first fixture line containing `needle`.
fn line_of(lang: Lang, file: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(task_root(lang).join(file)).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {file}"))
        + 1
}

// ---------------------------------------------------------------------------
// Mock Runtime API
// ---------------------------------------------------------------------------

/// One event the mock hands out on `GET /next`.
#[derive(Clone, Debug)]
struct Invoke {
    id: String,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    chunked: bool,
    /// Hold the `/next` answer this long after the request arrived.
    delay: Duration,
}

impl Invoke {
    fn new(id: &str, body: &str) -> Self {
        Invoke {
            id: id.into(),
            body: body.as_bytes().to_vec(),
            headers: vec![
                (
                    "Lambda-Runtime-Deadline-Ms".into(),
                    (now_ms() + 30_000).to_string(),
                ),
                ("Lambda-Runtime-Invoked-Function-Arn".into(), ARN.into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            chunked: false,
            delay: Duration::ZERO,
        }
    }

    fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    fn without_header(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// Answer this `/next` with `Transfer-Encoding: chunked`.
    fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }
}

/// One request the bootstrap sent.
#[derive(Clone, Debug)]
struct Req {
    conn: usize,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    at: Instant,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body of {} {} is not JSON ({e}): {:?}",
                self.method,
                self.path,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("UTF-8 body")
    }

    fn is_next(&self) -> bool {
        self.method == "GET" && self.path == NEXT_PATH
    }

    fn is_result(&self) -> bool {
        self.method == "POST"
            && self.path.starts_with("/2018-06-01/runtime/invocation/")
            && (self.path.ends_with("/response") || self.path.ends_with("/error"))
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<Invoke>,
    requests: Vec<Req>,
    shutdown: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

struct MockApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl MockApi {
    /// `drop_after_post`: close the connection right after answering each
    /// POST, without announcing it (a keep-alive peer that went away).
    fn start(invokes: Vec<Invoke>, drop_after_post: bool) -> MockApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: invokes.into(),
                ..State::default()
            }),
            changed: Condvar::new(),
        });
        let accept_shared = Arc::clone(&shared);
        thread::spawn(move || {
            for (conn, stream) in listener.incoming().enumerate() {
                if accept_shared.state.lock().unwrap().shutdown {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&accept_shared);
                thread::spawn(move || {
                    // I/O errors just end the connection: the bootstrap may die.
                    let _ = serve(stream, conn, &shared, drop_after_post);
                });
            }
        });
        MockApi { addr, shared }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap()
    }

    fn wait_for_change(&self, timeout: Duration) {
        let guard = self.lock();
        let _ = self.shared.changed.wait_timeout(guard, timeout).unwrap();
    }

    fn shutdown(&self) {
        self.lock().shutdown = true;
        self.shared.changed.notify_all();
        let _ = TcpStream::connect(self.addr); // wake the accept loop
    }
}

fn serve(
    stream: TcpStream,
    conn: usize,
    shared: &Shared,
    drop_after_post: bool,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse::<usize>().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let req = Req {
            conn,
            method,
            path,
            headers,
            body,
            at: Instant::now(),
        };
        let is_next = req.is_next();
        shared.state.lock().unwrap().requests.push(req);
        shared.changed.notify_all();

        if is_next {
            // Park until an event is queued (or the test is over).
            let invoke = {
                let mut state = shared.state.lock().unwrap();
                loop {
                    if state.shutdown {
                        return Ok(());
                    }
                    if let Some(invoke) = state.queue.pop_front() {
                        break invoke;
                    }
                    state = shared.changed.wait(state).unwrap();
                }
            };
            thread::sleep(invoke.delay);
            write_invoke(&mut out, &invoke)?;
        } else {
            let body = r#"{"status":"OK"}"#;
            write!(
                out,
                "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )?;
            if drop_after_post {
                return Ok(());
            }
        }
    }
}

fn write_invoke(out: &mut TcpStream, invoke: &Invoke) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: {}\r\n",
        invoke.id
    );
    for (name, value) in &invoke.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !invoke.chunked {
        head.push_str(&format!("Content-Length: {}\r\n\r\n", invoke.body.len()));
        out.write_all(head.as_bytes())?;
        return out.write_all(&invoke.body);
    }
    // Small chunks in separate segments (nodelay), a chunk extension and a
    // trailer: the parser must cope with all of it arriving piecemeal.
    head.push_str("Transfer-Encoding: chunked\r\n\r\n");
    out.write_all(head.as_bytes())?;
    // Tiny chunks for small bodies; odd-sized 64 KiB ones for large bodies.
    let size = if invoke.body.len() > 4096 { 65_537 } else { 4 };
    for (i, piece) in invoke.body.chunks(size).enumerate() {
        let ext = if i == 0 { ";nimbus=ext" } else { "" };
        out.write_all(format!("{:x}{ext}\r\n", piece.len()).as_bytes())?;
        out.write_all(piece)?;
        out.write_all(b"\r\n")?;
    }
    out.write_all(b"0\r\nX-Trailer: yes\r\n\r\n")
}

// ---------------------------------------------------------------------------
// Running a bootstrap
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Until {
    /// Every queued event answered and the bootstrap parked on the next `/next`.
    Parked,
    /// The process exited on its own.
    Exit,
}

struct Spec<'a> {
    interp: &'a Interp,
    handler: String,
    invokes: Vec<Invoke>,
    env: Vec<(String, String)>,
    drop_after_post: bool,
    /// Run this file instead of the shipped bootstrap (a precompiled .pyc).
    script: Option<PathBuf>,
}

struct Run {
    requests: Vec<Req>,
    logs: String,
    /// `None` if the process was still running (and was killed) at the end.
    status: Option<ExitStatus>,
    ttfr: Option<Duration>,
    label: String,
}

impl<'a> Spec<'a> {
    fn new(interp: &'a Interp, handler: &str) -> Self {
        Spec {
            interp,
            handler: handler.into(),
            invokes: Vec::new(),
            env: Vec::new(),
            drop_after_post: false,
            script: None,
        }
    }

    fn script(mut self, script: &Path) -> Self {
        self.script = Some(script.to_path_buf());
        self
    }

    fn invoke(mut self, invoke: Invoke) -> Self {
        self.invokes.push(invoke);
        self
    }

    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    fn drop_after_post(mut self) -> Self {
        self.drop_after_post = true;
        self
    }

    /// Lambda's environment for the function, nothing inherited.
    fn base_env(&self, addr: SocketAddr) -> Vec<(String, String)> {
        let lang = self.interp.lang;
        let root = task_root(lang).display().to_string();
        let mut env: Vec<(String, String)> = [
            ("AWS_LAMBDA_RUNTIME_API", addr.to_string()),
            ("_HANDLER", self.handler.clone()),
            ("LAMBDA_TASK_ROOT", root.clone()),
            (
                "LAMBDA_RUNTIME_DIR",
                runtime_dir(lang).display().to_string(),
            ),
            ("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME.into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{FUNCTION_NAME}"),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", LOG_STREAM.into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("TZ", ":UTC".into()),
            ("PATH", "/usr/local/bin:/usr/bin:/bin".into()),
            ("LANG", "en_US.UTF-8".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        match lang {
            Lang::Python => {
                env.push(("AWS_EXECUTION_ENV".into(), "AWS_Lambda_python3.12".into()));
                // Keeps __pycache__ out of the fixture tree.
                env.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
            }
            Lang::Node => {
                env.push(("AWS_EXECUTION_ENV".into(), "AWS_Lambda_nodejs20.x".into()));
                env.push((
                    "NODE_PATH".into(),
                    format!("/opt/nodejs/node_modules:{root}"),
                ));
            }
        }
        env
    }

    fn run(self) -> Run {
        self.execute(Until::Parked)
    }

    fn run_until_exit(self) -> Run {
        self.execute(Until::Exit)
    }

    fn execute(self, until: Until) -> Run {
        let expected = self.invokes.len();
        let mock = MockApi::start(self.invokes.clone(), self.drop_after_post);
        let lang = self.interp.lang;

        // stdout and stderr share one pipe, as in the platform.
        let (log_reader, log_writer) = std::io::pipe().unwrap();
        let mut cmd = bootstrap_command(self.interp, self.script.as_deref());
        cmd.env_clear()
            .envs(self.base_env(mock.addr))
            .envs(self.env.iter().cloned())
            .current_dir(task_root(lang))
            .stdin(Stdio::null())
            .stdout(log_writer.try_clone().unwrap())
            .stderr(log_writer);
        let spawned = Instant::now();
        let mut child = cmd.spawn().unwrap();
        drop(cmd); // closes our copies of the pipe's write end
        let log_thread = thread::spawn(move || {
            let mut reader = log_reader;
            let mut buf = Vec::new();
            let _ = reader.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        });

        let deadline = spawned + Duration::from_secs(30);
        let mut status = None;
        loop {
            if let Some(exited) = child.try_wait().unwrap() {
                status = Some(exited);
                break;
            }
            let parked = {
                let state = mock.lock();
                let results = state.requests.iter().filter(|r| r.is_result()).count();
                let nexts = state.requests.iter().filter(|r| r.is_next()).count();
                results == expected && nexts == expected + 1
            };
            if until == Until::Parked && parked {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                mock.shutdown();
                let logs = log_thread.join().unwrap();
                panic!(
                    "[{}] {} timed out\nrequests: {:#?}\nlogs:\n{logs}",
                    self.interp.label,
                    self.handler,
                    mock.lock().requests
                );
            }
            mock.wait_for_change(Duration::from_millis(20));
        }
        if status.is_none() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        mock.shutdown();
        let logs = log_thread.join().unwrap();
        let requests = mock.lock().requests.clone();
        let ttfr = requests
            .iter()
            .find(|r| r.is_next())
            .map(|r| r.at - spawned);
        Run {
            requests,
            logs,
            status,
            ttfr,
            label: format!("{} {}", self.interp.label, self.handler),
        }
    }
}

/// The platform's command line: `python -S <bootstrap>` / `node <bootstrap>`.
fn bootstrap_command(interp: &Interp, script: Option<&Path>) -> Command {
    let mut cmd = Command::new(&interp.program);
    let default = runtime_dir(interp.lang).join(match interp.lang {
        Lang::Python => "bootstrap.py",
        Lang::Node => "bootstrap.js",
    });
    if interp.lang == Lang::Python {
        cmd.arg("-S");
    }
    cmd.arg(script.unwrap_or(&default));
    cmd
}

/// Compiles bootstrap.py with `interp` into `dir`, as the platform can do once
/// per host interpreter; returns the .pyc to run instead of the source.
fn compile_pyc(interp: &Interp, dir: &Path) -> PathBuf {
    let source = runtime_dir(Lang::Python).join("bootstrap.py");
    let pyc = dir.join(format!(
        "bootstrap.{}.pyc",
        interp.program.file_name().unwrap().to_string_lossy()
    ));
    let status = Command::new(&interp.program)
        .args(["-S", "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)"])
        .arg(&source)
        .arg(&pyc)
        .env_clear()
        .status()
        .unwrap();
    assert!(status.success(), "py_compile with {} failed", interp.label);
    pyc
}

impl Run {
    fn find(&self, method: &str, path: &str) -> &Req {
        self.requests
            .iter()
            .find(|r| r.method == method && r.path == path)
            .unwrap_or_else(|| panic!("[{}] no {method} {path}\n{}", self.label, self.dump()))
    }

    fn response(&self, id: &str) -> &Req {
        self.find(
            "POST",
            &format!("/2018-06-01/runtime/invocation/{id}/response"),
        )
    }

    fn error(&self, id: &str) -> &Req {
        self.find(
            "POST",
            &format!("/2018-06-01/runtime/invocation/{id}/error"),
        )
    }

    fn init_error(&self) -> &Req {
        self.find("POST", INIT_ERROR_PATH)
    }

    fn nexts(&self) -> usize {
        self.requests.iter().filter(|r| r.is_next()).count()
    }

    fn exit_code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    fn dump(&self) -> String {
        let requests: Vec<String> = self
            .requests
            .iter()
            .map(|r| {
                format!(
                    "  conn {} {} {} {:?} {}",
                    r.conn,
                    r.method,
                    r.path,
                    r.headers,
                    String::from_utf8_lossy(&r.body)
                )
            })
            .collect();
        format!(
            "status: {:?}\nrequests:\n{}\nlogs:\n{}",
            self.status,
            requests.join("\n"),
            self.logs
        )
    }

    fn log_lines(&self) -> Vec<&str> {
        self.logs.split('\n').filter(|l| !l.is_empty()).collect()
    }

    /// Asserts that some log line satisfies `pred`.
    fn assert_log(&self, what: &str, pred: impl Fn(&str) -> bool) {
        assert!(
            self.log_lines().iter().any(|l| pred(l)),
            "[{}] no log line {what}\n{}",
            self.label,
            self.dump()
        );
    }

    fn assert_no_log(&self, what: &str, pred: impl Fn(&str) -> bool) {
        assert!(
            !self.log_lines().iter().any(|l| pred(l)),
            "[{}] unexpected log line {what}\n{}",
            self.label,
            self.dump()
        );
    }

    /// The bootstrap answered every event and went back to `/next`, all on
    /// one connection, without an init error.
    fn assert_served_on_one_connection(&self, invokes: usize) {
        assert_eq!(
            self.nexts(),
            invokes + 1,
            "[{}]\n{}",
            self.label,
            self.dump()
        );
        assert!(
            self.status.is_none(),
            "[{}] exited\n{}",
            self.label,
            self.dump()
        );
        let conns: Vec<usize> = self.requests.iter().map(|r| r.conn).collect();
        assert!(
            conns.iter().all(|&c| c == conns[0]),
            "[{}] more than one connection: {conns:?}",
            self.label
        );
    }
}

/// `2026-11-27T16:14:07.991Z`
fn is_iso_ms(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'.',
            23 => c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

// ---------------------------------------------------------------------------
// Both runtimes
// ---------------------------------------------------------------------------

fn all_interpreters() -> Vec<Interp> {
    let mut all = python_interpreters();
    all.extend(node_interpreters());
    all
}

#[test]
fn ttfr_per_interpreter() {
    let interps = all_interpreters();
    announce("ttfr_per_interpreter", &interps);
    let pyc_dir = tempfile::tempdir().unwrap();
    let measure = |interp: &Interp, script: Option<&Path>| -> (f64, f64) {
        let mut samples: Vec<Duration> = (0..7)
            .map(|i| {
                let id = format!("ttfr-{i}");
                let mut spec = Spec::new(interp, "minimal.handler").invoke(Invoke::new(&id, "{}"));
                if let Some(script) = script {
                    spec = spec.script(script);
                }
                let run = spec.run();
                assert_eq!(run.response(&id).text().trim(), "{}");
                run.ttfr.expect("a /next request")
            })
            .collect();
        samples.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        (ms(samples[samples.len() / 2]), ms(samples[0]))
    };
    for interp in &interps {
        let (median, min) = measure(interp, None);
        let mut line = format!(
            "TTFR {:<45} median {median:>6.1} ms  min {min:>6.1} ms",
            interp.label
        );
        if interp.lang == Lang::Python {
            let pyc = compile_pyc(interp, pyc_dir.path());
            let (median, min) = measure(interp, Some(&pyc));
            line.push_str(&format!(
                "  | from .pyc: median {median:>6.1} ms  min {min:>6.1} ms"
            ));
        }
        println!("{line}   (n=7, spawn -> GET /next received; load-sensitive)");
    }
}

#[test]
fn chunked_next_and_warm_reuse_on_one_connection() {
    let interps = all_interpreters();
    announce("chunked_next_and_warm_reuse_on_one_connection", &interps);
    for interp in &interps {
        let handler = match interp.lang {
            Lang::Python => "app.echo",
            Lang::Node => "index.asyncEcho",
        };
        let run = Spec::new(interp, handler)
            .invoke(Invoke::new("warm-1", r#"{"a": 1}"#))
            .invoke(
                Invoke::new(
                    "warm-2",
                    r#"{"chunked": ["x", "y", "zzzzzzzzzz"], "n": 12345}"#,
                )
                .chunked(),
            )
            .invoke(Invoke::new("warm-3", "[1, 2, 3]"))
            .run();
        run.assert_served_on_one_connection(3);
        let expected = [
            json!({"echo": {"a": 1}}),
            json!({"echo": {"chunked": ["x", "y", "zzzzzzzzzz"], "n": 12345}}),
            json!({"echo": [1, 2, 3]}),
        ];
        for (i, want) in expected.iter().enumerate() {
            let response = run.response(&format!("warm-{}", i + 1));
            assert_eq!(&response.json(), want, "[{}]", run.label);
            assert_eq!(response.header("Content-Type"), Some("application/json"));
        }
        // Exact wire form of a JSON result (Python keeps json.dumps spacing).
        let wire = run.response("warm-1").text();
        match interp.lang {
            Lang::Python => assert_eq!(wire, r#"{"echo": {"a": 1}}"#),
            Lang::Node => assert_eq!(wire, r#"{"echo":{"a":1}}"#),
        }
    }
}

#[test]
fn reconnects_when_the_server_drops_the_connection() {
    let interps = all_interpreters();
    announce("reconnects_when_the_server_drops_the_connection", &interps);
    for interp in &interps {
        let handler = match interp.lang {
            Lang::Python => "app.echo",
            Lang::Node => "index.asyncEcho",
        };
        let run = Spec::new(interp, handler)
            .invoke(Invoke::new("drop-1", "1"))
            .invoke(Invoke::new("drop-2", "2"))
            .invoke(Invoke::new("drop-3", "3"))
            .drop_after_post()
            .run();
        assert!(
            run.status.is_none(),
            "[{}] exited\n{}",
            run.label,
            run.dump()
        );
        for i in 1..=3 {
            assert_eq!(
                run.response(&format!("drop-{i}")).json(),
                json!({"echo": i})
            );
        }
        let mut conns: Vec<usize> = run.requests.iter().map(|r| r.conn).collect();
        conns.dedup();
        assert_eq!(
            conns.len(),
            4,
            "[{}] one connection per POST + 1\n{}",
            run.label,
            run.dump()
        );
    }
}

#[test]
fn large_payloads_round_trip() {
    let interps = all_interpreters();
    announce("large_payloads_round_trip", &interps);
    // Just under Lambda's 6 MB limit, in and out, once chunked.
    let blob = "x".repeat(5_000_000);
    let event = format!(r#"{{"blob": "{blob}"}}"#);
    for interp in &interps {
        let handler = match interp.lang {
            Lang::Python => "app.echo",
            Lang::Node => "index.asyncEcho",
        };
        let run = Spec::new(interp, handler)
            .invoke(Invoke::new("big-1", &event))
            .invoke(Invoke::new("big-2", &event).chunked())
            .run();
        run.assert_served_on_one_connection(2);
        for id in ["big-1", "big-2"] {
            let body = run.response(id).json();
            assert_eq!(
                body["echo"]["blob"].as_str().map(str::len),
                Some(blob.len()),
                "[{}]",
                run.label
            );
        }
    }
}

#[test]
fn next_is_never_timed_out() {
    // The Python fixture sets socket.setdefaulttimeout(0.2) at import time;
    // a /next that takes longer must still be waited for.
    let interps = all_interpreters();
    announce("next_is_never_timed_out", &interps);
    for interp in &interps {
        let handler = match interp.lang {
            Lang::Python => "timeouts.handler",
            Lang::Node => "index.asyncEcho",
        };
        let run = Spec::new(interp, handler)
            .invoke(Invoke::new("slow-1", "1").delayed(Duration::from_millis(700)))
            .run();
        run.assert_served_on_one_connection(1);
        run.response("slow-1");
    }
}

#[test]
fn non_2xx_from_next_exits_nonzero() {
    // A mock that is not a Runtime API at all: answers 500 to everything.
    let interps = all_interpreters();
    announce("non_2xx_from_next_exits_nonzero", &interps);
    for interp in &interps {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 2 {
                    line.clear();
                }
                let body = r#"{"errorMessage":"boom","errorType":"InternalServerError"}"#;
                let _ = write!(
                    &stream,
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        let spec = Spec::new(interp, "minimal.handler");
        let out = bootstrap_command(interp, None)
            .env_clear()
            .envs(spec.base_env(addr))
            .current_dir(task_root(interp.lang))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "[{}] {stderr}", interp.label);
        assert!(
            stderr.contains("answered 500") && stderr.contains("InternalServerError"),
            "[{}] stderr: {stderr}",
            interp.label
        );
    }
}

#[test]
fn context_and_invoke_headers() {
    let interps = all_interpreters();
    announce("context_and_invoke_headers", &interps);
    for interp in &interps {
        let deadline = now_ms() + 10_000;
        let client_context = r#"{"custom":{"k":"v"},"env":{"platform":"test"},"client":{"installation_id":"inst-1"},"w3c":{"traceparent":"00-abc-01","bogus":1}}"#;
        let identity = r#"{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}"#;
        let handler = match interp.lang {
            Lang::Python => "app.context_info",
            Lang::Node => "index.context",
        };
        let run = Spec::new(interp, handler)
            .invoke(
                Invoke::new("ctx-1", "{}")
                    .header("Lambda-Runtime-Deadline-Ms", &deadline.to_string())
                    .header("Lambda-Runtime-Trace-Id", TRACE_ID)
                    .header("Lambda-Runtime-Client-Context", client_context)
                    .header("Lambda-Runtime-Cognito-Identity", identity)
                    .header("Lambda-Runtime-Aws-Tenant-Id", "tenant-7"),
            )
            // Second invoke: no trace header, so _X_AMZN_TRACE_ID must be gone.
            .invoke(Invoke::new("ctx-2", "{}"))
            .run();
        run.assert_served_on_one_connection(2);
        let mut first = run.response("ctx-1").json();
        let second = run.response("ctx-2").json();
        let remaining_key = match interp.lang {
            Lang::Python => "remaining_ms",
            Lang::Node => "remaining",
        };
        let remaining = first[remaining_key].as_i64().unwrap();
        assert!(
            (1..=10_000).contains(&remaining) && remaining > 5_000,
            "[{}] remaining time {remaining} not derived from the deadline header",
            run.label
        );
        first.as_object_mut().unwrap().remove(remaining_key);
        match interp.lang {
            Lang::Python => {
                assert_eq!(
                    first,
                    json!({
                        "aws_request_id": "ctx-1",
                        "function_name": FUNCTION_NAME,
                        "function_version": "$LATEST",
                        "invoked_function_arn": ARN,
                        "memory_limit_in_mb": "256",
                        "log_group_name": "/aws/lambda/conformance-fn",
                        "log_stream_name": LOG_STREAM,
                        "tenant_id": "tenant-7",
                        "identity": ["id-1", "pool-1"],
                        "client_context": {"custom": {"k": "v"}, "env": {"platform": "test"}, "installation_id": "inst-1"},
                        "w3c": {"traceparent": "00-abc-01"},
                        "trace_env": TRACE_ID,
                    }),
                    "[{}]",
                    run.label
                );
                assert_eq!(second["trace_env"], Value::Null);
                assert_eq!(second["client_context"], Value::Null);
                assert_eq!(second["identity"], json!([null, null]));
                assert_eq!(second["tenant_id"], Value::Null);
            }
            Lang::Node => {
                assert_eq!(
                    first,
                    json!({
                        "awsRequestId": "ctx-1",
                        "functionName": FUNCTION_NAME,
                        "functionVersion": "$LATEST",
                        "invokedFunctionArn": ARN,
                        "memoryLimitInMB": "256",
                        "logGroupName": "/aws/lambda/conformance-fn",
                        "logStreamName": LOG_STREAM,
                        "identity": {"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"},
                        "clientContext": serde_json::from_str::<Value>(client_context).unwrap(),
                        "tenantId": "tenant-7",
                        "waits": true,
                        "methods": ["succeed", "fail", "done"],
                        "traceEnv": TRACE_ID,
                    }),
                    "[{}]",
                    run.label
                );
                assert_eq!(second["traceEnv"], Value::Null);
                assert_eq!(second["clientContext"], Value::Null);
                assert_eq!(second["identity"], Value::Null);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Python
// ---------------------------------------------------------------------------

#[test]
fn python_nested_module_path() {
    let interps = python_interpreters();
    announce("python_nested_module_path", &interps);
    for interp in &interps {
        let run = Spec::new(interp, "pkg/sub/mod.handler")
            .invoke(Invoke::new("nested-1", "7"))
            .run();
        run.assert_served_on_one_connection(1);
        assert_eq!(
            run.response("nested-1").json(),
            json!({"module": "pkg.sub.mod", "event": 7})
        );
    }
}

#[test]
fn python_interpreter_state_and_event_decoding() {
    let interps = python_interpreters();
    announce("python_interpreter_state_and_event_decoding", &interps);
    for interp in &interps {
        let run = Spec::new(interp, "probe.handler")
            .invoke(Invoke::new("probe-1", r#"{"k": "v"}"#))
            .invoke(Invoke::new("probe-2", "not json").header("Content-Type", "text/plain"))
            .invoke(Invoke::new("probe-3", "[1]").without_header("Content-Type"))
            .invoke(
                Invoke::new("probe-4", "\"x\"")
                    .header("Content-Type", "application/json; charset=utf-8"),
            )
            .run();
        run.assert_served_on_one_connection(4);
        let probe = run.response("probe-1").json();
        // The happy path must not have paid for site, logging, socket.py,
        // json, os, re, enum, traceback or threads.
        assert_eq!(probe["loaded"], json!([]), "[{}]", run.label);
        assert_eq!(probe["event"], json!({"k": "v"}));
        let (major, minor) = {
            let out = Command::new(&interp.program)
                .args([
                    "-S",
                    "-c",
                    "import sys; print(sys.version_info[0], sys.version_info[1])",
                ])
                .env_clear()
                .output()
                .unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            let mut it = text.split_whitespace().map(|s| s.parse::<u32>().unwrap());
            (it.next().unwrap(), it.next().unwrap())
        };
        let sys_path: Vec<String> = serde_json::from_value(probe["sys_path"].clone()).unwrap();
        assert_eq!(
            &sys_path[..3],
            [
                task_root(Lang::Python).display().to_string(),
                format!("/opt/python/lib/python{major}.{minor}/site-packages"),
                "/opt/python".to_string(),
            ],
            "[{}]",
            run.label
        );
        let runtime = runtime_dir(Lang::Python).display().to_string();
        assert!(
            !sys_path.contains(&runtime),
            "[{}] bootstrap dir on sys.path",
            run.label
        );
        assert!(
            !sys_path.iter().any(|p| p.is_empty()),
            "[{}] '' on sys.path",
            run.label
        );
        assert!(
            !sys_path
                .iter()
                .any(|p| p.contains("site-packages") && !p.starts_with("/opt/python")),
            "[{}] host site-packages leaked: {sys_path:?}",
            run.label
        );
        // Non-JSON content type: the handler gets the raw bytes.
        let raw = run.response("probe-2").json();
        assert_eq!(raw["event_type"], "bytes");
        assert_eq!(raw["event"], "b'not json'");
        // No content type, or JSON with parameters: decoded.
        assert_eq!(run.response("probe-3").json()["event"], json!([1]));
        assert_eq!(run.response("probe-4").json()["event"], json!("x"));
    }
}

#[test]
fn python_runs_from_precompiled_pyc() {
    // The platform may launch `python -S bootstrap.<tag>.pyc` (no compile on
    // cold start); behaviour must not change.
    let interps = python_interpreters();
    announce("python_runs_from_precompiled_pyc", &interps);
    let dir = tempfile::tempdir().unwrap();
    let root = task_root(Lang::Python).display().to_string();
    for interp in &interps {
        let pyc = compile_pyc(interp, dir.path());
        let run = Spec::new(interp, "probe.handler")
            .script(&pyc)
            .invoke(Invoke::new("pyc-1", "{}"))
            .run();
        run.assert_served_on_one_connection(1);
        let probe = run.response("pyc-1").json();
        assert_eq!(probe["loaded"], json!([]), "[{}]", run.label);
        let sys_path: Vec<String> = serde_json::from_value(probe["sys_path"].clone()).unwrap();
        assert_eq!(sys_path[0], root);
        let pyc_dir = dir.path().display().to_string();
        assert!(!sys_path.contains(&pyc_dir), "[{}] {sys_path:?}", run.label);

        // Bootstrap frames are still trimmed from stack traces.
        let run = Spec::new(interp, "app.raises")
            .script(&pyc)
            .invoke(Invoke::new("pyc-2", "{}"))
            .run();
        let trace = run.error("pyc-2").json()["stackTrace"].clone();
        assert_eq!(
            trace.as_array().map(Vec::len),
            Some(2),
            "[{}] {trace}",
            run.label
        );
        assert!(
            trace[0].as_str().unwrap().contains(", in raises\n"),
            "[{}] {trace}",
            run.label
        );
    }
}

#[test]
fn python_init_errors() {
    let interps = python_interpreters();
    announce("python_init_errors", &interps);
    let root = task_root(Lang::Python).display().to_string();
    let cases: [(&str, &str, &str); 4] = [
        (
            "nodot",
            "Runtime.MalformedHandlerName",
            "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)",
        ),
        (
            "missing.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'missing': No module named 'missing'",
        ),
        (
            "app.nope",
            "Runtime.HandlerNotFound",
            "Handler 'nope' missing on module 'app'",
        ),
        (
            "sys.handler",
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module sys as a handler module",
        ),
    ];
    for interp in &interps {
        for (handler, error_type, message) in cases {
            let run = Spec::new(interp, handler).run_until_exit();
            assert_init_failure(&run, error_type, 1);
            assert_eq!(
                run.init_error().json(),
                json!({"errorMessage": message, "errorType": error_type, "requestId": "", "stackTrace": []}),
                "[{}]",
                run.label
            );
            let log =
                format!("[ERROR] {error_type}: {message}\rTraceback (most recent call last):");
            run.assert_log(&log, |l| l == log);
        }

        // Syntax error: the official client's hand-made one-frame trace.
        let run = Spec::new(interp, "syntax_error.handler").run_until_exit();
        assert_init_failure(&run, "Runtime.UserCodeSyntaxError", 1);
        let body = run.init_error().json();
        let message = body["errorMessage"].as_str().unwrap();
        assert!(
            message.starts_with("Syntax error in module 'syntax_error': ")
                && message.ends_with("(syntax_error.py, line 1)"),
            "[{}] {message}",
            run.label
        );
        assert_eq!(
            body["stackTrace"],
            json!([format!(
                "  File \"{root}/syntax_error.py\" Line 1\n    def handler(event, context)\n"
            )]),
            "[{}]",
            run.label
        );
        let log = format!(
            "[ERROR] Runtime.UserCodeSyntaxError: {message}\rTraceback (most recent call last):\r{NBSP}{NBSP}File \"{root}/syntax_error.py\" Line 1\r{NBSP}{NBSP}{NBSP}{NBSP}def handler(event, context)"
        );
        run.assert_log("for the syntax error", |l| l == log);

        // An exception raised by user init code: reported under its own class name.
        let run = Spec::new(interp, "init_raises.handler").run_until_exit();
        assert_init_failure(&run, "RuntimeError", 1);
        let body = run.init_error().json();
        assert_eq!(body["errorMessage"], "init failed");
        assert_eq!(body["requestId"], "");
        let trace: Vec<String> = serde_json::from_value(body["stackTrace"].clone()).unwrap();
        assert_eq!(
            trace.last().unwrap(),
            &format!(
                "  File \"{root}/init_raises.py\", line 3, in <module>\n    raise RuntimeError(\"init failed\")\n"
            ),
            "[{}]",
            run.label
        );
        assert!(
            !trace.iter().any(|f| f.contains("bootstrap.py")),
            "[{}] bootstrap frames in {trace:?}",
            run.label
        );
        run.assert_log("[ERROR] RuntimeError: init failed", |l| {
            l.starts_with("[ERROR] RuntimeError: init failed\rTraceback (most recent call last):\r")
        });
    }
}

fn assert_init_failure(run: &Run, error_type: &str, exit_code: i32) {
    let post = run.init_error();
    assert_eq!(
        post.header("Lambda-Runtime-Function-Error-Type"),
        Some(error_type),
        "[{}]\n{}",
        run.label,
        run.dump()
    );
    assert_eq!(post.header("Content-Type"), Some("application/json"));
    assert_eq!(
        run.nexts(),
        0,
        "[{}] asked for an event after init failed",
        run.label
    );
    assert_eq!(
        run.exit_code(),
        Some(exit_code),
        "[{}]\n{}",
        run.label,
        run.dump()
    );
}

#[test]
fn python_handler_error() {
    let interps = python_interpreters();
    announce("python_handler_error", &interps);
    let root = task_root(Lang::Python).display().to_string();
    let call_line = line_of(Lang::Python, "app.py", "    helper()");
    let raise_line = line_of(Lang::Python, "app.py", "raise ValueError(\"boom\")");
    for interp in &interps {
        let run = Spec::new(interp, "app.raises")
            .invoke(Invoke::new("err-1", "{}"))
            .invoke(Invoke::new("err-2", "{}"))
            .run();
        // The process survives a function error and serves the next event.
        run.assert_served_on_one_connection(2);
        let post = run.error("err-1");
        assert_eq!(
            post.json(),
            json!({
                "errorMessage": "boom",
                "errorType": "ValueError",
                "requestId": "err-1",
                "stackTrace": [
                    format!("  File \"{root}/app.py\", line {call_line}, in raises\n    helper()\n"),
                    format!("  File \"{root}/app.py\", line {raise_line}, in helper\n    raise ValueError(\"boom\")\n"),
                ],
            }),
            "[{}]",
            run.label
        );
        assert_eq!(post.header("Content-Type"), Some("application/json"));
        // Like the official client: no error-type header on invocation errors.
        assert_eq!(post.header("Lambda-Runtime-Function-Error-Type"), None);
        let cause: Value = serde_json::from_str(
            post.header("Lambda-Runtime-Function-XRay-Error-Cause")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            cause,
            json!({
                "working_directory": root,
                "exceptions": [{
                    "message": "boom",
                    "type": "ValueError",
                    "stack": [
                        {"label": "raises", "path": format!("{root}/app.py"), "line": call_line},
                        {"label": "helper", "path": format!("{root}/app.py"), "line": raise_line},
                    ],
                }],
                "paths": [format!("{root}/app.py")],
            })
        );
        let log = format!(
            "[ERROR] ValueError: boom\rTraceback (most recent call last):\r\
             {NBSP}{NBSP}File \"{root}/app.py\", line {call_line}, in raises\r\
             {NBSP}{NBSP}{NBSP}{NBSP}helper()\r\
             {NBSP}{NBSP}File \"{root}/app.py\", line {raise_line}, in helper\r\
             {NBSP}{NBSP}{NBSP}{NBSP}raise ValueError(\"boom\")"
        );
        run.assert_log("for the ValueError", |l| l == log);
    }
}

#[test]
fn python_runtime_faults() {
    let interps = python_interpreters();
    announce("python_runtime_faults", &interps);
    for interp in &interps {
        let run = Spec::new(interp, "app.unserializable")
            .invoke(Invoke::new("fault-1", "{}"))
            .invoke(Invoke::new("fault-2", ""))
            .invoke(
                Invoke::new("fault-3", "{}").header("Lambda-Runtime-Client-Context", "not json"),
            )
            .run();
        run.assert_served_on_one_connection(3);
        let expect = [
            (
                "fault-1",
                "Runtime.MarshalError",
                "Unable to marshal response: Object of type set is not JSON serializable",
            ),
            (
                "fault-2",
                "Runtime.UnmarshalError",
                "Unable to unmarshal input: Expecting value: line 1 column 1 (char 0)",
            ),
            (
                "fault-3",
                "Runtime.LambdaContextUnmarshalError",
                "Unable to parse Client Context JSON: Expecting value: line 1 column 1 (char 0)",
            ),
        ];
        for (id, error_type, message) in expect {
            assert_eq!(
                run.error(id).json(),
                json!({"errorMessage": message, "errorType": error_type, "requestId": id, "stackTrace": []}),
                "[{}]",
                run.label
            );
            let log =
                format!("[ERROR] {error_type}: {message}\rTraceback (most recent call last):");
            run.assert_log(&log, |l| l == log);
        }
    }
}

#[test]
fn python_result_encoding() {
    let interps = python_interpreters();
    announce("python_result_encoding", &interps);
    for interp in &interps {
        let run = Spec::new(interp, "app.raw_bytes")
            .invoke(Invoke::new("bytes-1", "{}"))
            .run();
        let post = run.response("bytes-1");
        assert_eq!(post.body, b"\x00\x01raw");
        assert_eq!(post.header("Content-Type"), Some("application/unknown"));

        // simplejson compatibility: Decimal as a number, nested bytes as text,
        // NaN allowed, and non-ASCII kept raw from python3.12 on.
        for (execution_env, text) in [
            ("AWS_Lambda_python3.12", "\"\u{e9}\""),
            ("AWS_Lambda_python3.11", "\"\\u00e9\""),
        ] {
            let run = Spec::new(interp, "app.rich_values")
                .env("AWS_EXECUTION_ENV", execution_env)
                .invoke(Invoke::new("rich-1", "{}"))
                .run();
            assert_eq!(
                run.response("rich-1").text(),
                format!(
                    r#"{{"d": 12.50, "big": 1E+2, "nested_bytes": "hi", "text": {text}, "nan": NaN}}"#
                ),
                "[{}] {execution_env}",
                run.label
            );
        }
    }
}

#[test]
fn python_stdio_is_unbuffered() {
    let interps = python_interpreters();
    announce("python_stdio_is_unbuffered", &interps);
    for interp in &interps {
        // The handler writes without newline or flush, then os._exit(3)s.
        let run = Spec::new(interp, "app.write_and_exit")
            .invoke(Invoke::new("stdio-1", "{}"))
            .run_until_exit();
        assert_eq!(run.exit_code(), Some(3), "[{}]\n{}", run.label, run.dump());
        for marker in [
            "text-no-newline|",
            "buffer-no-newline|",
            "stderr-no-newline|",
        ] {
            assert!(
                run.logs.contains(marker),
                "[{}] lost {marker:?}\n{}",
                run.label,
                run.dump()
            );
        }
    }
}

/// `[LEVEL]\t<ISO8601 ms>Z\t<request id>\t<message>`
fn python_log_line(line: &str, level: &str, request_id: &str, message: &str) -> bool {
    let fields: Vec<&str> = line.splitn(4, '\t').collect();
    fields.len() == 4
        && fields[0] == format!("[{level}]")
        && is_iso_ms(fields[1])
        && fields[2] == request_id
        && fields[3] == message
}

#[test]
fn python_logging() {
    let interps = python_interpreters();
    announce("python_logging", &interps);
    for interp in &interps {
        let run = Spec::new(interp, "log_app.handler")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .invoke(Invoke::new("log-1", "{}"))
            .run();
        run.assert_served_on_one_connection(1);
        assert_eq!(run.response("log-1").json(), json!("ok"));
        // At import time there is no request id yet.
        run.assert_log("at import", |l| {
            python_log_line(l, "WARNING", "", "at import")
        });
        run.assert_log("info", |l| python_log_line(l, "INFO", "log-1", "info line"));
        // One record = one log event: the inner newline travels as \r.
        run.assert_log("multi-line warning", |l| {
            python_log_line(l, "WARNING", "log-1", "warn arg\rsecond line")
        });
        run.assert_log("logger.exception", |l| {
            l.starts_with("[ERROR]\t")
                && l.contains("\tlog-1\tcaught\rTraceback (most recent call last):\r")
                && l.ends_with("KeyError: 'k'")
        });
        // basicConfig() at import found the root handler in place: a no-op.
        run.assert_no_log("from basicConfig's handler", |l| l.starts_with("BASIC "));

        // Without AWS_LAMBDA_LOG_LEVEL the root logger keeps Python's WARNING.
        let run = Spec::new(interp, "log_app.handler")
            .invoke(Invoke::new("log-2", "{}"))
            .run();
        run.assert_no_log("at INFO", |l| l.starts_with("[INFO]"));
        run.assert_log("warning", |l| {
            python_log_line(l, "WARNING", "log-2", "warn arg\rsecond line")
        });

        // logging imported for the first time inside an invocation.
        let run = Spec::new(interp, "lazy_log.handler")
            .invoke(Invoke::new("lazy-1", "{}"))
            .run();
        run.assert_log("lazy", |l| {
            python_log_line(l, "WARNING", "lazy-1", "lazy 1")
        });

        // AWS_LAMBDA_LOG_FORMAT=JSON: one JSON object per record; errors too.
        let run = Spec::new(interp, "log_app.handler")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .invoke(Invoke::new("json-1", "{}"))
            .run();
        let records: Vec<Value> = run
            .log_lines()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let info = records
            .iter()
            .find(|r| r["message"] == "info line")
            .unwrap_or_else(|| panic!("[{}] no JSON info record\n{}", run.label, run.dump()));
        assert_eq!(info["level"], "INFO");
        assert_eq!(info["logger"], "root");
        assert_eq!(info["requestId"], "json-1");
        let ts = info["timestamp"].as_str().unwrap();
        assert!(ts.len() == 20 && ts.ends_with('Z'), "{ts}");
        let caught = records.iter().find(|r| r["message"] == "caught").unwrap();
        assert_eq!(caught["errorType"], "KeyError");
        assert_eq!(caught["errorMessage"], "'k'");

        // The runtime's own error report is JSON too in that mode.
        let run = Spec::new(interp, "app.raises")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .invoke(Invoke::new("json-2", "{}"))
            .run();
        let report: Value = run
            .log_lines()
            .iter()
            .find_map(|l| serde_json::from_str::<Value>(l).ok())
            .unwrap_or_else(|| panic!("[{}] no JSON error report\n{}", run.label, run.dump()));
        assert_eq!(report["level"], "ERROR");
        assert_eq!(report["errorType"], "ValueError");
        assert_eq!(report["errorMessage"], "boom");
        assert_eq!(report["requestId"], "json-2");
        assert_eq!(report["stackTrace"].as_array().map(Vec::len), Some(2));
        assert!(report["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}

// ---------------------------------------------------------------------------
// Node
// ---------------------------------------------------------------------------

#[test]
fn node_handler_styles_and_module_kinds() {
    let interps = node_interpreters();
    announce("node_handler_styles_and_module_kinds", &interps);
    let cases = [
        ("index.asyncEcho", json!({"echo": {"a": 1}})),
        // A plain function that never calls back answers null.
        ("index.syncReturn", Value::Null),
        ("index.syncCallback", json!({"echo": {"a": 1}})),
        // callbackWaitsForEmptyEventLoop: the pending timer runs first.
        ("index.callbackWaits", json!({"timerFired": true})),
        ("index.callbackNoWait", json!({"timerFired": false})),
        // Promise and callback both report: the first one wins.
        ("index.callbackFirst", json!("from-callback")),
        ("index.promiseFirst", json!("from-promise")),
        ("esm.handler", json!({"esm": true, "echo": {"a": 1}})),
        (
            "esmpkg/app.handler",
            json!({"esmpkg": true, "moduleGlobal": "undefined"}),
        ),
        ("cjsfile.handler", json!({"cjs": true})),
        (
            "lib/nested/mod.handlers.deep.fn",
            json!({"nested": true, "echo": {"a": 1}}),
        ),
    ];
    for interp in &interps {
        for (handler, want) in &cases {
            let run = Spec::new(interp, handler)
                .invoke(Invoke::new("style-1", r#"{"a": 1}"#))
                .run();
            run.assert_served_on_one_connection(1);
            assert_eq!(
                &run.response("style-1").json(),
                want,
                "[{}]\n{}",
                run.label,
                run.dump()
            );
        }
        // The callback result is only sent once the event loop is empty.
        let run = Spec::new(interp, "index.callbackWaits")
            .invoke(Invoke::new("wait-1", "{}"))
            .run();
        let next = run.requests.iter().find(|r| r.is_next()).unwrap();
        let waited = run.response("wait-1").at - next.at;
        assert!(
            waited >= Duration::from_millis(190),
            "answered after {waited:?}"
        );
    }
}

#[test]
fn node_function_errors() {
    let interps = node_interpreters();
    announce("node_function_errors", &interps);
    for interp in &interps {
        let run = Spec::new(interp, "index.throws")
            .invoke(Invoke::new("nerr-1", "{}"))
            .invoke(Invoke::new("nerr-2", ""))
            .run();
        run.assert_served_on_one_connection(2);
        let post = run.error("nerr-1");
        let body = post.json();
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["errorMessage", "errorType", "trace"],
            "[{}]",
            run.label
        );
        assert_eq!(body["errorType"], "TypeError");
        assert_eq!(body["errorMessage"], "bad thing");
        assert_eq!(body["trace"][0], "TypeError: bad thing");
        assert!(
            body["trace"][1].as_str().unwrap().contains("/index.js:"),
            "{body}"
        );
        assert_eq!(post.header("Content-Type"), Some("application/json"));
        assert_eq!(post.header("Lambda-Runtime-Function-Error-Type"), None);
        let cause: Value = serde_json::from_str(
            post.header("Lambda-Runtime-Function-XRay-Error-Cause")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(cause["exceptions"][0]["type"], "TypeError");
        assert_eq!(cause["exceptions"][0]["message"], "bad thing");
        run.assert_log("Invoke Error", |l| {
            let f: Vec<&str> = l.splitn(4, '\t').collect();
            f.len() == 4
                && is_iso_ms(f[0])
                && f[1] == "nerr-1"
                && f[2] == "ERROR"
                && f[3].starts_with(
                    "Invoke Error \t{\"errorType\":\"TypeError\",\"errorMessage\":\"bad thing\",\"stack\":[\"TypeError: bad thing\",",
                )
        });
        // An empty body is not JSON: the handler is not called.
        let empty = run.error("nerr-2").json();
        assert_eq!(empty["errorType"], "SyntaxError", "[{}]", run.label);

        // Non-Error values and unserializable results.
        for (handler, want) in [
            (
                "index.callbackString",
                json!({"errorType": "string", "errorMessage": "plain string", "trace": []}),
            ),
            (
                "index.circular",
                json!({"errorType": "Error", "errorMessage": "Unable to stringify response body"}),
            ),
            (
                "index.syncThrows",
                json!({"errorType": "Error", "errorMessage": "sync bad"}),
            ),
        ] {
            let run = Spec::new(interp, handler)
                .invoke(Invoke::new("nerr-3", "{}"))
                .run();
            run.assert_served_on_one_connection(1);
            let mut body = run.error("nerr-3").json();
            if want.get("trace").is_none() {
                body.as_object_mut().unwrap().remove("trace");
            }
            assert_eq!(body, want, "[{}]", run.label);
        }
    }
}

#[test]
fn node_uncaught_exception_and_unhandled_rejection() {
    let interps = node_interpreters();
    announce("node_uncaught_exception_and_unhandled_rejection", &interps);
    for interp in &interps {
        let run = Spec::new(interp, "index.uncaught")
            .invoke(Invoke::new("unc-1", "{}"))
            .run_until_exit();
        assert_eq!(
            run.exit_code(),
            Some(129),
            "[{}]\n{}",
            run.label,
            run.dump()
        );
        let body = run.error("unc-1").json();
        assert_eq!(body["errorType"], "Error");
        assert_eq!(body["errorMessage"], "async boom");
        run.assert_log("Uncaught Exception", |l| {
            l.contains("\tunc-1\tERROR\tUncaught Exception \t{\"errorType\":\"Error\",\"errorMessage\":\"async boom\"")
        });

        let run = Spec::new(interp, "index.unhandled")
            .invoke(Invoke::new("unh-1", "{}"))
            .run_until_exit();
        assert_eq!(
            run.exit_code(),
            Some(128),
            "[{}]\n{}",
            run.label,
            run.dump()
        );
        let body = run.error("unh-1").json();
        assert_eq!(body["errorType"], "Runtime.UnhandledPromiseRejection");
        assert_eq!(body["errorMessage"], "Error: rejected");
        run.assert_log("Unhandled Promise Rejection", |l| {
            l.contains("\tunh-1\tERROR\tUnhandled Promise Rejection \t{\"errorType\":\"Runtime.UnhandledPromiseRejection\"")
        });
    }
}

#[test]
fn node_init_errors() {
    let interps = node_interpreters();
    announce("node_init_errors", &interps);
    let cases = [
        ("nodot", "Runtime.MalformedHandlerName", "Bad handler"),
        (
            "../index.asyncEcho",
            "Runtime.MalformedHandlerName",
            "'../index.asyncEcho' is not a valid handler name. Use absolute paths when specifying root directories in handler names.",
        ),
        (
            "missing.handler",
            "Runtime.ImportModuleError",
            "Error: Cannot find module 'missing'",
        ),
        (
            "syntax.handler",
            "Runtime.UserCodeSyntaxError",
            "SyntaxError: ",
        ),
        (
            "index.nope",
            "Runtime.HandlerNotFound",
            "index.nope is undefined or not exported",
        ),
        (
            "index.notfn",
            "Runtime.HandlerNotFound",
            "index.notfn is not a function",
        ),
        ("init_throws.handler", "TypeError", "init failed"),
        (
            "streaming.handler",
            "Runtime.MalformedStreamingHandler",
            "Response streaming is not supported by this runtime.",
        ),
    ];
    for interp in &interps {
        for (handler, error_type, message_prefix) in cases {
            let run = Spec::new(interp, handler).run_until_exit();
            assert_init_failure(&run, error_type, 129);
            let body = run.init_error().json();
            let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
            assert_eq!(
                keys,
                ["errorMessage", "errorType", "trace"],
                "[{}]",
                run.label
            );
            assert_eq!(body["errorType"], error_type);
            let message = body["errorMessage"].as_str().unwrap();
            assert!(
                message.starts_with(message_prefix),
                "[{}] {message}",
                run.label
            );
            assert!(
                body["trace"][0]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{error_type}: ")),
                "[{}] {body}",
                run.label
            );
            // Before the first invoke the request id prints as "undefined".
            let log = format!(
                "\tundefined\tERROR\tUncaught Exception \t{{\"errorType\":\"{error_type}\","
            );
            run.assert_log(&log, |l| l.contains(&log));
        }
    }
}

#[test]
fn node_console_format() {
    let interps = node_interpreters();
    announce("node_console_format", &interps);
    for interp in &interps {
        let run = Spec::new(interp, "index.logs")
            .invoke(Invoke::new("con-1", "{}"))
            .run();
        run.assert_served_on_one_connection(1);
        let line = |level: &'static str, message: &'static str| {
            move |l: &str| {
                let f: Vec<&str> = l.splitn(4, '\t').collect();
                f.len() == 4
                    && is_iso_ms(f[0])
                    && f[1] == "con-1"
                    && f[2] == level
                    && f[3] == message
            }
        };
        run.assert_log("console.log", line("INFO", "log line { a: 1 }"));
        run.assert_log("console.info", line("INFO", "info"));
        run.assert_log(
            "console.warn (newline as \\r)",
            line("WARN", "warn\rsecond"),
        );
        run.assert_log("console.error", line("ERROR", "error"));
        run.assert_log("console.debug", line("DEBUG", "debug"));
        run.assert_log("console.trace", line("TRACE", "trace"));

        let run = Spec::new(interp, "index.logs")
            .env("AWS_LAMBDA_LOG_LEVEL", "WARN")
            .invoke(Invoke::new("con-2", "{}"))
            .run();
        run.assert_no_log("below WARN", |l| {
            l.contains("\tINFO\t") || l.contains("\tDEBUG\t") || l.contains("\tTRACE\t")
        });
        run.assert_log("WARN", |l| l.ends_with("\tWARN\twarn\rsecond"));

        let run = Spec::new(interp, "index.logs")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .invoke(Invoke::new("con-3", "{}"))
            .run();
        let records: Vec<Value> = run
            .log_lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
            .collect();
        let warn = records.iter().find(|r| r["level"] == "WARN").unwrap();
        assert_eq!(warn["message"], "warn\nsecond");
        assert_eq!(warn["requestId"], "con-3");
        assert!(is_iso_ms(warn["timestamp"].as_str().unwrap()));
        let log = records
            .iter()
            .find(|r| r["message"] == "log line { a: 1 }")
            .unwrap();
        assert_eq!(log["level"], "INFO");
    }
}
