//! The rows an order's writes add, each under the caller's `BEGIN IMMEDIATE` transaction:
//! the day's number, the order and its items, its status log and its outbox messages.

use chrono::NaiveDate;
use sqlx::SqliteConnection;

use super::columns::ts;
use crate::domain::{NewOrder, ORDER_SERVICE, OrderStatus, order_number};
use crate::store::outbox::{self, OutboxMessage};
use crate::store::{StatusChange, StoreError, WriteMeta};

/// The day's next order number, from its counter row (under the caller's write lock).
pub(super) async fn next_number(
    tx: &mut SqliteConnection,
    day: NaiveDate,
) -> Result<String, StoreError> {
    let sequence: i64 = sqlx::query_scalar(
        "INSERT INTO order_counters (day, last_value) VALUES (?, 1) \
         ON CONFLICT (day) DO UPDATE SET last_value = last_value + 1 RETURNING last_value",
    )
    .bind(day.to_string())
    .fetch_one(&mut *tx)
    .await?;
    let sequence = u32::try_from(sequence)
        .map_err(|_| StoreError::Corrupt(format!("order counter {sequence}")))?;
    Ok(order_number(day, sequence))
}

/// The order's row; its id.
pub(super) async fn insert_order(
    tx: &mut SqliteConnection,
    order: &NewOrder,
    number: &str,
    now: &str,
    key: Option<&str>,
) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO orders (created_at, updated_at, number, customer_name, type, table_number, \
                             delivery_address, total_amount, priority, placement_key, notes) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(now)
    .bind(now)
    .bind(number)
    .bind(&order.customer_name)
    .bind(order.order_type().as_str())
    .bind(order.destination.table_number().map(i64::from))
    .bind(order.destination.delivery_address())
    .bind(order.total().to_string())
    .bind(i64::from(order.priority()))
    .bind(key)
    .bind(order.notes.as_deref())
    .fetch_one(&mut *tx)
    .await?;
    Ok(id)
}

pub(super) async fn insert_items(
    tx: &mut SqliteConnection,
    order: &NewOrder,
    order_id: i64,
    now: &str,
) -> Result<(), StoreError> {
    for item in &order.items {
        sqlx::query(
            "INSERT INTO order_items (created_at, order_id, name, quantity, price, notes) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(now)
        .bind(order_id)
        .bind(&item.name)
        .bind(i64::from(item.quantity))
        .bind(item.price.to_string())
        .bind(item.notes.as_deref())
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// One outbox message of the order `order_id`.
pub(super) async fn insert_outbox(
    tx: &mut SqliteConnection,
    message: &OutboxMessage,
    order_id: i64,
    meta: &WriteMeta,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (created_at, message_id, exchange, routing_key, priority, payload, \
                             request_id, order_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(ts(meta.now))
    .bind(&message.message_id)
    .bind(&message.exchange)
    .bind(&message.routing_key)
    .bind(i64::from(message.priority))
    .bind(message.payload.to_string())
    .bind(meta.request_id.as_deref())
    .bind(order_id)
    .execute(tx)
    .await?;
    Ok(())
}

/// The first line of an order's history: received, by the order service.
pub(super) async fn first_log_row(
    tx: &mut SqliteConnection,
    order_id: i64,
    now: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO order_status_log (created_at, order_id, status, changed_by, changed_at) \
         VALUES (?, ?, 'received', ?, ?)",
    )
    .bind(now)
    .bind(order_id)
    .bind(ORDER_SERVICE)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A transition the caller checked: the order's new status, its log row, its status-update
/// message, and, when it leaves the kitchen, its kitchen message gone from the outbox.
pub(super) async fn transition(
    tx: &mut SqliteConnection,
    id: i64,
    number: &str,
    old: OrderStatus,
    change: &StatusChange,
) -> Result<(), StoreError> {
    let now = ts(change.meta.now);
    sqlx::query(
        "UPDATE orders SET status = ?, updated_at = ?, \
             processed_by = COALESCE(?, processed_by), completed_at = COALESCE(?, completed_at), \
             estimated_completion = CASE WHEN ? THEN ? ELSE estimated_completion END \
         WHERE id = ?",
    )
    .bind(change.transition.to().as_str())
    .bind(&now)
    .bind(change.processed_by())
    .bind(change.completed_at().map(ts))
    .bind(change.sets_estimate())
    .bind(change.estimated_completion.map(ts))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO order_status_log (created_at, order_id, status, changed_by, changed_at, notes) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&now)
    .bind(id)
    .bind(change.transition.to().as_str())
    .bind(&change.changed_by)
    .bind(&now)
    .bind(change.notes.as_deref())
    .execute(&mut *tx)
    .await?;
    let message = outbox::for_transition(number, Some(old), change)?;
    insert_outbox(tx, &message, id, &change.meta).await?;
    if change.leaves_kitchen() {
        sqlx::query("DELETE FROM outbox WHERE order_id = ? AND exchange = ?")
            .bind(id)
            .bind(crate::domain::ORDERS_EXCHANGE)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
