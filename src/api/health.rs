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
    // Orders are still accepted while the broker is away (they wait in the outbox), so only
    // the database decides readiness.
    let body = json!({
        "status": if db_up { "ready" } else { "unavailable" },
        "database": database,
        "broker": broker,
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
