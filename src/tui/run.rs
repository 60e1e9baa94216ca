//! The console's event loop: it alone owns the [`App`]; background tasks only send [`Msg`]s,
//! and [`Command`]s run as tasks that answer with a `Msg`. It redraws after each message, and
//! when idle only the 1 s tick and refresh wake it (near-zero CPU).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEventKind};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use super::app::{ApiState, App, Command, Msg, update};
use crate::api::{self, ApiOptions};
use crate::broker::memory::MemoryBus;
use crate::broker::{Broker, amqp::AmqpBroker};
use crate::config::Config;
use crate::domain::{Clock, OrderStatus, StatusUpdate, SystemClock, Transition};
use crate::kitchen::{Worker, WorkerSpec};
use crate::relay::Relay;
use crate::service::{Orders, ServiceError};
use crate::store::{self, OrderQuery, Store};

/// Active orders the queue shows at most (newest first from the store, then sorted on screen).
const QUEUE_LIMIT: u32 = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot open the {target}: {source}")]
    Database {
        target: String,
        #[source]
        source: store::StoreError,
    },
    #[error("the terminal failed: {0}")]
    Terminal(#[from] std::io::Error),
}

struct Kitchen {
    store: Arc<dyn Store>,
    broker: Arc<dyn Broker>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    orders: Orders,
    tx: mpsc::Sender<Msg>,
    /// Workers this console runs: their stop switch and task.
    workers: HashMap<String, (watch::Sender<bool>, JoinHandle<()>)>,
    cook_times: crate::config::CookTimes,
}

pub async fn run(
    config: &Config,
    log_path: String,
    default_workers: u16,
) -> Result<(), ConsoleError> {
    let target = config.database_target("configuration")?;
    let store = store::open(&target)
        .await
        .map_err(|source| ConsoleError::Database {
            target: target.describe(),
            source,
        })?;
    let rabbit = config.broker_target("configuration")?;
    let broker: Arc<dyn Broker> = match &rabbit {
        Some(t) => Arc::new(AmqpBroker::start(t.uri.clone(), t.prefix.clone())),
        None => Arc::new(MemoryBus::new()),
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let wake = Arc::new(Notify::new());
    let orders = Orders::new(store.clone(), clock.clone(), config.kitchen.cook_time)
        .with_outbox_wake(wake.clone());
    let (stop_tx, stop) = watch::channel(false);
    let (tx, mut rx) = mpsc::channel::<Msg>(1024);

    let mut app = App::new(clock.now(), config.kitchen.cook_time, log_path);
    app.database_kind = store.backend().into();
    app.late_after = config.console.late_after;
    app.very_late_after = config.console.very_late_after;
    let menu: Vec<super::form::MenuItem> = config
        .console
        .menu
        .iter()
        .filter_map(|m| {
            m.price.money().ok().map(|price| super::form::MenuItem {
                name: m.name.clone(),
                price,
            })
        })
        .collect();
    if !menu.is_empty() {
        app.menu = menu;
    }
    app.broker_kind = broker.kind().into();

    tokio::spawn(
        Relay::new(store.clone(), broker.clone(), clock.clone(), wake.clone()).run(stop.clone()),
    );
    start_api(
        config,
        orders.clone(),
        broker.clone(),
        stop.clone(),
        tx.clone(),
    )
    .await;
    spawn_feeds(store.clone(), broker.clone(), clock.clone(), tx.clone());

    let mut kitchen = Kitchen {
        store,
        broker,
        clock,
        wake,
        orders,
        tx: tx.clone(),
        workers: HashMap::new(),
        cook_times: config.kitchen.cook_time,
    };
    // The embedded default cooks at once; with RabbitMQ the workers usually run elsewhere.
    if rabbit.is_none() {
        for i in 1..=default_workers {
            let name = format!("chef_{i}");
            kitchen.start_worker(name.clone(), Default::default(), 1);
            update(&mut app, Msg::WorkerStarted(name));
        }
    }

    let mut terminal = ratatui::init();
    let input = spawn_terminal_reader(tx.clone());
    let mut leaving: Option<JoinHandle<()>> = None;
    let result = loop {
        if let Err(e) = terminal.draw(|f| super::view::draw(f, &app)) {
            break Err(e);
        }
        let Some(first) = rx.recv().await else {
            break Ok(());
        };
        let mut commands = update(&mut app, first);
        // Apply whatever else is queued before drawing again.
        while let Ok(msg) = rx.try_recv() {
            commands.extend(update(&mut app, msg));
        }
        let mut quit = None;
        for c in commands {
            match c {
                Command::Quit { force } => quit = Some(force),
                other => kitchen.run(other),
            }
        }
        match quit {
            Some(true) => break Ok(()),
            Some(false) if leaving.is_none() => leaving = Some(kitchen.stop_all()),
            _ => {}
        }
        if leaving.as_ref().is_some_and(|h| h.is_finished()) {
            break Ok(());
        }
    };
    let _ = stop_tx.send(true);
    input.abort();
    ratatui::restore();
    result.map_err(ConsoleError::Terminal)
}

/// Binds the API where configured; a taken port is said on screen, not fatal.
async fn start_api(
    config: &Config,
    orders: Orders,
    broker: Arc<dyn Broker>,
    stop: watch::Receiver<bool>,
    tx: mpsc::Sender<Msg>,
) {
    let addr = format!("{}:{}", config.server.host, config.server.port);
    match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => {
            let local = listener.local_addr().ok();
            let router = api::router_with_broker(
                orders,
                Some(broker),
                &ApiOptions::from_server(&config.server, false),
            );
            let mut stop = stop;
            tokio::spawn(api::serve(listener, router, async move {
                let _ = stop.wait_for(|s| *s).await;
            }));
            if let Some(a) = local {
                tracing::info!(action = "service_started", address = %a, "console API listening");
                let _ = tx.send(Msg::Api(ApiState::Listening(a))).await;
            }
        }
        Err(e) => {
            let reason = if e.kind() == std::io::ErrorKind::AddrInUse {
                "port taken".to_string()
            } else {
                e.to_string()
            };
            let why = format!("API cannot listen on {addr} ({reason}): start with --port N");
            tracing::warn!(action = "api_unavailable", error = %e, "{why}");
            let _ = tx.send(Msg::Api(ApiState::Unavailable(why))).await;
        }
    }
}

/// Status updates, store refreshes (every second and right after an update), broker status and
/// the clock tick, all as messages.
fn spawn_feeds(
    store: Arc<dyn Store>,
    broker: Arc<dyn Broker>,
    clock: Arc<dyn Clock>,
    tx: mpsc::Sender<Msg>,
) {
    let refresh = Arc::new(Notify::new());
    let status = broker.status();
    {
        let (tx, refresh) = (tx.clone(), refresh.clone());
        tokio::spawn(async move {
            let Ok(mut updates) = broker.subscribe_updates("console").await else {
                return;
            };
            while let Some(d) = updates.next().await {
                if let Ok(u) = serde_json::from_slice::<StatusUpdate>(&d.body) {
                    if tx.send(Msg::Update(u)).await.is_err() {
                        return;
                    }
                    refresh.notify_one();
                }
                let _ = d.ack().await;
            }
        });
    }
    {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut status = status;
            loop {
                let s = *status.borrow_and_update();
                if tx.send(Msg::Broker(s)).await.is_err() || status.changed().await.is_err() {
                    return;
                }
            }
        });
    }
    tokio::spawn(async move {
        let active = OrderQuery {
            statuses: vec![
                OrderStatus::Received,
                OrderStatus::Cooking,
                OrderStatus::Ready,
            ],
            order_type: None,
            limit: QUEUE_LIMIT,
            offset: 0,
        };
        loop {
            let now = clock.now();
            let msgs = match (store.list_orders(&active).await, store.workers().await) {
                (Ok(page), Ok(workers)) => vec![
                    Msg::Database(true),
                    Msg::Orders(page.orders),
                    Msg::Workers(workers),
                    Msg::Tick(now),
                ],
                _ => vec![Msg::Database(false), Msg::Tick(now)],
            };
            for m in msgs {
                if tx.send(m).await.is_err() {
                    return;
                }
            }
            // Age timers tick once a second; an update refreshes at once.
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                () = refresh.notified() => {}
            }
        }
    });
}

/// Reads the terminal on a thread of its own (crossterm's reads block).
fn spawn_terminal_reader(tx: mpsc::Sender<Msg>) -> JoinHandle<()> {
    tokio::task::spawn_blocking(move || {
        loop {
            if tx.is_closed() {
                return;
            }
            match event::poll(Duration::from_millis(200)) {
                Ok(true) => match event::read() {
                    Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => {
                        if tx.blocking_send(Msg::Key(k)).is_err() {
                            return;
                        }
                    }
                    // A resize only needs a redraw; a tick asks for one.
                    Ok(Event::Resize(..)) => {
                        let _ = tx.blocking_send(Msg::Tick(chrono::Utc::now()));
                    }
                    Ok(_) => {}
                    Err(_) => return,
                },
                Ok(false) => {}
                Err(_) => return,
            }
        }
    })
}

fn say(result: Result<String, ServiceError>) -> Msg {
    Msg::Done(result.map_err(|e| {
        match e {
            ServiceError::Invalid(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    }))
}

impl Kitchen {
    fn run(&mut self, command: Command) {
        let (orders, tx) = (self.orders.clone(), self.tx.clone());
        let request_id = format!("console-{}", uuid::Uuid::new_v4().simple());
        match command {
            Command::PlaceOrder(draft) => {
                tokio::spawn(async move {
                    let r = orders
                        .place(&draft, Some(&request_id))
                        .await
                        .map(|p| format!("placed {} ({})", p.number, p.total));
                    let _ = tx.send(say(r)).await;
                });
            }
            Command::Cancel(n) => self.transition(n, Transition::Cancel, request_id),
            Command::Complete(n) => self.transition(n, Transition::Complete, request_id),
            Command::Recall(n) => self.transition(n, Transition::Recall, request_id),
            Command::LoadHistory(n) => {
                tokio::spawn(async move {
                    let msg = match orders.history(&n).await {
                        Ok(h) => Msg::History(n, h),
                        Err(e) => Msg::Done(Err(e.to_string())),
                    };
                    let _ = tx.send(msg).await;
                });
            }
            Command::StartWorker {
                name,
                specialty,
                prefetch,
            } => {
                // A worker of ours that has stopped may be started again under its name.
                self.workers.retain(|_, (_, task)| !task.is_finished());
                if self.workers.contains_key(&name) {
                    let _ = tx.try_send(Msg::Done(Err(format!("{name} already runs here"))));
                    return;
                }
                self.start_worker(name.clone(), specialty, prefetch);
                let _ = tx.try_send(Msg::WorkerStarted(name));
            }
            Command::StopWorker(name) => match self.workers.get(&name) {
                Some((stop, _)) => {
                    let _ = stop.send(true);
                    let _ = tx.try_send(Msg::Done(Ok(format!(
                        "stopping {name}: it finishes the order in hand"
                    ))));
                }
                None => {
                    let _ = tx.try_send(Msg::Done(Err(format!(
                        "{name} runs in another process; stop it there"
                    ))));
                }
            },
            Command::Quit { .. } => {}
        }
    }

    fn transition(&self, number: String, transition: Transition, request_id: String) {
        let (orders, tx) = (self.orders.clone(), self.tx.clone());
        tokio::spawn(async move {
            let r = orders
                .operator_transition(&number, transition, Some(&request_id))
                .await
                .map(|from| format!("{number}: {from} → {}", transition.to()));
            let _ = tx.send(say(r)).await;
        });
    }

    fn start_worker(&mut self, name: String, specialty: crate::domain::Specialty, prefetch: u16) {
        let mut spec = WorkerSpec::new(name.clone());
        spec.specialty = specialty;
        spec.prefetch = prefetch.max(1);
        spec.cook_times = self.cook_times;
        let worker = Worker::new(
            spec,
            self.store.clone(),
            self.broker.clone(),
            self.clock.clone(),
            self.wake.clone(),
        );
        let (stop_tx, stop) = watch::channel(false);
        let tx = self.tx.clone();
        let task_name = name.clone();
        let handle = tokio::spawn(async move {
            let msg = match worker.run(stop).await {
                Ok(()) => Msg::Done(Ok(format!("{task_name} is offline"))),
                Err(e) => Msg::Done(Err(format!("{task_name}: {e}"))),
            };
            let _ = tx.send(msg).await;
        });
        self.workers.insert(name, (stop_tx, handle));
    }

    /// Stops every worker of this console gracefully; the handle ends when all are offline.
    fn stop_all(&mut self) -> JoinHandle<()> {
        let handles: Vec<JoinHandle<()>> = self
            .workers
            .drain()
            .map(|(_, (stop, handle))| {
                let _ = stop.send(true);
                handle
            })
            .collect();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            for h in handles {
                let _ = h.await;
            }
            // Wake the loop so it sees that everyone has stopped.
            let _ = tx.send(Msg::Tick(chrono::Utc::now())).await;
        })
    }
}
