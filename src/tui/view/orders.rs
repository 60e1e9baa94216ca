//! The order queue as kitchen tickets: number, type, customer and table or address, every item
//! (wrapped; "+N more" only when the ticket's lines run out), notes, cook, priority and rush
//! marks, and the timer of the stage it is in, coloured against the configured targets. Only
//! the tickets that fit are built, so a frame costs the same with 5 or 5,000 orders.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{Theme, mmss};
use crate::config::Target;
use crate::domain::{OrderStatus, OrderType};
use crate::store::OrderRecord;
use crate::tui::app::{App, Hit, Pane};
use crate::tui::queue::{Sort, short};

/// Item lines a ticket may take before it says "+N more".
const ITEM_LINES: usize = 3;

/// On time, late, very late against a target.
fn timer_style(secs: i64, target: Target) -> Style {
    let secs = u64::try_from(secs).unwrap_or(0);
    if secs >= target.very_late.0.as_secs() {
        Style::new()
            .fg(Theme::VERY_LATE)
            .add_modifier(Modifier::BOLD)
    } else if secs >= target.late.0.as_secs() {
        Style::new().fg(Theme::LATE)
    } else {
        Style::new().fg(Theme::OK)
    }
}

/// The stage a ticket is in, how long it has been there, and its colour: waiting and cooking
/// are timed from arrival against the type's target, a ready plate from reaching the pass.
fn stage_timer(app: &App, o: &OrderRecord) -> (String, Style) {
    let since = |t: chrono::DateTime<chrono::Utc>| app.now.signed_duration_since(t).num_seconds();
    let age = since(o.created_at);
    let (label, secs, style) = match o.status {
        OrderStatus::Received => (
            "waiting",
            age,
            timer_style(age, app.setup.targets.for_type(o.order_type)),
        ),
        OrderStatus::Cooking => (
            "cooking",
            since(o.updated_at),
            timer_style(age, app.setup.targets.for_type(o.order_type)),
        ),
        OrderStatus::Ready => {
            let at_pass = since(o.updated_at);
            (
                "ready",
                at_pass,
                timer_style(at_pass, app.setup.targets.window),
            )
        }
        other => (other.as_str(), 0, Style::new().fg(Theme::MUTED)),
    };
    if app.stale() {
        // Counting on data that may be old would lie; say it is as of the last reading.
        return (
            format!("{label} ~{}", mmss(secs)),
            Style::new().fg(Theme::MUTED),
        );
    }
    (format!("{label} {}", mmss(secs)), style)
}

/// Table, "to go", or the address cut to fit (with an ellipsis).
pub(super) fn place(o: &OrderRecord, width: usize) -> String {
    match o.order_type {
        OrderType::DineIn => format!("table {}", o.table_number.unwrap_or_default()),
        OrderType::Takeout => "to go".into(),
        OrderType::Delivery => cut(o.delivery_address.as_deref().unwrap_or(""), width),
    }
}

/// `text` in at most `width` characters, an ellipsis where it was cut.
pub(super) fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// The items packed into lines of `width`; when more lines than `max` are needed, the last line
/// ends with "+N more" for the items it could not hold.
pub(super) fn wrap_items(items: &[String], width: usize, max: usize) -> Vec<String> {
    let width = width.max(8);
    let mut lines: Vec<String> = Vec::new();
    let mut placed = 0;
    for (i, item) in items.iter().enumerate() {
        let sep = if i + 1 < items.len() { "," } else { "" };
        let piece = format!("{item}{sep}");
        let fits = lines
            .last()
            .is_some_and(|line| line.chars().count() + 1 + piece.chars().count() <= width);
        if fits {
            if let Some(line) = lines.last_mut() {
                line.push(' ');
                line.push_str(&piece);
            }
        } else if lines.len() < max {
            lines.push(cut(&piece, width));
        } else {
            break;
        }
        placed += 1;
    }
    let hidden = items.len() - placed;
    if hidden > 0 {
        let more = format!(" +{hidden} more");
        if let Some(last) = lines.last_mut() {
            let room = width.saturating_sub(more.chars().count());
            *last = cut(last, room) + &more;
        }
    }
    lines
}

fn item_texts(o: &OrderRecord) -> Vec<String> {
    o.items
        .iter()
        .map(|i| match &i.notes {
            Some(n) => format!("{}×{} ({n})", i.quantity, i.name),
            None => format!("{}×{}", i.quantity, i.name),
        })
        .collect()
}

/// A ticket's lines at `width` (the marker column included).
fn ticket(app: &App, o: &OrderRecord, width: usize, selected: bool) -> Vec<Line<'static>> {
    let focused = app.focus == Pane::Orders;
    let mut lines = vec![ticket_head(app, o, width, selected, focused)];
    let cook = o.processed_by.clone().unwrap_or_default();
    let who_width = width.saturating_sub(4 + cook.chars().count());
    let who = cut(
        &format!("{} · {}", o.customer_name, place(o, width)),
        who_width,
    );
    let pad = width.saturating_sub(3 + who.chars().count() + cook.chars().count());
    lines.push(Line::from(vec![
        Span::raw(format!("   {who}")),
        Span::raw(" ".repeat(pad)),
        Span::styled(cook, Style::new().fg(Theme::MUTED)),
    ]));
    for l in wrap_items(&item_texts(o), width.saturating_sub(3), ITEM_LINES) {
        lines.push(Line::from(format!("   {l}")));
    }
    if let Some(note) = &o.notes {
        lines.push(
            Line::from(format!("   ✎ {}", cut(note, width.saturating_sub(5)))).fg(Theme::LATE),
        );
    }
    let style = if selected && focused {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new()
    };
    lines.into_iter().map(|l| l.patch_style(style)).collect()
}

/// A ticket's first line: the selection marker, the priority or rush mark, the number and
/// type, and the stage timer at the right edge.
fn ticket_head(
    app: &App,
    o: &OrderRecord,
    width: usize,
    selected: bool,
    focused: bool,
) -> Line<'static> {
    let marker = match (selected, focused) {
        (true, true) => "▶",
        (true, false) => "▷",
        _ => " ",
    };
    let mark = match (o.rush, o.priority) {
        (true, _) => "⚑ ",
        (false, 10) => "!!",
        (false, 5) => "! ",
        _ => "  ",
    };
    let alarm = Style::new()
        .fg(Theme::VERY_LATE)
        .add_modifier(Modifier::BOLD);
    let (timer, timer_style) = stage_timer(app, o);
    let head = format!("{} {}", short(&o.number), o.order_type.as_str());
    let used = 1 + 2 + head.chars().count() + timer.chars().count() + 1;
    let mut first = vec![
        Span::raw(marker),
        Span::styled(mark, alarm),
        Span::styled(short(&o.number), Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(format!(" {}", o.order_type.as_str())),
    ];
    let rush = if o.rush { " RUSH" } else { "" };
    first.push(Span::styled(rush, alarm));
    first.push(Span::raw(
        " ".repeat(width.saturating_sub(used + rush.len())),
    ));
    first.push(Span::styled(timer, timer_style));
    Line::from(first)
}

fn title(app: &App) -> String {
    let q = &app.orders.queue;
    let sort = match q.sort() {
        Sort::Urgency => "",
        Sort::Age => " · by age",
    };
    let search = if q.search().is_empty() {
        String::new()
    } else {
        format!(" · /{}", q.search())
    };
    let stale = if app.stale() { " · STALE" } else { "" };
    format!(
        " Orders {} · {}{sort}{search}{stale} ",
        q.position(),
        q.station().label()
    )
}

/// The "all day" strip: counts still to cook, largest first, whole names only.
fn all_day(app: &App, width: usize) -> String {
    let mut text = String::from(" all day: ");
    let counts = app.orders.queue.all_day();
    if counts.is_empty() {
        return text + "– ";
    }
    for (i, (name, n)) in counts.iter().enumerate() {
        let piece = format!("{n}×{name} ");
        let rest = counts.len() - i - 1;
        let reserve = if rest > 0 { 8 } else { 0 };
        if text.chars().count() + piece.chars().count() + reserve > width {
            return text + &format!("+{} more ", counts.len() - i);
        }
        text.push_str(&piece);
    }
    text
}

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(Theme::border(app.focus == Pane::Orders))
        .title(title(app))
        .title_bottom(
            Line::from(all_day(app, usize::from(area.width.saturating_sub(4)))).fg(Theme::MUTED),
        );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let q = &app.orders.queue;
    if q.is_empty() {
        let text = if q.search().is_empty() {
            format!(
                "No orders on the {} station. n places one.",
                q.station().label()
            )
        } else {
            format!(
                "No order matches \"{}\". Esc clears the search.",
                q.search()
            )
        };
        frame.render_widget(Paragraph::new(format!(" {text}")).fg(Theme::MUTED), inner);
    } else {
        tickets(frame, inner, app);
    }
}

/// As many tickets as fit, from a window that keeps the selected one in view; each is a place
/// the mouse can click, and how many fit is the page the keys move by.
fn tickets(frame: &mut Frame, inner: Rect, app: &App) {
    let q = &app.orders.queue;
    let width = usize::from(inner.width);
    let selected = q.selected_index();
    let height = |i: usize| {
        q.at(i)
            .map_or(1, |o| ticket(app, o, width, false).len() as u16 + 1)
    };
    // Keep the selected ticket in view, moving the window as little as possible.
    let mut offset = q.offset.get().min(q.len() - 1);
    if let Some(s) = selected {
        if s < offset {
            offset = s;
        }
        while offset < s && (offset..=s).map(height).sum::<u16>() > inner.height {
            offset += 1;
        }
    }
    q.offset.set(offset);
    let mut y = inner.y;
    let mut drawn = 0;
    let mut hits = app.hits.borrow_mut();
    for i in offset..q.len() {
        let Some(o) = q.at(i) else { break };
        let lines = ticket(app, o, width, Some(i) == selected);
        let h = lines.len() as u16;
        if y + h > inner.bottom() && drawn > 0 {
            break;
        }
        let rect = Rect::new(inner.x, y, inner.width, h.min(inner.bottom() - y));
        hits.push((rect, Hit::Order(o.number.clone())));
        frame.render_widget(Paragraph::new(lines), rect);
        drawn += 1;
        y += h + 1; // a blank line between tickets
        if y >= inner.bottom() {
            break;
        }
    }
    q.page.set(drawn.max(1));
}
