//! The order queue as the console holds it: every active order by number, the station and the
//! search that choose what shows, and the selection — an order, kept by its number, never a row
//! (CONTRACT §7). The shown list is computed when the data, station, search or sort change,
//! never while drawing, so a key costs a window of tickets whatever the queue's length.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::domain::{OrderStatus, OrderType, StatusUpdate};
use crate::store::OrderRecord;

/// What a station screen shows: the whole queue, one type's line, or the pass (expo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Station {
    All,
    DineIn,
    Takeout,
    Delivery,
    Expo,
}

impl Station {
    pub const ALL: [Station; 5] = [
        Station::All,
        Station::DineIn,
        Station::Takeout,
        Station::Delivery,
        Station::Expo,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Station::All => "all",
            Station::DineIn => "dine-in",
            Station::Takeout => "takeout",
            Station::Delivery => "delivery",
            Station::Expo => "expo (ready)",
        }
    }

    fn shows(self, o: &OrderRecord) -> bool {
        let line = |t: OrderType| o.order_type == t && o.status != OrderStatus::Ready;
        match self {
            Station::All => true,
            Station::DineIn => line(OrderType::DineIn),
            Station::Takeout => line(OrderType::Takeout),
            Station::Delivery => line(OrderType::Delivery),
            Station::Expo => o.status == OrderStatus::Ready,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Urgency,
    Age,
}

/// The active orders and what of them is shown and selected.
#[derive(Debug, Clone)]
pub struct Queue {
    orders: HashMap<String, OrderRecord>,
    /// Orders that left the kitchen (completed, cancelled) by update, and when: a store read
    /// taken before that must not bring them back.
    gone: HashMap<String, DateTime<Utc>>,
    /// Numbers in the order shown.
    shown: Vec<String>,
    /// Dishes still to cook across the kitchen, and the orders waiting for a cook: kept with
    /// `shown`, so a frame (one a second, whatever happens) does not walk every order.
    tally: Vec<(String, u32)>,
    waiting: usize,
    station: Station,
    search: String,
    sort: Sort,
    selected: Option<String>,
    /// Where `selected` is in `shown` (kept with it).
    index: usize,
    /// The first ticket drawn and how many fitted, written by the view (a scroll position is
    /// the screen's memory, not the data's).
    pub offset: Cell<usize>,
    pub page: Cell<usize>,
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            orders: HashMap::new(),
            gone: HashMap::new(),
            shown: Vec::new(),
            tally: Vec::new(),
            waiting: 0,
            station: Station::All,
            search: String::new(),
            sort: Sort::Urgency,
            selected: None,
            index: 0,
            offset: Cell::new(0),
            page: Cell::new(5),
        }
    }
}

/// Whether `o` answers a search: `t12` a table, digits an order's sequence number, any other
/// text a part of its number, customer, item, address, cook or type (case-insensitive).
pub fn matches(o: &OrderRecord, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return true;
    }
    if let Some(table) = q.strip_prefix('t').and_then(|t| t.parse::<u8>().ok()) {
        return o.table_number == Some(table);
    }
    if q.chars().all(|c| c.is_ascii_digit()) {
        return sequence(&o.number).is_some_and(|n| q.parse::<u64>().ok() == Some(n));
    }
    let has = |text: &str| text.to_lowercase().contains(&q);
    has(&o.number)
        || has(&o.customer_name)
        || has(o.order_type.as_str())
        || o.items.iter().any(|i| has(&i.name))
        || o.delivery_address.as_deref().is_some_and(has)
        || o.processed_by.as_deref().is_some_and(has)
}

/// The day's sequence of an order number (`ORD_20241216_012` → 12).
pub fn sequence(number: &str) -> Option<u64> {
    number.rsplit('_').next()?.parse().ok()
}

/// The short number a ticket shows (`#012`).
pub fn short(number: &str) -> String {
    match number.rsplit_once('_') {
        Some((_, seq)) => format!("#{seq}"),
        None => number.to_string(),
    }
}

impl Queue {
    pub fn station(&self) -> Station {
        self.station
    }

    pub fn search(&self) -> &str {
        &self.search
    }

    pub fn sort(&self) -> Sort {
        self.sort
    }

    pub fn len(&self) -> usize {
        self.shown.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }

    pub fn get(&self, number: &str) -> Option<&OrderRecord> {
        self.orders.get(number)
    }

    pub fn all(&self) -> impl Iterator<Item = &OrderRecord> {
        self.orders.values()
    }

    /// The shown order at `i`.
    pub fn at(&self, i: usize) -> Option<&OrderRecord> {
        self.shown.get(i).and_then(|n| self.orders.get(n))
    }

    pub fn selected(&self) -> Option<&OrderRecord> {
        self.selected.as_deref().and_then(|n| self.orders.get(n))
    }

    pub fn selected_index(&self) -> Option<usize> {
        self.selected.as_ref().map(|_| self.index)
    }

    /// "12/304": where the selection is among what is shown.
    pub fn position(&self) -> String {
        match self.selected_index() {
            Some(i) => format!("{}/{}", i + 1, self.shown.len()),
            None => format!("0/{}", self.shown.len()),
        }
    }

    /// The store's view of the active orders; what an update already made newer is kept.
    pub fn reconcile(&mut self, orders: Vec<OrderRecord>) -> Option<String> {
        let mut fresh = HashMap::with_capacity(orders.len());
        for o in orders {
            if self
                .gone
                .get(&o.number)
                .is_some_and(|at| *at >= o.updated_at)
            {
                continue;
            }
            let keep = self
                .orders
                .get(&o.number)
                .filter(|mine| mine.updated_at > o.updated_at)
                .cloned();
            fresh.insert(o.number.clone(), keep.unwrap_or(o));
        }
        self.orders = fresh;
        // A mark whose order is active again (recalled after it) is dropped; the rest are only
        // bounded, since an older reading may still list them.
        self.gone.retain(|n, _| !self.orders.contains_key(n));
        if self.gone.len() > 10_000 {
            self.gone.clear();
        }
        self.rebuild()
    }

    /// One order read from the store (an arrival the queue did not know yet).
    pub fn upsert(&mut self, order: OrderRecord) -> Option<String> {
        if self
            .gone
            .get(&order.number)
            .is_some_and(|at| *at >= order.updated_at)
            || !matches!(
                order.status,
                OrderStatus::Received | OrderStatus::Cooking | OrderStatus::Ready
            )
        {
            return None;
        }
        self.orders.insert(order.number.clone(), order);
        self.rebuild()
    }

    /// Applies a status update in place; `Err(number)` when the order is unknown here and
    /// must be read from the store.
    pub fn apply(&mut self, u: &StatusUpdate) -> Result<Option<String>, String> {
        let finished = matches!(
            u.new_status,
            OrderStatus::Completed | OrderStatus::Cancelled
        );
        if finished {
            self.gone.insert(u.order_number.clone(), u.timestamp);
            return Ok(self
                .orders
                .remove(&u.order_number)
                .and_then(|_| self.rebuild()));
        }
        let Some(o) = self.orders.get_mut(&u.order_number) else {
            return Err(u.order_number.clone());
        };
        if o.updated_at > u.timestamp {
            return Ok(None); // an older message than what is known
        }
        o.status = u.new_status;
        o.updated_at = u.timestamp;
        match u.new_status {
            OrderStatus::Cooking => o.processed_by = Some(u.changed_by.clone()),
            OrderStatus::Received => o.processed_by = None,
            _ => {}
        }
        Ok(self.rebuild())
    }

    pub fn set_station(&mut self, station: Station) -> Option<String> {
        self.station = station;
        self.rebuild()
    }

    pub fn set_search(&mut self, query: &str) -> Option<String> {
        self.search = query.to_string();
        let said = self.rebuild();
        // A search jumps to its first match: that is what it was typed for.
        if !self.search.trim().is_empty() {
            self.select_index(0);
            return None;
        }
        said
    }

    pub fn toggle_sort(&mut self) -> Option<String> {
        self.sort = match self.sort {
            Sort::Urgency => Sort::Age,
            Sort::Age => Sort::Urgency,
        };
        self.rebuild()
    }

    pub fn select_index(&mut self, i: usize) {
        match self.shown.get(i.min(self.shown.len().saturating_sub(1))) {
            Some(n) => {
                self.index = i.min(self.shown.len() - 1);
                self.selected = Some(n.clone());
            }
            None => {
                self.selected = None;
                self.index = 0;
            }
        }
    }

    pub fn select_number(&mut self, number: &str) -> bool {
        match self.shown.iter().position(|n| n == number) {
            Some(i) => {
                self.select_index(i);
                true
            }
            None => false,
        }
    }

    /// Moves the selection by `delta` tickets, stopping at the ends.
    pub fn step(&mut self, delta: isize) {
        let last = self.shown.len().saturating_sub(1) as isize;
        let from = self.selected_index().unwrap_or(0) as isize;
        self.select_index((from + delta).clamp(0, last) as usize);
    }

    /// Recomputes what shows; the selection stays on its order, or, if that order left the
    /// view, moves to the ticket that took its place, and says so.
    fn rebuild(&mut self) -> Option<String> {
        let (station, search) = (self.station, self.search.as_str());
        let mut shown: Vec<&OrderRecord> = self
            .orders
            .values()
            .filter(|o| station.shows(o) && matches(o, search))
            .collect();
        match self.sort {
            // Still to cook first, the most urgent (priority, then oldest) on top.
            Sort::Urgency => shown.sort_by(|a, b| {
                let key = |o: &OrderRecord| {
                    (
                        o.status == OrderStatus::Ready,
                        std::cmp::Reverse(o.priority),
                        o.created_at,
                    )
                };
                key(a).cmp(&key(b)).then_with(|| a.number.cmp(&b.number))
            }),
            Sort::Age => {
                shown.sort_by(|a, b| (a.created_at, &a.number).cmp(&(b.created_at, &b.number)))
            }
        }
        self.shown = shown.into_iter().map(|o| o.number.clone()).collect();
        self.tally = self.count_dishes();
        self.waiting = self
            .orders
            .values()
            .filter(|o| o.status == OrderStatus::Received)
            .count();
        let Some(number) = self.selected.clone() else {
            self.select_index(0);
            return None;
        };
        if self.select_number(&number) {
            return None;
        }
        let why = match self.orders.get(&number) {
            Some(o) if !station.shows(o) => format!("is {} now", o.status),
            Some(_) => "does not match the search".to_string(),
            None => "has left the kitchen".to_string(),
        };
        self.select_index(self.index);
        Some(match self.selected() {
            Some(next) => format!(
                "{} {why}; the selection moved to {}",
                short(&number),
                short(&next.number)
            ),
            None => format!("{} {why}", short(&number)),
        })
    }

    /// Item counts still to cook ("all day"), largest first.
    pub fn all_day(&self) -> &[(String, u32)] {
        &self.tally
    }

    fn count_dishes(&self) -> Vec<(String, u32)> {
        let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
        for o in self
            .orders
            .values()
            .filter(|o| matches!(o.status, OrderStatus::Received | OrderStatus::Cooking))
        {
            for i in &o.items {
                *counts.entry(i.name.as_str()).or_insert(0) += i.quantity;
            }
        }
        let mut v: Vec<(String, u32)> = counts.into_iter().map(|(n, q)| (n.into(), q)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// Orders waiting for a cook.
    pub fn waiting(&self) -> usize {
        self.waiting
    }
}
