//! From a parsed command line to running services: configuration, telemetry, the store, the
//! listener, and a graceful stop on SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::{Notify, watch};

use crate::api::{self, ApiOptions};
use crate::broker::Broker;
use crate::broker::memory::MemoryBus;
use crate::cli::{Cli, Command, Mode};
use crate::config::{Config, ConfigError};
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
    #[error("{0} is not available in this build yet")]
    NotAvailable(&'static str),
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
    Unavailable(&'static str),
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
        (Some(Mode::KitchenWorker), None) => Run::Unavailable("--mode=kitchen-worker"),
        (Some(Mode::NotificationSubscriber), None) => {
            Run::Unavailable("--mode=notification-subscriber")
        }
        (None, None) => Run::Console,
    }
}

/// The service name log lines carry for this run.
pub fn service_name(cli: &Cli) -> &'static str {
    match plan(cli) {
        Run::Serve { service, .. } => service,
        Run::Migrate | Run::Unavailable(_) => "order-service",
        Run::Console => "console",
    }
}

pub async fn run(cli: Cli) -> Result<(), StartupError> {
    let run = plan(&cli);
    match run {
        Run::Console => {
            use clap::CommandFactory;
            // The console arrives with its own issue; until then, say what there is.
            let _ = Cli::command().print_help();
            Ok(())
        }
        Run::Unavailable(what) => Err(StartupError::NotAvailable(what)),
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
    // In-process workers cook from the in-process bus; the relay feeds it. Without workers (and
    // until RabbitMQ is configured) orders wait durably in the outbox instead of in memory.
    let mut kitchen = Vec::new();
    let mut broker: Option<Arc<dyn Broker>> = None;
    if workers > 0 && !read_only {
        let bus: Arc<dyn Broker> = Arc::new(MemoryBus::new());
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
