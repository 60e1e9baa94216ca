//! Storage: one small trait, two adapters (PostgreSQL for a real deployment, SQLite for the
//! embedded default) chosen once from the database URL, and one contract test story
//! (`tests/store/store_contract.rs`) that both must pass.

mod error;
mod lock;
mod migrations;
mod outbox;
mod postgres;
mod rows;
mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{Money, NewOrder, OrderStatus, OrderType, Specialty, Transition, WorkerStatus};

pub use error::StoreError;
pub use outbox::OutboxMessage;
pub use postgres::PgStore;
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

/// A worker announcing itself.
#[derive(Debug, Clone)]
pub struct WorkerRegistration {
    pub name: String,
    pub specialty: Specialty,
    pub heartbeat_interval: Duration,
    pub now: DateTime<Utc>,
    /// Take the name over even from a worker still marked online (`worker --replace`, for
    /// supervisors that restart a crashed worker at once).
    pub replace: bool,
}

/// An order's status and who holds it, without its items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderState {
    pub status: OrderStatus,
    pub processed_by: Option<String>,
}

/// What changes on an active order, without the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderStamp {
    pub number: String,
    pub updated_at: DateTime<Utc>,
    pub rush: bool,
}

/// The outbox at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxStats {
    /// Messages committed and not yet published.
    pub unsent: u64,
    /// Published kitchen messages kept while their orders are in the kitchen.
    pub kept: u64,
    /// When the oldest unsent message was committed.
    pub oldest_unsent: Option<DateTime<Utc>>,
}

/// An outbox row leased to one relay.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedMessage {
    pub id: i64,
    pub message: OutboxMessage,
    pub request_id: Option<String>,
}

/// Who and when, for every write.
#[derive(Debug, Clone)]
pub struct WriteMeta {
    pub now: DateTime<Utc>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    pub number: String,
    pub total: Money,
    pub priority: u8,
    /// The placement's key had already made this order; nothing new was written.
    pub replayed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRecord {
    pub name: String,
    pub quantity: u32,
    pub price: Money,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub number: String,
    pub customer_name: String,
    pub order_type: OrderType,
    pub table_number: Option<u8>,
    pub delivery_address: Option<String>,
    pub items: Vec<ItemRecord>,
    pub total: Money,
    pub priority: u8,
    pub status: OrderStatus,
    pub processed_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Set when cooking starts (or is taken over), from that cook's own cooking time.
    pub estimated_completion: Option<DateTime<Utc>>,
    pub notes: Option<String>,
    /// Set by an operator: cook this one first.
    pub rush: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub status: OrderStatus,
    pub changed_by: Option<String>,
    pub changed_at: DateTime<Utc>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    /// Empty means every status.
    pub statuses: Vec<OrderStatus>,
    pub order_type: Option<OrderType>,
    pub limit: u32,
    pub offset: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    pub orders: Vec<OrderRecord>,
    pub total: u64,
}

/// A requested status change and who asks for it.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub transition: Transition,
    pub changed_by: String,
    pub notes: Option<String>,
    pub estimated_completion: Option<DateTime<Utc>>,
    pub meta: WriteMeta,
}

impl StatusChange {
    /// The worker that starts cooking becomes `processed_by`.
    fn processed_by(&self) -> Option<&str> {
        matches!(
            self.transition,
            Transition::StartCooking | Transition::TakeOver
        )
        .then_some(self.changed_by.as_str())
    }

    /// Ready is when cooking ended (CONTRACT §5 "sets completed_at").
    fn completed_at(&self) -> Option<DateTime<Utc>> {
        (self.transition == Transition::FinishCooking).then_some(self.meta.now)
    }

    /// A cook finishes only the order it holds (CONTRACT §5): `cooking → ready` applies only
    /// while `processed_by` is the worker asking.
    fn required_holder(&self) -> Option<&str> {
        (self.transition == Transition::FinishCooking).then_some(self.changed_by.as_str())
    }

    /// Whether this transition (re)sets the stored estimated completion: every start of
    /// cooking does, with the cook's own estimate.
    fn sets_estimate(&self) -> bool {
        matches!(
            self.transition,
            Transition::StartCooking | Transition::TakeOver
        )
    }

    /// Whether the order leaves the kitchen: its kitchen message is no longer needed.
    fn leaves_kitchen(&self) -> bool {
        !matches!(
            self.transition.to(),
            OrderStatus::Received | OrderStatus::Cooking
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionOutcome {
    Applied {
        from: OrderStatus,
        to: OrderStatus,
        /// When the order was placed (its 201 → ready time is measured from it).
        placed_at: DateTime<Utc>,
    },
    NotFound,
    /// The order is in a status the transition does not start from, or (finishing) another
    /// cook holds it; nothing was written.
    Refused {
        current: OrderStatus,
        processed_by: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerRecord {
    pub name: String,
    pub order_types: Specialty,
    /// As stored; see [`WorkerRecord::effective_status`].
    pub status: WorkerStatus,
    pub last_seen: DateTime<Utc>,
    pub orders_processed: i64,
    pub heartbeat_interval: Duration,
}

impl WorkerRecord {
    /// `offline` once the heartbeat is older than twice the worker's own interval.
    pub fn effective_status(&self, now: DateTime<Utc>) -> WorkerStatus {
        let limit = chrono::Duration::from_std(self.heartbeat_interval * 2)
            .unwrap_or(chrono::Duration::MAX);
        if now.signed_duration_since(self.last_seen) > limit {
            WorkerStatus::Offline
        } else {
            self.status
        }
    }
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
