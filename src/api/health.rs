//! Liveness, readiness (database and broker reported apart), and the workers' board.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;

pub async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn ready(State(state): State<AppState>) -> Response {
    let store = state.orders.store();
    let database = match store.ping().await {
        Ok(()) => json!({ "status": "up", "backend": store.backend() }),
        Err(e) => {
            tracing::warn!(action = "readiness_failed", error = %e, "database not reachable");
            json!({ "status": "down", "backend": store.backend() })
        }
    };
    let db_up = database["status"] == "up";
    let broker = match &state.broker {
        None => json!({ "status": "not_configured" }),
        Some(b) => {
            let up = *b.status().borrow() == crate::broker::BrokerStatus::Connected;
            json!({ "status": if up { "up" } else { "reconnecting" }, "kind": b.kind() })
        }
    };
    // Every supervised task by name; one that is not running makes the process degraded (it
    // still takes orders: they wait durably in the outbox).
    let tasks: serde_json::Map<String, Value> = state
        .tasks
        .as_ref()
        .map(|t| {
            t.borrow()
                .iter()
                .map(|(name, s)| (name.clone(), json!(s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let degraded = state
        .tasks
        .as_ref()
        .is_some_and(|t| t.borrow().values().any(|s| !s.is_healthy()));
    // Orders are still accepted while the broker is away (they wait in the outbox), so only
    // the database decides readiness.
    let body = json!({
        "status": match (db_up, degraded) {
            (false, _) => "unavailable",
            (true, true) => "degraded",
            (true, false) => "ready",
        },
        "database": database,
        "broker": broker,
        "tasks": tasks,
        "warnings": state.warnings.as_slice(),
    });
    if db_up {
        (StatusCode::OK, Json(body)).into_response()
    } else {
        let mut r = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        r
    }
}

#[derive(Serialize)]
pub struct WorkerBody {
    worker_name: String,
    status: String,
    orders_processed: i64,
    last_seen: DateTime<Utc>,
}

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
