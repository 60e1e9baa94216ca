//! `GET /metrics` (CONTRACT §6): the gauges sampled, then the Prometheus text; and the HTTP
//! series recorded for every answer, labelled by the route's pattern (never the raw path, so
//! an order number or a scanner's junk cannot grow the label set).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::error::ApiError;
use crate::broker::Broker;
use crate::store::Store;

/// The exposition format's content type (text format 0.0.4).
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Prometheus text: orders, transitions, cook and 201 → ready times, outbox, queues, workers,
/// HTTP, relay, database and broker.
#[utoipa::path(get, path = "/metrics", tag = "meta",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain"),
        (status = 503, description = "No metrics recorder in this process", body = super::openapi::ErrorBody)
    ))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let store = state.orders.store();
    crate::metrics::sample(
        Some(store.as_ref()),
        state.broker.as_deref(),
        state.orders.now(),
    )
    .await;
    exposition()
}

fn exposition() -> Response {
    match crate::metrics::render() {
        Some(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        None => ApiError::Unavailable.into_response(),
    }
}

/// What a process without the API (a worker, `notify`) has to sample.
#[derive(Clone)]
struct Sources {
    store: Option<Arc<dyn Store>>,
    broker: Option<Arc<dyn Broker>>,
}

/// A router with `/metrics` alone, for `worker --metrics-port` and `notify --metrics-port`.
pub fn only(store: Option<Arc<dyn Store>>, broker: Option<Arc<dyn Broker>>) -> Router {
    async fn page(State(s): State<Sources>) -> Response {
        crate::metrics::sample(s.store.as_deref(), s.broker.as_deref(), chrono::Utc::now()).await;
        exposition()
    }
    Router::new()
        .route("/metrics", get(page))
        .with_state(Sources { store, broker })
}

/// Records every answer by route pattern and status; a path no route matched counts as
/// `unmatched`.
pub async fn record(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let response = next.run(req).await;
    crate::metrics::http_answered(&route, response.status().as_u16(), started.elapsed());
    response
}
