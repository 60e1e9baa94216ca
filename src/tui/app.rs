//! The console's state and the one message vocabulary: terminal keys, store refreshes, broker
//! events and task results all arrive as a [`Msg`]; [`update`] applies them and returns the
//! [`Command`]s (effects) for the event loop to run. Nothing here does I/O.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_input::Input;

use super::form::{self, MenuItem, OrderForm, WorkerForm};
use crate::broker::BrokerStatus;
use crate::config::CookTimes;
use crate::domain::{OrderDraft, OrderStatus, Specialty, StatusUpdate};
use crate::store::{HistoryEntry, OrderRecord, WorkerRecord};
use crate::supervisor::TaskState;

/// Ctrl-Z would freeze the whole kitchen: its cooks stall, and their orders are taken over.
pub const NO_SUSPEND: &str =
    "Ctrl-Z would freeze a cooking kitchen, so the console keeps running (q leaves)";

/// The status feed keeps this many lines.
pub const FEED_LIMIT: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Orders,
    Workers,
    Feed,
}

#[derive(Debug, Clone)]
pub enum Overlay {
    Help,
    NewOrder(Box<OrderForm>),
    NewWorker(WorkerForm),
    Detail {
        number: String,
        history: Vec<HistoryEntry>,
    },
    Filter,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiState {
    Starting,
    Listening(SocketAddr),
    Unavailable(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Urgency,
    Age,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedLine {
    pub at: DateTime<Utc>,
    pub order_number: String,
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Info(String),
    Error(String),
}

/// Everything the screen shows; the event loop alone owns it.
#[derive(Debug, Clone)]
pub struct App {
    pub now: DateTime<Utc>,
    pub orders: Vec<OrderRecord>,
    pub workers: Vec<WorkerRecord>,
    /// Newest first.
    pub feed: VecDeque<FeedLine>,
    pub focus: Pane,
    pub selected_order: usize,
    pub selected_worker: usize,
    pub feed_offset: usize,
    pub filter: Input,
    pub sort: Sort,
    pub overlay: Option<Overlay>,
    pub notice: Option<Notice>,
    pub database_up: bool,
    pub broker: Option<BrokerStatus>,
    pub broker_kind: String,
    pub database_kind: String,
    pub api: ApiState,
    pub menu: Vec<MenuItem>,
    pub cook_times: CookTimes,
    /// Late and very late, as multiples of the type's cooking time.
    pub late_after: f32,
    pub very_late_after: f32,
    /// Workers asked to stop and not yet offline.
    pub stopping: Vec<String>,
    pub last_completed: Option<String>,
    pub log_path: String,
    pub quitting: bool,
    /// When each recent order reached ready, and how long it took from received.
    pub ready_times: VecDeque<(DateTime<Utc>, i64)>,
    pub received_times: VecDeque<DateTime<Utc>>,
}

/// What the event loop is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    PlaceOrder(OrderDraft),
    Cancel(String),
    Complete(String),
    Recall(String),
    StartWorker {
        name: String,
        specialty: Specialty,
        prefetch: u16,
    },
    StopWorker(String),
    LoadHistory(String),
    /// Stop the workers gracefully, then leave; `force` leaves at once.
    Quit {
        force: bool,
    },
}

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Tick(DateTime<Utc>),
    Orders(Vec<OrderRecord>),
    Workers(Vec<WorkerRecord>),
    Update(StatusUpdate),
    Broker(BrokerStatus),
    Database(bool),
    Api(ApiState),
    /// A command finished: what to say in the status line.
    Done(Result<String, String>),
    History(String, Vec<HistoryEntry>),
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
    pub fn new(now: DateTime<Utc>, cook_times: CookTimes, log_path: String) -> App {
        App {
            now,
            orders: Vec::new(),
            workers: Vec::new(),
            feed: VecDeque::new(),
            focus: Pane::Orders,
            selected_order: 0,
            selected_worker: 0,
            feed_offset: 0,
            filter: Input::default(),
            sort: Sort::Urgency,
            overlay: None,
            notice: None,
            database_up: true,
            broker: None,
            broker_kind: String::new(),
            database_kind: String::new(),
            api: ApiState::Starting,
            menu: form::default_menu(),
            cook_times,
            late_after: 1.0,
            very_late_after: 2.0,
            stopping: Vec::new(),
            last_completed: None,
            log_path,
            quitting: false,
            ready_times: VecDeque::new(),
            received_times: VecDeque::new(),
        }
    }

    /// The orders on the queue, filtered and sorted as chosen.
    pub fn visible_orders(&self) -> Vec<&OrderRecord> {
        let needle = self.filter.value().trim().to_lowercase();
        let mut v: Vec<&OrderRecord> = self
            .orders
            .iter()
            .filter(|o| {
                needle.is_empty()
                    || [
                        o.number.as_str(),
                        o.customer_name.as_str(),
                        o.order_type.as_str(),
                        o.status.as_str(),
                    ]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&needle))
                    || o.processed_by
                        .as_deref()
                        .is_some_and(|p| p.to_lowercase().contains(&needle))
            })
            .collect();
        match self.sort {
            // Still to cook first, the most urgent (priority, then oldest) on top.
            Sort::Urgency => v.sort_by_key(|o| {
                (
                    o.status != OrderStatus::Received && o.status != OrderStatus::Cooking,
                    std::cmp::Reverse(o.priority),
                    o.created_at,
                )
            }),
            Sort::Age => v.sort_by_key(|o| o.created_at),
        }
        v
    }

    pub fn selected_order(&self) -> Option<&OrderRecord> {
        self.visible_orders().get(self.selected_order).copied()
    }

    /// Item counts still to cook ("all day").
    pub fn all_day(&self) -> BTreeMap<String, u32> {
        let mut counts = BTreeMap::new();
        for o in self
            .orders
            .iter()
            .filter(|o| matches!(o.status, OrderStatus::Received | OrderStatus::Cooking))
        {
            for i in &o.items {
                *counts.entry(i.name.clone()).or_insert(0) += i.quantity;
            }
        }
        counts
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

    pub fn queue_depth(&self) -> usize {
        self.orders
            .iter()
            .filter(|o| o.status == OrderStatus::Received)
            .count()
    }

    fn say(&mut self, notice: Notice) {
        self.notice = Some(notice);
    }

    /// Background news (a worker started, the broker is back) never hides an error the
    /// operator has not seen to yet.
    fn mention(&mut self, text: String) {
        if !matches!(self.notice, Some(Notice::Error(_))) {
            self.notice = Some(Notice::Info(text));
        }
    }

    fn clamp(&mut self) {
        let n = self.visible_orders().len();
        self.selected_order = self.selected_order.min(n.saturating_sub(1));
        self.selected_worker = self
            .selected_worker
            .min(self.workers.len().saturating_sub(1));
        self.feed_offset = self.feed_offset.min(self.feed.len().saturating_sub(1));
    }

    fn suggest_worker_name(&self) -> String {
        (1..)
            .map(|i| format!("chef_{i}"))
            .find(|n| {
                !self
                    .workers
                    .iter()
                    .any(|w| &w.name == n && w.effective_status(self.now) != "offline")
            })
            .unwrap_or_default()
    }
}

/// Applies one message; returns what the event loop should do.
pub fn update(app: &mut App, msg: Msg) -> Vec<Command> {
    match msg {
        Msg::Key(key) => return on_key(app, key),
        Msg::Tick(now) => app.now = now,
        Msg::Orders(orders) => {
            app.orders = orders;
            app.clamp();
        }
        Msg::Workers(workers) => {
            app.stopping.retain(|n| {
                workers
                    .iter()
                    .any(|w| &w.name == n && w.status != "offline")
            });
            app.workers = workers;
            app.clamp();
        }
        Msg::Update(u) => {
            match u.new_status {
                OrderStatus::Received => app.received_times.push_back(u.timestamp),
                OrderStatus::Ready => {
                    if let Some(o) = app.orders.iter().find(|o| o.number == u.order_number) {
                        let secs = u
                            .timestamp
                            .signed_duration_since(o.created_at)
                            .num_seconds();
                        app.ready_times.push_back((u.timestamp, secs.max(0)));
                    }
                }
                OrderStatus::Completed => app.last_completed = Some(u.order_number.clone()),
                _ => {}
            }
            while app.received_times.len() > 1000 {
                app.received_times.pop_front();
            }
            while app.ready_times.len() > 50 {
                app.ready_times.pop_front();
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
                app.feed_offset += 1; // keep the lines being read in place
            }
            app.clamp();
        }
        Msg::Broker(status) => {
            if app.broker == Some(BrokerStatus::Reconnecting) && status == BrokerStatus::Connected {
                app.say(Notice::Info(
                    "the broker is back; waiting orders go out now".into(),
                ));
            }
            app.broker = Some(status);
        }
        Msg::Database(up) => app.database_up = up,
        Msg::Api(state) => {
            if let ApiState::Unavailable(why) = &state {
                app.say(Notice::Error(why.clone()));
            }
            app.api = state;
        }
        Msg::Done(Ok(text)) => app.say(Notice::Info(text)),
        Msg::Done(Err(text)) => app.say(Notice::Error(text)),
        Msg::History(number, history) => app.overlay = Some(Overlay::Detail { number, history }),
        Msg::WorkerStarted(name) => {
            app.mention(format!("worker {name} started"));
        }
        Msg::Signal(name) => {
            let commands = quit(app);
            app.say(Notice::Info(format!(
                "{name}: stopping the workers gracefully… again to leave at once"
            )));
            return commands;
        }
        Msg::Suspend => app.say(Notice::Info(NO_SUSPEND.into())),
        Msg::Task(name, state) => on_task(app, &name, state),
        Msg::Stopped(Ok(())) => app.say(Notice::Info("stopped".into())),
        Msg::Stopped(Err(why)) => app.say(Notice::Error(why)),
    }
    Vec::new()
}

/// `q`, Ctrl-C or a signal: the first asks for a graceful stop, the next leaves at once.
fn quit(app: &mut App) -> Vec<Command> {
    let force = app.quitting;
    app.quitting = true;
    app.say(Notice::Info(
        "stopping the workers gracefully… q again to leave at once".into(),
    ));
    vec![Command::Quit { force }]
}

/// Says what became of a task: a worker going offline, anything failing or restarting.
fn on_task(app: &mut App, name: &str, state: TaskState) {
    let worker = name.strip_prefix("worker ");
    match (worker, state) {
        (Some(w), TaskState::Stopped) => app.say(Notice::Info(format!("{w} is offline"))),
        (Some(w), TaskState::Failed { error }) => app.say(Notice::Error(format!("{w}: {error}"))),
        (None, TaskState::Stopped | TaskState::Running) | (Some(_), TaskState::Running) => {}
        (_, TaskState::Restarting { error }) => app.say(Notice::Error(format!(
            "{name} stopped unexpectedly ({error}); restarting it"
        ))),
        (None, TaskState::Failed { error }) => {
            app.say(Notice::Error(format!("{name} failed: {error}")))
        }
    }
}

fn on_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        match key.code {
            // Ctrl-C is `q`, wherever the focus is; pressed again it forces.
            KeyCode::Char('c') => return quit(app),
            KeyCode::Char('z') => {
                app.say(Notice::Info(NO_SUSPEND.into()));
                return Vec::new();
            }
            _ => {}
        }
    }
    if let Some(overlay) = app.overlay.take() {
        return on_overlay_key(app, overlay, key);
    }
    match key.code {
        KeyCode::Char('q') => return quit(app),
        KeyCode::Char('?') => app.overlay = Some(Overlay::Help),
        KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => {
            app.focus = match app.focus {
                Pane::Orders => Pane::Workers,
                Pane::Workers => Pane::Feed,
                Pane::Feed => Pane::Orders,
            }
        }
        KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => {
            app.focus = match app.focus {
                Pane::Orders => Pane::Feed,
                Pane::Workers => Pane::Orders,
                Pane::Feed => Pane::Workers,
            }
        }
        KeyCode::Down | KeyCode::Char('j') => move_selection(app, 1),
        KeyCode::Up | KeyCode::Char('k') => move_selection(app, -1),
        KeyCode::Char('n') => {
            app.overlay = Some(Overlay::NewOrder(Box::new(OrderForm::new(
                app.menu.clone(),
            ))))
        }
        KeyCode::Char('w') => {
            app.overlay = Some(Overlay::NewWorker(WorkerForm::new(
                app.suggest_worker_name(),
            )))
        }
        KeyCode::Char('s') => match app
            .workers
            .get(app.selected_worker)
            .filter(|_| app.focus == Pane::Workers)
        {
            Some(w) => {
                let name = w.name.clone();
                app.stopping.push(name.clone());
                return vec![Command::StopWorker(name)];
            }
            None => app.say(Notice::Error(
                "select a worker first (Tab to the workers pane)".into(),
            )),
        },
        KeyCode::Char('c') | KeyCode::Char('b') | KeyCode::Enter => {
            match app.selected_order().map(|o| o.number.clone()) {
                Some(n) => {
                    return vec![match key.code {
                        KeyCode::Char('c') => Command::Cancel(n),
                        KeyCode::Char('b') => Command::Complete(n),
                        _ => Command::LoadHistory(n),
                    }];
                }
                None => app.say(Notice::Error("no order selected".into())),
            }
        }
        KeyCode::Char('r') => match app.last_completed.clone() {
            Some(n) => return vec![Command::Recall(n)],
            None => app.say(Notice::Error("nothing completed to recall yet".into())),
        },
        KeyCode::Char('/') => app.overlay = Some(Overlay::Filter),
        KeyCode::Esc => {
            app.filter = Input::default();
            app.notice = None;
            app.clamp();
        }
        KeyCode::Char('o') => {
            app.sort = match app.sort {
                Sort::Urgency => Sort::Age,
                Sort::Age => Sort::Urgency,
            };
        }
        _ => {}
    }
    Vec::new()
}

fn move_selection(app: &mut App, delta: isize) {
    let step = |v: usize, len: usize| {
        (v as isize + delta).clamp(0, len.saturating_sub(1) as isize) as usize
    };
    match app.focus {
        Pane::Orders => app.selected_order = step(app.selected_order, app.visible_orders().len()),
        Pane::Workers => app.selected_worker = step(app.selected_worker, app.workers.len()),
        Pane::Feed => app.feed_offset = step(app.feed_offset, app.feed.len()),
    }
}

fn on_overlay_key(app: &mut App, overlay: Overlay, key: KeyEvent) -> Vec<Command> {
    if key.code == KeyCode::Esc {
        return Vec::new(); // closed
    }
    match overlay {
        Overlay::Help | Overlay::Detail { .. } => {
            if !matches!(
                key.code,
                KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Enter
            ) {
                app.overlay = Some(overlay);
            }
        }
        Overlay::Filter => {
            if key.code != KeyCode::Enter {
                form::edit(&mut app.filter, key);
                app.overlay = Some(Overlay::Filter);
            }
            app.selected_order = 0;
            app.clamp();
        }
        Overlay::NewOrder(mut f) => match f.key(key) {
            Some(draft) => return vec![Command::PlaceOrder(draft)],
            None => {
                if key.code == KeyCode::Enter {
                    let first = f
                        .errors
                        .first()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .unwrap_or_default();
                    app.say(Notice::Error(first));
                }
                app.overlay = Some(Overlay::NewOrder(f));
            }
        },
        Overlay::NewWorker(mut f) => match f.key(key) {
            Some((name, specialty, prefetch)) => {
                return vec![Command::StartWorker {
                    name,
                    specialty,
                    prefetch,
                }];
            }
            None => app.overlay = Some(Overlay::NewWorker(f)),
        },
    }
    Vec::new()
}

#[cfg(test)]
#[path = "app_tests.rs"]
pub(crate) mod app_tests;
