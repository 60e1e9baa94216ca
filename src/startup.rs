//! From a parsed command line to running services: configuration, telemetry, the store, the
//! listener, and a graceful stop on SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::api::{self, ApiOptions};
use crate::broker::Broker;
use crate::broker::amqp::AmqpBroker;
use crate::broker::memory::MemoryBus;
use crate::cli::{Cli, Command, Mode};
use crate::config::{BrokerTarget, Config, ConfigError};
use crate::domain::{Clock, SystemClock};
use crate::kitchen::{Worker, WorkerSpec};
use crate::relay::Relay;
use crate::service::Orders;
use crate::store::{self, DatabaseTarget, StoreError};
use crate::telemetry;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the {target}: {source}")]
    Database {
        target: String,
        #[source]
        source: StoreError,
    },
    #[error("cannot listen on {addr}: {source} (choose another port with --port or server.port)")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Kitchen(#[from] crate::kitchen::KitchenError),
}

/// What the command line asks for, once the old and new forms are reconciled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Serve {
        service: &'static str,
        read_only: bool,
        default_port: u16,
    },
    Migrate,
    Console,
    Worker,
    Notify,
}

fn plan(cli: &Cli) -> Run {
    match (cli.mode, &cli.command) {
        (_, Some(Command::Migrate)) => Run::Migrate,
        (_, Some(Command::Serve)) | (Some(Mode::OrderService), None) => Run::Serve {
            service: "order-service",
            read_only: false,
            default_port: 3000,
        },
        (Some(Mode::TrackingService), None) => Run::Serve {
            service: "tracking-service",
            read_only: true,
            default_port: 3002,
        },
        (_, Some(Command::Worker)) | (Some(Mode::KitchenWorker), None) => Run::Worker,
        (_, Some(Command::Notify)) | (Some(Mode::NotificationSubscriber), None) => Run::Notify,
        (None, None) => Run::Console,
    }
}

/// The service name log lines carry for this run.
pub fn service_name(cli: &Cli) -> &'static str {
    match plan(cli) {
        Run::Serve { service, .. } => service,
        Run::Migrate => "order-service",
        Run::Worker => "kitchen-worker",
        Run::Notify => "notification-subscriber",
        Run::Console => "console",
    }
}

pub async fn run(cli: Cli) -> Result<(), StartupError> {
    let run = plan(&cli);
    match run {
        Run::Console => {
            let config = load_config(&cli, 3000)?;
            let dir = crate::config::data_dir()
                .unwrap_or_else(|| std::path::PathBuf::from("."))
                .join("logs");
            let (_guard, path) = telemetry::init_file("console", &dir).map_err(|e| {
                StartupError::Usage(format!(
                    "cannot write the log file in {}: {e}",
                    dir.display()
                ))
            })?;
            crate::tui::run::run(
                &config,
                path.display().to_string(),
                cli.server.workers.unwrap_or(1),
            )
            .await
            .map_err(|e| StartupError::Usage(e.to_string()))
        }
        Run::Worker => {
            telemetry::init_stdout("kitchen-worker");
            let config = load_config(&cli, 3000)?;
            run_worker(&config, &cli.worker, shutdown_signal()).await
        }
        Run::Notify => {
            // stdout carries the notification lines; the JSON log lines go to stderr.
            telemetry::init_stderr("notification-subscriber");
            let config = load_config(&cli, 3000)?;
            run_notify(&config, shutdown_signal()).await
        }
        Run::Migrate => {
            telemetry::init_stdout(service_name(&cli));
            let config = load_config(&cli, 3000)?;
            let target = config.database_target("configuration")?;
            open_store(&target).await?;
            tracing::info!(action = "migrations_applied", "database is up to date");
            Ok(())
        }
        Run::Serve {
            service,
            read_only,
            default_port,
        } => {
            telemetry::init_stdout(service);
            let config = load_config(&cli, default_port)?;
            serve(
                &config,
                read_only,
                cli.server.workers.unwrap_or(0),
                shutdown_signal(),
            )
            .await
        }
    }
}

/// Reads the configuration and lays the command line's flags over it.
fn load_config(cli: &Cli, default_port: u16) -> Result<Config, StartupError> {
    let loaded = Config::load(cli.config.as_deref()).inspect_err(|e| {
        tracing::error!(
            action = "config_invalid",
            error = e as &dyn std::error::Error,
            error_type = "ConfigError",
            "configuration error"
        );
    })?;
    let mut config = loaded.config;
    let s = &cli.server;
    if default_port != 3000 && config.server.port == 3000 {
        config.server.port = default_port;
    }
    if let Some(h) = &s.host {
        config.server.host = h.clone();
    }
    if let Some(p) = s.port {
        config.server.port = p;
    }
    if let Some(n) = s.max_concurrent {
        config.server.max_concurrent = n;
    }
    if let Some(r) = s.rate_limit {
        config.server.rate_limit_per_second = r;
    }
    if let Some(times) = &cli.worker.cook_time {
        apply_cook_times(&mut config.kitchen.cook_time, times)?;
    }
    config.check("command line")?;
    Ok(config)
}

async fn open_store(target: &DatabaseTarget) -> Result<Arc<dyn store::Store>, StartupError> {
    match store::open(target).await {
        Ok(s) => {
            tracing::info!(action = "db_connected", backend = s.backend(), target = %target.describe(), "database connected and migrated");
            Ok(s)
        }
        Err(source) => {
            tracing::error!(action = "db_connection_failed", error = &source as &dyn std::error::Error, error_type = "StoreError", target = %target.describe(), "cannot open the database");
            Err(StartupError::Database {
                target: target.describe(),
                source,
            })
        }
    }
}

/// Runs the API until `shutdown` resolves. The store is opened first so that a dead database
/// stops the start with one clear message instead of a server answering 503 forever.
pub async fn serve(
    config: &Config,
    read_only: bool,
    workers: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    let target = config.database_target("configuration")?;
    let store = open_store(&target).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let wake = Arc::new(Notify::new());
    let orders = Orders::new(store.clone(), clock.clone(), config.kitchen.cook_time)
        .with_outbox_wake(wake.clone());
    let (stop_tx, stop) = watch::channel(false);
    // With RabbitMQ the relay publishes there; without it, in-process workers cook from the
    // in-process bus. With neither, orders wait durably in the outbox instead of in memory.
    let mut kitchen = Vec::new();
    let mut broker: Option<Arc<dyn Broker>> = None;
    let rabbit = config.broker_target("configuration")?;
    if (workers > 0 || rabbit.is_some()) && !read_only {
        let bus: Arc<dyn Broker> = match &rabbit {
            Some(t) => start_rabbitmq(t),
            None => Arc::new(MemoryBus::new()),
        };
        kitchen.push(tokio::spawn(
            Relay::new(store.clone(), bus.clone(), clock.clone(), wake.clone()).run(stop.clone()),
        ));
        for i in 1..=workers {
            let mut spec = WorkerSpec::new(format!("kitchen-{i}"));
            spec.cook_times = config.kitchen.cook_time;
            let worker = Worker::new(
                spec,
                store.clone(),
                bus.clone(),
                clock.clone(),
                wake.clone(),
            );
            let name = worker.name().to_string();
            let stop = stop.clone();
            kitchen.push(tokio::spawn(async move {
                if let Err(e) = worker.run(stop.clone()).await {
                    tracing::error!(action = "worker_failed", worker_name = %name, error = &e as &dyn std::error::Error, error_type = "KitchenError", "worker stopped");
                }
            }));
        }
        broker = Some(bus);
    }
    let router = api::router_with_broker(
        orders,
        broker,
        &ApiOptions::from_server(&config.server, read_only),
    );
    let addr = format!("{}:{}", config.server.host, config.server.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| StartupError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let local: SocketAddr = listener.local_addr().map_err(StartupError::Serve)?;
    tracing::info!(action = "service_started", address = %local, port = local.port(), backend = target.describe(), "listening on http://{local}");
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let mut server_stop = stop.clone();
    let served = api::serve(listener, router, async move {
        let _ = server_stop.wait_for(|s| *s).await;
    })
    .await
    .map_err(StartupError::Serve);
    // Workers finish the order in hand (or hand it back) before the process exits.
    for task in kitchen {
        let _ = task.await;
    }
    served?;
    tracing::info!(action = "graceful_shutdown", "stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!(
        action = "graceful_shutdown",
        "signal received; finishing requests in flight"
    );
}

fn start_rabbitmq(target: &BrokerTarget) -> Arc<dyn Broker> {
    tracing::info!(action = "rabbitmq_connecting", target = %target.display, prefix = %target.prefix, "connecting to RabbitMQ");
    Arc::new(AmqpBroker::start(target.uri.clone(), target.prefix.clone()))
}

fn needs_rabbitmq(config: &Config, what: &str) -> Result<BrokerTarget, StartupError> {
    config.broker_target("configuration")?.ok_or_else(|| {
        StartupError::Usage(format!(
            "{what} needs RabbitMQ (the in-process bus lives inside one process): set AMQP_URL or \
             the rabbitmq: block of the configuration"
        ))
    })
}

/// `dine_in=8s,takeout=250ms` over the configured times.
fn apply_cook_times(times: &mut crate::config::CookTimes, text: &str) -> Result<(), StartupError> {
    for part in text.split(',').filter(|p| !p.trim().is_empty()) {
        let (kind, value) = part.split_once('=').ok_or_else(|| {
            StartupError::Usage(format!("--cook-time: {part:?} is not TYPE=DURATION"))
        })?;
        let d = humantime::parse_duration(value.trim())
            .map_err(|e| StartupError::Usage(format!("--cook-time: {value:?}: {e}")))?;
        match kind.trim().parse::<crate::domain::OrderType>() {
            Ok(crate::domain::OrderType::DineIn) => times.dine_in = d,
            Ok(crate::domain::OrderType::Takeout) => times.takeout = d,
            Ok(crate::domain::OrderType::Delivery) => times.delivery = d,
            Err(_) => {
                return Err(StartupError::Usage(format!(
                    "--cook-time: unknown order type {kind:?}"
                )));
            }
        }
    }
    Ok(())
}

/// A standalone kitchen worker with its own relay (its status updates go out through it).
async fn run_worker(
    config: &Config,
    args: &crate::cli::WorkerArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    let name = args
        .worker_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| StartupError::Usage("worker needs --name NAME (or --worker-name)".into()))?;
    let mut spec = WorkerSpec::new(name.clone());
    if let Some(types) = &args.order_types {
        spec.specialty = types.parse().map_err(|e| {
            StartupError::Usage(format!(
                "--order-types: {e}; use dine_in, takeout, delivery"
            ))
        })?;
    }
    if let Some(secs) = args.heartbeat_interval {
        spec.heartbeat_interval = Duration::from_secs(secs.max(1));
    }
    if let Some(p) = args.prefetch {
        spec.prefetch = p.max(1);
    }
    spec.cook_times = config.kitchen.cook_time;
    let target = needs_rabbitmq(config, "worker")?;
    let store = open_store(&config.database_target("configuration")?).await?;
    let broker = start_rabbitmq(&target);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let wake = Arc::new(Notify::new());
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let relay = tokio::spawn(
        Relay::new(store.clone(), broker.clone(), clock.clone(), wake.clone()).run(stop.clone()),
    );
    let worker = Worker::new(spec, store, broker, clock, wake);
    let result = worker.run(stop).await;
    if let Err(e) = &result {
        tracing::error!(action = "worker_failed", worker_name = %name, error = e as &dyn std::error::Error, error_type = "KitchenError", "worker cannot run");
    }
    relay.abort();
    Ok(result?)
}

/// Prints one line per status update until stopped.
async fn run_notify(
    config: &Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    use std::io::Write;
    let target = needs_rabbitmq(config, "notify")?;
    let broker = start_rabbitmq(&target);
    let mut updates = broker
        .subscribe_updates("notify")
        .await
        .map_err(|e| StartupError::Usage(e.to_string()))?;
    tracing::info!(action = "service_started", "listening for status updates");
    let mut dedupe = crate::notifications::Dedupe::new(10_000);
    tokio::pin!(shutdown);
    loop {
        let delivery = tokio::select! {
            () = &mut shutdown => break,
            d = updates.next() => match d { Some(d) => d, None => break },
        };
        match serde_json::from_slice::<crate::domain::StatusUpdate>(&delivery.body) {
            Ok(update) => {
                if dedupe.first_time(delivery.message_id.as_deref(), &update) {
                    tracing::info!(action = "notification_received", order_number = %update.order_number, "status update");
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{}", crate::notifications::line(&update));
                    let _ = out.flush();
                }
                let _ = delivery.ack().await;
            }
            Err(e) => {
                let _ = delivery
                    .dead_letter(&format!("unparseable status update: {e}"))
                    .await;
            }
        }
    }
    tracing::info!(action = "graceful_shutdown", "stopped");
    Ok(())
}
