//! The console with 5,000 active orders: how long the store refresh takes on SQLite, and how
//! long a key takes to become a new frame (`update` + a full draw at 120×40).
//!
//!   cargo bench --bench console_frame
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chrono::Utc;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use restaurant_tui::domain::{Destination, Money, NewItem, NewOrder, OrderStatus, StatusUpdate};
use restaurant_tui::store::{DatabaseTarget, OrderQuery, WriteMeta, open};
use restaurant_tui::tui::app::{App, Msg, update};

const ORDERS: usize = 5_000;

fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    let p99 = samples[samples.len() * 99 / 100];
    format!(
        "mean {:.2} ms, p99 {:.2} ms",
        mean.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    )
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = rt
        .block_on(open(&DatabaseTarget::Sqlite {
            path: dir.path().join("bench.db"),
        }))
        .unwrap();
    let kinds = [
        Destination::DineIn { table_number: 4 },
        Destination::Takeout,
        Destination::Delivery {
            address: "12 Baker Street, London".into(),
        },
    ];
    rt.block_on(async {
        for i in 0..ORDERS {
            let order = NewOrder {
                customer_name: "Ann Lee".into(),
                destination: kinds[i % 3].clone(),
                items: vec![
                    NewItem {
                        name: "Margherita".into(),
                        quantity: 2,
                        price: Money::from_cents(1250),
                        notes: None,
                    },
                    NewItem {
                        name: "Cola".into(),
                        quantity: 1,
                        price: Money::from_cents(250),
                        notes: None,
                    },
                ],
                notes: None,
            };
            store
                .place_order(
                    &order,
                    &WriteMeta {
                        now: Utc::now(),
                        request_id: None,
                    },
                    None,
                )
                .await
                .unwrap();
        }
    });
    let active = OrderQuery {
        statuses: vec![
            OrderStatus::Received,
            OrderStatus::Cooking,
            OrderStatus::Ready,
        ],
        order_type: None,
        limit: ORDERS as u32,
        offset: 0,
    };
    let mut refresh = Vec::new();
    let mut orders = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        orders = rt.block_on(store.list_orders(&active)).unwrap().orders;
        refresh.push(t.elapsed());
    }
    println!(
        "store refresh of {} active orders (SQLite): {}",
        orders.len(),
        stats(refresh)
    );

    let mut app = App::new(Utc::now(), "bench".into());
    let t = Instant::now();
    update(&mut app, Msg::Orders(orders.clone()));
    println!(
        "applying the refresh: {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let key = |i: usize| {
        let code = if i.is_multiple_of(2) {
            KeyCode::Down
        } else {
            KeyCode::Up
        };
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
    };
    // The reference, in the same run: what the console did before the queue kept its shown list
    // (filter and sort every order for each key, once here where it did it several times, then
    // draw).
    let mut reference = Vec::new();
    for i in 0..300 {
        let t = Instant::now();
        update(&mut app, key(i));
        app.orders.queue.set_search("");
        terminal
            .draw(|f| restaurant_tui::tui::view::draw(f, &app))
            .unwrap();
        reference.push(t.elapsed());
    }
    let mut frames = Vec::new();
    for i in 0..300 {
        let t = Instant::now();
        update(&mut app, key(i));
        terminal
            .draw(|f| restaurant_tui::tui::view::draw(f, &app))
            .unwrap();
        frames.push(t.elapsed());
    }
    let mean = |v: &[Duration]| v.iter().sum::<Duration>().as_secs_f64() / v.len() as f64;
    println!(
        "key to frame at 120x40 with {ORDERS} orders: {}",
        stats(frames.clone())
    );
    println!(
        "reference (every order filtered and sorted per key): {}; ratio {:.1}x",
        stats(reference.clone()),
        mean(&reference) / mean(&frames)
    );
    // A status update applied in place (the store is not read).
    let numbers: Vec<String> = orders.iter().map(|o| o.number.clone()).collect();
    let mut applied = Vec::new();
    for (i, n) in numbers.iter().take(300).enumerate() {
        let u = StatusUpdate {
            order_number: n.clone(),
            old_status: Some(OrderStatus::Received),
            new_status: OrderStatus::Cooking,
            changed_by: "chef_1".into(),
            timestamp: Utc::now() + chrono::Duration::milliseconds(i as i64),
            estimated_completion: None,
        };
        let t = Instant::now();
        update(&mut app, Msg::Update(u));
        applied.push(t.elapsed());
    }
    println!("a status update applied in place: {}", stats(applied));
}
