//! The SQLite adapter: the embedded default, one file under the user's data directory.
//! Every write runs in `BEGIN IMMEDIATE`, so a transaction that reads before it writes waits
//! for the write lock up front instead of failing with `SQLITE_BUSY` halfway.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{QueryBuilder, Row};

use crate::domain::{NewOrder, WorkerStatus};

use super::lock::DataLock;
use super::rows;
use super::{
    ClaimedMessage, HistoryEntry, OrderPage, OrderQuery, OrderRecord, OrderStamp, OrderState,
    OutboxStats, PlacedOrder, StatusChange, Store, StoreError, TransitionOutcome, WorkerRecord,
    WorkerRegistration, WriteMeta, interval_ms, outbox, parse_status,
};

mod columns;
mod open;
mod sql;
mod writes;

use columns::{parse_ts, ts};
use sql::{CLAIM, KITCHEN_BACKLOG, ORDER_COLUMNS, REGISTER_WORKER, RELEASE, WORKER_SEEN};

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// This process's hold on the file, for as long as any clone of the store lives.
    _lock: Arc<DataLock>,
}

impl SqliteStore {
    /// Orders with their items: one query for the orders, one for all their items.
    async fn records(&self, order_rows: Vec<SqliteRow>) -> Result<Vec<OrderRecord>, StoreError> {
        let ids = rows::order_ids(&order_rows)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::new(
            "SELECT order_id, name, quantity, price, notes FROM order_items WHERE order_id IN (",
        );
        let mut list = qb.separated(", ");
        for id in ids {
            list.push_bind(id);
        }
        qb.push(") ORDER BY id");
        let items = qb.build().fetch_all(&self.pool).await?;
        rows::orders(&order_rows, rows::items_by_order(&items)?)
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn place_order(
        &self,
        order: &NewOrder,
        meta: &WriteMeta,
        key: Option<&str>,
    ) -> Result<PlacedOrder, StoreError> {
        let now = ts(meta.now);
        let day = meta.now.date_naive();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // Under the write lock, so two placements with one key cannot both miss it.
        if let Some(key) = key {
            let existing = sqlx::query(
                "SELECT number, total_amount, priority, 1 AS replayed FROM orders \
                 WHERE placement_key = ?",
            )
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = existing {
                return rows::placed(&row);
            }
        }
        let number = writes::next_number(&mut tx, day).await?;
        let order_id = writes::insert_order(&mut tx, order, &number, &now, key).await?;
        writes::insert_items(&mut tx, order, order_id, &now).await?;
        writes::first_log_row(&mut tx, order_id, &now).await?;
        for message in outbox::for_new_order(order, &number, meta)? {
            writes::insert_outbox(&mut tx, &message, order_id, meta).await?;
        }
        tx.commit().await?;
        Ok(PlacedOrder {
            number,
            total: order.total(),
            priority: order.priority(),
            replayed: false,
        })
    }

    async fn order(&self, number: &str) -> Result<Option<OrderRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE number = ?"
        ))
        .bind(number)
        .fetch_all(&self.pool)
        .await?;
        Ok(self.records(rows).await?.pop())
    }

    async fn orders(&self, numbers: &[String]) -> Result<Vec<OrderRecord>, StoreError> {
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::new(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE number IN ("
        ));
        let mut list = qb.separated(", ");
        for n in numbers {
            list.push_bind(n);
        }
        qb.push(")");
        let rows = qb.build().fetch_all(&self.pool).await?;
        self.records(rows).await
    }

    async fn order_state(&self, number: &str) -> Result<Option<OrderState>, StoreError> {
        sqlx::query("SELECT status, processed_by FROM orders WHERE number = ?")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(rows::order_state)
            .transpose()
    }

    async fn history(&self, number: &str) -> Result<Option<Vec<HistoryEntry>>, StoreError> {
        let Some(id) = sqlx::query_scalar::<_, i64>("SELECT id FROM orders WHERE number = ?")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT status, changed_by, changed_at, notes FROM order_status_log \
             WHERE order_id = ? ORDER BY changed_at, id",
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
        let filter = |qb: &mut QueryBuilder<'_, sqlx::Sqlite>| {
            qb.push(" WHERE 1 = 1");
            if !query.statuses.is_empty() {
                qb.push(" AND status IN (");
                let mut list = qb.separated(", ");
                for s in &query.statuses {
                    list.push_bind(s.as_str());
                }
                qb.push(")");
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
             WHERE status IN ('received', 'cooking', 'ready') ORDER BY id DESC LIMIT ?",
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
             ORDER BY updated_at DESC, id DESC LIMIT ?"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.records(rows).await
    }

    async fn set_rush(&self, number: &str, rush: bool) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE orders SET rush = ? \
             WHERE number = ? AND status IN ('received', 'cooking', 'ready')",
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let Some(row) =
            sqlx::query("SELECT id, status, processed_by, created_at FROM orders WHERE number = ?")
                .bind(number)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(TransitionOutcome::NotFound);
        };
        let id: i64 = row.try_get("id")?;
        let old = parse_status(row.try_get("status")?)?;
        let holder: Option<String> = row.try_get("processed_by")?;
        let placed_at = parse_ts(row.try_get("created_at")?)?;
        let held_by_other = change
            .required_holder()
            .is_some_and(|h| holder.as_deref() != Some(h));
        if !change.transition.allowed_from(old) || held_by_other {
            return Ok(TransitionOutcome::Refused {
                current: old,
                processed_by: holder,
            });
        }
        writes::transition(&mut tx, id, number, old, change).await?;
        tx.commit().await?;
        Ok(TransitionOutcome::Applied {
            from: old,
            to: change.transition.to(),
            placed_at,
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
            "SELECT message_id, exchange, routing_key, priority, payload \
             FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?",
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let rows = sqlx::query(CLAIM)
            .bind(claimant)
            .bind(ts(until))
            .bind(ts(now))
            .bind(claimant)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows::claimed(&rows)
    }

    async fn mark_sent(&self, ids: &[i64], now: DateTime<Utc>) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let in_ids = |qb: &mut QueryBuilder<'_, sqlx::Sqlite>| {
            qb.push(" id IN (");
            let mut list = qb.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            qb.push(")");
        };
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // See migrations/postgres/0006: only a kitchen message of an order in the kitchen stays.
        let mut gone = QueryBuilder::new("DELETE FROM outbox WHERE");
        in_ids(&mut gone);
        gone.push(" AND NOT (exchange = ")
            .push_bind(crate::domain::ORDERS_EXCHANGE)
            .push(
                " AND EXISTS (SELECT 1 FROM orders o WHERE o.id = outbox.order_id \
                 AND o.status IN ('received', 'cooking')))",
            );
        gone.build().execute(&mut *tx).await?;
        let mut kept = QueryBuilder::new("UPDATE outbox SET sent_at = ");
        kept.push_bind(ts(now)).push(" WHERE");
        in_ids(&mut kept);
        kept.build().execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn release_claims(&self, claimant: &str) -> Result<(), StoreError> {
        sqlx::query(RELEASE)
            .bind(claimant)
            .execute(&self.pool)
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
        let now = ts(worker.now);
        let registered = sqlx::query(REGISTER_WORKER)
            .bind(&now)
            .bind(&worker.name)
            .bind(worker.specialty.to_string())
            .bind(&now)
            .bind(interval_ms(worker.heartbeat_interval))
            .bind(worker.replace)
            .bind(&now)
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
            .bind(ts(now))
            .bind(i64::from(finished))
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
