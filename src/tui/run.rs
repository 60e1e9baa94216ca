//! The console's event loop: it alone owns the [`App`]; background tasks only send [`Msg`]s,
//! and [`Command`]s run as tasks that answer with a `Msg`. It redraws after each message, and
//! when idle only the 1 s tick and refresh wake it (near-zero CPU).
//!
//! Every way out is one path (CONTRACT §7): `q`, Ctrl-C and SIGINT/SIGTERM/SIGHUP ask the
//! kitchen's [`Shutdown`] to run while the screen keeps drawing; the loop leaves when it is
//! done, and the terminal is restored after the loop however it ended (a panic included: the
//! loop is a task of its own, so the stop still runs).

use ratatui::DefaultTerminal;
use tokio::sync::mpsc;

use super::app::{ApiState, App, Command, Msg, update};
use super::feeds::{spawn_feeds, spawn_signals, spawn_terminal_reader};
use crate::assembly::{Assembly, AssemblyError, BrokerChoice, Plan, Shutdown};
use crate::config::Config;
use crate::domain::Transition;
use crate::kitchen::WorkerSpec;
use crate::service::ServiceError;
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
    default_workers: u16,
) -> Result<(), ConsoleError> {
    let plan = Plan {
        store: true,
        broker: BrokerChoice::RabbitOrInProcess,
    };
    let mut kitchen = Assembly::build(config, plan).await?;
    let (tx, rx) = mpsc::channel::<Msg>(1024);
    let app = new_app(config, &kitchen, log_path);
    let api = match kitchen.listen(false).await {
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
    };
    let _ = tx.send(Msg::Api(api)).await;
    spawn_feeds(&kitchen, tx.clone());
    // The embedded default cooks at once; with RabbitMQ the workers usually run elsewhere.
    if kitchen.broker().is_some_and(|b| b.kind() == "memory") {
        for i in 1..=default_workers {
            let mut spec = WorkerSpec::new(format!("chef_{i}"));
            spec.cook_times = config.kitchen.cook_time;
            match kitchen.start_worker(spec, OnExit::Restart) {
                Ok(()) => {
                    let _ = tx.send(Msg::WorkerStarted(format!("chef_{i}"))).await;
                }
                Err(e) => {
                    let _ = tx.send(Msg::Done(Err(e.to_string()))).await;
                }
            }
        }
    }
    let shutdown = kitchen.shutdown();
    let signals = spawn_signals(tx.clone());
    let terminal = ratatui::init();
    let input = spawn_terminal_reader(tx.clone());
    let effects = Effects {
        kitchen,
        tx,
        cook_times: config.kitchen.cook_time,
    };
    let ended = tokio::spawn(event_loop(terminal, app, rx, effects)).await;
    ratatui::restore();
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

fn new_app(config: &Config, kitchen: &Assembly, log_path: String) -> App {
    let mut app = App::new(kitchen.clock().now(), config.kitchen.cook_time, log_path);
    app.database_kind = kitchen
        .store()
        .map(|s| s.backend())
        .unwrap_or_default()
        .into();
    app.broker_kind = kitchen
        .broker()
        .map(|b| b.kind())
        .unwrap_or_default()
        .into();
    app.late_after = config.console.late_after;
    app.very_late_after = config.console.very_late_after;
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
        app.menu = menu;
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

fn say(result: Result<String, ServiceError>) -> Msg {
    Msg::Done(result.map_err(|e| {
        match e {
            ServiceError::Invalid(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    }))
}

/// Runs the console's commands against the kitchen; each answers with a `Msg`.
struct Effects {
    kitchen: Assembly,
    tx: mpsc::Sender<Msg>,
    cook_times: crate::config::CookTimes,
}

impl Effects {
    /// Runs the kitchen's stop in the background; `Msg::Stopped` says when it is done.
    fn stop(&self) {
        let (shutdown, tx): (Shutdown, _) = (self.kitchen.shutdown(), self.tx.clone());
        tokio::spawn(async move {
            let result = shutdown.run().await.map_err(|e| e.to_string());
            let _ = tx.send(Msg::Stopped(result)).await;
        });
    }

    fn run(&mut self, command: Command) {
        let tx = self.tx.clone();
        let Some(orders) = self.kitchen.orders().cloned() else {
            return;
        };
        let request_id = format!("console-{}", uuid::Uuid::new_v4().simple());
        match command {
            Command::PlaceOrder(draft) => {
                tokio::spawn(async move {
                    let r = orders
                        .place(&draft, Some(&request_id), None)
                        .await
                        .map(|p| format!("placed {} ({})", p.number, p.total));
                    let _ = tx.send(say(r)).await;
                });
            }
            Command::Cancel(n) => self.transition(n, Transition::Cancel, request_id),
            Command::Complete(n) => self.transition(n, Transition::Complete, request_id),
            Command::Recall(n) => self.transition(n, Transition::Recall, request_id),
            Command::LoadHistory(n) => {
                tokio::spawn(async move {
                    let msg = match orders.history(&n).await {
                        Ok(mut h) => {
                            for e in &mut h {
                                e.changed_by.as_mut().map(super::feeds::shown);
                                e.notes.as_mut().map(super::feeds::shown);
                            }
                            Msg::History(n, h)
                        }
                        Err(e) => Msg::Done(Err(e.to_string())),
                    };
                    let _ = tx.send(msg).await;
                });
            }
            Command::StartWorker {
                name,
                specialty,
                prefetch,
            } => {
                let mut spec = WorkerSpec::new(name.clone());
                spec.specialty = specialty;
                spec.prefetch = prefetch.max(1);
                spec.cook_times = self.cook_times;
                let msg = match self.kitchen.start_worker(spec, OnExit::Restart) {
                    Ok(()) => Msg::WorkerStarted(name),
                    Err(e) => Msg::Done(Err(e.to_string())),
                };
                let _ = tx.try_send(msg);
            }
            Command::StopWorker(name) => {
                let msg = if self.kitchen.stop_worker(&name) {
                    Ok(format!("stopping {name}: it finishes the order in hand"))
                } else {
                    Err(format!("{name} runs in another process; stop it there"))
                };
                let _ = tx.try_send(Msg::Done(msg));
            }
            Command::Quit { .. } => {}
        }
    }

    fn transition(&self, number: String, transition: Transition, request_id: String) {
        let Some(orders) = self.kitchen.orders().cloned() else {
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let r = orders
                .operator_transition(&number, transition, Some(&request_id))
                .await
                .map(|from| format!("{number}: {from} → {}", transition.to()));
            let _ = tx.send(say(r)).await;
        });
    }
}
