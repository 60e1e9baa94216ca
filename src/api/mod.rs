//! The HTTP API of CONTRACT §6: one router, built from the service and limits, served on a
//! listener the caller bound (tests bind `127.0.0.1:0`).
//!
//! Layers, outermost first: request id (sanitised, generated, echoed) → trace span and access
//! line → JSON error bodies → body limit → bearer token → per-client rate limit → routes
//! (order creation behind a bounded queue and a concurrency limit that shed load with 503).

mod draft;
mod error;
mod health;
pub mod listener;
mod metrics;
mod openapi;
mod orders;
mod query;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderName, Method, Response, header};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{BoxError, Router};
use governor::middleware::NoOpMiddleware;
use subtle::ConstantTimeEq;
use tower::ServiceBuilder;
use tower_governor::GovernorLayer;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::broker::Broker;
use crate::config::Secret;
use crate::service::OrderService;

pub use error::ApiError;
pub use listener::{ConnectionLimits, serve};
pub use metrics::only as metrics_only;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub orders: OrderService,
    /// The broker this process publishes to, if any (readiness reports it).
    pub broker: Option<Arc<dyn Broker>>,
    /// The process's supervised tasks, if it runs any (readiness reports them).
    pub tasks: Option<tokio::sync::watch::Receiver<crate::supervisor::Board>>,
    /// What readiness should always say (for example: nothing in this process cooks).
    pub warnings: Arc<Vec<String>>,
}

/// Which routes a process serves, and its limits.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// The old tracking service serves only the read routes.
    pub read_only: bool,
    pub max_concurrent: usize,
    pub body_limit_bytes: usize,
    pub rate_limit_per_second: u32,
    pub rate_limit_burst: u32,
    pub token: Option<Secret>,
    pub body_read_timeout: Duration,
}

impl Default for ApiOptions {
    fn default() -> Self {
        let s = crate::config::ServerConfig::default();
        ApiOptions::from_server(&s, false)
    }
}

impl ApiOptions {
    pub fn from_server(s: &crate::config::ServerConfig, read_only: bool) -> Self {
        ApiOptions {
            read_only,
            max_concurrent: s.max_concurrent,
            body_limit_bytes: s.body_limit_bytes,
            rate_limit_per_second: s.rate_limit_per_second,
            rate_limit_burst: s.rate_limit_burst,
            token: s.token.clone().filter(|t| !t.is_empty()),
            body_read_timeout: s.body_read_timeout,
        }
    }
}

pub fn router(orders: OrderService, options: &ApiOptions) -> Router {
    router_with(
        AppState {
            orders,
            broker: None,
            tasks: None,
            warnings: Arc::default(),
        },
        options,
    )
}

/// [`router`] for a process with a broker and tasks of its own to report.
pub fn router_with(state: AppState, options: &ApiOptions) -> Router {
    let api = order_routes(options);
    let token = options.token.as_ref().map(|t| Arc::<str>::from(t.expose()));
    Router::new()
        .merge(api)
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(metrics::metrics))
        .route("/openapi.json", get(openapi::document))
        .with_state(state)
        .layer(middleware::from_fn_with_state(
            options.body_read_timeout,
            read_body_in_time,
        ))
        .layer(middleware::from_fn_with_state(token, require_token))
        .layer(DefaultBodyLimit::max(options.body_limit_bytes))
        .layer(RequestBodyLimitLayer::new(options.body_limit_bytes))
        .layer(middleware::map_response(error::json_errors))
        .layer(middleware::from_fn(metrics::record))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| {
                    let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(|res: &Response<Body>, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(
                        action = "http_request",
                        status = res.status().as_u16(),
                        duration_ms = latency.as_millis() as u64,
                        "request handled"
                    );
                })
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(middleware::map_request(drop_invalid_request_id))
}

/// The orders and workers routes (the writes unless read-only), behind the rate limit.
fn order_routes(options: &ApiOptions) -> Router<AppState> {
    // `max_concurrent` creations run at once and as many more may wait their turn; beyond that
    // the API answers 503 at once instead of queueing without bound (CONTRACT §6).
    let create = post(orders::create).layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(|_: BoxError| async {
                ApiError::Overloaded
            }))
            .load_shed()
            .buffer(options.max_concurrent)
            .concurrency_limit(options.max_concurrent),
    );
    let mut api = Router::new()
        .route("/orders", get(orders::list))
        .route("/orders/{number}/status", get(orders::status))
        .route("/orders/{number}/history", get(orders::history))
        .route("/workers/status", get(health::workers));
    if !options.read_only {
        api = api
            .route("/orders", create)
            .route("/orders/{number}/cancel", post(orders::cancel))
            .route("/orders/{number}/complete", post(orders::complete));
    }
    if let Some(config) = rate_limit_config(options) {
        api = api.layer(GovernorLayer::new(config).error_handler(too_many_requests));
    }
    api
}

/// The request id a handler should carry onto what it writes.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A client's `X-Request-Id` is kept only if it is 1–128 visible ASCII characters; otherwise one
/// is generated (CONTRACT §6), so log lines never carry control characters or megabytes.
async fn drop_invalid_request_id(mut req: Request) -> Request {
    let valid = req.headers().get(&REQUEST_ID).map(|v| {
        (1..=128).contains(&v.len()) && v.as_bytes().iter().all(|b| (0x21..=0x7e).contains(b))
    });
    if valid == Some(false) {
        req.headers_mut().remove(&REQUEST_ID);
    }
    req
}

/// Reads a request's whole body within the body-read timeout (408 past it), before the request
/// reaches its route: a client that sends its body slowly never holds an order-creation place
/// (CONTRACT §6). The body limit still applies (413).
async fn read_body_in_time(
    State(limit): State<Duration>,
    req: Request,
    next: Next,
) -> axum::response::Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    use http_body_util::BodyExt;
    match tokio::time::timeout(limit, body.collect()).await {
        Err(_) => {
            tracing::warn!(
                action = "body_timeout",
                "the request body did not arrive in time"
            );
            ApiError::BodyTimeout.into_response()
        }
        Ok(Err(e)) => {
            // Cut short by the body limit (a body sent without its length), or broken off.
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_large {
                ApiError::TooLarge.into_response()
            } else {
                ApiError::Malformed(format!("the request body could not be read: {e}"))
                    .into_response()
            }
        }
        Ok(Ok(collected)) => {
            let bytes = collected.to_bytes();
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    }
}

/// With a token configured, every mutating request, and the order list (it holds customers'
/// names and addresses), must carry `Authorization: Bearer <token>`; the compatible tracking
/// routes (`/status`, `/history`, `/workers/status`) and health stay open (CONTRACT §6).
async fn require_token(
    State(token): State<Option<Arc<str>>>,
    req: Request,
    next: Next,
) -> axum::response::Response {
    let Some(token) = token else {
        return next.run(req).await;
    };
    let reads = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if reads && req.uri().path() != "/orders" {
        return next.run(req).await;
    }
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    // Compared in constant time: how long a refusal takes says nothing about the token.
    let matches = given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(token.as_bytes())));
    if matches {
        next.run(req).await
    } else {
        ApiError::Unauthorized.into_response()
    }
}

/// The client's address from the connection; requests that come without one (a router driven
/// in-process) share one bucket.
#[derive(Debug, Clone, Copy)]
struct PeerIp;

impl KeyExtractor for PeerIp {
    type Key = IpAddr;

    fn extract<T>(
        &self,
        req: &axum::http::Request<T>,
    ) -> Result<Self::Key, tower_governor::GovernorError> {
        Ok(req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
    }
}

/// One request every `1/rate` seconds per client, with bursts; `None` when the numbers say off.
fn rate_limit_config(options: &ApiOptions) -> Option<Arc<GovernorConfig<PeerIp, NoOpMiddleware>>> {
    if options.rate_limit_per_second == 0 {
        return None;
    }
    let per_request_ns = 1_000_000_000 / u64::from(options.rate_limit_per_second);
    let config = GovernorConfigBuilder::default()
        .key_extractor(PeerIp)
        .per_nanosecond(per_request_ns.max(1))
        .burst_size(options.rate_limit_burst.max(1))
        .finish()?;
    let config = Arc::new(config);
    // Forget idle clients now and then, so the limiter's memory stays bounded.
    let limiter = config.limiter().clone();
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                limiter.retain_recent();
            }
        });
    }
    Some(config)
}

fn too_many_requests(e: tower_governor::GovernorError) -> axum::response::Response {
    let mut response = ApiError::RateLimited.into_response();
    if let tower_governor::GovernorError::TooManyRequests { wait_time, .. } = e
        && let Ok(v) = header::HeaderValue::from_str(&wait_time.max(1).to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}
