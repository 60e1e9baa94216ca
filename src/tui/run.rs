//! The console's event loop: it alone owns the [`App`]; background tasks only send [`Msg`]s,
//! and [`Command`]s run as tasks that answer with a `Msg`. It redraws after each message, and
//! when idle only the 1 s tick and refresh wake it (near-zero CPU).
//!
//! Every way out is one path (CONTRACT §7): `q`, Ctrl-C and SIGINT/SIGTERM/SIGHUP ask the
//! kitchen's [`Shutdown`] to run while the screen keeps drawing; the loop leaves when it is
//! done, and the terminal is restored after the loop however it ended (a panic included: the
//! loop is a task of its own, so the stop still runs).

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use tokio::sync::mpsc;

use super::app::{ApiState, App, Command, Msg, update};
use super::effects::Effects;
use super::sources::{spawn_feeds, spawn_signals, spawn_terminal_reader};
use crate::assembly::{Assembly, AssemblyError, BrokerChoice, Plan};
use crate::config::Config;
use crate::kitchen::WorkerSpec;
use crate::supervisor::OnExit;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error(transparent)]
    Assembly(#[from] AssemblyError),
    #[error("the terminal failed: {0}")]
    Terminal(#[from] std::io::Error),
    #[error(
        "the console needs a terminal (stdin and stdout); `restaurant-tui serve` is the \
         headless form"
    )]
    NoTerminal,
    #[error("the console stopped unexpectedly: {0}")]
    Crashed(String),
}

/// The console draws on stdout and reads keys from stdin: both must be a terminal.
pub fn require_terminal() -> Result<(), ConsoleError> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        Ok(())
    } else {
        Err(ConsoleError::NoTerminal)
    }
}

/// How the loop ended.
enum Exit {
    /// The kitchen stopped in order (its result is said in the status line and returned).
    Stopped(Result<(), String>),
    /// `q` twice, or a second signal: leave without waiting.
    Forced,
}

pub async fn run(
    config: &Config,
    log_path: String,
    workers: Option<u16>,
) -> Result<(), ConsoleError> {
    let plan = Plan {
        store: true,
        broker: BrokerChoice::RabbitOrInProcess,
    };
    let mut kitchen = Assembly::build(config, plan).await?;
    let (tx, rx) = mpsc::channel::<Msg>(1024);
    let app = new_app(config, &kitchen, log_path);
    let api = listen(&mut kitchen).await;
    let _ = tx.send(Msg::Api(api)).await;
    spawn_feeds(&kitchen, tx.clone());
    start_workers(&mut kitchen, &tx, config, workers).await;
    let shutdown = kitchen.shutdown();
    let signals = spawn_signals(tx.clone());
    let terminal = enter_terminal();
    let input = spawn_terminal_reader(tx.clone());
    let effects = Effects {
        kitchen,
        tx,
        cook_times: config.kitchen.cook_time,
        station: station_name(config),
    };
    let ended = tokio::spawn(event_loop(terminal, app, rx, effects)).await;
    leave_terminal();
    signals.abort();
    input.abort();
    match ended {
        Ok(Exit::Stopped(result)) => result.map_err(ConsoleError::Crashed),
        Ok(Exit::Forced) => Ok(()),
        // The panic hook has restored the terminal and printed the report; stop the kitchen
        // as any other exit does.
        Err(e) => {
            let _ = shutdown.run().await;
            Err(ConsoleError::Crashed(e.to_string()))
        }
    }
}

/// The embedded API, or why it is not there (the console runs on without it).
async fn listen(kitchen: &mut Assembly) -> ApiState {
    match kitchen.listen(false).await {
        Ok(a) => {
            tracing::info!(action = "service_started", address = %a, "console API listening");
            ApiState::Listening(a)
        }
        Err(e) => {
            let why = match &e {
                AssemblyError::Bind { addr, source }
                    if source.kind() == std::io::ErrorKind::AddrInUse =>
                {
                    format!("API cannot listen on {addr} (port taken): start with --port N")
                }
                other => format!("API unavailable: {other}"),
            };
            tracing::warn!(action = "api_unavailable", error = %e, "{why}");
            ApiState::Unavailable(why)
        }
    }
}

/// The alternate screen, raw mode and the mouse (clicks select, the wheel scrolls); a panic
/// gives the mouse back as [`leave_terminal`] does on every other way out.
fn enter_terminal() -> DefaultTerminal {
    let terminal = ratatui::init();
    let _ = ratatui::crossterm::execute!(std::io::stdout(), EnableMouseCapture);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = ratatui::crossterm::execute!(std::io::stdout(), DisableMouseCapture);
        hook(info);
    }));
    terminal
}

fn leave_terminal() {
    let _ = ratatui::crossterm::execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
}

/// The configuration's `workers:` list, then `--workers N` (`chef_1`…). Without either, the
/// embedded default cooks at once with one; with RabbitMQ the workers usually run elsewhere, so
/// none start here. Each start, or why it failed, goes to the status line.
async fn start_workers(
    kitchen: &mut Assembly,
    tx: &mpsc::Sender<Msg>,
    config: &Config,
    workers: Option<u16>,
) {
    let mut said = Vec::new();
    for (name, started) in kitchen.start_configured_workers() {
        said.push(match started {
            Ok(()) => Msg::WorkerStarted(name),
            Err(e) => Msg::Failed(format!("{name} did not start: {e}")),
        });
    }
    let listed = said.len();
    let embedded = kitchen.broker().is_some_and(|b| b.kind() == "memory");
    let count = workers.unwrap_or(if embedded && listed == 0 { 1 } else { 0 });
    for i in 1..=count {
        let name = format!("chef_{i}");
        let mut spec = WorkerSpec::new(name.clone());
        spec.cook_times = config.kitchen.cook_time;
        said.push(match kitchen.start_worker(spec, OnExit::Restart) {
            Ok(()) => Msg::WorkerStarted(name),
            Err(e) => Msg::Failed(format!("{name} did not start: {e}")),
        });
    }
    if said.is_empty() {
        let none = "no worker runs in this console (w starts one; --workers N at start)";
        said.push(Msg::Info(none.into()));
    }
    for msg in said {
        let _ = tx.send(msg).await;
    }
}

/// The configured station, else the host name (what `changed_by` says of this console).
fn station_name(config: &Config) -> String {
    let configured = config.console.station.trim();
    if !configured.is_empty() {
        return configured.to_string();
    }
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    if host.is_empty() {
        "console".into()
    } else {
        host
    }
}

fn new_app(config: &Config, kitchen: &Assembly, log_path: String) -> App {
    let mut app = App::new(kitchen.clock().now(), log_path);
    app.setup.database_kind = kitchen
        .store()
        .map(|s| s.backend())
        .unwrap_or_default()
        .into();
    app.setup.broker_kind = kitchen
        .broker()
        .map(|b| b.kind())
        .unwrap_or_default()
        .into();
    app.setup.targets = config.console.targets;
    app.setup.station = station_name(config);
    app.setup.bell = config.console.bell;
    app.zone = super::sources::zone(app.now);
    if let Ok((w, h)) = ratatui::crossterm::terminal::size() {
        app.size = (w, h);
    }
    let menu: Vec<super::form::MenuItem> = config
        .console
        .menu
        .iter()
        .filter_map(|m| {
            m.price.money().ok().map(|price| super::form::MenuItem {
                name: m.name.clone(),
                price,
            })
        })
        .collect();
    if !menu.is_empty() {
        app.setup.menu = menu;
    }
    app
}

/// Draws and applies messages until the kitchen has stopped (or a forced leave). A terminal
/// that fails (closed by SIGHUP) stops the drawing, not the graceful stop.
async fn event_loop(
    mut terminal: DefaultTerminal,
    mut app: App,
    mut rx: mpsc::Receiver<Msg>,
    mut effects: Effects,
) -> Exit {
    let mut drawing = true;
    let mut stopping = false;
    loop {
        if drawing && terminal.draw(|f| super::view::draw(f, &app)).is_err() {
            tracing::warn!(
                action = "terminal_lost",
                "the terminal is gone; stopping the kitchen"
            );
            drawing = false;
            if !stopping {
                stopping = true;
                effects.stop();
            }
        }
        let Some(first) = rx.recv().await else {
            return Exit::Stopped(Ok(()));
        };
        let mut batch = vec![first];
        // Apply whatever else is queued before drawing again.
        while let Ok(msg) = rx.try_recv() {
            batch.push(msg);
        }
        for msg in batch {
            if let Msg::Stopped(result) = &msg {
                return Exit::Stopped(result.clone());
            }
            for command in update(&mut app, msg) {
                match command {
                    Command::Quit { force: true } => return Exit::Forced,
                    Command::Quit { force: false } if !stopping => {
                        stopping = true;
                        effects.stop();
                    }
                    Command::Quit { .. } => {}
                    other => effects.run(other),
                }
            }
        }
    }
}
