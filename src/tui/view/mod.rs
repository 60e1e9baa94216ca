//! Drawing, from `&App` only: no I/O and no state changes but the scroll position and the mouse
//! map it records for the next key. One theme; every region has its helper.

mod feed;
mod forms;
mod orders;
mod overlays;
mod workers;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::{ApiState, App, Hit, Pane};
use super::health::{Level, Link};
use crate::domain::OrderStatus;
use crate::tui::overlay::Overlay;

/// Below this the panes cannot show a ticket; one screen says so instead.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

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

    pub(super) fn banner() -> Style {
        Style::new()
            .fg(Color::White)
            .bg(Theme::VERY_LATE)
            .add_modifier(Modifier::BOLD)
    }
}

pub fn draw(frame: &mut Frame, app: &App) {
    app.hits.borrow_mut().clear();
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area);
        return;
    }
    let banners = banners(app);
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1 + banners.len().max(1) as u16),
        Constraint::Min(6),
        Constraint::Length(2),
    ])
    .areas(area);
    draw_header(frame, header, app, banners);
    let right_share = if body.width >= 100 { 45 } else { 40 };
    let [left, right] = Layout::horizontal([
        Constraint::Percentage(100 - right_share),
        Constraint::Percentage(right_share),
    ])
    .areas(body);
    let [workers, feed] =
        Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(right);
    let mut hits = app.hits.borrow_mut();
    hits.push((left, Hit::Pane(Pane::Orders)));
    hits.push((workers, Hit::Pane(Pane::Workers)));
    hits.push((feed, Hit::Pane(Pane::Feed)));
    drop(hits);
    orders::draw(frame, left, app);
    workers::draw(frame, workers, app);
    feed::draw(frame, feed, app);
    draw_footer(frame, footer, app);
    match &app.overlay {
        None | Some(Overlay::Search(_)) => {}
        Some(Overlay::Help) => overlays::help(frame, app),
        Some(Overlay::Messages { scroll }) => overlays::messages(frame, app, *scroll),
        Some(Overlay::NewOrder(form)) => forms::order_form(frame, form),
        Some(Overlay::NewWorker(form)) => forms::worker_form(frame, form),
        Some(Overlay::Detail {
            number,
            order,
            history,
            scroll,
        }) => overlays::detail(frame, app, number, order.as_deref(), history, *scroll),
        Some(Overlay::ConfirmCancel { number, reason }) => {
            overlays::confirm_cancel(frame, app, number, reason.as_ref())
        }
        Some(Overlay::Recall { orders, selected }) => {
            overlays::recall(frame, app, orders.as_deref(), *selected)
        }
    }
}

fn too_small(frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::from("restaurant-tui").bold(),
        Line::from(format!(
            "needs a terminal of at least {MIN_WIDTH}×{MIN_HEIGHT}; this one is {}×{}.",
            area.width, area.height
        )),
        Line::from("Enlarge it: the kitchen keeps running. q leaves."),
    ];
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .alignment(Alignment::Center),
        area,
    );
}

pub(super) fn mmss(secs: i64) -> String {
    let secs = secs.max(0);
    if secs >= 3600 {
        format!("{}h{:02}", secs / 3600, secs / 60 % 60)
    } else {
        format!("{}:{:02}", secs / 60, secs % 60)
    }
}

fn dot(link: &Link) -> Span<'static> {
    match link {
        Link::Up => "●".fg(Theme::OK),
        Link::Connecting => "○".fg(Theme::LATE),
        Link::Down { .. } => "✗".fg(Theme::VERY_LATE),
    }
}

/// The worded outages, one line each.
fn banners(app: &App) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let since = |t| app.zone.local(t).format("%H:%M:%S").to_string();
    if let Link::Down { reason, since: at } = &app.health.database {
        lines.push(Line::styled(
            format!(
                " DATABASE DOWN since {} ({reason}) · the queue is as it was then ",
                since(*at)
            ),
            Theme::banner(),
        ));
    }
    if let Link::Down { reason, since: at } = &app.health.broker {
        lines.push(Line::styled(
            format!(
                " BROKER DOWN since {} ({reason}) · orders wait in the outbox ",
                since(*at)
            ),
            Theme::banner(),
        ));
    }
    lines
}

fn draw_header(frame: &mut Frame, area: Rect, app: &App, banners: Vec<Line<'static>>) {
    let api = match &app.setup.api {
        ApiState::Listening(a) => vec!["●".fg(Theme::OK), format!(" API {a}").into()],
        ApiState::Starting => vec!["○".fg(Theme::LATE), " API starting".into()],
        ApiState::Unavailable(_) => vec!["✗".fg(Theme::VERY_LATE), " API off".into()],
    };
    // The product's name only where there is room; the station always (whose screen is this).
    let name = if area.width >= 100 {
        " restaurant-tui "
    } else {
        " "
    };
    let mut spans: Vec<Span> = vec![
        name.bold().fg(Theme::ACCENT),
        format!("{} ", app.setup.station).fg(Theme::ACCENT),
        dot(&app.health.database),
        format!(" DB {} ", app.setup.database_kind).into(),
        dot(&app.health.broker),
        format!(" Broker {} ", app.setup.broker_kind).into(),
    ];
    spans.extend(api);
    let clock = format!(
        " {} {} ",
        app.zone.local(app.now).format("%H:%M:%S"),
        app.zone.name
    );
    let [top, rest] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let [left, right] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(clock.chars().count() as u16),
    ])
    .areas(top);
    frame.render_widget(Paragraph::new(Line::from(spans)), left);
    frame.render_widget(Paragraph::new(clock.fg(Theme::MUTED)), right);
    let below = if banners.is_empty() {
        vec![Line::from(
            format!(
                " {} orders/min · avg {} received→ready · {} waiting to cook",
                app.orders.per_minute(app.now),
                app.orders
                    .average_to_ready()
                    .map(mmss)
                    .unwrap_or_else(|| "–".into()),
                app.orders.queue.waiting()
            )
            .fg(Theme::MUTED),
        )]
    } else {
        banners
    };
    frame.render_widget(Paragraph::new(below), rest);
}

fn draw_footer(frame: &mut Frame, area: Rect, app: &App) {
    let [first, hints_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    // The search prompt wins over any notice while it is typed; its cursor is the terminal's.
    if let Some(Overlay::Search(input)) = &app.overlay {
        let prompt = " search: ";
        let hint =
            "  (t12 a table, 12 an order, or a name, dish, address · Enter keeps · Esc clears)";
        let shown = field_text(frame, input, first, first.x + prompt.len() as u16, true);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                prompt.bold().fg(Theme::ACCENT),
                shown.into(),
                hint.fg(Theme::MUTED),
            ])),
            first,
        );
    } else {
        let notice = match app.health.current(app.now) {
            Some(n) if n.level != Level::Error => Line::from(format!(" {}", n.text)).fg(Theme::OK),
            Some(n) => Line::from(format!(" ✗ {}", n.text)).fg(Theme::VERY_LATE),
            None => Line::from(""),
        };
        frame.render_widget(Paragraph::new(notice), first);
    }
    let hints = crate::tui::keymap::hints(app.focus);
    frame.render_widget(
        Paragraph::new(Line::from(hints).fg(Theme::MUTED)),
        hints_area,
    );
}

pub(super) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    area.centered(
        Constraint::Length(width.min(area.width)),
        Constraint::Length(height.min(area.height)),
    )
}

pub(super) fn popup<'a>(title: impl Into<Line<'a>>) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(Style::new().fg(Theme::ACCENT))
        .title(title)
}

/// The part of `input` that fits in a field starting at column `x` of `row` (the field runs to
/// the row's end); with `focused`, the terminal's cursor goes where the next letter will go.
pub(super) fn field_text(
    frame: &mut Frame,
    input: &tui_input::Input,
    row: Rect,
    x: u16,
    focused: bool,
) -> String {
    let width = usize::from(row.right().saturating_sub(x + 1)).max(1);
    let scroll = input.visual_scroll(width);
    if focused {
        let at = x + input.visual_cursor().saturating_sub(scroll) as u16;
        frame.set_cursor_position((at.min(row.right().saturating_sub(1)), row.y));
    }
    input.value().chars().skip(scroll).take(width).collect()
}

/// Clears `area` and draws a popup frame on it; returns the inside.
pub(super) fn open_popup<'a>(frame: &mut Frame, area: Rect, block: Block<'a>) -> Rect {
    frame.render_widget(Clear, area);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}
