//! The orders pane's state: the queue of tickets, the orders this console bumped (for recall),
//! when the store last answered, and the kitchen's pace for the header.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use super::queue::{Queue, short};
use crate::domain::{OrderStatus, StatusUpdate};

/// The recall list shows this many finished orders.
pub const RECALL_LIMIT: u32 = 50;
/// The pace is measured over this many received and ready orders.
const RECEIVED_KEPT: usize = 1000;
const READY_KEPT: usize = 50;

#[derive(Debug, Clone, Default)]
pub struct OrdersView {
    pub queue: Queue,
    /// Orders this console bumped, newest last (`r` recalls the last).
    pub bumped: Vec<String>,
    /// The last time the store answered; the queue is stale while the database is down.
    pub synced_at: Option<DateTime<Utc>>,
    /// When each recent order arrived.
    received: VecDeque<DateTime<Utc>>,
    /// When each recent order reached ready, and how long it took from received.
    ready: VecDeque<(DateTime<Utc>, i64)>,
}

impl OrdersView {
    /// A ticket bumped here joins the recall list (the latest `RECALL_LIMIT`).
    pub fn bumped(&mut self, number: String) {
        self.bumped.retain(|n| n != &number);
        self.bumped.push(number);
        if self.bumped.len() > RECALL_LIMIT as usize {
            self.bumped.remove(0);
        }
    }

    /// Counts an update into the pace (before the queue applies it: ready needs the order's
    /// `created_at`).
    pub fn pace(&mut self, u: &StatusUpdate) {
        match u.new_status {
            OrderStatus::Received => self.received.push_back(u.timestamp),
            OrderStatus::Ready => {
                if let Some(o) = self.queue.get(&u.order_number) {
                    let secs = u
                        .timestamp
                        .signed_duration_since(o.created_at)
                        .num_seconds();
                    self.ready.push_back((u.timestamp, secs.max(0)));
                }
            }
            _ => {}
        }
        while self.received.len() > RECEIVED_KEPT {
            self.received.pop_front();
        }
        while self.ready.len() > READY_KEPT {
            self.ready.pop_front();
        }
    }

    /// Orders received in the last minute.
    pub fn per_minute(&self, now: DateTime<Utc>) -> usize {
        self.received
            .iter()
            .filter(|t| now.signed_duration_since(**t).num_seconds() < 60)
            .count()
    }

    /// Mean seconds from received to ready over the recent ready orders.
    pub fn average_to_ready(&self) -> Option<i64> {
        let n = self.ready.len() as i64;
        (n > 0).then(|| self.ready.iter().map(|(_, s)| s).sum::<i64>() / n)
    }

    /// One line naming an order as the kitchen knows it: number, table or customer, items.
    pub fn describe(&self, number: &str) -> String {
        match self.queue.get(number) {
            Some(o) => {
                let who = match o.table_number {
                    Some(t) => format!("table {t}, {}", o.customer_name),
                    None => o.customer_name.clone(),
                };
                let items: Vec<String> = o
                    .items
                    .iter()
                    .map(|i| format!("{}×{}", i.quantity, i.name))
                    .collect();
                format!("{} ({who}): {}", short(number), items.join(", "))
            }
            None => short(number),
        }
    }
}
