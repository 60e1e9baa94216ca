#![allow(clippy::unwrap_used, clippy::expect_used)] // a test binary: failing loudly is its job
//! PostgreSQL restarts under a running worker (CONTRACT §4 "Reconnection"). A binary of its own:
//! cargo runs test binaries one at a time, so no other test sees the restart.

mod common;

use std::process::Command;
use std::time::Duration;

use common::deployment::Deployment;

fn restart_postgres() {
    let versions = std::fs::read_dir("/etc/postgresql")
        .expect("a Debian PostgreSQL cluster (this test restarts it)");
    for v in versions.flatten() {
        let version = v.file_name().to_string_lossy().into_owned();
        let out = Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &version, "main", "restart"])
            .output()
            .expect("pg_ctlcluster");
        assert!(
            out.status.success(),
            "restart PostgreSQL {version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test]
async fn a_running_worker_and_server_carry_on_after_postgresql_restarts() {
    let d = Deployment::new().await;
    let serve = d.serve();
    let _worker = d.worker(&[
        "--name",
        "chef",
        "--heartbeat-interval",
        "1",
        "--cook-time",
        "dine_in=50ms,takeout=50ms,delivery=50ms",
    ]);
    let before = d.place(&serve, "dine_in", 5.0).await;
    d.wait_status(&serve, &before, "ready", Duration::from_secs(30))
        .await;

    restart_postgres();
    // The service retries transient database failures; each POST answers 201.
    let mut numbers = Vec::new();
    for kind in ["dine_in", "takeout", "delivery", "takeout", "dine_in"] {
        numbers.push(d.place(&serve, kind, 6.0).await);
    }
    for n in &numbers {
        let s = d
            .wait_status(&serve, n, "ready", Duration::from_secs(60))
            .await;
        assert_eq!(s["processed_by"], "chef");
    }
    d.cleanup().await;
}
