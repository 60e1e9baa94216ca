//! The status feed: one line per update, newest first, scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem};

use super::Theme;
use crate::tui::app::{App, Pane};
use crate::tui::queue::short;

pub(super) fn draw(frame: &mut Frame, area: Rect, app: &App) {
    // Narrow, the seconds go so that the change itself fits ("12:39 #001 received → cooking").
    let time = if area.width >= 44 {
        "%H:%M:%S "
    } else {
        "%H:%M "
    };
    let items: Vec<ListItem> = app
        .feed
        .lines
        .iter()
        .skip(app.feed.offset)
        .take(usize::from(area.height))
        .map(|l| {
            let from = l.from.map(|s| s.as_str()).unwrap_or("new");
            ListItem::new(Line::from(vec![
                app.zone
                    .local(l.at)
                    .format(time)
                    .to_string()
                    .fg(Theme::MUTED),
                short(&l.order_number).bold(),
                format!(" {from} → ").into(),
                Span::styled(l.to.as_str(), Theme::status(l.to)),
                format!(" {}", l.by).fg(Theme::MUTED),
            ]))
        })
        .collect();
    let title = if app.feed.offset > 0 {
        format!(" Feed (scrolled {}) ", app.feed.offset)
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
