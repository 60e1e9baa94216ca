//! A kitchen worker (CONTRACT §5): registration, heartbeats, one testable step
//! ([`Worker::process_one`], in [`cook`]) and the loop that feeds it until a graceful stop.

mod cook;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument;

use crate::broker::{Broker, BrokerError, BrokerStatus, Deliveries};
use crate::config::CookTimes;
use crate::domain::{Clock, OrderStatus, Specialty, WorkerStatus};
use crate::store::{Store, StoreError, WorkerRegistration};

/// What a worker is.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    pub name: String,
    pub specialty: Specialty,
    pub heartbeat_interval: Duration,
    pub prefetch: u16,
    pub cook_times: CookTimes,
    /// How long a stopping worker may keep cooking the order in hand before handing it back;
    /// also how long it keeps trying to record itself offline when the database is away.
    pub shutdown_timeout: Duration,
    /// Take the name over even from a worker still marked online (`worker --replace`).
    pub replace: bool,
}

impl WorkerSpec {
    pub fn new(name: impl Into<String>) -> WorkerSpec {
        WorkerSpec {
            name: name.into(),
            specialty: Specialty::general(),
            heartbeat_interval: Duration::from_secs(30),
            prefetch: 1,
            cook_times: CookTimes::default(),
            shutdown_timeout: Duration::from_secs(30),
            replace: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KitchenError {
    #[error("worker name {name:?}: {why}")]
    InvalidName { name: String, why: String },
    #[error(
        "worker name {0:?} is taken by a worker that is still online (--replace takes it over)"
    )]
    NameTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Broker(#[from] BrokerError),
}

impl KitchenError {
    /// Whether starting the same worker again later can succeed (a name in use will not free
    /// itself while its holder is alive).
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            KitchenError::NameTaken(_) | KitchenError::InvalidName { .. }
        )
    }
}

/// What one step did with one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Cooked {
        order_number: String,
    },
    /// Nothing to do: the order is already past cooking, or cancelled, or someone alive is on it.
    Skipped {
        order_number: String,
        status: OrderStatus,
    },
    /// Dropped mid-cooking: an operator cancelled it, or another cook took it over.
    Interrupted {
        order_number: String,
        status: OrderStatus,
        processed_by: Option<String>,
    },
    /// Given back to the queue: a transient failure, or a stop that ran out of time.
    HandedBack {
        reason: String,
    },
    /// Could never be processed; in the dead-letter queue with this reason.
    DeadLettered {
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct Worker {
    spec: WorkerSpec,
    store: Arc<dyn Store>,
    broker: Arc<dyn Broker>,
    clock: Arc<dyn Clock>,
    outbox_wake: Arc<Notify>,
    /// Orders this cook is cooking right now (up to its prefetch: one per burner).
    in_hand: Arc<AtomicUsize>,
    /// Orders made ready and not yet counted in the cook's row.
    unreported: Arc<AtomicU32>,
    /// Pokes the reporter: the cook's status or count changed.
    changed: Arc<Notify>,
}

/// How long the reporter gathers changes before it writes the cook's row: under load, one
/// write counts many orders; alone, an order's status shows within this.
const REPORT_AFTER: Duration = Duration::from_millis(100);

impl Worker {
    pub fn new(
        spec: WorkerSpec,
        store: Arc<dyn Store>,
        broker: Arc<dyn Broker>,
        clock: Arc<dyn Clock>,
        outbox_wake: Arc<Notify>,
    ) -> Worker {
        Worker {
            spec,
            store,
            broker,
            clock,
            outbox_wake,
            in_hand: Arc::new(AtomicUsize::new(0)),
            unreported: Arc::new(AtomicU32::new(0)),
            changed: Arc::new(Notify::new()),
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub async fn register(&self) -> Result<(), KitchenError> {
        crate::domain::check_worker_name(&self.spec.name).map_err(|why| {
            KitchenError::InvalidName {
                name: self.spec.name.escape_default().to_string(),
                why,
            }
        })?;
        let registered = self
            .store
            .register_worker(&WorkerRegistration {
                name: self.spec.name.clone(),
                specialty: self.spec.specialty.clone(),
                heartbeat_interval: self.spec.heartbeat_interval,
                now: self.clock.now(),
                replace: self.spec.replace,
            })
            .await?;
        if !registered {
            return Err(KitchenError::NameTaken(self.spec.name.clone()));
        }
        tracing::info!(action = "worker_registered", worker_name = %self.spec.name, order_types = %self.spec.specialty, replace = self.spec.replace, "worker registered");
        Ok(())
    }

    /// Registers, consumes and cooks up to `prefetch` orders at once (each its own
    /// [`Worker::process_one`], with its own transitions and ack) until `stop` is cancelled;
    /// then stops taking orders, hands back what was delivered but not started, finishes (or
    /// hands back) the orders in hand, and goes offline. Returns `Ok` after a stop; a return
    /// without one means the broker side ended.
    pub async fn run(self, stop: CancellationToken) -> Result<(), KitchenError> {
        if !self.wait_for_broker(&stop).await? {
            return Ok(());
        }
        self.register().await?;
        let mut deliveries = self
            .broker
            .consume_orders(
                &self.spec.name,
                &self.spec.specialty.types(),
                self.spec.prefetch,
            )
            .await?;
        // Ends with this run however it ends (a panic included), so a dead worker never keeps
        // looking alive; a stop lets it finish the write in hand first.
        let quiet = CancellationToken::new();
        let reporter = AbortOnDropHandle::new(tokio::spawn(self.clone().report(quiet.clone())));
        tracing::info!(action = "service_started", worker_name = %self.spec.name, prefetch = self.spec.prefetch, "taking orders");
        // Aborted with this run however it ends; the broker hands their messages back.
        let mut burners = JoinSet::new();
        self.cook_until_stopped(&mut deliveries, &mut burners, &stop)
            .await;
        let stopped = Instant::now();
        self.hand_back_waiting(&mut deliveries).await;
        // The orders in hand finish, or are handed back once the shutdown timeout has passed
        // (each watches `stop` itself); the consumer stays open until then so their acks land.
        while let Some(done) = burners.join_next().await {
            log_panic(done);
        }
        drop(deliveries);
        quiet.cancel();
        let _ = reporter.await;
        self.go_offline(stopped).await;
        tracing::info!(action = "graceful_shutdown", worker_name = %self.spec.name, "worker stopped");
        Ok(())
    }

    /// Registered only once orders can reach it: a worker whose broker is away (or refuses it)
    /// never shows online on the board (issue #11). `false` when stopped while waiting.
    async fn wait_for_broker(&self, stop: &CancellationToken) -> Result<bool, KitchenError> {
        let mut link = self.broker.status();
        if *link.borrow() != BrokerStatus::Connected {
            tracing::info!(action = "waiting_for_broker", worker_name = %self.spec.name, "waiting for the broker before registering");
        }
        tokio::select! {
            () = stop.cancelled() => Ok(false),
            connected = link.wait_for(|s| *s == BrokerStatus::Connected) => {
                connected.map_err(|_| BrokerError::Unavailable("the broker is gone".into()))?;
                Ok(true)
            }
        }
    }

    /// Takes deliveries while a burner is free, each cooked by its own task, until the stop or
    /// the end of the deliveries.
    async fn cook_until_stopped(
        &self,
        deliveries: &mut Deliveries,
        burners: &mut JoinSet<Outcome>,
        stop: &CancellationToken,
    ) {
        let burners_max = usize::from(self.spec.prefetch.max(1));
        loop {
            let free = burners.len() < burners_max;
            let next = tokio::select! {
                biased;
                () = stop.cancelled() => return,
                Some(done) = burners.join_next(), if !burners.is_empty() => {
                    log_panic(done);
                    continue;
                }
                next = deliveries.next(), if free => next,
            };
            let Some(delivery) = next else { return };
            let (cook, stop) = (self.clone(), stop.clone());
            burners.spawn(async move { cook.process_one(delivery, &stop).await }.in_current_span());
        }
    }

    /// Delivered but not started: straight back to the queue for other cooks.
    async fn hand_back_waiting(&self, deliveries: &mut Deliveries) {
        while let Some(waiting) = deliveries.try_next() {
            if let Err(e) = waiting.requeue(Duration::ZERO).await {
                tracing::warn!(action = "hand_back_failed", worker_name = %self.spec.name, error = %e, "cannot hand a waiting order back; the broker returns it when the consumer closes");
            }
        }
    }

    /// Records the worker offline with what it had not counted yet, trying until the shutdown
    /// timeout has passed since the stop: a database that is away does not keep a stopping
    /// worker alive (its row then turns offline by heartbeat age).
    async fn go_offline(&self, stopped: Instant) {
        use backon::Retryable;
        let left = (stopped + self.spec.shutdown_timeout).saturating_duration_since(Instant::now());
        let finished = self.unreported.swap(0, Ordering::Relaxed);
        let schedule = backon::ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(5))
            .with_total_delay(Some(left))
            .without_max_times();
        let name = &self.spec.name;
        let offline = || {
            self.store
                .worker_seen(name, WorkerStatus::Offline, finished, self.clock.now())
        };
        let result = offline
            .retry(schedule)
            .notify(|e, after| tracing::warn!(action = "db_retry", worker_name = %name, error = %e, retry_in_ms = after.as_millis() as u64, "cannot record the worker offline yet; retrying"))
            .await;
        if let Err(e) = result {
            tracing::error!(action = "worker_offline_failed", worker_name = %name, error = &e as &dyn std::error::Error, error_type = "StoreError", "cannot record the worker offline; its heartbeat will age out");
        }
    }

    /// Keeps the cook's row: a heartbeat every interval, and its status and count
    /// `REPORT_AFTER` a change. The one writer of that row while the cook runs, so the
    /// transitions of its burners never wait on each other for it (issue #10). Returns when
    /// `quiet` is cancelled, never in the middle of a write.
    async fn report(self, quiet: CancellationToken) {
        let mut tick = tokio::time::interval(self.spec.heartbeat_interval);
        tick.tick().await;
        loop {
            tokio::select! {
                () = quiet.cancelled() => return,
                _ = tick.tick() => {}
                () = self.changed.notified() => {
                    tokio::select! {
                        () = quiet.cancelled() => return,
                        () = tokio::time::sleep(REPORT_AFTER) => {}
                    }
                }
            }
            self.write_report().await;
        }
    }

    /// One write of the cook's row: its status and the orders finished since the last write
    /// (kept for the next one if this write fails).
    async fn write_report(&self) {
        let status = if self.in_hand.load(Ordering::Relaxed) > 0 {
            WorkerStatus::Processing
        } else {
            WorkerStatus::Online
        };
        let finished = self.unreported.swap(0, Ordering::Relaxed);
        let now = self.clock.now();
        let written = self
            .store
            .worker_seen(&self.spec.name, status, finished, now)
            .await;
        match written {
            Ok(()) => {
                tracing::debug!(action = "heartbeat_sent", worker_name = %self.spec.name, "heartbeat")
            }
            Err(e) => {
                self.unreported.fetch_add(finished, Ordering::Relaxed);
                tracing::warn!(action = "heartbeat_failed", worker_name = %self.spec.name, error = %e, "heartbeat not recorded")
            }
        }
    }
}

/// A cook's task that panicked lost only its own order (the broker hands it back); say so.
fn log_panic(done: Result<Outcome, tokio::task::JoinError>) {
    if let Err(e) = done
        && e.is_panic()
    {
        tracing::error!(action = "cook_panicked", error = %e, "a cook's task panicked; its order goes back to the queue");
    }
}
