//! PostgreSQL and RabbitMQ going away and coming back (CONTRACT §4 "Reconnection", §5), made by
//! fault proxies each test owns between its processes and the servers: the machine's shared
//! PostgreSQL and RabbitMQ are never stopped, so these run in parallel with everything else.

use crate::common;

use std::time::{Duration, Instant};

use common::deployment::Deployment;
use common::process::Process;
use serde_json::Value;

const FAST: &str = "dine_in=50ms,takeout=50ms,delivery=50ms";

/// Polls readiness until `check` holds (a state to reach, with a deadline).
async fn wait_ready(d: &Deployment, serve: &Process, what: &str, check: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = serve.get_json(&d.client, "/health/ready").await;
        if check(&r) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "readiness never showed {what}: {r}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ready_rows(d: &Deployment, serve: &Process, n: &str) -> usize {
    d.history(serve, n)
        .await
        .iter()
        .filter(|(s, _)| s == "ready")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn orders_placed_while_rabbitmq_is_cut_off_are_accepted_and_cooked_after_it_returns() {
    let d = Deployment::behind_proxies().await;
    let serve = d.serve();
    let _worker = d.worker(&["--name", "chef", "--cook-time", FAST]);
    let first = d.place(&serve, "takeout", 5.0).await;
    d.wait_status(&serve, &first, "ready", Duration::from_secs(30))
        .await;
    let console = common::tmux::Tmux::start_env(100, 30, "--port 0", &d.env());
    console.wait_for("Broker rabbitmq");

    d.amqp_proxy().cut();
    wait_ready(&d, &serve, "the broker reconnecting", |r| {
        r["broker"]["status"] == "reconnecting"
    })
    .await;
    // The console shows the outage and still takes an order.
    console.wait_for("BROKER DOWN since");
    console.keys(&["n"]);
    console.wait_for("New order");
    console.keys(&["t", "1", "Tab"]);
    console.type_text("Ann");
    console.keys(&["Enter"]);
    let placed = console.wait_for("placed ORD_");
    let from_console = placed
        .split("placed ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let kinds = ["dine_in", "takeout", "delivery"];
    let mut numbers = Vec::new();
    for i in 0..20 {
        numbers.push(d.place(&serve, kinds[i % 3], 7.0).await); // every POST still answers 201
    }
    d.amqp_proxy().restore();
    numbers.push(from_console);
    for n in &numbers {
        let s = d
            .wait_status(&serve, n, "ready", Duration::from_secs(120))
            .await;
        assert_eq!(s["processed_by"], "chef");
        assert_eq!(ready_rows(&d, &serve, n).await, 1);
    }
    // The console catches up: its feed shows the orders cooked after the broker came back.
    console.wait_for("cooking → ready");
    console.keys(&["q"]);
    console.wait_for("EXITED=0");
    d.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_says_the_database_is_down_and_keeps_an_order_typed_meanwhile() {
    let d = Deployment::behind_proxies().await;
    let console = common::tmux::Tmux::start_env(100, 30, "--port 0 --workers 1", &d.env());
    console.wait_for("chef_1");
    d.pg_proxy().cut();
    let screen = console.wait_for("DATABASE DOWN since");
    assert!(
        screen.contains("DATABASE DOWN since ") && screen.contains(") · the queue"),
        "{screen}"
    );
    console.wait_for("STALE");
    console.keys(&["t", "1", "Tab"]);
    console.type_text("Ann");
    console.keys(&["Enter"]);
    let screen = console.wait_for("not placed");
    assert!(
        screen.contains("Name     Ann"),
        "everything typed stays: {screen}"
    );
    d.pg_proxy().restore();
    console.wait_for("● DB postgres"); // the banner is gone
    console.keys(&["Enter"]);
    console.wait_for("placed ORD_");
    console.keys(&["q"]);
    console.wait_for("EXITED=0");
    d.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_cooking_when_postgresql_is_cut_off_is_ready_exactly_once_after_it_returns() {
    let d = Deployment::behind_proxies().await;
    let serve = d.serve();
    let mut worker = d.worker(&[
        "--name",
        "chef",
        "--heartbeat-interval",
        "1",
        "--cook-time",
        "dine_in=2s,takeout=50ms,delivery=50ms",
    ]);
    let before = d.place(&serve, "takeout", 5.0).await;
    d.wait_status(&serve, &before, "ready", Duration::from_secs(30))
        .await;
    let cooking = d.place(&serve, "dine_in", 5.0).await;
    d.wait_status(&serve, &cooking, "cooking", Duration::from_secs(30))
        .await;

    d.pg_proxy().cut();
    // The cook cannot write `ready`: it retries, then hands the order back.
    worker.wait_for("order_handed_back");
    wait_ready(&d, &serve, "the database down", |r| {
        r["database"]["status"] == "down"
    })
    .await;
    d.pg_proxy().restore();

    let s = d
        .wait_status(&serve, &cooking, "ready", Duration::from_secs(120))
        .await;
    assert_eq!(s["processed_by"], "chef");
    assert_eq!(ready_rows(&d, &serve, &cooking).await, 1);
    // Later orders are cooked without restarting anything.
    let mut numbers = Vec::new();
    for kind in ["takeout", "delivery", "takeout"] {
        numbers.push(d.place(&serve, kind, 6.0).await);
    }
    for n in &numbers {
        d.wait_status(&serve, n, "ready", Duration::from_secs(60))
            .await;
    }
    d.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_whose_database_is_away_at_stop_hands_back_and_exits_0() {
    let d = Deployment::behind_proxies().await;
    let serve = d.serve();
    let mut env = d.env();
    env.push(("RESTAURANT_KITCHEN__SHUTDOWN_TIMEOUT", "2s"));
    let worker = Process::ready(
        &["worker", "--name", "chef", "--cook-time", "dine_in=1h"],
        &env,
        false,
    );
    let n = d.place(&serve, "dine_in", 5.0).await;
    d.wait_status(&serve, &n, "cooking", Duration::from_secs(30))
        .await;
    d.pg_proxy().cut();
    let (lines, status) = worker.terminate();
    assert!(
        status.success(),
        "exit 0 after the shutdown timeout: {status}\n{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("order_handed_back")),
        "{lines:#?}"
    );
    d.pg_proxy().restore();
    // The order went back to its queue: the next cook takes it over and finishes it once.
    let _next = d.worker(&["--name", "chef_2", "--cook-time", FAST]);
    let s = d
        .wait_status(&serve, &n, "ready", Duration::from_secs(60))
        .await;
    assert_eq!(s["processed_by"], "chef_2");
    assert_eq!(ready_rows(&d, &serve, &n).await, 1);
    d.cleanup().await;
}

#[tokio::test]
async fn replace_takes_over_the_name_of_a_worker_killed_a_moment_ago() {
    let d = Deployment::new().await;
    let serve = d.serve();
    let mut first = d.worker(&["--name", "chef", "--cook-time", FAST]);
    first.kill9();
    // Without --replace the name is still online: the contract's exit 1.
    let (code, _, _) = common::process::run(&["worker", "--name", "chef"], &d.env(), &[]);
    assert_eq!(code, Some(1));
    let _again = d.worker(&["--name", "chef", "--replace", "--cook-time", FAST]);
    let n = d.place(&serve, "takeout", 5.0).await;
    let s = d
        .wait_status(&serve, &n, "ready", Duration::from_secs(30))
        .await;
    assert_eq!(s["processed_by"], "chef");
    d.cleanup().await;
}

#[tokio::test]
async fn the_status_answers_the_estimate_of_the_cook_not_of_the_server() {
    let d = Deployment::new().await;
    let mut env = d.env();
    env.push(("RESTAURANT_KITCHEN__COOK_TIME__TAKEOUT", "3s"));
    let serve = Process::serve(&["serve", "--port", "0", "--rate-limit", "0"], &env);
    let _worker = d.worker(&["--name", "chef", "--cook-time", "takeout=1h"]);
    let n = d.place(&serve, "takeout", 5.0).await;
    let s = d
        .wait_status(&serve, &n, "cooking", Duration::from_secs(30))
        .await;
    let updated = chrono::DateTime::parse_from_rfc3339(s["updated_at"].as_str().unwrap()).unwrap();
    let eta =
        chrono::DateTime::parse_from_rfc3339(s["estimated_completion"].as_str().unwrap()).unwrap();
    assert_eq!(
        (eta - updated).num_seconds(),
        3600,
        "the worker's hour, not the server's 3 s: {s}"
    );
    d.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_postgresql_unreachable_post_orders_answers_503_at_once_and_recovers_by_itself() {
    let d = Deployment::behind_proxies().await;
    let serve = d.serve();
    let before = d.place(&serve, "takeout", 5.0).await;
    assert!(!before.is_empty());
    d.pg_proxy().cut();
    let body = serde_json::json!({"customer_name": "Ann", "order_type": "takeout",
                                  "items": [{"name": "Pizza", "quantity": 1, "price": 5}]});
    // Several requests, each answered (not queued behind retries) with a JSON 503.
    for _ in 0..3 {
        let r = d
            .client
            .post(serve.url("/orders"))
            .json(&body)
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .expect("an answer, not a hang");
        assert_eq!(r.status(), 503);
        assert!(r.headers().contains_key("retry-after"));
        let v: Value = r.json().await.unwrap();
        assert!(v["error"].is_string(), "{v}");
    }
    wait_ready(&d, &serve, "the database down", |r| {
        r["database"]["status"] == "down"
    })
    .await;
    d.pg_proxy().restore();
    wait_ready(&d, &serve, "the database up", |r| {
        r["database"]["status"] == "up"
    })
    .await;
    d.place(&serve, "takeout", 6.0).await; // 201 again, no restart
    d.cleanup().await;
}
