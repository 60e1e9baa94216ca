//! Runs the real `restaurant-tui` binary as a child, with a private environment, and reads
//! its JSON log lines as they come (never sleeping to wait for readiness).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub struct Process {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
    pub port: u16,
    _home: tempfile::TempDir,
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
        let home = tempfile::tempdir().expect("temp home");
        let mut child = command(home.path(), args, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn restaurant-tui");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut p = Process {
            child,
            lines: rx,
            seen: Vec::new(),
            port: 0,
            _home: home,
        };
        let started = p.wait_for("service_started");
        p.port = started["details"]["port"]
            .as_u64()
            .expect("port in service_started") as u16;
        p
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The next line with this action, keeping every line read in `seen`.
    pub fn wait_for(&mut self, action: &str) -> Value {
        loop {
            let line = match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(l) => l,
                Err(_) => {
                    let _ = self.child.kill();
                    let mut err = String::new();
                    if let Some(mut e) = self.child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut e, &mut err);
                    }
                    panic!(
                        "no {action} line; stdout so far: {:#?}\nstderr: {err}",
                        self.seen
                    );
                }
            };
            self.seen.push(line.clone());
            let v: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            if v["action"] == action {
                return v;
            }
        }
    }

    /// SIGTERM, then every remaining line and the exit status.
    pub fn terminate(mut self) -> (Vec<String>, std::process::ExitStatus) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let status = self.child.wait().expect("wait");
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
    let out = command(home.path(), args, env)
        .current_dir(home.path())
        .output()
        .expect("run restaurant-tui");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn data_dir_of(home: &Path) -> PathBuf {
    home.join("data")
}
