use ratatui::Terminal;
use ratatui::backend::{Backend, TestBackend};
use ratatui::crossterm::event::KeyCode;

use super::app::app_tests::{app, key, order, t};
use super::app::{ApiState, App, Msg, update};
use crate::domain::{Money, OrderStatus, OrderType, StatusUpdate};
use crate::store::{HistoryEntry, ItemRecord, WorkerRecord};

fn kitchen() -> App {
    let mut app = app();
    app.setup.database_kind = "sqlite".into();
    app.setup.broker_kind = "memory".into();
    update(&mut app, Msg::Broker(Ok(())));
    update(&mut app, Msg::Database(Ok(())));
    update(
        &mut app,
        Msg::Api(ApiState::Listening("127.0.0.1:3000".parse().unwrap())),
    );
    update(
        &mut app,
        Msg::Workers(vec![
            WorkerRecord {
                name: "chef_mario".into(),
                order_types: "general".parse().unwrap(),
                status: "processing".parse().unwrap(),
                last_seen: t(95),
                orders_processed: 12,
                heartbeat_interval: std::time::Duration::from_secs(30),
            },
            WorkerRecord {
                name: "chef_luigi".into(),
                order_types: "dine_in".parse().unwrap(),
                status: "online".parse().unwrap(),
                last_seen: t(50),
                orders_processed: 3,
                heartbeat_interval: std::time::Duration::from_secs(30),
            },
        ]),
    );
    for (i, (from, to)) in [
        (None, OrderStatus::Received),
        (Some(OrderStatus::Received), OrderStatus::Cooking),
        (Some(OrderStatus::Cooking), OrderStatus::Ready),
    ]
    .into_iter()
    .enumerate()
    {
        update(
            &mut app,
            Msg::Update(StatusUpdate {
                order_number: "ORD_20241216_001".into(),
                old_status: from,
                new_status: to,
                changed_by: if to == OrderStatus::Received {
                    "order-service".into()
                } else {
                    "chef_mario".into()
                },
                timestamp: t(i as u32 * 10),
                estimated_completion: None,
            }),
        );
    }
    app.health.log.clear();
    // A long ticket, a rush, notes: what a line reads off the screen.
    let mut big = order(4, OrderType::DineIn, OrderStatus::Received, 10, 50);
    big.table_number = Some(12);
    big.customer_name = "Zoë Brandt".into();
    big.notes = Some("birthday: candle on the tiramisu".into());
    big.rush = true;
    big.items = (0..20)
        .map(|i| ItemRecord {
            name: [
                "Quattro Formaggi",
                "Caesar Salad",
                "Garlic Bread",
                "Lemonade",
            ][i % 4]
                .into(),
            quantity: 1 + (i as u32 % 3),
            price: Money::from_cents(950),
            notes: (i == 0).then(|| "no olives".into()),
        })
        .collect();
    update(&mut app, Msg::Order(big));
    app
}

/// The screen as text, then every style run and the cursor: colours are part of the contract.
fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| super::view::draw(f, app)).unwrap();
    let backend = terminal.backend_mut();
    let cursor = backend
        .get_cursor_position()
        .map(|p| format!("({}, {})", p.x, p.y))
        .unwrap_or_default();
    let visible = backend.cursor_visible();
    format!(
        "{}\ncursor {cursor} visible {visible}\n{:?}",
        backend,
        backend.buffer()
    )
}

fn both_sizes(name: &str, app: &App) {
    insta::assert_snapshot!(format!("{name}_80x24"), render(app, 80, 24));
    insta::assert_snapshot!(format!("{name}_120x40"), render(app, 120, 40));
}

#[test]
fn the_kitchen_panes() {
    both_sizes("panes", &kitchen());
}

#[test]
fn an_empty_kitchen() {
    let mut app = App::new(t(0), "/tmp/restaurant-tui/console.log".into());
    app.setup.database_kind = "sqlite".into();
    app.setup.broker_kind = "memory".into();
    app.setup.station = "pass".into();
    both_sizes("empty", &app);
}

#[test]
fn the_help_overlay() {
    let mut app = kitchen();
    update(&mut app, key(KeyCode::Char('?')));
    both_sizes("help", &app);
}

#[test]
fn the_order_form_with_its_rules_and_cursor() {
    let mut app = kitchen();
    update(&mut app, key(KeyCode::Char('d')));
    update(&mut app, key(KeyCode::Char('0')));
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Char('2')));
    update(&mut app, key(KeyCode::Char('q')));
    update(&mut app, key(KeyCode::Char('1')));
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Char('Z')));
    both_sizes("order_form", &app);
}

#[test]
fn the_worker_form() {
    let mut app = kitchen();
    update(&mut app, key(KeyCode::Char('w')));
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Char('v')));
    both_sizes("worker_form", &app);
}

#[test]
fn an_order_detail_with_every_item_and_its_history() {
    let mut app = kitchen();
    update(
        &mut app,
        Msg::History(
            "ORD_20241216_004".into(),
            None,
            vec![HistoryEntry {
                status: OrderStatus::Received,
                changed_by: Some("order-service".into()),
                changed_at: t(50),
                notes: None,
            }],
        ),
    );
    both_sizes("detail", &app);
    for _ in 0..30 {
        update(&mut app, key(KeyCode::Down));
    }
    both_sizes("detail_scrolled", &app);
}

#[test]
fn the_cancel_question() {
    let mut app = kitchen();
    update(&mut app, key(KeyCode::Char('c')));
    both_sizes("confirm_cancel", &app);
}

#[test]
fn outage_banners_in_words_and_the_search_prompt() {
    let mut app = kitchen();
    update(&mut app, Msg::Database(Err("connection refused".into())));
    update(&mut app, Msg::Broker(Err("authentication failed".into())));
    update(&mut app, key(KeyCode::Char('/')));
    update(&mut app, key(KeyCode::Char('t')));
    update(&mut app, key(KeyCode::Char('a')));
    both_sizes("outage_search", &app);
}

#[test]
fn the_recall_list() {
    let mut app = kitchen();
    update(&mut app, key(KeyCode::Char('R')));
    let mut done = order(9, OrderType::Takeout, OrderStatus::Completed, 1, 0);
    done.updated_at = t(90);
    let gone = order(8, OrderType::Delivery, OrderStatus::Cancelled, 1, 0);
    update(&mut app, Msg::Finished(vec![done, gone]));
    both_sizes("recall", &app);
}

#[test]
fn late_tickets_turn_amber_then_red_by_the_configured_targets() {
    let mut app = kitchen();
    app.setup.targets.takeout.late = crate::config::MinSec(std::time::Duration::from_secs(60));
    app.setup.targets.takeout.very_late =
        crate::config::MinSec(std::time::Duration::from_secs(120));
    update(&mut app, Msg::Tick(t(200)));
    both_sizes("late", &app);
}

#[test]
fn a_terminal_too_small_says_how_large_it_must_be() {
    insta::assert_snapshot!("too_small", render(&kitchen(), 50, 12));
}
