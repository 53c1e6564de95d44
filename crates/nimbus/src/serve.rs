//! `nimbus serve`: start the sandbox layer (before any thread exists), then the async
//! runtime, the store, the engine and the HTTP listener; print one line when ready; shut
//! down cleanly on SIGINT/SIGTERM.

use crate::settings::{ServeArgs, Settings};
use anyhow::Context;
use nimbus_platform::{Platform, Stores};
use nimbus_queues::{Queues, SystemClock};
use nimbus_sandbox::Sandboxes;
use nimbus_store::SqliteStore;
use std::process::ExitCode;
use std::sync::Arc;

/// Log filter when neither `NIMBUS_LOG` nor `RUST_LOG` is set (sqlx logs every statement
/// at debug).
const LOG_FILTER_DEFAULT: &str = "info,sqlx=warn";
/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a start waits for the data directory's lock: a server killed a moment ago can
/// take a little while to be gone entirely (a supervisor restarting it after a crash must not
/// fail for that), while a server that is really running keeps the lock.
const DATA_DIR_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// Takes the data directory's lock, waiting up to [`DATA_DIR_LOCK_WAIT`].
fn lock_data_dir(lock: &std::fs::File, data_dir: &std::path::Path) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + DATA_DIR_LOCK_WAIT;
    let mut warned = false;
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                if !warned {
                    eprintln!(
                        "nimbus: waiting up to {} s for the server that held {} to exit (lock held by {})",
                        DATA_DIR_LOCK_WAIT.as_secs(),
                        data_dir.display(),
                        lock_holders(lock)
                    );
                    warned = true;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                anyhow::bail!("another nimbus server is using {}", data_dir.display())
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).context(format!("lock {}", data_dir.display()));
            }
        }
    }
}

/// Who holds the lock, from `/proc/locks` (for the message only).
fn lock_holders(lock: &std::fs::File) -> String {
    use std::os::unix::fs::MetadataExt;
    let Ok(inode) = lock.metadata().map(|m| m.ino()) else {
        return "unknown".into();
    };
    let locks = std::fs::read_to_string("/proc/locks").unwrap_or_default();
    let holders: Vec<String> = locks
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (pid, id) = (fields.get(4)?, fields.get(5)?);
            (id.rsplit(':').next()? == inode.to_string()).then(|| {
                let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
                    .unwrap_or_default();
                format!("pid {pid} ({})", cmd.trim())
            })
        })
        .collect();
    if holders.is_empty() {
        "unknown".into()
    } else {
        holders.join(", ")
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::resolve(args)?;
    // Until the sandboxes have started the process must stay single-threaded, and the span
    // exporter is a thread: log through a subscriber of this thread until then.
    let early_log = tracing::subscriber::set_default(subscriber(None));
    let data_dir = settings.platform.data_dir.clone();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("create data dir {}", data_dir.display()))?;
    // One server per data dir: a second one would corrupt nothing (SQLite locks) but would
    // fight over sandboxes, code and scratch space.
    let lock = std::fs::File::create(data_dir.join("nimbus.lock")).context("create lock file")?;
    lock_data_dir(&lock, &data_dir)?;
    // The spawner must be started while this process is still single-threaded.
    let sandboxes =
        Arc::new(Sandboxes::start(settings.platform.sandbox_config()).context("start sandboxes")?);
    drop(early_log);
    let exporter = settings
        .otlp_traces_url
        .as_deref()
        .map(|url| {
            crate::otlp::start(url).with_context(|| format!("start exporting spans to {url}"))
        })
        .transpose()?;
    init_tracing(exporter.as_ref());
    if let Some(url) = &settings.otlp_traces_url {
        tracing::info!(%url, "exporting platform spans over OTLP/HTTP");
    }
    let protections = sandboxes.protections().clone();
    if !protections.not_enforced.is_empty() {
        eprintln!(
            "nimbus: WARNING: running with reduced isolation ({:?}); not enforced:",
            protections.isolation
        );
        for item in &protections.not_enforced {
            eprintln!("nimbus:   - {item}");
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("nimbus")
        .build()
        .context("start async runtime")?;
    let result = runtime.block_on(serve(settings, sandboxes));
    // The server has stopped (or failed): send the spans still queued.
    if let Some(provider) = &exporter {
        crate::otlp::shutdown(provider);
    }
    drop(lock);
    result.map(|()| ExitCode::SUCCESS)
}

async fn serve(settings: Settings, sandboxes: Arc<Sandboxes>) -> anyhow::Result<()> {
    let config = settings.platform;
    let store = SqliteStore::open(&config.data_dir)
        .await
        .context("open store")?;
    let store = Arc::new(store);
    let queues = Arc::new(Queues::new(
        store.clone(),
        Arc::new(SystemClock),
        config.region.clone(),
        config.account_id.clone(),
    ));
    let platform = Platform::open(config.clone(), Stores::sqlite(store, queues), sandboxes)
        .await
        .context("start engine")?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let gateway = match settings.gateway_listen {
        Some(gw) => match tokio::net::TcpListener::bind(gw).await {
            Ok(l) => Some(l),
            // Only the default address may be taken (another server, another tool).
            Err(e) if settings.gateway_listen_defaulted => {
                eprintln!(
                    "nimbus: WARNING: the gateway's default address {gw} is unavailable ({e}); \
                     serving without the gateway (choose one with --gateway-listen)"
                );
                None
            }
            Err(e) => return Err(e).with_context(|| format!("gateway listen on {gw}")),
        },
        None => None,
    };
    let gateway_addr = gateway.as_ref().map(|l| l.local_addr()).transpose()?;
    platform.set_public_urls(nimbus_platform::stacks::PublicUrls {
        endpoint_url: format!("http://{addr}"),
        gateway_url: gateway_addr.map(|a| format!("http://{a}")),
    });
    let mut app = nimbus_server::router(Arc::clone(&platform));
    if let Some(clock) = settings.manual_clock {
        app = app.merge(nimbus_server::manual_clock_router(
            Arc::clone(&platform),
            clock,
        ));
    }
    println!(
        "nimbus: serving on http://{addr}{} (data dir {}, account {}, region {})",
        gateway_addr
            .map(|a| format!(" and the gateway on http://{a}"))
            .unwrap_or_default(),
        config.data_dir.display(),
        config.account_id,
        config.region
    );
    let stdin_closed = watch_stdin();
    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
            _ = stdin_closed => {}
        }
        tracing::info!("shutting down");
    };
    // The gateway stops with the main listener (same signals).
    let (stop_gateway, gateway_stopped) = tokio::sync::watch::channel(false);
    let gateway_task = gateway.map(|l| {
        let app = nimbus_server::gateway_router(Arc::clone(&platform), platform.routes());
        let mut stopped = gateway_stopped.clone();
        let stop = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        tokio::spawn(nimbus_server::listener::serve(l, app, stop, SHUTDOWN_GRACE))
    });
    // Both listeners stop taking requests at the same signal and drain side by side.
    let shutdown = async {
        shutdown.await;
        let _ = stop_gateway.send(true);
    };
    nimbus_server::listener::serve(listener, app, shutdown, SHUTDOWN_GRACE).await;
    if let Some(task) = gateway_task {
        let _ = task.await;
    }
    // Stop environments even if in-flight requests linger.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, platform.shutdown()).await;
    Ok(())
}

/// With `NIMBUS_EXIT_WITH_STDIN=1`, the server shuts down when its stdin reaches EOF: a
/// supervisor (or a test harness) that dies, even by SIGKILL, takes the server with it.
fn watch_stdin() -> impl std::future::Future<Output = ()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    if std::env::var("NIMBUS_EXIT_WITH_STDIN").as_deref() == Ok("1") {
        std::thread::spawn(move || {
            use std::io::Read;
            let mut sink = [0u8; 256];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            let _ = tx.send(());
        });
    } else {
        std::mem::forget(tx);
    }
    async move {
        let _ = rx.await;
    }
}

/// Installs the process-wide subscriber: the log on stderr, and the span exporter when
/// there is one.
fn init_tracing(exporter: Option<&opentelemetry_sdk::trace::SdkTracerProvider>) {
    let _ = tracing::subscriber::set_global_default(subscriber(exporter));
}

/// The log on stderr (filtered by `NIMBUS_LOG`/`RUST_LOG`) and, with an exporter, the
/// OpenTelemetry layer (with its own filter: the log's level does not change what is
/// exported).
fn subscriber(
    exporter: Option<&opentelemetry_sdk::trace::SdkTracerProvider>,
) -> impl tracing::Subscriber + Send + Sync {
    use std::io::IsTerminal;
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    let filter = std::env::var("NIMBUS_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| LOG_FILTER_DEFAULT.to_string());
    let log = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .with_filter(tracing_subscriber::EnvFilter::new(filter));
    tracing_subscriber::registry()
        .with(log)
        .with(exporter.map(crate::otlp::layer))
}
