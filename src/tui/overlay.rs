//! What opens over the panes: each overlay holds what it shows and owns the keys while open.

use super::form::{OrderForm, WorkerForm};
use crate::store::{HistoryEntry, OrderRecord};

/// What opens over the panes; each owns its keys while open.
#[derive(Debug, Clone)]
pub enum Overlay {
    Help,
    Messages {
        scroll: usize,
    },
    NewOrder(Box<OrderForm>),
    NewWorker(WorkerForm),
    Detail {
        number: String,
        /// The order as last read (it may have left the queue).
        order: Option<Box<OrderRecord>>,
        history: Vec<HistoryEntry>,
        scroll: usize,
    },
    /// Cancel asks first; Tab opens the reason field.
    ConfirmCancel {
        number: String,
        reason: Option<tui_input::Input>,
    },
    Recall {
        /// `None` while the store is read.
        orders: Option<Vec<OrderRecord>>,
        selected: usize,
    },
    Search(tui_input::Input),
}
