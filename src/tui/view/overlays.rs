//! What opens over the panes: the help, the message log, an order's detail, the cancel
//! question, and the recall list.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tui_input::Input;

use super::orders::{cut, place};
use super::{Theme, centered, field_text, open_popup, popup};
use crate::store::{HistoryEntry, OrderRecord};
use crate::tui::app::{App, Hit};
use crate::tui::health::Level;
use crate::tui::keymap;
use crate::tui::queue::short;

pub(super) fn help(frame: &mut Frame, app: &App) {
    let mut lines: Vec<Line> = keymap::help_lines()
        .map(|(k, d)| Line::from(vec![format!(" {k:<9}").bold().fg(Theme::ACCENT), d.into()]))
        .collect();
    lines.push(Line::from(""));
    lines.push(
        Line::from(format!(
            " station {} · times are {} · log file:",
            app.setup.station, app.zone.name
        ))
        .fg(Theme::MUTED),
    );
    lines.push(Line::from(format!(" {}", app.setup.log_path)).fg(Theme::MUTED));
    let area = centered(frame.area(), 74, lines.len() as u16 + 2);
    let inner = open_popup(frame, area, popup(" Keys (Esc closes) "));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

pub(super) fn messages(frame: &mut Frame, app: &App, scroll: usize) {
    let area = centered(frame.area(), 90, frame.area().height.saturating_sub(4));
    let inner = open_popup(
        frame,
        area,
        popup(format!(
            " Messages ({}) · newest first · Esc closes ",
            app.health.log.len()
        )),
    );
    let lines: Vec<Line> = app
        .health
        .log
        .iter()
        .rev()
        .skip(scroll)
        .take(usize::from(inner.height))
        .map(|n| {
            let style = match n.level {
                Level::Info | Level::News => Style::new(),
                Level::Error => Style::new().fg(Theme::BAD),
            };
            Line::from(vec![
                app.zone
                    .local(n.at)
                    .format(" %H:%M:%S ")
                    .to_string()
                    .fg(Theme::MUTED),
                Span::styled(n.text.clone(), style),
            ])
        })
        .collect();
    let lines = if lines.is_empty() {
        vec![Line::from(" nothing yet").fg(Theme::MUTED)]
    } else {
        lines
    };
    frame.render_widget(Paragraph::new(lines), inner);
}

fn order_lines(o: &OrderRecord, width: usize) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(format!(
            " {} · {} · {} · {}",
            o.customer_name,
            o.order_type,
            place(o, width.saturating_sub(30)),
            o.total
        ))
        .bold(),
        Line::from(format!(
            " {}{}{}",
            o.status,
            o.processed_by
                .as_deref()
                .map(|c| format!(" by {c}"))
                .unwrap_or_default(),
            if o.rush { " · RUSH" } else { "" }
        )),
    ];
    for it in &o.items {
        lines.push(Line::from(format!(
            "   {:>2} × {:<28} {:>7}",
            it.quantity,
            it.name,
            it.price.to_string()
        )));
        if let Some(n) = &it.notes {
            lines.push(Line::from(format!("        ✎ {n}")).fg(Theme::LATE));
        }
    }
    if let Some(n) = &o.notes {
        lines.push(Line::from(format!(" ✎ {n}")).fg(Theme::LATE));
    }
    lines
}

pub(super) fn detail(
    frame: &mut Frame,
    app: &App,
    number: &str,
    loaded: Option<&OrderRecord>,
    history: &[HistoryEntry],
    scroll: usize,
) {
    let area = centered(frame.area(), 76, frame.area().height.saturating_sub(2));
    let inner = open_popup(
        frame,
        area,
        popup(format!(" {number} ")).title_bottom(
            Line::from(" b bump · c cancel · r recall · ! rush · ↑↓ PgUp PgDn scroll · Esc close ")
                .fg(Theme::MUTED),
        ),
    );
    let mut lines = match app.orders.queue.get(number).or(loaded) {
        Some(o) => order_lines(o, usize::from(inner.width)),
        None => vec![Line::from(" (no longer on the queue)").fg(Theme::MUTED)],
    };
    lines.push(Line::from(""));
    lines.push(Line::from(format!(" History ({})", app.zone.name)).fg(Theme::MUTED));
    for h in history {
        let mut spans = vec![
            app.zone
                .local(h.changed_at)
                .format(" %Y-%m-%d %H:%M:%S ")
                .to_string()
                .fg(Theme::MUTED),
            Span::styled(
                format!("{:<10}", h.status.as_str()),
                crate::tui::view::Theme::status(h.status),
            ),
            h.changed_by.clone().unwrap_or_default().into(),
        ];
        if let Some(n) = &h.notes {
            spans.push(format!(" · {n}").fg(Theme::LATE));
        }
        lines.push(Line::from(spans));
    }
    let total = lines.len();
    let scroll = scroll.min(total.saturating_sub(1));
    let [body, more] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll as u16, 0)),
        body,
    );
    let below = total.saturating_sub(scroll + usize::from(body.height));
    let position = if below > 0 {
        format!(" ↓ {below} more lines")
    } else if scroll > 0 {
        " (end)".into()
    } else {
        String::new()
    };
    frame.render_widget(Paragraph::new(position).fg(Theme::MUTED), more);
}

pub(super) fn confirm_cancel(frame: &mut Frame, app: &App, number: &str, reason: Option<&Input>) {
    let area = centered(frame.area(), 64, 9);
    let inner = open_popup(
        frame,
        area,
        popup(format!(" Cancel {}? ", short(number))).border_style(Style::new().fg(Theme::BAD)),
    );
    let [what, reason_row, keys] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(2),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(format!(" {}", app.orders.describe(number)))
            .wrap(Wrap { trim: false })
            .bold(),
        what,
    );
    if let Some(input) = reason {
        let shown = field_text(frame, input, reason_row, reason_row.x + 9, true);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                " Reason: ".fg(Theme::ACCENT),
                shown.into(),
            ])),
            reason_row,
        );
    }
    let hint = if reason.is_some() {
        " ⏎ cancels with this reason · Esc keeps the order"
    } else {
        " y or ⏎ cancels · Tab adds a reason · any other key keeps it"
    };
    frame.render_widget(
        Paragraph::new(hint)
            .wrap(Wrap { trim: false })
            .fg(Theme::MUTED),
        keys,
    );
}

pub(super) fn recall(
    frame: &mut Frame,
    app: &App,
    orders: Option<&[OrderRecord]>,
    selected: usize,
) {
    let area = centered(frame.area(), 84, frame.area().height.saturating_sub(4));
    let inner = open_popup(
        frame,
        area,
        popup(" Recall: recently finished, newest first ").title_bottom(
            Line::from(" ⏎ back to the pass · ↑↓ PgUp PgDn · Esc close ").fg(Theme::MUTED),
        ),
    );
    let orders = match orders {
        None => Err(" reading the recent orders…"),
        Some([]) => Err(" no completed or cancelled orders yet"),
        Some(orders) => Ok(orders),
    };
    match orders {
        Ok(orders) => recall_rows(frame, app, orders, selected, inner),
        Err(why) => frame.render_widget(Paragraph::new(why).fg(Theme::MUTED), inner),
    }
}

/// The rows that fit, scrolled so the selected one shows; each is a place the mouse can click.
fn recall_rows(frame: &mut Frame, app: &App, orders: &[OrderRecord], selected: usize, inner: Rect) {
    let rows = usize::from(inner.height).max(1);
    let first = selected.saturating_sub(rows - 1);
    let width = usize::from(inner.width);
    let mut hits = app.hits.borrow_mut();
    let lines: Vec<Line> = orders
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, o)| {
            let items: Vec<String> = o
                .items
                .iter()
                .map(|it| format!("{}×{}", it.quantity, it.name))
                .collect();
            let text = format!(
                " {:<6} {:<9} {} {} · {} · {}",
                short(&o.number),
                o.status.as_str(),
                app.zone.local(o.updated_at).format("%H:%M"),
                o.customer_name,
                place(o, 20),
                items.join(", ")
            );
            hits.push((
                Rect::new(inner.x, inner.y + (i - first) as u16, inner.width, 1),
                Hit::RecallRow(i),
            ));
            let line = Line::from(cut(&text, width));
            if i == selected {
                line.style(Style::new().add_modifier(Modifier::REVERSED))
            } else if o.status == crate::domain::OrderStatus::Cancelled {
                line.fg(Theme::MUTED)
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
