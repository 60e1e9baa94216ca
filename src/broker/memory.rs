//! The in-process bus of the embedded default: the same exchanges, routing, priorities,
//! prefetch, ack/requeue and dead-lettering as RabbitMQ, inside one process (never more).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, watch};

use super::{
    Broker, BrokerError, BrokerStatus, DeadLetter, Deliveries, Delivery, Outgoing, Settle,
    kitchen_queue, routed_type,
};
use crate::domain::{NOTIFICATIONS_EXCHANGE, ORDERS_EXCHANGE, OrderType};

/// A subscriber that stops reading loses its oldest updates beyond this, instead of growing.
const SUBSCRIBER_QUEUE_LIMIT: usize = 10_000;
/// Dead letters kept for inspection.
const DEAD_LETTER_LIMIT: usize = super::DEAD_LETTER_LIMIT as usize;

#[derive(Debug, Clone)]
pub struct MemoryBus {
    inner: Arc<Inner>,
    status: Arc<watch::Sender<BrokerStatus>>,
}

#[derive(Debug, Default)]
struct Inner {
    state: Mutex<State>,
    /// Woken on every message made ready, so idle consumers wait without polling.
    ready: Notify,
}

#[derive(Debug, Default)]
struct State {
    queues: HashMap<String, Queue>,
    seq: u64,
    dead: VecDeque<DeadLetter>,
}

#[derive(Debug, Default)]
struct Queue {
    ready: BinaryHeap<Ready>,
    /// A subscriber's own queue, bound to the notifications fanout.
    subscriber: bool,
}

#[derive(Debug, Clone)]
struct Message {
    body: Vec<u8>,
    message_id: Option<String>,
    request_id: Option<String>,
    priority: u8,
    redelivered: bool,
}

/// Highest priority first, then first in, first out.
#[derive(Debug)]
struct Ready {
    seq: u64,
    message: Message,
}

impl Ord for Ready {
    fn cmp(&self, other: &Self) -> Ordering {
        self.message
            .priority
            .cmp(&other.message.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}
impl PartialOrd for Ready {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Ready {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}
impl Eq for Ready {}

impl Default for MemoryBus {
    fn default() -> Self {
        MemoryBus::new()
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, queue: &str, message: Message) {
        let mut state = self.lock();
        state.seq += 1;
        let seq = state.seq;
        let q = state.queues.entry(queue.to_string()).or_default();
        q.ready.push(Ready { seq, message });
        if q.subscriber && q.ready.len() > SUBSCRIBER_QUEUE_LIMIT {
            // Drop the oldest: rebuild without the lowest sequence number.
            let oldest = q.ready.iter().map(|r| r.seq).min();
            q.ready.retain(|r| Some(r.seq) != oldest);
        }
        drop(state);
        self.ready.notify_waiters();
    }

    /// The best ready message among `queues`: highest priority, then oldest.
    fn pop_best(&self, queues: &[String]) -> Option<(String, Message)> {
        let mut state = self.lock();
        let best = queues
            .iter()
            .filter_map(|name| {
                state
                    .queues
                    .get(name)
                    .and_then(|q| q.ready.peek())
                    .map(|r| (name, r))
            })
            .max_by(|a, b| a.1.cmp(b.1))
            .map(|(name, _)| name.clone())?;
        let ready = state.queues.get_mut(&best)?.ready.pop()?;
        Some((best, ready.message))
    }

    /// Keeps the letter with where it came from (its queue says: a kitchen queue, or a
    /// subscriber's), dropping the oldest past the bound with a log line.
    fn dead_letter(&self, queue: &str, message: Message, reason: &str) {
        let (exchange, routing_key) =
            match OrderType::ALL.iter().find(|t| kitchen_queue(**t) == queue) {
                Some(t) => (ORDERS_EXCHANGE, format!("kitchen.{t}.{}", message.priority)),
                None => (NOTIFICATIONS_EXCHANGE, String::new()),
            };
        let mut state = self.lock();
        state.dead.push_back(DeadLetter {
            id: message
                .message_id
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            request_id: message.request_id,
            exchange: exchange.into(),
            routing_key,
            priority: message.priority,
            body: message.body,
            reason: reason.to_string(),
        });
        while state.dead.len() > DEAD_LETTER_LIMIT {
            state.dead.pop_front();
            tracing::warn!(
                action = "dead_letter_dropped",
                limit = DEAD_LETTER_LIMIT,
                "the dead-letter queue is full: the oldest letter is dropped to keep this one"
            );
        }
    }
}

impl MemoryBus {
    /// Queues a kitchen message again as a new bus starts: one that a bus of an earlier run
    /// held when its process ended (CONTRACT §3). `redelivered` tells a cook that finds the
    /// order `cooking` that its cook is gone, so it may take it over.
    pub fn restore(&self, outgoing: &Outgoing, redelivered: bool) -> Result<(), BrokerError> {
        self.route(outgoing, redelivered)
    }

    fn route(&self, outgoing: &Outgoing, redelivered: bool) -> Result<(), BrokerError> {
        let message = Message {
            body: outgoing.body.clone(),
            message_id: Some(outgoing.message_id.clone()),
            request_id: outgoing.request_id.clone(),
            priority: outgoing.priority.min(10),
            redelivered,
        };
        match outgoing.exchange.as_str() {
            ORDERS_EXCHANGE => match routed_type(&outgoing.routing_key) {
                Some(t) => self.inner.push(&kitchen_queue(t), message),
                // As on RabbitMQ, a message no binding matches is dropped.
                None => {
                    tracing::warn!(action = "message_unroutable", routing_key = %outgoing.routing_key, "no queue for this routing key")
                }
            },
            NOTIFICATIONS_EXCHANGE => {
                let subscribers: Vec<String> = self
                    .inner
                    .lock()
                    .queues
                    .iter()
                    .filter(|(_, q)| q.subscriber)
                    .map(|(name, _)| name.clone())
                    .collect();
                for name in subscribers {
                    self.inner.push(&name, message.clone());
                }
            }
            other => return Err(BrokerError::Refused(format!("no exchange {other:?}"))),
        }
        Ok(())
    }

    pub fn new() -> MemoryBus {
        let (status, _) = watch::channel(BrokerStatus::Connected);
        MemoryBus {
            inner: Arc::new(Inner::default()),
            status: Arc::new(status),
        }
    }

    /// Hands ready messages from `queues` to a new consumer, at most `prefetch` unsettled.
    fn consume(&self, queues: Vec<String>, prefetch: u16, remove_on_close: bool) -> Deliveries {
        let prefetch = usize::from(prefetch.max(1));
        let (tx, rx) = mpsc::channel(prefetch);
        let inner = self.inner.clone();
        let permits = Arc::new(Semaphore::new(prefetch));
        tokio::spawn(async move {
            'consumer: loop {
                let permit = tokio::select! {
                    p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
                    () = tx.closed() => break,
                };
                let (queue, message) = loop {
                    let ready = inner.ready.notified();
                    tokio::pin!(ready);
                    ready.as_mut().enable();
                    if let Some(found) = inner.pop_best(&queues) {
                        break found;
                    }
                    tokio::select! {
                        () = &mut ready => {}
                        () = tx.closed() => break 'consumer,
                    }
                };
                let delivery = Delivery::new(
                    message.body.clone(),
                    message.message_id.clone(),
                    message.request_id.clone(),
                    message.redelivered,
                    Box::new(MemorySettle {
                        inner: inner.clone(),
                        queue,
                        message: Some(message),
                        _permit: permit,
                    }),
                );
                // If the consumer is gone, the delivery drops here and goes back to its queue.
                if tx.send(delivery).await.is_err() {
                    break;
                }
            }
            if remove_on_close {
                let mut state = inner.lock();
                for q in &queues {
                    state.queues.remove(q);
                }
            }
        });
        Deliveries::new(rx)
    }
}

struct MemorySettle {
    inner: Arc<Inner>,
    queue: String,
    message: Option<Message>,
    /// Held until the delivery is settled: this is what bounds a consumer to its prefetch.
    _permit: OwnedSemaphorePermit,
}

#[async_trait]
impl Settle for MemorySettle {
    async fn ack(mut self: Box<Self>) -> Result<(), BrokerError> {
        self.message = None;
        Ok(())
    }

    async fn requeue(mut self: Box<Self>, delay: Duration) -> Result<(), BrokerError> {
        if let Some(mut message) = self.message.take() {
            message.redelivered = true;
            let inner = self.inner.clone();
            let queue = self.queue.clone();
            if delay.is_zero() {
                inner.push(&queue, message);
            } else {
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    inner.push(&queue, message);
                });
            }
        }
        Ok(())
    }

    async fn dead_letter(mut self: Box<Self>, reason: &str) -> Result<(), BrokerError> {
        if let Some(message) = self.message.take() {
            self.inner.dead_letter(&self.queue, message, reason);
        }
        Ok(())
    }
}

impl Drop for MemorySettle {
    /// Unsettled when dropped (a consumer stopped or crashed): back to the queue, as a closed
    /// AMQP channel would do.
    fn drop(&mut self) {
        if let Some(mut message) = self.message.take() {
            message.redelivered = true;
            self.inner.push(&self.queue, message);
        }
    }
}

#[async_trait]
impl Broker for MemoryBus {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn status(&self) -> watch::Receiver<BrokerStatus> {
        self.status.subscribe()
    }

    async fn publish(&self, outgoing: &Outgoing) -> Result<(), BrokerError> {
        self.route(outgoing, false)
    }

    async fn consume_orders(
        &self,
        _consumer: &str,
        types: &[OrderType],
        prefetch: u16,
    ) -> Result<Deliveries, BrokerError> {
        let queues = types.iter().map(|t| kitchen_queue(*t)).collect();
        Ok(self.consume(queues, prefetch, false))
    }

    async fn subscribe_updates(&self, subscriber: &str) -> Result<Deliveries, BrokerError> {
        let name = format!(
            "notifications.{subscriber}.{}",
            uuid::Uuid::new_v4().simple()
        );
        self.inner.lock().queues.insert(
            name.clone(),
            Queue {
                ready: BinaryHeap::new(),
                subscriber: true,
            },
        );
        Ok(self.consume(vec![name], 256, true))
    }

    async fn queue_depths(&self) -> Result<Vec<(String, u64)>, BrokerError> {
        let state = self.inner.lock();
        let mut depths: Vec<(String, u64)> = OrderType::ALL
            .iter()
            .map(|t| {
                let q = kitchen_queue(*t);
                let n = state.queues.get(&q).map_or(0, |q| q.ready.len());
                (q, n as u64)
            })
            .collect();
        depths.push(("dead_letter_queue".into(), state.dead.len() as u64));
        Ok(depths)
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, BrokerError> {
        Ok(self.inner.lock().dead.iter().take(limit).cloned().collect())
    }

    async fn replay_dead_letter(&self, id: &str) -> Result<Option<DeadLetter>, BrokerError> {
        let letter = {
            let mut state = self.inner.lock();
            let at = state.dead.iter().position(|l| l.id == id);
            at.and_then(|i| state.dead.remove(i))
        };
        if let Some(l) = &letter {
            self.route(&l.outgoing(), false)?;
        }
        Ok(letter)
    }

    async fn purge_dead_letters(&self) -> Result<u64, BrokerError> {
        let mut state = self.inner.lock();
        let n = state.dead.len() as u64;
        state.dead.clear();
        Ok(n)
    }
}
