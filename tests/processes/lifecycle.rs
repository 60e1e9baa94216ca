//! Every way the embedded kitchen stops, and a start after each (CONTRACT §3, §4, §7): queued
//! orders survive SIGTERM and `kill -9`, an order cooking at a crash is taken over once, the
//! data directory belongs to one process, the console restores the terminal on every signal.

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::process::{Process, command};
use common::tmux::Tmux;

async fn place(client: &reqwest::Client, serve: &Process, kind: &str) -> String {
    serve.place(client, kind, 5.0).await
}

/// The statuses of an order's history, oldest first.
async fn history(client: &reqwest::Client, serve: &Process, n: &str) -> Vec<String> {
    serve
        .get_json(client, &format!("/orders/{n}/history"))
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_string())
        .collect()
}

/// `serve --workers 1` on the embedded default in `home`, with `env` over the defaults.
fn embedded_with(home: &Path, env: &[(&str, &str)]) -> Process {
    let args = [
        "serve",
        "--port",
        "0",
        "--rate-limit",
        "0",
        "--workers",
        "1",
    ];
    Process::serve_in(home, &args, env)
}

/// [`embedded_with`] where takeout cooks for `cook`.
fn embedded(home: &Path, cook: &str) -> Process {
    embedded_with(home, &[("RESTAURANT_KITCHEN__COOK_TIME__TAKEOUT", cook)])
}

async fn every_order_ends_ready_exactly_once(serve: &Process, numbers: &[String]) {
    let client = reqwest::Client::new();
    for n in numbers {
        serve
            .wait_status(&client, n, "ready", Duration::from_secs(60))
            .await;
        let h = history(&client, serve, n).await;
        assert_eq!(h.iter().filter(|s| *s == "ready").count(), 1, "{n}: {h:?}");
    }
}

#[tokio::test]
async fn queued_orders_survive_a_sigterm_of_the_embedded_kitchen() {
    let home = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let serve = embedded(home.path(), "2s");
    let mut numbers = Vec::new();
    for _ in 0..4 {
        numbers.push(place(&client, &serve, "takeout").await);
    }
    serve
        .wait_status(&client, &numbers[0], "cooking", Duration::from_secs(30))
        .await;
    let (_, status) = serve.terminate();
    assert!(status.success(), "a graceful stop exits 0: {status}");

    let serve = embedded(home.path(), "0s");
    every_order_ends_ready_exactly_once(&serve, &numbers).await;
    // The first was finished before the stop; the rest were queued again and cooked once.
    assert_eq!(
        history(&client, &serve, &numbers[0]).await,
        ["received", "cooking", "ready"]
    );
    let workers = serve.get_json(&client, "/workers/status").await;
    assert_eq!(workers[0]["worker_name"], "kitchen-1");
}

#[tokio::test]
async fn an_order_cooking_at_kill_9_is_taken_over_once_after_the_restart() {
    let home = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut serve = embedded(home.path(), "1h");
    let cooking = place(&client, &serve, "takeout").await;
    let waiting = place(&client, &serve, "takeout").await;
    serve
        .wait_status(&client, &cooking, "cooking", Duration::from_secs(30))
        .await;
    serve.kill9();

    let serve = embedded(home.path(), "0s");
    every_order_ends_ready_exactly_once(&serve, &[cooking.clone(), waiting]).await;
    assert_eq!(
        history(&client, &serve, &cooking).await,
        ["received", "cooking", "cooking", "ready"],
        "one cooking row per attempt that started, one ready"
    );
    let status = serve
        .get_json(&client, &format!("/orders/{cooking}/status"))
        .await;
    assert_eq!(status["processed_by"], "kitchen-1");
}

#[tokio::test]
async fn a_second_process_on_the_same_embedded_data_is_refused_with_the_first_ones_pid() {
    let home = tempfile::tempdir().unwrap();
    let first = embedded(home.path(), "0s");
    let out = command(home.path(), &["serve", "--port", "0"], &[])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let pid = first.child.id().to_string();
    assert!(
        stderr.contains(&format!("pid {pid}")) && stderr.contains("restaurant.db"),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line, no backtrace: {stderr}"
    );
}

#[tokio::test]
async fn cancelling_a_cooking_order_frees_its_cook_for_the_next() {
    let home = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let serve = embedded_with(
        home.path(),
        &[
            ("RESTAURANT_KITCHEN__COOK_TIME__DINE_IN", "1h"),
            ("RESTAURANT_KITCHEN__COOK_TIME__TAKEOUT", "0s"),
        ],
    );
    let long = place(&client, &serve, "dine_in").await;
    serve
        .wait_status(&client, &long, "cooking", Duration::from_secs(30))
        .await;
    let r = client
        .post(serve.url(&format!("/orders/{long}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // With one cook still "cooking" the cancelled order for an hour, this would never cook.
    let next = place(&client, &serve, "takeout").await;
    serve
        .wait_status(&client, &next, "ready", Duration::from_secs(30))
        .await;
    assert_eq!(
        history(&client, &serve, &long).await,
        ["received", "cooking", "cancelled"]
    );
}

#[tokio::test]
async fn an_embedded_serve_without_workers_says_nothing_will_cook() {
    let serve = Process::serve(&["serve", "--port", "0"], &[]);
    let client = reqwest::Client::new();
    let ready = serve.get_json(&client, "/health/ready").await;
    let warning = ready["warnings"][0].as_str().unwrap_or_default();
    assert!(warning.contains("no worker"), "{ready}");
    assert!(
        serve.seen.iter().any(|l| l.contains("kitchen_missing")),
        "said at start, before service_started: {:#?}",
        serve.seen
    );
}

#[test]
fn the_console_without_a_terminal_says_so_in_one_line_and_exits_2() {
    let home = tempfile::tempdir().unwrap();
    let out = command(home.path(), &[], &[])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("restaurant-tui serve"), "{stderr}");
    assert!(out.stdout.is_empty(), "no escape codes on stdout");
}

/// Places a takeout order with the console's form.
fn place_with_the_form(t: &Tmux) {
    t.keys(&["n"]);
    t.wait_for("New order");
    t.keys(&["t", "1", "Tab"]);
    t.type_text("Ann");
    t.keys(&["Enter"]);
    t.wait_for("placed ORD_");
}

/// Stops the console by `how` while an order cooks, then checks the shell it leaves and that a
/// restarted console takes the order over and cooks it.
fn the_console_survives(how: &str) {
    let home = tempfile::tempdir().unwrap();
    // Takeout cooks for an hour: only a take-over after the restart can finish it.
    let slow = [
        ("RESTAURANT_KITCHEN__COOK_TIME__TAKEOUT", "1h"),
        ("RESTAURANT_KITCHEN__SHUTDOWN_TIMEOUT", "1s"),
    ];
    let t = Tmux::start_in(home.path(), 80, 24, "--port 0", &slow, None);
    t.wait_for("chef_1");
    place_with_the_form(&t);
    t.wait_for("received → cooking");
    match how {
        "C-c" => t.keys(&["C-c"]),
        signal => t.signal(signal),
    }
    let screen = t.wait_for("EXITED=");
    assert!(
        screen.contains("EXITED=0"),
        "a graceful stop exits 0:\n{screen}"
    );
    let screen = t.wait_for("TTY=");
    assert!(
        screen.contains("TTY=sane"),
        "echo and line mode back:\n{screen}"
    );
    assert_eq!(t.pane("#{alternate_on}"), "0", "main screen back");
    assert_eq!(t.pane("#{cursor_flag}"), "1", "cursor visible");
    drop(t);

    let fast = [("RESTAURANT_KITCHEN__COOK_TIME__TAKEOUT", "0s")];
    let again = Tmux::start_in(home.path(), 80, 24, "--port 0", &fast, None);
    again.wait_for("chef_1");
    again.wait_for("cooking → ready");
    again.keys(&["q"]);
    again.wait_for("EXITED=0");
}

#[test]
fn the_console_survives_sigterm_with_the_terminal_restored() {
    the_console_survives("TERM");
}

#[test]
fn the_console_survives_sighup_with_the_terminal_restored() {
    the_console_survives("HUP");
}

#[test]
fn the_console_survives_ctrl_c_with_the_terminal_restored() {
    the_console_survives("C-c");
}

#[test]
fn ctrl_z_does_not_freeze_the_console() {
    let t = Tmux::start(80, 24);
    t.wait_for("chef_1");
    t.keys(&["C-z"]);
    t.wait_for("Ctrl-Z");
    t.signal("TSTP");
    // Still running and drawing: the help opens, and q leaves.
    t.keys(&["?"]);
    t.wait_for("Keys (Esc closes)");
    t.keys(&["Escape", "q"]);
    t.wait_for("EXITED=0");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_on_postgres_and_rabbitmq_hands_back_at_sigterm_and_a_new_cook_takes_over() {
    let d = common::deployment::Deployment::new().await;
    let home = tempfile::tempdir().unwrap();
    let mut slow = d.env();
    slow.extend([
        ("RESTAURANT_KITCHEN__COOK_TIME__TAKEOUT", "1h"),
        ("RESTAURANT_KITCHEN__SHUTDOWN_TIMEOUT", "1s"),
    ]);
    let t = Tmux::start_in(home.path(), 100, 30, "--port 0", &slow, None);
    t.wait_for("Broker rabbitmq");
    t.keys(&["w"]);
    t.wait_for("Start a worker");
    t.keys(&["Enter"]);
    t.wait_for("Workers 1");
    place_with_the_form(&t);
    t.wait_for("received → cooking");
    t.signal("TERM");
    let screen = t.wait_for("TTY=");
    assert!(
        screen.contains("EXITED=0") && screen.contains("TTY=sane"),
        "{screen}"
    );
    drop(t);

    // The order was handed back to RabbitMQ; a cook started in a new console takes it over.
    let mut fast = d.env();
    fast.push(("RESTAURANT_KITCHEN__COOK_TIME__TAKEOUT", "0s"));
    let again = Tmux::start_in(home.path(), 100, 30, "--port 0", &fast, None);
    again.wait_for("Broker rabbitmq");
    again.keys(&["w"]);
    again.wait_for("Start a worker");
    again.keys(&["Enter"]);
    again.wait_for("cooking → ready");
    again.keys(&["q"]);
    again.wait_for("EXITED=0");
    drop(again);
    d.cleanup().await;
}

#[tokio::test]
async fn the_embedded_data_is_the_users_alone_and_a_looser_folder_is_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data/restaurant-tui");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let client = reqwest::Client::new();
    let serve = embedded(home.path(), "0s");
    let n = place(&client, &serve, "takeout").await;
    serve
        .wait_status(&client, &n, "ready", Duration::from_secs(30))
        .await;
    assert!(
        serve
            .seen
            .iter()
            .any(|l| l.contains("permissions_tightened")),
        "the log says so: {:#?}",
        serve.seen
    );
    assert_eq!(mode(&data), 0o700);
    for entry in std::fs::read_dir(&data).unwrap().flatten() {
        assert_eq!(mode(&entry.path()), 0o600, "{}", entry.path().display());
    }
}
