//! The order queue: kitchen tickets with age timers, the "all day" counts.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use super::{Theme, mmss};
use crate::domain::{OrderStatus, OrderType};
use crate::store::OrderRecord;
use crate::tui::app::{App, Overlay, Pane, Sort};

/// On time, late, very late against the type's cooking time (late past it, very late past twice).
fn age_style(app: &App, o: &OrderRecord) -> Style {
    if !matches!(o.status, OrderStatus::Received | OrderStatus::Cooking) {
        return Style::new().fg(Theme::MUTED);
    }
    let age = app
        .now
        .signed_duration_since(o.created_at)
        .num_milliseconds()
        .max(0) as u128;
    let cook = app.cook_times.for_type(o.order_type).as_millis().max(1000);
    if age > cook * 2 {
        Style::new()
            .fg(Theme::VERY_LATE)
            .add_modifier(Modifier::BOLD)
    } else if age > cook {
        Style::new().fg(Theme::LATE)
    } else {
        Style::new().fg(Theme::OK)
    }
}

pub(super) fn place(o: &OrderRecord) -> String {
    match o.order_type {
        OrderType::DineIn => format!("T{}", o.table_number.unwrap_or_default()),
        OrderType::Takeout => "to go".into(),
        OrderType::Delivery => o
            .delivery_address
            .as_deref()
            .unwrap_or("")
            .chars()
            .take(12)
            .collect(),
    }
}

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let orders = app.visible_orders();
    let all_day: Vec<String> = app
        .all_day()
        .iter()
        .map(|(n, q)| format!("{q}×{n}"))
        .collect();
    let sort = match app.sort {
        Sort::Urgency => "urgency",
        Sort::Age => "age",
    };
    let filter = if app.filter.value().is_empty() && !matches!(app.overlay, Some(Overlay::Filter)) {
        String::new()
    } else {
        format!(" /{}", app.filter.value())
    };
    let title = format!(" Orders {} · by {sort}{filter} ", orders.len());
    let rows: Vec<Row> = orders
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let marker = if i == app.selected_order && app.focus == Pane::Orders {
                "▶"
            } else {
                " "
            };
            let pri = match o.priority {
                10 => "!!",
                5 => "! ",
                _ => "  ",
            };
            let items: Vec<String> = o
                .items
                .iter()
                .map(|it| format!("{}×{}", it.quantity, it.name))
                .collect();
            let age = mmss(app.now.signed_duration_since(o.created_at).num_seconds());
            let top = Line::from(vec![
                format!("{marker}{pri}").fg(Theme::VERY_LATE),
                o.number.clone().bold(),
                format!(" {}", o.order_type.as_str()).into(),
            ]);
            let bottom = Line::from(vec![
                format!("   {} ", place(o)).fg(Theme::MUTED),
                items.join(", ").into(),
            ]);
            let style = if i == app.selected_order && app.focus == Pane::Orders {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            Row::new(vec![
                Cell::from(vec![top, bottom]),
                Cell::from(vec![
                    Line::styled(o.status.as_str(), Theme::status(o.status)),
                    Line::from(o.processed_by.clone().unwrap_or_default()).fg(Theme::MUTED),
                ]),
                Cell::from(Line::styled(age, age_style(app, o))),
            ])
            .height(2)
            .style(style)
        })
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(Theme::border(app.focus == Pane::Orders))
        .title(title)
        .title_bottom(
            Line::from(format!(
                " all day: {} ",
                if all_day.is_empty() {
                    "–".into()
                } else {
                    all_day.join(" ")
                }
            ))
            .fg(Theme::MUTED),
        );
    let table = Table::new(
        rows,
        [
            Constraint::Min(20),
            Constraint::Length(10),
            Constraint::Length(5),
        ],
    )
    .block(block);
    let mut state = ratatui::widgets::TableState::default().with_selected(Some(app.selected_order));
    frame.render_stateful_widget(table, area, &mut state);
}
