//! Drawing, from `&App` only: no I/O, no state changes. One theme; every region has its helper.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, List, ListItem, Paragraph, Row, Table, Wrap};

use super::app::{ApiState, App, Notice, Overlay, Pane, Sort};
use super::form::{OrderField, OrderForm, WorkerForm};
use crate::broker::BrokerStatus;
use crate::domain::{OrderStatus, OrderType};
use crate::store::OrderRecord;

struct Theme;

impl Theme {
    const OK: Color = Color::Green;
    const LATE: Color = Color::Yellow;
    const VERY_LATE: Color = Color::Red;
    const MUTED: Color = Color::DarkGray;
    const ACCENT: Color = Color::Cyan;

    fn border(focused: bool) -> Style {
        if focused {
            Style::new().fg(Theme::ACCENT)
        } else {
            Style::new().fg(Theme::MUTED)
        }
    }

    fn status(s: OrderStatus) -> Style {
        match s {
            OrderStatus::Received => Style::new().fg(Color::White),
            OrderStatus::Cooking => Style::new().fg(Color::Yellow),
            OrderStatus::Ready => Style::new().fg(Theme::OK).add_modifier(Modifier::BOLD),
            OrderStatus::Completed | OrderStatus::Cancelled => Style::new().fg(Theme::MUTED),
        }
    }
}

pub fn draw(frame: &mut Frame, app: &App) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(6),
        Constraint::Length(2),
    ])
    .areas(frame.area());
    draw_header(frame, header, app);
    let right_share = if body.width >= 100 { 48 } else { 42 };
    let [left, right] = Layout::horizontal([
        Constraint::Percentage(100 - right_share),
        Constraint::Percentage(right_share),
    ])
    .areas(body);
    let [workers, feed] =
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(right);
    draw_orders(frame, left, app);
    draw_workers(frame, workers, app);
    draw_feed(frame, feed, app);
    draw_footer(frame, footer, app);
    match &app.overlay {
        None => {}
        Some(Overlay::Help) => draw_help(frame, app),
        Some(Overlay::NewOrder(form)) => draw_order_form(frame, form),
        Some(Overlay::NewWorker(form)) => draw_worker_form(frame, form),
        Some(Overlay::Detail { number, history }) => draw_detail(frame, app, number, history),
        Some(Overlay::Filter) => {}
    }
}

fn dot(up: bool) -> Span<'static> {
    if up {
        "●".fg(Theme::OK)
    } else {
        "●".fg(Theme::VERY_LATE)
    }
}

fn mmss(secs: i64) -> String {
    let secs = secs.max(0);
    if secs >= 3600 {
        format!("{}h{:02}", secs / 3600, secs / 60 % 60)
    } else {
        format!("{}:{:02}", secs / 60, secs % 60)
    }
}

fn draw_header(frame: &mut Frame, area: Rect, app: &App) {
    let broker_up = app.broker != Some(BrokerStatus::Reconnecting);
    let api = match &app.api {
        ApiState::Listening(a) => vec![dot(true), format!(" API {a}").into()],
        ApiState::Starting => vec![dot(false), " API starting".into()],
        ApiState::Unavailable(_) => vec![dot(false), " API off".into()],
    };
    let mut spans: Vec<Span> = vec![
        " restaurant-tui ".bold().fg(Theme::ACCENT),
        " ".into(),
        dot(app.database_up),
        format!(" DB {} ", app.database_kind).into(),
        dot(broker_up),
        format!(" Broker {} ", app.broker_kind).into(),
    ];
    spans.extend(api);
    let stats = format!(
        " {} orders/min · avg {} received→ready · {} waiting to cook",
        app.orders_per_minute(),
        app.average_to_ready()
            .map(mmss)
            .unwrap_or_else(|| "–".into()),
        app.queue_depth()
    );
    let second = if broker_up {
        Line::from(stats.fg(Theme::MUTED))
    } else {
        Line::from(" BROKER UNREACHABLE — orders are taken and wait; they go to the kitchen when it returns ".bold().fg(Color::White).bg(Theme::VERY_LATE))
    };
    frame.render_widget(Paragraph::new(vec![Line::from(spans), second]), area);
}

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

fn place(o: &OrderRecord) -> String {
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

fn draw_orders(frame: &mut Frame, area: Rect, app: &App) {
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

/// `text` cut or padded to exactly `width` characters.
fn cell(text: &str, width: usize) -> String {
    let cut: String = text.chars().take(width).collect();
    format!("{cut:<width$} ")
}

fn draw_workers(frame: &mut Frame, area: Rect, app: &App) {
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
    for (i, w) in app.workers.iter().enumerate() {
        let status = if app.stopping.contains(&w.name) {
            "stopping"
        } else {
            w.effective_status(app.now)
        };
        let age = app
            .now
            .signed_duration_since(w.last_seen)
            .num_seconds()
            .max(0);
        let interval = w.heartbeat_interval.as_secs().max(1) as i64;
        // Stale (amber) past one interval, before it turns offline at two.
        let beat = if status == "offline" {
            Style::new().fg(Theme::MUTED)
        } else if age > interval {
            Style::new().fg(Theme::LATE)
        } else {
            Style::new().fg(Theme::OK)
        };
        let in_hand = app
            .orders
            .iter()
            .find(|o| {
                o.status == OrderStatus::Cooking && o.processed_by.as_deref() == Some(&w.name)
            })
            .map(|o| o.number[13..].to_string())
            .unwrap_or_default();
        let mut spans = vec![Span::raw(cell(&w.name, name_width))];
        if wide {
            spans.push(cell(&w.order_types, 8).fg(Theme::MUTED));
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
        let style = if i == app.selected_worker && app.focus == Pane::Workers {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        items.push(ListItem::new(Line::from(spans)).style(style));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(Theme::border(app.focus == Pane::Workers))
        .title(format!(" Workers {} ", app.workers.len()));
    frame.render_widget(List::new(items).block(block), area);
}

fn draw_feed(frame: &mut Frame, area: Rect, app: &App) {
    let items: Vec<ListItem> = app
        .feed
        .iter()
        .skip(app.feed_offset)
        .map(|l| {
            let from = l.from.map(|s| s.as_str()).unwrap_or("new");
            ListItem::new(Line::from(vec![
                l.at.format("%H:%M:%S ").to_string().fg(Theme::MUTED),
                l.order_number[13..].to_string().bold(),
                format!(" {from} → ").into(),
                Span::styled(l.to.as_str(), Theme::status(l.to)),
                format!(" {}", l.by).fg(Theme::MUTED),
            ]))
        })
        .collect();
    let title = if app.feed_offset > 0 {
        format!(" Feed (scrolled {}) ", app.feed_offset)
    } else {
        " Feed ".into()
    };
    frame.render_widget(
        List::new(items).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(Theme::border(app.focus == Pane::Feed))
                .title(title),
        ),
        area,
    );
}

fn draw_footer(frame: &mut Frame, area: Rect, app: &App) {
    let notice = match &app.notice {
        Some(Notice::Info(t)) => Line::from(format!(" {t}")).fg(Theme::OK),
        Some(Notice::Error(t)) => Line::from(format!(" ✗ {t}")).fg(Theme::VERY_LATE),
        None if matches!(app.overlay, Some(Overlay::Filter)) => Line::from(format!(
            " filter: {}▏ (Enter keeps, Esc clears)",
            app.filter.value()
        )),
        None => Line::from(""),
    };
    let hints = Line::from(
        " n order  w worker  s stop  c cancel  b bump  ⏎ detail  / filter  ? help  q quit",
    )
    .fg(Theme::MUTED);
    frame.render_widget(Paragraph::new(vec![notice, hints]), area);
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn popup<'a>(title: &'a str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(Style::new().fg(Theme::ACCENT))
        .title(title)
}

fn draw_help(frame: &mut Frame, app: &App) {
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

fn draw_order_form(frame: &mut Frame, form: &OrderForm) {
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

fn draw_worker_form(frame: &mut Frame, form: &WorkerForm) {
    let area = centered(frame.area(), 50, 7);
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
    frame.render_widget(Paragraph::new(lines).block(popup(" Start a worker ")), area);
}

fn draw_detail(frame: &mut Frame, app: &App, number: &str, history: &[crate::store::HistoryEntry]) {
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
