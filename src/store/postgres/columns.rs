//! Columns both ways: a row's columns read as the store's types, and an order's items and
//! its outbox messages as the column arrays one statement unnests.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::domain::{Money, NewOrder};
use crate::store::StoreError;
use crate::store::outbox::OutboxMessage;
use crate::store::rows::Columns;

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

impl Columns for PgRow {
    fn text(&self, col: &str) -> Result<String, StoreError> {
        Ok(self.try_get(col)?)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(col)?)
    }
    /// PostgreSQL integers come in three widths; each column decodes as its own.
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        if let Ok(v) = self.try_get::<Option<i32>, _>(col) {
            return Ok(v.map(i64::from));
        }
        if let Ok(v) = self.try_get::<Option<i16>, _>(col) {
            return Ok(v.map(i64::from));
        }
        Ok(self.try_get::<Option<i64>, _>(col)?)
    }
    fn money(&self, col: &str) -> Result<Money, StoreError> {
        Ok(Money::from_decimal(self.try_get::<Decimal, _>(col)?))
    }
    fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.try_get(col)?)
    }
    fn flag(&self, col: &str) -> Result<bool, StoreError> {
        Ok(self.try_get(col)?)
    }
}
