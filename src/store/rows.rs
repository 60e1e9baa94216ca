//! Reading rows into records, once for both adapters. The adapters differ only in how a column
//! decodes (SQLite keeps money and times as text), which [`Columns`] hides.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::Money;

use super::{
    ClaimedMessage, HistoryEntry, ItemRecord, OrderRecord, OrderStamp, OrderState, OutboxMessage,
    OutboxStats, StoreError, WorkerRecord, outbox, parse_status, parse_type, to_u8,
};

/// Typed access to one row's columns.
pub(super) trait Columns {
    fn text(&self, col: &str) -> Result<String, StoreError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError>;
    fn money(&self, col: &str) -> Result<Money, StoreError>;
    fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
    fn flag(&self, col: &str) -> Result<bool, StoreError>;

    fn int(&self, col: &str) -> Result<i64, StoreError> {
        self.opt_int(col)?
            .ok_or_else(|| StoreError::Corrupt(format!("{col} is null")))
    }

    fn time(&self, col: &str) -> Result<DateTime<Utc>, StoreError> {
        self.opt_time(col)?
            .ok_or_else(|| StoreError::Corrupt(format!("{col} is null")))
    }
}

/// A stored integer that must fit a byte (a table number, a priority); a row that does not is
/// corrupt, said with `what`.
fn byte(n: Option<i64>, what: &str) -> Result<Option<u8>, StoreError> {
    to_u8(n.map(|n| i32::try_from(n).unwrap_or(i32::MAX)), what)
}

pub(super) fn item(row: &impl Columns) -> Result<(i64, ItemRecord), StoreError> {
    let quantity = row.int("quantity")?;
    Ok((
        row.int("order_id")?,
        ItemRecord {
            name: row.text("name")?,
            quantity: u32::try_from(quantity)
                .map_err(|_| StoreError::Corrupt(format!("quantity {quantity}")))?,
            price: row.money("price")?,
            notes: row.opt_text("notes")?,
        },
    ))
}

/// Items grouped by order id, in the order the rows came.
pub(super) fn items_by_order<R: Columns>(
    rows: &[R],
) -> Result<HashMap<i64, Vec<ItemRecord>>, StoreError> {
    let mut by_order: HashMap<i64, Vec<ItemRecord>> = HashMap::new();
    for row in rows {
        let (order_id, item) = item(row)?;
        by_order.entry(order_id).or_default().push(item);
    }
    Ok(by_order)
}

pub(super) fn order_ids<R: Columns>(rows: &[R]) -> Result<Vec<i64>, StoreError> {
    rows.iter().map(|r| r.int("id")).collect()
}

/// Orders with their items, in the order of `rows`.
pub(super) fn orders<R: Columns>(
    rows: &[R],
    mut items: HashMap<i64, Vec<ItemRecord>>,
) -> Result<Vec<OrderRecord>, StoreError> {
    rows.iter()
        .map(|row| {
            let items = items.remove(&row.int("id")?).unwrap_or_default();
            order(row, items)
        })
        .collect()
}

fn order(row: &impl Columns, items: Vec<ItemRecord>) -> Result<OrderRecord, StoreError> {
    Ok(OrderRecord {
        number: row.text("number")?,
        customer_name: row.text("customer_name")?,
        order_type: parse_type(&row.text("type")?)?,
        table_number: byte(row.opt_int("table_number")?, "table number")?,
        delivery_address: row.opt_text("delivery_address")?,
        items,
        total: row.money("total_amount")?,
        priority: byte(Some(row.int("priority")?), "priority")?.unwrap_or(1),
        status: parse_status(&row.text("status")?)?,
        processed_by: row.opt_text("processed_by")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        completed_at: row.opt_time("completed_at")?,
        estimated_completion: row.opt_time("estimated_completion")?,
        notes: row.opt_text("notes")?,
        rush: row.flag("rush")?,
    })
}

/// What a placement answers: the new order, or the one its key already made.
pub(super) fn placed(row: &impl Columns) -> Result<super::PlacedOrder, StoreError> {
    Ok(super::PlacedOrder {
        number: row.text("number")?,
        total: row.money("total_amount")?,
        priority: byte(Some(row.int("priority")?), "priority")?.unwrap_or(1),
        replayed: row.flag("replayed")?,
    })
}

pub(super) fn order_state(row: &impl Columns) -> Result<OrderState, StoreError> {
    Ok(OrderState {
        status: parse_status(&row.text("status")?)?,
        processed_by: row.opt_text("processed_by")?,
    })
}

pub(super) fn history_entry(row: &impl Columns) -> Result<HistoryEntry, StoreError> {
    Ok(HistoryEntry {
        status: parse_status(&row.text("status")?)?,
        changed_by: row.opt_text("changed_by")?,
        changed_at: row.time("changed_at")?,
        notes: row.opt_text("notes")?,
    })
}

pub(super) fn worker(row: &impl Columns) -> Result<WorkerRecord, StoreError> {
    let interval_ms = row.int("heartbeat_interval_ms")?;
    Ok(WorkerRecord {
        name: row.text("name")?,
        order_types: row.text("type")?.parse().map_err(|_| {
            StoreError::Corrupt(format!(
                "worker {:?}: unknown order types",
                row.text("name")
            ))
        })?,
        status: row
            .text("status")?
            .parse()
            .map_err(|e: crate::domain::UnknownValue| {
                StoreError::Corrupt(format!("unknown worker status {:?}", e.0))
            })?,
        last_seen: row.time("last_seen")?,
        orders_processed: row.int("orders_processed")?,
        heartbeat_interval: Duration::from_millis(u64::try_from(interval_ms).unwrap_or(30_000)),
    })
}

pub(super) fn outbox_message(row: &impl Columns) -> Result<OutboxMessage, StoreError> {
    Ok(OutboxMessage {
        message_id: row.text("message_id")?,
        exchange: row.text("exchange")?,
        routing_key: row.text("routing_key")?,
        priority: byte(Some(row.int("priority")?), "priority")?.unwrap_or_default(),
        payload: outbox::parse_payload(&row.text("payload")?)?,
    })
}

pub(super) fn stamp(row: &impl Columns) -> Result<OrderStamp, StoreError> {
    Ok(OrderStamp {
        number: row.text("number")?,
        updated_at: row.time("updated_at")?,
        rush: row.flag("rush")?,
    })
}

pub(super) fn outbox_stats(row: &impl Columns) -> Result<OutboxStats, StoreError> {
    let count = |col| row.int(col).map(|n| u64::try_from(n).unwrap_or_default());
    Ok(OutboxStats {
        unsent: count("unsent")?,
        kept: count("kept")?,
        oldest_unsent: row.opt_time("oldest_unsent")?,
    })
}

/// Leased outbox rows, oldest first.
pub(super) fn claimed<R: Columns>(rows: &[R]) -> Result<Vec<ClaimedMessage>, StoreError> {
    let mut claimed = backlog(rows)?;
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

/// Outbox rows in the order the query gave them.
pub(super) fn backlog<R: Columns>(rows: &[R]) -> Result<Vec<ClaimedMessage>, StoreError> {
    rows.iter()
        .map(|row| {
            Ok(ClaimedMessage {
                id: row.int("id")?,
                message: outbox_message(row)?,
                request_id: row.opt_text("request_id")?,
            })
        })
        .collect()
}
