//! The console's state and the one message vocabulary: terminal keys, store readings, status
//! updates, the links' health and task results all arrive as a [`Msg`]; [`update`] applies them
//! and returns the [`Command`]s (effects) for the event loop to run. Nothing here does I/O.
//! Keys and the mouse are read in [`super::keys`].

use std::cell::RefCell;
use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use ratatui::crossterm::event::{KeyEvent, MouseEvent};
use ratatui::layout::Rect;

use super::form::{self, MenuItem, OrderForm, WorkerForm};
use super::health::{Health, Level};
use super::queue::{Queue, short};
use crate::config::TicketTargets;
use crate::domain::{OrderDraft, OrderStatus, Specialty, StatusUpdate};
use crate::store::{HistoryEntry, OrderRecord, WorkerRecord};
use crate::supervisor::TaskState;

/// Ctrl-Z would freeze the whole kitchen: its cooks stall, and their orders are taken over.
pub const NO_SUSPEND: &str =
    "Ctrl-Z would freeze a cooking kitchen, so the console keeps running (q leaves)";

/// The status feed keeps this many lines.
pub const FEED_LIMIT: usize = 500;
/// The recall list shows this many finished orders.
pub const RECALL_LIMIT: u32 = 50;
/// An offline worker leaves the pane this long after its last heartbeat (`x` clears at once).
pub const OFFLINE_LINGER_SECS: i64 = 300;

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

/// What opens over the panes; each owns its keys while open.
#[derive(Debug, Clone)]
pub enum Overlay {
    Help,
    Messages {
        scroll: usize,
    },
    NewOrder(Box<OrderForm>),
    NewWorker(WorkerForm),
    Detail {
        number: String,
        /// The order as last read (it may have left the queue).
        order: Option<Box<OrderRecord>>,
        history: Vec<HistoryEntry>,
        scroll: usize,
    },
    /// Cancel asks first; Tab opens the reason field.
    ConfirmCancel {
        number: String,
        reason: Option<tui_input::Input>,
    },
    Recall {
        /// `None` while the store is read.
        orders: Option<Vec<OrderRecord>>,
        selected: usize,
    },
    Search(tui_input::Input),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiState {
    Starting,
    Listening(SocketAddr),
    Unavailable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedLine {
    pub at: DateTime<Utc>,
    pub order_number: String,
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub by: String,
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

/// Everything the screen shows; the event loop alone owns it.
#[derive(Debug, Clone)]
pub struct App {
    pub now: DateTime<Utc>,
    pub zone: Zone,
    pub queue: Queue,
    pub workers: Vec<WorkerRecord>,
    pub selected_worker: Option<String>,
    /// Workers this process runs (only these can be stopped from here).
    pub local_workers: BTreeSet<String>,
    /// Workers asked to stop and not yet offline.
    pub stopping: Vec<String>,
    /// Offline workers seen before this are not shown (`x`).
    pub offline_cleared_at: Option<DateTime<Utc>>,
    /// Newest first.
    pub feed: VecDeque<FeedLine>,
    pub feed_offset: usize,
    pub focus: Pane,
    pub overlay: Option<Overlay>,
    pub health: Health,
    /// The last time the store answered; the queue is stale while the database is down.
    pub synced_at: Option<DateTime<Utc>>,
    pub broker_kind: String,
    pub database_kind: String,
    pub api: ApiState,
    pub menu: Vec<MenuItem>,
    pub targets: TicketTargets,
    /// This console's name in the status log (`changed_by`).
    pub station: String,
    pub bell: bool,
    /// Orders this console bumped, newest last (`r` recalls the last).
    pub bumped: Vec<String>,
    pub log_path: String,
    pub quitting: bool,
    /// When each recent order reached ready, and how long it took from received.
    pub ready_times: VecDeque<(DateTime<Utc>, i64)>,
    pub received_times: VecDeque<DateTime<Utc>>,
    /// The screen's size, for the smallest-size notice and paging.
    pub size: (u16, u16),
    /// What the last frame drew where (for the mouse).
    pub hits: RefCell<Vec<(Rect, Hit)>>,
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
    /// The order form's submit: placed (the notice), or why not (the form stays open).
    Placed(Result<String, String>),
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
            queue: Queue::default(),
            workers: Vec::new(),
            selected_worker: None,
            local_workers: BTreeSet::new(),
            stopping: Vec::new(),
            offline_cleared_at: None,
            feed: VecDeque::new(),
            feed_offset: 0,
            focus: Pane::Orders,
            overlay: None,
            health: Health::default(),
            synced_at: None,
            broker_kind: String::new(),
            database_kind: String::new(),
            api: ApiState::Starting,
            menu: form::default_menu(),
            targets: TicketTargets::default(),
            station: "console".into(),
            bell: false,
            bumped: Vec::new(),
            log_path,
            quitting: false,
            ready_times: VecDeque::new(),
            received_times: VecDeque::new(),
            size: (120, 40),
            hits: RefCell::new(Vec::new()),
        }
    }

    /// Orders received in the last minute.
    pub fn orders_per_minute(&self) -> usize {
        self.received_times
            .iter()
            .filter(|t| self.now.signed_duration_since(**t).num_seconds() < 60)
            .count()
    }

    /// Mean seconds from received to ready over the recent ready orders.
    pub fn average_to_ready(&self) -> Option<i64> {
        let n = self.ready_times.len() as i64;
        (n > 0).then(|| self.ready_times.iter().map(|(_, s)| s).sum::<i64>() / n)
    }

    /// Whether what the queue shows may be old (the store cannot be read).
    pub fn stale(&self) -> bool {
        self.health.database.is_down()
    }

    /// The workers the pane lists: offline ones leave after a while, or at `x`.
    pub fn shown_workers(&self) -> Vec<&WorkerRecord> {
        self.workers
            .iter()
            .filter(|w| {
                w.effective_status(self.now) != crate::domain::WorkerStatus::Offline
                    || (self.now.signed_duration_since(w.last_seen).num_seconds()
                        < OFFLINE_LINGER_SECS
                        && self.offline_cleared_at.is_none_or(|at| w.last_seen > at))
            })
            .collect()
    }

    pub fn selected_worker(&self) -> Option<&WorkerRecord> {
        let shown = self.shown_workers();
        self.selected_worker
            .as_deref()
            .and_then(|n| shown.iter().find(|w| w.name == n).copied())
            .or_else(|| shown.first().copied())
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

    pub fn suggest_worker_name(&self) -> String {
        (1..)
            .map(|i| format!("chef_{i}"))
            .find(|n| {
                !self.workers.iter().any(|w| {
                    &w.name == n
                        && w.effective_status(self.now) != crate::domain::WorkerStatus::Offline
                }) && !self.local_workers.contains(n)
            })
            .unwrap_or_default()
    }

    /// One line naming an order as the kitchen knows it: number, table or customer, items.
    pub fn describe(&self, number: &str) -> String {
        match self.queue.get(number) {
            Some(o) => {
                let who = match o.table_number {
                    Some(t) => format!("table {t}, {}", o.customer_name),
                    None => o.customer_name.clone(),
                };
                let items: Vec<String> = o
                    .items
                    .iter()
                    .map(|i| format!("{}×{}", i.quantity, i.name))
                    .collect();
                format!("{} ({who}): {}", short(number), items.join(", "))
            }
            None => short(number),
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
            app.synced_at = Some(app.now);
            let said = app.queue.reconcile(orders);
            app.moved(said);
        }
        Msg::Order(order) => {
            let said = app.queue.upsert(order);
            app.moved(said);
        }
        Msg::Workers(workers) => on_workers(app, workers),
        Msg::Update(u) => return on_update(app, u),
        Msg::Broker(reading) => app.health.broker(reading, app.now),
        Msg::Database(reading) => {
            if reading.is_ok() {
                app.synced_at = Some(app.now);
            }
            app.health.database(reading, app.now)
        }
        Msg::Api(state) => on_api(app, state),
        Msg::Info(text) => app.info(text),
        Msg::Failed(text) => app.error(text),
        Msg::Redraw => {}
        Msg::Placed(result) => on_placed(app, result),
        Msg::Bumped(number) => on_bumped(app, number),
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
            app.local_workers.insert(name.clone());
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

/// The workers' board; a worker this console was stopping leaves `stopping` once it is offline.
fn on_workers(app: &mut App, workers: Vec<WorkerRecord>) {
    use crate::domain::WorkerStatus;
    app.stopping.retain(|n| {
        workers
            .iter()
            .any(|w| &w.name == n && w.status != WorkerStatus::Offline)
    });
    app.workers = workers;
}

fn on_api(app: &mut App, state: ApiState) {
    if let ApiState::Unavailable(why) = &state {
        app.error(why.clone());
    }
    app.api = state;
}

/// A ticket bumped here joins the recall list (the latest `RECALL_LIMIT`).
fn on_bumped(app: &mut App, number: String) {
    app.bumped.retain(|n| n != &number);
    app.bumped.push(number);
    if app.bumped.len() > RECALL_LIMIT as usize {
        app.bumped.remove(0);
    }
}

/// A signal asks for the same graceful stop as `q`; a second one leaves at once.
fn on_signal(app: &mut App, name: &str) -> Vec<Command> {
    let commands = quit(app);
    app.info(format!(
        "{name}: stopping the workers gracefully… again to leave at once"
    ));
    commands
}

/// A status update: the feed, the numbers, and the queue changed in place (an order it does not
/// know is read from the store).
fn on_update(app: &mut App, u: StatusUpdate) -> Vec<Command> {
    let mut commands = Vec::new();
    match u.new_status {
        OrderStatus::Received => {
            app.received_times.push_back(u.timestamp);
            if app.bell {
                commands.push(Command::Bell);
            }
        }
        OrderStatus::Ready => {
            if let Some(o) = app.queue.get(&u.order_number) {
                let secs = u
                    .timestamp
                    .signed_duration_since(o.created_at)
                    .num_seconds();
                app.ready_times.push_back((u.timestamp, secs.max(0)));
            }
        }
        _ => {}
    }
    while app.received_times.len() > 1000 {
        app.received_times.pop_front();
    }
    while app.ready_times.len() > 50 {
        app.ready_times.pop_front();
    }
    match app.queue.apply(&u) {
        Ok(said) => app.moved(said),
        Err(number) => commands.push(Command::LoadOrder(number)),
    }
    app.feed.push_front(FeedLine {
        at: u.timestamp,
        order_number: u.order_number,
        from: u.old_status,
        to: u.new_status,
        by: u.changed_by,
    });
    app.feed.truncate(FEED_LIMIT);
    if app.feed_offset > 0 {
        app.feed_offset = (app.feed_offset + 1).min(app.feed.len().saturating_sub(1)); // keep the lines being read in place
    }
    commands
}

fn on_placed(app: &mut App, result: Result<String, String>) {
    match result {
        Ok(text) => {
            if matches!(app.overlay, Some(Overlay::NewOrder(_))) {
                app.overlay = None;
            }
            app.info(text);
        }
        Err(why) => {
            if let Some(Overlay::NewOrder(form)) = &mut app.overlay {
                form.failed(why.clone());
            }
            app.error(format!("the order was not placed: {why}"));
        }
    }
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
            app.local_workers.remove(w);
            app.info(format!("{w} is offline"))
        }
        (Some(w), TaskState::Failed { error }) => {
            app.local_workers.remove(w);
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
