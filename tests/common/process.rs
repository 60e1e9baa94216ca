//! Runs the real `restaurant-tui` binary as a child, with a private environment, and reads
//! its JSON log lines as they come (never sleeping to wait for readiness).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub struct Process {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    /// The other stream's lines (notify's human lines on stdout), as they come.
    pub other: mpsc::Receiver<String>,
    pub seen: Vec<String>,
    pub port: u16,
    _home: Option<tempfile::TempDir>,
}

fn read_lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A command with no configuration leaking in from the developer's machine.
pub fn command(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_restaurant-tui"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("RUST_BACKTRACE", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

impl Process {
    /// Starts `args` (which should bind `--port 0`) and waits for its `service_started` line.
    pub fn serve(args: &[&str], env: &[(&str, &str)]) -> Process {
        Process::started(Process::start(args, env, false))
    }

    /// [`Process::serve`] with a home (and so an embedded data directory) the test keeps, to
    /// start the same kitchen again after a stop.
    pub fn serve_in(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Process {
        Process::started(Process::spawn_in(home, args, env, false, None))
    }

    fn started(mut p: Process) -> Process {
        // In-process workers announce themselves too; the server's line is the one with a port.
        loop {
            let started = p.wait_for("service_started");
            if let Some(port) = started["details"]["port"].as_u64() {
                p.port = port as u16;
                return p;
            }
        }
    }

    /// The other stream's lines to its end, once the process has exited: its reader may still
    /// be handing them on, so they are read until the stream closes (within `limit`).
    pub fn other_to_end(&self, limit: Duration) -> Vec<String> {
        let deadline = std::time::Instant::now() + limit;
        let mut lines = Vec::new();
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.other.recv_timeout(left) {
                Ok(line) => lines.push(line),
                Err(_) => break,
            }
        }
        lines
    }

    /// Starts a process whose JSON log lines are on stdout (or on stderr: `notify`), without
    /// waiting for anything.
    pub fn start(args: &[&str], env: &[(&str, &str)], logs_on_stderr: bool) -> Process {
        let home = tempfile::tempdir().expect("temp home");
        let path = home.path().to_path_buf();
        Process::spawn_in(&path, args, env, logs_on_stderr, Some(home))
    }

    pub fn spawn_in(
        home: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        logs_on_stderr: bool,
        owned: Option<tempfile::TempDir>,
    ) -> Process {
        let mut child = command(home, args, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn restaurant-tui");
        let out = read_lines(child.stdout.take().expect("stdout"));
        let err = read_lines(child.stderr.take().expect("stderr"));
        let (lines, other) = if logs_on_stderr {
            (err, out)
        } else {
            (out, err)
        };
        Process {
            child,
            lines,
            other,
            seen: Vec::new(),
            port: 0,
            _home: owned,
        }
    }

    /// Starts and waits for `service_started` (workers: once taking orders).
    pub fn ready(args: &[&str], env: &[(&str, &str)], logs_on_stderr: bool) -> Process {
        let mut p = Process::start(args, env, logs_on_stderr);
        p.wait_for("service_started");
        p
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Places a valid one-item order of `kind` on this server (201 expected); its number.
    pub async fn place(&self, client: &reqwest::Client, kind: &str, price: f64) -> String {
        let mut body = serde_json::json!({"customer_name": "Ann", "order_type": kind,
            "items": [{"name": "Pizza", "quantity": 1, "price": price}]});
        match kind {
            "dine_in" => body["table_number"] = serde_json::json!(5),
            "delivery" => body["delivery_address"] = serde_json::json!("12 Baker Street, London"),
            _ => {}
        }
        let r = client
            .post(self.url("/orders"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["order_number"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// GET `path` on this server and read the JSON body.
    pub async fn get_json(&self, client: &reqwest::Client, path: &str) -> Value {
        client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Polls until the order has `status` (a state to reach, with a deadline; not a timing claim).
    pub async fn wait_status(
        &self,
        client: &reqwest::Client,
        n: &str,
        status: &str,
        limit: Duration,
    ) -> Value {
        let path = format!("/orders/{n}/status");
        self.wait_json(client, &path, |s| s["current_status"] == status, limit)
            .await
    }

    /// Polls `GET path` until `reached` holds, for `limit` at most.
    pub async fn wait_json(
        &self,
        client: &reqwest::Client,
        path: &str,
        reached: impl Fn(&Value) -> bool,
        limit: Duration,
    ) -> Value {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let v = self.get_json(client, path).await;
            if reached(&v) {
                return v;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{path} never reached what was awaited: {v}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The next line with this action, keeping every line read in `seen`.
    pub fn wait_for(&mut self, action: &str) -> Value {
        self.wait_for_within(action, Duration::from_secs(60))
    }

    pub fn wait_for_within(&mut self, action: &str, limit: Duration) -> Value {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let Ok(line) = self.lines.recv_timeout(left) else {
                let _ = self.child.kill();
                let other: Vec<String> = self.other.try_iter().collect();
                panic!(
                    "no {action} line; log lines so far: {:#?}\nother stream: {other:#?}",
                    self.seen
                );
            };
            self.seen.push(line.clone());
            // Anything else (a panic report, a CLI answer) is kept for the failure message.
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if v["action"] == action {
                return v;
            }
        }
    }

    /// SIGTERM, then every remaining line and the exit status.
    pub fn terminate(self) -> (Vec<String>, std::process::ExitStatus) {
        self.signal("TERM")
    }

    /// Sends `signal` (`TERM`, `INT`, `HUP`), then reads every remaining line and waits for the
    /// exit (with a deadline: a process that ignores the signal fails the test).
    pub fn signal(mut self, signal: &str) -> (Vec<String>, std::process::ExitStatus) {
        let _ = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still running 90 s after SIG{signal}: {:#?}",
                self.seen
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        (std::mem::take(&mut self.seen), status)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs to completion; (exit code, stdout, stderr).
pub fn run(
    args: &[&str],
    env: &[(&str, &str)],
    files: &[(&str, &str)],
) -> (Option<i32>, String, String) {
    let home = tempfile::tempdir().expect("temp home");
    for (name, content) in files {
        std::fs::write(home.path().join(name), content).expect("write file");
    }
    let mut child = command(home.path(), args, env)
        .current_dir(home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run restaurant-tui");
    let read = |stream: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(stream).read_to_string(&mut text);
            text
        })
    };
    let out = read(Box::new(child.stdout.take().expect("stdout")));
    let err = read(Box::new(child.stderr.take().expect("stderr")));
    // A command that never ends fails the test instead of hanging it.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("restaurant-tui {args:?} still running after 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status.code(),
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    )
}

pub fn data_dir_of(home: &Path) -> PathBuf {
    home.join("data")
}
