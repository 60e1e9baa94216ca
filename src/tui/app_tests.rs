//! `update` stories: one per rule of the console (CONTRACT §7), each from the keys and
//! messages an operator's shift is made of.

use super::*;
use crate::domain::{Money, OrderType};
use crate::store::ItemRecord;
use crate::tui::feed::FEED_LIMIT;
use crate::tui::form::OrderForm;
use crate::tui::health::Level;
use crate::tui::queue::Station;
use chrono::TimeZone;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEventKind};

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
            notes: None,
        }],
        total: Money::from_cents(2500),
        priority,
        status,
        processed_by: (status == OrderStatus::Cooking).then(|| "chef_mario".into()),
        created_at: t(at),
        updated_at: t(at),
        completed_at: None,
        estimated_completion: None,
        notes: None,
        rush: false,
    }
}

pub(crate) fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub(crate) fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub(crate) fn typed(app: &mut App, text: &str) -> Vec<Command> {
    text.chars()
        .flat_map(|c| update(app, key(KeyCode::Char(c))))
        .collect()
}

pub(crate) fn app() -> App {
    let mut app = App::new(t(100), "/tmp/restaurant-tui/console.log".into());
    app.setup.station = "pass".into();
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

fn shown(app: &App) -> Vec<String> {
    (0..app.orders.queue.len())
        .map(|i| app.orders.queue.at(i).unwrap().number[13..].to_string())
        .collect()
}

fn selected(app: &App) -> String {
    app.orders.queue.selected().unwrap().number[13..].to_string()
}

fn last_notice(app: &App) -> String {
    app.health
        .log
        .back()
        .map(|n| n.text.clone())
        .unwrap_or_default()
}

fn arrival(n: u32, at: u32) -> StatusUpdate {
    StatusUpdate {
        order_number: format!("ORD_20241216_{n:03}"),
        old_status: None,
        new_status: OrderStatus::Received,
        changed_by: "order-service".into(),
        timestamp: t(at),
        estimated_completion: None,
    }
}

fn change(n: u32, from: OrderStatus, to: OrderStatus, at: u32) -> StatusUpdate {
    StatusUpdate {
        order_number: format!("ORD_20241216_{n:03}"),
        old_status: Some(from),
        new_status: to,
        changed_by: "chef_luigi".into(),
        timestamp: t(at),
        estimated_completion: None,
    }
}

#[test]
fn urgent_orders_come_first_and_ready_ones_last() {
    assert_eq!(shown(&app()), ["002", "001", "003"]);
}

#[test]
fn the_selection_is_an_order_kept_across_arrivals_resorts_and_refreshes() {
    let mut app = app();
    update(&mut app, key(KeyCode::Down));
    assert_eq!(selected(&app), "001");
    // An urgent order arrives above it: read from the store, placed on top; the cursor stays.
    let commands = update(&mut app, Msg::Update(arrival(4, 101)));
    assert_eq!(commands, [Command::LoadOrder("ORD_20241216_004".into())]);
    update(
        &mut app,
        Msg::Order(order(4, OrderType::Takeout, OrderStatus::Received, 10, 0)),
    );
    assert_eq!(shown(&app), ["004", "002", "001", "003"]);
    assert_eq!(selected(&app), "001");
    // A re-sort by a status change, and a store reconciliation: still 001.
    update(
        &mut app,
        Msg::Update(change(2, OrderStatus::Received, OrderStatus::Ready, 102)),
    );
    assert_eq!(selected(&app), "001");
    let orders: Vec<OrderRecord> = app.orders.queue.all().cloned().collect();
    update(&mut app, Msg::Orders(orders));
    assert_eq!(selected(&app), "001");
    assert_eq!(
        update(&mut app, key(KeyCode::Char('b'))),
        [Command::Complete("ORD_20241216_001".into())]
    );
}

#[test]
fn an_update_is_applied_in_place_without_reading_the_store() {
    let mut app = app();
    let commands = update(
        &mut app,
        Msg::Update(change(2, OrderStatus::Received, OrderStatus::Cooking, 101)),
    );
    assert!(commands.is_empty(), "{commands:?}");
    let o = app.orders.queue.get("ORD_20241216_002").unwrap();
    assert_eq!(o.status, OrderStatus::Cooking);
    assert_eq!(o.processed_by.as_deref(), Some("chef_luigi"));
    // A reconciliation read before the update does not undo it.
    update(
        &mut app,
        Msg::Orders(vec![order(
            2,
            OrderType::Takeout,
            OrderStatus::Received,
            10,
            30,
        )]),
    );
    assert_eq!(
        app.orders.queue.get("ORD_20241216_002").unwrap().status,
        OrderStatus::Cooking
    );
}

#[test]
fn when_the_selected_order_leaves_the_cursor_goes_to_its_neighbour_and_says_so() {
    let mut app = app();
    update(&mut app, key(KeyCode::Down));
    update(
        &mut app,
        Msg::Update(change(1, OrderStatus::Ready, OrderStatus::Completed, 101)),
    );
    assert_eq!(shown(&app), ["002", "003"]);
    assert_eq!(selected(&app), "003");
    assert!(
        last_notice(&app).contains("#001 has left the kitchen; the selection moved to #003"),
        "{}",
        last_notice(&app)
    );
}

#[test]
fn order_keys_belong_to_the_orders_pane() {
    let mut app = app();
    update(&mut app, key(KeyCode::Tab));
    assert_eq!(app.focus, Pane::Workers);
    for k in [
        KeyCode::Char('c'),
        KeyCode::Char('b'),
        KeyCode::Enter,
        KeyCode::Char('!'),
    ] {
        assert_eq!(update(&mut app, key(k)), [], "{k:?}");
        assert!(last_notice(&app).contains("Tab to the orders pane"));
    }
    assert!(app.overlay.is_none(), "nothing asked, nothing opened");
}

#[test]
fn cancel_asks_first_and_anything_but_yes_keeps_the_order() {
    let mut app = app();
    assert_eq!(update(&mut app, key(KeyCode::Char('c'))), []);
    assert!(
        matches!(&app.overlay, Some(Overlay::ConfirmCancel { number, .. }) if number.ends_with("002"))
    );
    assert_eq!(update(&mut app, key(KeyCode::Char('x'))), []);
    assert!(app.overlay.is_none());
    assert!(last_notice(&app).contains("#002 kept"));
    update(&mut app, key(KeyCode::Char('c')));
    assert_eq!(
        update(&mut app, key(KeyCode::Char('y'))),
        [Command::Cancel {
            number: "ORD_20241216_002".into(),
            reason: None
        }]
    );
    // With a reason: Tab, the words, Enter.
    update(&mut app, key(KeyCode::Char('c')));
    update(&mut app, key(KeyCode::Tab));
    typed(&mut app, "customer left");
    assert_eq!(
        update(&mut app, key(KeyCode::Enter)),
        [Command::Cancel {
            number: "ORD_20241216_002".into(),
            reason: Some("customer left".into())
        }]
    );
}

#[test]
fn the_cancel_question_names_the_order() {
    let app = app();
    assert_eq!(
        app.orders.describe("ORD_20241216_001"),
        "#001 (table 7, Ann Lee): 2×Margherita"
    );
}

#[test]
fn search_finds_tables_customers_dishes_addresses_and_numbers_live() {
    let mut app = app();
    let mut other = order(4, OrderType::DineIn, OrderStatus::Received, 1, 40);
    other.table_number = Some(12);
    other.customer_name = "Zoë Brandt".into();
    other.items[0].name = "Tiramisu".into();
    update(&mut app, Msg::Order(other));
    let search = |app: &mut App, q: &str| {
        update(app, key(KeyCode::Char('/')));
        typed(app, q);
        update(app, key(KeyCode::Enter));
        let found = shown(app);
        update(app, key(KeyCode::Esc));
        found
    };
    assert_eq!(search(&mut app, "t12"), ["004"]);
    assert_eq!(search(&mut app, "zoë"), ["004"]);
    assert_eq!(search(&mut app, "tira"), ["004"]);
    assert_eq!(search(&mut app, "baker"), ["003"]);
    assert_eq!(search(&mut app, "3"), ["003"]);
    assert_eq!(shown(&app).len(), 4, "Esc cleared the search");
    // Live: the queue narrows as each letter is typed; Enter keeps it.
    update(&mut app, key(KeyCode::Char('/')));
    typed(&mut app, "del");
    assert_eq!(shown(&app), ["003"]);
    update(&mut app, key(KeyCode::Enter));
    assert!(app.overlay.is_none());
    assert_eq!(shown(&app), ["003"]);
    update(&mut app, key(KeyCode::Esc));
    assert_eq!(shown(&app).len(), 4);
}

#[test]
fn number_keys_switch_stations() {
    let mut app = app();
    update(&mut app, key(KeyCode::Char('5')));
    assert_eq!(app.orders.queue.station(), Station::Expo);
    assert_eq!(shown(&app), ["003"]);
    update(&mut app, key(KeyCode::Char('3')));
    assert_eq!(shown(&app), ["002"]);
    update(&mut app, key(KeyCode::Char('1')));
    assert_eq!(shown(&app).len(), 3);
}

#[test]
fn paging_keys_reach_the_last_of_300_tickets() {
    let mut app = App::new(t(1000), "log".into());
    update(
        &mut app,
        Msg::Orders(
            (1..=300)
                .map(|n| order(n, OrderType::Takeout, OrderStatus::Received, 1, n))
                .collect(),
        ),
    );
    assert_eq!(app.orders.queue.position(), "1/300");
    update(&mut app, key(KeyCode::Char('G')));
    assert_eq!(app.orders.queue.position(), "300/300");
    update(&mut app, key(KeyCode::Char('g')));
    app.orders.queue.page.set(6);
    update(&mut app, key(KeyCode::PageDown));
    assert_eq!(app.orders.queue.position(), "7/300");
    update(&mut app, ctrl('d'));
    assert_eq!(app.orders.queue.position(), "10/300");
    update(&mut app, ctrl('u'));
    update(&mut app, key(KeyCode::PageUp));
    assert_eq!(app.orders.queue.position(), "1/300");
    update(&mut app, key(KeyCode::End));
    assert_eq!(app.orders.queue.position(), "300/300");
}

#[test]
fn a_click_selects_and_focuses_the_wheel_scrolls() {
    let mut app = app();
    app.focus = Pane::Feed;
    app.hits.borrow_mut().push((
        Rect::new(0, 5, 40, 3),
        Hit::Order("ORD_20241216_003".into()),
    ));
    let mouse = |kind, row| {
        Msg::Mouse(MouseEvent {
            kind,
            column: 2,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    update(&mut app, mouse(MouseEventKind::Down(MouseButton::Left), 6));
    assert_eq!(app.focus, Pane::Orders);
    assert_eq!(selected(&app), "003");
    update(&mut app, mouse(MouseEventKind::ScrollUp, 6));
    assert_eq!(selected(&app), "002");
}

#[test]
fn r_recalls_the_last_bump_from_this_console_and_capital_r_lists_the_recent() {
    let mut app = app();
    assert_eq!(
        update(&mut app, key(KeyCode::Char('r'))),
        [Command::LoadFinished]
    );
    assert!(matches!(
        app.overlay,
        Some(Overlay::Recall { orders: None, .. })
    ));
    let mut done = order(9, OrderType::Takeout, OrderStatus::Completed, 1, 0);
    done.updated_at = t(90);
    let gone = order(8, OrderType::Takeout, OrderStatus::Cancelled, 1, 0);
    update(&mut app, Msg::Finished(vec![done, gone]));
    update(&mut app, key(KeyCode::Down));
    assert_eq!(
        update(&mut app, key(KeyCode::Enter)),
        [],
        "a cancelled order cannot come back"
    );
    update(&mut app, key(KeyCode::Up));
    assert_eq!(
        update(&mut app, key(KeyCode::Enter)),
        [Command::Recall("ORD_20241216_009".into())]
    );
    update(&mut app, Msg::Bumped("ORD_20241216_003".into()));
    assert_eq!(
        update(&mut app, key(KeyCode::Char('r'))),
        [Command::Recall("ORD_20241216_003".into())]
    );
}

#[test]
fn the_detail_bumps_cancels_and_scrolls() {
    let mut app = app();
    update(
        &mut app,
        Msg::History("ORD_20241216_001".into(), None, Vec::new()),
    );
    update(&mut app, key(KeyCode::Down));
    assert!(matches!(
        app.overlay,
        Some(Overlay::Detail { scroll: 1, .. })
    ));
    assert_eq!(
        update(&mut app, key(KeyCode::Char('b'))),
        [Command::Complete("ORD_20241216_001".into())]
    );
    update(
        &mut app,
        Msg::History("ORD_20241216_001".into(), None, Vec::new()),
    );
    update(&mut app, key(KeyCode::Char('c')));
    assert!(matches!(app.overlay, Some(Overlay::ConfirmCancel { .. })));
}

#[test]
fn a_takeout_of_three_dishes_is_nine_keys_and_a_table_twelve_order_ten() {
    let mut app = app();
    let mut commands = typed(&mut app, "t111");
    commands.extend(update(&mut app, key(KeyCode::Tab)));
    commands.extend(typed(&mut app, "Ann"));
    commands.extend(update(&mut app, key(KeyCode::Enter)));
    let [Command::PlaceOrder(draft)] = commands.as_slice() else {
        panic!("{commands:?}")
    };
    let order = crate::domain::validate(draft).unwrap();
    assert_eq!(order.order_type(), OrderType::Takeout);
    assert_eq!(order.items.len(), 3);
    assert_eq!(order.customer_name, "Ann");

    let mut app = self::app();
    let mut commands = typed(&mut app, "d1211");
    commands.extend(update(&mut app, key(KeyCode::Tab)));
    commands.extend(typed(&mut app, "Bob"));
    commands.extend(update(&mut app, key(KeyCode::Enter)));
    let [Command::PlaceOrder(draft)] = commands.as_slice() else {
        panic!("{commands:?}")
    };
    let order = crate::domain::validate(draft).unwrap();
    assert_eq!(order.destination.table_number(), Some(12));
    assert_eq!(order.items.len(), 2);
}

#[test]
fn the_menu_finds_dishes_by_letters_and_says_the_quantity_cap() {
    let mut f = OrderForm::new(form::default_menu(), Some(OrderType::Takeout));
    for c in "tira".chars() {
        f.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    assert_eq!(f.menu[f.cursor].name, "Tiramisu");
    for _ in 0..11 {
        f.key(KeyEvent::new(KeyCode::Char('+'), KeyModifiers::NONE));
    }
    assert_eq!(f.quantities[f.cursor], 10);
    assert!(
        f.hint
            .as_deref()
            .is_some_and(|h| h.contains("10 is the most"))
    );
}

#[test]
fn a_failed_submit_keeps_the_form_and_everything_typed() {
    let mut app = app();
    typed(&mut app, "t1");
    update(&mut app, key(KeyCode::Tab));
    typed(&mut app, "Ann");
    assert!(matches!(
        update(&mut app, key(KeyCode::Enter)).as_slice(),
        [Command::PlaceOrder(_)]
    ));
    update(
        &mut app,
        Msg::NotPlaced("the database is unavailable".into()),
    );
    let Some(Overlay::NewOrder(form)) = &app.overlay else {
        panic!("the form stays open");
    };
    assert_eq!(form.customer.value(), "Ann");
    assert!(
        form.failure
            .as_deref()
            .is_some_and(|f| f.contains("unavailable"))
    );
    assert!(
        matches!(
            update(&mut app, key(KeyCode::Enter)).as_slice(),
            [Command::PlaceOrder(_)]
        ),
        "Enter tries again"
    );
    update(
        &mut app,
        Msg::Placed {
            number: "ORD_20241216_004".into(),
            total: Money::from_cents(2500),
        },
    );
    assert!(app.overlay.is_none());
    assert_eq!(last_notice(&app), "placed ORD_20241216_004 (25.00)");
}

#[test]
fn form_errors_show_once_a_field_was_left_or_on_submit() {
    let mut f = OrderForm::new(form::default_menu(), Some(OrderType::DineIn));
    assert!(
        f.shown_errors().is_empty(),
        "nothing before anything was typed"
    );
    f.key(KeyEvent::new(KeyCode::Char('0'), KeyModifiers::NONE));
    assert!(f.shown_errors().is_empty(), "not while typing");
    f.key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    assert_eq!(f.shown_errors(), ["Place: must be between 1 and 100"]);
    f.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(f.shown_errors().len(), 3, "{:?}", f.shown_errors());
    assert_eq!(f.field, form::OrderField::Place, "the first wrong field");
}

#[test]
fn a_letter_that_is_not_a_digit_is_refused_in_the_table() {
    let mut f = OrderForm::new(form::default_menu(), Some(OrderType::DineIn));
    f.key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE));
    assert_eq!(f.table.value(), "");
    assert!(f.hint.is_some());
    f.key(KeyEvent::new(KeyCode::Char('1'), KeyModifiers::NONE));
    assert_eq!(f.field, form::OrderField::Place, "10 and 100 may follow 1");
    f.key(KeyEvent::new(KeyCode::Char('0'), KeyModifiers::NONE));
    f.key(KeyEvent::new(KeyCode::Char('0'), KeyModifiers::NONE));
    assert_eq!(f.field, form::OrderField::Menu, "100 is the last table");
}

#[test]
fn status_updates_feed_the_feed_newest_first_and_bounded() {
    let mut app = app();
    for i in 0..(FEED_LIMIT + 10) {
        update(
            &mut app,
            Msg::Update(change(
                i as u32,
                OrderStatus::Received,
                OrderStatus::Cooking,
                i as u32,
            )),
        );
    }
    assert_eq!(app.feed.len(), FEED_LIMIT);
    assert_eq!(
        app.feed.lines[0].order_number,
        format!("ORD_20241216_{:03}", FEED_LIMIT + 9)
    );
}

#[test]
fn a_new_order_rings_the_bell_when_asked() {
    let mut app = app();
    app.setup.bell = true;
    assert!(update(&mut app, Msg::Update(arrival(7, 101))).contains(&Command::Bell));
    app.setup.bell = false;
    assert!(!update(&mut app, Msg::Update(arrival(8, 101))).contains(&Command::Bell));
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
    assert_eq!(update(&mut app, ctrl('c')), [Command::Quit { force: true }]);
}

#[test]
fn ctrl_c_and_signals_are_q_graceful_first_then_forced() {
    let mut keys = app();
    assert_eq!(
        update(&mut keys, ctrl('c')),
        [Command::Quit { force: false }]
    );
    assert_eq!(
        update(&mut keys, ctrl('c')),
        [Command::Quit { force: true }]
    );
    let mut signals = app();
    assert_eq!(
        update(&mut signals, Msg::Signal("SIGTERM")),
        [Command::Quit { force: false }]
    );
    assert!(last_notice(&signals).contains("SIGTERM"));
    assert_eq!(
        update(&mut signals, Msg::Signal("SIGHUP")),
        [Command::Quit { force: true }]
    );
}

#[test]
fn ctrl_z_says_why_the_kitchen_keeps_running() {
    let mut app = app();
    assert!(update(&mut app, ctrl('z')).is_empty());
    assert!(last_notice(&app).contains("Ctrl-Z"));
    assert!(update(&mut app, Msg::Suspend).is_empty());
}

#[test]
fn a_task_that_fails_or_goes_offline_is_said() {
    let mut app = app();
    update(
        &mut app,
        Msg::Task("worker chef_2".into(), TaskState::Stopped),
    );
    assert_eq!(last_notice(&app), "chef_2 is offline");
    update(
        &mut app,
        Msg::Task(
            "relay".into(),
            TaskState::Restarting {
                error: "it panicked: boom".into(),
            },
        ),
    );
    assert!(last_notice(&app).contains("relay stopped unexpectedly"));
}

#[test]
fn outages_are_worded_and_back_is_said_once_and_never_at_start() {
    let mut app = app();
    update(&mut app, Msg::Broker(Ok(())));
    update(&mut app, Msg::Database(Ok(())));
    assert!(app.health.log.is_empty(), "nothing to say at start");
    update(&mut app, Msg::Database(Err("connection refused".into())));
    assert!(app.stale());
    update(&mut app, Msg::Database(Err("connection refused".into())));
    update(&mut app, Msg::Database(Ok(())));
    update(&mut app, Msg::Database(Ok(())));
    let backs = app
        .health
        .log
        .iter()
        .filter(|n| n.text.contains("back"))
        .count();
    assert_eq!(backs, 1);
    assert!(!app.stale());
}

#[test]
fn background_news_does_not_hide_a_fresh_error() {
    let mut app = app();
    update(
        &mut app,
        Msg::Api(ApiState::Unavailable(
            "the API cannot listen on 127.0.0.1:3000".into(),
        )),
    );
    update(&mut app, Msg::WorkerStarted("chef_1".into()));
    assert!(
        app.health
            .current(app.now)
            .is_some_and(|n| n.text.contains("cannot listen"))
    );
    update(&mut app, Msg::Info("placed ORD_20241216_004".into()));
    assert!(
        app.health
            .current(app.now)
            .is_some_and(|n| n.text.starts_with("placed")),
        "the operator's own result replaces it"
    );
}

#[test]
fn notices_expire_and_the_message_log_keeps_them() {
    let mut app = app();
    update(&mut app, Msg::Failed("boom".into()));
    assert!(
        app.health
            .current(app.now)
            .is_some_and(|n| n.level == Level::Error)
    );
    update(&mut app, Msg::Tick(t(160)));
    assert!(app.health.current(app.now).is_none());
    for i in 0..150 {
        update(&mut app, Msg::Info(format!("n{i}")));
    }
    assert_eq!(app.health.log.len(), crate::tui::health::LOG_LIMIT);
    update(&mut app, key(KeyCode::Char('m')));
    assert!(matches!(app.overlay, Some(Overlay::Messages { .. })));
}

fn worker(name: &str, status: &str, seen: u32) -> WorkerRecord {
    WorkerRecord {
        name: name.into(),
        order_types: "general".parse().unwrap(),
        status: status.parse().unwrap(),
        last_seen: t(seen),
        orders_processed: 3,
        heartbeat_interval: std::time::Duration::from_secs(30),
    }
}

#[test]
fn a_worker_of_another_process_is_not_stopped_from_here() {
    let mut app = app();
    update(
        &mut app,
        Msg::Workers(vec![
            worker("chef_mario", "online", 95),
            worker("chef_1", "online", 95),
        ]),
    );
    update(&mut app, Msg::WorkerStarted("chef_1".into()));
    assert_eq!(
        update(&mut app, key(KeyCode::Char('s'))),
        [],
        "not in the workers pane"
    );
    update(&mut app, key(KeyCode::Tab));
    assert_eq!(update(&mut app, key(KeyCode::Char('s'))), []);
    assert!(last_notice(&app).contains("another process"));
    assert!(app.workers.stopping.is_empty(), "nothing marked stopping");
    update(&mut app, key(KeyCode::Down));
    assert_eq!(
        update(&mut app, key(KeyCode::Char('s'))),
        [Command::StopWorker("chef_1".into())]
    );
    assert_eq!(app.workers.stopping, ["chef_1"]);
}

#[test]
fn offline_workers_leave_the_pane_after_a_while_or_at_x() {
    let mut app = app();
    update(
        &mut app,
        Msg::Workers(vec![
            worker("old", "offline", 0),
            worker("gone", "offline", 200),
        ]),
    );
    assert_eq!(app.workers.shown(app.now).len(), 2);
    update(&mut app, Msg::Tick(t(400)));
    assert_eq!(
        app.workers.shown(app.now).len(),
        1,
        "five minutes after its last heartbeat"
    );
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Char('x')));
    assert!(app.workers.shown(app.now).is_empty());
}

#[test]
fn the_worker_form_takes_the_type_letters_and_the_clis_name_rule() {
    let mut app = app();
    update(&mut app, key(KeyCode::Char('w')));
    let Some(Overlay::NewWorker(form)) = &mut app.overlay else {
        panic!("the worker form opens");
    };
    form.name = tui_input::Input::new("chef\u{202e}1".into());
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    let Some(Overlay::NewWorker(form)) = &app.overlay else {
        panic!("the form stays open");
    };
    assert!(form.error().is_some_and(|e| e.contains("letters, digits")));
    update(&mut app, key(KeyCode::Backspace));
    update(&mut app, key(KeyCode::Backspace));
    update(&mut app, key(KeyCode::Tab));
    typed(&mut app, "v");
    update(&mut app, key(KeyCode::Tab));
    typed(&mut app, "4");
    assert_eq!(
        update(&mut app, key(KeyCode::Enter)),
        [Command::StartWorker {
            name: "chef".into(),
            specialty: Specialty::only([OrderType::Delivery]),
            prefetch: 4
        }]
    );
}
