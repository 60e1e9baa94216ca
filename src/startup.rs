//! From a parsed command line to a running kitchen: configuration, telemetry, then the one
//! [`Assembly`] for the mode, stopped gracefully by SIGINT, SIGTERM or SIGHUP.

use std::time::Duration;

use crate::signals::stop_on_signals;

use crate::assembly::{Assembly, AssemblyError, BrokerChoice, Plan};
use crate::cli::{Cli, Command, Mode};
use crate::config::{Config, ConfigError};
use crate::kitchen::WorkerSpec;
use crate::supervisor::OnExit;
use crate::telemetry;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Assembly(#[from] AssemblyError),
    /// The command line asks for something that cannot be (a flag in the wrong place, a bad
    /// value).
    #[error("{0}")]
    Usage(String),
    /// Something the run needed failed (a folder that cannot be made, a broker that refused).
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Console(#[from] crate::tui::run::ConsoleError),
}

impl StartupError {
    /// The process's exit status for this error: 2 for a console without a terminal (a usage
    /// error, as the shell knows it), 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            StartupError::Console(crate::tui::run::ConsoleError::NoTerminal) => 2,
            _ => 1,
        }
    }
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
    DeadLetters,
}

fn plan(cli: &Cli) -> Run {
    match (cli.mode, &cli.command) {
        (_, Some(Command::Migrate)) => Run::Migrate,
        (_, Some(Command::DeadLetters(_))) => Run::DeadLetters,
        (_, Some(Command::Serve(_))) | (Some(Mode::OrderService), None) => Run::Serve {
            service: "order-service",
            read_only: false,
            default_port: 3000,
        },
        (Some(Mode::TrackingService), None) => Run::Serve {
            service: "tracking-service",
            read_only: true,
            default_port: 3002,
        },
        (_, Some(Command::Worker(_))) | (Some(Mode::KitchenWorker), None) => Run::Worker,
        (_, Some(Command::Notify(_))) | (Some(Mode::NotificationSubscriber), None) => Run::Notify,
        (None, None) => Run::Console,
    }
}

/// The service name log lines carry for this run.
pub fn service_name(cli: &Cli) -> &'static str {
    match plan(cli) {
        Run::Serve { service, .. } => service,
        Run::Migrate | Run::DeadLetters => "order-service",
        Run::Worker => "kitchen-worker",
        Run::Notify => "notification-subscriber",
        Run::Console => "console",
    }
}

pub async fn run(cli: Cli) -> Result<(), StartupError> {
    cli.check().map_err(StartupError::Usage)?;
    let run = plan(&cli);
    match run {
        Run::Console => run_console(&cli).await,
        Run::Worker => {
            telemetry::init_stdout("kitchen-worker");
            let config = load_config(&cli, 3000)?;
            run_worker(&config, cli.worker()).await
        }
        Run::Notify => {
            // stdout carries the notification lines; the JSON log lines go to stderr.
            telemetry::init_stderr("notification-subscriber");
            let config = load_config(&cli, 3000)?;
            let metrics_port = match &cli.command {
                Some(Command::Notify(args)) => args.metrics_port,
                _ => None,
            };
            run_notify(&config, metrics_port).await
        }
        Run::DeadLetters => {
            // stdout carries the answer; the JSON log lines go to stderr.
            telemetry::init_stderr(service_name(&cli));
            let config = load_config(&cli, 3000)?;
            match &cli.command {
                Some(Command::DeadLetters(action)) => {
                    crate::dead_letters::run(&config, action).await
                }
                _ => Ok(()),
            }
        }
        Run::Migrate => {
            telemetry::init_stdout(service_name(&cli));
            run_migrate(&load_config(&cli, 3000)?).await
        }
        Run::Serve {
            service,
            read_only,
            default_port,
        } => {
            telemetry::init_stdout(service);
            let config = load_config(&cli, default_port)?;
            serve(&config, read_only, cli.server().workers.unwrap_or(0)).await
        }
    }
}

/// The console: a terminal first (without one there is nothing to draw on), then the
/// configuration, then the private log file, then the kitchen.
async fn run_console(cli: &Cli) -> Result<(), StartupError> {
    crate::tui::run::require_terminal()?;
    let config = load_config(cli, 3000)?;
    let data = crate::config::data_dir().unwrap_or_else(|| std::path::PathBuf::from("."));
    crate::files::private_dir(&data)
        .map_err(|e| StartupError::Failed(format!("cannot prepare {}: {e}", data.display())))?;
    let dir = data.join("logs");
    let (_guard, path) = telemetry::init_file("console", &dir).map_err(|e| {
        StartupError::Failed(format!(
            "cannot write the log file in {}: {e}",
            dir.display()
        ))
    })?;
    crate::tui::run::run(&config, path.display().to_string(), cli.server().workers)
        .await
        .map_err(StartupError::from)
}

/// Opening the store applies the migrations; then it stops.
async fn run_migrate(config: &Config) -> Result<(), StartupError> {
    let plan = Plan {
        store: true,
        broker: BrokerChoice::None,
    };
    Assembly::build(config, plan)
        .await?
        .shutdown()
        .run()
        .await?;
    tracing::info!(action = "migrations_applied", "database is up to date");
    Ok(())
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
    let s = cli.server();
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
    if let Some(times) = &cli.worker().cook_time {
        config
            .kitchen
            .cook_time
            .set_from(times)
            .map_err(|why| StartupError::Usage(format!("--cook-time: {why}")))?;
    }
    config.check("command line")?;
    Ok(config)
}

/// Runs the API (and, with a kitchen, the relay and `workers` in-process workers) until a
/// stop signal. The store is opened first so that a dead database stops the start with one
/// clear message instead of a server answering 503 forever.
pub async fn serve(config: &Config, read_only: bool, workers: u16) -> Result<(), StartupError> {
    let cooks = workers > 0 || !config.workers.is_empty();
    let broker = match (read_only, cooks) {
        (true, _) => BrokerChoice::None,
        (false, false) => BrokerChoice::RabbitIfConfigured,
        (false, true) => BrokerChoice::RabbitOrInProcess,
    };
    let mut kitchen = Assembly::build(
        config,
        Plan {
            store: true,
            broker,
        },
    )
    .await?;
    if !read_only && kitchen.broker().is_none() {
        kitchen.warn(
            "kitchen_missing",
            "no worker runs in this process and no RabbitMQ is configured: orders are accepted \
             and wait until a kitchen starts on this database (serve --workers N, or the console)"
                .into(),
        );
    }
    kitchen.stop_if_broker_refuses();
    // Bound before any worker registers, so a taken port leaves no worker row behind.
    let local = kitchen.listen(read_only).await?;
    for i in 1..=workers {
        let mut spec = WorkerSpec::new(format!("kitchen-{i}"));
        spec.cook_times = config.kitchen.cook_time;
        kitchen.start_worker(spec, OnExit::Restart)?;
    }
    if !read_only {
        for (name, started) in kitchen.start_configured_workers() {
            started.map_err(|e| StartupError::Failed(format!("worker {name} (workers:): {e}")))?;
        }
    }
    let backend = kitchen.store().map(|s| s.backend()).unwrap_or_default();
    tracing::info!(action = "service_started", address = %local, port = local.port(), backend, "listening on http://{local}");
    stop_on_signals(kitchen.shutdown().token());
    kitchen.run_until_stopped().await?;
    tracing::info!(action = "graceful_shutdown", "stopped");
    Ok(())
}

/// A standalone kitchen worker with its own relay (its status updates go out through it).
/// It ends with the process: a stop signal, or the worker failing (a name in use exits 1).
async fn run_worker(config: &Config, args: &crate::cli::WorkerArgs) -> Result<(), StartupError> {
    let name = args
        .worker_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| StartupError::Usage("worker needs --name NAME (or --worker-name)".into()))?;
    crate::domain::check_worker_name(&name)
        .map_err(|why| StartupError::Usage(format!("--name: {why}")))?;
    let mut spec = WorkerSpec::new(name.clone());
    if let Some(types) = &args.order_types {
        spec.specialty = types.parse().map_err(|e| {
            StartupError::Usage(format!(
                "--order-types: {e}; use dine_in, takeout, delivery"
            ))
        })?;
    }
    if let Some(secs) = args.heartbeat_interval {
        if !(1..=86_400).contains(&secs) {
            return Err(StartupError::Usage(format!(
                "--heartbeat-interval: must be between 1 and 86400 seconds (got {secs})"
            )));
        }
        spec.heartbeat_interval = Duration::from_secs(secs);
    }
    if let Some(p) = args.prefetch {
        spec.prefetch = p.max(1);
    }
    spec.cook_times = config.kitchen.cook_time;
    spec.replace = args.replace;
    let plan = Plan {
        store: true,
        broker: BrokerChoice::Rabbit {
            needed_by: "worker",
        },
    };
    let mut kitchen = Assembly::build(config, plan).await?;
    kitchen.stop_if_broker_refuses();
    if let Some(port) = args.metrics_port {
        let at = kitchen.listen_metrics(port).await?;
        tracing::info!(action = "metrics_listening", address = %at, port = at.port(), "metrics at http://{at}/metrics");
    }
    kitchen.start_worker(spec, OnExit::StopProcess)?;
    stop_on_signals(kitchen.shutdown().token());
    let result = kitchen.run_until_stopped().await;
    if let Err(e) = &result {
        tracing::error!(action = "worker_failed", worker_name = %name, error = e as &dyn std::error::Error, error_type = "KitchenError", "worker cannot run");
    }
    Ok(result?)
}

/// Prints one line per status update until stopped.
async fn run_notify(config: &Config, metrics_port: Option<u16>) -> Result<(), StartupError> {
    let plan = Plan {
        store: false,
        broker: BrokerChoice::Rabbit {
            needed_by: "notify",
        },
    };
    let kitchen = Assembly::build(config, plan).await?;
    kitchen.stop_if_broker_refuses();
    if let Some(port) = metrics_port {
        let at = kitchen.listen_metrics(port).await?;
        tracing::info!(action = "metrics_listening", address = %at, port = at.port(), "metrics at http://{at}/metrics");
    }
    let broker = kitchen.broker().cloned().ok_or(AssemblyError::NoKitchen)?;
    kitchen.spawn("notify", OnExit::StopProcess, move |stop| {
        crate::notifications::print_updates(broker.clone(), stop)
    });
    stop_on_signals(kitchen.shutdown().token());
    kitchen.run_until_stopped().await?;
    tracing::info!(action = "graceful_shutdown", "stopped");
    Ok(())
}
