//! Drawing, from `&App` only: no I/O, no state changes. One theme; every region has its helper.

mod feed;
mod orders;
mod overlays;
mod workers;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::app::{ApiState, App, Notice, Overlay};
use crate::broker::BrokerStatus;
use crate::domain::OrderStatus;

pub(super) struct Theme;

impl Theme {
    pub(super) const OK: Color = Color::Green;
    pub(super) const LATE: Color = Color::Yellow;
    pub(super) const VERY_LATE: Color = Color::Red;
    pub(super) const MUTED: Color = Color::DarkGray;
    pub(super) const ACCENT: Color = Color::Cyan;
    pub(super) const BAD: Color = Color::Red;

    pub(super) fn border(focused: bool) -> Style {
        if focused {
            Style::new().fg(Theme::ACCENT)
        } else {
            Style::new().fg(Theme::MUTED)
        }
    }

    pub(super) fn status(s: OrderStatus) -> Style {
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
    orders::draw(frame, left, app);
    workers::draw(frame, workers, app);
    feed::draw(frame, feed, app);
    draw_footer(frame, footer, app);
    match &app.overlay {
        None => {}
        Some(Overlay::Help) => overlays::help(frame, app),
        Some(Overlay::NewOrder(form)) => overlays::order_form(frame, form),
        Some(Overlay::NewWorker(form)) => overlays::worker_form(frame, form),
        Some(Overlay::Detail { number, history }) => overlays::detail(frame, app, number, history),
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

pub(super) fn mmss(secs: i64) -> String {
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

pub(super) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub(super) fn popup<'a>(title: &'a str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(Style::new().fg(Theme::ACCENT))
        .title(title)
}
