//! The topology of CONTRACT §3, declared on every connect (idempotent).

use super::*;

pub(super) fn args(pairs: &[(&str, AMQPValue)]) -> FieldTable {
    let mut t = FieldTable::default();
    for (k, v) in pairs {
        t.insert((*k).into(), v.clone());
    }
    t
}

/// The bounded dead-letter queue. A queue declared unbounded by an older version keeps its
/// arguments (RabbitMQ refuses to change them, PRECONDITION_FAILED): it is used as it is, with
/// a warning that says how to bound it.
pub(super) async fn declare_dead_letter_queue(
    conn: &Connection,
    name: &ShortString,
) -> Result<(), BrokerError> {
    // Its own channel: a refusal closes the channel it happens on.
    let ch = bounded(conn.create_channel()).await?;
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    match bounded(ch.queue_declare(name.clone(), durable, capped(DEAD_LETTER_LIMIT))).await {
        Ok(_) => {
            let _ = ch.close(200, "OK".into()).await;
            Ok(())
        }
        Err(e) if e.to_string().contains("PRECONDITION_FAILED") => {
            tracing::warn!(action = "dead_letter_queue_unbounded", queue = %name, "the dead-letter queue was declared without a bound by an older version; it is used as it is (delete it while empty to have it bounded: rabbitmqctl delete_queue {name})");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// A queue that keeps at most `limit` messages, dropping the oldest first.
pub(super) fn capped(limit: u32) -> FieldTable {
    let limit = i32::try_from(limit).unwrap_or(i32::MAX);
    args(&[
        ("x-max-length", AMQPValue::LongInt(limit)),
        ("x-overflow", AMQPValue::LongString("drop-head".into())),
    ])
}

/// The topology of CONTRACT §3 (idempotent: safe on every connect): three exchanges, a queue per
/// order type bound to its routing keys, the compatible `kitchen_queue` (left unbound: every
/// order lives in its type's queue only), the bounded `notifications_queue`, and the bounded
/// dead-letter queue.
pub(super) async fn declare(
    conn: &Connection,
    ch: &Channel,
    prefix: &str,
) -> Result<(), BrokerError> {
    let n = |base: &str| -> ShortString { format!("{prefix}{base}").into() };
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    for (x, kind) in [
        (ORDERS_EXCHANGE, ExchangeKind::Topic),
        (NOTIFICATIONS_EXCHANGE, ExchangeKind::Fanout),
        (DEAD_LETTER_EXCHANGE, ExchangeKind::Fanout),
    ] {
        bounded(ch.exchange_declare(n(x), kind, durable, FieldTable::default())).await?;
    }
    let priority = args(&[("x-max-priority", AMQPValue::LongInt(10))]);
    for t in OrderType::ALL {
        let key = format!("kitchen.{t}.*");
        queue(
            ch,
            n(&kitchen_queue(t)),
            priority.clone(),
            Some((n(ORDERS_EXCHANGE), &key)),
        )
        .await?;
    }
    queue(ch, n("kitchen_queue"), priority, None).await?;
    let updates = capped(NOTIFICATIONS_QUEUE_LIMIT);
    queue(
        ch,
        n("notifications_queue"),
        updates,
        Some((n(NOTIFICATIONS_EXCHANGE), "")),
    )
    .await?;
    declare_dead_letter_queue(conn, &n(DEAD_LETTER_QUEUE)).await?;
    bind(ch, n(DEAD_LETTER_QUEUE), n(DEAD_LETTER_EXCHANGE), "").await
}

/// A durable queue, bound to `binding` (exchange, routing key) if given.
async fn queue(
    ch: &Channel,
    name: ShortString,
    arguments: FieldTable,
    binding: Option<(ShortString, &str)>,
) -> Result<(), BrokerError> {
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    bounded(ch.queue_declare(name.clone(), durable, arguments)).await?;
    match binding {
        Some((exchange, key)) => bind(ch, name, exchange, key).await,
        None => Ok(()),
    }
}

async fn bind(
    ch: &Channel,
    queue: ShortString,
    exchange: ShortString,
    key: &str,
) -> Result<(), BrokerError> {
    let options = QueueBindOptions::default();
    bounded(ch.queue_bind(queue, exchange, key.into(), options, FieldTable::default())).await?;
    Ok(())
}
