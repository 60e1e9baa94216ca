//! The PostgreSQL adapter: the real deployment, many processes on many hosts.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgRow};
use sqlx::{QueryBuilder, Row};

use crate::domain::{NewOrder, ORDER_SERVICE, WorkerStatus, order_number_prefix};

use super::rows;
use super::{
    ClaimedMessage, HistoryEntry, OrderPage, OrderQuery, OrderRecord, OrderStamp, OrderState,
    OutboxStats, PlacedOrder, StatusChange, Store, StoreError, TransitionOutcome, WorkerRecord,
    WorkerRegistration, WriteMeta, interval_ms, outbox, parse_status,
};

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The relay's bookkeeping (claims, marks, releases) commits without waiting for its WAL
    /// flush: a crash may forget the last few, and a forgotten one only publishes a message
    /// again, which the contract allows and every consumer drops (CONTRACT §4). The order
    /// writes themselves stay durable; they no longer queue behind these flushes (issue #10).
    outbox_pool: PgPool,
    /// For readiness's own probe, apart from the pool.
    options: PgConnectOptions,
}

mod columns;
mod connect;
mod sql;

use columns::{ItemColumns, MessageColumns};
use sql::{
    BY_KEY, CLAIM, KITCHEN_BACKLOG, MARK_SENT, ORDER_COLUMNS, PLACE_ORDER, REGISTER_WORKER,
    RELEASE, TRANSITION, WORKER_SEEN,
};

impl PgStore {
    /// Orders with their items: one query for the orders, one for all their items.
    async fn records(&self, order_rows: Vec<PgRow>) -> Result<Vec<OrderRecord>, StoreError> {
        let ids: Vec<i32> = rows::order_ids(&order_rows)?
            .into_iter()
            .map(|id| i32::try_from(id).unwrap_or_default())
            .collect();
        let items = sqlx::query(
            "SELECT order_id, name, quantity, price, notes FROM order_items \
             WHERE order_id = ANY($1) ORDER BY id",
        )
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        rows::orders(&order_rows, rows::items_by_order(&items)?)
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.probe().await
    }

    async fn place_order(
        &self,
        order: &NewOrder,
        meta: &WriteMeta,
        key: Option<&str>,
    ) -> Result<PlacedOrder, StoreError> {
        // The number is only known inside the statement; the messages get it merged in there.
        let m = MessageColumns::of(&outbox::for_new_order(order, "", meta)?);
        let items = ItemColumns::of(order);
        let row = sqlx::query(PLACE_ORDER)
            .bind(meta.now.date_naive())
            .bind(meta.now)
            .bind(order_number_prefix(meta.now.date_naive()))
            .bind(&order.customer_name)
            .bind(order.order_type().as_str())
            .bind(order.destination.table_number().map(i32::from))
            .bind(order.destination.delivery_address())
            .bind(order.total().as_decimal())
            .bind(i32::from(order.priority()))
            .bind(items.names)
            .bind(items.quantities)
            .bind(items.prices)
            .bind(ORDER_SERVICE)
            .bind(meta.request_id.as_deref())
            .bind(m.ids)
            .bind(m.exchanges)
            .bind(m.routing_keys)
            .bind(m.priorities)
            .bind(m.payloads)
            .bind(key)
            .bind(order.notes.as_deref())
            .bind(items.notes)
            .fetch_optional(&self.pool)
            .await?;
        let row = match (row, key) {
            (Some(row), _) => row,
            (None, Some(key)) => sqlx::query(BY_KEY).bind(key).fetch_one(&self.pool).await?,
            (None, None) => {
                return Err(StoreError::Corrupt(
                    "placing an order wrote no order".into(),
                ));
            }
        };
        rows::placed(&row)
    }

    async fn order(&self, number: &str) -> Result<Option<OrderRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE number = $1"
        ))
        .bind(number)
        .fetch_all(&self.pool)
        .await?;
        Ok(self.records(rows).await?.pop())
    }

    async fn orders(&self, numbers: &[String]) -> Result<Vec<OrderRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE number = ANY($1)"
        ))
        .bind(numbers)
        .fetch_all(&self.pool)
        .await?;
        self.records(rows).await
    }

    async fn order_state(&self, number: &str) -> Result<Option<OrderState>, StoreError> {
        sqlx::query("SELECT status, processed_by FROM orders WHERE number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(rows::order_state)
            .transpose()
    }

    async fn history(&self, number: &str) -> Result<Option<Vec<HistoryEntry>>, StoreError> {
        let Some(id) = sqlx::query_scalar::<_, i32>("SELECT id FROM orders WHERE number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT status, changed_by, changed_at, notes FROM order_status_log \
             WHERE order_id = $1 ORDER BY changed_at, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(rows::history_entry)
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    async fn list_orders(&self, query: &OrderQuery) -> Result<OrderPage, StoreError> {
        let filter = |qb: &mut QueryBuilder<'_, sqlx::Postgres>| {
            qb.push(" WHERE TRUE");
            if !query.statuses.is_empty() {
                let statuses: Vec<String> = query
                    .statuses
                    .iter()
                    .map(|s| s.as_str().to_string())
                    .collect();
                qb.push(" AND status = ANY(").push_bind(statuses).push(")");
            }
            if let Some(t) = query.order_type {
                qb.push(" AND type = ").push_bind(t.as_str());
            }
        };
        let mut count = QueryBuilder::new("SELECT count(*) FROM orders");
        filter(&mut count);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;
        let mut page = QueryBuilder::new(format!("SELECT {ORDER_COLUMNS} FROM orders"));
        filter(&mut page);
        page.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(query.limit))
            .push(" OFFSET ")
            .push_bind(i64::try_from(query.offset).unwrap_or(i64::MAX));
        let rows = page.build().fetch_all(&self.pool).await?;
        Ok(OrderPage {
            orders: self.records(rows).await?,
            total: u64::try_from(total).unwrap_or_default(),
        })
    }

    async fn active_stamps(&self, limit: u32) -> Result<Vec<OrderStamp>, StoreError> {
        sqlx::query(
            "SELECT number, updated_at, rush FROM orders \
             WHERE status IN ('received', 'cooking', 'ready') ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(rows::stamp)
        .collect()
    }

    async fn finished(&self, limit: u32) -> Result<Vec<OrderRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE status IN ('completed', 'cancelled') \
             ORDER BY updated_at DESC, id DESC LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.records(rows).await
    }

    async fn set_rush(&self, number: &str, rush: bool) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE orders SET rush = $1 \
             WHERE number = $2 AND status IN ('received', 'cooking', 'ready')",
        )
        .bind(rush)
        .bind(number)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn transition(
        &self,
        number: &str,
        change: &StatusChange,
    ) -> Result<TransitionOutcome, StoreError> {
        let from: Vec<String> = change
            .transition
            .from()
            .iter()
            .map(|s| s.as_str().to_string())
            .collect();
        let message = outbox::for_transition(number, None, change)?;
        let row = sqlx::query(TRANSITION)
            .bind(number)
            .bind(change.transition.to().as_str())
            .bind(change.meta.now)
            .bind(change.processed_by())
            .bind(change.completed_at())
            .bind(&from)
            .bind(change.sets_estimate())
            .bind(change.estimated_completion)
            .bind(change.required_holder())
            .bind(&change.changed_by)
            .bind(change.notes.as_deref())
            .bind(&message.message_id)
            .bind(&message.exchange)
            .bind(message.payload.to_string())
            .bind(change.meta.request_id.as_deref())
            .bind(change.leaves_kitchen())
            .bind(crate::domain::ORDERS_EXCHANGE)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(TransitionOutcome::NotFound);
        };
        let current = parse_status(row.try_get("current")?)?;
        Ok(match row.try_get::<Option<String>, _>("old_status")? {
            Some(old) => TransitionOutcome::Applied {
                from: parse_status(&old)?,
                to: change.transition.to(),
                placed_at: row.try_get("created_at")?,
            },
            None => TransitionOutcome::Refused {
                current,
                processed_by: row.try_get("processed_by")?,
            },
        })
    }

    async fn workers(&self) -> Result<Vec<WorkerRecord>, StoreError> {
        sqlx::query(
            "SELECT name, type, status, last_seen, orders_processed, heartbeat_interval_ms \
             FROM workers ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(rows::worker)
        .collect()
    }

    #[cfg(feature = "test-support")]
    async fn unsent_messages(
        &self,
        limit: u32,
    ) -> Result<Vec<crate::store::OutboxMessage>, StoreError> {
        sqlx::query(
            "SELECT message_id, exchange, routing_key, priority, payload::text AS payload \
             FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(rows::outbox_message)
        .collect()
    }

    async fn claim_outbox(
        &self,
        claimant: &str,
        limit: u32,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Vec<ClaimedMessage>, StoreError> {
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        let rows = sqlx::query(CLAIM)
            .bind(claimant)
            .bind(until)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.outbox_pool)
            .await?;
        rows::claimed(&rows)
    }

    async fn mark_sent(&self, ids: &[i64], now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(MARK_SENT)
            .bind(ids)
            .bind(now)
            .bind(crate::domain::ORDERS_EXCHANGE)
            .execute(&self.outbox_pool)
            .await?;
        Ok(())
    }

    async fn release_claims(&self, claimant: &str) -> Result<(), StoreError> {
        sqlx::query(RELEASE)
            .bind(claimant)
            .execute(&self.outbox_pool)
            .await?;
        Ok(())
    }

    async fn compact_outbox(&self) -> Result<(), StoreError> {
        // A plain statement (no transaction block, which VACUUM refuses).
        sqlx::raw_sql("VACUUM (SKIP_LOCKED) outbox")
            .execute(&self.outbox_pool)
            .await?;
        Ok(())
    }

    async fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        let row = sqlx::query(outbox::STATS).fetch_one(&self.pool).await?;
        rows::outbox_stats(&row)
    }

    async fn kitchen_backlog(&self) -> Result<Vec<ClaimedMessage>, StoreError> {
        let rows = sqlx::query(KITCHEN_BACKLOG)
            .bind(crate::domain::ORDERS_EXCHANGE)
            .fetch_all(&self.pool)
            .await?;
        rows::backlog(&rows)
    }

    async fn register_worker(&self, worker: &WorkerRegistration) -> Result<bool, StoreError> {
        let registered = sqlx::query(REGISTER_WORKER)
            .bind(worker.now)
            .bind(&worker.name)
            .bind(worker.specialty.to_string())
            .bind(interval_ms(worker.heartbeat_interval))
            .bind(worker.replace)
            .fetch_optional(&self.pool)
            .await?;
        Ok(registered.is_some())
    }

    async fn worker_seen(
        &self,
        name: &str,
        status: WorkerStatus,
        finished: u32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(WORKER_SEEN)
            .bind(status.as_str())
            .bind(now)
            .bind(name)
            .bind(i64::from(finished))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
