//! The outbox relay (CONTRACT §4): publishes committed outbox rows with publisher confirms and
//! marks them sent. Woken right after each commit in this process; sweeps periodically for
//! rows left by others (another process's commits, a relay that died mid-batch).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::broker::{Broker, BrokerError, Outgoing};
use crate::domain::{Clock, ORDERS_EXCHANGE};
use crate::store::{ClaimedMessage, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Broker(#[from] BrokerError),
}

#[derive(Debug, Clone)]
pub struct Relay {
    store: Arc<dyn Store>,
    broker: Arc<dyn Broker>,
    clock: Arc<dyn Clock>,
    /// Unique per relay: leases name it.
    name: String,
    wake: Arc<Notify>,
    compacting: Arc<AtomicBool>,
    pub batch: u32,
    /// How long a claimed row stays this relay's; a relay that dies frees its rows after it.
    pub lease: Duration,
    pub sweep: Duration,
}

const RETRY_MAX: Duration = Duration::from_secs(10);

/// After a failed batch: 200 ms doubling to 10 s, for as long as it fails.
fn retry_delays() -> impl Iterator<Item = Duration> {
    use backon::BackoffBuilder;
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(RETRY_MAX)
        .with_jitter()
        .without_max_times()
        .build()
}

impl Relay {
    pub fn new(
        store: Arc<dyn Store>,
        broker: Arc<dyn Broker>,
        clock: Arc<dyn Clock>,
        wake: Arc<Notify>,
    ) -> Relay {
        Relay {
            store,
            broker,
            clock,
            name: format!("relay-{}", uuid::Uuid::new_v4().simple()),
            wake,
            compacting: Arc::new(AtomicBool::new(false)),
            batch: BATCH,
            lease: Duration::from_secs(30),
            sweep: Duration::from_millis(500),
        }
    }

    /// Publishes one batch; returns how many rows were sent. Rows whose publish failed stay
    /// unsent and their leases are given up, so any relay takes them at once.
    pub async fn run_once(&self) -> Result<usize, RelayError> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim_outbox(&self.name, self.batch, now, self.lease)
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let outgoing: Vec<Outgoing> = claimed.iter().map(outgoing).collect();
        let publishing = std::time::Instant::now();
        let results = self.broker.publish_all(&outgoing).await;
        crate::metrics::relay_published(publishing.elapsed());
        let mut sent = Vec::with_capacity(claimed.len());
        let mut failure = None;
        for (row, result) in claimed.iter().zip(results) {
            match result {
                Ok(()) => {
                    sent.push(row.id);
                    log_published(row);
                }
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        if !sent.is_empty() {
            self.store.mark_sent(&sent, self.clock.now()).await?;
        }
        match failure {
            Some(e) => {
                // Another relay whose broker answers may send them meanwhile.
                self.store.release_claims(&self.name).await?;
                Err(e.into())
            }
            None => Ok(sent.len()),
        }
    }

    /// In the background, one at a time: a vacuum may wait seconds to shorten the table, and
    /// publishing must not wait with it.
    fn compact(&self) {
        if self.compacting.swap(true, Ordering::AcqRel) {
            return;
        }
        let (store, busy) = (self.store.clone(), self.compacting.clone());
        tokio::spawn(async move {
            if let Err(e) = store.compact_outbox().await {
                tracing::debug!(action = "outbox_compact_failed", error = %e, "the outbox waits for the database's own vacuum");
            }
            busy.store(false, Ordering::Release);
        });
    }

    /// Runs until `stop` is cancelled. A batch in flight is always finished (published and
    /// marked sent): the stop is only looked at between batches. Then what is left (the status
    /// updates of workers that stopped just before) goes out, for a few seconds at most.
    pub async fn run(self, stop: CancellationToken) {
        let mut delays = retry_delays();
        let mut since_compact = 0;
        loop {
            match self.run_once().await {
                Ok(n) => {
                    // A full batch means more is waiting: go on at once.
                    let busy = n == self.batch as usize && !stop.is_cancelled();
                    self.compact_after(n, busy, &mut since_compact);
                    if busy {
                        continue;
                    }
                    delays = retry_delays();
                }
                Err(e) => {
                    let delay = delays.next().unwrap_or(RETRY_MAX);
                    tracing::warn!(action = "relay_failed", error = %e, retry_in_ms = delay.as_millis() as u64, "outbox messages wait for the next attempt");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = stop.cancelled() => break,
                    }
                    continue;
                }
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.sweep) => {}
                () = stop.cancelled() => break,
            }
        }
        self.drain().await;
    }

    /// Counts what was sent since the last compaction and compacts when due: every
    /// `COMPACT_EVERY` messages while busy, or `COMPACT_WHEN_IDLE` once it goes idle.
    fn compact_after(&self, sent: usize, busy: bool, since_compact: &mut usize) {
        *since_compact += sent;
        let every = if busy {
            COMPACT_EVERY
        } else {
            COMPACT_WHEN_IDLE
        };
        if *since_compact >= every {
            *since_compact = 0;
            self.compact();
        }
    }

    /// After the stop: what is left goes out, for `FINAL_DRAIN` at most; a batch cut off by
    /// that limit is not left leased to a relay that is gone.
    async fn drain(&self) {
        let last = async {
            while let Ok(n) = self.run_once().await {
                if n < self.batch as usize {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(FINAL_DRAIN, last).await;
        if let Err(e) = self.store.release_claims(&self.name).await {
            tracing::warn!(action = "relay_release_failed", error = %e, "unsent outbox rows stay leased until their lease runs out");
        }
    }
}

/// An outbox row as the broker publishes it (the relay's, and the recovery's on a new bus).
pub(crate) fn outgoing(row: &ClaimedMessage) -> Outgoing {
    let m = &row.message;
    Outgoing {
        exchange: m.exchange.clone(),
        routing_key: m.routing_key.clone(),
        priority: m.priority,
        message_id: m.message_id.clone(),
        request_id: row.request_id.clone(),
        body: m.payload.to_string().into_bytes(),
    }
}

/// A kitchen message confirmed: the line that follows an order from its request to its cook.
fn log_published(row: &ClaimedMessage) {
    let m = &row.message;
    if m.exchange != ORDERS_EXCHANGE {
        return;
    }
    let number = m.payload["order_number"].as_str().unwrap_or_default();
    let span = tracing::info_span!("publish", request_id = row.request_id.as_deref().unwrap_or(""), order_number = %number);
    span.in_scope(|| {
        tracing::info!(action = "order_published", routing_key = %m.routing_key, priority = m.priority, "order sent to the kitchen")
    });
}

/// Messages sent between two compactions of the outbox while busy, and while idle: the outbox
/// table holds about this many removed rows at most (a few MB) beside its live ones.
const COMPACT_EVERY: usize = 5_000;
const COMPACT_WHEN_IDLE: usize = 500;

/// Rows per claim: published with all their confirms outstanding, marked sent in one statement.
const BATCH: u32 = 500;

/// How long a stopping relay keeps publishing what is left.
const FINAL_DRAIN: Duration = Duration::from_secs(5);
