//! The embedded kitchen across stops (CONTRACT §3): a new in-process bus starts with what the
//! last one held, read back from the store.

use super::AssemblyError;
use crate::broker::Outgoing;
use crate::broker::memory::MemoryBus;
use crate::domain::OrderStatus;
use crate::store::Store;

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
    let online: Vec<String> = store
        .workers()
        .await
        .map_err(AssemblyError::Recovery)?
        .into_iter()
        .filter(|w| w.effective_status(now) != crate::domain::WorkerStatus::Offline)
        .map(|w| w.name)
        .collect();
    let (mut waiting, mut taken_over) = (0, 0);
    let mut restored = Vec::new();
    for row in backlog {
        let number = row.message.payload["order_number"]
            .as_str()
            .unwrap_or_default();
        let Some(state) = store
            .order_state(number)
            .await
            .map_err(AssemblyError::Recovery)?
        else {
            continue;
        };
        let redelivered = match state.status {
            OrderStatus::Received => false,
            OrderStatus::Cooking
                if !state
                    .processed_by
                    .as_ref()
                    .is_some_and(|holder| online.contains(holder)) =>
            {
                true
            }
            _ => continue,
        };
        let outgoing = Outgoing {
            exchange: row.message.exchange.clone(),
            routing_key: row.message.routing_key.clone(),
            priority: row.message.priority,
            message_id: row.message.message_id.clone(),
            request_id: row.request_id.clone(),
            body: row.message.payload.to_string().into_bytes(),
        };
        if bus.restore(&outgoing, redelivered).is_ok() {
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
