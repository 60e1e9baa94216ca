//! The real binary, started as a user would: logs, several processes on one database, start-up
//! failures, the old command lines.

use crate::common;

use std::collections::HashSet;
use std::time::Duration;

use common::process::{Process, run};
use serde_json::{Value, json};

const ADDRESS: &str = "42 Secret Lane, Hidden Town";

#[tokio::test]
async fn serve_logs_contract_lines_and_never_a_delivery_address() {
    let p = Process::serve(&["serve", "--port", "0"], &[]);
    let client = reqwest::Client::new();
    let order = json!({"customer_name": "Ann Lee", "order_type": "delivery", "delivery_address": ADDRESS,
                       "items": [{"name": "Pizza", "quantity": 1, "price": 9.99}]});
    let r = client
        .post(p.url("/orders"))
        .header("x-request-id", "trace-me-1")
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let number = r.json::<Value>().await.unwrap()["order_number"]
        .as_str()
        .unwrap()
        .to_string();
    let bad = json!({"customer_name": "Ann", "order_type": "takeout", "delivery_address": ADDRESS, "items": []});
    let r = client
        .post(p.url("/orders"))
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    client
        .get(p.url(&format!("/orders/{number}/status")))
        .send()
        .await
        .unwrap();

    let (lines, status) = p.terminate();
    assert!(status.success(), "SIGTERM is a clean stop: {status}");
    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (line, v) in lines.iter().zip(&parsed) {
        assert!(
            !line.contains("Secret Lane"),
            "a delivery address was logged: {line}"
        );
        for key in [
            "timestamp",
            "level",
            "service",
            "action",
            "message",
            "hostname",
            "request_id",
        ] {
            assert!(
                v.get(key).is_some_and(|x| !x.is_null()),
                "{key} missing: {line}"
            );
        }
        assert_eq!(v["service"], "order-service");
        assert!(["ERROR", "WARN", "INFO", "DEBUG"].contains(&v["level"].as_str().unwrap()));
        let ts = v["timestamp"].as_str().unwrap();
        assert!(
            ts.ends_with('Z') && ts.len() == 24,
            "RFC 3339 with milliseconds, UTC: {ts}"
        );
        if v["level"] == "ERROR" {
            assert!(
                v["error"]["type"].is_string() && v["error"]["msg"].is_string(),
                "{line}"
            );
        }
    }
    let actions: Vec<&str> = parsed
        .iter()
        .map(|v| v["action"].as_str().unwrap())
        .collect();
    for a in [
        "db_connected",
        "service_started",
        "order_received",
        "validation_failed",
        "graceful_shutdown",
    ] {
        assert!(actions.contains(&a), "no {a} line in {actions:?}");
    }
    let received = parsed
        .iter()
        .find(|v| v["action"] == "order_received")
        .unwrap();
    assert_eq!(
        received["request_id"], "trace-me-1",
        "the request id follows the order"
    );
    assert_eq!(received["order_number"], number.as_str());
}

#[tokio::test]
async fn two_serve_processes_on_one_postgres_never_share_a_number_or_half_write() {
    let db = common::TestDatabase::create().await;
    let env = [("DATABASE_URL", db.url.as_str())];
    // Room for every request at once: this story is about numbers, not about shedding load.
    let args = [
        "serve",
        "--port",
        "0",
        "--rate-limit",
        "0",
        "--max-concurrent",
        "200",
    ];
    let a = Process::serve(&args, &env);
    let b = Process::serve(&args, &env);
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let url = if i % 2 == 0 {
            a.url("/orders")
        } else {
            b.url("/orders")
        };
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let order = json!({"customer_name": "Ann", "order_type": "takeout",
                               "items": [{"name": "Pizza", "quantity": 1, "price": 1}, {"name": "Cola", "quantity": 2, "price": 2}]});
            let r = client.post(url).json(&order).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }));
    }
    let mut numbers = HashSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 201, "{body}");
        assert!(
            numbers.insert(body["order_number"].as_str().unwrap().to_string()),
            "duplicate {body}"
        );
    }
    let today = chrono::Utc::now().format("%Y%m%d").to_string();
    let expected: HashSet<String> = (1..=200).map(|i| format!("ORD_{today}_{i:03}")).collect();
    assert_eq!(numbers, expected, "consecutive and unique across processes");

    let mut conn = db.connect().await;
    let incomplete: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM orders o WHERE \
           (SELECT count(*) FROM order_items i WHERE i.order_id = o.id) <> 2 \
           OR (SELECT count(*) FROM order_status_log l WHERE l.order_id = o.id AND l.status = 'received') <> 1 \
           OR (SELECT count(*) FROM outbox m WHERE m.order_id = o.id) <> 2",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        incomplete, 0,
        "every order has its items, first log row and messages"
    );
}

#[tokio::test]
async fn migrate_applies_the_schema_once_and_again_changes_nothing() {
    let db = common::TestDatabase::create().await;
    for _ in 0..2 {
        let (code, _, stderr) = run(&["migrate"], &[("DATABASE_URL", &db.url)], &[]);
        assert_eq!(code, Some(0), "{stderr}");
    }
    let mut conn = db.connect().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for t in [
        "order_counters",
        "order_items",
        "order_status_log",
        "orders",
        "outbox",
        "workers",
    ] {
        assert!(tables.contains(&t.to_string()), "{t} in {tables:?}");
    }
}

#[test]
fn a_bad_configuration_stops_the_start_with_the_file_and_key() {
    let (code, _, stderr) = run(
        &["serve", "--config", "config.yaml"],
        &[],
        &[("config.yaml", "server:\n  port: many\n")],
    );
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("config.yaml") && stderr.contains("server.port"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("BACKTRACE"),
        "{stderr}"
    );

    let (code, _, stderr) = run(&["serve", "--config", "missing.yaml"], &[], &[]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("missing.yaml"), "{stderr}");

    let (code, _, stderr) = run(
        &["serve"],
        &[("RESTAURANT_SERVER__MAX_CONCURRENT", "0")],
        &[],
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("server.max_concurrent"), "{stderr}");
}

#[test]
fn an_unreachable_database_is_one_clear_message_naming_it() {
    let (code, stdout, stderr) = run(
        &["serve", "--port", "0"],
        &[("DATABASE_URL", "postgres://postgres:pw@127.0.0.1:1/kitchen")],
        &[],
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("127.0.0.1:1/kitchen"), "{stderr}");
    assert!(
        !stderr.contains("pw@") && !stdout.contains("pw@"),
        "no password in messages"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_taken_port_is_reported_with_how_to_choose_another() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, _, stderr) = run(&["serve", "--port", &port], &[], &[]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}")) && stderr.contains("--port"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_old_mode_command_lines_run_their_services() {
    let p = Process::serve(
        &[
            "--mode=order-service",
            "--port",
            "0",
            "--max-concurrent",
            "50",
        ],
        &[],
    );
    let r = reqwest::Client::new()
        .post(p.url("/orders"))
        .json(&common::pizza_order())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (lines, _) = p.terminate();
    assert!(
        lines
            .iter()
            .all(|l| l.contains(r#""service":"order-service""#))
    );

    let p = Process::serve(&["--mode=tracking-service", "--port", "0"], &[]);
    assert_eq!(
        reqwest::get(p.url("/workers/status"))
            .await
            .unwrap()
            .status(),
        200
    );
    let (lines, _) = p.terminate();
    assert!(
        lines
            .iter()
            .all(|l| l.contains(r#""service":"tracking-service""#))
    );
}

#[tokio::test]
async fn serve_with_an_in_process_worker_cooks_every_order_to_ready() {
    let zero = [
        ("RESTAURANT_KITCHEN__COOK_TIME__DINE_IN", "0s"),
        ("RESTAURANT_KITCHEN__COOK_TIME__TAKEOUT", "10ms"),
        ("RESTAURANT_KITCHEN__COOK_TIME__DELIVERY", "0s"),
    ];
    let p = Process::serve(
        &[
            "serve",
            "--port",
            "0",
            "--workers",
            "1",
            "--rate-limit",
            "0",
        ],
        &zero,
    );
    let client = reqwest::Client::new();
    let kinds = [
        json!({"order_type": "dine_in", "table_number": 3}),
        json!({"order_type": "takeout"}),
        json!({"order_type": "delivery", "delivery_address": "12 Baker Street, London"}),
    ];
    let mut numbers = Vec::new();
    for i in 0..10 {
        let mut order = kinds[i % 3].clone();
        order["customer_name"] = json!("Ann");
        order["items"] = json!([{"name": "Pizza", "quantity": 1, "price": 9.5}]);
        let r = client
            .post(p.url("/orders"))
            .json(&order)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        numbers.push(
            r.json::<Value>().await.unwrap()["order_number"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    for n in &numbers {
        let s = p
            .wait_status(&client, n, "ready", Duration::from_secs(60))
            .await;
        assert_eq!(s["processed_by"], "kitchen-1");
        let h = p.get_json(&client, &format!("/orders/{n}/history")).await;
        let statuses: Vec<&str> = h
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["received", "cooking", "ready"]);
        assert_eq!(h[2]["changed_by"], "kitchen-1");
    }
    // The cook counts its orders in its own row a moment after each (issue #10).
    let counted = |w: &Value| w[0]["orders_processed"] == 10;
    let workers = p
        .wait_json(&client, "/workers/status", counted, Duration::from_secs(10))
        .await;
    assert_eq!(workers[0]["worker_name"], "kitchen-1");
    let ready: Value = client
        .get(p.url("/health/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["broker"]["status"], "up");

    let (lines, status) = p.terminate();
    assert!(status.success());
    for action in [
        "worker_registered",
        "order_published",
        "order_processing_started",
        "order_completed",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&format!(r#""action":"{action}""#))),
            "no {action} line"
        );
    }
    let started = lines
        .iter()
        .find(|l| l.contains(r#""action":"order_processing_started""#))
        .unwrap();
    let v: Value = serde_json::from_str(started).unwrap();
    assert_eq!(v["worker_name"], "kitchen-1");
    assert!(v["order_number"].as_str().unwrap().starts_with("ORD_"));
}

#[test]
fn a_worker_name_the_contract_refuses_is_said_before_anything_starts() {
    let long = "x".repeat(65);
    for (name, why) in [
        ("chef 1", "letters, digits"),
        ("chef\u{202e}1", "\\u{202e}"),
        (long.as_str(), "at most 64"),
    ] {
        let (code, _, stderr) = run(&["worker", "--name", name], &[], &[]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(
            stderr.contains("--name") && stderr.contains(why),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}

#[test]
fn a_number_past_what_the_program_holds_is_a_configuration_error_not_a_panic() {
    let (code, _, stderr) = run(
        &[
            "serve",
            "--port",
            "0",
            "--max-concurrent",
            "18446744073709551615",
        ],
        &[],
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("server.max_concurrent"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Issue #11: a start-up that cannot work names its real cause, for PostgreSQL and RabbitMQ, and
/// a refusal that retrying cannot fix ends a headless process with exit 1.
#[tokio::test]
async fn start_up_failures_name_their_real_cause() {
    let db = common::TestDatabase::create().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let refused_pg = format!("postgres://postgres@127.0.0.1:{closed}/kitchen");
    let no_db = db.url.rsplit_once('/').unwrap().0.to_string() + "/no_such_kitchen";
    let no_role = db.url.replacen("postgres@", "no_such_cook@", 1);
    for (url, said) in [
        (refused_pg.as_str(), "connection refused at 127.0.0.1"),
        (
            no_db.as_str(),
            "the database \"no_such_kitchen\" does not exist",
        ),
        (no_role.as_str(), "user \"no_such_cook\" may not connect"),
    ] {
        let (code, _, stderr) = run(&["migrate"], &[("DATABASE_URL", url)], &[]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains(said), "{url}: {stderr}");
        assert!(!stderr.contains("pool timed out"), "{stderr}");
    }

    let prefix = format!("k{}.", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let refusals = [
        (
            "amqp://no_such_cook:wrong@127.0.0.1:5672/%2f",
            "RabbitMQ refused the login of user \"no_such_cook\" (authentication failed",
        ),
        (
            "amqp://guest:guest@127.0.0.1:5672/no_such_vhost",
            "RabbitMQ has no vhost \"no_such_vhost\"",
        ),
    ];
    for (amqp, said) in refusals {
        let env = [
            ("DATABASE_URL", db.url.as_str()),
            ("AMQP_URL", amqp),
            ("RESTAURANT_RABBITMQ__PREFIX", prefix.as_str()),
        ];
        for args in [
            &["serve", "--port", "0"][..],
            &["worker", "--name", "chef_refused"][..],
            &["notify"][..],
        ] {
            let mut p = Process::start(args, &env, false);
            let status = wait_exit(&mut p, Duration::from_secs(60));
            let stderr = p.other_to_end(Duration::from_secs(10));
            assert_eq!(status.code(), Some(1), "{args:?} {amqp}");
            assert!(
                stderr.iter().any(|l| l.contains(said)),
                "{args:?} {amqp}: {stderr:?}"
            );
        }
    }
    // The refused worker never showed on the board.
    let mut conn = db.connect().await;
    let workers: i64 = sqlx::query_scalar("SELECT count(*) FROM workers")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(workers, 0);
}

/// Issue #11: a worker whose broker cannot be reached waits without registering, and a stop
/// while it waits ends it at once.
#[tokio::test]
async fn a_worker_registers_only_once_it_can_consume() {
    let db = common::TestDatabase::create().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let amqp = format!("amqp://guest:guest@127.0.0.1:{closed}/%2f");
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("AMQP_URL", amqp.as_str()),
    ];
    let mut p = Process::start(&["worker", "--name", "chef_waiting"], &env, false);
    p.wait_for("waiting_for_broker");
    p.wait_for("rabbitmq_reconnecting");
    let mut conn = db.connect().await;
    let workers: i64 = sqlx::query_scalar("SELECT count(*) FROM workers")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(workers, 0, "not registered while it cannot take orders");
    let (lines, status) = p.terminate();
    assert!(status.success(), "{lines:?}");
}

fn wait_exit(p: &mut Process, limit: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(s) = p.child.try_wait().unwrap() {
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// CONTRACT §8: `serve` starts the configuration's `workers:` list (here on the embedded kitchen)
/// and they cook.
#[tokio::test]
async fn serve_starts_the_workers_of_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kitchen.yaml");
    std::fs::write(
        &file,
        "kitchen:\n  cook_time: {dine_in: 0s, takeout: 0s, delivery: 0s}\n\
         workers:\n  - name: chef_mario\n    order_types: [takeout]\n    prefetch: 2\n\
         \x20 - name: chef_luigi\n    order_types: [dine_in, delivery]\n",
    )
    .unwrap();
    let config = file.to_str().unwrap();
    let p = Process::serve(
        &[
            "serve",
            "--config",
            config,
            "--port",
            "0",
            "--rate-limit",
            "0",
        ],
        &[],
    );
    let client = reqwest::Client::new();
    let board = p
        .wait_json(
            &client,
            "/workers/status",
            |w| w.as_array().is_some_and(|a| a.len() == 2),
            Duration::from_secs(30),
        )
        .await;
    let names: HashSet<&str> = board
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["worker_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, HashSet::from(["chef_mario", "chef_luigi"]));
    let n = p.place(&client, "takeout", 9.5).await;
    let done = p
        .wait_status(&client, &n, "ready", Duration::from_secs(30))
        .await;
    assert_eq!(
        done["processed_by"], "chef_mario",
        "only chef_mario cooks takeout"
    );
}

/// CONTRACT §8: `dead-letters list | replay ID | purge` on RabbitMQ, as an operator runs them.
#[tokio::test]
async fn dead_letters_are_listed_replayed_and_purged_from_the_command_line() {
    use restaurant_tui::broker::{Broker, Outgoing, amqp::AmqpBroker};
    use restaurant_tui::domain::{ORDERS_EXCHANGE, OrderType};
    let d = common::deployment::Deployment::new().await;
    let broker = AmqpBroker::start(d.amqp_url.clone(), d.prefix.clone());
    broker
        .wait_connected(Duration::from_secs(10))
        .await
        .unwrap();
    let poison = Outgoing {
        exchange: ORDERS_EXCHANGE.into(),
        routing_key: "kitchen.takeout.1".into(),
        priority: 1,
        message_id: "msg-poison-1".into(),
        request_id: Some("req-poison".into()),
        body: b"{not json\x1b[2J".to_vec(),
    };
    broker.publish(&poison).await.unwrap();
    let mut w = broker
        .consume_orders("w", &[OrderType::Takeout], 1)
        .await
        .unwrap();
    let delivery = tokio::time::timeout(Duration::from_secs(10), w.next())
        .await
        .unwrap()
        .unwrap();
    delivery
        .dead_letter("unparseable order message")
        .await
        .unwrap();
    drop(w);

    let env = d.env();
    let (code, out, err) = run(&["dead-letters", "list"], &env, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("1 dead letter (oldest first"), "{out}");
    for said in [
        "msg-poison-1",
        "reason:      unparseable order message",
        "request id:  req-poison",
        "from:        orders_topic kitchen.takeout.1",
        "body:        {not json\\u{1b}[2J",
    ] {
        assert!(out.contains(said), "{said:?} in {out}");
    }
    let (code, out, err) = run(&["dead-letters", "replay", "no-such"], &env, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(err.contains("no dead letter has the id no-such"), "{err}");
    let (code, out, err) = run(&["dead-letters", "replay", "msg-poison-1"], &env, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "sent msg-poison-1 back to orders_topic (kitchen.takeout.1)\n"
    );
    let depths = broker.queue_depths().await.unwrap();
    assert!(
        depths.contains(&("kitchen_takeout_queue".into(), 1)),
        "{depths:?}"
    );
    assert!(
        depths.contains(&("dead_letter_queue".into(), 0)),
        "{depths:?}"
    );
    let (code, out, _) = run(&["dead-letters", "purge"], &env, &[]);
    assert_eq!((code, out.as_str()), (Some(0), "purged 0 dead letters\n"));
    let (code, out, _) = run(&["dead-letters", "list"], &env, &[]);
    assert_eq!((code, out.as_str()), (Some(0), "no dead letters\n"));
    drop(broker);
    d.cleanup().await;
}
