//! What opens over the panes: each overlay holds what it shows and owns the keys while open
//! ([`Overlay::on_key`]); the panes' keys are in [`super::keys`].

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use tui_input::Input;

use super::app::{App, Command};
use super::form::{OrderForm, WorkerForm};
use super::input::edit;
use super::queue::short;
use crate::domain::OrderStatus;
use crate::store::{HistoryEntry, OrderRecord};

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
        reason: Option<Input>,
    },
    Recall {
        /// `None` while the store is read.
        orders: Option<Vec<OrderRecord>>,
        selected: usize,
    },
    Search(Input),
}

impl Overlay {
    /// A key while this overlay is open; it closes unless it puts itself back.
    pub fn on_key(self, app: &mut App, key: KeyEvent) -> Vec<Command> {
        let code = key.code;
        match self {
            Overlay::Help => {
                if !matches!(
                    code,
                    KeyCode::Esc | KeyCode::Char('q' | '?') | KeyCode::Enter
                ) {
                    app.overlay = Some(Overlay::Help);
                }
            }
            Overlay::Messages { scroll } => {
                if !matches!(
                    code,
                    KeyCode::Esc | KeyCode::Char('q' | 'm') | KeyCode::Enter
                ) {
                    let scroll = scrolled(scroll, key, app.health.log.len());
                    app.overlay = Some(Overlay::Messages { scroll });
                }
            }
            Overlay::Search(input) => search_key(app, input, key),
            Overlay::ConfirmCancel { number, reason } => {
                return confirm_key(app, number, reason, key);
            }
            Overlay::Detail {
                number,
                order,
                history,
                scroll,
            } => return detail_key(app, number, order, history, scroll, key),
            Overlay::Recall { orders, selected } => return recall_key(app, orders, selected, key),
            Overlay::NewOrder(form) if code != KeyCode::Esc => {
                return order_form_key(app, form, key);
            }
            Overlay::NewWorker(form) if code != KeyCode::Esc => {
                return worker_form_key(app, form, key);
            }
            Overlay::NewOrder(_) | Overlay::NewWorker(_) => {}
        }
        Vec::new()
    }
}

/// The search as typed filters the queue at once; Enter keeps it, Esc clears it.
fn search_key(app: &mut App, mut input: Input, key: KeyEvent) {
    match key.code {
        KeyCode::Enter => {}
        KeyCode::Esc => {
            let said = app.orders.queue.set_search("");
            app.moved(said);
        }
        KeyCode::Up | KeyCode::Down => {
            let delta = if key.code == KeyCode::Up { -1 } else { 1 };
            app.orders.queue.step(delta);
            app.overlay = Some(Overlay::Search(input));
        }
        _ => {
            edit(&mut input, key);
            app.orders.queue.set_search(input.value());
            app.overlay = Some(Overlay::Search(input));
        }
    }
}

/// The order form stays open after a submit until the order is placed (`Msg::Placed`).
fn order_form_key(app: &mut App, mut form: Box<OrderForm>, key: KeyEvent) -> Vec<Command> {
    let placed = form.key(key);
    app.overlay = Some(Overlay::NewOrder(form));
    placed.map_or_else(Vec::new, |draft| vec![Command::PlaceOrder(draft)])
}

fn worker_form_key(app: &mut App, mut form: WorkerForm, key: KeyEvent) -> Vec<Command> {
    match form.key(key) {
        Some((name, specialty, prefetch)) => vec![Command::StartWorker {
            name,
            specialty,
            prefetch,
        }],
        None => {
            app.overlay = Some(Overlay::NewWorker(form));
            Vec::new()
        }
    }
}

/// `y` or Enter cancels; Tab writes a reason first; anything else keeps the order.
fn confirm_key(
    app: &mut App,
    number: String,
    reason: Option<Input>,
    key: KeyEvent,
) -> Vec<Command> {
    match (reason, key.code) {
        (None, KeyCode::Char('y' | 'Y') | KeyCode::Enter) => {
            vec![Command::Cancel {
                number,
                reason: None,
            }]
        }
        (None, KeyCode::Tab) => {
            app.overlay = Some(Overlay::ConfirmCancel {
                number,
                reason: Some(Input::default()),
            });
            Vec::new()
        }
        (Some(input), KeyCode::Enter) => {
            let text = input.value().trim();
            vec![Command::Cancel {
                number,
                reason: (!text.is_empty())
                    .then(|| text.chars().take(crate::domain::MAX_NOTE_CHARS).collect()),
            }]
        }
        (Some(mut input), code) if code != KeyCode::Esc => {
            edit(&mut input, key);
            app.overlay = Some(Overlay::ConfirmCancel {
                number,
                reason: Some(input),
            });
            Vec::new()
        }
        _ => {
            app.info(format!("{} kept: not cancelled", short(&number)));
            Vec::new()
        }
    }
}

fn scrolled(scroll: usize, key: KeyEvent, len: usize) -> usize {
    let last = len.saturating_sub(1);
    match key.code {
        KeyCode::Down | KeyCode::Char('j') => (scroll + 1).min(last),
        KeyCode::Up | KeyCode::Char('k') => scroll.saturating_sub(1),
        KeyCode::PageDown | KeyCode::Char(' ') => (scroll + 10).min(last),
        KeyCode::PageUp => scroll.saturating_sub(10),
        KeyCode::Home | KeyCode::Char('g') => 0,
        KeyCode::End | KeyCode::Char('G') => last,
        _ => scroll,
    }
}

fn detail_key(
    app: &mut App,
    number: String,
    order: Option<Box<OrderRecord>>,
    history: Vec<HistoryEntry>,
    scroll: usize,
    key: KeyEvent,
) -> Vec<Command> {
    let rush = app.orders.queue.get(&number).map(|o| o.rush);
    match key.code {
        KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => Vec::new(),
        KeyCode::Char('b') => vec![Command::Complete(number)],
        KeyCode::Char('r') => vec![Command::Recall(number)],
        KeyCode::Char('c') => {
            app.overlay = Some(Overlay::ConfirmCancel {
                number,
                reason: None,
            });
            Vec::new()
        }
        KeyCode::Char('!') if rush.is_some() => {
            let on = !rush.unwrap_or(false);
            app.overlay = Some(Overlay::Detail {
                number: number.clone(),
                order,
                history,
                scroll,
            });
            vec![Command::Rush(number, on)]
        }
        _ => {
            let lines = order.as_ref().map_or(0, |o| o.items.len()) + history.len() + 4;
            let scroll = scrolled(scroll, key, lines);
            app.overlay = Some(Overlay::Detail {
                number,
                order,
                history,
                scroll,
            });
            Vec::new()
        }
    }
}

fn recall_key(
    app: &mut App,
    orders: Option<Vec<OrderRecord>>,
    selected: usize,
    key: KeyEvent,
) -> Vec<Command> {
    if matches!(key.code, KeyCode::Esc | KeyCode::Char('q')) {
        return Vec::new();
    }
    let len = orders.as_ref().map_or(0, Vec::len);
    if matches!(key.code, KeyCode::Enter | KeyCode::Char('r'))
        && let Some(o) = orders.as_ref().and_then(|v| v.get(selected))
    {
        if o.status == OrderStatus::Completed {
            return vec![Command::Recall(o.number.clone())];
        }
        app.info(format!(
            "{} was {}: only a completed order comes back to the pass",
            short(&o.number),
            o.status
        ));
    }
    let selected = scrolled(selected, key, len);
    app.overlay = Some(Overlay::Recall { orders, selected });
    Vec::new()
}
