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
    match bounded(ch.queue_declare(name.clone(), durable, dead_letters::queue_arguments())).await {
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

/// The topology of CONTRACT §3 (idempotent: safe on every connect).
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
    let durable_q = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let priority = args(&[("x-max-priority", AMQPValue::LongInt(10))]);
    bounded(ch.exchange_declare(
        n(ORDERS_EXCHANGE),
        ExchangeKind::Topic,
        durable,
        FieldTable::default(),
    ))
    .await?;
    bounded(ch.exchange_declare(
        n(NOTIFICATIONS_EXCHANGE),
        ExchangeKind::Fanout,
        durable,
        FieldTable::default(),
    ))
    .await?;
    bounded(ch.exchange_declare(
        n(DEAD_LETTER_EXCHANGE),
        ExchangeKind::Fanout,
        durable,
        FieldTable::default(),
    ))
    .await?;
    for t in OrderType::ALL {
        let q = n(&kitchen_queue(t));
        bounded(ch.queue_declare(q.clone(), durable_q, priority.clone())).await?;
        bounded(ch.queue_bind(
            q,
            n(ORDERS_EXCHANGE),
            format!("kitchen.{t}.*").into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        ))
        .await?;
    }
    // Declared for compatibility and left unbound: every order lives in its type's queue only.
    bounded(ch.queue_declare(n("kitchen_queue"), durable_q, priority)).await?;
    let bounded_queue = args(&[
        (
            "x-max-length",
            AMQPValue::LongInt(NOTIFICATIONS_QUEUE_LIMIT),
        ),
        ("x-overflow", AMQPValue::LongString("drop-head".into())),
    ]);
    bounded(ch.queue_declare(n("notifications_queue"), durable_q, bounded_queue)).await?;
    bounded(ch.queue_bind(
        n("notifications_queue"),
        n(NOTIFICATIONS_EXCHANGE),
        "".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    ))
    .await?;
    declare_dead_letter_queue(conn, &n(DEAD_LETTER_QUEUE)).await?;
    bounded(ch.queue_bind(
        n(DEAD_LETTER_QUEUE),
        n(DEAD_LETTER_EXCHANGE),
        "".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    ))
    .await?;
    Ok(())
}
