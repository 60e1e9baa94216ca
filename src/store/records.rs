//! What the store takes in and hands back: registrations, write metadata, orders and their
//! history, the outbox's rows and numbers, workers. Plain data; the adapters fill them.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::OutboxMessage;
use crate::domain::{Money, OrderStatus, OrderType, Specialty, Transition, WorkerStatus};

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
    pub(super) fn processed_by(&self) -> Option<&str> {
        matches!(
            self.transition,
            Transition::StartCooking | Transition::TakeOver
        )
        .then_some(self.changed_by.as_str())
    }

    /// Ready is when cooking ended (CONTRACT §5 "sets completed_at").
    pub(super) fn completed_at(&self) -> Option<DateTime<Utc>> {
        (self.transition == Transition::FinishCooking).then_some(self.meta.now)
    }

    /// A cook finishes only the order it holds (CONTRACT §5): `cooking → ready` applies only
    /// while `processed_by` is the worker asking.
    pub(super) fn required_holder(&self) -> Option<&str> {
        (self.transition == Transition::FinishCooking).then_some(self.changed_by.as_str())
    }

    /// Whether this transition (re)sets the stored estimated completion: every start of
    /// cooking does, with the cook's own estimate.
    pub(super) fn sets_estimate(&self) -> bool {
        matches!(
            self.transition,
            Transition::StartCooking | Transition::TakeOver
        )
    }

    /// Whether the order leaves the kitchen: its kitchen message is no longer needed.
    pub(super) fn leaves_kitchen(&self) -> bool {
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
