//! The key map: one table that the dispatch in [`super::keys`], the footer's hints and the help
//! overlay all read, so a key cannot do one thing and be described as another. Overlays own
//! their keys while open (a form types letters); only the bindings marked `anywhere` reach
//! through them.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::Pane;

/// What a key asks of the panes. The key itself tells the variant apart where one action has
/// several keys (`d`/`t`/`v` the order type, `1`-`5` the station, `j`/PgDn the step). The
/// module is private to the console, so an action no binding names is never constructed and
/// the build warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    NewOrder,
    Bump,
    Cancel,
    Detail,
    Rush,
    RecallLast,
    RecallList,
    Search,
    /// Clears the search, else the notice on the status line.
    Escape,
    Station,
    Sort,
    NewWorker,
    StopWorker,
    ClearOffline,
    Move,
    NextPane,
    PreviousPane,
    Messages,
    Help,
    Quit,
    /// Ctrl-Z: says why the console does not suspend.
    NoSuspend,
}

/// A key as pressed: its code, and whether Ctrl was held (Shift is in the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn plain(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

const fn code(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

#[derive(Debug)]
pub struct Binding {
    pub keys: &'static [Key],
    pub action: Action,
    /// The help overlay's line: the keys as written, and what they do. `None` when the line
    /// before names this key too (`r  R`), or the key has no line of its own.
    pub help: Option<(&'static str, &'static str)>,
    /// The footer's hint and the panes whose footer shows it.
    pub hint: Option<(&'static str, &'static [Pane])>,
    /// Also while an overlay is open (Ctrl-C must always reach the quit).
    pub anywhere: bool,
}

const ALL: &[Pane] = &[Pane::Orders, Pane::Workers, Pane::Feed];
const ORDERS: &[Pane] = &[Pane::Orders];
const WORKERS: &[Pane] = &[Pane::Workers];
const NOT_ORDERS: &[Pane] = &[Pane::Workers, Pane::Feed];

const fn bind(keys: &'static [Key], action: Action) -> Binding {
    Binding {
        keys,
        action,
        help: None,
        hint: None,
        anywhere: false,
    }
}

const fn help(mut b: Binding, keys: &'static str, text: &'static str) -> Binding {
    b.help = Some((keys, text));
    b
}

const fn hint(mut b: Binding, text: &'static str, panes: &'static [Pane]) -> Binding {
    b.hint = Some((text, panes));
    b
}

const fn anywhere(mut b: Binding) -> Binding {
    b.anywhere = true;
    b
}

/// In the order the footer and the help list them.
pub const KEYMAP: &[Binding] = &[
    hint(
        help(
            bind(
                &[plain('n'), plain('d'), plain('t'), plain('v')],
                Action::NewOrder,
            ),
            "n  d t v",
            "new order (any type / dine-in / takeout / delivery)",
        ),
        "n/d/t/v order",
        ORDERS,
    ),
    hint(
        help(
            bind(&[plain('b')], Action::Bump),
            "b",
            "bump the selected ticket (complete it)",
        ),
        "b bump",
        ORDERS,
    ),
    hint(
        help(
            bind(&[plain('c')], Action::Cancel),
            "c",
            "cancel the selected ticket (asks; y or ⏎ cancels)",
        ),
        "c cancel",
        ORDERS,
    ),
    hint(
        help(
            bind(&[code(KeyCode::Enter)], Action::Detail),
            "⏎  !",
            "the ticket's detail and history / mark it rush",
        ),
        "⏎ detail",
        ORDERS,
    ),
    hint(bind(&[plain('!')], Action::Rush), "! rush", ORDERS),
    hint(
        help(
            bind(&[plain('r')], Action::RecallLast),
            "r  R",
            "recall the last bump from here / the recent-orders list",
        ),
        "r recall",
        ORDERS,
    ),
    bind(&[plain('R')], Action::RecallList),
    hint(
        help(
            bind(&[plain('/')], Action::Search),
            "/  Esc",
            "search (t12 table, 12 order, name, dish, address) / clear",
        ),
        "/ search",
        ORDERS,
    ),
    bind(&[code(KeyCode::Esc)], Action::Escape),
    hint(
        help(
            bind(
                &[plain('1'), plain('2'), plain('3'), plain('4'), plain('5')],
                Action::Station,
            ),
            "1-5",
            "station: all, dine-in, takeout, delivery, expo (ready)",
        ),
        "1-5 station",
        ORDERS,
    ),
    help(
        bind(&[plain('o')], Action::Sort),
        "o",
        "sort by urgency or age",
    ),
    hint(
        help(
            bind(&[plain('w')], Action::NewWorker),
            "w  s  x",
            "start a worker / stop the selected / clear offline",
        ),
        "w start worker",
        WORKERS,
    ),
    hint(
        bind(&[plain('s')], Action::StopWorker),
        "s stop selected",
        WORKERS,
    ),
    hint(
        bind(&[plain('x')], Action::ClearOffline),
        "x clear offline",
        WORKERS,
    ),
    hint(
        help(
            bind(
                &[
                    code(KeyCode::Down),
                    plain('j'),
                    code(KeyCode::Up),
                    plain('k'),
                    code(KeyCode::PageDown),
                    code(KeyCode::PageUp),
                    ctrl('d'),
                    ctrl('u'),
                    code(KeyCode::Home),
                    plain('g'),
                    code(KeyCode::End),
                    plain('G'),
                ],
                Action::Move,
            ),
            "j k ↑↓",
            "move; PgUp PgDn, Ctrl-D Ctrl-U, g G Home End jump",
        ),
        "↑↓ scroll the feed",
        &[Pane::Feed],
    ),
    hint(
        help(
            bind(
                &[code(KeyCode::Tab), code(KeyCode::Right), plain('l')],
                Action::NextPane,
            ),
            "Tab h l",
            "next / previous pane; the mouse clicks and scrolls",
        ),
        "Tab next pane",
        NOT_ORDERS,
    ),
    bind(
        &[code(KeyCode::BackTab), code(KeyCode::Left), plain('h')],
        Action::PreviousPane,
    ),
    hint(
        help(
            bind(&[plain('m')], Action::Messages),
            "m",
            "the message log",
        ),
        "m messages",
        NOT_ORDERS,
    ),
    hint(bind(&[plain('?')], Action::Help), "? help", ALL),
    hint(
        help(
            bind(&[plain('q')], Action::Quit),
            "q  ^C",
            "quit: workers stop gracefully (again forces)",
        ),
        "q quit",
        ALL,
    ),
    anywhere(bind(&[ctrl('c')], Action::Quit)),
    anywhere(bind(&[ctrl('z')], Action::NoSuspend)),
];

impl Key {
    fn pressed(key: KeyEvent) -> Key {
        Key {
            code: key.code,
            ctrl: key.modifiers.contains(KeyModifiers::CONTROL),
        }
    }
}

/// The binding of a pressed key, if it has one.
pub fn binding(key: KeyEvent) -> Option<&'static Binding> {
    let pressed = Key::pressed(key);
    KEYMAP.iter().find(|b| b.keys.contains(&pressed))
}

/// The help overlay's lines, in the table's order.
pub fn help_lines() -> impl Iterator<Item = (&'static str, &'static str)> {
    KEYMAP.iter().filter_map(|b| b.help)
}

/// The footer's hints for the focused pane, as one line.
pub fn hints(pane: Pane) -> String {
    KEYMAP
        .iter()
        .filter_map(|b| b.hint)
        .filter(|(_, panes)| panes.contains(&pane))
        .fold(String::new(), |line, (text, _)| line + " " + text + " ")
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key bound twice would do whichever comes first; the table must not allow it.
    #[test]
    fn no_key_is_bound_twice() {
        let mut seen = Vec::new();
        for b in KEYMAP {
            for k in b.keys {
                assert!(!seen.contains(k), "{k:?} is bound twice");
                seen.push(*k);
            }
        }
    }

    #[test]
    fn every_pane_hints_help_and_quit() {
        for pane in [Pane::Orders, Pane::Workers, Pane::Feed] {
            let line = hints(pane);
            assert!(line.ends_with("? help  q quit"), "{pane:?}: {line}");
        }
    }
}
