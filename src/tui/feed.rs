//! The status feed pane's state: the latest status changes, newest first, and how far the
//! operator has scrolled into them.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use crate::domain::{OrderStatus, StatusUpdate};

/// The status feed keeps this many lines.
pub const FEED_LIMIT: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedLine {
    pub at: DateTime<Utc>,
    pub order_number: String,
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub by: String,
}

#[derive(Debug, Clone, Default)]
pub struct Feed {
    /// Newest first.
    pub lines: VecDeque<FeedLine>,
    /// Lines scrolled past at the top (0 follows the newest).
    pub offset: usize,
}

impl Feed {
    /// A new line on top; an operator reading older lines keeps them in place.
    pub fn push(&mut self, u: &StatusUpdate) {
        self.lines.push_front(FeedLine {
            at: u.timestamp,
            order_number: u.order_number.clone(),
            from: u.old_status,
            to: u.new_status,
            by: u.changed_by.clone(),
        });
        self.lines.truncate(FEED_LIMIT);
        if self.offset > 0 {
            self.offset = (self.offset + 1).min(self.lines.len().saturating_sub(1));
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}
