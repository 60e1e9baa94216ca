//! The dead-letter queue on RabbitMQ (CONTRACT §3): bounded, each letter kept with its reason,
//! its id and where it came from, so that an operator can list it, send it back once the cause
//! is fixed, or purge the queue (`restaurant-tui dead-letters`).

use lapin::options::{BasicAckOptions, BasicGetOptions, QueueDeclareOptions, QueuePurgeOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Channel};

use super::{AmqpBroker, REASON_HEADER, REQUEST_ID_HEADER, bounded, header};
use crate::broker::{BrokerError, DEAD_LETTER_LIMIT, DeadLetter};

pub(super) const DEAD_LETTER_EXCHANGE: &str = "dead_letters";
pub(super) const DEAD_LETTER_QUEUE: &str = "dead_letter_queue";
const EXCHANGE_HEADER: &str = "x-original-exchange";
const ROUTING_KEY_HEADER: &str = "x-original-routing-key";

/// What a dead letter carries: the message's own id (or a new one, so every letter can be named),
/// priority and request id, where it was published, and why it died.
pub(super) fn letter_properties(
    d: &lapin::message::Delivery,
    prefix: &str,
    reason: &str,
) -> BasicProperties {
    let mut headers = d.properties.headers().clone().unwrap_or_default();
    let text = |s: &str| AMQPValue::LongString(LongString::from(s.to_string()));
    headers.insert(REASON_HEADER.into(), text(reason));
    let exchange = d.exchange.as_str();
    let logical = exchange.strip_prefix(prefix).unwrap_or(exchange);
    headers.insert(EXCHANGE_HEADER.into(), text(logical));
    headers.insert(ROUTING_KEY_HEADER.into(), text(d.routing_key.as_str()));
    let id = d
        .properties
        .message_id()
        .as_ref()
        .map(|i| i.to_string())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    BasicProperties::default()
        .with_delivery_mode(2)
        .with_message_id(id.into())
        .with_priority(d.properties.priority().unwrap_or(0))
        .with_content_type("application/json".into())
        .with_headers(headers)
}

fn letter(m: &lapin::message::BasicGetMessage) -> DeadLetter {
    let p = &m.delivery.properties;
    DeadLetter {
        id: p
            .message_id()
            .as_ref()
            .map(|i| i.to_string())
            .unwrap_or_default(),
        request_id: header(p, REQUEST_ID_HEADER),
        exchange: header(p, EXCHANGE_HEADER).unwrap_or_default(),
        routing_key: header(p, ROUTING_KEY_HEADER).unwrap_or_default(),
        priority: p.priority().unwrap_or(0),
        body: m.delivery.data.clone(),
        reason: header(p, REASON_HEADER).unwrap_or_default(),
    }
}

impl AmqpBroker {
    async fn admin_channel(&self) -> Result<Channel, BrokerError> {
        bounded(self.link().await?.conn.create_channel()).await
    }

    /// Letters in the queue now (passive declare).
    pub(super) async fn dead_letter_count(&self) -> Result<u32, BrokerError> {
        let ch = self.admin_channel().await?;
        let passive = QueueDeclareOptions {
            passive: true,
            ..Default::default()
        };
        let q = bounded(ch.queue_declare(
            self.name(DEAD_LETTER_QUEUE).into(),
            passive,
            FieldTable::default(),
        ))
        .await?;
        let _ = ch.close(200, "OK".into()).await;
        Ok(q.message_count())
    }

    /// Takes up to `limit` letters without settling them; closing the channel hands them back.
    async fn take(
        &self,
        ch: &Channel,
        limit: usize,
    ) -> Result<Vec<lapin::message::BasicGetMessage>, BrokerError> {
        let mut taken = Vec::new();
        while taken.len() < limit {
            let got = bounded(ch.basic_get(
                self.name(DEAD_LETTER_QUEUE).into(),
                BasicGetOptions::default(),
            ))
            .await?;
            match got {
                Some(m) => taken.push(m),
                None => break,
            }
        }
        Ok(taken)
    }

    pub(super) async fn list_dead_letters(
        &self,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, BrokerError> {
        let ch = self.admin_channel().await?;
        let taken = self.take(&ch, limit).await?;
        let letters = taken.iter().map(letter).collect();
        let _ = ch.close(200, "peeked".into()).await; // unacked: all go back to the queue
        Ok(letters)
    }

    /// Publishes the letter named `id` back where it was first published, then removes it.
    pub(super) async fn replay(&self, id: &str) -> Result<Option<DeadLetter>, BrokerError> {
        let ch = self.admin_channel().await?;
        let taken = self.take(&ch, DEAD_LETTER_LIMIT as usize).await?;
        let found = taken.iter().find(|m| letter(m).id == id);
        let result = match found {
            None => Ok(None),
            Some(m) => {
                let l = letter(m);
                if l.exchange.is_empty() {
                    Err(BrokerError::Refused(format!(
                        "dead letter {id} does not say where it came from (dead-lettered by an \
                         older version); it stays in the queue"
                    )))
                } else {
                    let back = l.outgoing();
                    self.publish_to(
                        &back.exchange,
                        &back.routing_key,
                        super::properties(&back),
                        &back.body,
                    )
                    .await?;
                    bounded(ch.basic_ack(m.delivery.delivery_tag, BasicAckOptions::default()))
                        .await?;
                    Ok(Some(l))
                }
            }
        };
        // Every other letter goes back to the queue.
        for m in taken.iter().filter(|m| letter(m).id != id) {
            let back = super::consume::requeue();
            let _ = ch.basic_nack(m.delivery.delivery_tag, back).await;
        }
        let _ = ch.close(200, "replayed".into()).await;
        result
    }

    pub(super) async fn purge(&self) -> Result<u64, BrokerError> {
        let ch = self.admin_channel().await?;
        let purged = bounded(ch.queue_purge(
            self.name(DEAD_LETTER_QUEUE).into(),
            QueuePurgeOptions::default(),
        ))
        .await?;
        let _ = ch.close(200, "purged".into()).await;
        Ok(u64::from(purged))
    }
}
