//! Background tasks that are never silently gone: each runs under a supervisor that logs an
//! unexpected end as an ERROR, shows it on the [`Board`] (readiness and the console read it),
//! and then restarts the task with backoff or stops the whole process with a failure.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What each supervised task is doing, by task name.
pub type Board = BTreeMap<String, TaskState>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskState {
    Running,
    /// Ended unexpectedly; starts again after a delay.
    Restarting {
        error: String,
    },
    /// Ended unexpectedly and is not started again.
    Failed {
        error: String,
    },
    /// Stopped because it was asked to.
    Stopped,
}

impl TaskState {
    pub fn is_healthy(&self) -> bool {
        matches!(self, TaskState::Running | TaskState::Stopped)
    }
}

impl std::fmt::Display for TaskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskState::Running => f.write_str("running"),
            TaskState::Restarting { error } => write!(f, "restarting after: {error}"),
            TaskState::Failed { error } => write!(f, "failed: {error}"),
            TaskState::Stopped => f.write_str("stopped"),
        }
    }
}

/// What happens when a task ends without being asked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExit {
    /// Start it again, with a growing delay (reset once it has run for a minute).
    Restart,
    /// Ask the process to stop; it then exits non-zero.
    StopProcess,
}

/// Why a task ended. `permanent` failures are not restarted: trying again cannot help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError {
    pub message: String,
    pub permanent: bool,
}

impl TaskError {
    pub fn transient(message: impl Into<String>) -> TaskError {
        TaskError {
            message: message.into(),
            permanent: false,
        }
    }

    pub fn permanent(message: impl Into<String>) -> TaskError {
        TaskError {
            message: message.into(),
            permanent: true,
        }
    }
}

/// Spawns and watches tasks; cheap to clone.
#[derive(Debug, Clone)]
pub struct Supervisor {
    tracker: TaskTracker,
    board: Arc<watch::Sender<Board>>,
    /// Cancelled to ask the whole process to stop.
    stop: CancellationToken,
    /// The first failure that stopped the process.
    fatal: Arc<Mutex<Option<String>>>,
}

/// Restart delays: 200 ms doubling to 30 s, with jitter, for as long as it takes.
fn restart_delays() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(30))
        .with_jitter()
        .without_max_times()
        .build()
}

/// A task that ran this long before failing starts its backoff over.
const STABLE_AFTER: Duration = Duration::from_secs(60);

impl Supervisor {
    pub fn new(stop: CancellationToken) -> Supervisor {
        let (board, _) = watch::channel(Board::new());
        Supervisor {
            tracker: TaskTracker::new(),
            board: Arc::new(board),
            stop,
            fatal: Arc::new(Mutex::new(None)),
        }
    }

    /// The live board of task states.
    pub fn board(&self) -> watch::Receiver<Board> {
        self.board.subscribe()
    }

    /// Whether `name` is running or waiting to restart.
    pub fn is_active(&self, name: &str) -> bool {
        matches!(
            self.board.borrow().get(name),
            Some(TaskState::Running | TaskState::Restarting { .. })
        )
    }

    /// The failure that asked the process to stop, if one did.
    pub fn fatal(&self) -> Option<String> {
        self.fatal
            .lock()
            .map(|f| f.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Runs `make()` until `token` is cancelled, handling unexpected ends as `on_exit` says.
    /// Each run is its own tokio task, so a panic is caught and reported like an error.
    pub fn spawn<F, Fut>(&self, name: &str, token: CancellationToken, on_exit: OnExit, mut make: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), TaskError>> + Send + 'static,
    {
        let sup = self.clone();
        let name = name.to_string();
        // Marked at once, so a waiter that looks right after this call sees the task.
        self.set(&name, TaskState::Running);
        self.tracker.spawn(async move {
            let mut delays = restart_delays();
            loop {
                let started = Instant::now();
                let ended = tokio::spawn(make()).await;
                if token.is_cancelled() {
                    sup.set(&name, TaskState::Stopped);
                    return;
                }
                let error = match ended {
                    Ok(Ok(())) => TaskError::transient("it ended without being asked to"),
                    Ok(Err(e)) => e,
                    Err(join) => TaskError::transient(panic_text(join)),
                };
                tracing::error!(action = "task_failed", task = %name, error_type = "TaskError", error.msg = %error.message, permanent = error.permanent, "a background task ended unexpectedly");
                if on_exit == OnExit::StopProcess || error.permanent {
                    sup.set(
                        &name,
                        TaskState::Failed {
                            error: error.message.clone(),
                        },
                    );
                    if on_exit == OnExit::StopProcess {
                        sup.fail(format!("{name}: {}", error.message));
                    }
                    return;
                }
                if started.elapsed() > STABLE_AFTER {
                    delays = restart_delays();
                }
                let delay = delays.next().unwrap_or(Duration::from_secs(30));
                sup.set(
                    &name,
                    TaskState::Restarting {
                        error: error.message,
                    },
                );
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = token.cancelled() => {
                        sup.set(&name, TaskState::Stopped);
                        return;
                    }
                }
                tracing::warn!(action = "task_restarted", task = %name, "starting the task again");
                sup.set(&name, TaskState::Running);
            }
        });
    }

    /// Waits until no task whose name `matches` is running or waiting to restart.
    pub async fn wait_for_end(&self, matches: impl Fn(&str) -> bool) {
        let mut board = self.board.subscribe();
        let _ = board
            .wait_for(|b| {
                !b.iter().any(|(name, state)| {
                    matches(name)
                        && matches!(state, TaskState::Running | TaskState::Restarting { .. })
                })
            })
            .await;
    }

    /// Waits until every task has ended (they must have been asked to).
    pub async fn wait(&self) {
        self.tracker.close();
        self.tracker.wait().await;
    }

    fn set(&self, name: &str, state: TaskState) {
        self.board.send_modify(|b| {
            b.insert(name.to_string(), state);
        });
    }

    fn fail(&self, why: String) {
        if let Ok(mut f) = self.fatal.lock() {
            f.get_or_insert(why);
        }
        self.stop.cancel();
    }
}

fn panic_text(join: tokio::task::JoinError) -> String {
    if !join.is_panic() {
        return join.to_string();
    }
    let payload = join.into_panic();
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("it panicked: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_task_that_panics_is_reported_and_restarted() {
        let stop = CancellationToken::new();
        let sup = Supervisor::new(stop.clone());
        let runs = Arc::new(AtomicU32::new(0));
        let token = CancellationToken::new();
        let counter = runs.clone();
        let t = token.clone();
        sup.spawn("relay", token.clone(), OnExit::Restart, move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let t = t.clone();
            async move {
                if n == 0 {
                    panic!("boom");
                }
                t.cancelled().await;
                Ok(())
            }
        });
        let mut board = sup.board();
        board
            .wait_for(|b| matches!(b.get("relay"), Some(TaskState::Restarting { error }) if error.contains("boom")))
            .await
            .unwrap();
        board
            .wait_for(|b| b.get("relay") == Some(&TaskState::Running))
            .await
            .unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        token.cancel();
        sup.wait().await;
        assert_eq!(sup.board().borrow().get("relay"), Some(&TaskState::Stopped));
        assert!(
            !stop.is_cancelled(),
            "a restartable task never stops the process"
        );
    }

    #[tokio::test]
    async fn a_fatal_task_stops_the_process_with_its_reason() {
        let stop = CancellationToken::new();
        let sup = Supervisor::new(stop.clone());
        sup.spawn(
            "api",
            CancellationToken::new(),
            OnExit::StopProcess,
            || async { Err(TaskError::transient("socket closed")) },
        );
        stop.cancelled().await;
        sup.wait().await;
        assert_eq!(sup.fatal().as_deref(), Some("api: socket closed"));
    }

    #[tokio::test]
    async fn a_permanent_failure_is_not_restarted() {
        let sup = Supervisor::new(CancellationToken::new());
        sup.spawn(
            "worker chef_1",
            CancellationToken::new(),
            OnExit::Restart,
            || async { Err(TaskError::permanent("name taken")) },
        );
        sup.wait().await;
        assert_eq!(
            sup.board().borrow().get("worker chef_1"),
            Some(&TaskState::Failed {
                error: "name taken".into()
            })
        );
        assert!(sup.fatal().is_none());
    }
}
