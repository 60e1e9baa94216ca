//! The embedded kitchen across stops (CONTRACT §3): a new in-process bus starts with what the
//! last one held, read back from the store.

use super::AssemblyError;
use crate::broker::memory::MemoryBus;
use crate::domain::{OrderStatus, WorkerStatus};
use crate::relay;
use crate::store::{OrderState, Store};

/// Fills a new in-process bus with what the last one held when its process ended (CONTRACT
/// §3): every order still `received`, and every `cooking` order whose cook is no longer online
/// (marked redelivered, so a cook takes it over), most urgent first. An order cooking under a
/// live cook of another process is left to that cook.
pub(super) async fn recover(
    store: &dyn Store,
    bus: &MemoryBus,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AssemblyError> {
    let backlog = store
        .kitchen_backlog()
        .await
        .map_err(AssemblyError::Recovery)?;
    if backlog.is_empty() {
        return Ok(());
    }
    let online = online_workers(store, now).await?;
    let (mut waiting, mut taken_over) = (0, 0);
    let mut restored = Vec::new();
    for row in backlog {
        let number = row.message.payload["order_number"]
            .as_str()
            .unwrap_or_default();
        let state = store
            .order_state(number)
            .await
            .map_err(AssemblyError::Recovery)?;
        let Some(redelivered) = state.and_then(|s| redelivery(&s, &online)) else {
            continue;
        };
        if bus.restore(&relay::outgoing(&row), redelivered).is_ok() {
            restored.push(row.id);
            if redelivered {
                taken_over += 1;
            } else {
                waiting += 1;
            }
        }
    }
    // Now in the bus: the relay must not publish the unsent ones a second time.
    store
        .mark_sent(&restored, now)
        .await
        .map_err(AssemblyError::Recovery)?;
    tracing::info!(
        action = "kitchen_recovered",
        waiting,
        taken_over,
        "orders of the last run are queued again"
    );
    Ok(())
}

/// The names of the workers still online: an order one of them cooks stays its own.
async fn online_workers(
    store: &dyn Store,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<String>, AssemblyError> {
    Ok(store
        .workers()
        .await
        .map_err(AssemblyError::Recovery)?
        .into_iter()
        .filter(|w| w.effective_status(now) != WorkerStatus::Offline)
        .map(|w| w.name)
        .collect())
}

/// Whether an order goes back on the bus, and as a redelivery: a received order waits as it
/// was; a cooking one whose cook is gone is taken over; any other stays where it is.
fn redelivery(state: &OrderState, online: &[String]) -> Option<bool> {
    match state.status {
        OrderStatus::Received => Some(false),
        OrderStatus::Cooking
            if !state
                .processed_by
                .as_ref()
                .is_some_and(|holder| online.contains(holder)) =>
        {
            Some(true)
        }
        _ => None,
    }
}
