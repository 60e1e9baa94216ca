//! A kitchen worker (CONTRACT §5): registration, heartbeats, one testable step
//! ([`Worker::process_one`]) and the loop that feeds it until a graceful stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};
use tracing::Instrument;

use crate::broker::{Broker, BrokerError, Delivery};
use crate::config::CookTimes;
use crate::domain::{Clock, OrderMessage, OrderStatus, Specialty, Transition, WorkerStatus};
use crate::store::{
    StatusChange, Store, StoreError, TransitionOutcome, WorkerRegistration, WriteMeta,
};

/// What a worker is.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    pub name: String,
    pub specialty: Specialty,
    pub heartbeat_interval: Duration,
    pub prefetch: u16,
    pub cook_times: CookTimes,
    /// How long a stopping worker may keep cooking the order in hand before handing it back.
    pub shutdown_timeout: Duration,
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
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KitchenError {
    #[error("worker name {0:?} is taken by a worker that is still online")]
    NameTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Broker(#[from] BrokerError),
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
    cooking: Arc<AtomicBool>,
}

/// Retry delay for a message handed back after a transient failure.
const RETRY_DELAY: Duration = Duration::from_secs(1);

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
            cooking: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub async fn register(&self) -> Result<(), KitchenError> {
        let registered = self
            .store
            .register_worker(&WorkerRegistration {
                name: self.spec.name.clone(),
                specialty: self.spec.specialty.clone(),
                heartbeat_interval: self.spec.heartbeat_interval,
                now: self.clock.now(),
            })
            .await?;
        if !registered {
            return Err(KitchenError::NameTaken(self.spec.name.clone()));
        }
        tracing::info!(action = "worker_registered", worker_name = %self.spec.name, order_types = %self.spec.specialty, "worker registered");
        Ok(())
    }

    /// Cooks one delivered order (or settles it otherwise) and settles the delivery exactly once.
    /// `stop` turning true gives the order in hand `shutdown_timeout` to finish.
    pub async fn process_one(&self, delivery: Delivery, stop: &watch::Receiver<bool>) -> Outcome {
        let message: OrderMessage = match serde_json::from_slice(&delivery.body) {
            Ok(m) => m,
            Err(e) => {
                return self
                    .dead_letter(delivery, format!("unparseable order message: {e}"))
                    .await;
            }
        };
        let number = message.order_number.clone();
        let span = tracing::info_span!("order", request_id = delivery.request_id.as_deref().unwrap_or(""), order_number = %number, worker_name = %self.spec.name);
        self.cook(delivery, message, stop).instrument(span).await
    }

    async fn cook(
        &self,
        delivery: Delivery,
        message: OrderMessage,
        stop: &watch::Receiver<bool>,
    ) -> Outcome {
        let number = message.order_number.clone();
        let cook_time = self.spec.cook_times.for_type(message.order_type);
        let started = self.clock.now();
        let eta = started + chrono::Duration::from_std(cook_time).unwrap_or_default();
        // A redelivered order found cooking lost its cook (the broker only hands a message
        // out again once its holder's connection is gone): take it over.
        let mut start = self.change(
            Transition::StartCooking,
            Some(eta),
            delivery.request_id.clone(),
        );
        let mut outcome = self.store.transition(&number, &start).await;
        if delivery.redelivered
            && matches!(
                outcome,
                Ok(TransitionOutcome::Refused {
                    current: OrderStatus::Cooking
                })
            )
        {
            start.transition = Transition::TakeOver;
            outcome = self.store.transition(&number, &start).await;
        }
        match outcome {
            Ok(TransitionOutcome::Applied { .. }) => {}
            Ok(TransitionOutcome::Refused { current }) => {
                let _ = delivery.ack().await;
                tracing::info!(action = "order_skipped", status = %current, "order needs no cooking");
                return Outcome::Skipped {
                    order_number: number,
                    status: current,
                };
            }
            Ok(TransitionOutcome::NotFound) => {
                return self
                    .dead_letter(delivery, format!("unknown order {number}"))
                    .await;
            }
            Err(e) => {
                return self
                    .hand_back(delivery, format!("cannot start cooking: {e}"), RETRY_DELAY)
                    .await;
            }
        }
        self.outbox_wake.notify_one();
        self.cooking.store(true, Ordering::Relaxed);
        tracing::info!(
            action = "order_processing_started",
            cook_time_ms = cook_time.as_millis() as u64,
            "cooking"
        );
        let clock = Instant::now();
        let finished = tokio::select! {
            () = tokio::time::sleep(cook_time) => true,
            () = stop_then(stop.clone(), self.spec.shutdown_timeout) => false,
        };
        if !finished {
            self.cooking.store(false, Ordering::Relaxed);
            return self
                .hand_back(
                    delivery,
                    "stopped before the order was cooked".into(),
                    Duration::ZERO,
                )
                .await;
        }
        let finish = self.change(Transition::FinishCooking, None, delivery.request_id.clone());
        let mut result = self.store.transition(&number, &finish).await;
        for attempt in 1..3 {
            match &result {
                Err(e) if e.is_transient() => {
                    tokio::time::sleep(RETRY_DELAY * attempt).await;
                    result = self.store.transition(&number, &finish).await;
                }
                _ => break,
            }
        }
        self.cooking.store(false, Ordering::Relaxed);
        match result {
            Ok(TransitionOutcome::Applied { .. }) => {
                self.outbox_wake.notify_one();
                let _ = delivery.ack().await;
                tracing::info!(
                    action = "order_completed",
                    duration_ms = clock.elapsed().as_millis() as u64,
                    "order ready"
                );
                Outcome::Cooked {
                    order_number: number,
                }
            }
            // Cancelled by an operator while it cooked, or finished by a cook that took over.
            Ok(TransitionOutcome::Refused { current }) => {
                let _ = delivery.ack().await;
                Outcome::Skipped {
                    order_number: number,
                    status: current,
                }
            }
            Ok(TransitionOutcome::NotFound) => {
                self.dead_letter(delivery, format!("unknown order {number}"))
                    .await
            }
            Err(e) => {
                self.hand_back(
                    delivery,
                    format!("cannot mark the order ready: {e}"),
                    RETRY_DELAY,
                )
                .await
            }
        }
    }

    fn change(
        &self,
        transition: Transition,
        eta: Option<chrono::DateTime<chrono::Utc>>,
        request_id: Option<String>,
    ) -> StatusChange {
        StatusChange {
            transition,
            changed_by: self.spec.name.clone(),
            notes: None,
            estimated_completion: eta,
            meta: WriteMeta {
                now: self.clock.now(),
                request_id,
            },
        }
    }

    async fn hand_back(&self, delivery: Delivery, reason: String, delay: Duration) -> Outcome {
        tracing::warn!(action = "order_handed_back", reason = %reason, "order goes back to the queue");
        let _ = delivery.requeue(delay).await;
        Outcome::HandedBack { reason }
    }

    async fn dead_letter(&self, delivery: Delivery, reason: String) -> Outcome {
        tracing::error!(action = "message_dead_lettered", error_type = "PoisonMessage", reason = %reason, "message can never be processed");
        let _ = delivery.dead_letter(&reason).await;
        Outcome::DeadLettered { reason }
    }

    /// Registers, consumes and cooks until `stop` turns true; then stops taking orders, finishes
    /// (or hands back) the one in hand, hands back what was prefetched, and goes offline.
    pub async fn run(self, mut stop: watch::Receiver<bool>) -> Result<(), KitchenError> {
        self.register().await?;
        let mut deliveries = self
            .broker
            .consume_orders(
                &self.spec.name,
                &self.spec.specialty.types(),
                self.spec.prefetch,
            )
            .await?;
        let heartbeat = tokio::spawn(self.clone().heartbeat());
        tracing::info!(action = "service_started", worker_name = %self.spec.name, prefetch = self.spec.prefetch, "taking orders");
        let cooking_stop = stop.clone();
        loop {
            let next = tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => break,
                next = deliveries.next() => next,
            };
            match next {
                Some(d) => {
                    self.process_one(d, &cooking_stop).await;
                }
                None => break,
            }
        }
        drop(deliveries);
        heartbeat.abort();
        self.store
            .worker_seen(&self.spec.name, WorkerStatus::Offline, self.clock.now())
            .await?;
        tracing::info!(action = "graceful_shutdown", worker_name = %self.spec.name, "worker stopped");
        Ok(())
    }

    async fn heartbeat(self) {
        let mut tick = tokio::time::interval(self.spec.heartbeat_interval);
        tick.tick().await;
        loop {
            tick.tick().await;
            let status = if self.cooking.load(Ordering::Relaxed) {
                WorkerStatus::Processing
            } else {
                WorkerStatus::Online
            };
            match self
                .store
                .worker_seen(&self.spec.name, status, self.clock.now())
                .await
            {
                Ok(()) => {
                    tracing::debug!(action = "heartbeat_sent", worker_name = %self.spec.name, "heartbeat")
                }
                Err(e) => {
                    tracing::warn!(action = "heartbeat_failed", worker_name = %self.spec.name, error = %e, "heartbeat not recorded")
                }
            }
        }
    }
}

/// Resolves `grace` after `stop` turns true.
async fn stop_then(mut stop: watch::Receiver<bool>, grace: Duration) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(grace).await;
}
