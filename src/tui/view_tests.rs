use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

use super::app::app_tests::{app, key, t};
use super::app::{ApiState, App, Msg, update};
use crate::broker::BrokerStatus;
use crate::domain::{OrderStatus, StatusUpdate};
use crate::store::{HistoryEntry, WorkerRecord};

fn kitchen() -> App {
    let mut app = app();
    app.database_kind = "sqlite".into();
    app.broker_kind = "memory".into();
    update(&mut app, Msg::Broker(BrokerStatus::Connected));
    update(
        &mut app,
        Msg::Api(ApiState::Listening("127.0.0.1:3000".parse().unwrap())),
    );
    update(
        &mut app,
        Msg::Workers(vec![
            WorkerRecord {
                name: "chef_mario".into(),
                order_types: "general".into(),
                status: "processing".into(),
                last_seen: t(95),
                orders_processed: 12,
                heartbeat_interval: std::time::Duration::from_secs(30),
            },
            WorkerRecord {
                name: "chef_luigi".into(),
                order_types: "dine_in".into(),
                status: "online".into(),
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
    app.notice = None;
    app
}

fn render(app: &App, width: u16, height: u16) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| super::view::draw(f, app)).unwrap();
    terminal.backend().clone()
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
    let mut app = App::new(
        t(0),
        Default::default(),
        "/tmp/restaurant-tui/console.log".into(),
    );
    app.database_kind = "sqlite".into();
    app.broker_kind = "memory".into();
    both_sizes("empty", &app);
}

#[test]
fn the_help_overlay() {
    let mut app = kitchen();
    update(&mut app, key(KeyCode::Char('?')));
    both_sizes("help", &app);
}

#[test]
fn the_order_form_with_its_rules() {
    let mut app = kitchen();
    update(&mut app, key(KeyCode::Char('n')));
    update(&mut app, key(KeyCode::Char('+')));
    update(&mut app, key(KeyCode::Down));
    update(&mut app, key(KeyCode::Char('+')));
    update(&mut app, key(KeyCode::Char('+')));
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Char('0')));
    both_sizes("order_form", &app);
}

#[test]
fn the_worker_form() {
    let mut app = kitchen();
    update(&mut app, key(KeyCode::Char('w')));
    update(&mut app, key(KeyCode::F(1)));
    both_sizes("worker_form", &app);
}

#[test]
fn an_order_detail_with_history() {
    let mut app = kitchen();
    update(
        &mut app,
        Msg::History(
            "ORD_20241216_001".into(),
            vec![
                HistoryEntry {
                    status: OrderStatus::Received,
                    changed_by: Some("order-service".into()),
                    changed_at: t(0),
                    notes: None,
                },
                HistoryEntry {
                    status: OrderStatus::Cooking,
                    changed_by: Some("chef_mario".into()),
                    changed_at: t(10),
                    notes: None,
                },
            ],
        ),
    );
    both_sizes("detail", &app);
}

#[test]
fn a_broker_outage_banner_and_a_filter() {
    let mut app = kitchen();
    update(&mut app, Msg::Broker(BrokerStatus::Reconnecting));
    update(&mut app, key(KeyCode::Char('/')));
    update(&mut app, key(KeyCode::Char('t')));
    update(&mut app, key(KeyCode::Char('a')));
    both_sizes("outage_filter", &app);
}
