//! The one assembly in-process, as every mode uses it: an embedded kitchen built from a
//! configuration, supervised, reported in readiness, stopped in order, and its data locked.

use crate::common;

use std::time::{Duration, Instant};

use restaurant_tui::assembly::{Assembly, AssemblyError, BrokerChoice, Plan};
use restaurant_tui::config::Config;
use restaurant_tui::domain::{OrderDraft, OrderStatus};
use restaurant_tui::kitchen::WorkerSpec;
use restaurant_tui::store::StoreError;
use restaurant_tui::supervisor::{OnExit, TaskState};

const EMBEDDED: Plan = Plan {
    store: true,
    broker: BrokerChoice::RabbitOrInProcess,
};

fn config(dir: &std::path::Path) -> Config {
    let mut c = Config::default();
    c.database.url = Some(format!("sqlite://{}", dir.join("restaurant.db").display()));
    c.server.port = 0;
    c.server.rate_limit_per_second = 0;
    c.kitchen.cook_time.takeout = Duration::ZERO;
    c
}

fn takeout() -> OrderDraft {
    common::takeout_draft("5.00")
}

#[tokio::test]
async fn an_embedded_kitchen_cooks_reports_its_tasks_and_stops_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let mut kitchen = Assembly::build(&config, EMBEDDED).await.unwrap();
    let mut spec = WorkerSpec::new("chef");
    spec.cook_times = config.kitchen.cook_time;
    kitchen.start_worker(spec, OnExit::Restart).unwrap();
    assert!(matches!(
        kitchen.start_worker(WorkerSpec::new("chef"), OnExit::Restart),
        Err(AssemblyError::WorkerRuns(_))
    ));
    let addr = kitchen.listen(false).await.unwrap();

    let orders = kitchen.orders().unwrap().clone();
    let n = orders.place(&takeout(), None, None).await.unwrap().number;
    let deadline = Instant::now() + Duration::from_secs(30);
    while orders.status(&n).await.unwrap().order.status != OrderStatus::Ready {
        assert!(Instant::now() < deadline, "{n} never cooked");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ready: serde_json::Value = reqwest::get(format!("http://{addr}/health/ready"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["tasks"]["relay"], "running", "{ready}");
    assert_eq!(ready["tasks"]["worker chef"], "running", "{ready}");

    kitchen.shutdown().run().await.unwrap();
    let board = kitchen.board().borrow().clone();
    assert!(
        board.values().all(|s| *s == TaskState::Stopped),
        "{board:?}"
    );
    let store = kitchen.store().unwrap();
    assert_eq!(store.workers().await.unwrap()[0].status.as_str(), "offline");
    assert!(
        reqwest::get(format!("http://{addr}/health/live"))
            .await
            .is_err(),
        "the listener is closed"
    );
}

#[tokio::test]
async fn a_second_kitchen_on_the_same_embedded_file_is_refused_with_the_holders_pid() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let first = Assembly::build(&config, EMBEDDED).await.unwrap();
    match Assembly::build(&config, EMBEDDED).await {
        Err(AssemblyError::Database {
            source: StoreError::Locked { pid, .. },
            ..
        }) => assert_eq!(pid, Some(std::process::id())),
        other => panic!("expected the lock's refusal, got {:?}", other.err()),
    }
    first.shutdown().run().await.unwrap();
    drop(first);
    let again = Assembly::build(&config, EMBEDDED).await.unwrap();
    again.shutdown().run().await.unwrap();
}

#[tokio::test]
async fn a_worker_needs_rabbitmq_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan {
        store: true,
        broker: BrokerChoice::Rabbit {
            needed_by: "worker",
        },
    };
    let err = Assembly::build(&config(dir.path()), plan)
        .await
        .err()
        .expect("no RabbitMQ configured");
    assert!(err.to_string().contains("worker needs RabbitMQ"), "{err}");
}

#[tokio::test]
async fn an_order_whose_relay_died_before_marking_it_sent_is_taken_over_after_a_restart() {
    use restaurant_tui::domain::Transition;
    use restaurant_tui::store::{DatabaseTarget, StatusChange, WriteMeta};
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    {
        // The last run: placed, published by a relay that died before marking the rows sent
        // (their lease is still its), and started by a cook that died with the process.
        let path = dir.path().join("restaurant.db");
        let store = restaurant_tui::store::open(&DatabaseTarget::Sqlite { path })
            .await
            .unwrap();
        let orders = restaurant_tui::service::OrderService::new(
            store.clone(),
            std::sync::Arc::new(restaurant_tui::domain::SystemClock),
        );
        let n = orders.place(&takeout(), None, None).await.unwrap().number;
        let now = chrono::Utc::now();
        store
            .claim_outbox("relay-dead", 10, now, Duration::from_secs(3600))
            .await
            .unwrap();
        let start = StatusChange {
            transition: Transition::StartCooking,
            changed_by: "chef".into(),
            notes: None,
            estimated_completion: None,
            meta: WriteMeta {
                now,
                request_id: None,
            },
        };
        store.transition(&n, &start).await.unwrap();
    }
    let mut kitchen = Assembly::build(&config, EMBEDDED).await.unwrap();
    let mut spec = WorkerSpec::new("chef");
    spec.cook_times = config.kitchen.cook_time;
    kitchen.start_worker(spec, OnExit::Restart).unwrap();
    let orders = kitchen.orders().unwrap().clone();
    let n = "ORD_".to_string() + &chrono::Utc::now().format("%Y%m%d").to_string() + "_001";
    let deadline = Instant::now() + Duration::from_secs(30);
    while orders.status(&n).await.unwrap().order.status != OrderStatus::Ready {
        assert!(Instant::now() < deadline, "{n} never taken over");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let statuses: Vec<OrderStatus> = orders
        .history(&n)
        .await
        .unwrap()
        .iter()
        .map(|h| h.status)
        .collect();
    assert_eq!(
        statuses,
        [
            OrderStatus::Received,
            OrderStatus::Cooking,
            OrderStatus::Cooking,
            OrderStatus::Ready
        ]
    );
    kitchen.shutdown().run().await.unwrap();
}
