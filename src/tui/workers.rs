//! The workers pane's state: the board as the store last listed it, which worker is selected,
//! which ones this console runs (only those it can stop), and which it is stopping.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::domain::WorkerStatus;
use crate::store::WorkerRecord;

/// An offline worker leaves the pane this long after its last heartbeat (`x` clears at once).
pub const OFFLINE_LINGER_SECS: i64 = 300;

#[derive(Debug, Clone, Default)]
pub struct WorkersView {
    /// Every worker the store lists, this console's or not.
    pub board: Vec<WorkerRecord>,
    /// By name, so a new board keeps the selection on the same worker.
    pub selected: Option<String>,
    /// Workers this process runs (only these can be stopped from here).
    pub local: BTreeSet<String>,
    /// Workers asked to stop and not yet offline.
    pub stopping: Vec<String>,
    /// Offline workers seen before this are not shown (`x`).
    pub cleared_at: Option<DateTime<Utc>>,
}

impl WorkersView {
    /// A new board; a worker this console was stopping leaves `stopping` once it is offline.
    pub fn replace(&mut self, board: Vec<WorkerRecord>) {
        self.stopping.retain(|n| {
            board
                .iter()
                .any(|w| &w.name == n && w.status != WorkerStatus::Offline)
        });
        self.board = board;
    }

    /// The workers the pane lists: offline ones leave after a while, or at `x`.
    pub fn shown(&self, now: DateTime<Utc>) -> Vec<&WorkerRecord> {
        self.board
            .iter()
            .filter(|w| {
                w.effective_status(now) != WorkerStatus::Offline
                    || (now.signed_duration_since(w.last_seen).num_seconds() < OFFLINE_LINGER_SECS
                        && self.cleared_at.is_none_or(|at| w.last_seen > at))
            })
            .collect()
    }

    /// The selected worker, else the first shown (the selection may have left the pane).
    pub fn selected(&self, now: DateTime<Utc>) -> Option<&WorkerRecord> {
        let shown = self.shown(now);
        self.selected
            .as_deref()
            .and_then(|n| shown.iter().find(|w| w.name == n).copied())
            .or_else(|| shown.first().copied())
    }

    /// `x`: offline workers seen until now leave the pane.
    pub fn clear_offline(&mut self, now: DateTime<Utc>) {
        self.cleared_at = Some(now);
    }

    /// Marks `name` as being stopped (once).
    pub fn stop(&mut self, name: &str) {
        if !self.stopping.iter().any(|n| n == name) {
            self.stopping.push(name.to_string());
        }
    }

    /// The first `chef_N` neither online nor run by this console.
    pub fn suggest_name(&self, now: DateTime<Utc>) -> String {
        (1..)
            .map(|i| format!("chef_{i}"))
            .find(|n| {
                !self
                    .board
                    .iter()
                    .any(|w| &w.name == n && w.effective_status(now) != WorkerStatus::Offline)
                    && !self.local.contains(n)
            })
            .unwrap_or_default()
    }
}
