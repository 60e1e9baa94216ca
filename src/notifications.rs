//! Status updates as people read them, and the subscriber that prints them (CONTRACT §3, §8):
//! one line per update, duplicates (a message delivered twice) dropped.

use std::collections::{HashSet, VecDeque};
use std::io::Write;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use tracing::Instrument;

use crate::broker::{Broker, Delivery};
use crate::domain::{StatusUpdate, visible};
use crate::supervisor::TaskError;

/// `notify`: subscribes (a queue of its own), then prints one line per new update on stdout
/// until `stop`. Unparseable updates are dead-lettered; duplicates are dropped.
pub async fn print_updates(
    broker: Arc<dyn Broker>,
    stop: CancellationToken,
) -> Result<(), TaskError> {
    // Subscribed on a live connection before saying it listens: an update sent after
    // `service_started` is never missed.
    // A stop while the broker is still away ends it too (a SIGTERM used to wait for ever).
    let mut link = broker.status();
    tokio::select! {
        () = stop.cancelled() => return Ok(()),
        _ = link.wait_for(|s| *s == crate::broker::BrokerStatus::Connected) => {}
    }
    let mut updates = broker
        .subscribe_updates("notify")
        .await
        .map_err(|e| TaskError::transient(e.to_string()))?;
    tracing::info!(action = "service_started", "listening for status updates");
    let mut dedupe = Dedupe::new(10_000);
    loop {
        let delivery = tokio::select! {
            () = stop.cancelled() => return Ok(()),
            d = updates.next() => match d {
                Some(d) => d,
                None => return Err(TaskError::transient("the subscription ended")),
            },
        };
        // Every line this message causes carries the request id and message id it came with.
        let span = tracing::info_span!(
            "update",
            request_id = delivery.request_id.as_deref().unwrap_or("")
        );
        show(delivery, &mut dedupe).instrument(span).await;
    }
}

/// Prints one update (once), and settles its delivery.
async fn show(delivery: Delivery, dedupe: &mut Dedupe) {
    let message_id = delivery.message_id.clone().unwrap_or_default();
    let settled = match serde_json::from_slice::<StatusUpdate>(&delivery.body) {
        Ok(update) => {
            if dedupe.first_time(delivery.message_id.as_deref(), &update) {
                print(&update, &message_id);
            }
            delivery.ack().await
        }
        Err(e) => {
            let reason = format!("unparseable status update: {e}");
            tracing::error!(action = "message_dead_lettered", error_type = "PoisonMessage", reason = %reason, message_id = %visible(&message_id), "status update can never be shown");
            delivery.dead_letter(&reason).await
        }
    };
    if let Err(e) = settled {
        tracing::error!(
            action = "ack_failed",
            error = &e as &dyn std::error::Error,
            error_type = "BrokerError",
            "cannot settle a status update"
        );
    }
}

/// The update's line on stdout, and its log line.
fn print(update: &StatusUpdate, message_id: &str) {
    tracing::info!(action = "notification_received", order_number = %visible(&update.order_number), message_id = %visible(message_id), "status update");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line(update));
    let _ = out.flush();
}

/// `Notification for order ORD_…: Status changed from 'received' to 'cooking' by chef_mario.`
pub fn line(update: &StatusUpdate) -> String {
    let from = update.old_status.map(|s| s.as_str()).unwrap_or("none");
    // The number and the name come from a message: a control character in them must not
    // steer the reader's terminal or forge a line of its own.
    format!(
        "Notification for order {}: Status changed from '{}' to '{}' by {}.",
        visible(&update.order_number),
        from,
        update.new_status,
        visible(&update.changed_by)
    )
}

/// Remembers the last `capacity` updates by message id and by what they say, so a redelivered
/// copy is recognised even when it carries no id.
#[derive(Debug)]
pub struct Dedupe {
    seen: HashSet<String>,
    order: VecDeque<String>,
    capacity: usize,
}

impl Dedupe {
    pub fn new(capacity: usize) -> Dedupe {
        Dedupe {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// True the first time an update is seen.
    pub fn first_time(&mut self, message_id: Option<&str>, update: &StatusUpdate) -> bool {
        let content = format!(
            "{}|{:?}|{}|{}",
            update.order_number, update.old_status, update.new_status, update.changed_by
        );
        let keys: Vec<String> = message_id
            .map(|id| format!("id:{id}"))
            .into_iter()
            .chain(std::iter::once(content))
            .collect();
        if keys.iter().any(|k| self.seen.contains(k)) {
            return false;
        }
        for k in keys {
            self.seen.insert(k.clone());
            self.order.push_back(k);
        }
        while self.order.len() > self.capacity * 2 {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderStatus;
    use chrono::Utc;

    fn update(old: Option<OrderStatus>, new: OrderStatus) -> StatusUpdate {
        StatusUpdate {
            order_number: "ORD_20241216_001".into(),
            old_status: old,
            new_status: new,
            changed_by: "chef_mario".into(),
            timestamp: Utc::now(),
            estimated_completion: None,
        }
    }

    #[test]
    fn lines_read_as_the_contract_shows() {
        assert_eq!(
            line(&update(Some(OrderStatus::Received), OrderStatus::Cooking)),
            "Notification for order ORD_20241216_001: Status changed from 'received' to 'cooking' by chef_mario."
        );
        assert!(line(&update(None, OrderStatus::Received)).contains("from 'none' to 'received'"));
    }

    #[test]
    fn a_copy_is_dropped_by_id_or_by_content() {
        let mut d = Dedupe::new(100);
        let u = update(Some(OrderStatus::Received), OrderStatus::Cooking);
        assert!(d.first_time(Some("m1"), &u));
        assert!(!d.first_time(Some("m1"), &u));
        assert!(
            !d.first_time(Some("m2"), &u),
            "same update, new id: still a copy"
        );
        assert!(d.first_time(
            Some("m3"),
            &update(Some(OrderStatus::Cooking), OrderStatus::Ready)
        ));
    }

    #[test]
    fn memory_stays_bounded() {
        let mut d = Dedupe::new(10);
        for i in 0..1000 {
            let mut u = update(None, OrderStatus::Received);
            u.order_number = format!("ORD_{i}");
            d.first_time(Some(&i.to_string()), &u);
        }
        assert!(d.seen.len() <= 20);
    }
}
