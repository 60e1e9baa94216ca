//! The shared service, driven with an injected clock.

use crate::common;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use restaurant_tui::domain::{Field, FixedClock, OrderDraft, OrderStatus};
use restaurant_tui::service::{OrderService, ServiceError};

fn draft() -> OrderDraft {
    common::takeout_draft("9.50")
}

#[tokio::test]
async fn numbers_follow_the_service_clock_across_utc_midnight() {
    let store = common::sqlite_store().await;
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2024, 12, 31, 23, 59, 59).unwrap(),
    ));
    let orders = OrderService::new(store.store.clone(), clock.clone());
    let first = orders.place(&draft(), None, None).await.unwrap();
    clock.set(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap());
    let second = orders.place(&draft(), Some("req-9"), None).await.unwrap();
    assert_eq!(first.number, "ORD_20241231_001");
    assert_eq!(second.number, "ORD_20250101_001");
    let record = orders.status(&second.number).await.unwrap().order;
    assert_eq!(
        record.created_at,
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
    );
}

#[tokio::test]
async fn an_invalid_draft_never_reaches_the_store() {
    let store = common::sqlite_store().await;
    let orders = OrderService::new(store.store.clone(), Arc::new(FixedClock::new(Utc::now())));
    let mut bad = draft();
    bad.customer_name = Field::Absent;
    assert!(
        matches!(orders.place(&bad, None, None).await, Err(ServiceError::Invalid(e)) if e[0].field == "customer_name")
    );
    assert!(store.unsent_messages(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_estimated_completion_is_the_one_the_cook_stored_when_it_started() {
    use restaurant_tui::domain::Transition;
    use restaurant_tui::store::{StatusChange, WriteMeta};
    let store = common::sqlite_store().await;
    let start = Utc.with_ymd_and_hms(2024, 12, 16, 12, 0, 0).unwrap();
    let orders = OrderService::new(store.store.clone(), Arc::new(FixedClock::new(start)));
    let n = orders.place(&draft(), None, None).await.unwrap().number;
    assert_eq!(orders.status(&n).await.unwrap().estimated_completion, None);
    // A cook whose own takeout time is 4 s (not this process's default of 10 s).
    let eta = start + chrono::Duration::seconds(4);
    let change = StatusChange {
        transition: Transition::StartCooking,
        changed_by: "chef_mario".into(),
        notes: None,
        estimated_completion: Some(eta),
        meta: WriteMeta {
            now: start,
            request_id: None,
        },
    };
    store.transition(&n, &change).await.unwrap();
    let view = orders.status(&n).await.unwrap();
    assert_eq!(view.order.status, OrderStatus::Cooking);
    assert_eq!(view.estimated_completion, Some(eta));
}
