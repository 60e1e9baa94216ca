//! The messages a change writes into the outbox with itself (CONTRACT §4).

use serde_json::Value;
use uuid::Uuid;

use crate::domain::{
    NOTIFICATIONS_EXCHANGE, NewOrder, ORDER_SERVICE, ORDERS_EXCHANGE, OrderMessage, OrderStatus,
    StatusUpdate,
};

use super::{StatusChange, StoreError, WriteMeta};

/// How large the outbox is (`Store::outbox_stats`); the same text in both dialects.
pub const STATS: &str = "SELECT count(*) FILTER (WHERE sent_at IS NULL) AS unsent, \
         count(*) FILTER (WHERE sent_at IS NOT NULL) AS kept, \
         min(created_at) FILTER (WHERE sent_at IS NULL) AS oldest_unsent \
     FROM outbox";

/// One message waiting to be published.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub message_id: String,
    /// Logical exchange name; the broker adds its prefix.
    pub exchange: String,
    pub routing_key: String,
    pub priority: u8,
    pub payload: Value,
}

impl OutboxMessage {
    fn new(exchange: &'static str, routing_key: String, priority: u8, payload: Value) -> Self {
        OutboxMessage {
            message_id: Uuid::new_v4().to_string(),
            exchange: exchange.to_string(),
            routing_key,
            priority,
            payload,
        }
    }
}

/// The kitchen's order message and the first status update (`null → received`), with
/// `order_number` filled in by whoever knows it (the PostgreSQL adapter merges it in SQL).
pub fn for_new_order(
    order: &NewOrder,
    number: &str,
    meta: &WriteMeta,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let message = OrderMessage::for_order(order, number.to_string());
    let update = StatusUpdate {
        order_number: number.to_string(),
        old_status: None,
        new_status: OrderStatus::Received,
        changed_by: ORDER_SERVICE.to_string(),
        timestamp: meta.now,
        estimated_completion: None,
    };
    Ok(vec![
        OutboxMessage::new(
            ORDERS_EXCHANGE,
            message.routing_key(),
            message.priority,
            to_json(&message)?,
        ),
        OutboxMessage::new(NOTIFICATIONS_EXCHANGE, String::new(), 0, to_json(&update)?),
    ])
}

/// The status update announcing an applied transition; `from` is `None` when the adapter
/// merges `old_status` in itself (PostgreSQL learns it inside the statement).
pub fn for_transition(
    number: &str,
    from: Option<OrderStatus>,
    change: &StatusChange,
) -> Result<OutboxMessage, StoreError> {
    let update = StatusUpdate {
        order_number: number.to_string(),
        old_status: from,
        new_status: change.transition.to(),
        changed_by: change.changed_by.clone(),
        timestamp: change.meta.now,
        estimated_completion: change.estimated_completion,
    };
    Ok(OutboxMessage::new(
        NOTIFICATIONS_EXCHANGE,
        String::new(),
        0,
        to_json(&update)?,
    ))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, StoreError> {
    serde_json::to_value(value).map_err(|e| StoreError::Corrupt(format!("message body: {e}")))
}

/// Reads an outbox row's payload text back.
pub fn parse_payload(text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("outbox payload: {e}")))
}
