//! Liveness, readiness (database and broker reported apart), and the workers' board.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::error::ApiError;

#[derive(Serialize, ToSchema)]
pub struct LiveBody {
    /// Always `ok` while the process answers.
    status: &'static str,
}

/// The process answers.
#[utoipa::path(get, path = "/health/live", tag = "health",
    responses((status = 200, description = "Alive", body = LiveBody)))]
pub async fn live() -> Json<LiveBody> {
    Json(LiveBody { status: "ok" })
}

/// Readiness: the database decides it; the broker and the tasks are reported beside it (orders
/// are still accepted while the broker is away: they wait in the outbox).
#[derive(Serialize, ToSchema)]
pub struct ReadyBody {
    /// `ready`, `degraded` (a task is not running) or `unavailable` (no database).
    status: &'static str,
    database: Dependency,
    broker: Dependency,
    /// Every supervised task of the process and its state.
    tasks: BTreeMap<String, String>,
    warnings: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Dependency {
    /// `up`, `down`, `reconnecting` or `not_configured`.
    status: &'static str,
    /// The database's backend (`postgres`, `sqlite`).
    #[serde(skip_serializing_if = "Option::is_none")]
    backend: Option<&'static str>,
    /// The broker's kind (`rabbitmq`, `memory`).
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
}

#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready, or degraded", body = ReadyBody),
        (status = 503, description = "The database is unreachable (Retry-After)", body = ReadyBody)
    ))]
pub async fn ready(State(state): State<AppState>) -> Response {
    let store = state.orders.store();
    let db_up = match store.ping().await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(action = "readiness_failed", error = %e, "database not reachable");
            false
        }
    };
    let database = Dependency {
        status: if db_up { "up" } else { "down" },
        backend: Some(store.backend()),
        kind: None,
    };
    let broker = broker_dependency(state.broker.as_deref());
    let (tasks, degraded) = task_board(&state);
    let body = ReadyBody {
        status: match (db_up, degraded) {
            (false, _) => "unavailable",
            (true, true) => "degraded",
            (true, false) => "ready",
        },
        database,
        broker,
        tasks,
        warnings: state.warnings.to_vec(),
    };
    if db_up {
        (StatusCode::OK, Json(body)).into_response()
    } else {
        let mut r = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        r
    }
}

fn broker_dependency(broker: Option<&dyn crate::broker::Broker>) -> Dependency {
    match broker {
        None => Dependency {
            status: "not_configured",
            backend: None,
            kind: None,
        },
        Some(b) => {
            let up = *b.status().borrow() == crate::broker::BrokerStatus::Connected;
            Dependency {
                status: if up { "up" } else { "reconnecting" },
                backend: None,
                kind: Some(b.kind()),
            }
        }
    }
}

/// Every supervised task by name, and whether one is not running: that makes the process
/// degraded (it still takes orders: they wait durably in the outbox).
fn task_board(state: &AppState) -> (BTreeMap<String, String>, bool) {
    match &state.tasks {
        None => (BTreeMap::new(), false),
        Some(t) => {
            let board = t.borrow();
            let tasks = board
                .iter()
                .map(|(name, s)| (name.clone(), s.to_string()))
                .collect();
            (tasks, board.values().any(|s| !s.is_healthy()))
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct WorkerBody {
    worker_name: String,
    /// `online`, `processing` or `offline` (from the heartbeat's age).
    status: String,
    orders_processed: i64,
    last_seen: DateTime<Utc>,
}

/// The kitchen's workers (CONTRACT §6), `offline` computed from each heartbeat's age.
#[utoipa::path(get, path = "/workers/status", tag = "tracking",
    responses(
        (status = 200, description = "Every registered worker", body = [WorkerBody]),
        super::openapi::Busy
    ))]
pub async fn workers(State(state): State<AppState>) -> Result<Json<Vec<WorkerBody>>, ApiError> {
    let now = state.orders.now();
    let workers: Vec<WorkerBody> = state
        .orders
        .workers()
        .await?
        .into_iter()
        .map(|w| WorkerBody {
            status: w.effective_status(now).to_string(),
            worker_name: w.name,
            orders_processed: w.orders_processed,
            last_seen: w.last_seen,
        })
        .collect();
    Ok(Json(workers))
}
