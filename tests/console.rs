#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is its job
//! The console in a real terminal (tmux), as a new user meets it: start, place an order with
//! the form, watch it cook, open the help, quit cleanly.

mod common;

use common::tmux::Tmux;

fn a_new_user_places_an_order_and_watches_it_cook(width: u16, height: u16) {
    let t = Tmux::start(width, height);
    t.wait_for("chef_1");
    t.wait_for("API 127.0.0.1:");
    t.keys(&["n"]);
    t.wait_for("New order");
    t.keys(&["+", "Tab", "t", "Tab", "Tab"]);
    t.type_text("Zoë Lee");
    t.keys(&["Enter"]);
    let screen = t.wait_for("placed ORD_");
    assert!(screen.contains("1×Margherita"), "{screen}");
    t.wait_for("ready");
    t.wait_for("cooking → ready");
    // The order's detail with its history.
    t.keys(&["Enter"]);
    t.wait_for("Order (Esc closes)");
    t.wait_for("order-service");
    t.keys(&["Escape"]);
    // A second worker: start it, stop it, watch it go offline.
    t.keys(&["w"]);
    t.wait_for("Start a worker");
    t.keys(&["Enter"]);
    t.wait_for("Workers 2"); // in the pane, not just announced
    t.keys(&["Tab", "Down", "s"]);
    t.wait_for("chef_2 is offline");
    // Filter the queue.
    t.keys(&["BTab", "/"]);
    t.type_text("delivery");
    t.keys(&["Enter"]);
    t.wait_for("Orders 0");
    t.keys(&["Escape"]);
    t.wait_for("Orders 1");
    t.keys(&["?"]);
    t.wait_for("Keys (Esc closes)");
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.wait_for("EXITED=0");
}

#[test]
fn the_console_at_100x30() {
    a_new_user_places_an_order_and_watches_it_cook(100, 30);
}

#[test]
fn the_console_at_80x24() {
    a_new_user_places_an_order_and_watches_it_cook(80, 24);
}

#[test]
fn a_taken_port_is_said_on_screen_and_the_console_carries_on() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let t = Tmux::start_with(100, 30, &format!("--port {port}"));
    let screen = t.wait_for("cannot listen");
    assert!(screen.contains("--port"), "{screen}");
    t.wait_for("chef_1"); // the kitchen runs without the API
    t.keys(&["q"]);
    t.wait_for("EXITED=0");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_consoles_on_postgres_and_rabbitmq_share_orders_workers_and_feed() {
    let d = common::deployment::Deployment::new().await;
    let env = d.env();
    let a = Tmux::start_env(100, 30, "--port 0", &env);
    let b = Tmux::start_env(100, 30, "--port 0", &env);
    for t in [&a, &b] {
        t.wait_for("Broker rabbitmq");
        t.wait_for("API 127.0.0.1:");
    }
    a.keys(&["n"]);
    a.wait_for("New order");
    a.keys(&["+", "Tab", "t", "Tab", "Tab"]);
    a.type_text("Ann");
    a.keys(&["Enter"]);
    a.wait_for("placed ORD_");
    b.wait_for("ORD_");
    b.wait_for("new → received");
    // A worker started in one console shows in both, and cooks the order.
    b.keys(&["w"]);
    b.wait_for("Start a worker");
    b.keys(&["Enter"]);
    a.wait_for("chef_1");
    a.wait_for("cooking → ready");
    b.wait_for("cooking → ready");
    for t in [&a, &b] {
        t.keys(&["q"]);
        t.wait_for("EXITED=0");
    }
    d.cleanup().await;
}
