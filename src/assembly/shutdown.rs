//! The one stop of an assembly: the API, then the workers, then the relay and the rest.

use tokio_util::sync::CancellationToken;

use super::AssemblyError;
use crate::supervisor::Supervisor;

/// How a stop travels through the tree; cheap to clone, so a console can run it in the
/// background while it keeps drawing.
#[derive(Debug, Clone)]
pub struct Shutdown {
    pub(super) stop: CancellationToken,
    pub(super) api: CancellationToken,
    pub(super) kitchen: CancellationToken,
    pub(super) background: CancellationToken,
    pub(super) supervisor: Supervisor,
}

/// The supervised task of a worker is named `worker NAME`.
pub(super) const WORKER_TASK: &str = "worker ";

impl Shutdown {
    /// Three branches under `stop`, cancelled one after the other by [`Shutdown::run`]; each
    /// worker's token is a child of `kitchen`, so one worker can also be stopped alone.
    pub(super) fn new() -> Shutdown {
        let stop = CancellationToken::new();
        Shutdown {
            supervisor: Supervisor::new(stop.clone()),
            stop,
            api: CancellationToken::new(),
            kitchen: CancellationToken::new(),
            background: CancellationToken::new(),
        }
    }

    /// The token that asks for a stop; cancel it from anywhere (signals, keys).
    pub fn token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Stops everything in order and waits for it: the API, then the workers, then the relay
    /// and the rest. `Err` when a task that must not fail is why the process stops.
    pub async fn run(&self) -> Result<(), AssemblyError> {
        self.stop.cancel();
        self.api.cancel();
        self.kitchen.cancel();
        self.supervisor
            .wait_for_end(|name| name.starts_with(WORKER_TASK))
            .await;
        self.background.cancel();
        self.supervisor.wait().await;
        match self.supervisor.fatal() {
            Some(why) => Err(AssemblyError::TaskFailed(why)),
            None => Ok(()),
        }
    }
}
