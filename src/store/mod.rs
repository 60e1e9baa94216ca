//! Storage: one small trait, two adapters (PostgreSQL for a real deployment, SQLite for the
//! embedded default) chosen once from the database URL, and one contract test story
//! (`tests/store/store_contract.rs`) that both must pass.

mod error;
mod lock;
mod migrations;
mod outbox;
mod postgres;
mod records;
mod rows;
mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{NewOrder, OrderStatus, OrderType, WorkerStatus};

pub use error::StoreError;
pub use outbox::OutboxMessage;
pub use postgres::PgStore;
pub use records::{
    ClaimedMessage, HistoryEntry, ItemRecord, OrderPage, OrderQuery, OrderRecord, OrderStamp,
    OrderState, OutboxStats, PlacedOrder, StatusChange, TransitionOutcome, WorkerRecord,
    WorkerRegistration, WriteMeta,
};
pub use sqlite::SqliteStore;

/// What every adapter offers. Each method is one transaction; transitions are compare-and-set.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// `postgres` or `sqlite`, for health answers and logs.
    fn backend(&self) -> &'static str;

    /// A cheap round trip, for readiness.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Counter, order, items, first log row and the outbox messages, all or nothing. With a
    /// `key`, a placement whose key an order already has writes nothing and answers that order
    /// (a retry after a lost answer must not cook twice; CONTRACT §4).
    async fn place_order(
        &self,
        order: &NewOrder,
        meta: &WriteMeta,
        key: Option<&str>,
    ) -> Result<PlacedOrder, StoreError>;

    async fn order(&self, number: &str) -> Result<Option<OrderRecord>, StoreError>;

    /// The orders among `numbers` that exist, with their items, in one read (unknown numbers
    /// are left out; the order of the answer is the store's).
    async fn orders(&self, numbers: &[String]) -> Result<Vec<OrderRecord>, StoreError>;

    /// Just the status and the cook holding the order: a cheap read a cook repeats while it
    /// cooks, to notice a cancellation or a take-over (CONTRACT §5).
    async fn order_state(&self, number: &str) -> Result<Option<OrderState>, StoreError>;

    /// Oldest first; `None` when the order is unknown.
    async fn history(&self, number: &str) -> Result<Option<Vec<HistoryEntry>>, StoreError>;

    /// Newest first.
    async fn list_orders(&self, query: &OrderQuery) -> Result<OrderPage, StoreError>;

    /// The orders still received, cooking or ready, newest first: only each one's number,
    /// last change and rush mark — what tells a screen that already holds them which to read
    /// again (a whole order with its items costs a hundred times more).
    async fn active_stamps(&self, limit: u32) -> Result<Vec<OrderStamp>, StoreError>;

    /// Completed and cancelled orders, the most recently finished first (the console's
    /// recall list).
    async fn finished(&self, limit: u32) -> Result<Vec<OrderRecord>, StoreError>;

    /// Sets or clears an active order's rush mark; false when no active order has `number`.
    async fn set_rush(&self, number: &str, rush: bool) -> Result<bool, StoreError>;

    /// Applies `change` only if the order's current status allows it, with its log row and
    /// status-update message in the same transaction (on PostgreSQL one statement: one round
    /// trip). Leaving the kitchen (ready, cancelled) also removes the order's kitchen message
    /// from the outbox. The cook's own row is the cook's to report ([`Store::worker_seen`]).
    async fn transition(
        &self,
        number: &str,
        change: &StatusChange,
    ) -> Result<TransitionOutcome, StoreError>;

    async fn workers(&self) -> Result<Vec<WorkerRecord>, StoreError>;

    /// Messages committed but not yet published, oldest first: what the tests look at.
    #[cfg(feature = "test-support")]
    async fn unsent_messages(&self, limit: u32) -> Result<Vec<OutboxMessage>, StoreError>;

    /// Leases up to `limit` unsent messages to `claimant` until `now + lease`, oldest first.
    /// Rows leased to another relay whose lease has not run out are skipped, so concurrent
    /// relays never publish the same row while its lease holds; rows already leased to
    /// `claimant` (a publish that failed) come back to it at once.
    async fn claim_outbox(
        &self,
        claimant: &str,
        limit: u32,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Vec<ClaimedMessage>, StoreError>;

    /// Takes published messages out of the outbox, in one statement; they never come back
    /// from `claim_outbox`. The kitchen message of an order still waiting or cooking is kept,
    /// marked sent, for [`Store::kitchen_backlog`]; a transition that takes the order out of
    /// the kitchen removes it.
    async fn mark_sent(&self, ids: &[i64], now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Gives up `claimant`'s leases on rows it did not send (a publish that failed, a relay
    /// that stops), so any relay — of this process or another — takes them at once instead of
    /// when the lease runs out.
    async fn release_claims(&self, claimant: &str) -> Result<(), StoreError>;

    /// Makes the space of removed outbox rows reusable now rather than at the database's next
    /// automatic pass (PostgreSQL: `VACUUM`, skipped when another is running). Every outbox row
    /// lives for moments, so without it the table grows by its whole traffic between passes.
    async fn compact_outbox(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// How large the outbox is: for `/metrics`, the benchmarks and the tests.
    async fn outbox_stats(&self) -> Result<OutboxStats, StoreError>;

    /// The kitchen messages of orders still `received` or `cooking`, published or not, most
    /// urgent first (priority, then age). An in-process bus that died with its process held the
    /// published ones, and its relay may have died between publishing and marking a row sent;
    /// a new bus is filled from all of them (CONTRACT §3), and they are then marked sent.
    async fn kitchen_backlog(&self) -> Result<Vec<ClaimedMessage>, StoreError>;

    /// Registers a worker by name. A name held by a worker that is still online (status not
    /// `offline` and heard from within twice its interval) is refused: `Ok(false)`, unless the
    /// registration says `replace`. An offline worker's name is taken over, keeping its
    /// `orders_processed`.
    async fn register_worker(&self, worker: &WorkerRegistration) -> Result<bool, StoreError>;

    /// A heartbeat or a change of status: `last_seen = now`.
    /// A heartbeat or a cook's report: `last_seen = now`, its status, and `finished` more
    /// orders counted in `orders_processed`. The cook keeps its own row (issue #10): a
    /// transition does not touch it, so the cook's burners never queue on that row's lock.
    async fn worker_seen(
        &self,
        name: &str,
        status: WorkerStatus,
        finished: u32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// Where the orders live, decided once at start from configuration.
#[derive(Debug, Clone)]
pub enum DatabaseTarget {
    Postgres {
        options: Box<sqlx::postgres::PgConnectOptions>,
        /// `host:port/database`, for messages (never the password).
        display: String,
        max_connections: u32,
    },
    /// A SQLite file, created on first use.
    Sqlite { path: PathBuf },
}

impl DatabaseTarget {
    pub fn describe(&self) -> String {
        match self {
            DatabaseTarget::Postgres { display, .. } => format!("PostgreSQL at {display}"),
            DatabaseTarget::Sqlite { path } => format!("SQLite file {}", path.display()),
        }
    }
}

/// Connects, applies pending migrations, and hands back the adapter.
pub async fn open(target: &DatabaseTarget) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match target {
        DatabaseTarget::Postgres {
            options,
            max_connections,
            ..
        } => Arc::new(PgStore::connect((**options).clone(), *max_connections).await?),
        DatabaseTarget::Sqlite { path } => Arc::new(SqliteStore::open(path).await?),
    })
}

/// Reads a status column; an unknown value means someone else wrote the row.
fn parse_status(s: &str) -> Result<OrderStatus, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown order status {s:?}")))
}

fn parse_type(s: &str) -> Result<OrderType, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("unknown order type {s:?}")))
}

fn to_u8(n: Option<i32>, what: &str) -> Result<Option<u8>, StoreError> {
    n.map(|n| u8::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} {n} out of range"))))
        .transpose()
}

/// A heartbeat interval as stored (milliseconds, saturating).
fn interval_ms(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}
