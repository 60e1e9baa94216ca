//! The console's state and the one message vocabulary: terminal keys, store readings, status
//! updates, the links' health and task results all arrive as a [`Msg`]; [`update`] applies them
//! and returns the [`Command`]s (effects) for the event loop to run. Nothing here does I/O.
//! Keys and the mouse are read in [`super::keys`].

use std::cell::RefCell;
use std::net::SocketAddr;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use ratatui::crossterm::event::{KeyEvent, MouseEvent};
use ratatui::layout::Rect;

use super::feed::Feed;
use super::form::{self, MenuItem};
use super::health::{Health, Level};
use super::orders::OrdersView;
use super::overlay::Overlay;
use super::workers::WorkersView;
use crate::config::TicketTargets;
use crate::domain::{Money, OrderDraft, OrderStatus, Specialty, StatusUpdate};
use crate::store::{HistoryEntry, OrderRecord, WorkerRecord};
use crate::supervisor::TaskState;

/// Ctrl-Z would freeze the whole kitchen: its cooks stall, and their orders are taken over.
pub const NO_SUSPEND: &str =
    "Ctrl-Z would freeze a cooking kitchen, so the console keeps running (q leaves)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Orders,
    Workers,
    Feed,
}

impl Pane {
    pub fn title(self) -> &'static str {
        match self {
            Pane::Orders => "orders",
            Pane::Workers => "workers",
            Pane::Feed => "feed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiState {
    Starting,
    Listening(SocketAddr),
    Unavailable(String),
}

/// The time zone the screen shows (logs and the API stay UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    pub offset: FixedOffset,
}

impl Default for Zone {
    fn default() -> Self {
        Zone {
            name: "UTC".into(),
            offset: Utc.fix(),
        }
    }
}

impl Zone {
    pub fn local(&self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        t.with_timezone(&self.offset)
    }
}

/// Where the mouse may point, recorded by the view as it draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hit {
    Pane(Pane),
    Order(String),
    Worker(String),
    RecallRow(usize),
}

/// Everything the screen shows, one part per pane and concern; the event loop alone owns it.
#[derive(Debug, Clone)]
pub struct App {
    pub now: DateTime<Utc>,
    pub zone: Zone,
    /// The screen's size, for the smallest-size notice and paging.
    pub size: (u16, u16),
    pub focus: Pane,
    /// `q` was pressed once: the next one leaves at once.
    pub quitting: bool,
    pub orders: OrdersView,
    pub workers: WorkersView,
    pub feed: Feed,
    pub overlay: Option<Overlay>,
    /// The links' health and the status line.
    pub health: Health,
    pub setup: Setup,
    /// What the last frame drew where (for the mouse).
    pub hits: RefCell<Vec<(Rect, Hit)>>,
}

/// What this console is and runs on: set at start, shown in the header and the help.
#[derive(Debug, Clone)]
pub struct Setup {
    /// This console's name in the status log (`changed_by`).
    pub station: String,
    pub database_kind: String,
    pub broker_kind: String,
    pub api: ApiState,
    pub menu: Vec<MenuItem>,
    pub targets: TicketTargets,
    /// Ring the terminal's bell when an order arrives.
    pub bell: bool,
    pub log_path: String,
}

/// What the event loop is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    PlaceOrder(OrderDraft),
    Cancel {
        number: String,
        reason: Option<String>,
    },
    Complete(String),
    Recall(String),
    Rush(String, bool),
    StartWorker {
        name: String,
        specialty: Specialty,
        prefetch: u16,
    },
    StopWorker(String),
    LoadHistory(String),
    /// An order the queue does not know yet (a status update named it).
    LoadOrder(String),
    LoadFinished,
    Bell,
    /// Stop the workers gracefully, then leave; `force` leaves at once.
    Quit {
        force: bool,
    },
}

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Tick(DateTime<Utc>),
    /// The zone the screen shows, read from the system at each tick (it may change with DST).
    Zone(Zone),
    /// The store's active orders (the periodic reconciliation).
    Orders(Vec<OrderRecord>),
    /// One order read because an update named it.
    Order(OrderRecord),
    Workers(Vec<WorkerRecord>),
    Update(StatusUpdate),
    /// The broker: up, or down with the reason.
    Broker(Result<(), String>),
    /// The database: up, or down with the reason.
    Database(Result<(), String>),
    Api(ApiState),
    /// News for the status line (a command finished, a worker started).
    Info(String),
    /// Why something did not work, for the status line.
    Failed(String),
    /// Nothing changed, but draw again (an answer that brought nothing new).
    Redraw,
    /// The order form's submit was placed: the form closes, the status line says so.
    Placed {
        number: String,
        total: Money,
    },
    /// Why the order form's submit was not placed (the form stays open with all typed).
    NotPlaced(String),
    /// A bump went through (`r` can recall it).
    Bumped(String),
    History(String, Option<OrderRecord>, Vec<HistoryEntry>),
    Finished(Vec<OrderRecord>),
    WorkerStarted(String),
    /// SIGINT, SIGTERM or SIGHUP: the same as `q` (a second one leaves at once).
    Signal(&'static str),
    /// Someone sent SIGTSTP; the console does not stop (see the Ctrl-Z key).
    Suspend,
    /// A supervised task of this process changed state.
    Task(String, TaskState),
    /// Every part of the kitchen has stopped; the loop may leave.
    Stopped(Result<(), String>),
}

impl App {
    pub fn new(now: DateTime<Utc>, log_path: String) -> App {
        App {
            now,
            zone: Zone::default(),
            size: (120, 40),
            focus: Pane::Orders,
            quitting: false,
            orders: OrdersView::default(),
            workers: WorkersView::default(),
            feed: Feed::default(),
            overlay: None,
            health: Health::default(),
            setup: Setup {
                station: "console".into(),
                database_kind: String::new(),
                broker_kind: String::new(),
                api: ApiState::Starting,
                menu: form::default_menu(),
                targets: TicketTargets::default(),
                bell: false,
                log_path,
            },
            hits: RefCell::new(Vec::new()),
        }
    }

    /// Whether what the queue shows may be old (the store cannot be read).
    pub fn stale(&self) -> bool {
        self.health.database.is_down()
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.health.say(self.now, Level::Info, text);
    }

    /// Background news: shown unless a fresh error is on the line.
    pub fn news(&mut self, text: impl Into<String>) {
        self.health.say(self.now, Level::News, text);
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.health.say(self.now, Level::Error, text);
    }

    /// A queue change that moved the selection is said.
    pub fn moved(&mut self, said: Option<String>) {
        if let Some(text) = said {
            self.info(text);
        }
    }
}

/// Applies one message; returns what the event loop should do.
impl Msg {
    /// A command's outcome as the status line says it.
    pub fn said(outcome: Result<String, String>) -> Msg {
        match outcome {
            Ok(text) => Msg::Info(text),
            Err(text) => Msg::Failed(text),
        }
    }
}

pub fn update(app: &mut App, msg: Msg) -> Vec<Command> {
    match msg {
        Msg::Key(key) => return super::keys::on_key(app, key),
        Msg::Mouse(m) => super::keys::on_mouse(app, m),
        Msg::Resize(w, h) => app.size = (w, h),
        Msg::Tick(now) => app.now = now,
        Msg::Zone(zone) => app.zone = zone,
        Msg::Orders(orders) => {
            app.orders.synced_at = Some(app.now);
            let said = app.orders.queue.reconcile(orders);
            app.moved(said);
        }
        Msg::Order(order) => {
            let said = app.orders.queue.upsert(order);
            app.moved(said);
        }
        Msg::Workers(workers) => app.workers.replace(workers),
        Msg::Update(u) => return on_update(app, u),
        Msg::Broker(reading) => app.health.broker(reading, app.now),
        Msg::Database(reading) => {
            if reading.is_ok() {
                app.orders.synced_at = Some(app.now);
            }
            app.health.database(reading, app.now)
        }
        Msg::Api(state) => on_api(app, state),
        Msg::Info(text) => app.info(text),
        Msg::Failed(text) => app.error(text),
        Msg::Redraw => {}
        Msg::Placed { number, total } => on_placed(app, &number, total),
        Msg::NotPlaced(why) => on_not_placed(app, why),
        Msg::Bumped(number) => app.orders.bumped(number),
        Msg::History(number, order, history) => {
            let order = order.map(Box::new);
            app.overlay = Some(Overlay::Detail {
                number,
                order,
                history,
                scroll: 0,
            })
        }
        Msg::Finished(orders) => {
            if let Some(Overlay::Recall { orders: slot, .. }) = &mut app.overlay {
                *slot = Some(orders);
            }
        }
        Msg::WorkerStarted(name) => {
            app.workers.local.insert(name.clone());
            app.news(format!("worker {name} started"));
        }
        Msg::Signal(name) => return on_signal(app, name),
        Msg::Suspend => app.info(NO_SUSPEND),
        Msg::Task(name, state) => on_task(app, &name, state),
        Msg::Stopped(Ok(())) => app.info("stopped"),
        Msg::Stopped(Err(why)) => app.error(why),
    }
    Vec::new()
}

fn on_api(app: &mut App, state: ApiState) {
    if let ApiState::Unavailable(why) = &state {
        app.error(why.clone());
    }
    app.setup.api = state;
}

/// A signal asks for the same graceful stop as `q`; a second one leaves at once.
fn on_signal(app: &mut App, name: &str) -> Vec<Command> {
    let commands = quit(app);
    app.info(format!(
        "{name}: stopping the workers gracefully… again to leave at once"
    ));
    commands
}

/// A status update: the pace, the queue changed in place (an order it does not know is read
/// from the store), and the feed.
fn on_update(app: &mut App, u: StatusUpdate) -> Vec<Command> {
    let mut commands = Vec::new();
    if u.new_status == OrderStatus::Received && app.setup.bell {
        commands.push(Command::Bell);
    }
    app.orders.pace(&u);
    match app.orders.queue.apply(&u) {
        Ok(said) => app.moved(said),
        Err(number) => commands.push(Command::LoadOrder(number)),
    }
    app.feed.push(&u);
    commands
}

/// The order form closes once its order is placed.
fn on_placed(app: &mut App, number: &str, total: Money) {
    if matches!(app.overlay, Some(Overlay::NewOrder(_))) {
        app.overlay = None;
    }
    app.info(format!("placed {number} ({total})"));
}

/// A refused order keeps the form open with everything typed, and says why in it.
fn on_not_placed(app: &mut App, why: String) {
    if let Some(Overlay::NewOrder(form)) = &mut app.overlay {
        form.failed(why.clone());
    }
    app.error(format!("the order was not placed: {why}"));
}

/// `q`, Ctrl-C or a signal: the first asks for a graceful stop, the next leaves at once.
pub fn quit(app: &mut App) -> Vec<Command> {
    let force = app.quitting;
    app.quitting = true;
    app.info("stopping the workers gracefully… q again to leave at once");
    vec![Command::Quit { force }]
}

/// Says what became of a task: a worker going offline, anything failing or restarting.
fn on_task(app: &mut App, name: &str, state: TaskState) {
    let worker = name.strip_prefix("worker ");
    match (worker, state) {
        (Some(w), TaskState::Stopped) => {
            app.workers.local.remove(w);
            app.info(format!("{w} is offline"))
        }
        (Some(w), TaskState::Failed { error }) => {
            app.workers.local.remove(w);
            app.error(format!("{w}: {error}"))
        }
        (None, TaskState::Stopped | TaskState::Running) | (Some(_), TaskState::Running) => {}
        (_, TaskState::Restarting { error }) => app.error(format!(
            "{name} stopped unexpectedly ({error}); restarting it"
        )),
        (None, TaskState::Failed { error }) => app.error(format!("{name} failed: {error}")),
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
pub(crate) mod app_tests;
