//! The accept loop of the API and gateway listeners (instead of `axum::serve`, which has no
//! header timeout and no connection cap): a client that opens connections and never finishes
//! its headers is cut off after [`HEADER_READ_TIMEOUT`], and at most [`CONNECTIONS_MAX`]
//! connections are served at once (more wait in the kernel's backlog), so slow or idle
//! clients cannot use up the process's file descriptors.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Longest a client may take to send a request's headers (`axum::serve` sets none; hyper's
/// default is 30 s): far above any honest client, short enough that slowloris connections
/// do not pile up.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest header block read (more is 431): API Gateway allows 10 KiB of headers and
/// CloudFront 20 KiB; hyper's default buffer would take ~400 KiB.
pub const HEADER_BYTES_MAX: usize = 32 * 1024;

/// Connections served at once per listener: well under the 20,000 descriptors the server
/// raises its limit to, leaving room for environments, databases and logs.
pub const CONNECTIONS_MAX: usize = 8_192;

/// Most header lines a request may carry (hyper's default is 100; AWS SDKs send ~15).
const HEADERS_MAX: usize = 100;

/// Serves `app` on `listener` until `shutdown` completes, then gives requests in flight up
/// to `drain` to finish (idle keep-alive connections close at once), drops the rest and
/// returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) {
    let permits = Arc::new(Semaphore::new(CONNECTIONS_MAX));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning on the error.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                // What `into_make_service_with_connect_info` provides (the gateway's
                // sourceIp).
                req.extensions_mut().insert(ConnectInfo(peer));
                tower::ServiceExt::oneshot(app.clone(), req)
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .max_buf_size(HEADER_BYTES_MAX)
                .max_headers(HEADERS_MAX);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let ended = tokio::select! {
                ended = conn.as_mut() => Some(ended),
                _ = stop.wait_for(|s| *s) => None,
            };
            let ended = match ended {
                Some(ended) => ended,
                None => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended");
            }
            drop(permit);
        });
        // Reap finished connection tasks so the set stays small.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(drain, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "requests still in flight after the shutdown grace; dropping them"
        );
        connections.shutdown().await;
    }
}
