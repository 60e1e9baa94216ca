//! Everything that reaches the console from outside, as [`Msg`]s: signals, status updates, the
//! store refresh, the broker's status, the tasks' board, and the terminal's keys.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::app::{Msg, Zone};
use super::health::reason;
use crate::assembly::Assembly;
use crate::broker::{Broker, BrokerStatus};
use crate::domain::{OrderStatus, StatusUpdate, visible};
use crate::store::{OrderQuery, OrderRecord, Store, StoreError, WorkerRecord};
use crate::supervisor::{OnExit, TaskError};

/// Active orders the queue shows at most (newest first from the store, then sorted on screen).
const QUEUE_LIMIT: u32 = 5_000;
/// The store's whole queue is reconciled every this many seconds (updates arrive in between),
/// once more for every further thousand active orders: reading 5,000 stamps costs ~13 ms, so a
/// queue that large is reconciled every 25 s (idle CPU, #9).
const RECONCILE_EVERY: u64 = 5;

fn reconcile_every(active: usize) -> u64 {
    RECONCILE_EVERY * (active as u64 / 1000).max(1)
}

/// What the queue shows: every order not yet picked up or cancelled, newest first.
fn active_queue() -> OrderQuery {
    OrderQuery {
        statuses: vec![
            OrderStatus::Received,
            OrderStatus::Cooking,
            OrderStatus::Ready,
        ],
        order_type: None,
        limit: QUEUE_LIMIT,
        offset: 0,
    }
}

/// Orders per store read.
const PAGE: u32 = 500;

/// The last reading of the queue, as the screen may show it. A reconciliation reads every
/// active order's stamp (number, last change, rush) and then only the orders whose stamp
/// changed: at 5,000 active orders and nothing new, one light query instead of every order with
/// its items (#9: an idle console's CPU and memory).
#[derive(Default)]
struct Reading {
    orders: HashMap<String, OrderRecord>,
}

impl Reading {
    /// The queue as the store has it now, or `None` when it is what the last reading said
    /// (the screen is then already reconciled: nothing to send).
    async fn refresh(
        &mut self,
        store: &dyn Store,
        active: &OrderQuery,
    ) -> Result<Option<Vec<OrderRecord>>, StoreError> {
        let stamps = store.active_stamps(active.limit).await?;
        let known = |number: &str, at, rush| {
            self.orders
                .get(number)
                .is_some_and(|o| o.updated_at == at && o.rush == rush)
        };
        let stale = stamps
            .iter()
            .filter(|s| !known(&s.number, s.updated_at, s.rush))
            .count();
        if stale == 0 && stamps.len() == self.orders.len() && !self.orders.is_empty() {
            return Ok(None);
        }
        // Reads go in pages of `PAGE` orders: 5,000 orders read whole leave a peak of ~30 MB
        // that the allocator keeps. The first reading pages through the queue (an order that
        // moves between pages meanwhile is caught by the next reconciliation); later ones read
        // only the orders whose stamp changed.
        if self.orders.is_empty() {
            let mut query = active.clone();
            query.limit = PAGE.min(active.limit);
            while query.offset < u64::from(active.limit) {
                let page = store.list_orders(&query).await?;
                let last = page.orders.len() < query.limit as usize;
                for o in page.orders {
                    self.orders.insert(o.number.clone(), shown_order(o));
                }
                if last {
                    break;
                }
                query.offset += u64::from(query.limit);
            }
        } else {
            let mut fresh = HashMap::with_capacity(stamps.len());
            let mut changed = Vec::new();
            for s in stamps {
                match self.orders.remove(&s.number) {
                    Some(o) if o.updated_at == s.updated_at && o.rush == s.rush => {
                        fresh.insert(s.number, o);
                    }
                    _ => changed.push(s.number),
                }
            }
            for numbers in changed.chunks(PAGE as usize) {
                // Read apart from the stamps: one may have left the kitchen in between.
                for o in store.orders(numbers).await? {
                    if active.statuses.contains(&o.status) {
                        fresh.insert(o.number.clone(), shown_order(o));
                    }
                }
            }
            self.orders = fresh;
        }
        Ok(Some(self.orders.values().cloned().collect()))
    }
}

/// The zone the screen shows at `now`: `TZ` or the system's zone name, and its offset then.
pub(super) fn zone(now: chrono::DateTime<chrono::Utc>) -> Zone {
    use chrono::{Local, Offset, TimeZone};
    let offset = Local.offset_from_utc_datetime(&now.naive_utc()).fix();
    let name = std::env::var("TZ")
        .ok()
        .map(|t| t.trim_start_matches(':').to_string())
        .filter(|t| !t.is_empty())
        .or_else(|| iana_time_zone::get_timezone().ok())
        .unwrap_or_else(|| "local".into());
    let name = if offset.local_minus_utc() == 0 && name == "UTC" {
        name
    } else {
        format!("{name} {offset}")
    };
    Zone { name, offset }
}

/// SIGINT, SIGTERM and SIGHUP as messages (the terminal's own Ctrl-C arrives as a key); SIGTSTP
/// is caught so that it cannot freeze the kitchen.
pub(super) fn spawn_signals(tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut tstp) = signal(SignalKind::from_raw(libc::SIGTSTP)) {
            let tx = tx.clone();
            tokio::spawn(async move {
                while tstp.recv().await.is_some() {
                    if tx.send(Msg::Suspend).await.is_err() {
                        return;
                    }
                }
            });
        }
    }
    tokio::spawn(async move {
        let mut signals = crate::signals::Signals::new();
        loop {
            let name = signals.next().await;
            tracing::info!(
                action = "graceful_shutdown",
                signal = name,
                "signal received"
            );
            if tx.send(Msg::Signal(name)).await.is_err() {
                return;
            }
        }
    })
}

/// Status updates, store refreshes (every second and right after an update), broker status,
/// the tasks' board and the clock tick, all as messages.
pub(super) fn spawn_feeds(kitchen: &Assembly, tx: mpsc::Sender<Msg>) {
    if let Some(broker) = kitchen.broker().cloned() {
        feed_updates(kitchen, broker.clone(), tx.clone());
        feed_broker_health(broker, tx.clone());
    }
    feed_tasks(kitchen, tx.clone());
    if let Some(store) = kitchen.store().cloned() {
        feed_readings(kitchen, store, tx);
    }
}

/// Every status update, on this console's own subscription, applied in place by the queue.
fn feed_updates(kitchen: &Assembly, broker: Arc<dyn Broker>, tx: mpsc::Sender<Msg>) {
    kitchen.spawn("status feed", OnExit::Restart, move |stop| {
        let (broker, tx) = (broker.clone(), tx.clone());
        async move {
            let mut updates = broker
                .subscribe_updates("console")
                .await
                .map_err(|e| TaskError::transient(e.to_string()))?;
            loop {
                let d = tokio::select! {
                    () = stop.cancelled() => return Ok(()),
                    d = updates.next() => d.ok_or_else(|| TaskError::transient("the subscription ended"))?,
                };
                // Applied in place by the queue; the store read only reconciles.
                if let Ok(mut u) = serde_json::from_slice::<StatusUpdate>(&d.body) {
                    shown(&mut u.order_number);
                    shown(&mut u.changed_by);
                    let _ = tx.send(Msg::Update(u)).await;
                }
                if let Err(e) = d.ack().await {
                    tracing::warn!(action = "ack_failed", error = %e, "cannot acknowledge a status update");
                }
            }
        }
    });
}

/// The broker's link: up, or down with the reason in words (the banner).
fn feed_broker_health(broker: Arc<dyn Broker>, tx: mpsc::Sender<Msg>) {
    let mut status = broker.status();
    tokio::spawn(async move {
        loop {
            let s = *status.borrow_and_update();
            // Before the first attempt has an answer there is nothing to say.
            let reading = match (s, broker.last_error()) {
                (BrokerStatus::Connected, _) => Some(Ok(())),
                (BrokerStatus::Reconnecting, Some(e)) => Some(Err(reason(&e))),
                (BrokerStatus::Reconnecting, None) => None,
            };
            if let Some(r) = reading
                && tx.send(Msg::Broker(r)).await.is_err()
            {
                return;
            }
            if status.changed().await.is_err() {
                return;
            }
        }
    });
}

/// Each supervised task's state as it changes.
fn feed_tasks(kitchen: &Assembly, tx: mpsc::Sender<Msg>) {
    let mut board = kitchen.board();
    tokio::spawn(async move {
        let mut last = board.borrow_and_update().clone();
        while board.changed().await.is_ok() {
            let now = board.borrow_and_update().clone();
            for (name, state) in &now {
                if last.get(name) != Some(state) {
                    let _ = tx.send(Msg::Task(name.clone(), state.clone())).await;
                }
            }
            last = now;
        }
    });
}

/// Workers and the clock every second; the whole queue every few seconds (updates are applied
/// in place, this only reconciles), and at once after an outage. Supervised: a refresh that
/// died would freeze the screen on old data without a word.
fn feed_readings(kitchen: &Assembly, store: Arc<dyn Store>, tx: mpsc::Sender<Msg>) {
    let clock = kitchen.clock().clone();
    kitchen.spawn("screen refresh", OnExit::Restart, move |stop| {
        let (store, clock, tx) = (store.clone(), clock.clone(), tx.clone());
        async move {
            let mut refresh = Refresh::default();
            loop {
                for m in refresh.read(store.as_ref(), clock.now()).await {
                    let _ = tx.send(m).await;
                }
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = stop.cancelled() => return Ok(()),
                }
            }
        }
    });
}

/// The once-a-second reading: when the queue is due for reconciliation, and what was read.
struct Refresh {
    active: OrderQuery,
    /// Seconds since the last reconciliation, and how many it waits for now.
    tick: u64,
    every: u64,
    reading: Reading,
}

impl Default for Refresh {
    fn default() -> Self {
        Refresh {
            active: active_queue(),
            tick: 0,
            every: RECONCILE_EVERY,
            reading: Reading::default(),
        }
    }
}

impl Refresh {
    async fn read(&mut self, store: &dyn Store, now: chrono::DateTime<chrono::Utc>) -> Vec<Msg> {
        let reconcile = self.tick.is_multiple_of(self.every);
        let mut msgs = vec![Msg::Tick(now), Msg::Zone(zone(now))];
        let workers = match store.workers().await {
            Ok(workers) => workers,
            Err(e) => {
                msgs.push(Msg::Database(Err(reason(&e.to_string()))));
                self.tick = 0;
                return msgs;
            }
        };
        msgs.push(Msg::Workers(
            workers.into_iter().map(shown_worker).collect(),
        ));
        if !reconcile {
            msgs.push(Msg::Database(Ok(())));
            self.tick += 1;
            return msgs;
        }
        match self.reading.refresh(store, &self.active).await {
            Err(e) => {
                msgs.push(Msg::Database(Err(reason(&e.to_string()))));
                self.tick = 0;
            }
            Ok(orders) => {
                msgs.push(Msg::Database(Ok(())));
                msgs.extend(orders.map(Msg::Orders));
                self.every = reconcile_every(self.reading.orders.len());
                self.tick = 1;
            }
        }
        msgs
    }
}

/// Text from the store or a message, as the screen may show it: control and reordering
/// characters escaped (CONTRACT §9), once, here at the console's edge.
pub(super) fn shown(text: &mut String) {
    if let Cow::Owned(escaped) = visible(text) {
        *text = escaped;
    }
}

pub(super) fn shown_order(mut o: OrderRecord) -> OrderRecord {
    shown(&mut o.number);
    shown(&mut o.customer_name);
    o.delivery_address.as_mut().map(shown);
    o.processed_by.as_mut().map(shown);
    o.notes.as_mut().map(shown);
    o.items.iter_mut().for_each(|i| {
        shown(&mut i.name);
        i.notes.as_mut().map(shown);
    });
    o
}

fn shown_worker(mut w: WorkerRecord) -> WorkerRecord {
    shown(&mut w.name);
    w
}

/// The terminal's keys, clicks and resizes, as crossterm's event stream yields them; it ends
/// when the terminal goes (SIGHUP closes it) or the loop stops listening.
pub(super) fn spawn_terminal_reader(tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = EventStream::new();
        loop {
            let event = tokio::select! {
                () = tx.closed() => return,
                event = events.next() => event,
            };
            let msg = match event {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => Msg::Key(k),
                Some(Ok(Event::Mouse(m))) => Msg::Mouse(m),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return,
            };
            if tx.send(msg).await.is_err() {
                return;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_outside_reaches_the_screen_escaped() {
        let mut worker = WorkerRecord {
            name: "chef\u{202e}1".into(),
            order_types: crate::domain::Specialty::general(),
            status: crate::domain::WorkerStatus::Online,
            last_seen: chrono::Utc::now(),
            orders_processed: 0,
            heartbeat_interval: Duration::from_secs(30),
        };
        worker = shown_worker(worker);
        assert_eq!(worker.name, "chef\\u{202e}1");
        let mut text = String::from("Ann\u{1b}[2J");
        shown(&mut text);
        assert_eq!(text, "Ann\\u{1b}[2J");
    }

    /// The reconciliation reads whole orders only when their stamp changed, and says nothing
    /// when nothing did.
    #[tokio::test]
    async fn a_reconciliation_reads_only_what_changed() {
        use crate::domain::{Destination, Money, NewItem, NewOrder, Transition};
        use crate::store::{SqliteStore, StatusChange, WriteMeta};
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
        let t0 = chrono::Utc::now();
        let meta = |now| WriteMeta {
            now,
            request_id: None,
        };
        let order = NewOrder {
            customer_name: "Ann".into(),
            destination: Destination::Takeout,
            items: vec![NewItem {
                name: "Cola".into(),
                quantity: 1,
                price: Money::from_cents(250),
                notes: None,
            }],
            notes: None,
        };
        let mut numbers = Vec::new();
        for _ in 0..3 {
            numbers.push(
                store
                    .place_order(&order, &meta(t0), None)
                    .await
                    .unwrap()
                    .number,
            );
        }
        let active = active_queue();
        let mut reading = Reading::default();
        let first = reading.refresh(&store, &active).await.unwrap().unwrap();
        assert_eq!(first.len(), 3);
        assert!(
            reading.refresh(&store, &active).await.unwrap().is_none(),
            "nothing changed"
        );

        let t1 = t0 + chrono::Duration::seconds(1);
        let change = |transition| StatusChange {
            transition,
            changed_by: "chef".into(),
            notes: None,
            estimated_completion: None,
            meta: meta(t1),
        };
        store
            .transition(&numbers[0], &change(Transition::StartCooking))
            .await
            .unwrap();
        store
            .transition(&numbers[1], &change(Transition::Cancel))
            .await
            .unwrap();
        let now = reading.refresh(&store, &active).await.unwrap().unwrap();
        let status = |n: &str| now.iter().find(|o| o.number == n).map(|o| o.status);
        assert_eq!(status(&numbers[0]), Some(OrderStatus::Cooking));
        assert_eq!(status(&numbers[1]), None, "cancelled: gone");
        assert_eq!(status(&numbers[2]), Some(OrderStatus::Received));

        assert!(store.set_rush(&numbers[2], true).await.unwrap());
        let now = reading.refresh(&store, &active).await.unwrap().unwrap();
        assert!(now.iter().any(|o| o.number == numbers[2] && o.rush));
        assert!(reading.refresh(&store, &active).await.unwrap().is_none());
    }
}
