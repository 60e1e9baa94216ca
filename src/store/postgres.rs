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
    OutboxMessage, OutboxStats, PlacedOrder, StatusChange, Store, StoreError, TransitionOutcome,
    WorkerRecord, WorkerRegistration, WriteMeta, interval_ms, outbox, parse_status,
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

/// How long a request waits for a pooled connection before it answers 503 (CONTRACT §6: with
/// the database unreachable, about two seconds at most). Background work retries on its own.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the first connection at start-up may take before the start fails.
const CONNECT_PROBE: Duration = Duration::from_secs(10);

/// Why PostgreSQL refused the first connection, in an operator's words (SQLSTATE classes 28
/// and 3D are named; the rest keep the server's own message).
fn connect_cause(e: &sqlx::Error, options: &PgConnectOptions) -> String {
    let (host, port) = (options.get_host(), options.get_port());
    let user = options.get_username();
    let database = options.get_database().unwrap_or(user);
    match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "connection refused at {host}:{port} (is PostgreSQL running there, on that port?)"
        ),
        sqlx::Error::Io(io) => format!("cannot reach {host}:{port}: {io}"),
        sqlx::Error::Tls(tls) => format!("TLS with {host}:{port} failed: {tls}"),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") => format!(
                "authentication failed for user {user:?} (check the password in DATABASE_URL \
                 or database.password)"
            ),
            Some(c) if c.starts_with("28") => format!(
                "user {user:?} may not connect: {} (check the user in DATABASE_URL or \
                 database.user)",
                db.message()
            ),
            Some("3D000") => format!(
                "the database {database:?} does not exist on {host}:{port} (create it: \
                 createdb -h {host} -p {port} -U {user} {database})"
            ),
            _ => db.message().to_string(),
        },
        other => other.to_string(),
    }
}

/// Counter, order, items, first log row and outbox rows in one statement, so one round trip
/// holds the per-day counter's row lock (see issue #2: the counter is the throughput ceiling).
/// The padded sequence mirrors `domain::order_number`; the contract test checks they agree.
/// A placement whose key ($20) an order already has writes nothing and returns that order
/// (`replayed`). Two racing with one key: the unique index makes the second insert nothing and
/// return no row, and the caller reads the first's order.
const PLACE_ORDER: &str = r#"
WITH existing AS (
    SELECT number, total_amount, priority FROM orders
    WHERE $20::text IS NOT NULL AND placement_key = $20
), counter AS (
    INSERT INTO order_counters AS c (day, last_value)
    SELECT $1, 1 WHERE NOT EXISTS (SELECT 1 FROM existing)
    ON CONFLICT (day) DO UPDATE SET last_value = c.last_value + 1
    RETURNING last_value
), new_order AS (
    INSERT INTO orders (created_at, updated_at, number, customer_name, type, table_number,
                        delivery_address, total_amount, priority, placement_key, notes)
    SELECT $2, $2,
           $3 || CASE WHEN last_value < 1000 THEN lpad(last_value::text, 3, '0')
                      ELSE last_value::text END,
           $4, $5, $6, $7, $8, $9, $20, $21
    FROM counter
    ON CONFLICT (placement_key) DO NOTHING
    RETURNING id, number, total_amount, priority
), items AS (
    INSERT INTO order_items (created_at, order_id, name, quantity, price, notes)
    SELECT $2, o.id, i.name, i.quantity, i.price, i.notes
    FROM new_order o,
         unnest($10::text[], $11::int4[], $12::numeric[], $22::text[])
             WITH ORDINALITY AS i(name, quantity, price, notes, n)
    ORDER BY i.n
), first_log AS (
    INSERT INTO order_status_log (created_at, order_id, status, changed_by, changed_at)
    SELECT $2, id, 'received', $13, $2 FROM new_order
), messages AS (
    INSERT INTO outbox (created_at, message_id, exchange, routing_key, priority, payload,
                        request_id, order_id)
    SELECT $2, m.message_id, m.exchange, m.routing_key, m.priority,
           m.payload::jsonb || jsonb_build_object('order_number', o.number), $14, o.id
    FROM new_order o,
         unnest($15::text[], $16::text[], $17::text[], $18::int2[], $19::text[])
             WITH ORDINALITY AS m(message_id, exchange, routing_key, priority, payload, n)
    ORDER BY m.n
)
SELECT number, total_amount, priority, false AS replayed FROM new_order
UNION ALL
SELECT number, total_amount, priority, true AS replayed FROM existing
"#;

/// A status change in one statement (one round trip): the locked read of the order, the
/// compare-and-set update (status allowed, and finishing only by the holder), the log row, the
/// status-update message (its `old_status` merged in here, where it is known) and, when the
/// order leaves the kitchen, its kitchen message. The final select tells applied / refused /
/// unknown apart.
const TRANSITION: &str = r#"
WITH prev AS (
    SELECT id, status, processed_by, created_at FROM orders WHERE number = $1 FOR UPDATE
), applied AS (
    UPDATE orders o SET status = $2, updated_at = $3,
        processed_by = COALESCE($4, o.processed_by),
        completed_at = COALESCE($5, o.completed_at),
        estimated_completion = CASE WHEN $7 THEN $8 ELSE o.estimated_completion END
    FROM prev
    WHERE o.id = prev.id AND prev.status = ANY($6)
      AND ($9::text IS NULL OR prev.processed_by = $9)
    RETURNING o.id, prev.status AS old_status
), log AS (
    INSERT INTO order_status_log (created_at, order_id, status, changed_by, changed_at, notes)
    SELECT $3, id, $2, $10, $3, $11 FROM applied
), message AS (
    INSERT INTO outbox (created_at, message_id, exchange, routing_key, priority, payload,
                        request_id, order_id)
    SELECT $3, $12, $13, '', 0, $14::jsonb || jsonb_build_object('old_status', old_status),
           $15, id
    FROM applied
), kitchen_done AS (
    DELETE FROM outbox k USING applied
    WHERE $16 AND k.order_id = applied.id AND k.exchange = $17
)
SELECT prev.status AS current, prev.processed_by, prev.created_at, applied.old_status
FROM prev LEFT JOIN applied ON TRUE
"#;

/// Published messages leave; a kitchen message stays (marked sent) while its order is still in
/// the kitchen (see `Store::mark_sent`).
const MARK_SENT: &str = r#"
WITH gone AS (
    DELETE FROM outbox m
    WHERE m.id = ANY($1)
      AND NOT (m.exchange = $3 AND EXISTS (
          SELECT 1 FROM orders o WHERE o.id = m.order_id AND o.status IN ('received', 'cooking')))
    RETURNING m.id
)
UPDATE outbox SET sent_at = $2 WHERE id = ANY($1) AND id NOT IN (SELECT id FROM gone)
"#;

/// The order a placement key already made (after a race lost to it).
const BY_KEY: &str =
    "SELECT number, total_amount, priority, true AS replayed FROM orders WHERE placement_key = $1";

const ORDER_COLUMNS: &str = "id, number, customer_name, type, table_number, delivery_address, \
     total_amount, priority, status, processed_by, created_at, updated_at, completed_at, \
     estimated_completion, notes, rush";

/// Kitchen messages of orders still waiting or cooking, most urgent first (see the trait).
const KITCHEN_BACKLOG: &str = "SELECT m.id, m.message_id, m.exchange, m.routing_key, m.priority, \
         m.payload::text AS payload, m.request_id \
     FROM outbox m JOIN orders o ON o.id = m.order_id \
     WHERE m.exchange = $1 AND o.status IN ('received', 'cooking') \
     ORDER BY o.priority DESC, o.id";

/// An order's items as the column arrays `PLACE_ORDER` unnests.
struct ItemColumns {
    names: Vec<String>,
    quantities: Vec<i32>,
    prices: Vec<rust_decimal::Decimal>,
    notes: Vec<Option<String>>,
}

impl ItemColumns {
    fn of(order: &NewOrder) -> ItemColumns {
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
struct MessageColumns {
    ids: Vec<String>,
    exchanges: Vec<String>,
    routing_keys: Vec<String>,
    priorities: Vec<i16>,
    payloads: Vec<String>,
}

impl MessageColumns {
    fn of(messages: &[OutboxMessage]) -> MessageColumns {
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

    async fn unsent_messages(&self, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
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
