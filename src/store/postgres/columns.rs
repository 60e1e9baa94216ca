//! An order's items and its outbox messages as the column arrays one statement unnests.

use crate::domain::NewOrder;
use crate::store::outbox::OutboxMessage;

/// An order's items as the column arrays `PLACE_ORDER` unnests.
pub(super) struct ItemColumns {
    pub(super) names: Vec<String>,
    pub(super) quantities: Vec<i32>,
    pub(super) prices: Vec<rust_decimal::Decimal>,
    pub(super) notes: Vec<Option<String>>,
}

impl ItemColumns {
    pub(super) fn of(order: &NewOrder) -> ItemColumns {
        let items = &order.items;
        ItemColumns {
            names: items.iter().map(|i| i.name.clone()).collect(),
            quantities: items.iter().map(|i| i.quantity as i32).collect(),
            prices: items.iter().map(|i| i.price.as_decimal()).collect(),
            notes: items.iter().map(|i| i.notes.clone()).collect(),
        }
    }
}

/// Outbox messages as the column arrays `PLACE_ORDER` unnests; the payloads without their
/// order number, which the statement merges in once it has made it.
pub(super) struct MessageColumns {
    pub(super) ids: Vec<String>,
    pub(super) exchanges: Vec<String>,
    pub(super) routing_keys: Vec<String>,
    pub(super) priorities: Vec<i16>,
    pub(super) payloads: Vec<String>,
}

impl MessageColumns {
    pub(super) fn of(messages: &[OutboxMessage]) -> MessageColumns {
        let without_number = |m: &OutboxMessage| {
            let mut payload = m.payload.clone();
            if let Some(obj) = payload.as_object_mut() {
                obj.remove("order_number");
            }
            payload.to_string()
        };
        MessageColumns {
            ids: messages.iter().map(|m| m.message_id.clone()).collect(),
            exchanges: messages.iter().map(|m| m.exchange.clone()).collect(),
            routing_keys: messages.iter().map(|m| m.routing_key.clone()).collect(),
            priorities: messages.iter().map(|m| i16::from(m.priority)).collect(),
            payloads: messages.iter().map(without_number).collect(),
        }
    }
}
