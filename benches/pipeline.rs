//! The whole pipeline on PostgreSQL + RabbitMQ (issue #10), against the raw limits of its parts
//! measured in the same run. Every phase has a database and a broker prefix of its own, dropped
//! at its end; `serve`, the workers and `notify` are separate processes of the release binary.
//!
//! ```text
//! cargo bench --bench pipeline -- [--orders 20000] [--workers 1] [--prefetch 10]
//!     [--clients 32] [--light-seconds 15] [--baseline PATH/TO/OLD/restaurant-tui]
//! ```
//! `ADMIN_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) and `AMQP_URL` (default
//! `amqp://guest:guest@127.0.0.1:5672/%2f`) name the servers; pgbench must be on PATH. Run it
//! alone: the CPU of PostgreSQL and RabbitMQ is read from /proc for all their processes.
//!
//! Phases, each printed as it ends:
//! 1. raw RabbitMQ: persistent messages to a durable queue, 100 confirms outstanding;
//! 2. raw PostgreSQL: pgbench on the store's own transition statement (read from
//!    `src/store/postgres.rs`, so the two cannot drift), 8 clients;
//! 3. the relay alone: orders taken while the broker is away, then drained by a new `serve`;
//! 4. the API alone: `serve` with its relay publishing and no worker;
//! 5. end to end: `serve`, the workers (zero cook time) and `notify`, orders as fast as taken:
//!    rate, 201 → ready from `notify`'s lines, CPU per order of every process, the outbox after,
//!    and the checks (one `ready` row per order, every update printed once);
//! 6. light load, 20 orders/s: 201 → ready, also for `--baseline` when given.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: failing loudly is its job

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use sqlx::{Connection as _, Executor, PgConnection};

const BIN: &str = env!("CARGO_BIN_EXE_restaurant-tui");

struct Args {
    orders: usize,
    workers: usize,
    prefetch: u16,
    clients: usize,
    light_seconds: u64,
    baseline: Option<PathBuf>,
    /// Which phases to run (all by default); phase 5's ratio needs 4, 3's needs 1.
    phases: Vec<u8>,
    admin_url: String,
    amqp_url: String,
}

fn args() -> Args {
    let mut a = Args {
        orders: 20_000,
        workers: 1,
        prefetch: 10,
        clients: 32,
        light_seconds: 15,
        baseline: None,
        phases: (1..=6).collect(),
        admin_url: std::env::var("ADMIN_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        amqp_url: std::env::var("AMQP_URL")
            .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().expect("a value after the flag");
        match flag.as_str() {
            "--orders" => a.orders = value().parse().unwrap(),
            "--workers" => a.workers = value().parse().unwrap(),
            "--prefetch" => a.prefetch = value().parse().unwrap(),
            "--clients" => a.clients = value().parse().unwrap(),
            "--light-seconds" => a.light_seconds = value().parse().unwrap(),
            "--baseline" => a.baseline = Some(value().into()),
            "--phases" => a.phases = value().split(',').map(|p| p.parse().unwrap()).collect(),
            "--bench" => {}
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn main() {
    let args = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(args));
}

async fn run(a: Args) {
    println!(
        "pipeline: {} orders, {} worker(s) at prefetch {}, {} clients",
        a.orders, a.workers, a.prefetch, a.clients
    );
    let on = |p: u8| a.phases.contains(&p);
    let mut raw_amqp = f64::NAN;
    if on(1) {
        raw_amqp = raw_rabbitmq(&a.amqp_url, 20_000).await;
        println!("1. RabbitMQ raw, persistent, 100 confirms outstanding: {raw_amqp:.0} msg/s");
    }
    if on(2) {
        let raw_pg = pgbench_transition(&a).await;
        println!("2. pgbench, the transition statement, 8 clients: {raw_pg:.0} tx/s");
    }
    if on(3) {
        let relay = relay_alone(&a).await;
        println!(
            "3. relay alone: {relay:.0} msg/s = {:.0} % of the raw confirmed-publish rate",
            100.0 * relay / raw_amqp
        );
    }
    let mut api = f64::NAN;
    if on(4) {
        let cpu;
        (api, cpu) = api_alone(&a).await;
        println!("4. API alone (relay publishing, no worker): {api:.0} orders/s");
        println!("   CPU per order: {}", cpu.describe(a.orders));
    }
    if on(5) {
        phase_five(&a, api).await;
    }
    if on(6) {
        phase_six(&a).await;
    }
}

async fn phase_five(a: &Args, api: f64) {
    let e2e = end_to_end(a, BIN.as_ref(), a.orders, None).await;
    println!(
        "5. end to end: {:.0} orders/s = {:.0} % of the API alone; 201 -> ready p50 {:.1} ms, p99 {:.1} ms",
        e2e.rate,
        100.0 * e2e.rate / api,
        e2e.p50,
        e2e.p99
    );
    println!("   CPU per order: {}", e2e.cpu.describe(a.orders));
    println!(
        "   outbox afterwards: {} rows, {} kB (table, indexes, TOAST)",
        e2e.outbox_rows,
        e2e.outbox_bytes / 1024
    );
    println!(
        "   PostgreSQL transactions per order: {:.2}",
        e2e.transactions as f64 / a.orders as f64
    );
    println!("   checks: {}", e2e.checks);
}

/// Transactions committed in the connection's database so far.
async fn commits(conn: &mut PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(conn)
    .await
    .unwrap()
}

/// With a baseline, the two builds take turns (four rounds each of a quarter of the time), so
/// a machine that slows down meanwhile weighs on both alike; the latencies are pooled per build.
async fn phase_six(a: &Args) {
    let rounds = if a.baseline.is_some() { 4 } else { 1 };
    let per_round = usize::try_from(a.light_seconds * 20).unwrap() / rounds;
    let (mut now, mut then) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let ours = end_to_end(a, BIN.as_ref(), per_round, Some(20)).await;
        println!("   this build, {per_round} orders: {}", ours.checks);
        now.extend(ours.latencies);
        if let Some(old) = &a.baseline {
            let theirs = end_to_end(a, old, per_round, Some(20)).await;
            println!("   baseline, {per_round} orders: {}", theirs.checks);
            then.extend(theirs.latencies);
        }
    }
    let (p50, p99) = (percentile(&mut now, 0.50), percentile(&mut now, 0.99));
    println!(
        "6. at 20 orders/s for {} s: 201 -> ready p50 {p50:.1} ms, p99 {p99:.1} ms",
        a.light_seconds
    );
    if let Some(old) = &a.baseline {
        let (b50, b99) = (percentile(&mut then, 0.50), percentile(&mut then, 0.99));
        println!(
            "   baseline {}: p50 {b50:.1} ms, p99 {b99:.1} ms; this build / baseline: p50 {:.2}, p99 {:.2}",
            old.display(),
            p50 / b50,
            p99 / b99
        );
    }
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() as f64 * p) as usize).min(values.len() - 1)]
}

/// RabbitMQ's own limit: persistent messages of an order message's size to a durable queue,
/// never more than 100 unconfirmed.
async fn raw_rabbitmq(url: &str, count: usize) -> f64 {
    let conn = Connection::connect(url, ConnectionProperties::default())
        .await
        .expect("RabbitMQ at AMQP_URL");
    let ch = conn.create_channel().await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let queue = format!("rt_bench_raw_{}", std::process::id());
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    ch.queue_declare(queue.as_str().into(), durable, FieldTable::default())
        .await
        .unwrap();
    let body = vec![b'x'; 320];
    let started = Instant::now();
    let mut outstanding: FuturesUnordered<lapin::PublisherConfirm> = FuturesUnordered::new();
    for _ in 0..count {
        if outstanding.len() == 100 {
            outstanding.next().await.unwrap().unwrap();
        }
        let confirm = ch
            .basic_publish(
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions::default(),
                &body,
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap();
        outstanding.push(confirm);
    }
    while let Some(c) = outstanding.next().await {
        assert!(c.unwrap().is_ack());
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    ch.queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    let _ = conn.close(200, "done".into()).await;
    rate
}

/// A database of its own, migrated, dropped at the end of the phase.
struct Database {
    admin_url: String,
    name: String,
    url: String,
}

impl Database {
    /// Migrated by `bin`, whose schema it then has.
    async fn create(admin_url: &str, tag: &str, bin: &Path) -> Database {
        let name = format!(
            "rt_bench_{tag}_{}",
            uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
        );
        let mut admin = PgConnection::connect(admin_url)
            .await
            .expect("PostgreSQL at ADMIN_URL");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
        let status = Command::new(bin)
            .arg("migrate")
            .env("DATABASE_URL", &url)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "migrate");
        Database {
            admin_url: admin_url.into(),
            name,
            url,
        }
    }

    async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.unwrap()
    }

    async fn drop_it(self) {
        let mut admin = PgConnection::connect(&self.admin_url).await.unwrap();
        let _ = admin
            .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await;
    }
}

/// pgbench on the store's transition statement: `→ cooking` from `received` or `cooking`, so
/// every execution applies and writes what a real one writes (the order, its log row, its
/// outbox row).
async fn pgbench_transition(a: &Args) -> f64 {
    let db = Database::create(&a.admin_url, "pgbench", BIN.as_ref()).await;
    let mut conn = db.connect().await;
    conn.execute(
        "INSERT INTO orders (number, customer_name, type, total_amount, priority) \
         SELECT 'B' || g, 'Ann', 'takeout', 10, 1 FROM generate_series(1, 1000) g",
    )
    .await
    .unwrap();
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/postgres.rs"),
    )
    .unwrap();
    let start = source.find("const TRANSITION: &str = r#\"").unwrap();
    let body = &source[start..];
    let body = &body[body.find('\n').unwrap()..body.find("\"#;").unwrap()];
    let cook = "('bench_' || :client_id)";
    // No `:` right before a word: pgbench would read it as one of its variables.
    let update = r#"'{"order_number": "B", "new_status": "cooking", "changed_by": "bench", "timestamp": "2024-12-16T12.00.00Z", "estimated_completion": null}'"#;
    let values: HashMap<u32, String> = [
        (1, "('B' || :n)".to_string()),
        (2, "'cooking'".into()),
        (3, "now()".into()),
        (4, cook.into()),
        (5, "NULL::timestamptz".into()),
        (6, "'{received,cooking}'::text[]".into()),
        (7, "true".into()),
        (8, "now()".into()),
        (9, "NULL::text".into()),
        (10, cook.into()),
        (11, "NULL::text".into()),
        (12, "gen_random_uuid()::text".into()),
        (13, "'notifications_fanout'".into()),
        (14, update.into()),
        (15, "'bench'".into()),
        (16, "false".into()),
        (17, "'orders_topic'".into()),
    ]
    .into_iter()
    .collect();
    let script = format!(
        "\\set n random(1, 1000)\n{};\n",
        substitute(body, &values).replace('\n', " ")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("transition.sql");
    std::fs::write(&file, script).unwrap();
    let out = Command::new("pgbench")
        .args([
            "-n", "-M", "prepared", "-c", "8", "-j", "2", "-T", "10", "-f",
        ])
        .arg(&file)
        .arg(&db.url)
        .output()
        .expect("pgbench on PATH");
    let text = String::from_utf8_lossy(&out.stdout);
    let tps = text
        .lines()
        .find(|l| l.starts_with("tps"))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("pgbench: {text}{}", String::from_utf8_lossy(&out.stderr)));
    drop(conn);
    db.drop_it().await;
    tps
}

/// `$N` placeholders replaced by `values[N]`.
fn substitute(sql: &str, values: &HashMap<u32, String>) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            let mut n = String::new();
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                n.push(d);
                chars.next();
            }
            out.push_str(&values[&n.parse::<u32>().unwrap()]);
        } else {
            out.push(c);
        }
    }
    out
}

/// One process of the binary, its output in a file (or, for `notify`, its stdout piped).
struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    fn start(bin: &Path, args: &[&str], env: &[(&str, &str)], log: PathBuf, pipe: bool) -> Self {
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(bin);
        cmd.args(args).envs(env.iter().copied());
        if pipe {
            cmd.stdout(Stdio::piped()).stderr(file);
        } else {
            cmd.stdout(file.try_clone().unwrap()).stderr(file);
        }
        Process {
            child: cmd.spawn().unwrap(),
            log,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (10 s at most) for `needle` in the log and returns the line.
    async fn wait_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            if let Some(line) = text.lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "{needle} not in {}: {text}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `serve` on a free port; its address.
async fn serve(bin: &Path, env: &[(&str, &str)], dir: &Path, name: &str) -> (Process, String) {
    let p = Process::start(
        bin,
        &[
            "serve",
            "--port",
            "0",
            "--rate-limit",
            "0",
            "--max-concurrent",
            "256",
        ],
        env,
        dir.join(format!("{name}.log")),
        false,
    );
    let line = p.wait_log("\"port\":").await;
    let port = line
        .split("\"port\":")
        .nth(1)
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .to_string();
    (p, format!("http://127.0.0.1:{port}"))
}

/// Places `count` orders with `clients` at once (or at `per_second`), retrying a 503; returns
/// when each got its 201 and how long the whole took.
async fn place(
    base: &str,
    count: usize,
    clients: usize,
    per_second: Option<u32>,
) -> (HashMap<String, Instant>, Duration) {
    let client = reqwest::Client::new();
    let placed = Arc::new(Mutex::new(HashMap::with_capacity(count)));
    let result = placed.clone();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let url = format!("{base}/orders");
    let one = move |i: usize| {
        let (client, placed, url) = (client.clone(), placed.clone(), url.clone());
        async move {
            let body = order_body(i);
            loop {
                let answer = client.post(&url).json(&body).send().await.unwrap();
                if answer.status() == 201 {
                    let at = Instant::now();
                    let v: serde_json::Value = answer.json().await.unwrap();
                    let n = v["order_number"].as_str().unwrap().to_string();
                    placed.lock().unwrap().insert(n, at);
                    return;
                }
                assert_eq!(answer.status(), 503, "{}", answer.text().await.unwrap());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    match per_second {
        Some(rate) => {
            let mut tick = tokio::time::interval(Duration::from_secs(1) / rate);
            let mut all = Vec::new();
            for i in 0..count {
                tick.tick().await;
                all.push(tokio::spawn(one(i)));
            }
            for t in all {
                t.await.unwrap();
            }
        }
        None => {
            let tasks: Vec<_> = (0..clients)
                .map(|_| {
                    let (next, one) = (next.clone(), one.clone());
                    tokio::spawn(async move {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= count {
                                return;
                            }
                            one(i).await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        }
    }
    let took = started.elapsed();
    let placed = std::mem::take(&mut *result.lock().unwrap());
    assert_eq!(placed.len(), count);
    (placed, took)
}

fn order_body(i: usize) -> serde_json::Value {
    let item = serde_json::json!([{"name": "Margherita", "quantity": 2, "price": 12.5}]);
    match i % 3 {
        0 => {
            serde_json::json!({"customer_name": "Ann Lee", "order_type": "takeout", "items": item})
        }
        1 => {
            serde_json::json!({"customer_name": "Ann Lee", "order_type": "dine_in", "table_number": 7, "items": item})
        }
        _ => {
            serde_json::json!({"customer_name": "Ann Lee", "order_type": "delivery", "delivery_address": "12 Baker Street, London", "items": item})
        }
    }
}

fn prefix() -> String {
    format!(
        "rt_bench_{}_",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

async fn delete_topology(amqp_url: &str, prefix: &str) {
    let broker =
        restaurant_tui::broker::amqp::AmqpBroker::start(amqp_url.to_string(), prefix.to_string());
    if broker.wait_connected(Duration::from_secs(10)).await.is_ok() {
        let _ = broker.delete_topology().await;
    }
}

async fn unsent(conn: &mut PgConnection) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        .fetch_one(conn)
        .await
        .unwrap()
}

/// Orders taken while the broker is away, then one new `serve` drains the outbox: messages
/// confirmed per second from its first marked batch to the last.
async fn relay_alone(a: &Args) -> f64 {
    let db = Database::create(&a.admin_url, "relay", BIN.as_ref()).await;
    let dir = tempfile::tempdir().unwrap();
    let prefix = prefix();
    let away = [
        ("DATABASE_URL", db.url.as_str()),
        ("AMQP_URL", "amqp://guest:guest@127.0.0.1:1/%2f"),
        ("RESTAURANT_RABBITMQ__PREFIX", prefix.as_str()),
    ];
    let (server, base) = serve(BIN.as_ref(), &away, dir.path(), "serve-away").await;
    place(&base, a.orders, a.clients, None).await;
    server.stop();
    let mut conn = db.connect().await;
    let backlog = unsent(&mut conn).await;
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("AMQP_URL", a.amqp_url.as_str()),
        ("RESTAURANT_RABBITMQ__PREFIX", prefix.as_str()),
    ];
    let (server, _) = serve(BIN.as_ref(), &env, dir.path(), "serve-drain").await;
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut first: Option<(Instant, i64)> = None;
    let rate = loop {
        let left = unsent(&mut conn).await;
        let now = Instant::now();
        if first.is_none() && left < backlog {
            first = Some((now, left));
        }
        if left == 0 {
            let (t, u) = first.unwrap();
            break u as f64 / now.duration_since(t).as_secs_f64();
        }
        assert!(now < deadline, "the relay did not drain");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    server.stop();
    drop(conn);
    db.drop_it().await;
    delete_topology(&a.amqp_url, &prefix).await;
    rate
}

/// `serve` with its relay publishing and nobody cooking: orders per second taken.
async fn api_alone(a: &Args) -> (f64, Cpu) {
    let db = Database::create(&a.admin_url, "api", BIN.as_ref()).await;
    let dir = tempfile::tempdir().unwrap();
    let prefix = prefix();
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("AMQP_URL", a.amqp_url.as_str()),
        ("RESTAURANT_RABBITMQ__PREFIX", prefix.as_str()),
    ];
    let (server, base) = serve(BIN.as_ref(), &env, dir.path(), "serve").await;
    let before = Cpu::read(&[server.pid()]);
    let (_, took) = place(&base, a.orders, a.clients, None).await;
    let mut conn = db.connect().await;
    let deadline = Instant::now() + Duration::from_secs(300);
    while unsent(&mut conn).await > 0 {
        assert!(Instant::now() < deadline, "the relay did not drain");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu = Cpu::read(&[server.pid()]).minus(&before);
    server.stop();
    drop(conn);
    db.drop_it().await;
    delete_topology(&a.amqp_url, &prefix).await;
    (a.orders as f64 / took.as_secs_f64(), cpu)
}

struct EndToEnd {
    rate: f64,
    p50: f64,
    p99: f64,
    /// 201 → ready of each order, in ms.
    latencies: Vec<f64>,
    cpu: Cpu,
    outbox_rows: i64,
    outbox_bytes: i64,
    /// Committed in the phase's database while it ran.
    transactions: i64,
    checks: String,
}

/// `serve`, the workers and `notify` as processes; `count` orders as fast as taken, or at
/// `per_second`.
async fn end_to_end(a: &Args, bin: &Path, count: usize, per_second: Option<u32>) -> EndToEnd {
    let db = Database::create(&a.admin_url, "e2e", bin).await;
    let dir = tempfile::tempdir().unwrap();
    let prefix = prefix();
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("AMQP_URL", a.amqp_url.as_str()),
        ("RESTAURANT_RABBITMQ__PREFIX", prefix.as_str()),
    ];
    let mut notify = Process::start(bin, &["notify"], &env, dir.path().join("notify.log"), true);
    let lines = read_notifications(notify.child.stdout.take().unwrap());
    notify.wait_log("service_started").await;
    let (server, base) = serve(bin, &env, dir.path(), "serve").await;
    let prefetch = a.prefetch.to_string();
    let workers: Vec<Process> = (0..a.workers)
        .map(|i| {
            let name = format!("cook_{i}");
            Process::start(
                bin,
                &[
                    "worker",
                    "--worker-name",
                    &name,
                    "--prefetch",
                    &prefetch,
                    "--cook-time",
                    "dine_in=0s,takeout=0s,delivery=0s",
                ],
                &env,
                dir.path().join(format!("{name}.log")),
                false,
            )
        })
        .collect();
    for w in &workers {
        w.wait_log("taking orders").await;
    }
    let ours: Vec<u32> = [server.pid(), notify.pid()]
        .into_iter()
        .chain(workers.iter().map(Process::pid))
        .collect();
    let mut conn = db.connect().await;
    let commits_before = commits(&mut conn).await;
    let before = Cpu::read(&ours);
    let started = Instant::now();
    let (placed, _) = place(&base, count, a.clients, per_second).await;
    let deadline = Instant::now() + Duration::from_secs(900);
    let ready = loop {
        let ready: Vec<(String, Instant)> = lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.to == "ready")
            .map(|l| (l.number.clone(), l.at))
            .collect();
        if ready.len() >= count {
            break ready;
        }
        assert!(Instant::now() < deadline, "not every order became ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let last = ready.iter().map(|(_, at)| *at).max().unwrap();
    // Let the last updates and acks settle before reading the CPU.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu = Cpu::read(&ours).minus(&before);
    // PostgreSQL publishes a backend's counts within a second of its last transaction.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let transactions = commits(&mut conn).await - commits_before;
    let mut latencies: Vec<f64> = ready
        .iter()
        .map(|(n, at)| at.duration_since(placed[n]).as_secs_f64() * 1000.0)
        .collect();
    let (p50, p99) = (
        percentile(&mut latencies, 0.50),
        percentile(&mut latencies, 0.99),
    );

    let (outbox_rows, outbox_bytes): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM outbox), pg_total_relation_size('outbox')")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let printed = std::mem::take(&mut *lines.lock().unwrap());
    let checks = checks(&mut conn, &printed, count).await;
    server.stop();
    for w in workers {
        w.stop();
    }
    notify.stop();
    drop(conn);
    db.drop_it().await;
    delete_topology(&a.amqp_url, &prefix).await;
    EndToEnd {
        rate: count as f64 / last.duration_since(started).as_secs_f64(),
        p50,
        p99,
        latencies,
        cpu,
        outbox_rows,
        transactions,
        outbox_bytes,
        checks,
    }
}

/// Exactly one `ready` row per order, and every update printed exactly once.
async fn checks(conn: &mut PgConnection, lines: &[Line], count: usize) -> String {
    let (orders, ready_once, ready_rows): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM orders), \
                (SELECT count(*) FROM (SELECT order_id FROM order_status_log WHERE status = 'ready' \
                                       GROUP BY order_id HAVING count(*) = 1) r), \
                (SELECT count(*) FROM order_status_log WHERE status = 'ready')",
    )
    .fetch_one(conn)
    .await
    .unwrap();
    let mut printed: HashMap<(&str, &str), usize> = HashMap::new();
    for l in lines {
        *printed.entry((&l.number, &l.to)).or_default() += 1;
    }
    let once = printed.values().all(|n| *n == 1);
    let all = printed.len() == count * 3;
    let ok = orders as usize == count
        && ready_once as usize == count
        && ready_rows as usize == count
        && once
        && all;
    format!(
        "{} — {orders} orders, {ready_once} with exactly one ready row ({ready_rows} ready rows), \
         {} updates printed, {} distinct",
        if ok { "PASS" } else { "FAIL" },
        lines.len(),
        printed.len()
    )
}

/// One line `notify` printed, when it was read.
struct Line {
    number: String,
    to: String,
    at: Instant,
}

/// Reads `notify`'s stdout on a thread of its own, stamping each line as it arrives.
fn read_notifications(out: std::process::ChildStdout) -> Arc<Mutex<Vec<Line>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { return };
            let at = Instant::now();
            // Notification for order ORD_…: Status changed from 'a' to 'b' by cook.
            let Some(rest) = line.strip_prefix("Notification for order ") else {
                continue;
            };
            let Some((number, rest)) = rest.split_once(':') else {
                continue;
            };
            let to = rest.split('\'').nth(3).unwrap_or_default().to_string();
            sink.lock().unwrap().push(Line {
                number: number.to_string(),
                to,
                at,
            });
        }
    });
    lines
}

/// CPU time in clock ticks: our processes, every PostgreSQL process (with the children the
/// postmaster reaped) and RabbitMQ's VM.
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    /// This benchmark's own process: the load it makes (not counted in the total).
    load: u64,
    ours: u64,
    postgres: u64,
    rabbitmq: u64,
}

impl Cpu {
    fn read(ours: &[u32]) -> Cpu {
        let mut cpu = Cpu {
            load: stat(std::process::id()).0,
            ours: ours.iter().map(|p| stat(*p).0).sum(),
            ..Cpu::default()
        };
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let (own, children) = stat(pid);
            match comm.trim() {
                "postgres" => cpu.postgres += own + children,
                "beam.smp" => cpu.rabbitmq += own,
                _ => {}
            }
        }
        cpu
    }

    fn minus(self, before: &Cpu) -> Cpu {
        Cpu {
            load: self.load.saturating_sub(before.load),
            ours: self.ours.saturating_sub(before.ours),
            postgres: self.postgres.saturating_sub(before.postgres),
            rabbitmq: self.rabbitmq.saturating_sub(before.rabbitmq),
        }
    }

    /// Milliseconds per order, by part (ticks are 10 ms: `getconf CLK_TCK` is 100 on Linux).
    fn describe(&self, orders: usize) -> String {
        let ms = |ticks: u64| ticks as f64 * 10.0 / orders as f64;
        format!(
            "{:.2} ms in all = ours {:.2} + PostgreSQL {:.2} + RabbitMQ {:.2} \
             (the load generator: {:.2} more)",
            ms(self.ours + self.postgres + self.rabbitmq),
            ms(self.ours),
            ms(self.postgres),
            ms(self.rabbitmq),
            ms(self.load)
        )
    }
}

/// (utime + stime, cutime + cstime) of a process, 0 when it is gone.
fn stat(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some((_, after)) = text.rsplit_once(')') else {
        return (0, 0);
    };
    // Fields after the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    if f.len() < 15 {
        return (0, 0);
    }
    (f[11] + f[12], f[13] + f[14])
}
