//! The command line (CONTRACT §8): subcommands, plus the old `--mode=` form with its flags.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "restaurant-tui",
    version,
    about = "A restaurant kitchen's order system: console, HTTP API and kitchen workers.",
    long_about = "A restaurant kitchen's order system: console, HTTP API and kitchen workers.\n\n\
        Without a command it opens the console: the order queue, the workers and the status \
        feed in this terminal, with the HTTP API and a kitchen inside (an embedded database \
        and bus unless the configuration names PostgreSQL and RabbitMQ). Its flags: --host, \
        --port, --rate-limit, --workers.",
    after_help = "Common commands:\n  \
        restaurant-tui                       the console\n  \
        restaurant-tui serve --port 3000     the HTTP API and outbox relay, headless\n  \
        restaurant-tui worker --name chef_1  a kitchen worker (RabbitMQ)\n  \
        restaurant-tui notify                print every status update\n  \
        restaurant-tui migrate               bring the database schema up to date\n  \
        restaurant-tui dead-letters list     messages that could never be processed\n\n\
        Each command takes only its own flags (restaurant-tui COMMAND --help); --config goes \
        with any."
)]
pub struct Cli {
    /// YAML configuration (default: config.yaml in the user's config directory, if present).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// The old wheres-my-pizza form: run one service (with that service's flags).
    #[arg(long, value_enum, value_name = "MODE")]
    pub mode: Option<Mode>,

    /// The console's flags, and the old --mode form's.
    #[command(flatten)]
    pub server: ServerArgs,

    /// The old --mode=kitchen-worker form's flags.
    #[command(flatten)]
    pub worker: WorkerArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The server flags of this run: `serve`'s own, else the top level's.
    pub fn server(&self) -> &ServerArgs {
        match &self.command {
            Some(Command::Serve(args)) => args,
            _ => &self.server,
        }
    }

    /// The worker flags of this run: `worker`'s own, else the top level's.
    pub fn worker(&self) -> &WorkerArgs {
        match &self.command {
            Some(Command::Worker(args)) => args,
            _ => &self.worker,
        }
    }

    /// Refuses flags given where they mean nothing — a worker's flag on the console, a port on
    /// a kitchen worker — naming where each belongs. (Flags after a command are checked by the
    /// parser: each command knows only its own.)
    pub fn check(&self) -> Result<(), String> {
        let server = self.server.given();
        let worker = self.worker.given();
        let first = |flags: &[&'static str]| flags.first().copied();
        let misplaced = match (self.mode, &self.command) {
            (Some(_), Some(_)) => {
                return Err("--mode and a command cannot go together: use one".into());
            }
            (None, Some(_)) => first(&server).or(first(&worker)),
            (None, None) => server
                .iter()
                .copied()
                .find(|f| *f == "--max-concurrent")
                .or(first(&worker)),
            (Some(Mode::OrderService | Mode::TrackingService), None) => first(&worker),
            (Some(Mode::KitchenWorker), None) => first(&server),
            (Some(Mode::NotificationSubscriber), None) => first(&server).or(first(&worker)),
        };
        match misplaced {
            None => Ok(()),
            Some(flag) => Err(format!(
                "{flag} does not belong here: it is {}",
                home_of(flag)
            )),
        }
    }
}

/// For a flag the parser did not know here, where it does belong (`serve --prefetch 3`).
pub fn hint_for(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    if e.kind() != clap::error::ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let flag = arg.split('=').next().unwrap_or(arg);
    // Known to `serve` or `worker`, under its name or a visible alias.
    let cli = <Cli as clap::CommandFactory>::command();
    let names = |a: &clap::Arg| {
        let aliases = a.get_visible_aliases().unwrap_or_default();
        a.get_long()
            .into_iter()
            .chain(aliases)
            .any(|l| flag.strip_prefix("--") == Some(l))
    };
    let known = ["serve", "worker"].into_iter().any(|c| {
        cli.find_subcommand(c)
            .is_some_and(|c| c.get_arguments().any(names))
    });
    known.then(|| format!("{flag} is {}", home_of(flag)))
}

/// Where a flag belongs, said to whoever put it elsewhere.
fn home_of(flag: &str) -> String {
    match flag {
        "--host" | "--port" | "--rate-limit" | "--workers" => format!(
            "a flag of `serve` and of the console (restaurant-tui serve {flag} …, or \
             restaurant-tui {flag} … with no command)"
        ),
        "--max-concurrent" => "a flag of `serve` (restaurant-tui serve --max-concurrent …)".into(),
        _ => format!("a flag of `worker` (restaurant-tui worker {flag} …)"),
    }
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
    Serve(ServerArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// A standalone kitchen worker (needs RabbitMQ).
    Worker(WorkerArgs),
    /// Print each status update as a line (needs RabbitMQ); logs go to stderr.
    Notify(NotifyArgs),
    /// Messages that could never be processed (needs RabbitMQ): list them, send one back to
    /// its queue once its cause is fixed, or purge them.
    #[command(subcommand)]
    DeadLetters(DeadLetterAction),
}

#[derive(Debug, Clone, Subcommand)]
pub enum DeadLetterAction {
    /// Each letter's id, reason, request id, origin and body; they stay in the queue.
    List {
        /// At most this many, oldest first.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
    /// Send the letter with this id back where it was first published, and remove it.
    Replay {
        /// The id `list` shows.
        id: String,
    },
    /// Remove every dead letter.
    Purge,
}

/// `notify`'s flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NotifyArgs {
    /// Serve Prometheus metrics at http://HOST:PORT/metrics (HOST: server.host).
    #[arg(long, value_name = "PORT")]
    pub metrics_port: Option<u16>,
}

/// Where and how the API listens; each overrides the configuration.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServerArgs {
    /// Address to bind (default 127.0.0.1; beyond loopback needs server.token).
    #[arg(long)]
    pub host: Option<String>,
    /// Port to bind (default 3000; 3002 for --mode=tracking-service; 0 picks a free one).
    #[arg(long)]
    pub port: Option<u16>,
    /// Order creations in flight at once before answering 503 (default 50).
    #[arg(long)]
    pub max_concurrent: Option<usize>,
    /// Requests per second per client (default 100; 0 turns the limit off).
    #[arg(long)]
    pub rate_limit: Option<u32>,
    /// Kitchen workers to run inside this process (serve).
    #[arg(long, value_name = "N")]
    pub workers: Option<u16>,
}

impl ServerArgs {
    /// The flags given, as typed.
    fn given(&self) -> Vec<&'static str> {
        [
            ("--host", self.host.is_some()),
            ("--port", self.port.is_some()),
            ("--max-concurrent", self.max_concurrent.is_some()),
            ("--rate-limit", self.rate_limit.is_some()),
            ("--workers", self.workers.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect()
    }
}

/// A kitchen worker's flags (`worker`, `--mode=kitchen-worker`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WorkerArgs {
    /// The worker's unique name.
    #[arg(long = "worker-name", visible_alias = "name", value_name = "NAME")]
    pub worker_name: Option<String>,
    /// Order types it cooks, comma-separated (default: all).
    #[arg(long, value_name = "TYPES")]
    pub order_types: Option<String>,
    /// Seconds between heartbeats (default 30); silent for twice this, it shows offline.
    #[arg(long, value_name = "SECONDS")]
    pub heartbeat_interval: Option<u64>,
    /// Orders cooked at once — the worker's burners; it never holds more (default 1).
    #[arg(long)]
    pub prefetch: Option<u16>,
    /// Cooking times, e.g. dine_in=8s,takeout=10s,delivery=250ms (overrides kitchen.cook_time).
    #[arg(long, value_name = "TIMES")]
    pub cook_time: Option<String>,
    /// Take over a worker name that is still marked online (after a crash, for supervisors
    /// that restart a worker at once); without it such a name exits 1.
    #[arg(long)]
    pub replace: bool,
    /// Serve Prometheus metrics at http://HOST:PORT/metrics (HOST: server.host).
    #[arg(long, value_name = "PORT")]
    pub metrics_port: Option<u16>,
}

impl WorkerArgs {
    /// The flags given, as typed.
    fn given(&self) -> Vec<&'static str> {
        [
            ("--worker-name", self.worker_name.is_some()),
            ("--order-types", self.order_types.is_some()),
            ("--heartbeat-interval", self.heartbeat_interval.is_some()),
            ("--prefetch", self.prefetch.is_some()),
            ("--cook-time", self.cook_time.is_some()),
            ("--replace", self.replace),
            ("--metrics-port", self.metrics_port.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect()
    }
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
        assert!(matches!(cli.command, Some(Command::Serve(_))));
        assert_eq!(cli.server().port, Some(3100));
        assert_eq!(cli.server().host.as_deref(), Some("127.0.0.1"));
        cli.check().unwrap();
    }

    /// Issue #11: each command takes only its own flags.
    #[test]
    fn a_flag_of_another_command_is_refused() {
        for line in [
            &["restaurant-tui", "serve", "--prefetch", "3"][..],
            &["restaurant-tui", "notify", "--port", "1"],
            &["restaurant-tui", "migrate", "--workers", "9"],
            &["restaurant-tui", "migrate", "--order-types", "pizza"],
            &["restaurant-tui", "worker", "--port", "1"],
            &["restaurant-tui", "serve", "--name", "chef_1"],
        ] {
            let e = Cli::try_parse_from(line).unwrap_err();
            assert_eq!(
                e.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{line:?}"
            );
        }
    }

    /// Before a command, or with the console or an old --mode that has no use for them, flags
    /// parse but are refused with where they belong.
    #[test]
    fn a_flag_where_it_means_nothing_says_where_it_belongs() {
        let refused = |line: &[&str]| {
            Cli::try_parse_from(line)
                .unwrap()
                .check()
                .expect_err(&format!("{line:?}"))
        };
        let e = refused(&["restaurant-tui", "--prefetch", "3"]);
        assert!(
            e.contains("--prefetch") && e.contains("restaurant-tui worker --prefetch"),
            "{e}"
        );
        let e = refused(&["restaurant-tui", "--port", "1", "notify"]);
        assert!(e.contains("--port") && e.contains("serve"), "{e}");
        refused(&["restaurant-tui", "--max-concurrent", "5"]);
        refused(&["restaurant-tui", "--mode=kitchen-worker", "--port", "1"]);
        refused(&["restaurant-tui", "--mode=order-service", "--prefetch", "2"]);
        refused(&[
            "restaurant-tui",
            "--mode=notification-subscriber",
            "--workers",
            "2",
        ]);
        refused(&["restaurant-tui", "--mode=order-service", "serve"]);
        // The console keeps its own.
        let console = [
            "restaurant-tui",
            "--host",
            "localhost",
            "--port",
            "0",
            "--workers",
            "2",
        ];
        Cli::try_parse_from(console).unwrap().check().unwrap();
        let config = ["restaurant-tui", "notify", "--config", "x.yaml"];
        Cli::try_parse_from(config).unwrap().check().unwrap();
    }

    #[test]
    fn the_help_says_that_no_command_opens_the_console() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        assert!(
            help.contains("Without a command it opens the console"),
            "{help}"
        );
        assert!(
            help.contains("restaurant-tui worker --name chef_1"),
            "{help}"
        );
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
        assert_eq!(cli.worker().worker_name.as_deref(), Some("chef_mario"));
        cli.check().unwrap();
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
