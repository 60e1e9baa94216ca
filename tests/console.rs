#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is its job
//! The console in a real terminal (tmux), as a new user meets it: start, place an order with
//! the form, watch it cook, open the help, quit cleanly.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    session: String,
    _home: tempfile::TempDir,
}

impl Tmux {
    fn start(width: u16, height: u16) -> Tmux {
        Tmux::start_with(width, height, "--port 0")
    }

    fn start_with(width: u16, height: u16, args: &str) -> Tmux {
        Tmux::start_env(width, height, args, &[])
    }

    fn start_env(width: u16, height: u16, args: &str, env: &[(&str, &str)]) -> Tmux {
        assert!(
            Command::new("tmux")
                .arg("-V")
                .output()
                .is_ok_and(|o| o.status.success()),
            "this test drives the console in tmux: install it (apt-get install tmux)"
        );
        let home = tempfile::tempdir().unwrap();
        let session = format!("rt-{}", uuid::Uuid::new_v4().simple());
        let h = home.path().display();
        let extra: String = env.iter().map(|(k, v)| format!(" {k}='{v}'")).collect();
        let script = format!(
            "env -i PATH=\"$PATH\" TERM=xterm-256color HOME={h} XDG_DATA_HOME={h}/data XDG_CONFIG_HOME={h}/config \
             RESTAURANT_KITCHEN__COOK_TIME__TAKEOUT=0s{extra} {} {args}; echo EXITED=$?; sleep 60",
            env!("CARGO_BIN_EXE_restaurant-tui")
        );
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                &script,
            ])
            .status()
            .unwrap();
        assert!(ok.success(), "tmux new-session");
        Tmux {
            session,
            _home: home,
        }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            Command::new("tmux")
                .args(["send-keys", "-t", &self.session, k])
                .status()
                .unwrap();
            // Escape followed at once by a key reads as Alt+key: give each key its own moment.
            std::thread::sleep(Duration::from_millis(80));
        }
    }

    fn type_text(&self, text: &str) {
        Command::new("tmux")
            .args(["send-keys", "-t", &self.session, "-l", text])
            .status()
            .unwrap();
    }

    /// Waits until the screen shows `text` (a state to reach, with a deadline).
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {text:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

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
