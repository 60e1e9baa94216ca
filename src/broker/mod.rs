//! Messaging (CONTRACT §3): one trait, an in-process bus for the embedded default
//! ([`memory::MemoryBus`]) and RabbitMQ for a real deployment.
//!
//! Topology decision: a kitchen order lands in exactly one queue, the queue of its type
//! (`kitchen_{type}_queue`, bound to `kitchen.{type}.*`). A specialised worker consumes the
//! queues of its types; a general worker consumes all three. So an order is never in two queues
//! (nothing piles up), a worker is never handed an order it cannot cook (no requeue loop), and
//! a delivery order waits untouched until a worker that cooks deliveries exists.

pub mod amqp;
pub mod memory;

use std::time::Duration;

/// The dead letters kept (CONTRACT §3: bounded); past it the oldest is dropped, with a log line.
pub const DEAD_LETTER_LIMIT: u32 = 10_000;

use async_trait::async_trait;
use tokio::sync::{mpsc, watch};

use crate::domain::OrderType;

/// A message to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Logical exchange name (`orders_topic`, `notifications_fanout`); adapters add the prefix.
    pub exchange: String,
    pub routing_key: String,
    pub priority: u8,
    pub message_id: String,
    pub request_id: Option<String>,
    pub body: Vec<u8>,
}

/// Whether the broker can be used right now; the console and readiness show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerStatus {
    Connected,
    Reconnecting,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum BrokerError {
    #[error("the broker is unavailable: {0}")]
    Unavailable(String),
    /// The client library failed under us (a lost connection, a closed channel); its error is
    /// kept as the source, so the JSON log line's `error.stack` names it.
    #[error("the broker is unavailable: {0}")]
    Failed(#[source] std::sync::Arc<dyn std::error::Error + Send + Sync>),
    #[error("the broker refused the message: {0}")]
    Refused(String),
}

#[async_trait]
pub trait Broker: Send + Sync + std::fmt::Debug {
    /// `memory` or `rabbitmq`.
    fn kind(&self) -> &'static str;

    fn status(&self) -> watch::Receiver<BrokerStatus>;

    /// Why the broker was last unreachable (the error's text), while it is.
    fn last_error(&self) -> Option<String> {
        None
    }

    /// Resolves, with the reason, if the broker refused this process for good (wrong
    /// credentials, a vhost that does not exist or is not allowed): trying again cannot help,
    /// so a headless process stops with it. Never resolves otherwise.
    async fn refused(&self) -> String {
        std::future::pending().await
    }

    /// Publishes and returns once the broker has confirmed (persistent, with its priority).
    async fn publish(&self, message: &Outgoing) -> Result<(), BrokerError>;

    /// Publishes every message, in order, with all their confirms outstanding at once (the
    /// relay's batch); one result per message, `Ok` only for those the broker confirmed.
    async fn publish_all(&self, messages: &[Outgoing]) -> Vec<Result<(), BrokerError>> {
        let mut results = Vec::with_capacity(messages.len());
        for m in messages {
            results.push(self.publish(m).await);
        }
        results
    }

    /// Kitchen orders of `types`, never more than `prefetch` unacknowledged at once.
    async fn consume_orders(
        &self,
        consumer: &str,
        types: &[OrderType],
        prefetch: u16,
    ) -> Result<Deliveries, BrokerError>;

    /// Every status update from now on, on a queue of this subscriber's own that goes away
    /// with it.
    async fn subscribe_updates(&self, subscriber: &str) -> Result<Deliveries, BrokerError>;

    /// Messages waiting in each kitchen queue and the dead-letter queue, by logical name
    /// (for `/metrics`).
    async fn queue_depths(&self) -> Result<Vec<(String, u64)>, BrokerError> {
        Ok(Vec::new())
    }

    /// Messages that could never be processed, with their reasons (oldest first); they stay.
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, BrokerError>;

    /// Sends the letter named `id` back where it was first published and removes it from the
    /// dead letters; `None` if no letter has that id.
    async fn replay_dead_letter(&self, id: &str) -> Result<Option<DeadLetter>, BrokerError>;

    /// Removes every dead letter; how many there were.
    async fn purge_dead_letters(&self) -> Result<u64, BrokerError>;
}

/// A message that could never be processed, as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The message's id (one is given at dead-lettering to a message that had none).
    pub id: String,
    pub request_id: Option<String>,
    /// Where it was published (logical name, without a prefix), so it can go back there.
    pub exchange: String,
    pub routing_key: String,
    pub priority: u8,
    pub body: Vec<u8>,
    pub reason: String,
}

impl DeadLetter {
    /// The letter as it was first published: what a replay sends again.
    pub fn outgoing(&self) -> Outgoing {
        Outgoing {
            exchange: self.exchange.clone(),
            routing_key: self.routing_key.clone(),
            priority: self.priority,
            message_id: self.id.clone(),
            request_id: self.request_id.clone(),
            body: self.body.clone(),
        }
    }
}

/// A stream of deliveries; dropping it stops consuming and hands back what was not acked.
pub struct Deliveries {
    rx: mpsc::Receiver<Delivery>,
}

impl Deliveries {
    pub fn new(rx: mpsc::Receiver<Delivery>) -> Deliveries {
        Deliveries { rx }
    }

    /// The next delivery; `None` once the broker side is gone.
    pub async fn next(&mut self) -> Option<Delivery> {
        self.rx.recv().await
    }

    /// A delivery already waiting here, if any (a stopping worker hands these back).
    pub fn try_next(&mut self) -> Option<Delivery> {
        self.rx.try_recv().ok()
    }
}

/// One message handed to one consumer, to be settled exactly once.
pub struct Delivery {
    pub body: Vec<u8>,
    pub message_id: Option<String>,
    pub request_id: Option<String>,
    /// The broker handed this message out before and it was not acknowledged.
    pub redelivered: bool,
    settle: Box<dyn Settle>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("message_id", &self.message_id)
            .field("redelivered", &self.redelivered)
            .field("bytes", &self.body.len())
            .finish()
    }
}

/// How an adapter settles a delivery. Dropping one unsettled must hand the message back.
#[async_trait]
pub trait Settle: Send {
    async fn ack(self: Box<Self>) -> Result<(), BrokerError>;
    /// Back to its queue after `delay` (a transient failure, or a graceful hand-back).
    async fn requeue(self: Box<Self>, delay: Duration) -> Result<(), BrokerError>;
    /// To the dead-letter queue with the reason; it never comes back by itself.
    async fn dead_letter(self: Box<Self>, reason: &str) -> Result<(), BrokerError>;
}

impl Delivery {
    pub fn new(
        body: Vec<u8>,
        message_id: Option<String>,
        request_id: Option<String>,
        redelivered: bool,
        settle: Box<dyn Settle>,
    ) -> Delivery {
        Delivery {
            body,
            message_id,
            request_id,
            redelivered,
            settle,
        }
    }

    pub async fn ack(self) -> Result<(), BrokerError> {
        self.settle.ack().await
    }

    pub async fn requeue(self, delay: Duration) -> Result<(), BrokerError> {
        self.settle.requeue(delay).await
    }

    pub async fn dead_letter(self, reason: &str) -> Result<(), BrokerError> {
        self.settle.dead_letter(reason).await
    }
}

/// The kitchen queue of an order type (before any prefix).
pub fn kitchen_queue(t: OrderType) -> String {
    format!("kitchen_{}_queue", t.as_str())
}

/// The order type a kitchen routing key (`kitchen.{type}.{priority}`) names.
pub fn routed_type(routing_key: &str) -> Option<OrderType> {
    let mut parts = routing_key.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("kitchen"), Some(t), Some(_), None) => t.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_keys_name_their_type_queue() {
        assert_eq!(routed_type("kitchen.dine_in.10"), Some(OrderType::DineIn));
        assert_eq!(routed_type("kitchen.pickup.1"), None);
        assert_eq!(routed_type("kitchen.dine_in"), None);
        assert_eq!(kitchen_queue(OrderType::Delivery), "kitchen_delivery_queue");
    }
}
