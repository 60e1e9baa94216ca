//! The new-order and new-worker forms, with the terminal's cursor in the field being typed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tui_input::Input;

use super::{Theme, centered, field_text, open_popup, popup};
use crate::domain::{MAX_NOTE_CHARS, MAX_TABLE, MIN_ADDRESS_CHARS, OrderType};
use crate::tui::form::{OrderField, OrderForm, WorkerField, WorkerForm, type_letter};

fn label(text: &str, focused: bool) -> Span<'static> {
    let style = if focused {
        Style::new().fg(Theme::ACCENT).bold()
    } else {
        Style::new().fg(Theme::MUTED)
    };
    Span::styled(format!(" {text:<9}"), style)
}

/// A text field's line; the cursor goes into it when focused.
fn text_line(
    frame: &mut Frame,
    area: Rect,
    row: u16,
    name: &str,
    input: &Input,
    focused: bool,
    empty: &str,
) -> Line<'static> {
    let line = Rect::new(
        area.x,
        area.y + row.min(area.height.saturating_sub(1)),
        area.width,
        1,
    );
    let shown = field_text(
        frame,
        input,
        line,
        area.x + 10,
        focused && row < area.height,
    );
    let value = if shown.is_empty() && !focused {
        Span::styled(empty.to_string(), Style::new().fg(Theme::MUTED))
    } else {
        Span::raw(shown)
    };
    Line::from(vec![label(name, focused), value])
}

fn choices(kind: OrderType) -> Vec<Span<'static>> {
    OrderType::ALL
        .into_iter()
        .flat_map(|t| {
            let text = format!("[{}] {} ", type_letter(t), t.as_str());
            if t == kind {
                vec![Span::styled(text, Style::new().bold().reversed())]
            } else {
                vec![Span::raw(text)]
            }
        })
        .collect()
}

pub(super) fn order_form(frame: &mut Frame, form: &OrderForm) {
    let height = frame.area().height.saturating_sub(2).max(10);
    let area = centered(frame.area(), 72, height);
    let title = if form.sending {
        " New order — placing… "
    } else {
        " New order "
    };
    let inner = open_popup(frame, area, popup(title));
    let messages = order_messages(form);
    let message_rows = match messages.len() {
        0 => 0,
        n => (n as u16 + 1).min(4),
    };
    let [fields, notes, footer] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(message_rows),
        Constraint::Length(1),
    ])
    .areas(inner);
    let lines = order_fields(frame, form, fields);
    frame.render_widget(Paragraph::new(lines), fields);
    frame.render_widget(Paragraph::new(messages).wrap(Wrap { trim: false }), notes);
    let total = format!(
        " Total {}   ⏎ place · Tab next field · Esc close",
        form.total()
    );
    frame.render_widget(Paragraph::new(total).fg(Theme::MUTED), footer);
}

/// The order form's fields, line after line, placed in `fields`: the type, the table or the
/// address, the dishes that fit, the name and the note.
fn order_fields<'a>(frame: &mut Frame, form: &'a OrderForm, fields: Rect) -> Vec<Line<'a>> {
    let mut lines = vec![Line::from(
        [
            vec![label("Type", form.field == OrderField::Type)],
            choices(form.kind),
        ]
        .concat(),
    )];
    // Each text field goes on the next line; the cursor goes into the focused one.
    let mut field =
        |lines: &mut Vec<Line>, name: &str, input: &Input, at: OrderField, empty: &str| {
            let row = lines.len() as u16;
            let focused = form.field == at;
            lines.push(text_line(frame, fields, row, name, input, focused, empty));
        };
    match form.kind {
        OrderType::DineIn => {
            let rule = format!("1 to {MAX_TABLE}");
            field(&mut lines, "Table", &form.table, OrderField::Place, &rule);
        }
        OrderType::Delivery => {
            let rule = format!("{MIN_ADDRESS_CHARS} characters or more");
            field(
                &mut lines,
                "Address",
                &form.address,
                OrderField::Place,
                &rule,
            );
        }
        OrderType::Takeout => {}
    }
    // Room for the dishes: what is left after the menu's own line and the name and note.
    let room = usize::from(fields.height)
        .saturating_sub(lines.len() + 3)
        .max(1);
    lines.extend(menu_lines(form, room));
    let name = "the customer's name";
    field(
        &mut lines,
        "Name",
        &form.customer,
        OrderField::Customer,
        name,
    );
    let rule = format!("optional, up to {MAX_NOTE_CHARS} characters");
    field(&mut lines, "Note", &form.note, OrderField::Note, &rule);
    lines
}

/// What the form says under its fields: each broken rule, why the last try was not placed,
/// and a hint.
fn order_messages(form: &OrderForm) -> Vec<Line<'static>> {
    let mut messages: Vec<Line> = form
        .shown_errors()
        .into_iter()
        .map(|e| Line::from(format!(" ✗ {e}")).fg(Theme::BAD))
        .collect();
    if let Some(why) = &form.failure {
        messages.push(Line::from(format!(" ✗ not placed: {why} (⏎ tries again)")).fg(Theme::BAD));
    }
    if let Some(hint) = &form.hint {
        messages.push(Line::from(format!(" {hint}")).fg(Theme::LATE));
    }
    messages
}

/// The menu's line, then the `room` dishes around the cursor with their quantities (bold once
/// ordered).
fn menu_lines(form: &OrderForm, room: usize) -> Vec<Line<'static>> {
    let focused = form.field == OrderField::Menu;
    let search = if form.search.is_empty() {
        "letters find a dish · a digit sets its quantity · +/- step".to_string()
    } else {
        format!("find: {}", form.search)
    };
    let mut lines = vec![Line::from(vec![
        label("Menu", focused),
        Span::styled(search, Style::new().fg(Theme::MUTED)),
    ])];
    let first = form
        .cursor
        .saturating_sub(room - 1)
        .min(form.menu.len().saturating_sub(room));
    let dishes = form.menu.iter().zip(&form.quantities).enumerate();
    for (i, (m, q)) in dishes.skip(first).take(room) {
        let cursor = if focused && i == form.cursor {
            "▶"
        } else {
            " "
        };
        let price = m.price.to_string();
        let text = format!("   {cursor} {q:>2} × {:<24} {price:>7}", m.name);
        lines.push(if *q > 0 {
            Line::from(text).bold()
        } else {
            Line::from(text)
        });
    }
    lines
}

pub(super) fn worker_form(frame: &mut Frame, form: &WorkerForm) {
    let error = form.error();
    let area = centered(frame.area(), 64, if error.is_some() { 10 } else { 8 });
    let inner = open_popup(frame, area, popup(" Start a worker "));
    let [fields, reason, footer] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let name = text_line(
        frame,
        fields,
        0,
        "Name",
        &form.name,
        form.field == WorkerField::Name,
        "",
    );
    let mut cooks = vec![label("Cooks", form.field == WorkerField::Types)];
    for (t, on) in OrderType::ALL.into_iter().zip(form.types) {
        let tick = if on { "x" } else { " " };
        cooks.push(Span::raw(format!(
            "[{tick}] {} {}  ",
            type_letter(t),
            t.as_str()
        )));
    }
    let prefetch = Line::from(vec![
        label("Prefetch", form.field == WorkerField::Prefetch),
        Span::raw(format!("{}", form.prefetch)),
        Span::styled(
            "  orders at once (digits, ↑↓)",
            Style::new().fg(Theme::MUTED),
        ),
    ]);
    frame.render_widget(
        Paragraph::new(vec![name, Line::from(cooks), prefetch]),
        fields,
    );
    if let Some(why) = error {
        let why = Paragraph::new(Line::from(format!(" ✗ {why}")).fg(Theme::BAD));
        frame.render_widget(why.wrap(Wrap { trim: false }), reason);
    }
    frame.render_widget(
        Paragraph::new(" none ticked = every type · ⏎ start · Tab next · Esc close")
            .fg(Theme::MUTED),
        footer,
    );
}
