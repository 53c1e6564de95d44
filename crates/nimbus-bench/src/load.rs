//! The load generator (one code path for Nimbus and the baseline) and the baseline server.
//!
//! Each client owns exactly one HTTP/1.1 keep-alive connection (`hyper::client::conn::http1`,
//! no pool in between) and sends one request at a time (closed loop), so the client's cost
//! per request is the same whichever server answers.

use crate::stats::Latencies;
use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The event every request carries (and the no-op function returns).
pub const PAYLOAD: &[u8] = b"{}";

/// Where load goes.
#[derive(Clone)]
pub struct Target {
    /// Server address.
    pub addr: SocketAddr,
    /// Request path (the Invoke path for Nimbus; anything for the echo server).
    pub path: String,
}

/// What one load run measured.
pub struct LoadResult {
    /// Latency of every successful request.
    pub latencies: Latencies,
    /// Requests that got an error status or `X-Amz-Function-Error`.
    pub errors: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl LoadResult {
    /// Successful requests per second.
    pub fn rps(&self) -> f64 {
        self.latencies.count() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// All requests sent (successful or not).
    pub fn requests(&self) -> u64 {
        self.latencies.count() + self.errors
    }
}

/// One client: one connection.
pub struct Client {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    path: String,
}

impl Client {
    /// Opens the connection.
    pub async fn connect(target: &Target) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(target.addr)
            .await
            .with_context(|| format!("connect to {}", target.addr))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP handshake")?;
        tokio::spawn(async move {
            // Ends when the client is dropped or the server closes the connection.
            let _ = conn.await;
        });
        Ok(Self {
            sender,
            host: target.addr.to_string(),
            path: target.path.clone(),
        })
    }

    /// Sends one request; `Ok(true)` when it succeeded.
    async fn call(&mut self) -> anyhow::Result<bool> {
        let answer = self.send().await?;
        Ok(answer.status == StatusCode::OK
            && !answer.function_error
            && answer.body.as_ref() == PAYLOAD)
    }

    /// Sends one request with [`PAYLOAD`] and reads the whole answer.
    pub async fn send(&mut self) -> anyhow::Result<Answer> {
        let request = Request::post(self.path.as_str())
            .header(hyper::header::HOST, self.host.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from_static(PAYLOAD)))?;
        self.sender.ready().await.context("connection lost")?;
        let response = self
            .sender
            .send_request(request)
            .await
            .context("send request")?;
        let status = response.status();
        let function_error = response.headers().contains_key("x-amz-function-error");
        let body = response
            .into_body()
            .collect()
            .await
            .context("read body")?
            .to_bytes();
        Ok(Answer {
            status,
            function_error,
            body,
        })
    }
}

/// One response as the load generator sees it.
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// `X-Amz-Function-Error` was set.
    pub function_error: bool,
    /// The body.
    pub body: Bytes,
}

/// `count` requests one after the other on one connection. Runs as a task on the runtime's
/// workers (like the closed-loop clients), not on the thread that called `block_on`.
pub async fn sequential(target: &Target, count: u64) -> anyhow::Result<LoadResult> {
    let target = target.clone();
    let task = tokio::spawn(async move {
        let mut client = Client::connect(&target).await?;
        let mut latencies = Latencies::new()?;
        let mut errors = 0;
        let started = Instant::now();
        for _ in 0..count {
            let sent = Instant::now();
            if client.call().await? {
                latencies.record(sent.elapsed());
            } else {
                errors += 1;
            }
        }
        anyhow::Ok(LoadResult {
            latencies,
            errors,
            elapsed: started.elapsed(),
        })
    });
    task.await.context("sequential client task")?
}

/// `clients` closed-loop clients, each on its own connection, for `duration`.
pub async fn closed_loop(
    target: &Target,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<LoadResult> {
    let mut connected = Vec::with_capacity(clients);
    for _ in 0..clients {
        connected.push(Client::connect(target).await?);
    }
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(clients);
    for mut client in connected {
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::new()?;
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let sent = Instant::now();
                if client.call().await? {
                    latencies.record(sent.elapsed());
                } else {
                    errors += 1;
                }
            }
            anyhow::Ok((latencies, errors))
        }));
    }
    let mut latencies = Latencies::new()?;
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.context("client task")??;
        latencies.merge(&l)?;
        errors += e;
    }
    Ok(LoadResult {
        latencies,
        errors,
        elapsed: started.elapsed(),
    })
}

/// Starts the baseline: a bare hyper HTTP/1.1 server (`http1::Builder` + `service_fn`) that
/// answers every request with its body, on the given runtime. Returns its address.
pub fn start_echo(runtime: &tokio::runtime::Runtime) -> anyhow::Result<SocketAddr> {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .context("bind the baseline server")?;
    let addr = listener.local_addr()?;
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(echo);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(addr)
}

async fn echo(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = match request.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    Ok(Response::new(Full::new(body)))
}
