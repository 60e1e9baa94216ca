//! The Python tools the tests run (installed by `scripts/tools` into `target/tools`): a real
//! Prometheus parser for `/metrics` and schemathesis for `/openapi.json`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

/// A program of the tools' virtual environment; a missing one fails the test with how to
/// install it (tests never skip).
pub fn tool(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/tools/bin")
        .join(name);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/tools (scripts/test runs it) to install the test tools",
        path.display()
    );
    path
}

/// One sample of a parsed exposition.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: serde_json::Map<String, Value>,
    pub value: f64,
    pub kind: String,
}

/// Parses Prometheus text with `prometheus_client`'s parser; a page it refuses fails the test.
pub fn parse_metrics(text: &str) -> Vec<Sample> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tools/parse_metrics.py");
    let mut child = Command::new(tool("python"))
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the Prometheus parser");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n--- the page ---\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    parsed
        .into_iter()
        .map(|s| Sample {
            name: s["name"].as_str().unwrap().to_string(),
            labels: s["labels"].as_object().cloned().unwrap_or_default(),
            value: s["value"].as_f64().unwrap_or(f64::NAN),
            kind: s["type"].as_str().unwrap_or("").to_string(),
        })
        .collect()
}

/// The value of the sample `name` whose labels include `labels` (`None`: absent).
pub fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).and_then(Value::as_str) == Some(*v))
        })
        .map(|s| s.value)
}
