//! The console's effects: each [`Command`] the pure `update` asks for runs here, as a task
//! that answers the event loop with a [`Msg`].

use std::sync::Arc;

use tokio::sync::mpsc;

use super::app::{Command, Msg};
use super::queue::short;
use crate::assembly::{Assembly, Shutdown};
use crate::domain::Transition;
use crate::kitchen::WorkerSpec;
use crate::service::{OrderService, ServiceError};
use crate::store::Store;
use crate::supervisor::OnExit;

fn words(e: ServiceError) -> String {
    match e {
        ServiceError::Invalid(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Runs the console's commands against the kitchen; each answers with a `Msg`.
pub(super) struct Effects {
    pub(super) kitchen: Assembly,
    pub(super) tx: mpsc::Sender<Msg>,
    pub(super) cook_times: crate::config::CookTimes,
    /// `changed_by` of this console's actions.
    pub(super) station: String,
}

impl Effects {
    /// Runs the kitchen's stop in the background; `Msg::Stopped` says when it is done.
    pub(super) fn stop(&self) {
        let (shutdown, tx): (Shutdown, _) = (self.kitchen.shutdown(), self.tx.clone());
        tokio::spawn(async move {
            let result = shutdown.run().await.map_err(|e| e.to_string());
            let _ = tx.send(Msg::Stopped(result)).await;
        });
    }

    /// Runs `work` as a task and sends the message it makes.
    fn answer<F>(&self, work: F)
    where
        F: std::future::Future<Output = Msg> + Send + 'static,
    {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(work.await).await;
        });
    }

    pub(super) fn run(&mut self, command: Command) {
        let (Some(orders), Some(store)) = (
            self.kitchen.orders().cloned(),
            self.kitchen.store().cloned(),
        ) else {
            return;
        };
        let request_id = format!("console-{}", uuid::Uuid::new_v4().simple());
        match command {
            Command::PlaceOrder(draft) => self.answer(async move {
                match orders.place(&draft, Some(&request_id), None).await {
                    Ok(p) => Msg::Placed {
                        number: p.number,
                        total: p.total,
                    },
                    Err(e) => Msg::NotPlaced(words(e)),
                }
            }),
            Command::Cancel { number, reason } => {
                self.transition(number, Transition::Cancel, reason, request_id)
            }
            Command::Complete(n) => self.transition(n, Transition::Complete, None, request_id),
            Command::Recall(n) => self.transition(n, Transition::Recall, None, request_id),
            Command::Rush(n, on) => self.answer(async move {
                Msg::said(match store.set_rush(&n, on).await {
                    Ok(true) if on => Ok(format!("{}: RUSH", short(&n))),
                    Ok(true) => Ok(format!("{}: rush mark removed", short(&n))),
                    Ok(false) => Err(format!("{} is no longer on the queue", short(&n))),
                    Err(e) => Err(format!("the rush mark was not saved: {e}")),
                })
            }),
            Command::LoadHistory(n) => self.answer(load_history(orders, store, n)),
            Command::LoadOrder(n) => self.answer(load_order(store, n)),
            Command::LoadFinished => self.answer(load_finished(store)),
            Command::Bell => {
                use std::io::Write;
                let mut out = std::io::stdout();
                let _ = out.write_all(b"\x07").and_then(|()| out.flush());
            }
            Command::StartWorker {
                name,
                specialty,
                prefetch,
            } => self.start_worker(name, specialty, prefetch),
            Command::StopWorker(name) => {
                let msg = if self.kitchen.stop_worker(&name) {
                    Ok(format!("stopping {name}: it finishes the order in hand"))
                } else {
                    Err(format!("{name} runs in another process; stop it there"))
                };
                let _ = self.tx.try_send(Msg::said(msg));
            }
            Command::Quit { .. } => {}
        }
    }

    fn start_worker(&mut self, name: String, specialty: crate::domain::Specialty, prefetch: u16) {
        let mut spec = WorkerSpec::new(name.clone());
        spec.specialty = specialty;
        spec.prefetch = prefetch.max(1);
        spec.cook_times = self.cook_times;
        let msg = match self.kitchen.start_worker(spec, OnExit::Restart) {
            Ok(()) => Msg::WorkerStarted(name),
            Err(e) => Msg::Failed(e.to_string()),
        };
        let _ = self.tx.try_send(msg);
    }

    fn transition(
        &self,
        number: String,
        transition: Transition,
        notes: Option<String>,
        request_id: String,
    ) {
        let Some(orders) = self.kitchen.orders().cloned() else {
            return;
        };
        let station = self.station.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = orders
                .operator_transition(&number, transition, &station, notes, Some(&request_id))
                .await;
            let msg = match result {
                Ok(from) => {
                    if transition == Transition::Complete {
                        let _ = tx.send(Msg::Bumped(number.clone())).await;
                    }
                    Ok(format!("{}: {from} → {}", short(&number), transition.to()))
                }
                Err(e) => Err(words(e)),
            };
            let _ = tx.send(Msg::said(msg)).await;
        });
    }
}

/// An order's history and the order itself, for the detail (text from outside escaped).
async fn load_history(orders: OrderService, store: Arc<dyn Store>, n: String) -> Msg {
    match (orders.history(&n).await, store.order(&n).await) {
        (Ok(mut h), Ok(order)) => {
            for e in &mut h {
                e.changed_by.as_mut().map(super::sources::shown);
                e.notes.as_mut().map(super::sources::shown);
            }
            Msg::History(n, order.map(super::sources::shown_order), h)
        }
        (Err(e), _) => Msg::Failed(words(e)),
        (_, Err(e)) => Msg::Failed(e.to_string()),
    }
}

async fn load_order(store: Arc<dyn Store>, n: String) -> Msg {
    match store.order(&n).await {
        Ok(Some(o)) => Msg::Order(super::sources::shown_order(o)),
        // The next reconciliation brings it if this read failed.
        _ => Msg::Redraw,
    }
}

/// The recall list: the latest finished orders.
async fn load_finished(store: Arc<dyn Store>) -> Msg {
    match store.finished(crate::tui::orders::RECALL_LIMIT).await {
        Ok(v) => Msg::Finished(v.into_iter().map(super::sources::shown_order).collect()),
        Err(e) => Msg::Failed(format!("the recent orders cannot be read: {e}")),
    }
}
