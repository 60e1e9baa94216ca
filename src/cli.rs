//! The command line (CONTRACT §8): subcommands, plus the old `--mode=` form with its flags.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "restaurant-tui",
    version,
    about = "A restaurant kitchen's order system: console, HTTP API and kitchen workers."
)]
pub struct Cli {
    /// YAML configuration (default: config.yaml in the user's config directory, if present).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// The old wheres-my-pizza form: run one service.
    #[arg(long, value_enum, value_name = "MODE")]
    pub mode: Option<Mode>,

    #[command(flatten)]
    pub server: ServerArgs,

    #[command(flatten)]
    pub worker: WorkerArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    OrderService,
    KitchenWorker,
    TrackingService,
    NotificationSubscriber,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Headless: the HTTP API (and, with the kitchen, the outbox relay); JSON logs on stdout.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// A standalone kitchen worker (needs RabbitMQ): --name NAME [--order-types dine_in,takeout]
    /// [--heartbeat-interval 30] [--prefetch 1] [--cook-time dine_in=8s,takeout=10s,delivery=12s].
    Worker,
    /// Print each status update as a line (needs RabbitMQ); logs go to stderr.
    Notify,
}

/// Where and how the API listens; each overrides the configuration.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServerArgs {
    /// Address to bind (default 127.0.0.1; beyond loopback needs server.token).
    #[arg(long, global = true)]
    pub host: Option<String>,
    /// Port to bind (default 3000; 3002 for --mode=tracking-service; 0 picks a free one).
    #[arg(long, global = true)]
    pub port: Option<u16>,
    /// Order creations in flight at once before answering 503 (default 50).
    #[arg(long, global = true)]
    pub max_concurrent: Option<usize>,
    /// Requests per second per client (default 100; 0 turns the limit off).
    #[arg(long, global = true)]
    pub rate_limit: Option<u32>,
    /// Kitchen workers to run inside this process (serve).
    #[arg(long, global = true, value_name = "N")]
    pub workers: Option<u16>,
}

/// A kitchen worker's flags (`worker`, `--mode=kitchen-worker`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WorkerArgs {
    /// The worker's unique name.
    #[arg(
        long = "worker-name",
        visible_alias = "name",
        global = true,
        value_name = "NAME"
    )]
    pub worker_name: Option<String>,
    /// Order types it cooks, comma-separated (default: all).
    #[arg(long, global = true, value_name = "TYPES")]
    pub order_types: Option<String>,
    /// Seconds between heartbeats (default 30); silent for twice this, it shows offline.
    #[arg(long, global = true, value_name = "SECONDS")]
    pub heartbeat_interval: Option<u64>,
    /// Orders cooked at once — the worker's burners; it never holds more (default 1).
    #[arg(long, global = true)]
    pub prefetch: Option<u16>,
    /// Cooking times, e.g. dine_in=8s,takeout=10s,delivery=250ms (overrides kitchen.cook_time).
    #[arg(long, global = true, value_name = "TIMES")]
    pub cook_time: Option<String>,
    /// Take over a worker name that is still marked online (after a crash, for supervisors
    /// that restart a worker at once); without it such a name exits 1.
    #[arg(long, global = true)]
    pub replace: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_old_order_service_command_line_parses() {
        let cli = Cli::try_parse_from([
            "restaurant-tui",
            "--mode=order-service",
            "--port",
            "3000",
            "--max-concurrent",
            "50",
        ])
        .unwrap();
        assert_eq!(cli.mode, Some(Mode::OrderService));
        assert_eq!(cli.server.port, Some(3000));
        assert_eq!(cli.server.max_concurrent, Some(50));
    }

    #[test]
    fn serve_takes_host_and_port_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "restaurant-tui",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "3100",
        ])
        .unwrap();
        assert!(matches!(cli.command, Some(Command::Serve)));
        assert_eq!(cli.server.port, Some(3100));
    }

    #[test]
    fn the_old_worker_flags_parse() {
        let cli = Cli::try_parse_from([
            "restaurant-tui",
            "--mode=kitchen-worker",
            "--worker-name=chef_mario",
            "--order-types=dine_in,takeout",
            "--heartbeat-interval=30",
            "--prefetch=1",
        ])
        .unwrap();
        assert_eq!(cli.worker.worker_name.as_deref(), Some("chef_mario"));
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
