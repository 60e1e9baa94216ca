use super::*;
use crate::domain::{Money, OrderType};
use crate::store::ItemRecord;
use chrono::TimeZone;
use ratatui::crossterm::event::{KeyEvent, KeyModifiers};

pub(crate) fn t(s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 12, 16, 12, 0, 0).unwrap() + chrono::Duration::seconds(i64::from(s))
}

pub(crate) fn order(
    n: u32,
    kind: OrderType,
    status: OrderStatus,
    priority: u8,
    at: u32,
) -> OrderRecord {
    OrderRecord {
        number: format!("ORD_20241216_{n:03}"),
        customer_name: "Ann Lee".into(),
        order_type: kind,
        table_number: (kind == OrderType::DineIn).then_some(7),
        delivery_address: (kind == OrderType::Delivery).then(|| "12 Baker Street, London".into()),
        items: vec![ItemRecord {
            name: "Margherita".into(),
            quantity: 2,
            price: Money::from_cents(1250),
        }],
        total: Money::from_cents(2500),
        priority,
        status,
        processed_by: (status == OrderStatus::Cooking).then(|| "chef_mario".into()),
        created_at: t(at),
        updated_at: t(at),
        completed_at: None,
        estimated_completion: None,
    }
}

pub(crate) fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub(crate) fn app() -> App {
    let mut app = App::new(
        t(100),
        CookTimes::default(),
        "/tmp/restaurant-tui/console.log".into(),
    );
    update(
        &mut app,
        Msg::Orders(vec![
            order(1, OrderType::DineIn, OrderStatus::Cooking, 1, 0),
            order(2, OrderType::Takeout, OrderStatus::Received, 10, 30),
            order(3, OrderType::Delivery, OrderStatus::Ready, 5, 10),
        ]),
    );
    app
}

#[test]
fn urgent_orders_come_first_and_ready_ones_last() {
    let app = app();
    let order: Vec<&str> = app
        .visible_orders()
        .iter()
        .map(|o| &o.number[13..])
        .collect();
    assert_eq!(order, ["002", "001", "003"]);
}

#[test]
fn a_filter_narrows_the_queue_as_typed() {
    let mut app = app();
    update(&mut app, key(KeyCode::Char('/')));
    for c in "deliv".chars() {
        update(&mut app, key(KeyCode::Char(c)));
    }
    assert_eq!(app.visible_orders().len(), 1);
    update(&mut app, key(KeyCode::Enter));
    assert!(
        app.overlay.is_none(),
        "enter keeps the filter and closes the prompt"
    );
    assert_eq!(app.visible_orders().len(), 1);
    update(&mut app, key(KeyCode::Esc));
    assert_eq!(app.visible_orders().len(), 3);
}

#[test]
fn keys_on_the_selected_order_become_commands() {
    let mut app = app();
    update(&mut app, key(KeyCode::Down));
    assert_eq!(
        update(&mut app, key(KeyCode::Char('c'))),
        [Command::Cancel("ORD_20241216_001".into())]
    );
    assert_eq!(
        update(&mut app, key(KeyCode::Char('b'))),
        [Command::Complete("ORD_20241216_001".into())]
    );
    assert_eq!(
        update(&mut app, key(KeyCode::Enter)),
        [Command::LoadHistory("ORD_20241216_001".into())]
    );
    assert_eq!(update(&mut app, key(KeyCode::Char('r'))), []);
    assert!(
        matches!(app.notice, Some(Notice::Error(_))),
        "nothing to recall yet"
    );
}

#[test]
fn the_order_form_places_only_a_valid_order() {
    let mut app = app();
    update(&mut app, key(KeyCode::Char('n')));
    assert_eq!(
        update(&mut app, key(KeyCode::Enter)),
        [],
        "an empty order is refused"
    );
    assert!(
        matches!(&app.notice, Some(Notice::Error(e)) if e.contains("customer_name") || e.contains("items"))
    );
    update(&mut app, key(KeyCode::Char('+'))); // 1 × Margherita
    update(&mut app, key(KeyCode::Tab)); // type: dine_in
    update(&mut app, key(KeyCode::Char('t'))); // takeout
    update(&mut app, key(KeyCode::Tab)); // table/address: not needed for takeout
    update(&mut app, key(KeyCode::Tab));
    for c in "Zoë".chars() {
        update(&mut app, key(KeyCode::Char(c)));
    }
    let commands = update(&mut app, key(KeyCode::Enter));
    let [Command::PlaceOrder(draft)] = commands.as_slice() else {
        panic!("{commands:?}")
    };
    let order = crate::domain::validate(draft).unwrap();
    assert_eq!(order.customer_name, "Zoë");
    assert_eq!(order.order_type(), OrderType::Takeout);
    assert_eq!(order.total(), Money::from_cents(1250));
}

#[test]
fn the_form_shows_the_apis_rules_as_you_type() {
    let mut f = super::form::OrderForm::new(super::form::default_menu());
    f.key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    f.key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    f.key(KeyEvent::new(KeyCode::Char('0'), KeyModifiers::NONE)); // table 0
    assert_eq!(
        f.error_for("table_number"),
        Some("must be between 1 and 100")
    );
    f.key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
    f.key(KeyEvent::new(KeyCode::Char('9'), KeyModifiers::NONE));
    assert_eq!(f.error_for("table_number"), None);
}

#[test]
fn status_updates_feed_the_feed_newest_first_and_bounded() {
    let mut app = app();
    for i in 0..(FEED_LIMIT + 10) {
        update(
            &mut app,
            Msg::Update(StatusUpdate {
                order_number: format!("ORD_20241216_{i:03}"),
                old_status: Some(OrderStatus::Received),
                new_status: OrderStatus::Cooking,
                changed_by: "chef_mario".into(),
                timestamp: t(i as u32),
                estimated_completion: None,
            }),
        );
    }
    assert_eq!(app.feed.len(), FEED_LIMIT);
    assert_eq!(
        app.feed[0].order_number,
        format!("ORD_20241216_{:03}", FEED_LIMIT + 9)
    );
}

#[test]
fn quitting_asks_for_a_graceful_stop_then_forces() {
    let mut app = app();
    assert_eq!(
        update(&mut app, key(KeyCode::Char('q'))),
        [Command::Quit { force: false }]
    );
    assert_eq!(
        update(&mut app, key(KeyCode::Char('q'))),
        [Command::Quit { force: true }]
    );
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(update(&mut app, ctrl_c), [Command::Quit { force: true }]);
}

#[test]
fn ctrl_c_and_signals_are_q_graceful_first_then_forced() {
    let ctrl_c = || Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    let mut keys = app();
    assert_eq!(
        update(&mut keys, ctrl_c()),
        [Command::Quit { force: false }]
    );
    assert_eq!(update(&mut keys, ctrl_c()), [Command::Quit { force: true }]);
    let mut signals = app();
    assert_eq!(
        update(&mut signals, Msg::Signal("SIGTERM")),
        [Command::Quit { force: false }]
    );
    assert!(matches!(&signals.notice, Some(Notice::Info(t)) if t.contains("SIGTERM")));
    assert_eq!(
        update(&mut signals, Msg::Signal("SIGHUP")),
        [Command::Quit { force: true }]
    );
}

#[test]
fn ctrl_z_says_why_the_kitchen_keeps_running() {
    let mut app = app();
    let ctrl_z = Msg::Key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL));
    assert!(update(&mut app, ctrl_z).is_empty());
    assert!(matches!(&app.notice, Some(Notice::Info(t)) if t.contains("Ctrl-Z")));
    assert!(update(&mut app, Msg::Suspend).is_empty());
}

#[test]
fn a_task_that_fails_or_goes_offline_is_said() {
    use crate::supervisor::TaskState;
    let mut app = app();
    update(
        &mut app,
        Msg::Task("worker chef_2".into(), TaskState::Stopped),
    );
    assert!(matches!(&app.notice, Some(Notice::Info(t)) if t == "chef_2 is offline"));
    update(
        &mut app,
        Msg::Task(
            "relay".into(),
            TaskState::Restarting {
                error: "it panicked: boom".into(),
            },
        ),
    );
    assert!(
        matches!(&app.notice, Some(Notice::Error(t)) if t.contains("relay stopped unexpectedly"))
    );
}

#[test]
fn a_broker_outage_and_its_end_are_said() {
    let mut app = app();
    update(
        &mut app,
        Msg::Broker(crate::broker::BrokerStatus::Reconnecting),
    );
    update(
        &mut app,
        Msg::Broker(crate::broker::BrokerStatus::Connected),
    );
    assert!(matches!(&app.notice, Some(Notice::Info(t)) if t.contains("back")));
}

#[test]
fn stopping_a_worker_needs_the_workers_pane() {
    let mut app = app();
    update(
        &mut app,
        Msg::Workers(vec![crate::store::WorkerRecord {
            name: "chef_mario".into(),
            order_types: "general".into(),
            status: "online".into(),
            last_seen: t(95),
            orders_processed: 3,
            heartbeat_interval: std::time::Duration::from_secs(30),
        }]),
    );
    assert_eq!(update(&mut app, key(KeyCode::Char('s'))), []);
    update(&mut app, key(KeyCode::Tab));
    assert_eq!(
        update(&mut app, key(KeyCode::Char('s'))),
        [Command::StopWorker("chef_mario".into())]
    );
    assert_eq!(app.stopping, ["chef_mario"]);
}

#[test]
fn background_news_does_not_hide_an_error() {
    let mut app = app();
    update(
        &mut app,
        Msg::Api(ApiState::Unavailable(
            "the API cannot listen on 127.0.0.1:3000".into(),
        )),
    );
    update(&mut app, Msg::WorkerStarted("chef_1".into()));
    assert!(matches!(&app.notice, Some(Notice::Error(e)) if e.contains("cannot listen")));
    update(&mut app, Msg::Done(Ok("placed ORD_20241216_004".into())));
    assert!(
        matches!(&app.notice, Some(Notice::Info(_))),
        "the operator's own result replaces it"
    );
}

#[test]
fn the_worker_form_refuses_a_name_the_cli_would_refuse_and_stays_open() {
    let mut app = app();
    app.focus = Pane::Workers;
    update(&mut app, key(KeyCode::Char('w')));
    let Some(Overlay::NewWorker(form)) = &mut app.overlay else {
        panic!("the worker form opens");
    };
    form.name = tui_input::Input::new("chef\u{202e}1".into());
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    let Some(Overlay::NewWorker(form)) = &app.overlay else {
        panic!("the form stays open");
    };
    assert!(
        form.error
            .as_deref()
            .is_some_and(|e| e.contains("letters, digits"))
    );
    update(&mut app, key(KeyCode::Backspace));
    update(&mut app, key(KeyCode::Backspace));
    assert_eq!(
        update(&mut app, key(KeyCode::Enter)),
        [Command::StartWorker {
            name: "chef".into(),
            specialty: Specialty::general(),
            prefetch: 1
        }]
    );
}
