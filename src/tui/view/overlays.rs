//! What opens over the panes: the help, the forms, an order's detail.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::orders::place;
use super::{Theme, centered, popup};
use crate::domain::OrderType;
use crate::tui::app::App;
use crate::tui::form::{OrderField, OrderForm, WorkerForm};

pub(super) fn help(frame: &mut Frame, app: &App) {
    let keys = [
        ("n", "new order (menu, type, table or address, name)"),
        ("w", "start a worker (name, F1-F3 types, ↑↓ prefetch)"),
        ("s", "stop the selected worker (it finishes its order)"),
        ("c / b", "cancel / bump (complete) the selected order"),
        ("r", "recall the last completed order"),
        ("⏎", "order detail with its history"),
        ("/  Esc", "filter the queue / clear the filter"),
        ("o", "sort by urgency or by age"),
        ("Tab ←→ h l", "move between panes"),
        ("↑↓ j k", "move in a pane, scroll the feed"),
        ("q", "quit: workers stop gracefully (q again forces)"),
    ];
    let mut lines: Vec<Line> = keys
        .iter()
        .map(|(k, d)| {
            Line::from(vec![
                format!(" {k:<11}").bold().fg(Theme::ACCENT),
                (*d).into(),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from(" log file:").fg(Theme::MUTED));
    lines.push(Line::from(format!(" {}", app.log_path)).fg(Theme::MUTED));
    let area = centered(frame.area(), 66, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(popup(" Keys (Esc closes) ")),
        area,
    );
}

pub(super) fn order_form(frame: &mut Frame, form: &OrderForm) {
    let area = centered(frame.area(), 64, 20);
    frame.render_widget(Clear, area);
    let focus = |f: OrderField| {
        if form.field == f {
            Style::new().fg(Theme::ACCENT).bold()
        } else {
            Style::new()
        }
    };
    let err = |field: &str| {
        form.error_for(field)
            .map(|e| format!("  ✗ {e}"))
            .unwrap_or_default()
    };
    let mut lines = vec![Line::styled(
        format!(" Menu (↑↓ choose, +/- quantity){}", err("items")),
        focus(OrderField::Menu),
    )];
    for (i, (m, q)) in form.menu.iter().zip(&form.quantities).enumerate() {
        let cursor = if form.field == OrderField::Menu && i == form.cursor {
            "▶"
        } else {
            " "
        };
        let line = format!(
            " {cursor} {q:>2} × {:<18} {:>7}",
            m.name,
            m.price.to_string()
        );
        lines.push(if *q > 0 {
            Line::from(line).bold()
        } else {
            Line::from(line)
        });
    }
    lines.push(Line::styled(
        format!(" Type  ◀ {} ▶   (d/t/v)", form.kind),
        focus(OrderField::Type),
    ));
    let (label, value, field) = match form.kind {
        OrderType::Delivery => ("Address", form.address.value(), "delivery_address"),
        OrderType::DineIn => ("Table", form.table.value(), "table_number"),
        OrderType::Takeout => ("Table", "(not for takeout)", "-"),
    };
    lines.push(Line::styled(
        format!(" {label:<8} {value}{}", err(field)),
        focus(OrderField::Place),
    ));
    lines.push(Line::styled(
        format!(
            " Name     {}{}",
            form.customer.value(),
            err("customer_name")
        ),
        focus(OrderField::Customer),
    ));
    lines.push(
        Line::from(format!(
            " Total {}   ⏎ place · Tab next field · Esc cancel",
            form.total()
        ))
        .fg(Theme::MUTED),
    );
    frame.render_widget(Paragraph::new(lines).block(popup(" New order ")), area);
}

pub(super) fn worker_form(frame: &mut Frame, form: &WorkerForm) {
    let area = centered(frame.area(), 50, if form.error.is_some() { 9 } else { 7 });
    frame.render_widget(Clear, area);
    let tick = |on: bool| if on { "[x]" } else { "[ ]" };
    let lines = vec![
        Line::from(format!(" Name     {}▏", form.name.value())),
        Line::from(format!(
            " Cooks    F1 {} dine_in  F2 {} takeout  F3 {} delivery",
            tick(form.types[0]),
            tick(form.types[1]),
            tick(form.types[2])
        )),
        Line::from(format!(
            " Prefetch {} (↑↓)      none ticked = all types",
            form.prefetch
        )),
        Line::from(" ⏎ start · Esc cancel").fg(Theme::MUTED),
    ];
    let block = popup(" Start a worker ");
    let [fields, reason] =
        Layout::vertical([Constraint::Length(4), Constraint::Fill(1)]).areas(block.inner(area));
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines), fields);
    if let Some(why) = &form.error {
        let why = Paragraph::new(Line::from(format!(" {why}")).fg(Theme::BAD));
        frame.render_widget(why.wrap(Wrap { trim: false }), reason);
    }
}

pub(super) fn detail(
    frame: &mut Frame,
    app: &App,
    number: &str,
    history: &[crate::store::HistoryEntry],
) {
    let area = centered(frame.area(), 60, 18);
    frame.render_widget(Clear, area);
    let mut lines = Vec::new();
    if let Some(o) = app.orders.iter().find(|o| o.number == number) {
        lines.push(
            Line::from(format!(
                " {} · {} · {} · {}",
                o.customer_name,
                o.order_type,
                place(o),
                o.total
            ))
            .bold(),
        );
        for it in &o.items {
            lines.push(Line::from(format!(
                "   {} × {}  {}",
                it.quantity, it.name, it.price
            )));
        }
        lines.push(Line::from(""));
    }
    for h in history {
        lines.push(Line::from(vec![
            h.changed_at
                .format(" %H:%M:%S ")
                .to_string()
                .fg(Theme::MUTED),
            Span::styled(
                format!("{:<10}", h.status.as_str()),
                Theme::status(h.status),
            ),
            h.changed_by.clone().unwrap_or_default().into(),
        ]));
    }
    frame.render_widget(
        Paragraph::new(lines).block(popup(" Order (Esc closes) ").title(format!(" {number} "))),
        area,
    );
}
