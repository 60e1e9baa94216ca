//! One story, every adapter: each test below runs on SQLite and on PostgreSQL.

use crate::common;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use common::{Backend, TestStore};
use std::time::Duration;

use restaurant_tui::domain::{
    Destination, Money, NewItem, NewOrder, OrderStatus, OrderType, Specialty, Transition,
    WorkerStatus,
};
use restaurant_tui::store::{
    OrderQuery, StatusChange, Store, TransitionOutcome, WorkerRegistration, WriteMeta,
};

macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $test() { super::$test(super::common::sqlite_store().await).await } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $test() { super::$test(super::common::pg_store().await).await } )*
        }
    };
}

contract!(
    placing_an_order_writes_order_items_first_log_row_and_messages,
    order_numbers_are_consecutive_per_day_and_restart_at_utc_midnight,
    concurrent_placements_get_distinct_consecutive_numbers,
    totals_are_exact_and_priority_is_stored,
    unknown_orders_are_none,
    transitions_are_compare_and_set_and_logged,
    every_applied_transition_writes_one_status_update,
    list_orders_filters_and_pages_newest_first,
    no_workers_is_an_empty_list,
    workers_register_and_an_online_name_is_refused_until_it_goes_quiet,
    a_worker_is_processing_while_it_cooks_and_counts_what_it_finished,
    relays_lease_outbox_rows_and_sent_rows_never_come_back,
    concurrent_relays_never_claim_the_same_row,
    only_the_cook_holding_an_order_can_finish_it,
    the_cooks_estimate_is_stored_when_cooking_starts,
    replace_takes_over_a_name_that_is_still_online,
    the_kitchen_backlog_is_every_order_still_waiting_or_cooking_most_urgent_first,
    a_placement_key_places_one_order_however_often_it_is_sent,
    notes_and_the_rush_mark_are_kept_on_the_ticket,
    finished_orders_come_newest_finish_first,
    the_outbox_keeps_only_what_is_unsent_or_still_in_the_kitchen,
    released_claims_go_to_another_relay_at_once,
    active_stamps_say_which_orders_changed,
);

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
}

fn meta(now: DateTime<Utc>) -> WriteMeta {
    WriteMeta {
        now,
        request_id: Some("req-1".into()),
    }
}

fn item(name: &str, quantity: u32, cents: i64) -> NewItem {
    NewItem {
        name: name.into(),
        quantity,
        price: Money::from_cents(cents),
        notes: None,
    }
}

fn order(destination: Destination, items: Vec<NewItem>) -> NewOrder {
    NewOrder {
        customer_name: "Ann Lee".into(),
        destination,
        items,
        notes: None,
    }
}

fn pizza() -> NewOrder {
    order(
        Destination::DineIn { table_number: 7 },
        vec![item("Margherita", 2, 1250)],
    )
}

fn change(transition: Transition, by: &str, now: DateTime<Utc>) -> StatusChange {
    StatusChange {
        transition,
        changed_by: by.into(),
        notes: None,
        estimated_completion: None,
        meta: meta(now),
    }
}

// One story told in order: its checks are many, not nested.
#[allow(clippy::cognitive_complexity)]
async fn placing_an_order_writes_order_items_first_log_row_and_messages(store: TestStore) {
    let now = at(2024, 12, 16, 10, 0, 0);
    let delivery = order(
        Destination::Delivery {
            address: "12 Baker Street, London".into(),
        },
        vec![item("Pizza", 1, 1000), item("Cola", 2, 250)],
    );
    let placed = store
        .place_order(&delivery, &meta(now), None)
        .await
        .unwrap();
    assert_eq!(placed.number, "ORD_20241216_001");

    let record = store.order(&placed.number).await.unwrap().unwrap();
    assert_eq!(record.order_type, OrderType::Delivery);
    assert_eq!(
        record.delivery_address.as_deref(),
        Some("12 Baker Street, London")
    );
    assert_eq!(record.table_number, None);
    assert_eq!(record.status, OrderStatus::Received);
    assert_eq!(record.items.len(), 2);
    assert_eq!(record.items[1].name, "Cola");
    assert_eq!(record.items[1].price, Money::from_cents(250));
    assert_eq!(record.created_at, now);

    let history = store.history(&placed.number).await.unwrap().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].status, OrderStatus::Received);
    assert_eq!(history[0].changed_by.as_deref(), Some("order-service"));

    let messages = store.unsent_messages(10).await.unwrap();
    assert_eq!(
        messages.len(),
        2,
        "the kitchen message and the first status update"
    );
    let kitchen = &messages[0];
    assert_eq!(kitchen.exchange, "orders_topic");
    assert_eq!(kitchen.routing_key, "kitchen.delivery.1");
    assert_eq!(kitchen.payload["order_number"], "ORD_20241216_001");
    assert_eq!(
        kitchen.payload["delivery_address"],
        "12 Baker Street, London"
    );
    assert_eq!(kitchen.payload["items"][1]["quantity"], 2);
    assert_eq!(kitchen.payload["total_amount"].to_string(), "15.0");
    let update = &messages[1];
    assert_eq!(update.exchange, "notifications_fanout");
    assert_eq!(update.payload["order_number"], "ORD_20241216_001");
    assert!(update.payload["old_status"].is_null());
    assert_eq!(update.payload["new_status"], "received");
    assert_ne!(kitchen.message_id, update.message_id);
}

async fn order_numbers_are_consecutive_per_day_and_restart_at_utc_midnight(store: TestStore) {
    let late = at(2024, 12, 16, 23, 59, 59);
    let early = at(2024, 12, 17, 0, 0, 1);
    let n1 = store
        .place_order(&pizza(), &meta(late), None)
        .await
        .unwrap()
        .number;
    let n2 = store
        .place_order(&pizza(), &meta(late), None)
        .await
        .unwrap()
        .number;
    let n3 = store
        .place_order(&pizza(), &meta(early), None)
        .await
        .unwrap()
        .number;
    assert_eq!(
        [n1, n2, n3],
        ["ORD_20241216_001", "ORD_20241216_002", "ORD_20241217_001"]
    );
}

async fn concurrent_placements_get_distinct_consecutive_numbers(store: TestStore) {
    let store: Arc<dyn Store> = store.store.clone();
    let now = at(2024, 12, 16, 12, 0, 0);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.place_order(&pizza(), &meta(now), None).await })
        })
        .collect();
    let mut numbers = HashSet::new();
    for t in tasks {
        numbers.insert(t.await.unwrap().unwrap().number);
    }
    let expected: HashSet<String> = (1..=64).map(|i| format!("ORD_20241216_{i:03}")).collect();
    assert_eq!(numbers, expected);
}

async fn totals_are_exact_and_priority_is_stored(store: TestStore) {
    let now = at(2024, 12, 16, 12, 0, 0);
    let dimes = order(
        Destination::Takeout,
        vec![
            item("a", 1, 10),
            item("b", 1, 10),
            item("c", 1, 10),
            item("d", 1, 20),
        ],
    );
    let placed = store.place_order(&dimes, &meta(now), None).await.unwrap();
    let record = store.order(&placed.number).await.unwrap().unwrap();
    assert_eq!(record.total.to_string(), "0.50");
    assert_eq!(record.priority, 1);

    for (cents, priority) in [(5000, 5), (10000, 5), (10001, 10)] {
        let o = order(Destination::Takeout, vec![item("x", 1, cents)]);
        let placed = store.place_order(&o, &meta(now), None).await.unwrap();
        let record = store.order(&placed.number).await.unwrap().unwrap();
        assert_eq!(
            (record.total, record.priority),
            (Money::from_cents(cents), priority)
        );
    }
}

async fn unknown_orders_are_none(store: TestStore) {
    assert_eq!(store.order("ORD_20240101_001").await.unwrap(), None);
    assert_eq!(store.history("ORD_20240101_001").await.unwrap(), None);
    let c = change(Transition::Cancel, "operator", at(2024, 1, 1, 0, 0, 0));
    assert_eq!(
        store.transition("ORD_20240101_001", &c).await.unwrap(),
        TransitionOutcome::NotFound
    );
}

async fn transitions_are_compare_and_set_and_logged(store: TestStore) {
    let t0 = at(2024, 12, 16, 12, 0, 0);
    let n = store
        .place_order(&pizza(), &meta(t0), None)
        .await
        .unwrap()
        .number;

    let refused = store
        .transition(&n, &change(Transition::Complete, "operator", t0))
        .await
        .unwrap();
    assert_eq!(
        refused,
        TransitionOutcome::Refused {
            current: OrderStatus::Received,
            processed_by: None,
        }
    );

    let t1 = at(2024, 12, 16, 12, 0, 1);
    let cooking = store
        .transition(&n, &change(Transition::StartCooking, "chef_mario", t1))
        .await
        .unwrap();
    assert_eq!(
        cooking,
        TransitionOutcome::Applied {
            from: OrderStatus::Received,
            to: OrderStatus::Cooking,
            placed_at: t0,
        }
    );
    let again = store
        .transition(&n, &change(Transition::StartCooking, "chef_luigi", t1))
        .await
        .unwrap();
    assert_eq!(
        again,
        TransitionOutcome::Refused {
            current: OrderStatus::Cooking,
            processed_by: Some("chef_mario".into()),
        }
    );

    let t2 = at(2024, 12, 16, 12, 0, 9);
    store
        .transition(&n, &change(Transition::FinishCooking, "chef_mario", t2))
        .await
        .unwrap();
    let record = store.order(&n).await.unwrap().unwrap();
    assert_eq!(record.status, OrderStatus::Ready);
    assert_eq!(
        record.processed_by.as_deref(),
        Some("chef_mario"),
        "the cook who started it"
    );
    assert_eq!(record.completed_at, Some(t2));
    assert_eq!(record.updated_at, t2);

    let t3 = at(2024, 12, 16, 12, 1, 0);
    store
        .transition(&n, &change(Transition::Complete, "operator", t3))
        .await
        .unwrap();
    let cancel = store
        .transition(&n, &change(Transition::Cancel, "operator", t3))
        .await
        .unwrap();
    assert_eq!(
        cancel,
        TransitionOutcome::Refused {
            current: OrderStatus::Completed,
            processed_by: Some("chef_mario".into()),
        }
    );

    let history = store.history(&n).await.unwrap().unwrap();
    let statuses: Vec<_> = history
        .iter()
        .map(|h| (h.status, h.changed_by.clone().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            (OrderStatus::Received, "order-service".into()),
            (OrderStatus::Cooking, "chef_mario".into()),
            (OrderStatus::Ready, "chef_mario".into()),
            (OrderStatus::Completed, "operator".into()),
        ]
    );

    // An operator may cancel while cooking.
    let m = store
        .place_order(&pizza(), &meta(t0), None)
        .await
        .unwrap()
        .number;
    store
        .transition(&m, &change(Transition::StartCooking, "chef_mario", t1))
        .await
        .unwrap();
    let c = store
        .transition(&m, &change(Transition::Cancel, "operator", t2))
        .await
        .unwrap();
    assert_eq!(
        c,
        TransitionOutcome::Applied {
            from: OrderStatus::Cooking,
            to: OrderStatus::Cancelled,
            placed_at: t0,
        }
    );
}

async fn every_applied_transition_writes_one_status_update(store: TestStore) {
    let t0 = at(2024, 12, 16, 12, 0, 0);
    let n = store
        .place_order(&pizza(), &meta(t0), None)
        .await
        .unwrap()
        .number;
    let eta = at(2024, 12, 16, 12, 0, 8);
    let mut start = change(Transition::StartCooking, "chef_mario", t0);
    start.estimated_completion = Some(eta);
    store.transition(&n, &start).await.unwrap();
    store.transition(&n, &start).await.unwrap(); // refused: writes nothing
    let messages = store.unsent_messages(100).await.unwrap();
    assert_eq!(messages.len(), 3);
    let update = &messages[2].payload;
    assert_eq!(update["order_number"], n.as_str());
    assert_eq!(update["old_status"], "received");
    assert_eq!(update["new_status"], "cooking");
    assert_eq!(update["changed_by"], "chef_mario");
    assert_eq!(update["timestamp"], "2024-12-16T12:00:00Z");
    assert_eq!(update["estimated_completion"], "2024-12-16T12:00:08Z");
}

async fn list_orders_filters_and_pages_newest_first(store: TestStore) {
    let now = at(2024, 12, 16, 12, 0, 0);
    let mut numbers = Vec::new();
    for i in 0..5 {
        let o = if i % 2 == 0 {
            pizza()
        } else {
            order(Destination::Takeout, vec![item("x", 1, 100)])
        };
        numbers.push(
            store
                .place_order(&o, &meta(now), None)
                .await
                .unwrap()
                .number,
        );
    }
    store
        .transition(&numbers[0], &change(Transition::Cancel, "operator", now))
        .await
        .unwrap();

    let all = OrderQuery {
        statuses: vec![],
        order_type: None,
        limit: 2,
        offset: 0,
    };
    let page = store.list_orders(&all).await.unwrap();
    assert_eq!(page.total, 5);
    let got: Vec<_> = page.orders.iter().map(|o| o.number.clone()).collect();
    assert_eq!(got, [numbers[4].clone(), numbers[3].clone()]);
    assert_eq!(page.orders[0].items.len(), 1, "items come with each order");

    let last = store
        .list_orders(&OrderQuery {
            offset: 4,
            ..all.clone()
        })
        .await
        .unwrap();
    assert_eq!(last.orders.len(), 1);
    let past = store
        .list_orders(&OrderQuery {
            offset: 10,
            ..all.clone()
        })
        .await
        .unwrap();
    assert_eq!((past.orders.len(), past.total), (0, 5));

    let dine_in = OrderQuery {
        order_type: Some(OrderType::DineIn),
        limit: 100,
        ..all.clone()
    };
    assert_eq!(store.list_orders(&dine_in).await.unwrap().total, 3);
    let active = OrderQuery {
        statuses: vec![OrderStatus::Received, OrderStatus::Cooking],
        order_type: Some(OrderType::DineIn),
        limit: 100,
        offset: 0,
    };
    assert_eq!(store.list_orders(&active).await.unwrap().total, 2);
}

async fn no_workers_is_an_empty_list(store: TestStore) {
    assert!(store.workers().await.unwrap().is_empty());
    store.ping().await.unwrap();
    assert!(matches!(
        (&store.backend, store.backend()),
        (Backend::Sqlite(_), "sqlite") | (Backend::Postgres(_), "postgres")
    ));
}

/// The SQL that pads sequence numbers must agree with `domain::order_number` past 999.
#[tokio::test]
async fn postgres_numbers_grow_past_999_like_the_domain_says() {
    let db = common::TestDatabase::create().await;
    let store = restaurant_tui::store::open(&db.target()).await.unwrap();
    let mut conn = db.connect().await;
    sqlx::query("INSERT INTO order_counters (day, last_value) VALUES ('2024-12-16', 998)")
        .execute(&mut conn)
        .await
        .unwrap();
    let now = at(2024, 12, 16, 12, 0, 0);
    let a = store
        .place_order(&pizza(), &meta(now), None)
        .await
        .unwrap()
        .number;
    let b = store
        .place_order(&pizza(), &meta(now), None)
        .await
        .unwrap()
        .number;
    assert_eq!([a, b], ["ORD_20241216_999", "ORD_20241216_1000"]);
}

/// A failing step leaves nothing behind: the order's number is taken by a row written outside
/// the store, so the order insert fails after the counter moved; the counter rolls back too.
#[tokio::test]
async fn postgres_a_failed_placement_writes_nothing() {
    let db = common::TestDatabase::create().await;
    let store = restaurant_tui::store::open(&db.target()).await.unwrap();
    let mut conn = db.connect().await;
    sqlx::query(
        "INSERT INTO orders (number, customer_name, type, total_amount) \
         VALUES ('ORD_20241216_001', 'x', 'takeout', 1)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let now = at(2024, 12, 16, 12, 0, 0);
    assert!(store.place_order(&pizza(), &meta(now), None).await.is_err());
    let counts: (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_items), \
                (SELECT count(*) FROM order_status_log), (SELECT count(*) FROM outbox)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(counts, (1, 0, 0, 0));
    let counter: Option<i32> = sqlx::query_scalar("SELECT last_value FROM order_counters")
        .fetch_optional(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        counter, None,
        "the counter increment rolled back with the order"
    );
}

fn worker(name: &str, now: DateTime<Utc>) -> WorkerRegistration {
    WorkerRegistration {
        name: name.into(),
        specialty: "dine_in,takeout".parse().unwrap(),
        heartbeat_interval: Duration::from_secs(30),
        now,
        replace: false,
    }
}

async fn workers_register_and_an_online_name_is_refused_until_it_goes_quiet(store: TestStore) {
    let t0 = at(2024, 12, 16, 12, 0, 0);
    assert!(
        store
            .register_worker(&worker("chef_mario", t0))
            .await
            .unwrap()
    );
    assert!(
        !store
            .register_worker(&worker("chef_mario", t0))
            .await
            .unwrap(),
        "online name is taken"
    );
    let w = &store.workers().await.unwrap()[0];
    assert_eq!(
        (
            w.name.as_str(),
            w.order_types.to_string().as_str(),
            w.status.as_str()
        ),
        ("chef_mario", "dine_in,takeout", "online")
    );
    assert_eq!(w.heartbeat_interval, Duration::from_secs(30));

    // A heartbeat keeps the name; silence beyond twice the interval frees it.
    let t1 = at(2024, 12, 16, 12, 0, 50);
    store
        .worker_seen("chef_mario", WorkerStatus::Online, 0, t1)
        .await
        .unwrap();
    assert!(
        !store
            .register_worker(&worker("chef_mario", at(2024, 12, 16, 12, 1, 49)))
            .await
            .unwrap()
    );
    assert_eq!(
        store.workers().await.unwrap()[0].effective_status(at(2024, 12, 16, 12, 1, 49)),
        WorkerStatus::Online
    );
    assert_eq!(
        store.workers().await.unwrap()[0].effective_status(at(2024, 12, 16, 12, 1, 51)),
        WorkerStatus::Offline
    );
    assert!(
        store
            .register_worker(&worker("chef_mario", at(2024, 12, 16, 12, 1, 51)))
            .await
            .unwrap()
    );

    // A clean stop frees it at once.
    store
        .worker_seen("chef_mario", WorkerStatus::Offline, 0, t1)
        .await
        .unwrap();
    let mut general = worker("chef_mario", t1);
    general.specialty = Specialty::general();
    assert!(store.register_worker(&general).await.unwrap());
    assert_eq!(
        store.workers().await.unwrap()[0].order_types,
        Specialty::general()
    );
}

async fn a_worker_is_processing_while_it_cooks_and_counts_what_it_finished(store: TestStore) {
    // The cook reports its own row; a transition leaves it alone (issue #10).
    let t0 = at(2024, 12, 16, 12, 0, 0);
    store
        .register_worker(&worker("chef_mario", t0))
        .await
        .unwrap();
    let n = store
        .place_order(&pizza(), &meta(t0), None)
        .await
        .unwrap()
        .number;
    store
        .transition(&n, &change(Transition::StartCooking, "chef_mario", t0))
        .await
        .unwrap();
    let w = &store.workers().await.unwrap()[0];
    assert_eq!((w.status.as_str(), w.orders_processed), ("online", 0));
    let t1 = t0 + chrono::Duration::seconds(1);
    store
        .worker_seen("chef_mario", WorkerStatus::Processing, 0, t1)
        .await
        .unwrap();
    let w = &store.workers().await.unwrap()[0];
    assert_eq!(
        (w.status.as_str(), w.orders_processed, w.last_seen),
        ("processing", 0, t1)
    );
    store
        .transition(&n, &change(Transition::FinishCooking, "chef_mario", t0))
        .await
        .unwrap();
    store
        .worker_seen("chef_mario", WorkerStatus::Online, 3, t1)
        .await
        .unwrap();
    let w = &store.workers().await.unwrap()[0];
    assert_eq!((w.status.as_str(), w.orders_processed), ("online", 3));
}

async fn relays_lease_outbox_rows_and_sent_rows_never_come_back(store: TestStore) {
    let t0 = at(2024, 12, 16, 12, 0, 0);
    store
        .place_order(
            &pizza(),
            &WriteMeta {
                now: t0,
                request_id: Some("rq-7".into()),
            },
            None,
        )
        .await
        .unwrap();
    store.place_order(&pizza(), &meta(t0), None).await.unwrap();
    let lease = Duration::from_secs(30);
    let a = store.claim_outbox("relay-a", 3, t0, lease).await.unwrap();
    assert_eq!(a.len(), 3, "oldest first, up to the limit");
    assert_eq!(a[0].message.exchange, "orders_topic");
    assert_eq!(a[0].request_id.as_deref(), Some("rq-7"));
    let b = store.claim_outbox("relay-b", 10, t0, lease).await.unwrap();
    assert_eq!(b.len(), 1, "leased rows are skipped");
    assert!(a.iter().all(|x| x.id != b[0].id));

    let retry = store.claim_outbox("relay-a", 3, t0, lease).await.unwrap();
    assert_eq!(
        retry.len(),
        3,
        "a relay whose publish failed gets its own rows back at once"
    );
    store.mark_sent(&[a[0].id, a[1].id], t0).await.unwrap();
    // relay-a died before sending its third row: after the lease, another relay takes it.
    let later = t0 + chrono::Duration::seconds(31);
    let again = store
        .claim_outbox("relay-b", 10, later, lease)
        .await
        .unwrap();
    let ids: Vec<i64> = again.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![a[2].id, b[0].id]);
    store.mark_sent(&ids, later).await.unwrap();
    assert!(
        store
            .claim_outbox("relay-c", 10, later + chrono::Duration::hours(1), lease)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.unsent_messages(10).await.unwrap().is_empty());
}

async fn concurrent_relays_never_claim_the_same_row(store: TestStore) {
    let t0 = at(2024, 12, 16, 12, 0, 0);
    for _ in 0..50 {
        store.place_order(&pizza(), &meta(t0), None).await.unwrap();
    }
    let store: Arc<dyn Store> = store.store.clone();
    let relays: Vec<_> = (0..4)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store
                        .claim_outbox(&format!("relay-{i}"), 7, t0, Duration::from_secs(60))
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    let ids: Vec<i64> = batch.iter().map(|c| c.id).collect();
                    store.mark_sent(&ids, t0).await.unwrap(); // published, as a relay would
                    mine.extend(ids);
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for r in relays {
        all.extend(r.await.unwrap());
    }
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 100, "every row claimed");
    assert_eq!(distinct.len(), 100, "and none twice");
}

async fn only_the_cook_holding_an_order_can_finish_it(store: TestStore) {
    let t0 = at(2024, 12, 16, 12, 0, 0);
    let n = store
        .place_order(&pizza(), &meta(t0), None)
        .await
        .unwrap()
        .number;
    store
        .transition(&n, &change(Transition::StartCooking, "chef_a", t0))
        .await
        .unwrap();
    // chef_a was cut off; chef_b took the order over.
    store
        .transition(&n, &change(Transition::TakeOver, "chef_b", t0))
        .await
        .unwrap();
    let late = store
        .transition(&n, &change(Transition::FinishCooking, "chef_a", t0))
        .await
        .unwrap();
    assert_eq!(
        late,
        TransitionOutcome::Refused {
            current: OrderStatus::Cooking,
            processed_by: Some("chef_b".into()),
        }
    );
    let state = store.order_state(&n).await.unwrap().unwrap();
    assert_eq!(
        (state.status, state.processed_by.as_deref()),
        (OrderStatus::Cooking, Some("chef_b"))
    );
    assert!(matches!(
        store
            .transition(&n, &change(Transition::FinishCooking, "chef_b", t0))
            .await
            .unwrap(),
        TransitionOutcome::Applied { .. }
    ));
    let readies = store
        .history(&n)
        .await
        .unwrap()
        .unwrap()
        .iter()
        .filter(|h| h.status == OrderStatus::Ready)
        .count();
    assert_eq!(readies, 1);
    assert_eq!(store.order_state("ORD_20240101_999").await.unwrap(), None);
}

async fn the_cooks_estimate_is_stored_when_cooking_starts(store: TestStore) {
    let t0 = at(2024, 12, 16, 12, 0, 0);
    let n = store
        .place_order(&pizza(), &meta(t0), None)
        .await
        .unwrap()
        .number;
    assert_eq!(
        store.order(&n).await.unwrap().unwrap().estimated_completion,
        None
    );
    let mut start = change(Transition::StartCooking, "chef_a", t0);
    start.estimated_completion = Some(t0 + chrono::Duration::seconds(4));
    store.transition(&n, &start).await.unwrap();
    assert_eq!(
        store.order(&n).await.unwrap().unwrap().estimated_completion,
        Some(t0 + chrono::Duration::seconds(4))
    );
    // A take-over starts again with the new cook's own estimate.
    let mut take = change(Transition::TakeOver, "chef_b", t0);
    take.estimated_completion = Some(t0 + chrono::Duration::seconds(9));
    store.transition(&n, &take).await.unwrap();
    // Finishing keeps the last estimate.
    store
        .transition(&n, &change(Transition::FinishCooking, "chef_b", t0))
        .await
        .unwrap();
    assert_eq!(
        store.order(&n).await.unwrap().unwrap().estimated_completion,
        Some(t0 + chrono::Duration::seconds(9))
    );
}

async fn replace_takes_over_a_name_that_is_still_online(store: TestStore) {
    let t0 = at(2024, 12, 16, 12, 0, 0);
    assert!(store.register_worker(&worker("chef", t0)).await.unwrap());
    assert!(!store.register_worker(&worker("chef", t0)).await.unwrap());
    let mut again = worker("chef", t0);
    again.replace = true;
    assert!(store.register_worker(&again).await.unwrap());
    assert_eq!(store.workers().await.unwrap().len(), 1);
}

async fn the_kitchen_backlog_is_every_order_still_waiting_or_cooking_most_urgent_first(
    store: TestStore,
) {
    let t0 = at(2024, 12, 16, 12, 0, 0);
    let small = store
        .place_order(&pizza(), &meta(t0), None)
        .await
        .unwrap()
        .number;
    let big_order = order(Destination::Takeout, vec![item("Feast", 10, 9900)]);
    let big = store
        .place_order(&big_order, &meta(t0), None)
        .await
        .unwrap()
        .number;
    let cooking = store
        .place_order(&pizza(), &meta(t0), None)
        .await
        .unwrap()
        .number;
    let done = store
        .place_order(&pizza(), &meta(t0), None)
        .await
        .unwrap()
        .number;
    let unsent = store
        .place_order(&pizza(), &meta(t0), None)
        .await
        .unwrap()
        .number;
    // Everything but the last order has been published.
    let claimed = store
        .claim_outbox("relay", 8, t0, Duration::from_secs(30))
        .await
        .unwrap();
    let ids: Vec<i64> = claimed.iter().map(|c| c.id).collect();
    store.mark_sent(&ids, t0).await.unwrap();
    store
        .transition(&cooking, &change(Transition::StartCooking, "chef", t0))
        .await
        .unwrap();
    store
        .transition(&done, &change(Transition::Cancel, "operator", t0))
        .await
        .unwrap();
    let backlog: Vec<String> = store
        .kitchen_backlog()
        .await
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c.message.exchange, "orders_topic");
            assert_eq!(c.request_id.as_deref(), Some("req-1"));
            c.message.payload["order_number"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    // Published or not: a relay may have died between publishing and marking the row sent.
    assert_eq!(backlog, [big, small, cooking, unsent]);
}

async fn a_placement_key_places_one_order_however_often_it_is_sent(store: TestStore) {
    let t0 = at(2024, 12, 16, 12, 0, 0);
    let first = store
        .place_order(&pizza(), &meta(t0), Some("key-1"))
        .await
        .unwrap();
    assert!(!first.replayed);
    let again = store
        .place_order(&pizza(), &meta(t0), Some("key-1"))
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(
        (again.number.as_str(), again.total, again.priority),
        (first.number.as_str(), first.total, first.priority)
    );
    // Racing copies of one placement make one order between them.
    let store: Arc<dyn Store> = store.store.clone();
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .place_order(&pizza(), &meta(t0), Some("key-2"))
                    .await
                    .unwrap()
                    .number
            })
        })
        .collect();
    let mut numbers = HashSet::new();
    for r in racers {
        numbers.insert(r.await.unwrap());
    }
    assert_eq!(numbers.len(), 1, "{numbers:?}");
    let all = store
        .list_orders(&OrderQuery {
            statuses: vec![],
            order_type: None,
            limit: 100,
            offset: 0,
        })
        .await
        .unwrap();
    assert_eq!(all.total, 2, "one order per key");
    let unsent = store.unsent_messages(100).await.unwrap();
    assert_eq!(unsent.len(), 4, "and one order's messages each");
    // Without a key every placement is an order.
    let a = store.place_order(&pizza(), &meta(t0), None).await.unwrap();
    let b = store.place_order(&pizza(), &meta(t0), None).await.unwrap();
    assert_ne!(a.number, b.number);
}

async fn notes_and_the_rush_mark_are_kept_on_the_ticket(store: TestStore) {
    let now = at(2024, 12, 16, 10, 0, 0);
    let mut noted = pizza();
    noted.notes = Some("ring twice ✎".into());
    noted.items.push(NewItem {
        notes: Some("no basil".into()),
        ..item("Calzone", 1, 900)
    });
    let placed = store.place_order(&noted, &meta(now), None).await.unwrap();
    let plain = store.place_order(&pizza(), &meta(now), None).await.unwrap();
    let record = store.order(&placed.number).await.unwrap().unwrap();
    assert_eq!(record.notes.as_deref(), Some("ring twice ✎"));
    assert_eq!(record.items[0].notes, None);
    assert_eq!(record.items[1].notes.as_deref(), Some("no basil"));
    assert!(!record.rush);
    assert!(store.set_rush(&placed.number, true).await.unwrap());
    assert!(store.order(&placed.number).await.unwrap().unwrap().rush);
    assert!(!store.order(&plain.number).await.unwrap().unwrap().rush);
    assert!(
        !store.set_rush("ORD_20241216_999", true).await.unwrap(),
        "unknown"
    );
    store
        .transition(&placed.number, &change(Transition::Cancel, "pass", now))
        .await
        .unwrap();
    assert!(
        !store.set_rush(&placed.number, false).await.unwrap(),
        "a finished order keeps its marks"
    );
}

async fn finished_orders_come_newest_finish_first(store: TestStore) {
    let now = at(2024, 12, 16, 10, 0, 0);
    let mut numbers = Vec::new();
    for _ in 0..3 {
        numbers.push(
            store
                .place_order(&pizza(), &meta(now), None)
                .await
                .unwrap()
                .number,
        );
    }
    assert!(store.finished(10).await.unwrap().is_empty());
    // The first placed finishes last: the list follows the finish, not the number.
    let later = |s| now + chrono::Duration::seconds(s);
    store
        .transition(&numbers[1], &change(Transition::Cancel, "pass", later(10)))
        .await
        .unwrap();
    for (n, s) in [(&numbers[0], 20)] {
        for t in [
            Transition::StartCooking,
            Transition::FinishCooking,
            Transition::Complete,
        ] {
            store
                .transition(n, &change(t, "chef", later(s)))
                .await
                .unwrap();
        }
    }
    let finished: Vec<String> = store
        .finished(10)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.number)
        .collect();
    assert_eq!(finished, [numbers[0].clone(), numbers[1].clone()]);
    assert_eq!(store.finished(1).await.unwrap().len(), 1);
}

/// A pizza placed at `now`; its number.
async fn placed(store: &TestStore, now: DateTime<Utc>) -> String {
    store
        .place_order(&pizza(), &meta(now), None)
        .await
        .unwrap()
        .number
}

async fn apply(
    store: &TestStore,
    n: &str,
    transition: Transition,
    by: &str,
    now: DateTime<Utc>,
) -> TransitionOutcome {
    store
        .transition(n, &change(transition, by, now))
        .await
        .unwrap()
}

/// What a relay does with everything unsent: claim it, publish it, mark it.
async fn publish_everything(store: &TestStore, now: DateTime<Utc>) {
    let claimed = store
        .claim_outbox("relay", 100, now, Duration::from_secs(30))
        .await
        .unwrap();
    let ids: Vec<i64> = claimed.iter().map(|c| c.id).collect();
    store.mark_sent(&ids, now).await.unwrap();
}

/// Issue #10: sent messages leave the outbox at once; an order's kitchen message stays
/// (for an in-process bus's refill) until the order leaves the kitchen.
// One story told in order: its checks are many, not nested.
#[allow(clippy::cognitive_complexity)]
async fn the_outbox_keeps_only_what_is_unsent_or_still_in_the_kitchen(store: TestStore) {
    let t0 = at(2024, 12, 16, 12, 0, 0);
    let first = placed(&store, t0).await;
    let second = placed(&store, t0).await;
    let stats = store.outbox_stats().await.unwrap();
    assert_eq!((stats.unsent, stats.kept), (4, 0));
    assert_eq!(stats.oldest_unsent, Some(t0));

    publish_everything(&store, t0).await;
    let stats = store.outbox_stats().await.unwrap();
    assert_eq!(
        (stats.unsent, stats.kept, stats.oldest_unsent),
        (0, 2, None),
        "the two `received` updates are gone; both kitchen messages stay"
    );
    assert_eq!(store.kitchen_backlog().await.unwrap().len(), 2);

    // The first is cooked and ready: its kitchen message goes with it. The second is
    // cancelled before it was cooked: the same.
    for transition in [Transition::StartCooking, Transition::FinishCooking] {
        let applied = apply(&store, &first, transition, "chef", t0).await;
        assert!(matches!(applied, TransitionOutcome::Applied { .. }));
    }
    apply(&store, &second, Transition::Cancel, "operator", t0).await;
    let stats = store.outbox_stats().await.unwrap();
    assert_eq!(
        (stats.unsent, stats.kept),
        (3, 0),
        "cooking, ready, cancelled"
    );
    assert!(store.kitchen_backlog().await.unwrap().is_empty());

    // An update is published with the status it came from, even where the adapter only
    // learns it inside its statement.
    let updates = store.unsent_messages(10).await.unwrap();
    let olds: Vec<&str> = updates
        .iter()
        .map(|m| m.payload["old_status"].as_str().unwrap())
        .collect();
    assert_eq!(olds, ["received", "cooking", "received"]);
    assert_eq!(updates[1].payload["new_status"], "ready");
    assert_eq!(updates[1].payload["order_number"], first.as_str());

    publish_everything(&store, t0).await;
    assert_eq!(
        store.outbox_stats().await.unwrap(),
        restaurant_tui::store::OutboxStats::default(),
        "nothing left once everything is sent and out of the kitchen"
    );
}

/// A relay whose broker failed, or that stops, lets go of its rows: another relay takes them
/// without waiting for the lease.
async fn released_claims_go_to_another_relay_at_once(store: TestStore) {
    let t0 = at(2024, 12, 16, 12, 0, 0);
    placed(&store, t0).await;
    let lease = Duration::from_secs(30);
    let a = store.claim_outbox("relay-a", 10, t0, lease).await.unwrap();
    assert_eq!(a.len(), 2);
    assert!(
        store
            .claim_outbox("relay-b", 10, t0, lease)
            .await
            .unwrap()
            .is_empty()
    );
    store.mark_sent(&[a[0].id], t0).await.unwrap();
    store.release_claims("relay-a").await.unwrap();
    let b = store.claim_outbox("relay-b", 10, t0, lease).await.unwrap();
    assert_eq!(b.len(), 1, "only the unsent row comes back");
    assert_eq!(b[0].id, a[1].id);
}

/// The console's cheap reconciliation: every active order's number, last change and rush mark.
async fn active_stamps_say_which_orders_changed(store: TestStore) {
    let t0 = at(2024, 12, 16, 12, 0, 0);
    let t1 = t0 + chrono::Duration::seconds(5);
    let (a, b, c) = (
        placed(&store, t0).await,
        placed(&store, t0).await,
        placed(&store, t0).await,
    );
    apply(&store, &a, Transition::StartCooking, "chef", t1).await;
    apply(&store, &c, Transition::Cancel, "operator", t1).await;
    assert!(store.set_rush(&b, true).await.unwrap());
    let stamps: Vec<(String, DateTime<Utc>, bool)> = store
        .active_stamps(10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.number, s.updated_at, s.rush))
        .collect();
    assert_eq!(
        stamps,
        [(b.clone(), t0, true), (a.clone(), t1, false)],
        "newest first, no cancelled"
    );
    assert_eq!(store.active_stamps(1).await.unwrap().len(), 1);

    // Then the changed ones are read whole, in one go; an unknown number is left out.
    let mut read = store
        .orders(&[a.clone(), "ORD_20241216_999".into(), c.clone()])
        .await
        .unwrap();
    read.sort_by(|x, y| x.number.cmp(&y.number));
    let got: Vec<(&str, OrderStatus, usize)> = read
        .iter()
        .map(|o| (o.number.as_str(), o.status, o.items.len()))
        .collect();
    assert_eq!(
        got,
        [
            (a.as_str(), OrderStatus::Cooking, 1),
            (c.as_str(), OrderStatus::Cancelled, 1)
        ]
    );
    assert!(store.orders(&[]).await.unwrap().is_empty());
}
