//! One order in a cook's hands: [`Worker::process_one`] starts it (or takes it over), cooks it
//! while watching for a cancellation or a take-over, finishes it only while holding it, and
//! settles its delivery exactly once, logging every settle that fails.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{Outcome, Worker};
use crate::broker::Delivery;
use crate::domain::{OrderMessage, OrderStatus, OrderType, Transition};
use crate::store::{OrderState, StatusChange, StoreError, TransitionOutcome, WriteMeta};

/// Retry delay for a message handed back after a transient failure.
const RETRY_DELAY: Duration = Duration::from_secs(1);
/// How often a cook looks at the order in hand; a cancellation stops it within this.
const WATCH_EVERY: Duration = Duration::from_millis(500);

/// CONTRACT §4: background writes that fail for transient reasons get three attempts, backoff
/// from 1 s, capped at 30 s.
fn write_retry() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_secs(1))
        .with_max_delay(Duration::from_secs(30))
        .with_max_times(2)
}

/// How cooking one order ended.
enum Cooking {
    Done,
    Stopped,
    Interrupted(Option<OrderState>),
}

impl Worker {
    /// Cooks one delivered order (or settles it otherwise) and settles the delivery exactly once.
    /// `stop` being cancelled gives the order in hand `shutdown_timeout` to finish.
    pub async fn process_one(&self, delivery: Delivery, stop: &CancellationToken) -> Outcome {
        // Every line about this delivery, a dead letter's included, names its request and cook.
        let span = tracing::info_span!("order", request_id = delivery.request_id.as_deref().unwrap_or(""), worker_name = %self.spec.name, order_number = tracing::field::Empty);
        let message: OrderMessage = match serde_json::from_slice(&delivery.body) {
            Ok(m) => m,
            Err(e) => {
                return self
                    .dead_letter(delivery, format!("unparseable order message: {e}"))
                    .instrument(span)
                    .await;
            }
        };
        span.record(
            "order_number",
            crate::domain::visible(&message.order_number).as_ref(),
        );
        if message.order_number.contains('\0') {
            // No store can hold such a number, so no order has it.
            let shown = crate::domain::visible(&message.order_number).into_owned();
            let reason = format!("unknown order {shown}");
            return self.dead_letter(delivery, reason).instrument(span).await;
        }
        self.cook(delivery, message, stop).instrument(span).await
    }

    async fn cook(
        &self,
        delivery: Delivery,
        message: OrderMessage,
        stop: &CancellationToken,
    ) -> Outcome {
        let number = message.order_number.clone();
        let cook_time = self.spec.cook_times.for_type(message.order_type);
        let (redelivered, request_id) = (delivery.redelivered, delivery.request_id.clone());
        let started = self
            .start(redelivered, request_id, &number, cook_time)
            .await;
        if let Err(why) = started {
            return self.not_started(delivery, number, why).await;
        }
        self.outbox_wake.notify_one();
        self.in_hand.fetch_add(1, Ordering::Relaxed);
        self.changed.notify_one();
        tracing::info!(
            action = "order_processing_started",
            cook_time_ms = cook_time.as_millis() as u64,
            "cooking"
        );
        let started = Instant::now();
        let ended = tokio::select! {
            // A timer of zero still waits for the timer's next tick (a millisecond).
            () = cook(cook_time) => Cooking::Done,
            () = stop_then(stop, self.spec.shutdown_timeout) => Cooking::Stopped,
            state = self.watch(&number) => Cooking::Interrupted(state),
        };
        let outcome = match ended {
            Cooking::Done => {
                self.finish(delivery, number, message.order_type, started)
                    .await
            }
            Cooking::Stopped => {
                self.hand_back(
                    delivery,
                    "stopped before the order was cooked",
                    Duration::ZERO,
                )
                .await
            }
            Cooking::Interrupted(state) => self.interrupted(delivery, number, state).await,
        };
        if matches!(outcome, Outcome::Cooked { .. }) {
            self.unreported.fetch_add(1, Ordering::Relaxed);
        }
        self.in_hand.fetch_sub(1, Ordering::Relaxed);
        self.changed.notify_one();
        outcome
    }

    /// Settles a delivery whose order was not started: acked when it needs no cooking, handed
    /// back after a transient failure, dead-lettered once when trying again cannot help (so the
    /// orders behind it are cooked).
    async fn not_started(&self, delivery: Delivery, number: String, why: NotStarted) -> Outcome {
        match why {
            NotStarted::Settled(status) => {
                tracing::info!(action = "order_skipped", status = %status, "order needs no cooking");
                self.ack(delivery).await;
                Outcome::Skipped {
                    order_number: number,
                    status,
                }
            }
            NotStarted::Unknown => {
                self.dead_letter(delivery, format!("unknown order {number}"))
                    .await
            }
            NotStarted::Failed(e) if e.is_transient() => {
                let reason = format!("cannot start cooking: {e}");
                self.hand_back(delivery, &reason, RETRY_DELAY).await
            }
            NotStarted::Failed(e) => {
                self.dead_letter(delivery, format!("cannot start cooking: {e}"))
                    .await
            }
        }
    }

    /// `received → cooking`, with this cook's own estimate stored. A redelivered order found
    /// cooking lost its cook (the broker only hands a message out again once its holder's
    /// connection is gone; the embedded kitchen only re-queues what a dead process held): take
    /// it over.
    async fn start(
        &self,
        redelivered: bool,
        request_id: Option<String>,
        number: &str,
        cook_time: Duration,
    ) -> Result<(), NotStarted> {
        let mut start = self.change(Transition::StartCooking, None, request_id);
        start.estimated_completion =
            Some(start.meta.now + chrono::Duration::from_std(cook_time).unwrap_or_default());
        let mut outcome = self.store.transition(number, &start).await;
        if redelivered
            && matches!(
                outcome,
                Ok(TransitionOutcome::Refused {
                    current: OrderStatus::Cooking,
                    ..
                })
            )
        {
            start.transition = Transition::TakeOver;
            outcome = self.store.transition(number, &start).await;
        }
        match outcome {
            Ok(TransitionOutcome::Applied { from, to, .. }) => {
                crate::metrics::transition(from, to);
                Ok(())
            }
            Ok(TransitionOutcome::Refused { current, .. }) => Err(NotStarted::Settled(current)),
            Ok(TransitionOutcome::NotFound) => Err(NotStarted::Unknown),
            Err(e) => Err(NotStarted::Failed(e)),
        }
    }

    /// `cooking → ready`, only while this cook still holds the order.
    async fn finish(
        &self,
        delivery: Delivery,
        number: String,
        order_type: OrderType,
        started: Instant,
    ) -> Outcome {
        let finish = self.change(Transition::FinishCooking, None, delivery.request_id.clone());
        let result = (|| self.store.transition(&number, &finish))
            .retry(write_retry())
            .when(StoreError::is_transient)
            .notify(|e, after| tracing::warn!(action = "db_retry", error = %e, retry_in_ms = after.as_millis() as u64, "cannot mark the order ready yet; retrying"))
            .await;
        match result {
            Ok(TransitionOutcome::Applied {
                from,
                to,
                placed_at,
            }) => {
                crate::metrics::transition(from, to);
                crate::metrics::cooked(order_type, started.elapsed(), placed_at, finish.meta.now);
                self.outbox_wake.notify_one();
                self.ack(delivery).await;
                tracing::info!(
                    action = "order_completed",
                    duration_ms = started.elapsed().as_millis() as u64,
                    "order ready"
                );
                Outcome::Cooked {
                    order_number: number,
                }
            }
            // Cancelled by an operator while it cooked, or taken over by another cook: there is
            // one `ready` at most, written by the cook that holds the order.
            Ok(TransitionOutcome::Refused {
                current,
                processed_by,
            }) => {
                tracing::warn!(action = "order_finish_refused", status = %current, holder = processed_by.as_deref().unwrap_or(""), "the order is no longer this cook's to finish");
                self.ack(delivery).await;
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
                let why = format!("cannot mark the order ready: {e}");
                if e.is_transient() {
                    self.hand_back(delivery, &why, RETRY_DELAY).await
                } else {
                    self.dead_letter(delivery, why).await
                }
            }
        }
    }

    /// Resolves once the order in hand is no longer this cook's: cancelled, or taken over
    /// (`None`: gone from the store). Read errors are not a reason to stop cooking.
    async fn watch(&self, number: &str) -> Option<OrderState> {
        loop {
            tokio::time::sleep(WATCH_EVERY).await;
            match self.store.order_state(number).await {
                Ok(Some(state))
                    if state.status == OrderStatus::Cooking
                        && state.processed_by.as_deref() == Some(self.spec.name.as_str()) => {}
                Ok(state) => return state,
                Err(e) => {
                    tracing::debug!(action = "order_watch_failed", error = %e, "cannot look at the order in hand")
                }
            }
        }
    }

    async fn interrupted(
        &self,
        delivery: Delivery,
        number: String,
        state: Option<OrderState>,
    ) -> Outcome {
        let (status, processed_by) = match state {
            Some(s) => (s.status, s.processed_by),
            None => (OrderStatus::Cancelled, None),
        };
        if status == OrderStatus::Cancelled {
            tracing::info!(
                action = "order_cancelled_while_cooking",
                "cancelled; the cook drops it"
            );
        } else {
            tracing::warn!(action = "order_taken_over", status = %status, holder = processed_by.as_deref().unwrap_or(""), "another cook holds the order; this cook drops it");
        }
        self.ack(delivery).await;
        Outcome::Interrupted {
            order_number: number,
            status,
            processed_by,
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

    async fn ack(&self, delivery: Delivery) {
        if let Err(e) = delivery.ack().await {
            // The broker hands the message out again; the next cook finds it settled in the
            // store and skips it.
            tracing::error!(
                action = "ack_failed",
                error = &e as &dyn std::error::Error,
                error_type = "BrokerError",
                "cannot acknowledge the message"
            );
        }
    }

    async fn hand_back(&self, delivery: Delivery, reason: &str, delay: Duration) -> Outcome {
        tracing::warn!(action = "order_handed_back", reason = %reason, "order goes back to the queue");
        if let Err(e) = delivery.requeue(delay).await {
            tracing::error!(
                action = "hand_back_failed",
                error = &e as &dyn std::error::Error,
                error_type = "BrokerError",
                "cannot hand the order back; the broker returns it when the connection closes"
            );
        }
        Outcome::HandedBack {
            reason: reason.to_string(),
        }
    }

    async fn dead_letter(&self, delivery: Delivery, reason: String) -> Outcome {
        tracing::error!(action = "message_dead_lettered", error_type = "PoisonMessage", reason = %reason, "message can never be processed");
        if let Err(e) = delivery.dead_letter(&reason).await {
            tracing::error!(action = "dead_letter_failed", error = &e as &dyn std::error::Error, error_type = "BrokerError", reason = %reason, "cannot dead-letter the message; it was handed back");
        }
        Outcome::DeadLettered { reason }
    }
}

/// Why cooking did not start.
enum NotStarted {
    /// Already past cooking, cancelled, or held by a live cook.
    Settled(OrderStatus),
    Unknown,
    Failed(StoreError),
}

async fn cook(time: Duration) {
    if !time.is_zero() {
        tokio::time::sleep(time).await;
    }
}

/// Resolves `grace` after `stop` is cancelled.
async fn stop_then(stop: &CancellationToken, grace: Duration) {
    stop.cancelled().await;
    tokio::time::sleep(grace).await;
}
