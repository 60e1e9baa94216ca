//! The operations the HTTP API and the console share: place, look up, list, cancel, complete.
//! Validation happens here once, for every caller, with the domain's rules.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::{Clock, FieldError, OrderDraft, OrderStatus, Transition, validate};
use crate::store::{
    HistoryEntry, OrderPage, OrderQuery, OrderRecord, PlacedOrder, StatusChange, Store, StoreError,
    TransitionOutcome, WorkerRecord, WriteMeta,
};

/// Who asks for a transition through the API or the console.
pub const OPERATOR: &str = "operator";

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("the order is not valid")]
    Invalid(Vec<FieldError>),
    #[error("order {0} not found")]
    NotFound(String),
    #[error("cannot {} order {number}: it is {current}", transition.verb())]
    Conflict {
        number: String,
        current: OrderStatus,
        transition: Transition,
    },
    /// Still failing after the retries: the client may try again later.
    /// A placement key sent again with a different order: answering the first would drop this
    /// one silently, making a second would defeat the key.
    #[error("the key {key:?} already placed order {number}, which is a different order")]
    KeyReused { key: String, number: String },
    #[error(transparent)]
    Unavailable(StoreError),
    #[error(transparent)]
    Internal(StoreError),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        if e.is_transient() {
            ServiceError::Unavailable(e)
        } else {
            ServiceError::Internal(e)
        }
    }
}

/// What `GET /orders/{number}/status` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusView {
    pub order: OrderRecord,
    pub estimated_completion: Option<DateTime<Utc>>,
}

/// A request handler never sits in retries while the database is away (CONTRACT §4): a
/// transient failure is a 503 with `Retry-After` at once, and the client (whose retries the
/// order placement's key will make safe) decides. Background work retries on its own.
#[derive(Debug, Clone)]
pub struct OrderService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Woken after each commit that wrote outbox rows, so the relay publishes at once.
    outbox_wake: Arc<tokio::sync::Notify>,
}

impl OrderService {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> OrderService {
        OrderService {
            store,
            clock,
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Shares the relay's wake-up, so orders and transitions are published right after commit.
    pub fn with_outbox_wake(mut self, wake: Arc<tokio::sync::Notify>) -> OrderService {
        self.outbox_wake = wake;
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Places an order once per key (CONTRACT §4): `key` is the client's `Idempotency-Key`,
    /// else the request id; the same key again answers the order it made.
    pub async fn place(
        &self,
        draft: &OrderDraft,
        request_id: Option<&str>,
        key: Option<&str>,
    ) -> Result<PlacedOrder, ServiceError> {
        let order = validate(draft).map_err(ServiceError::Invalid)?;
        let meta = WriteMeta {
            now: self.clock.now(),
            request_id: request_id.map(str::to_string),
        };
        let key = key.or(request_id);
        let placed = self.store.place_order(&order, &meta, key).await?;
        if placed.replayed {
            let first = self.store.order(&placed.number).await?;
            let same = first.is_some_and(|f| {
                f.customer_name == order.customer_name
                    && f.total == order.total()
                    && f.items.len() == order.items.len()
            });
            if !same {
                return Err(ServiceError::KeyReused {
                    key: key.unwrap_or_default().to_string(),
                    number: placed.number,
                });
            }
            tracing::info!(action = "order_replayed", order_number = %placed.number, "placed before under this key; answering that order");
            return Ok(placed);
        }
        crate::metrics::order_created(order.order_type());
        self.outbox_wake.notify_one();
        Ok(placed)
    }

    pub async fn status(&self, number: &str) -> Result<StatusView, ServiceError> {
        storable(number)?;
        let order = self
            .store
            .order(number)
            .await?
            .ok_or_else(|| ServiceError::NotFound(number.to_string()))?;
        // Stored by the cook when it started, from its own cooking time (CONTRACT §5); only
        // meaningful while the order is still cooking.
        let estimated_completion = order
            .estimated_completion
            .filter(|_| order.status == OrderStatus::Cooking);
        Ok(StatusView {
            order,
            estimated_completion,
        })
    }

    pub async fn history(&self, number: &str) -> Result<Vec<HistoryEntry>, ServiceError> {
        storable(number)?;
        self.store
            .history(number)
            .await?
            .ok_or_else(|| ServiceError::NotFound(number.to_string()))
    }

    pub async fn list(&self, query: &OrderQuery) -> Result<OrderPage, ServiceError> {
        Ok(self.store.list_orders(query).await?)
    }

    pub async fn workers(&self) -> Result<Vec<WorkerRecord>, ServiceError> {
        Ok(self.store.workers().await?)
    }

    /// Applies an operator's transition (cancel, complete, recall) in `by`'s name (the API's
    /// `operator`, a console's station), with an optional note for the status log (a cancel's
    /// reason); returns the status the order left.
    pub async fn operator_transition(
        &self,
        number: &str,
        transition: Transition,
        by: &str,
        notes: Option<String>,
        request_id: Option<&str>,
    ) -> Result<OrderStatus, ServiceError> {
        storable(number)?;
        let change = StatusChange {
            transition,
            changed_by: by.to_string(),
            notes,
            estimated_completion: None,
            meta: WriteMeta {
                now: self.clock.now(),
                request_id: request_id.map(str::to_string),
            },
        };
        let outcome = self.store.transition(number, &change).await?;
        match outcome {
            TransitionOutcome::Applied { from, to, .. } => {
                crate::metrics::transition(from, to);
                self.outbox_wake.notify_one();
                Ok(from)
            }
            TransitionOutcome::NotFound => Err(ServiceError::NotFound(number.to_string())),
            TransitionOutcome::Refused { current, .. } => Err(ServiceError::Conflict {
                number: number.to_string(),
                current,
                transition,
            }),
        }
    }
}

/// A number no store could hold (PostgreSQL refuses a NUL in text) names no order: 404, the
/// same on both stores, instead of a database error.
fn storable(number: &str) -> Result<(), ServiceError> {
    if number.contains('\0') {
        Err(ServiceError::NotFound(
            crate::domain::visible(number).into_owned(),
        ))
    } else {
        Ok(())
    }
}
