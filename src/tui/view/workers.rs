//! The workers: status, heartbeat age against the interval, orders done, the order in hand.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem};

use super::Theme;
use crate::domain::OrderStatus;
use crate::tui::app::{App, Hit, Pane};
use crate::tui::queue::short;

/// `text` cut or padded to exactly `width` characters.
fn cell(text: &str, width: usize) -> String {
    let cut: String = text.chars().take(width).collect();
    format!("{cut:<width$} ")
}

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App) {
    // Narrow terminals drop the types and the order in hand; the widths are fixed by hand so
    // the layout is the same on every draw.
    let wide = area.width >= 56;
    let fixed: usize = if wide {
        8 + 10 + 7 + 4 + 7 + 5
    } else {
        10 + 4 + 4 + 3
    };
    let name_width = usize::from(area.width.saturating_sub(2))
        .saturating_sub(fixed + 1)
        .max(4);
    let header = if wide {
        [
            cell("name", name_width),
            cell("cooks", 8),
            cell("status", 10),
            cell("beat", 7),
            cell("done", 4),
            cell("in hand", 7),
        ]
        .concat()
    } else {
        [
            cell("name", name_width),
            cell("status", 10),
            cell("beat", 4),
            cell("done", 4),
        ]
        .concat()
    };
    let mut items = vec![ListItem::new(Line::from(header).fg(Theme::MUTED))];
    let shown = app.shown_workers();
    let selected = app.selected_worker().map(|w| w.name.clone());
    let mut hits = app.hits.borrow_mut();
    for (i, w) in shown.iter().enumerate() {
        let row = area.y + 2 + i as u16;
        if row < area.bottom().saturating_sub(1) {
            hits.push((
                Rect::new(area.x, row, area.width, 1),
                Hit::Worker(w.name.clone()),
            ));
        }
        let effective = w.effective_status(app.now);
        let status = if app.stopping.contains(&w.name) {
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
        // Stale (amber) past one interval, before it turns offline at two.
        let beat = if effective == crate::domain::WorkerStatus::Offline {
            Style::new().fg(Theme::MUTED)
        } else if age > interval {
            Style::new().fg(Theme::LATE)
        } else {
            Style::new().fg(Theme::OK)
        };
        let in_hand = app
            .queue
            .all()
            .find(|o| {
                o.status == OrderStatus::Cooking && o.processed_by.as_deref() == Some(&w.name)
            })
            .map(|o| short(&o.number))
            .unwrap_or_default();
        let mut spans = vec![Span::raw(cell(
            &format!(
                "{}{}",
                w.name,
                if app.local_workers.contains(&w.name) {
                    ""
                } else {
                    "↗"
                }
            ),
            name_width,
        ))];
        if wide {
            spans.push(cell(&w.order_types.to_string(), 8).fg(Theme::MUTED));
        }
        spans.push(Span::raw(cell(status, 10)));
        let beat_text = if wide {
            format!("{age}s/{interval}s")
        } else {
            format!("{age}s")
        };
        spans.push(Span::styled(
            cell(&beat_text, if wide { 7 } else { 4 }),
            beat,
        ));
        spans.push(Span::raw(cell(&w.orders_processed.to_string(), 4)));
        if wide {
            spans.push(Span::raw(cell(&in_hand, 7)));
        }
        let style = if selected.as_deref() == Some(w.name.as_str()) && app.focus == Pane::Workers {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        items.push(ListItem::new(Line::from(spans)).style(style));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(Theme::border(app.focus == Pane::Workers))
        .title(format!(" Workers {} ", shown.len()))
        .title_bottom(Line::from(" ↗ runs in another process ").fg(Theme::MUTED));
    frame.render_widget(List::new(items).block(block), area);
}
