//! The workers: status, heartbeat age against the interval, orders done, the order in hand.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use super::Theme;
use crate::domain::{OrderStatus, WorkerStatus};
use crate::store::WorkerRecord;
use crate::tui::app::{App, Hit, Pane};
use crate::tui::queue::short;

/// The columns after the name, with their widths; narrow terminals drop the types and the
/// order in hand. Fixed by hand so the layout is the same on every draw.
fn columns(wide: bool) -> &'static [(&'static str, u16)] {
    if wide {
        &[
            ("cooks", 8),
            ("status", 10),
            ("beat", 7),
            ("done", 4),
            ("in hand", 7),
        ]
    } else {
        &[("status", 10), ("beat", 4), ("done", 4)]
    }
}

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let wide = area.width >= 56;
    let columns = columns(wide);
    let fixed: u16 = columns.iter().map(|(_, w)| w + 1).sum();
    let name_width = area
        .width
        .saturating_sub(2)
        .saturating_sub(fixed + 1)
        .max(4);
    let header = Row::new(std::iter::once("name").chain(columns.iter().map(|(h, _)| *h)))
        .style(Style::new().fg(Theme::MUTED));
    let widths: Vec<Constraint> = std::iter::once(name_width)
        .chain(columns.iter().map(|(_, w)| *w))
        .map(Constraint::Length)
        .collect();
    let shown = app.workers.shown(app.now);
    let selected = app.workers.selected(app.now).map(|w| w.name.clone());
    let mut hits = app.hits.borrow_mut();
    let mut rows = Vec::with_capacity(shown.len());
    for (i, w) in shown.iter().enumerate() {
        let row = area.y + 2 + i as u16;
        if row < area.bottom().saturating_sub(1) {
            hits.push((
                Rect::new(area.x, row, area.width, 1),
                Hit::Worker(w.name.clone()),
            ));
        }
        let chosen = selected.as_deref() == Some(w.name.as_str()) && app.focus == Pane::Workers;
        let style = if chosen {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        rows.push(worker_row(app, w, wide).style(style));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(Theme::border(app.focus == Pane::Workers))
        .title(format!(" Workers {} ", shown.len()))
        .title_bottom(Line::from(" ↗ runs in another process ").fg(Theme::MUTED));
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .block(block);
    frame.render_widget(table, area);
}

/// One worker: its name (↗ when it runs in another process), types, status, heartbeat age
/// against its interval (amber past one, grey once offline), orders done, the order in hand.
fn worker_row<'a>(app: &App, w: &'a WorkerRecord, wide: bool) -> Row<'a> {
    let effective = w.effective_status(app.now);
    let status = if app.workers.stopping.contains(&w.name) {
        "stopping"
    } else {
        effective.as_str()
    };
    let age = app
        .now
        .signed_duration_since(w.last_seen)
        .num_seconds()
        .max(0);
    let interval = w.heartbeat_interval.as_secs().max(1) as i64;
    let beat = if effective == WorkerStatus::Offline {
        Style::new().fg(Theme::MUTED)
    } else if age > interval {
        Style::new().fg(Theme::LATE)
    } else {
        Style::new().fg(Theme::OK)
    };
    let away = if app.workers.local.contains(&w.name) {
        ""
    } else {
        "↗"
    };
    let mut cells = vec![Cell::from(format!("{}{away}", w.name))];
    if wide {
        cells.push(Cell::from(w.order_types.to_string()).style(Style::new().fg(Theme::MUTED)));
    }
    cells.push(Cell::from(status));
    let beat_text = if wide {
        format!("{age}s/{interval}s")
    } else {
        format!("{age}s")
    };
    cells.push(Cell::from(beat_text).style(beat));
    cells.push(Cell::from(w.orders_processed.to_string()));
    if wide {
        let in_hand = app
            .orders
            .queue
            .all()
            .find(|o| {
                o.status == OrderStatus::Cooking && o.processed_by.as_deref() == Some(&w.name)
            })
            .map(|o| short(&o.number))
            .unwrap_or_default();
        cells.push(Cell::from(in_hand));
    }
    Row::new(cells)
}
