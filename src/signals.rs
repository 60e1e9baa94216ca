//! The stop signals (SIGINT, SIGTERM, SIGHUP) as one stream, and the headless modes' rule for
//! them: the first asks for a graceful stop, a second leaves at once (CONTRACT §6).

use tokio_util::sync::CancellationToken;

/// Asks for a graceful stop on SIGINT, SIGTERM or SIGHUP; a second signal leaves at once.
pub fn stop_on_signals(stop: CancellationToken) {
    tokio::spawn(async move {
        let mut signals = Signals::new();
        let first = signals.next().await;
        tracing::info!(
            action = "graceful_shutdown",
            signal = first,
            "signal received; finishing the work in hand (again to leave at once)"
        );
        stop.cancel();
        let second = signals.next().await;
        tracing::warn!(
            action = "forced_shutdown",
            signal = second,
            "second signal: leaving without finishing"
        );
        std::process::exit(130);
    });
}

/// SIGINT, SIGTERM and SIGHUP as one stream of names.
pub struct Signals {
    #[cfg(unix)]
    streams: Vec<(&'static str, tokio::signal::unix::Signal)>,
}

impl Signals {
    pub fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let kinds = [
                ("SIGINT", SignalKind::interrupt()),
                ("SIGTERM", SignalKind::terminate()),
                ("SIGHUP", SignalKind::hangup()),
            ];
            Signals {
                streams: kinds
                    .into_iter()
                    .filter_map(|(name, kind)| signal(kind).ok().map(|s| (name, s)))
                    .collect(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next signal's name.
    pub async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            if self.streams.is_empty() {
                return std::future::pending().await;
            }
            let waits = self.streams.iter_mut().map(|(name, s)| {
                Box::pin(async move {
                    s.recv().await;
                    *name
                })
            });
            futures_util::future::select_all(waits).await.0
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

impl Default for Signals {
    fn default() -> Self {
        Signals::new()
    }
}
