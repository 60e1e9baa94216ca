//! Keys and the mouse. An order key acts only on the ticket the orders pane shows selected, a
//! worker key only on the worker the workers pane shows selected; in another pane such a key
//! does nothing but say where to go. Cancel asks first. Every overlay owns its keys while open.

use ratatui::crossterm::event::{KeyCode, KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;
use tui_input::Input;

use super::app::{App, Command, Hit, NO_SUSPEND, Pane, quit};
use super::form::{OrderForm, WorkerForm};
use super::keymap::{self, Action};
use super::overlay::Overlay;
use super::queue::Station;
use crate::domain::OrderType;

/// A key: one that reaches through overlays, else the open overlay's, else the key map's.
pub fn on_key(app: &mut App, key: KeyEvent) -> Vec<Command> {
    let binding = keymap::binding(key);
    if let Some(b) = binding.filter(|b| b.anywhere) {
        return perform(app, b.action, key);
    }
    if let Some(overlay) = app.overlay.take() {
        return overlay.on_key(app, key);
    }
    binding.map_or_else(Vec::new, |b| perform(app, b.action, key))
}

/// What a key of the map does on the panes.
fn perform(app: &mut App, action: Action, key: KeyEvent) -> Vec<Command> {
    match action {
        Action::Quit => return quit(app),
        Action::NoSuspend => app.info(NO_SUSPEND),
        Action::Help => app.overlay = Some(Overlay::Help),
        Action::Messages => app.overlay = Some(Overlay::Messages { scroll: 0 }),
        Action::NextPane => app.focus = cycle(app.focus, 1),
        Action::PreviousPane => app.focus = cycle(app.focus, -1),
        Action::Move => move_in_pane(app, step(app, key)),
        Action::Station => station(app, key),
        Action::Search => {
            app.focus = Pane::Orders;
            let query = app.orders.queue.search().to_string();
            app.overlay = Some(Overlay::Search(Input::new(query)));
        }
        Action::Escape if !app.orders.queue.search().is_empty() => {
            let said = app.orders.queue.set_search("");
            app.moved(said);
            app.info("search cleared");
        }
        Action::Escape => app.health.dismiss(),
        Action::NewOrder => new_order(app, key),
        Action::NewWorker => {
            let suggested = app.workers.suggest_name(app.now);
            app.overlay = Some(Overlay::NewWorker(WorkerForm::new(suggested)))
        }
        Action::RecallList => return open_recall(app),
        Action::RecallLast => return recall_last(app),
        Action::Sort => {
            let said = app.orders.queue.toggle_sort();
            app.moved(said);
        }
        Action::Bump | Action::Cancel | Action::Rush | Action::Detail => {
            return order_key(app, action);
        }
        Action::StopWorker => return stop_key(app),
        Action::ClearOffline if app.focus == Pane::Workers => {
            app.workers.clear_offline(app.now);
            app.info("offline workers cleared from the pane");
        }
        Action::ClearOffline => app.info("x clears offline workers: Tab to the workers pane first"),
    }
    Vec::new()
}

/// `1`-`5`: the station the orders pane shows.
fn station(app: &mut App, key: KeyEvent) {
    let KeyCode::Char(c @ '1'..='5') = key.code else {
        return;
    };
    let station = Station::ALL[usize::from(c as u8 - b'1')];
    app.focus = Pane::Orders;
    let said = app.orders.queue.set_station(station);
    app.moved(said);
    app.info(format!("station: {}", station.label()));
}

/// `r`: the last ticket bumped here comes back; with none, the recent-orders list opens.
fn recall_last(app: &mut App) -> Vec<Command> {
    match app.orders.bumped.pop() {
        Some(n) => vec![Command::Recall(n)],
        None => {
            app.info("nothing bumped from this console yet; here are the recent orders");
            open_recall(app)
        }
    }
}

/// `n` any type; `d`, `t`, `v` the type of that letter.
fn new_order(app: &mut App, key: KeyEvent) {
    let kind = OrderType::ALL
        .into_iter()
        .find(|t| KeyCode::Char(super::form::type_letter(*t)) == key.code);
    app.overlay = Some(Overlay::NewOrder(Box::new(OrderForm::new(
        app.setup.menu.clone(),
        kind,
    ))));
}

fn open_recall(app: &mut App) -> Vec<Command> {
    app.overlay = Some(Overlay::Recall {
        orders: None,
        selected: 0,
    });
    vec![Command::LoadFinished]
}

fn cycle(p: Pane, step: i8) -> Pane {
    let all = [Pane::Orders, Pane::Workers, Pane::Feed];
    let i = all.iter().position(|x| *x == p).unwrap_or(0) as i8;
    all[(i + step).rem_euclid(3) as usize]
}

/// A step for the focused pane's selection: lines, pages, half pages, the ends.
#[derive(Debug, Clone, Copy)]
enum Step {
    By(isize),
    First,
    Last,
}

/// The step a movement key of the map asks for (Ctrl-D and Ctrl-U are half pages).
fn step(app: &App, key: KeyEvent) -> Step {
    let page = app.orders.queue.page.get().max(1) as isize;
    match key.code {
        KeyCode::Down | KeyCode::Char('j') => Step::By(1),
        KeyCode::Up | KeyCode::Char('k') => Step::By(-1),
        KeyCode::PageDown => Step::By(page),
        KeyCode::PageUp => Step::By(-page),
        KeyCode::Char('d') => Step::By((page / 2).max(1)),
        KeyCode::Char('u') => Step::By(-(page / 2).max(1)),
        KeyCode::Home | KeyCode::Char('g') => Step::First,
        _ => Step::Last,
    }
}

fn move_in_pane(app: &mut App, step: Step) {
    let apply = |from: usize, len: usize| -> usize {
        let last = len.saturating_sub(1);
        match step {
            Step::By(d) => (from as isize + d).clamp(0, last as isize) as usize,
            Step::First => 0,
            Step::Last => last,
        }
    };
    match app.focus {
        Pane::Orders => {
            let from = app.orders.queue.selected_index().unwrap_or(0);
            app.orders
                .queue
                .select_index(apply(from, app.orders.queue.len()));
        }
        Pane::Workers => {
            let names: Vec<String> = app
                .workers
                .shown(app.now)
                .iter()
                .map(|w| w.name.clone())
                .collect();
            let from = app
                .workers
                .selected(app.now)
                .and_then(|w| names.iter().position(|n| *n == w.name))
                .unwrap_or(0);
            app.workers.selected = names.get(apply(from, names.len())).cloned();
        }
        Pane::Feed => app.feed.offset = apply(app.feed.offset, app.feed.len()),
    }
}

/// `b` bump, `c` cancel (asks), `!` rush, Enter detail: on the selected ticket, in the orders
/// pane only.
fn order_key(app: &mut App, action: Action) -> Vec<Command> {
    let name = match action {
        Action::Bump => "b bumps",
        Action::Cancel => "c cancels",
        Action::Rush => "! marks a rush on",
        _ => "Enter opens",
    };
    if app.focus != Pane::Orders {
        app.info(format!(
            "{name} the selected ticket: Tab to the orders pane first (the {} pane has focus)",
            app.focus.title()
        ));
        return Vec::new();
    }
    let Some(o) = app.orders.queue.selected() else {
        app.info("no ticket selected");
        return Vec::new();
    };
    let number = o.number.clone();
    match action {
        Action::Bump => vec![Command::Complete(number)],
        Action::Cancel => {
            app.overlay = Some(Overlay::ConfirmCancel {
                number,
                reason: None,
            });
            Vec::new()
        }
        Action::Rush => vec![Command::Rush(number, !o.rush)],
        _ => vec![Command::LoadHistory(number)],
    }
}

fn stop_key(app: &mut App) -> Vec<Command> {
    if app.focus != Pane::Workers {
        app.info("s stops the selected worker: Tab to the workers pane first");
        return Vec::new();
    }
    let Some(w) = app.workers.selected(app.now) else {
        app.info("no worker selected");
        return Vec::new();
    };
    let name = w.name.clone();
    if !app.workers.local.contains(&name) {
        app.error(format!(
            "{name} runs in another process: stop it there (this console stops only its own)"
        ));
        return Vec::new();
    }
    app.workers.stop(&name);
    vec![Command::StopWorker(name)]
}

/// A click selects what it lands on and focuses its pane; the wheel scrolls what is under it.
pub fn on_mouse(app: &mut App, m: MouseEvent) {
    let at = Position::new(m.column, m.row);
    let hit = app
        .hits
        .borrow()
        .iter()
        .rev()
        .find(|(r, _)| r.contains(at))
        .map(|(_, h)| h.clone());
    let wheel = match m.kind {
        MouseEventKind::ScrollDown => Some(3),
        MouseEventKind::ScrollUp => Some(-3),
        _ => None,
    };
    if let Some(delta) = wheel {
        match &mut app.overlay {
            Some(Overlay::Recall { selected, orders }) => {
                let len = orders.as_ref().map_or(0, Vec::len);
                *selected =
                    (*selected as isize + delta).clamp(0, len.saturating_sub(1) as isize) as usize;
            }
            Some(Overlay::Detail { scroll, .. } | Overlay::Messages { scroll }) => {
                *scroll = (*scroll as isize + delta).max(0) as usize;
            }
            Some(_) => {}
            None => {
                let pane = match hit {
                    Some(Hit::Order(_)) => Pane::Orders,
                    Some(Hit::Worker(_)) => Pane::Workers,
                    Some(Hit::Pane(p)) => p,
                    _ => app.focus,
                };
                let focus = std::mem::replace(&mut app.focus, pane);
                move_in_pane(app, Step::By(delta));
                app.focus = focus;
            }
        }
        return;
    }
    if m.kind != MouseEventKind::Down(MouseButton::Left) {
        return;
    }
    match (hit, &mut app.overlay) {
        (Some(Hit::RecallRow(i)), Some(Overlay::Recall { selected, .. })) => *selected = i,
        (_, Some(_)) => {}
        (Some(Hit::Order(n)), None) => {
            app.focus = Pane::Orders;
            app.orders.queue.select_number(&n);
        }
        (Some(Hit::Worker(n)), None) => {
            app.focus = Pane::Workers;
            app.workers.selected = Some(n);
        }
        (Some(Hit::Pane(p)), None) => app.focus = p,
        _ => {}
    }
}
