//! The kitchen on the embedded default (SQLite + in-process bus), step by step: relay, worker
//! steps, redeliveries, stops (CONTRACT §4, §5).

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use restaurant_tui::broker::memory::MemoryBus;
use restaurant_tui::broker::{Broker, BrokerError, BrokerStatus, DeadLetter, Deliveries, Outgoing};
use restaurant_tui::config::CookTimes;
use restaurant_tui::domain::{OrderStatus, OrderType, Specialty, SystemClock};
use restaurant_tui::kitchen::{KitchenError, Outcome, Worker, WorkerSpec};
use restaurant_tui::relay::Relay;
use restaurant_tui::service::OrderService;
use serde_json::json;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

struct Kitchen {
    store: common::TestStore,
    bus: Arc<dyn Broker>,
    orders: OrderService,
    relay: Relay,
    wake: Arc<Notify>,
    stop: CancellationToken,
}

impl Kitchen {
    async fn new() -> Kitchen {
        Kitchen::with_broker(Arc::new(MemoryBus::new())).await
    }

    async fn with_broker(bus: Arc<dyn Broker>) -> Kitchen {
        let store = common::sqlite_store().await;
        let wake = Arc::new(Notify::new());
        let orders = OrderService::new(store.store.clone(), Arc::new(SystemClock))
            .with_outbox_wake(wake.clone());
        let relay = Relay::new(
            store.store.clone(),
            bus.clone(),
            Arc::new(SystemClock),
            wake.clone(),
        );
        let stop = CancellationToken::new();
        Kitchen {
            store,
            bus,
            orders,
            relay,
            wake,
            stop,
        }
    }

    fn worker(&self, name: &str, cook: Duration) -> Worker {
        let mut spec = WorkerSpec::new(name);
        spec.cook_times = CookTimes {
            dine_in: cook,
            takeout: cook,
            delivery: cook,
        };
        self.worker_with(spec)
    }

    fn worker_with(&self, spec: WorkerSpec) -> Worker {
        Worker::new(
            spec,
            self.store.store.clone(),
            self.bus.clone(),
            Arc::new(SystemClock),
            self.wake.clone(),
        )
    }

    async fn place(&self, kind: &str, price: f64) -> String {
        let mut body = json!({"customer_name": "Ann", "order_type": kind, "items": [{"name": "P", "quantity": 1, "price": price}]});
        match kind {
            "dine_in" => body["table_number"] = json!(4),
            "delivery" => body["delivery_address"] = json!("12 Baker Street, London"),
            _ => {}
        }
        let draft = draft_of(&body);
        let n = self.orders.place(&draft, None, None).await.unwrap().number;
        self.relay.run_once().await.unwrap();
        n
    }

    async fn history(&self, n: &str) -> Vec<(OrderStatus, String)> {
        self.store
            .history(n)
            .await
            .unwrap()
            .unwrap()
            .into_iter()
            .map(|h| (h.status, h.changed_by.unwrap_or_default()))
            .collect()
    }

    async fn status(&self, n: &str) -> OrderStatus {
        self.store.order(n).await.unwrap().unwrap().status
    }
}

fn draft_of(body: &serde_json::Value) -> restaurant_tui::domain::OrderDraft {
    use restaurant_tui::domain::{Field, ItemDraft, OrderDraft};
    let text = |k: &str| {
        body.get(k)
            .and_then(|v| v.as_str())
            .map(|s| Field::Given(s.to_string()))
            .unwrap_or(Field::Absent)
    };
    OrderDraft {
        customer_name: text("customer_name"),
        order_type: text("order_type"),
        table_number: body
            .get("table_number")
            .and_then(|v| v.as_i64())
            .map(Field::Given)
            .unwrap_or(Field::Absent),
        delivery_address: text("delivery_address"),
        items: Field::Given(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    Field::Given(ItemDraft {
                        name: Field::Given(i["name"].as_str().unwrap().into()),
                        quantity: Field::Given(i["quantity"].as_i64().unwrap()),
                        price: Field::Given(format!("{:.2}", i["price"].as_f64().unwrap())),
                        notes: Field::Absent,
                    })
                })
                .collect(),
        ),
        notes: text("notes"),
    }
}

async fn next(d: &mut Deliveries) -> restaurant_tui::broker::Delivery {
    tokio::time::timeout(Duration::from_secs(10), d.next())
        .await
        .expect("a delivery")
        .expect("open")
}

#[tokio::test]
async fn a_placed_order_is_cooked_to_ready_with_its_history_and_updates() {
    let k = Kitchen::new().await;
    let mut watcher = k.bus.subscribe_updates("test").await.unwrap();
    let n = k.place("dine_in", 12.5).await;
    let w = k.worker("chef_mario", Duration::ZERO);
    w.register().await.unwrap();
    let mut orders = k
        .bus
        .consume_orders("chef_mario", &OrderType::ALL, 1)
        .await
        .unwrap();
    let outcome = w.process_one(next(&mut orders).await, &k.stop).await;
    assert_eq!(
        outcome,
        Outcome::Cooked {
            order_number: n.clone()
        }
    );
    assert_eq!(
        k.history(&n).await,
        [
            (OrderStatus::Received, "order-service".into()),
            (OrderStatus::Cooking, "chef_mario".into()),
            (OrderStatus::Ready, "chef_mario".into())
        ]
    );
    let record = k.store.order(&n).await.unwrap().unwrap();
    assert_eq!(record.processed_by.as_deref(), Some("chef_mario"));
    assert!(record.completed_at.is_some());
    // The cook's own row is kept by its running loop (see the prefetch story below).

    k.relay.run_once().await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let d = next(&mut watcher).await;
        let v: serde_json::Value = serde_json::from_slice(&d.body).unwrap();
        seen.push((v["old_status"].clone(), v["new_status"].clone()));
        d.ack().await.unwrap();
    }
    assert_eq!(
        seen,
        [
            (json!(null), json!("received")),
            (json!("received"), json!("cooking")),
            (json!("cooking"), json!("ready"))
        ]
    );
}

#[tokio::test]
async fn a_duplicate_delivery_changes_nothing() {
    let k = Kitchen::new().await;
    let n = k.place("takeout", 5.0).await;
    assert!(
        k.store.unsent_messages(10).await.unwrap().is_empty(),
        "published once already"
    );
    let w = k.worker("chef_mario", Duration::ZERO);
    w.register().await.unwrap();
    let mut orders = k
        .bus
        .consume_orders("chef_mario", &OrderType::ALL, 2)
        .await
        .unwrap();
    let first = next(&mut orders).await;
    // A second copy, as when a relay dies after publishing and before marking the row sent.
    let body = first.body.clone();
    k.bus
        .publish(&Outgoing {
            exchange: "orders_topic".into(),
            routing_key: "kitchen.takeout.1".into(),
            priority: 1,
            message_id: "dup".into(),
            request_id: None,
            body,
        })
        .await
        .unwrap();
    assert!(matches!(
        w.process_one(first, &k.stop).await,
        Outcome::Cooked { .. }
    ));
    let second = w.process_one(next(&mut orders).await, &k.stop).await;
    assert_eq!(
        second,
        Outcome::Skipped {
            order_number: n.clone(),
            status: OrderStatus::Ready
        }
    );
    let ready_rows = k
        .history(&n)
        .await
        .iter()
        .filter(|(s, _)| *s == OrderStatus::Ready)
        .count();
    assert_eq!(ready_rows, 1);
}

#[tokio::test]
async fn an_order_whose_cook_died_is_taken_over_and_ready_exactly_once() {
    let k = Kitchen::new().await;
    let n = k.place("dine_in", 10.0).await;
    let a = k.worker("chef_a", Duration::from_secs(3600));
    a.register().await.unwrap();
    let mut a_orders = k
        .bus
        .consume_orders("chef_a", &OrderType::ALL, 1)
        .await
        .unwrap();
    let d = next(&mut a_orders).await;
    let stop = k.stop.clone();
    let cooking = tokio::spawn(async move { a.process_one(d, &stop).await });
    while k.status(&n).await != OrderStatus::Cooking {
        tokio::task::yield_now().await;
    }
    cooking.abort(); // the cook dies mid-cooking, holding the message
    let _ = cooking.await;
    drop(a_orders);

    let b = k.worker("chef_b", Duration::ZERO);
    b.register().await.unwrap();
    let mut b_orders = k
        .bus
        .consume_orders("chef_b", &OrderType::ALL, 1)
        .await
        .unwrap();
    let d = next(&mut b_orders).await;
    assert!(d.redelivered);
    assert_eq!(
        b.process_one(d, &k.stop).await,
        Outcome::Cooked {
            order_number: n.clone()
        }
    );
    assert_eq!(
        k.history(&n).await,
        [
            (OrderStatus::Received, "order-service".into()),
            (OrderStatus::Cooking, "chef_a".into()),
            (OrderStatus::Cooking, "chef_b".into()),
            (OrderStatus::Ready, "chef_b".into()),
        ]
    );
    assert_eq!(
        k.store
            .order(&n)
            .await
            .unwrap()
            .unwrap()
            .processed_by
            .as_deref(),
        Some("chef_b")
    );
}

#[tokio::test]
async fn poison_and_unknown_orders_are_dead_lettered_once() {
    let k = Kitchen::new().await;
    let w = k.worker("chef", Duration::ZERO);
    w.register().await.unwrap();
    let raw = |body: &str| Outgoing {
        exchange: "orders_topic".into(),
        routing_key: "kitchen.dine_in.1".into(),
        priority: 1,
        message_id: uuid::Uuid::new_v4().to_string(),
        request_id: None,
        body: body.as_bytes().to_vec(),
    };
    k.bus.publish(&raw("{not json")).await.unwrap();
    let mut orders = k
        .bus
        .consume_orders("chef", &OrderType::ALL, 1)
        .await
        .unwrap();
    assert!(matches!(
        w.process_one(next(&mut orders).await, &k.stop).await,
        Outcome::DeadLettered { .. }
    ));
    let ghost = json!({"order_number": "ORD_20200101_001", "customer_name": "A", "customer_type": "regular", "order_type": "dine_in",
                       "table_number": 1, "delivery_address": null, "items": [], "total_amount": 1.00, "priority": 1});
    k.bus.publish(&raw(&ghost.to_string())).await.unwrap();
    assert!(
        matches!(w.process_one(next(&mut orders).await, &k.stop).await, Outcome::DeadLettered { reason } if reason.contains("unknown order"))
    );
    let dead: Vec<DeadLetter> = k.bus.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 2);
    assert!(dead[0].reason.starts_with("unparseable order message"));
}

#[tokio::test]
async fn an_order_cancelled_while_cooking_is_not_marked_ready() {
    let k = Kitchen::new().await;
    let n = k.place("takeout", 5.0).await;
    // Long enough that only the cancellation can end it within the test's deadline.
    let w = k.worker("chef", Duration::from_secs(3600));
    w.register().await.unwrap();
    let mut orders = k
        .bus
        .consume_orders("chef", &OrderType::ALL, 1)
        .await
        .unwrap();
    let d = next(&mut orders).await;
    let stop = k.stop.clone();
    let cooking = tokio::spawn(async move { w.process_one(d, &stop).await });
    while k.status(&n).await != OrderStatus::Cooking {
        tokio::task::yield_now().await;
    }
    k.orders
        .operator_transition(
            &n,
            restaurant_tui::domain::Transition::Cancel,
            "operator",
            None,
            None,
        )
        .await
        .unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(30), cooking)
        .await
        .expect("the cook drops a cancelled order instead of cooking it to the end")
        .unwrap();
    assert_eq!(
        outcome,
        Outcome::Interrupted {
            order_number: n.clone(),
            status: OrderStatus::Cancelled,
            processed_by: Some("chef".into()),
        }
    );
    assert_eq!(k.status(&n).await, OrderStatus::Cancelled);
    let chef = &k.store.workers().await.unwrap()[0];
    assert_eq!(
        chef.status.as_str(),
        "online",
        "the cook is free for the next order"
    );
    // Its message was settled: nothing comes back to the queue.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), orders.next())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_graceful_stop_finishes_the_order_in_hand_and_goes_offline() {
    let k = Kitchen::new().await;
    let n = k.place("dine_in", 5.0).await;
    let running = tokio::spawn(
        k.worker("chef", Duration::from_millis(500))
            .run(k.stop.clone()),
    );
    while k.status(&n).await != OrderStatus::Cooking {
        tokio::task::yield_now().await;
    }
    k.stop.cancel();
    running.await.unwrap().unwrap();
    assert_eq!(k.status(&n).await, OrderStatus::Ready);
    assert_eq!(
        k.store.workers().await.unwrap()[0].status.as_str(),
        "offline"
    );
}

#[tokio::test]
async fn a_stop_that_runs_out_of_time_hands_the_order_back() {
    let k = Kitchen::new().await;
    let n = k.place("dine_in", 5.0).await;
    let mut spec = WorkerSpec::new("chef");
    spec.cook_times = CookTimes {
        dine_in: Duration::from_secs(3600),
        ..CookTimes::default()
    };
    spec.shutdown_timeout = Duration::ZERO;
    let running = tokio::spawn(k.worker_with(spec).run(k.stop.clone()));
    while k.status(&n).await != OrderStatus::Cooking {
        tokio::task::yield_now().await;
    }
    k.stop.cancel();
    running.await.unwrap().unwrap();
    assert_eq!(
        k.store.workers().await.unwrap()[0].status.as_str(),
        "offline"
    );
    // The next cook gets it back and takes it over.
    let stop = CancellationToken::new();
    let w = k.worker("chef_2", Duration::ZERO);
    w.register().await.unwrap();
    let mut orders = k
        .bus
        .consume_orders("chef_2", &OrderType::ALL, 1)
        .await
        .unwrap();
    assert_eq!(
        w.process_one(next(&mut orders).await, &stop).await,
        Outcome::Cooked { order_number: n }
    );
}

#[tokio::test]
async fn an_online_name_cannot_be_registered_twice() {
    let k = Kitchen::new().await;
    k.worker("chef_mario", Duration::ZERO)
        .register()
        .await
        .unwrap();
    let again = k.worker("chef_mario", Duration::ZERO).register().await;
    assert!(matches!(again, Err(KitchenError::NameTaken(name)) if name == "chef_mario"));
}

#[tokio::test]
async fn a_specialised_worker_leaves_other_types_for_a_worker_that_cooks_them() {
    let k = Kitchen::new().await;
    let dine = k.place("dine_in", 5.0).await;
    let delivery = k.place("delivery", 5.0).await;
    let mut spec = WorkerSpec::new("dine_only");
    spec.specialty = Specialty::only([OrderType::DineIn]);
    spec.cook_times = CookTimes {
        dine_in: Duration::ZERO,
        takeout: Duration::ZERO,
        delivery: Duration::ZERO,
    };
    let w = k.worker_with(spec);
    w.register().await.unwrap();
    let mut mine = k
        .bus
        .consume_orders("dine_only", &[OrderType::DineIn], 1)
        .await
        .unwrap();
    assert_eq!(
        w.process_one(next(&mut mine).await, &k.stop).await,
        Outcome::Cooked { order_number: dine }
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(200), mine.next())
            .await
            .is_err(),
        "the delivery order is not offered"
    );
    assert_eq!(k.status(&delivery).await, OrderStatus::Received);
    let g = k.worker("general", Duration::ZERO);
    g.register().await.unwrap();
    let mut all = k
        .bus
        .consume_orders("general", &OrderType::ALL, 1)
        .await
        .unwrap();
    let d = next(&mut all).await;
    assert!(!d.redelivered, "never bounced between workers");
    assert_eq!(
        g.process_one(d, &k.stop).await,
        Outcome::Cooked {
            order_number: delivery
        }
    );
}

#[tokio::test]
async fn with_prefetch_one_a_big_order_is_cooked_before_the_small_ones_waiting() {
    let k = Kitchen::new().await;
    let mut small = Vec::new();
    for _ in 0..5 {
        small.push(k.place("takeout", 5.0).await);
    }
    let big = k.place("takeout", 150.0).await;
    let w = k.worker("chef", Duration::ZERO);
    w.register().await.unwrap();
    let mut orders = k
        .bus
        .consume_orders("chef", &OrderType::ALL, 1)
        .await
        .unwrap();
    assert_eq!(
        w.process_one(next(&mut orders).await, &k.stop).await,
        Outcome::Cooked { order_number: big }
    );
    assert_eq!(
        w.process_one(next(&mut orders).await, &k.stop).await,
        Outcome::Cooked {
            order_number: small[0].clone()
        }
    );
}

/// A broker that is down until told otherwise.
#[derive(Debug)]
struct Outage {
    inner: MemoryBus,
    down: AtomicBool,
}

#[async_trait]
impl Broker for Outage {
    fn kind(&self) -> &'static str {
        "outage"
    }
    fn status(&self) -> watch::Receiver<BrokerStatus> {
        self.inner.status()
    }
    async fn publish(&self, m: &Outgoing) -> Result<(), BrokerError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(BrokerError::Unavailable("connection refused".into()));
        }
        self.inner.publish(m).await
    }
    async fn consume_orders(
        &self,
        c: &str,
        t: &[OrderType],
        p: u16,
    ) -> Result<Deliveries, BrokerError> {
        self.inner.consume_orders(c, t, p).await
    }
    async fn subscribe_updates(&self, s: &str) -> Result<Deliveries, BrokerError> {
        self.inner.subscribe_updates(s).await
    }
    async fn dead_letters(&self, l: usize) -> Result<Vec<DeadLetter>, BrokerError> {
        self.inner.dead_letters(l).await
    }
    async fn replay_dead_letter(&self, id: &str) -> Result<Option<DeadLetter>, BrokerError> {
        self.inner.replay_dead_letter(id).await
    }
    async fn purge_dead_letters(&self) -> Result<u64, BrokerError> {
        self.inner.purge_dead_letters().await
    }
}

#[tokio::test]
async fn an_order_accepted_while_the_broker_is_down_is_cooked_after_it_returns() {
    let broker = Arc::new(Outage {
        inner: MemoryBus::new(),
        down: AtomicBool::new(true),
    });
    let k = Kitchen::with_broker(broker.clone()).await;
    let draft = draft_of(
        &json!({"customer_name": "Ann", "order_type": "takeout", "items": [{"name": "P", "quantity": 1, "price": 5.0}]}),
    );
    let n = k.orders.place(&draft, None, None).await.unwrap().number;
    assert!(
        k.relay.run_once().await.is_err(),
        "nothing can be published"
    );
    assert_eq!(
        k.store.unsent_messages(10).await.unwrap().len(),
        2,
        "the order's messages wait in the outbox"
    );
    broker.down.store(false, Ordering::SeqCst);
    assert_eq!(k.relay.run_once().await.unwrap(), 2);
    let w = k.worker("chef", Duration::ZERO);
    w.register().await.unwrap();
    let mut orders = k
        .bus
        .consume_orders("chef", &OrderType::ALL, 1)
        .await
        .unwrap();
    assert_eq!(
        w.process_one(next(&mut orders).await, &k.stop).await,
        Outcome::Cooked { order_number: n }
    );
}

/// Polls `cooking` until it reaches `want`, for 10 s at most.
async fn until_cooking(k: &Kitchen, orders: &[String], want: usize) -> usize {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut cooking = 0;
        for n in orders {
            if k.status(n).await == OrderStatus::Cooking {
                cooking += 1;
            }
        }
        if cooking >= want || tokio::time::Instant::now() > deadline {
            return cooking;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Issue #10: prefetch is the number of burners. Three at once, never a fourth; a graceful
/// stop finishes all three and hands back none of them.
#[tokio::test]
async fn a_worker_cooks_up_to_its_prefetch_at_once_and_a_stop_finishes_them_all() {
    let k = Kitchen::new().await;
    let mut orders = Vec::new();
    for _ in 0..5 {
        orders.push(k.place("takeout", 5.0).await);
    }
    let mut spec = WorkerSpec::new("chef");
    spec.prefetch = 3;
    spec.cook_times = CookTimes {
        takeout: Duration::from_millis(1500),
        ..CookTimes::default()
    };
    let running = tokio::spawn(k.worker_with(spec).run(k.stop.clone()));
    assert_eq!(until_cooking(&k, &orders, 3).await, 3, "three burners lit");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(until_cooking(&k, &orders, 3).await, 3, "never a fourth");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while k.store.workers().await.unwrap()[0].status.as_str() != "processing" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cook reports itself busy"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cooking: Vec<String> = {
        let mut v = Vec::new();
        for n in &orders {
            if k.status(n).await == OrderStatus::Cooking {
                v.push(n.clone());
            }
        }
        v
    };
    k.stop.cancel();
    running.await.unwrap().unwrap();
    let mut ready = 0;
    for n in &orders {
        match k.status(n).await {
            OrderStatus::Ready => {
                assert!(cooking.contains(n), "only the orders in hand are finished");
                assert_eq!(
                    k.history(n)
                        .await
                        .iter()
                        .filter(|(s, _)| *s == OrderStatus::Ready)
                        .count(),
                    1
                );
                ready += 1;
            }
            OrderStatus::Received => {}
            other => panic!("{n} is {other}"),
        }
    }
    assert_eq!(ready, 3, "the three in hand were finished at the stop");
    assert_eq!(
        k.store.workers().await.unwrap()[0].status.as_str(),
        "offline"
    );
    assert_eq!(k.store.workers().await.unwrap()[0].orders_processed, 3);

    // The two never started went back to the queue: the next cook gets both.
    let next_cook = k.worker("chef_2", Duration::ZERO);
    next_cook.register().await.unwrap();
    let mut queue = k
        .bus
        .consume_orders("chef_2", &OrderType::ALL, 5)
        .await
        .unwrap();
    for _ in 0..2 {
        let outcome = next_cook
            .process_one(next(&mut queue).await, &CancellationToken::new())
            .await;
        assert!(matches!(outcome, Outcome::Cooked { .. }), "{outcome:?}");
    }
}

/// A stop that runs out of time hands back every order in hand, each taken over exactly once
/// by the next cook.
#[tokio::test]
async fn a_stop_out_of_time_hands_back_every_order_in_hand() {
    let k = Kitchen::new().await;
    let mut orders = Vec::new();
    for _ in 0..3 {
        orders.push(k.place("dine_in", 5.0).await);
    }
    let mut spec = WorkerSpec::new("chef");
    spec.prefetch = 3;
    spec.cook_times = CookTimes {
        dine_in: Duration::from_secs(3600),
        ..CookTimes::default()
    };
    spec.shutdown_timeout = Duration::ZERO;
    let running = tokio::spawn(k.worker_with(spec).run(k.stop.clone()));
    assert_eq!(until_cooking(&k, &orders, 3).await, 3);
    k.stop.cancel();
    running.await.unwrap().unwrap();
    let next_cook = k.worker("chef_2", Duration::ZERO);
    next_cook.register().await.unwrap();
    let mut queue = k
        .bus
        .consume_orders("chef_2", &OrderType::ALL, 3)
        .await
        .unwrap();
    for _ in 0..3 {
        let outcome = next_cook
            .process_one(next(&mut queue).await, &CancellationToken::new())
            .await;
        assert!(matches!(outcome, Outcome::Cooked { .. }), "{outcome:?}");
    }
    for n in &orders {
        let h = k.history(n).await;
        assert_eq!(
            h.iter().filter(|(s, _)| *s == OrderStatus::Ready).count(),
            1
        );
        assert_eq!(
            h.iter().filter(|(s, _)| *s == OrderStatus::Cooking).count(),
            2
        );
    }
}
