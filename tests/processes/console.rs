//! The console in a real terminal (tmux), as a new user meets it: start, place an order with
//! the form, watch it cook, open the help, quit cleanly.

use crate::common;

use common::tmux::Tmux;

fn a_new_user_places_an_order_and_watches_it_cook(width: u16, height: u16) {
    let t = Tmux::start(width, height);
    t.wait_for("chef_1");
    t.wait_for("API 127.0.0.1:");
    // A takeout of one Margherita for Zoë: t, 1, Tab, the name, Enter.
    t.keys(&["t"]);
    t.wait_for("New order");
    t.keys(&["1", "Tab"]);
    t.type_text("Zoë Lee");
    t.keys(&["Enter"]);
    let screen = t.wait_for("placed ORD_");
    assert!(screen.contains("1×Margherita"), "{screen}");
    assert!(screen.contains("Zoë Lee · to go"), "{screen}");
    t.wait_for("cooking → ready");
    t.wait_for("ready 0:");
    // The order's detail with its history, in local time.
    t.keys(&["Enter"]);
    t.wait_for("History (");
    t.wait_for("order-service");
    t.keys(&["Escape"]);
    // A second worker: start it, stop it, watch it go offline.
    t.keys(&["w"]);
    t.wait_for("Start a worker");
    t.keys(&["Enter"]);
    t.wait_for("Workers 2"); // in the pane, not just announced
    t.keys(&["Tab", "Down", "s"]);
    t.wait_for("chef_2 is offline");
    // Search the queue; Esc clears.
    t.keys(&["BTab", "/"]);
    t.type_text("delivery");
    t.keys(&["Enter"]);
    t.wait_for("No order matches");
    t.keys(&["Escape"]);
    t.wait_for("Orders 1/1");
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

/// The port the console's API listens on, read off its header.
fn api_port(t: &Tmux) -> u16 {
    let screen = t.wait_for("API 127.0.0.1:");
    let at = screen.find("API 127.0.0.1:").unwrap() + "API 127.0.0.1:".len();
    screen[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// One POST /orders, as curl would send it.
fn post_order(port: u16, body: &str) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
}

/// The ticket number (`#002`) on a line.
fn ticket_number(line: &str) -> String {
    let at = line.find('#').expect("a ticket number");
    line[at..]
        .chars()
        .take_while(|c| *c == '#' || c.is_ascii_digit())
        .collect()
}

/// The line the selection marker is on.
fn selected_line(screen: &str) -> String {
    screen
        .lines()
        .find(|l| l.contains('▶'))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn arriving_orders_never_move_the_selection_and_cancel_asks_first() {
    // Dine-in cooks for a minute, so the orders stay on the line while the test acts.
    let t = Tmux::start_env(
        80,
        24,
        "--port 0",
        // A short shutdown timeout: at q the cook hands its order back instead of finishing it.
        &[
            ("RESTAURANT_KITCHEN__COOK_TIME__DINE_IN", "60s"),
            ("RESTAURANT_KITCHEN__SHUTDOWN_TIMEOUT", "1s"),
        ],
    );
    let port = api_port(&t);
    let small = |table: u8| {
        format!(
            r#"{{"customer_name":"Guest","order_type":"dine_in","table_number":{table},
               "items":[{{"name":"Cola","quantity":1,"price":2.5}}]}}"#
        )
    };
    for table in 1..=3 {
        post_order(port, &small(table));
    }
    // Whichever ticket the cursor starts on (the first the queue learnt of), j moves it one
    // down; from then on it is that order's.
    t.wait_for("/3 · all");
    t.keys(&["g", "j"]);
    let screen = t.wait_for("Orders 2/3");
    let chosen = ticket_number(&selected_line(&screen));
    // Urgent orders (over 100.00) arrive from outside and sort above it: the cursor stays.
    for table in 4..=6 {
        post_order(
            port,
            &format!(
                r#"{{"customer_name":"Big","order_type":"dine_in","table_number":{table},
                   "items":[{{"name":"Feast","quantity":10,"price":20}}]}}"#
            ),
        );
    }
    let screen = t.wait_for("Orders 5/6");
    assert_eq!(ticket_number(&selected_line(&screen)), chosen, "{screen}");
    // `c` with the workers pane focused cancels nothing and says where to go.
    t.keys(&["Tab", "c"]);
    let screen = t.wait_for("Tab to the orders pane");
    assert!(!screen.contains("Cancel #"), "{screen}");
    // In the orders pane it asks; any other key keeps the order; y cancels it.
    t.keys(&["BTab", "c"]);
    let screen = t.wait_for(&format!("Cancel {chosen}?"));
    assert!(screen.contains(", Guest)"), "{screen}");
    t.keys(&["n"]);
    t.wait_for(&format!("{chosen} kept"));
    t.keys(&["c"]);
    t.wait_for(&format!("Cancel {chosen}?"));
    t.keys(&["y"]);
    // It left the queue; the selection went to a neighbour and the line said so; the message
    // log (m) keeps what scrolled past.
    t.wait_for(&format!(
        "{chosen} has left the kitchen; the selection moved to"
    ));
    t.keys(&["m"]);
    t.wait_for(&format!("{chosen}: "));
    t.wait_for("→ cancelled");
    t.keys(&["Escape", "q"]);
    t.wait_for("EXITED=0");
}

#[test]
fn paging_reaches_the_last_of_300_tickets_and_search_finds_a_table() {
    // 300 orders from one client in a second or two: beyond the default per-client limit.
    let t = Tmux::start_env(80, 24, "--port 0 --workers 0 --rate-limit 0", &[]);
    let port = api_port(&t);
    for table in 1..=100u16 {
        for _ in 0..3 {
            post_order(
                port,
                &format!(
                    r#"{{"customer_name":"Guest","order_type":"dine_in","table_number":{table},
                       "items":[{{"name":"Cola","quantity":1,"price":2.5}}]}}"#
                ),
            );
        }
    }
    t.wait_for("/300");
    t.keys(&["G"]);
    t.wait_for("Orders 300/300");
    t.keys(&["g"]);
    t.wait_for("Orders 1/300");
    t.keys(&["PageDown"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while t.screen().contains("Orders 1/300") {
        assert!(std::time::Instant::now() < deadline, "PgDn moved nothing");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    t.keys(&["/"]);
    t.type_text("t12");
    let screen = t.wait_for("/3 · all · /t12");
    assert!(
        screen.contains("search: t12"),
        "the prompt shows while typing: {screen}"
    );
    // Esc clears the search and keeps the order it found selected.
    t.keys(&["Escape"]);
    t.wait_for("Orders 34/300 · all ");
    t.keys(&["q"]);
    t.wait_for("EXITED=0");
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
    a.keys(&["t"]);
    a.wait_for("New order");
    a.keys(&["1", "Tab"]);
    a.type_text("Ann");
    a.keys(&["Enter"]);
    a.wait_for("placed ORD_");
    b.wait_for("Ann · to go");
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
