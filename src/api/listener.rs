//! The HTTP listener with bounded connections (CONTRACT §6): hyper's own header-read timeout,
//! which also closes a keep-alive connection idle past it (hyper runs it while a connection
//! waits for its next request's headers) and one that never sends a byte; a cap on the headers'
//! buffer; and a cap on open connections, below the process's open-file limit, beyond which a
//! new connection is closed at once — so the server never runs out of file descriptors.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How connections are bounded; from the `server:` section of the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// For a request's headers, and for an idle connection's next request.
    pub header_read_timeout: Duration,
    /// Open connections at once (lowered to fit the open-file limit).
    pub max_connections: usize,
    /// The read buffer, and so the largest request head (at least 8 KiB).
    pub max_header_bytes: usize,
}

impl ConnectionLimits {
    pub fn from_server(s: &crate::config::ServerConfig) -> Self {
        ConnectionLimits {
            header_read_timeout: s.header_read_timeout,
            max_connections: s.max_connections,
            max_header_bytes: s.max_header_bytes,
        }
    }
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits::from_server(&crate::config::ServerConfig::default())
    }
}

/// How long requests in flight may take to finish once a stop is asked for.
const DRAIN: Duration = Duration::from_secs(10);
/// Descriptors kept free for everything that is not a client (database, broker, files).
const SPARE_FILES: u64 = 256;

/// Serves `router` on `listener` until `shutdown`, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    limits: ConnectionLimits,
) -> std::io::Result<()> {
    let cap = connection_cap(limits.max_connections);
    let permits = Arc::new(Semaphore::new(cap));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8 * 1024))
        .keep_alive(true);
    tokio::pin!(shutdown);
    let mut refusals = Refusals::new(cap);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of descriptors or a connection reset before it was taken: wait a moment
                // rather than spin, and keep serving the connections already open.
                Err(e) => {
                    tracing::warn!(action = "accept_failed", error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refusals.one();
            continue; // dropping the stream closes it
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req.map(axum::body::Body::new))
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Closed by the client, a timeout, or an unreadable request: nothing to report.
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            action = "drain_timeout",
            "requests still in flight after the drain; closing them"
        );
    }
    Ok(())
}

/// Connections closed at once for being past the cap, said at most once a second (a flood must
/// not flood the log too).
struct Refusals {
    cap: usize,
    since_said: u64,
    said: Option<std::time::Instant>,
}

impl Refusals {
    fn new(cap: usize) -> Refusals {
        Refusals {
            cap,
            since_said: 0,
            said: None,
        }
    }

    fn one(&mut self) {
        self.since_said += 1;
        if self
            .said
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            tracing::warn!(
                action = "connection_refused",
                limit = self.cap,
                refused = self.since_said,
                "too many open connections; closing new ones"
            );
            (self.since_said, self.said) = (0, Some(std::time::Instant::now()));
        }
    }
}

/// The configured cap, lowered to what the open-file limit allows once raised to its hard limit.
fn connection_cap(configured: usize) -> usize {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(files) => {
            let fits = usize::try_from(files.saturating_sub(SPARE_FILES)).unwrap_or(usize::MAX);
            if fits < configured {
                tracing::warn!(
                    action = "connection_cap_lowered",
                    configured,
                    open_file_limit = files,
                    cap = fits,
                    "the open-file limit holds fewer connections than configured"
                );
            }
            configured.min(fits).max(1)
        }
        Err(e) => {
            tracing::warn!(action = "open_file_limit_unknown", error = %e, "cannot read the open-file limit; keeping the configured connection cap");
            configured
        }
    }
}
