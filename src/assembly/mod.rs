//! The one assembly (ENGINEERING habit 13): builds the kitchen from the configuration — store,
//! broker, order service, relay, API listener, workers — and owns its one cancellation tree and
//! its one supervised set of tasks. `serve`, `worker`, `notify`, `migrate`, the console and the
//! tests all start through it, and all stop through [`Shutdown::run`].
//!
//! The tree, and the order a stop travels down it:
//!
//! ```text
//! stop (requested by a signal, a key, or a task that must not fail)
//!   1. api      stop accepting; requests in flight finish
//!   2. kitchen  every worker (one child token each): the order in hand finishes or is handed
//!               back, prefetched orders go back, the worker row goes offline
//!   3. background  the relay publishes what the stopping workers wrote, then ends; feeds end
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

mod listen;
mod recovery;
mod shutdown;

pub use shutdown::Shutdown;
use shutdown::WORKER_TASK;

use recovery::recover;

use crate::broker::Broker;
use crate::broker::amqp::AmqpBroker;
use crate::broker::memory::MemoryBus;
use crate::config::{Config, ConfigError};
use crate::domain::{Clock, SystemClock};
use crate::kitchen::{Worker, WorkerSpec};
use crate::relay::Relay;
use crate::service::OrderService;
use crate::store::{self, DatabaseTarget, Store, StoreError};
use crate::supervisor::{Board, OnExit, TaskError};

#[derive(Debug, thiserror::Error)]
pub enum AssemblyError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the {target}: {source}")]
    Database {
        target: String,
        #[source]
        source: StoreError,
    },
    #[error(
        "{0} needs RabbitMQ (the in-process bus lives inside one process): set AMQP_URL or the \
         rabbitmq: block of the configuration"
    )]
    NeedsRabbit(&'static str),
    #[error("cannot listen on {addr}: {source} (choose another port with --port or server.port)")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot queue the embedded kitchen's orders again: {0}")]
    Recovery(#[source] StoreError),
    #[error("{0}")]
    Tls(String),
    #[error("{0} already runs here")]
    WorkerRuns(String),
    #[error("{0}")]
    WorkerName(String),
    #[error("this process has no kitchen to run a worker in")]
    NoKitchen,
    /// A task that must not fail did; the process stops with it.
    #[error("{0}")]
    TaskFailed(String),
}

/// Which broker a mode uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerChoice {
    /// None at all (the tracking service, `migrate`).
    None,
    /// RabbitMQ if configured; else none, and orders wait durably in the outbox.
    RabbitIfConfigured,
    /// RabbitMQ if configured; else the in-process bus (the console, `serve --workers N`).
    RabbitOrInProcess,
    /// RabbitMQ, which this mode cannot run without.
    Rabbit { needed_by: &'static str },
}

/// What to build.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Open the database (everything but `notify`).
    pub store: bool,
    pub broker: BrokerChoice,
}

/// A built kitchen. Dropping it without [`Shutdown::run`] abandons its tasks.
pub struct Assembly {
    config: Config,
    store: Option<Arc<dyn Store>>,
    broker: Option<Arc<dyn Broker>>,
    orders: Option<OrderService>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    shutdown: Shutdown,
    workers: HashMap<String, CancellationToken>,
    warnings: Vec<String>,
}

/// The relays of one process, by task name.
const RELAYS: [&str; 2] = ["relay", "relay 2"];

impl Assembly {
    pub async fn build(config: &Config, plan: Plan) -> Result<Assembly, AssemblyError> {
        // Counters recorded from here on land in this process's `/metrics`.
        crate::metrics::handle();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let wake = Arc::new(Notify::new());
        let shutdown = Shutdown::new();
        let store = match plan.store {
            true => Some(open_store(&config.database_target("configuration")?).await?),
            false => None,
        };
        let broker = open_broker(config, plan.broker, store.as_ref(), clock.now()).await?;
        let orders = store
            .clone()
            .map(|s| OrderService::new(s, clock.clone()).with_outbox_wake(wake.clone()));
        let assembly = Assembly {
            config: config.clone(),
            store,
            broker,
            orders,
            clock,
            wake,
            shutdown,
            workers: HashMap::new(),
            warnings: Vec::new(),
        };
        assembly.start_relay();
        Ok(assembly)
    }

    /// The store, broker and order service this kitchen runs on.
    pub fn store(&self) -> Option<&Arc<dyn Store>> {
        self.store.as_ref()
    }

    pub fn broker(&self) -> Option<&Arc<dyn Broker>> {
        self.broker.as_ref()
    }

    pub fn orders(&self) -> Option<&OrderService> {
        self.orders.as_ref()
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn board(&self) -> watch::Receiver<Board> {
        self.shutdown.supervisor.board()
    }

    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Something readiness and the start-up log should say (a kitchen nothing will cook in).
    pub fn warn(&mut self, action: &'static str, warning: String) {
        tracing::warn!(action, "{warning}");
        self.warnings.push(warning);
    }

    /// Publishes committed outbox rows to the broker, when there are both: two relays, so
    /// that while one waits for its batch's confirms the other takes what was just committed
    /// (a cook's `ready` does not wait behind its `cooking`; issue #10). Leases keep them
    /// apart as they keep relays of different processes apart.
    fn start_relay(&self) {
        let (Some(store), Some(broker)) = (&self.store, &self.broker) else {
            return;
        };
        for name in RELAYS {
            let relay = Relay::new(
                store.clone(),
                broker.clone(),
                self.clock.clone(),
                self.wake.clone(),
            );
            let token = self.shutdown.background.clone();
            self.shutdown
                .supervisor
                .spawn(name, token.clone(), OnExit::Restart, move || {
                    // It returns only when stopped; returning otherwise is what the supervisor
                    // reports.
                    let (relay, token) = (relay.clone(), token.clone());
                    async move {
                        relay.run(token).await;
                        Ok(())
                    }
                });
        }
    }

    /// Starts a kitchen worker under its own child token. A worker that fails is restarted or
    /// stops the process, as `on_exit` says; a name that is taken is never retried.
    pub fn start_worker(
        &mut self,
        mut spec: WorkerSpec,
        on_exit: OnExit,
    ) -> Result<(), AssemblyError> {
        let (Some(store), Some(broker)) = (&self.store, &self.broker) else {
            return Err(AssemblyError::NoKitchen);
        };
        crate::domain::check_worker_name(&spec.name).map_err(AssemblyError::WorkerName)?;
        let task = format!("{WORKER_TASK}{}", spec.name);
        if self.shutdown.supervisor.is_active(&task) {
            return Err(AssemblyError::WorkerRuns(spec.name));
        }
        spec.shutdown_timeout = self.config.kitchen.shutdown_timeout;
        let worker = Worker::new(
            spec,
            store.clone(),
            broker.clone(),
            self.clock.clone(),
            self.wake.clone(),
        );
        let token = self.shutdown.kitchen.child_token();
        self.workers
            .insert(worker.name().to_string(), token.clone());
        self.shutdown
            .supervisor
            .spawn(&task, token.clone(), on_exit, move || {
                let (worker, token) = (worker.clone(), token.clone());
                async move {
                    worker.run(token).await.map_err(|e| match e.is_retryable() {
                        true => TaskError::transient(e.to_string()),
                        false => TaskError::permanent(e.to_string()),
                    })
                }
            });
        Ok(())
    }

    /// Starts the workers of the configuration's `workers:` list; one result per worker, by
    /// name, so the caller says which did not start and why.
    pub fn start_configured_workers(&mut self) -> Vec<(String, Result<(), AssemblyError>)> {
        let listed = self.config.workers.clone();
        listed
            .into_iter()
            .map(|w| {
                let mut spec = WorkerSpec::new(w.name.clone());
                spec.prefetch = w.prefetch.max(1);
                spec.cook_times = self.config.kitchen.cook_time;
                // Checked with the configuration; a failure here would be a bug, said as such.
                let started = w
                    .specialty()
                    .map_err(AssemblyError::WorkerName)
                    .and_then(|s| {
                        spec.specialty = s;
                        self.start_worker(spec, OnExit::Restart)
                    });
                (w.name, started)
            })
            .collect()
    }

    /// Asks one worker of this process to stop gracefully; `false` if none runs by that name.
    pub fn stop_worker(&mut self, name: &str) -> bool {
        let task = format!("{WORKER_TASK}{name}");
        match self.workers.get(name) {
            Some(token) if self.shutdown.supervisor.is_active(&task) => {
                token.cancel();
                true
            }
            _ => false,
        }
    }

    /// Runs another task of this process (a console feed, the `notify` printer) until the
    /// background stop, under the same supervision.
    pub fn spawn<F, Fut>(&self, name: &str, on_exit: OnExit, make: F)
    where
        F: Fn(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), TaskError>> + Send + 'static,
    {
        let token = self.shutdown.background.clone();
        self.shutdown
            .supervisor
            .spawn(name, token.clone(), on_exit, move || make(token.clone()));
    }

    /// A headless process stops, with the reason, when its broker refuses it for good (wrong
    /// credentials, no such vhost): retrying for ever would only hide the cause (issue #11).
    /// The console does not call this: it shows the reason in its banner and keeps running.
    pub fn stop_if_broker_refuses(&self) {
        let Some(broker) = self.broker.clone() else {
            return;
        };
        self.spawn("broker", OnExit::StopProcess, move |stop| {
            let broker = broker.clone();
            async move {
                tokio::select! {
                    () = stop.cancelled() => Ok(()),
                    why = broker.refused() => Err(TaskError::permanent(why)),
                }
            }
        });
    }

    /// Waits for a stop request (or a fatal task failure), then stops everything in order.
    pub async fn run_until_stopped(self) -> Result<(), AssemblyError> {
        self.shutdown.stop.cancelled().await;
        self.shutdown.run().await
    }
}

/// The broker the plan asks for: RabbitMQ when configured (TLS checked first), else the
/// in-process bus refilled from the store's kitchen backlog, else none.
async fn open_broker(
    config: &Config,
    choice: BrokerChoice,
    store: Option<&Arc<dyn Store>>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Arc<dyn Broker>>, AssemblyError> {
    let rabbit = config.broker_target("configuration")?;
    Ok(match (choice, rabbit) {
        (BrokerChoice::None, _) => None,
        (_, Some(t)) => {
            tracing::info!(action = "rabbitmq_connecting", target = %t.display, prefix = %t.prefix, "connecting to RabbitMQ");
            // A TLS URL is never used in plaintext, nor retried for ever when TLS cannot
            // be set up: the start fails with the handshake's reason.
            AmqpBroker::check_tls(&t.uri, t.ca_pem.clone())
                .await
                .map_err(AssemblyError::Tls)?;
            Some(Arc::new(AmqpBroker::start_trusting(
                t.uri, t.prefix, t.ca_pem,
            )))
        }
        (BrokerChoice::Rabbit { needed_by }, None) => {
            return Err(AssemblyError::NeedsRabbit(needed_by));
        }
        (BrokerChoice::RabbitIfConfigured, None) => None,
        (BrokerChoice::RabbitOrInProcess, None) => {
            let bus = MemoryBus::new();
            if let Some(store) = store {
                recover(store.as_ref(), &bus, now).await?;
            }
            Some(Arc::new(bus))
        }
    })
}

async fn open_store(target: &DatabaseTarget) -> Result<Arc<dyn Store>, AssemblyError> {
    match store::open(target).await {
        Ok(s) => {
            tracing::info!(action = "db_connected", backend = s.backend(), target = %target.describe(), "database connected and migrated");
            Ok(s)
        }
        Err(source) => {
            tracing::error!(action = "db_connection_failed", error = &source as &dyn std::error::Error, error_type = "StoreError", target = %target.describe(), "cannot open the database");
            Err(AssemblyError::Database {
                target: target.describe(),
                source,
            })
        }
    }
}
