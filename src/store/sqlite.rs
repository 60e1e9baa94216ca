//! The SQLite adapter: the embedded default, one file under the user's data directory.
//! Every write runs in `BEGIN IMMEDIATE`, so a transaction that reads before it writes waits
//! for the write lock up front instead of failing with `SQLITE_BUSY` halfway.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row};

use crate::domain::{Money, NewOrder, ORDER_SERVICE, WorkerStatus, order_number};

use super::lock::DataLock;
use super::migrations::SQLITE;
use super::rows::{self, Columns};
use super::{
    ClaimedMessage, HistoryEntry, OrderPage, OrderQuery, OrderRecord, OrderStamp, OrderState,
    OutboxStats, PlacedOrder, StatusChange, Store, StoreError, TransitionOutcome, WorkerRecord,
    WorkerRegistration, WriteMeta, interval_ms, outbox, parse_status,
};

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// This process's hold on the file, for as long as any clone of the store lives.
    _lock: Arc<DataLock>,
}

const ORDER_COLUMNS: &str = "id, number, customer_name, type, table_number, delivery_address, \
     total_amount, priority, status, processed_by, created_at, updated_at, completed_at, \
     estimated_completion, notes, rush";

/// Times are stored as fixed-width RFC 3339 UTC text so that text order is time order.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time {s:?}: {e}")))
}

fn parse_money(s: &str) -> Result<Money, StoreError> {
    Decimal::from_str(s)
        .map(Money::from_decimal)
        .map_err(|e| StoreError::Corrupt(format!("amount {s:?}: {e}")))
}

impl SqliteStore {
    /// Opens (creating if needed, with its folder) the database file, takes it for this
    /// process alone, and migrates it.
    ///
    /// Holding the file alone means that no other process can be running a worker on it: any
    /// worker the file still shows as online or processing died with its process, and is marked
    /// offline here, so its name can be registered again at once.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        fn files(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
            move |source| StoreError::Files {
                path: path.to_path_buf(),
                source,
            }
        }
        let mut tightened = Vec::new();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tightened.extend(crate::files::private_dir(dir).map_err(files(dir))?);
        }
        let lock = DataLock::acquire(path)?;
        tightened.extend(crate::files::private_file(path).map_err(files(path))?);
        for p in tightened {
            tracing::warn!(action = "permissions_tightened", path = %p.display(), "others could read the embedded data; now only this user can");
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            // The file is never "away"; a wait here is lock contention, bounded by busy_timeout.
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        SQLITE.run(&pool).await?;
        let stale = sqlx::query("UPDATE workers SET status = 'offline' WHERE status <> 'offline'")
            .execute(&pool)
            .await?
            .rows_affected();
        // Likewise every relay that leased outbox rows is gone: its rows are free at once.
        sqlx::query(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE sent_at IS NULL",
        )
        .execute(&pool)
        .await?;
        if stale > 0 {
            tracing::info!(
                action = "stale_workers_offline",
                count = stale,
                "workers left online by a process that is gone are marked offline"
            );
        }
        Ok(SqliteStore {
            pool,
            _lock: Arc::new(lock),
        })
    }

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

impl Columns for SqliteRow {
    fn text(&self, col: &str) -> Result<String, StoreError> {
        Ok(self.try_get(col)?)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(col)?)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(col)?)
    }
    fn money(&self, col: &str) -> Result<Money, StoreError> {
        parse_money(&self.text(col)?)
    }
    fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.opt_text(col)?.as_deref().map(parse_ts).transpose()
    }
    fn flag(&self, col: &str) -> Result<bool, StoreError> {
        Ok(self.try_get(col)?)
    }
}

/// Kitchen messages of orders still waiting or cooking, most urgent first (see the trait).
const KITCHEN_BACKLOG: &str = "SELECT m.id, m.message_id, m.exchange, m.routing_key, m.priority, \
         m.payload, m.request_id \
     FROM outbox m JOIN orders o ON o.id = m.order_id \
     WHERE m.exchange = ? AND o.status IN ('received', 'cooking') \
     ORDER BY o.priority DESC, o.id";

async fn insert_outbox(
    tx: &mut sqlx::SqliteConnection,
    message: &outbox::OutboxMessage,
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
        let number = next_number(&mut tx, day).await?;
        let order_id = insert_order(&mut tx, order, &number, &now, key).await?;
        insert_items(&mut tx, order, order_id, &now).await?;
        sqlx::query(
            "INSERT INTO order_status_log (created_at, order_id, status, changed_by, changed_at) \
             VALUES (?, ?, 'received', ?, ?)",
        )
        .bind(&now)
        .bind(order_id)
        .bind(ORDER_SERVICE)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        for message in outbox::for_new_order(order, &number, meta)? {
            insert_outbox(&mut tx, &message, order_id, meta).await?;
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
        insert_outbox(&mut tx, &message, id, &change.meta).await?;
        if change.leaves_kitchen() {
            sqlx::query("DELETE FROM outbox WHERE order_id = ? AND exchange = ?")
                .bind(id)
                .bind(crate::domain::ORDERS_EXCHANGE)
                .execute(&mut *tx)
                .await?;
        }
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
        let rows = sqlx::query(
            "UPDATE outbox SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox \
                          WHERE sent_at IS NULL \
                            AND (claimed_until IS NULL OR claimed_until < ? OR claimed_by = ?) \
                          ORDER BY id LIMIT ?) \
             RETURNING id, message_id, exchange, routing_key, priority, payload, request_id",
        )
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
        sqlx::query(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL \
             WHERE claimed_by = ? AND sent_at IS NULL",
        )
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
        let registered = sqlx::query(
            "INSERT INTO workers (created_at, name, type, status, last_seen, heartbeat_interval_ms) \
             VALUES (?, ?, ?, 'online', ?, ?) \
             ON CONFLICT (name) DO UPDATE SET type = excluded.type, status = 'online', \
                 last_seen = excluded.last_seen, heartbeat_interval_ms = excluded.heartbeat_interval_ms \
             WHERE ? OR workers.status = 'offline' \
                OR (julianday(?) - julianday(workers.last_seen)) * 86400000.0 > workers.heartbeat_interval_ms * 2 \
             RETURNING id",
        )
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
        sqlx::query(
            "UPDATE workers SET status = ?, last_seen = ?, \
             orders_processed = orders_processed + ? WHERE name = ?",
        )
        .bind(status.as_str())
        .bind(ts(now))
        .bind(i64::from(finished))
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// The day's next order number, from its counter row (under the caller's write lock).
async fn next_number(
    tx: &mut sqlx::SqliteConnection,
    day: chrono::NaiveDate,
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
async fn insert_order(
    tx: &mut sqlx::SqliteConnection,
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

async fn insert_items(
    tx: &mut sqlx::SqliteConnection,
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
