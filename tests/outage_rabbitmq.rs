#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is its job
//! RabbitMQ goes away mid-service and comes back (CONTRACT §4 "Reconnection"). A binary of its
//! own: cargo runs test binaries one at a time, so no other test sees the outage.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::deployment::Deployment;
use serde_json::Value;

/// Brings RabbitMQ back however the test ends.
struct StartAppOnDrop;

impl Drop for StartAppOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("rabbitmqctl").arg("start_app").output();
    }
}

fn rabbitmqctl(verb: &str) {
    let out = Command::new("rabbitmqctl")
        .arg(verb)
        .output()
        .expect("rabbitmqctl (this test restarts RabbitMQ)");
    assert!(
        out.status.success(),
        "rabbitmqctl {verb}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn orders_placed_while_rabbitmq_is_stopped_are_accepted_and_cooked_after_it_returns() {
    let d = Deployment::new().await;
    let serve = d.serve();
    let _worker = d.worker(&[
        "--name",
        "chef",
        "--cook-time",
        "dine_in=50ms,takeout=50ms,delivery=50ms",
    ]);
    let first = d.place(&serve, "takeout", 5.0).await;
    d.wait_status(&serve, &first, "ready", Duration::from_secs(30))
        .await;
    let console = common::tmux::Tmux::start_env(100, 30, "--port 0", &d.env());
    console.wait_for("Broker rabbitmq");

    let _guard = StartAppOnDrop;
    rabbitmqctl("stop_app");
    // The outage is visible: readiness reports the broker reconnecting.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r: Value = d
            .client
            .get(serve.url("/health/ready"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if r["broker"]["status"] == "reconnecting" {
            break;
        }
        assert!(Instant::now() < deadline, "the outage never showed: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The console shows the outage and still takes an order.
    console.wait_for("BROKER UNREACHABLE");
    console.keys(&["n"]);
    console.wait_for("New order");
    console.keys(&["+", "Tab", "t", "Tab", "Tab"]);
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
    rabbitmqctl("start_app");
    numbers.push(from_console);
    for n in &numbers {
        let s = d
            .wait_status(&serve, n, "ready", Duration::from_secs(120))
            .await;
        assert_eq!(s["processed_by"], "chef");
        let ready = d
            .history(&serve, n)
            .await
            .iter()
            .filter(|(s, _)| s == "ready")
            .count();
        assert_eq!(ready, 1);
    }
    // The console catches up: its feed shows the orders cooked after the broker came back.
    console.wait_for("cooking → ready");
    console.keys(&["q"]);
    console.wait_for("EXITED=0");
    d.cleanup().await;
}
