//! The PostgreSQL adapter: the real deployment, many processes on many hosts.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Connection, QueryBuilder, Row};

use crate::domain::{Money, NewOrder, ORDER_SERVICE, WorkerStatus, order_number_prefix};

use super::migrations::POSTGRES;
use super::rows::{self, Columns};
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
use connect::{ACQUIRE_TIMEOUT, CONNECT_PROBE, connect_cause};
use sql::{BY_KEY, KITCHEN_BACKLOG, MARK_SENT, ORDER_COLUMNS, PLACE_ORDER, TRANSITION};

impl PgStore {
    /// Connects with a small pool (the counter row serialises creations anyway; more
    /// connections only queue on it) and applies pending migrations.
    pub async fn connect(
        options: PgConnectOptions,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        // One connection first, on its own: a pool only says "timed out", and an operator
        // needs the cause (refused, authentication, no such database).
        match tokio::time::timeout(CONNECT_PROBE, options.connect()).await {
            Ok(Ok(probe)) => {
                let _ = probe.close().await;
            }
            Ok(Err(e)) => return Err(StoreError::Connect(connect_cause(&e, &options))),
            Err(_) => {
                return Err(StoreError::Connect(format!(
                    "no answer from {}:{} within {} s",
                    options.get_host(),
                    options.get_port(),
                    CONNECT_PROBE.as_secs()
                )));
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await?;
        POSTGRES.run(&pool).await?;
        let outbox_pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options.clone().options([("synchronous_commit", "off")]));
        Ok(PgStore {
            pool,
            outbox_pool,
            options,
        })
    }

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

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    /// Through the pool; when the pool is only busy (every connection in use), a connection of
    /// its own tells whether the database itself answers.
    async fn ping(&self) -> Result<(), StoreError> {
        match sqlx::query("SELECT 1").execute(&self.pool).await {
            Ok(_) => Ok(()),
            Err(sqlx::Error::PoolTimedOut) => {
                use sqlx::{ConnectOptions, Connection};
                let probe = async {
                    let mut conn = self.options.connect().await?;
                    sqlx::query("SELECT 1").execute(&mut conn).await?;
                    conn.close().await
                };
                match tokio::time::timeout(ACQUIRE_TIMEOUT * 2, probe).await {
                    Ok(result) => Ok(result?),
                    Err(_) => Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut)),
                }
            }
            Err(e) => Err(e.into()),
        }
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
        let rows = sqlx::query(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox \
                          WHERE sent_at IS NULL \
                            AND (claimed_until IS NULL OR claimed_until < $3 OR claimed_by = $1) \
                          ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) \
             RETURNING id, message_id, exchange, routing_key, priority, payload::text AS payload, request_id",
        )
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
        sqlx::query(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL \
             WHERE claimed_by = $1 AND sent_at IS NULL",
        )
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
        let registered = sqlx::query(
            "INSERT INTO workers (created_at, name, type, status, last_seen, heartbeat_interval_ms) \
             VALUES ($1, $2, $3, 'online', $1, $4) \
             ON CONFLICT (name) DO UPDATE SET type = EXCLUDED.type, status = 'online', \
                 last_seen = EXCLUDED.last_seen, heartbeat_interval_ms = EXCLUDED.heartbeat_interval_ms \
             WHERE $5 OR workers.status = 'offline' \
                OR workers.last_seen < $1 - make_interval(secs => workers.heartbeat_interval_ms * 2 / 1000.0) \
             RETURNING id",
        )
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
        sqlx::query(
            "UPDATE workers SET status = $1, last_seen = $2, \
             orders_processed = orders_processed + $4 WHERE name = $3",
        )
        .bind(status.as_str())
        .bind(now)
        .bind(name)
        .bind(i64::from(finished))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
