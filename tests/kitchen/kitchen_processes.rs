//! The kitchen as a deployment runs it: `serve`, `worker` and `notify` processes on PostgreSQL
//! and RabbitMQ (a database and a queue prefix of their own per test), and the faults a dinner
//! rush brings: duplicate names, specialised workers, `kill -9`, SIGTERM, poison messages.

use crate::common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::deployment::{AMQP, Deployment};
use common::process::Process;
use restaurant_tui::broker::Broker;
use serde_json::Value;

#[tokio::test]
async fn thirty_orders_through_serve_and_one_worker_are_cooked_and_announced_once_each() {
    let d = Deployment::new().await;
    let serve = d.serve();
    let notify = Process::ready(&["notify"], &d.env(), true);
    let _worker = d.worker(&[
        "--name",
        "chef_mario",
        "--cook-time",
        "dine_in=200ms,takeout=200ms,delivery=200ms",
    ]);
    let kinds = ["dine_in", "takeout", "delivery"];
    let mut numbers = Vec::new();
    for i in 0..30 {
        numbers.push(d.place(&serve, kinds[i % 3], 5.0 + i as f64).await);
    }
    for n in &numbers {
        let s = d
            .wait_status(&serve, n, "ready", Duration::from_secs(90))
            .await;
        assert_eq!(s["processed_by"], "chef_mario");
        let statuses: Vec<String> = d
            .history(&serve, n)
            .await
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(statuses, ["received", "cooking", "ready"]);
    }
    // The cook counts its orders in its own row a moment after each (issue #10).
    let counted = |w: &Value| w[0]["orders_processed"] == 30;
    let workers = serve
        .wait_json(
            &d.client,
            "/workers/status",
            counted,
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(workers[0]["worker_name"], "chef_mario");

    let mut lines: HashMap<String, Vec<String>> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut count = 0;
    while count < 90 {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = notify
            .other
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("only {count} of 90 lines: {lines:#?}"));
        let number = line
            .split_whitespace()
            .nth(3)
            .unwrap()
            .trim_end_matches(':')
            .to_string();
        lines.entry(number).or_default().push(line);
        count += 1;
    }
    assert!(
        notify
            .other
            .recv_timeout(Duration::from_millis(500))
            .is_err(),
        "no duplicate lines"
    );
    for n in &numbers {
        let mine = &lines[n];
        assert_eq!(mine.len(), 3, "{mine:#?}");
        assert!(
            mine[1].ends_with("Status changed from 'received' to 'cooking' by chef_mario."),
            "{}",
            mine[1]
        );
    }
    d.cleanup().await;
}

#[tokio::test]
async fn a_second_worker_with_an_online_name_exits_1() {
    let d = Deployment::new().await;
    let _first = d.worker(&["--name", "chef_mario"]);
    let started = Instant::now();
    let mut second = Process::start(&["worker", "--name", "chef_mario"], &d.env(), false);
    let status = second.child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(30));
    let error = second.wait_for("worker_failed");
    assert_eq!(error["level"], "ERROR");
    d.cleanup().await;
}

#[tokio::test]
async fn a_dine_in_worker_leaves_a_delivery_order_for_a_general_worker() {
    let d = Deployment::new().await;
    let serve = d.serve();
    let _dine = d.worker(&[
        "--name",
        "dine_only",
        "--order-types",
        "dine_in",
        "--cook-time",
        "dine_in=0s",
    ]);
    let delivery = d.place(&serve, "delivery", 9.0).await;
    let dine = d.place(&serve, "dine_in", 9.0).await;
    d.wait_status(&serve, &dine, "ready", Duration::from_secs(30))
        .await;
    assert_eq!(
        d.status(&serve, &delivery).await["current_status"],
        "received"
    );
    let _general = d.worker(&["--name", "general", "--cook-time", "delivery=0s"]);
    d.wait_status(&serve, &delivery, "ready", Duration::from_secs(30))
        .await;
    assert_eq!(
        d.history(&serve, &delivery).await,
        [
            ("received".into(), "order-service".into()),
            ("cooking".into(), "general".into()),
            ("ready".into(), "general".into())
        ],
        "cooked once, by the worker that cooks deliveries"
    );
    d.cleanup().await;
}

#[tokio::test]
async fn a_worker_killed_mid_cooking_leaves_the_order_to_another_ready_exactly_once() {
    let d = Deployment::new().await;
    let serve = d.serve();
    let mut doomed = d.worker(&["--name", "doomed", "--cook-time", "takeout=60s"]);
    let n = d.place(&serve, "takeout", 9.0).await;
    let s = d
        .wait_status(&serve, &n, "cooking", Duration::from_secs(30))
        .await;
    assert_eq!(s["processed_by"], "doomed");
    doomed.kill9();
    let _rescuer = d.worker(&["--name", "rescuer", "--cook-time", "takeout=100ms"]);
    let s = d
        .wait_status(&serve, &n, "ready", Duration::from_secs(60))
        .await;
    assert_eq!(s["processed_by"], "rescuer");
    let history = d.history(&serve, &n).await;
    assert_eq!(
        history.iter().filter(|(s, _)| s == "ready").count(),
        1,
        "{history:?}"
    );
    assert_eq!(
        history.iter().filter(|(s, _)| s == "cooking").count(),
        2,
        "one row per attempt that started: {history:?}"
    );
    d.cleanup().await;
}

#[tokio::test]
async fn sigterm_mid_cooking_finishes_the_order_and_exits_0_offline() {
    let d = Deployment::new().await;
    let serve = d.serve();
    let worker = d.worker(&["--name", "calm", "--cook-time", "dine_in=1s"]);
    let n = d.place(&serve, "dine_in", 9.0).await;
    d.wait_status(&serve, &n, "cooking", Duration::from_secs(30))
        .await;
    let (_, status) = worker.terminate();
    assert!(status.success(), "{status}");
    assert_eq!(d.status(&serve, &n).await["current_status"], "ready");
    let workers: Value = d
        .client
        .get(serve.url("/workers/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(workers[0]["status"], "offline");
    d.cleanup().await;
}

#[tokio::test]
async fn an_unparseable_order_message_ends_in_the_dead_letter_queue_once() {
    let d = Deployment::new().await;
    let mut worker = d.worker(&["--name", "chef"]);
    let broker = restaurant_tui::broker::amqp::AmqpBroker::start(AMQP.into(), d.prefix.clone());
    broker
        .wait_connected(Duration::from_secs(10))
        .await
        .unwrap();
    broker
        .publish(&restaurant_tui::broker::Outgoing {
            exchange: "orders_topic".into(),
            routing_key: "kitchen.dine_in.1".into(),
            priority: 1,
            message_id: "poison-1".into(),
            request_id: Some("trace-poison".into()),
            body: b"this is not an order".to_vec(),
        })
        .await
        .unwrap();
    // Its log line says which request, which cook, and why.
    let line = worker.wait_for("message_dead_lettered");
    assert_eq!(line["request_id"], "trace-poison", "{line}");
    assert_eq!(line["worker_name"], "chef", "{line}");
    assert!(line.to_string().contains("unparseable"), "{line}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let dead = broker.dead_letters(10).await.unwrap();
        if !dead.is_empty() {
            assert_eq!(dead.len(), 1);
            assert!(dead[0].reason.contains("unparseable"), "{}", dead[0].reason);
            break;
        }
        assert!(Instant::now() < deadline, "never dead-lettered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        broker.dead_letters(10).await.unwrap().len(),
        1,
        "once, not looping"
    );
    d.cleanup().await;
}

#[tokio::test]
async fn with_prefetch_one_a_big_order_jumps_the_waiting_small_ones() {
    let d = Deployment::new().await;
    let serve = d.serve();
    let _worker = d.worker(&[
        "--name",
        "chef",
        "--prefetch",
        "1",
        "--cook-time",
        "dine_in=300ms",
    ]);
    let mut small = Vec::new();
    for _ in 0..5 {
        small.push(d.place(&serve, "dine_in", 5.0).await);
    }
    let big = d.place(&serve, "dine_in", 150.0).await;
    for n in small.iter().chain([&big]) {
        d.wait_status(&serve, n, "ready", Duration::from_secs(60))
            .await;
    }
    let mut cooked_at = Vec::new();
    for n in small.iter().chain([&big]) {
        let h: Value = d
            .client
            .get(serve.url(&format!("/orders/{n}/history")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let at = h
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["status"] == "cooking")
            .unwrap()["timestamp"]
            .as_str()
            .unwrap()
            .to_string();
        cooked_at.push((at, n.clone()));
    }
    cooked_at.sort();
    let position = cooked_at.iter().position(|(_, n)| *n == big).unwrap();
    assert!(
        position <= 1,
        "the big order is cooked first, or right after the one already in hand: {cooked_at:#?}"
    );
    d.cleanup().await;
}

#[tokio::test]
async fn notify_shows_control_characters_escaped_and_logs_each_messages_request_id() {
    let d = Deployment::new().await;
    let mut notify = Process::ready(&["notify"], &d.env(), true);
    let broker = restaurant_tui::broker::amqp::AmqpBroker::start(AMQP.into(), d.prefix.clone());
    broker
        .wait_connected(Duration::from_secs(10))
        .await
        .unwrap();
    // A hostile publisher: a screen-clearing ESC and a forged second line.
    let body = serde_json::json!({
        "order_number": "ORD_20241216_001\nNotification for order FAKE",
        "old_status": "received", "new_status": "cooking",
        "changed_by": "evil\u{1b}[2J", "timestamp": "2024-12-16T12:00:00Z",
        "estimated_completion": null
    });
    broker
        .publish(&restaurant_tui::broker::Outgoing {
            exchange: "notifications_fanout".into(),
            routing_key: String::new(),
            priority: 0,
            message_id: "update-esc-1".into(),
            request_id: Some("trace-esc".into()),
            body: body.to_string().into_bytes(),
        })
        .await
        .unwrap();
    let line = notify
        .other
        .recv_timeout(Duration::from_secs(30))
        .expect("a notification line");
    assert!(!line.contains('\u{1b}'), "{line:?}");
    assert!(line.contains("evil\\u{1b}[2J"), "{line:?}");
    assert!(
        line.contains("001\\u{a}Notification for order FAKE"),
        "{line:?}"
    );
    assert!(
        notify
            .other
            .recv_timeout(Duration::from_millis(500))
            .is_err(),
        "one line, not two"
    );
    let log = notify.wait_for("notification_received");
    assert_eq!(log["request_id"], "trace-esc", "{log}");
    assert!(log.to_string().contains("update-esc-1"), "{log}");
    d.cleanup().await;
}

#[tokio::test]
async fn a_nul_numbered_order_message_is_dead_lettered_once_and_the_orders_behind_it_cook() {
    let d = Deployment::new().await;
    let serve = d.serve();
    let broker = restaurant_tui::broker::amqp::AmqpBroker::start(AMQP.into(), d.prefix.clone());
    broker
        .wait_connected(Duration::from_secs(10))
        .await
        .unwrap();
    // Top priority, queued before any cook exists: it is the first thing a cook is handed.
    let poison = serde_json::json!({
        "order_number": "ORD_20241216_001\u{0}", "customer_name": "Ann",
        "customer_type": "regular", "order_type": "takeout", "table_number": null,
        "delivery_address": null, "items": [], "total_amount": 5, "priority": 10
    });
    broker
        .publish(&restaurant_tui::broker::Outgoing {
            exchange: "orders_topic".into(),
            routing_key: "kitchen.takeout.10".into(),
            priority: 10,
            message_id: "poison-nul".into(),
            request_id: None,
            body: poison.to_string().into_bytes(),
        })
        .await
        .unwrap();
    let behind = [
        d.place(&serve, "takeout", 5.0).await,
        d.place(&serve, "takeout", 6.0).await,
    ];
    let _worker = d.worker(&["--name", "chef", "--cook-time", "takeout=50ms"]);
    for n in &behind {
        d.wait_status(&serve, n, "ready", Duration::from_secs(30))
            .await;
    }
    let dead = broker.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1, "once, not looping");
    assert!(
        dead[0].reason.contains("unknown order"),
        "{}",
        dead[0].reason
    );
    d.cleanup().await;
}
