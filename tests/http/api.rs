//! The HTTP contract (CONTRACT §1, §6), black-box over a real socket, on both stores.

use crate::common;

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use common::{TestApp, TestStore, pizza_order};
use restaurant_tui::domain::NewOrder;
use restaurant_tui::store::{
    ClaimedMessage, HistoryEntry, OrderPage, OrderQuery, OrderRecord, OutboxMessage, PlacedOrder,
    StatusChange, Store, StoreError, TransitionOutcome, WorkerRecord, WorkerRegistration,
    WriteMeta,
};
use serde_json::{Value, json};

macro_rules! both_stores {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $test() { super::$test(super::common::sqlite_store().await).await } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $test() { super::$test(super::common::pg_store().await).await } )*
        }
    };
}

both_stores!(
    a_valid_order_is_accepted_with_201_and_an_exact_total,
    every_validation_rule_names_its_field,
    all_failing_fields_are_reported_at_once,
    null_counts_as_absent_and_unknown_fields_are_ignored,
    priorities_are_stored_in_the_orders_table,
    concurrent_creations_get_distinct_consecutive_numbers,
    status_and_history_have_the_contract_shape,
    unknown_orders_are_404_with_a_json_body,
    workers_status_is_an_empty_list_without_workers,
    orders_can_be_listed_filtered_and_paged,
    cancel_and_complete_answer_409_when_not_allowed,
    bad_bodies_get_json_4xx_never_5xx,
    the_request_id_is_echoed_or_generated,
    health_reports_live_and_ready,
    prices_with_more_digits_than_money_keeps_are_refused_not_rounded,
    a_nul_byte_is_a_400_in_a_body_and_a_404_in_a_path,
    a_retried_placement_answers_the_order_it_made_instead_of_a_second,
    notes_on_the_order_and_its_items_are_optional_and_bounded,
);

async fn json_of(r: reqwest::Response) -> Value {
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "every answer is JSON"
    );
    r.json().await.expect("a JSON body")
}

async fn error_fields(app: &TestApp, body: Value) -> Vec<String> {
    let r = app.post_order(&body).await;
    assert_eq!(r.status(), 400, "{body}");
    let v = json_of(r).await;
    assert_eq!(v["error"], "validation_failed");
    v["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_string())
        .collect()
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().unwrap().remove(key);
    base
}

async fn a_valid_order_is_accepted_with_201_and_an_exact_total(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let r = app
        .post_order(&json!({
            "customer_name": "Ann Lee",
            "order_type": "takeout",
            "items": [
                {"name": "a", "quantity": 1, "price": 0.10},
                {"name": "b", "quantity": 1, "price": 0.10},
                {"name": "c", "quantity": 1, "price": 0.10},
                {"name": "d", "quantity": 1, "price": 0.20}
            ]
        }))
        .await;
    assert_eq!(r.status(), 201);
    let text = r.text().await.unwrap();
    assert!(
        text.contains(r#""total_amount":0.50"#),
        "exact two-decimal number: {text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["status"], "received");
    let number = v["order_number"].as_str().unwrap();
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    assert_eq!(number, format!("ORD_{today}_001"));
    assert_eq!(app.orders_column(number, "total_amount").await, "0.50");
}

async fn every_validation_rule_names_its_field(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let ok = pizza_order();
    let item = |name: Value, quantity: Value, price: Value| json!([{"name": name, "quantity": quantity, "price": price}]);
    let cases: Vec<(Value, &str)> = vec![
        (without(ok.clone(), "customer_name"), "customer_name"),
        (
            with(ok.clone(), "customer_name", json!("   ")),
            "customer_name",
        ),
        (
            with(ok.clone(), "customer_name", json!("x".repeat(101))),
            "customer_name",
        ),
        (
            with(ok.clone(), "customer_name", json!("Ann2")),
            "customer_name",
        ),
        (
            with(ok.clone(), "customer_name", json!(42)),
            "customer_name",
        ),
        (without(ok.clone(), "order_type"), "order_type"),
        (
            with(ok.clone(), "order_type", json!("pickup")),
            "order_type",
        ),
        (without(ok.clone(), "table_number"), "table_number"),
        (with(ok.clone(), "table_number", json!(0)), "table_number"),
        (with(ok.clone(), "table_number", json!(101)), "table_number"),
        (with(ok.clone(), "table_number", json!(1.5)), "table_number"),
        (with(ok.clone(), "table_number", json!("5")), "table_number"),
        (
            with(ok.clone(), "delivery_address", json!("12 Baker Street")),
            "delivery_address",
        ),
        (
            json!({"customer_name": "A", "order_type": "takeout", "table_number": 2, "items": item(json!("P"), json!(1), json!(1))}),
            "table_number",
        ),
        (
            json!({"customer_name": "A", "order_type": "takeout", "delivery_address": "12 Baker Street", "items": item(json!("P"), json!(1), json!(1))}),
            "delivery_address",
        ),
        (
            json!({"customer_name": "A", "order_type": "delivery", "items": item(json!("P"), json!(1), json!(1))}),
            "delivery_address",
        ),
        (
            json!({"customer_name": "A", "order_type": "delivery", "delivery_address": "123456789", "items": item(json!("P"), json!(1), json!(1))}),
            "delivery_address",
        ),
        (
            json!({"customer_name": "A", "order_type": "delivery", "delivery_address": "1234567890", "table_number": 3, "items": item(json!("P"), json!(1), json!(1))}),
            "table_number",
        ),
        (without(ok.clone(), "items"), "items"),
        (with(ok.clone(), "items", json!([])), "items"),
        (with(ok.clone(), "items", json!("pizza")), "items"),
        (
            with(
                ok.clone(),
                "items",
                json!(
                    (0..21)
                        .map(|i| json!({"name": format!("i{i}"), "quantity": 1, "price": 1}))
                        .collect::<Vec<_>>()
                ),
            ),
            "items",
        ),
        (
            with(ok.clone(), "items", item(json!(""), json!(1), json!(1))),
            "items[0].name",
        ),
        (
            with(
                ok.clone(),
                "items",
                item(json!("x".repeat(51)), json!(1), json!(1)),
            ),
            "items[0].name",
        ),
        (
            with(ok.clone(), "items", item(json!("P"), json!(0), json!(1))),
            "items[0].quantity",
        ),
        (
            with(ok.clone(), "items", item(json!("P"), json!(11), json!(1))),
            "items[0].quantity",
        ),
        (
            with(ok.clone(), "items", item(json!("P"), json!(1.5), json!(1))),
            "items[0].quantity",
        ),
        (
            with(ok.clone(), "items", item(json!("P"), json!("2"), json!(1))),
            "items[0].quantity",
        ),
        (
            with(ok.clone(), "items", item(json!("P"), json!(1), json!(0))),
            "items[0].price",
        ),
        (
            with(ok.clone(), "items", item(json!("P"), json!(1), json!(1000))),
            "items[0].price",
        ),
        (
            with(
                ok.clone(),
                "items",
                item(json!("P"), json!(1), json!("9.99")),
            ),
            "items[0].price",
        ),
        (
            with(ok.clone(), "items", item(json!("P"), json!(1), json!(-1))),
            "items[0].price",
        ),
        (
            with(
                ok.clone(),
                "items",
                json!([{"name": "Pizza", "quantity": 6, "price": 1}, {"name": " PIZZA ", "quantity": 5, "price": 1}]),
            ),
            "items",
        ),
    ];
    for (body, field) in cases {
        assert_eq!(error_fields(&app, body.clone()).await, [field], "{body}");
    }
    // Exact decimals, told apart by the number's own text.
    let r = app.post_raw("/orders", r#"{"customer_name":"A","order_type":"takeout","items":[{"name":"P","quantity":1,"price":1.005}]}"#, Some("application/json")).await;
    assert_eq!(r.status(), 400);
    let r = app.post_raw("/orders", r#"{"customer_name":"A","order_type":"takeout","items":[{"name":"P","quantity":1,"price":1.500}]}"#, Some("application/json")).await;
    assert_eq!(r.status(), 201);
    // Boundaries that pass.
    for body in [
        with(ok.clone(), "table_number", json!(1)),
        with(ok.clone(), "table_number", json!(100)),
        with(ok.clone(), "customer_name", json!("Zoë O'Brien-Smith")),
        with(
            ok.clone(),
            "items",
            json!([{"name": "Pizza", "quantity": 5, "price": 0.01}, {"name": "pizza", "quantity": 5, "price": 999.99}]),
        ),
        json!({"customer_name": "A", "order_type": "delivery", "delivery_address": "1234567890", "items": [{"name": "P", "quantity": 10, "price": 1}]}),
    ] {
        assert_eq!(app.post_order(&body).await.status(), 201, "{body}");
    }
}

async fn all_failing_fields_are_reported_at_once(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let fields = error_fields(
        &app,
        json!({
            "customer_name": "",
            "order_type": "dine_in",
            "table_number": 500,
            "delivery_address": "somewhere far away",
            "items": [{"name": "", "quantity": 0, "price": 0}]
        }),
    )
    .await;
    assert_eq!(
        fields,
        [
            "customer_name",
            "delivery_address",
            "table_number",
            "items[0].name",
            "items[0].quantity",
            "items[0].price"
        ]
    );
}

async fn null_counts_as_absent_and_unknown_fields_are_ignored(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let body = json!({
        "customer_name": "Ann", "order_type": "takeout", "table_number": null,
        "delivery_address": null, "loyalty_card": "gold",
        "items": [{"name": "P", "quantity": 1, "price": 1, "note": "extra hot"}]
    });
    assert_eq!(app.post_order(&body).await.status(), 201);
}

async fn priorities_are_stored_in_the_orders_table(store: TestStore) {
    let app = TestApp::spawn(store).await;
    for (price, priority) in [(49.99, "1"), (50.00, "5"), (100.00, "5"), (100.01, "10")] {
        let n = app
            .place(&with(
                pizza_order(),
                "items",
                json!([{"name": "P", "quantity": 1, "price": price}]),
            ))
            .await;
        assert_eq!(app.orders_column(&n, "priority").await, priority, "{price}");
    }
}

async fn concurrent_creations_get_distinct_consecutive_numbers(store: TestStore) {
    let app = Arc::new(TestApp::spawn(store).await);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.place(&pizza_order()).await })
        })
        .collect();
    let mut numbers = HashSet::new();
    for t in tasks {
        numbers.insert(t.await.unwrap());
    }
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    let expected: HashSet<String> = (1..=64).map(|i| format!("ORD_{today}_{i:03}")).collect();
    assert_eq!(numbers, expected);
}

async fn status_and_history_have_the_contract_shape(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let n = app.place(&pizza_order()).await;
    let r = app.order_status(&n).await;
    assert_eq!(r.status(), 200);
    let v = json_of(r).await;
    assert_eq!(v["order_number"], n.as_str());
    assert_eq!(v["current_status"], "received");
    assert!(chrono::DateTime::parse_from_rfc3339(v["updated_at"].as_str().unwrap()).is_ok());
    assert!(v["estimated_completion"].is_null());
    assert!(v["processed_by"].is_null());

    let h = json_of(app.order_history(&n).await).await;
    let h = h.as_array().unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["status"], "received");
    assert_eq!(h[0]["changed_by"], "order-service");
    assert!(chrono::DateTime::parse_from_rfc3339(h[0]["timestamp"].as_str().unwrap()).is_ok());
}

async fn unknown_orders_are_404_with_a_json_body(store: TestStore) {
    let app = TestApp::spawn(store).await;
    for path in [
        "/orders/ORD_20200101_001/status",
        "/orders/ORD_20200101_001/history",
        "/orders/nonsense/status",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(json_of(r).await["error"], "not_found");
    }
    let r = app
        .post_raw("/orders/ORD_20200101_001/cancel", "", None)
        .await;
    assert_eq!(r.status(), 404);
}

async fn workers_status_is_an_empty_list_without_workers(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let r = app.get("/workers/status").await;
    assert_eq!(r.status(), 200);
    assert_eq!(json_of(r).await, json!([]));
}

async fn orders_can_be_listed_filtered_and_paged(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let mut numbers = Vec::new();
    for _ in 0..3 {
        numbers.push(app.place(&pizza_order()).await);
    }
    let takeout = json!({"customer_name": "Bo", "order_type": "takeout", "items": [{"name": "P", "quantity": 1, "price": 1}]});
    numbers.push(app.place(&takeout).await);

    let v = json_of(app.get("/orders?limit=2").await).await;
    assert_eq!(v["total"], 4);
    assert_eq!(v["has_more"], true);
    assert_eq!(
        v["orders"][0]["order_number"],
        numbers[3].as_str(),
        "newest first"
    );
    assert_eq!(v["orders"][1]["items"][0]["price"], json!(12.5));
    let v = json_of(app.get("/orders?limit=2&offset=2").await).await;
    assert_eq!(v["has_more"], false);
    let v = json_of(app.get("/orders?type=takeout").await).await;
    assert_eq!(v["total"], 1);
    let v = json_of(app.get("/orders?status=cooking,ready").await).await;
    assert_eq!(v["total"], 0);

    for bad in [
        "limit=0",
        "limit=101",
        "limit=x",
        "offset=-1",
        "status=burnt",
        "type=pickup",
    ] {
        let r = app.get(&format!("/orders?{bad}")).await;
        assert_eq!(r.status(), 400, "{bad}");
        let field = bad.split('=').next().unwrap();
        assert_eq!(json_of(r).await["details"][0]["field"], field);
    }
}

async fn cancel_and_complete_answer_409_when_not_allowed(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let n = app.place(&pizza_order()).await;
    let r = app
        .post_raw(&format!("/orders/{n}/complete"), "", None)
        .await;
    assert_eq!(r.status(), 409, "a received order cannot be handed out");
    assert_eq!(json_of(r).await["error"], "conflict");
    let r = app.post_raw(&format!("/orders/{n}/cancel"), "", None).await;
    assert_eq!(r.status(), 200);
    let v = json_of(r).await;
    assert_eq!(
        (v["previous_status"].as_str(), v["status"].as_str()),
        (Some("received"), Some("cancelled"))
    );
    let r = app.post_raw(&format!("/orders/{n}/cancel"), "", None).await;
    assert_eq!(r.status(), 409, "never applied twice");
    let h = json_of(app.order_history(&n).await).await;
    assert_eq!(h.as_array().unwrap().len(), 2);
}

async fn bad_bodies_get_json_4xx_never_5xx(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let cases: Vec<(&str, Option<&str>, u16)> = vec![
        ("{not json", Some("application/json"), 400),
        ("[1, 2]", Some("application/json"), 400),
        ("\"just a string\"", Some("application/json"), 400),
        ("", Some("application/json"), 400),
        ("{}", None, 415),
        ("{}", Some("text/plain"), 415),
        ("{}", Some("application/json; charset=utf-8"), 400),
    ];
    for (body, ct, status) in cases {
        let r = app.post_raw("/orders", body.to_string(), ct).await;
        assert_eq!(r.status(), status, "{body:?} as {ct:?}");
        let v = json_of(r).await;
        assert!(v["error"].is_string() && v["message"].is_string(), "{v}");
    }
    // Too large: refused from the declared length.
    let big = format!(r#"{{"customer_name": "{}"}}"#, "a".repeat(70 * 1024));
    let r = app.post_raw("/orders", big, Some("application/json")).await;
    assert_eq!(r.status(), 413);
    assert_eq!(json_of(r).await["error"], "payload_too_large");
    // Wrong method and unknown route.
    let r = app.client.delete(app.url("/orders")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(json_of(r).await["error"], "method_not_allowed");
    let r = app.get("/menu").await;
    assert_eq!(r.status(), 404);
    assert_eq!(json_of(r).await["error"], "not_found");
}

async fn the_request_id_is_echoed_or_generated(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let r = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "kitchen-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "kitchen-42");
    let r = app.get("/health/live").await;
    let generated = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(!generated.is_empty());
    let long = "x".repeat(129);
    let r = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", &long)
        .send()
        .await
        .unwrap();
    let replaced = r.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(replaced, long, "over 128 characters is replaced");
    assert!(!replaced.is_empty());
    let r = app
        .client
        .get(app.url("/health/live"))
        .header("x-request-id", "has space")
        .send()
        .await
        .unwrap();
    assert_ne!(
        r.headers()["x-request-id"],
        "has space",
        "only visible ASCII is kept"
    );
    // Errors carry it too.
    let r = app
        .client
        .get(app.url("/nope"))
        .header("x-request-id", "err-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "err-1");
}

async fn health_reports_live_and_ready(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let r = app.get("/health/live").await;
    assert_eq!(r.status(), 200);
    let r = app.get("/health/ready").await;
    assert_eq!(r.status(), 200);
    let v = json_of(r).await;
    assert_eq!(v["database"]["status"], "up");
    assert!(v["broker"].is_object(), "the broker is reported apart");
}

/// A store whose `place_order` waits at a gate, so a test can hold orders in flight.
#[derive(Debug)]
struct GatedStore {
    inner: Arc<dyn Store>,
    entered: tokio::sync::Semaphore,
    gate: tokio::sync::Semaphore,
}

#[async_trait]
impl Store for GatedStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    async fn place_order(
        &self,
        order: &NewOrder,
        meta: &WriteMeta,
        key: Option<&str>,
    ) -> Result<PlacedOrder, StoreError> {
        self.entered.add_permits(1);
        self.gate.acquire().await.unwrap().forget();
        self.inner.place_order(order, meta, key).await
    }
    async fn order(&self, number: &str) -> Result<Option<OrderRecord>, StoreError> {
        self.inner.order(number).await
    }
    async fn order_state(
        &self,
        number: &str,
    ) -> Result<Option<restaurant_tui::store::OrderState>, StoreError> {
        self.inner.order_state(number).await
    }
    async fn history(&self, number: &str) -> Result<Option<Vec<HistoryEntry>>, StoreError> {
        self.inner.history(number).await
    }
    async fn kitchen_backlog(&self) -> Result<Vec<ClaimedMessage>, StoreError> {
        self.inner.kitchen_backlog().await
    }
    async fn list_orders(&self, query: &OrderQuery) -> Result<OrderPage, StoreError> {
        self.inner.list_orders(query).await
    }
    async fn finished(&self, limit: u32) -> Result<Vec<OrderRecord>, StoreError> {
        self.inner.finished(limit).await
    }
    async fn set_rush(&self, number: &str, rush: bool) -> Result<bool, StoreError> {
        self.inner.set_rush(number, rush).await
    }
    async fn transition(
        &self,
        number: &str,
        change: &StatusChange,
    ) -> Result<TransitionOutcome, StoreError> {
        self.inner.transition(number, change).await
    }
    async fn workers(&self) -> Result<Vec<WorkerRecord>, StoreError> {
        self.inner.workers().await
    }
    async fn unsent_messages(&self, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
        self.inner.unsent_messages(limit).await
    }
    async fn claim_outbox(
        &self,
        claimant: &str,
        limit: u32,
        now: chrono::DateTime<chrono::Utc>,
        lease: std::time::Duration,
    ) -> Result<Vec<ClaimedMessage>, StoreError> {
        self.inner.claim_outbox(claimant, limit, now, lease).await
    }
    async fn mark_sent(
        &self,
        ids: &[i64],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.inner.mark_sent(ids, now).await
    }
    async fn release_claims(&self, claimant: &str) -> Result<(), StoreError> {
        self.inner.release_claims(claimant).await
    }
    async fn active_stamps(
        &self,
        limit: u32,
    ) -> Result<Vec<restaurant_tui::store::OrderStamp>, StoreError> {
        self.inner.active_stamps(limit).await
    }
    async fn orders(&self, numbers: &[String]) -> Result<Vec<OrderRecord>, StoreError> {
        self.inner.orders(numbers).await
    }
    async fn outbox_stats(&self) -> Result<restaurant_tui::store::OutboxStats, StoreError> {
        self.inner.outbox_stats().await
    }
    async fn register_worker(&self, worker: &WorkerRegistration) -> Result<bool, StoreError> {
        self.inner.register_worker(worker).await
    }
    async fn worker_seen(
        &self,
        name: &str,
        status: restaurant_tui::domain::WorkerStatus,
        finished: u32,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.inner.worker_seen(name, status, finished, now).await
    }
}

#[tokio::test]
async fn beyond_max_concurrent_creations_and_a_bounded_queue_the_api_answers_503_at_once() {
    let store = common::sqlite_store().await;
    let gated = Arc::new(GatedStore {
        inner: store.store.clone(),
        entered: tokio::sync::Semaphore::new(0),
        gate: tokio::sync::Semaphore::new(0),
    });
    let options = restaurant_tui::api::ApiOptions {
        max_concurrent: 2,
        ..common::options()
    };
    let app = Arc::new(TestApp::spawn_with(store, options, Some(gated.clone())).await);
    let spawn_order =
        |app: Arc<TestApp>| tokio::spawn(async move { app.post_order(&pizza_order()).await });
    let held: Vec<_> = (0..2).map(|_| spawn_order(app.clone())).collect();
    gated.entered.acquire_many(2).await.unwrap().forget(); // both are inside the store now

    // Two run, at most two more wait; the rest are refused without waiting for the gate.
    let flood: Vec<_> = (0..10).map(|_| spawn_order(app.clone())).collect();
    let mut refused = 0;
    let mut waiting = Vec::new();
    for f in flood {
        // Refused ones answer while the gate is still shut; give each a moment to answer.
        match tokio::time::timeout(std::time::Duration::from_secs(2), async {
            f.await.unwrap()
        })
        .await
        {
            Ok(r) => {
                assert_eq!(r.status(), 503);
                assert!(r.headers().contains_key("retry-after"));
                assert_eq!(json_of(r).await["error"], "overloaded");
                refused += 1;
            }
            Err(_) => waiting.push(()),
        }
    }
    assert!(
        refused >= 7,
        "at most the queue's bound waits; refused {refused} of 10"
    );
    assert!(!waiting.is_empty(), "a bounded number may wait");
    // Reads are not held back by the creation bound.
    assert_eq!(app.get("/orders").await.status(), 200);
    gated.gate.add_permits(100);
    for h in held {
        assert_eq!(h.await.unwrap().status(), 201, "the held orders complete");
    }
    assert_eq!(
        app.post_order(&pizza_order()).await.status(),
        201,
        "capacity is back"
    );
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_with_retry_after() {
    let options = restaurant_tui::api::ApiOptions {
        rate_limit_per_second: 1,
        rate_limit_burst: 3,
        ..common::options()
    };
    let app = TestApp::spawn_with(common::sqlite_store().await, options, None).await;
    for _ in 0..3 {
        assert_eq!(app.get("/orders").await.status(), 200);
    }
    let r = app.get("/orders").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(json_of(r).await["error"], "rate_limited");
    assert_eq!(
        app.get("/health/live").await.status(),
        200,
        "health is never rate limited"
    );
}

#[tokio::test]
async fn with_a_token_mutating_routes_and_the_order_list_need_it() {
    let options = restaurant_tui::api::ApiOptions {
        token: Some("s3cret".into()),
        ..common::options()
    };
    let app = TestApp::spawn_with(common::sqlite_store().await, options, None).await;
    let r = app.post_order(&pizza_order()).await;
    assert_eq!(r.status(), 401);
    assert_eq!(json_of(r).await["error"], "unauthorized");
    let r = app
        .client
        .post(app.url("/orders"))
        .header("content-type", "application/json")
        .bearer_auth("s3cret")
        .body(pizza_order().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let number = json_of(r).await["order_number"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get("/orders").await.status(),
        401,
        "the list holds names and addresses"
    );
    let r = app
        .client
        .get(app.url("/orders"))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for open in [
        format!("/orders/{number}/status"),
        format!("/orders/{number}/history"),
        "/workers/status".into(),
        "/health/live".into(),
        "/health/ready".into(),
    ] {
        assert_eq!(app.get(&open).await.status(), 200, "{open} stays open");
    }
}

#[tokio::test]
async fn the_tracking_service_serves_reads_only() {
    let options = restaurant_tui::api::ApiOptions {
        read_only: true,
        ..common::options()
    };
    let app = TestApp::spawn_with(common::sqlite_store().await, options, None).await;
    assert_eq!(app.post_order(&pizza_order()).await.status(), 405);
    assert_eq!(app.get("/workers/status").await.status(), 200);
}

async fn prices_with_more_digits_than_money_keeps_are_refused_not_rounded(store: TestStore) {
    let app = TestApp::spawn(store).await;
    for price in [
        "0.009999999999999999999999999999",
        "12.5000000000000000000000000000001",
        "1e-30",
    ] {
        let body = format!(
            r#"{{"customer_name": "Ann", "order_type": "takeout",
                "items": [{{"name": "P", "quantity": 1, "price": {price}}}]}}"#
        );
        let r = app
            .post_raw("/orders", body, Some("application/json"))
            .await;
        assert_eq!(r.status(), 400, "{price}");
        let v = json_of(r).await;
        assert_eq!(v["details"][0]["field"], "items[0].price", "{price}: {v}");
    }
    let exact = r#"{"customer_name": "Ann", "order_type": "takeout",
                    "items": [{"name": "P", "quantity": 1, "price": 12.500000000000000000000000000000}]}"#;
    let r = app
        .post_raw("/orders", exact, Some("application/json"))
        .await;
    assert_eq!(r.status(), 201, "trailing zeros are not digits");
    assert!(r.text().await.unwrap().contains(r#""total_amount":12.50"#));
}

async fn a_nul_byte_is_a_400_in_a_body_and_a_404_in_a_path(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let body = json!({"customer_name": "Ann", "order_type": "delivery",
                      "delivery_address": "12 Baker\u{0} Street, London",
                      "items": [{"name": "Pizza\u{0}", "quantity": 1, "price": 5}]});
    assert_eq!(
        error_fields(&app, body).await,
        ["delivery_address", "items[0].name"]
    );
    for path in [
        "/orders/ORD_20241216_001%00/status",
        "/orders/ORD_20241216_001%00/history",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(json_of(r).await["error"], "not_found");
    }
    for verb in ["cancel", "complete"] {
        let r = app
            .post_raw(&format!("/orders/ORD%00/{verb}"), "", None)
            .await;
        assert_eq!(r.status(), 404, "{verb}");
    }
}

async fn a_retried_placement_answers_the_order_it_made_instead_of_a_second(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let post = |headers: Vec<(&'static str, String)>, body: Value| {
        let mut req = app
            .client
            .post(app.url("/orders"))
            .header("content-type", "application/json")
            .body(body.to_string());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    let number = |v: Value| v["order_number"].as_str().unwrap().to_string();
    // The client's Idempotency-Key.
    let first = post(vec![("idempotency-key", "order-42".into())], pizza_order())
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let first = number(json_of(first).await);
    let retry = post(vec![("idempotency-key", "order-42".into())], pizza_order())
        .await
        .unwrap();
    assert_eq!(retry.status(), 201, "the original order, answered again");
    assert_eq!(number(json_of(retry).await), first);
    // Without one, the request id is the key.
    let a = post(vec![("x-request-id", "retry-me".into())], pizza_order())
        .await
        .unwrap();
    let b = post(vec![("x-request-id", "retry-me".into())], pizza_order())
        .await
        .unwrap();
    assert_eq!(number(json_of(a).await), number(json_of(b).await));
    // The same key for a different order is refused, not silently dropped.
    let mut other = pizza_order();
    other["customer_name"] = json!("Bob Stone");
    let clash = post(vec![("idempotency-key", "order-42".into())], other)
        .await
        .unwrap();
    assert_eq!(clash.status(), 409);
    assert!(
        json_of(clash).await["message"]
            .as_str()
            .unwrap()
            .contains("different order")
    );
    // A key that cannot be a header value of ours names the header.
    let bad = post(vec![("idempotency-key", "x".repeat(256))], pizza_order())
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(json_of(bad).await["details"][0]["field"], "Idempotency-Key");
    let listed = json_of(app.get("/orders").await).await;
    assert_eq!(
        listed["total"], 2,
        "two orders, however often they were sent"
    );
}

async fn notes_on_the_order_and_its_items_are_optional_and_bounded(store: TestStore) {
    let app = TestApp::spawn(store).await;
    let mut body = pizza_order();
    body["notes"] = json!("ring twice");
    body["items"][0]["notes"] = json!("no basil");
    let r = app.post_order(&body).await;
    assert_eq!(r.status(), 201);
    let number = json_of(r).await["order_number"]
        .as_str()
        .unwrap()
        .to_string();
    let record = app.store.store.order(&number).await.unwrap().unwrap();
    assert_eq!(record.notes.as_deref(), Some("ring twice"));
    assert_eq!(record.items[0].notes.as_deref(), Some("no basil"));
    // Old clients send none; null is none.
    let r = app
        .post_order(&with(pizza_order(), "notes", Value::Null))
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        error_fields(&app, with(pizza_order(), "notes", json!("x".repeat(201)))).await,
        ["notes"]
    );
    assert_eq!(
        error_fields(&app, with(pizza_order(), "notes", json!(5))).await,
        ["notes"]
    );
    let mut bad = pizza_order();
    bad["items"][0]["notes"] = json!("a\u{7}b");
    assert_eq!(error_fields(&app, bad).await, ["items[0].notes"]);
}
