//! Prometheus metrics (CONTRACT §6 `GET /metrics`): every series' name in one place, the
//! process's one recorder, and the gauges that are read from the store and broker when scraped.
//!
//! Counters and histograms are recorded where things happen (a placed order, an applied
//! transition, a finished cook, an HTTP answer, a relay batch); gauges that describe shared
//! state (outbox backlog, queue depth, workers online, database and broker up) are sampled by
//! [`sample`] just before the text is rendered, so an idle process does no work for them.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::broker::{Broker, BrokerStatus};
use crate::domain::{OrderStatus, OrderType};
use crate::store::Store;

pub const ORDERS_CREATED: &str = "restaurant_orders_created_total";
pub const TRANSITIONS: &str = "restaurant_order_transitions_total";
pub const COOK_SECONDS: &str = "restaurant_cook_seconds";
pub const READY_SECONDS: &str = "restaurant_order_ready_seconds";
pub const OUTBOX_BACKLOG: &str = "restaurant_outbox_backlog";
pub const OUTBOX_OLDEST: &str = "restaurant_outbox_oldest_age_seconds";
pub const QUEUE_DEPTH: &str = "restaurant_queue_depth";
pub const WORKERS_ONLINE: &str = "restaurant_workers_online";
pub const HTTP_REQUESTS: &str = "restaurant_http_requests_total";
pub const HTTP_SECONDS: &str = "restaurant_http_request_duration_seconds";
pub const RELAY_PUBLISH_SECONDS: &str = "restaurant_relay_publish_seconds";
pub const DATABASE_UP: &str = "restaurant_database_up";
pub const BROKER_UP: &str = "restaurant_broker_up";

/// Buckets for request and publish latencies: 1 ms to 10 s.
const FAST: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets for cooking and 201 → ready: 50 ms to an hour (a cook time is seconds to minutes).
const SLOW: &[f64] = &[
    0.05, 0.25, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first use. `None` only if another recorder was
/// installed first (then `/metrics` answers 503 rather than lying with an empty page).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE.get_or_init(install).as_ref()
}

fn install() -> Option<PrometheusHandle> {
    let built = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(HTTP_SECONDS.into()), FAST)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(RELAY_PUBLISH_SECONDS.into()), FAST))
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(COOK_SECONDS.into()), SLOW))
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(READY_SECONDS.into()), SLOW))
        .and_then(PrometheusBuilder::install_recorder);
    match built {
        Ok(handle) => {
            describe();
            // Histogram samples wait in the recorder until drained; drain them even when nothing
            // scrapes, so memory stays flat.
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!(action = "metrics_upkeep_failed", error = %e, "metrics upkeep not started");
            }
            Some(handle)
        }
        Err(e) => {
            tracing::warn!(action = "metrics_unavailable", error = %e, "no metrics recorder");
            None
        }
    }
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(ORDERS_CREATED, "Orders placed, by order type.");
    describe_counter!(
        TRANSITIONS,
        "Status transitions applied, by from and to status."
    );
    describe_histogram!(COOK_SECONDS, Unit::Seconds, "Cooking time, by order type.");
    describe_histogram!(
        READY_SECONDS,
        Unit::Seconds,
        "From placement (201) to ready, by order type."
    );
    describe_gauge!(
        OUTBOX_BACKLOG,
        "Outbox messages committed and not yet published."
    );
    describe_gauge!(
        OUTBOX_OLDEST,
        Unit::Seconds,
        "Age of the oldest unpublished outbox message (0 when none)."
    );
    describe_gauge!(QUEUE_DEPTH, "Messages ready in a broker queue, by queue.");
    describe_gauge!(WORKERS_ONLINE, "Workers whose heartbeat is current.");
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route and status."
    );
    describe_histogram!(
        HTTP_SECONDS,
        Unit::Seconds,
        "HTTP request latency, by route and status."
    );
    describe_histogram!(
        RELAY_PUBLISH_SECONDS,
        Unit::Seconds,
        "Time for the relay to publish a batch and have it confirmed."
    );
    describe_gauge!(DATABASE_UP, "1 when the database answers, else 0.");
    describe_gauge!(BROKER_UP, "1 when the broker is connected, else 0.");
}

/// Renders the exposition text; `None` without a recorder.
pub fn render() -> Option<String> {
    handle().map(PrometheusHandle::render)
}

pub fn order_created(t: OrderType) {
    counter!(ORDERS_CREATED, "order_type" => t.as_str()).increment(1);
}

pub fn transition(from: OrderStatus, to: OrderStatus) {
    counter!(TRANSITIONS, "from" => from.as_str(), "to" => to.as_str()).increment(1);
}

/// A cook finished an order: how long it cooked, and how long since it was placed.
pub fn cooked(t: OrderType, cooking: Duration, placed_at: DateTime<Utc>, now: DateTime<Utc>) {
    histogram!(COOK_SECONDS, "order_type" => t.as_str()).record(cooking.as_secs_f64());
    let since = now
        .signed_duration_since(placed_at)
        .to_std()
        .unwrap_or_default();
    histogram!(READY_SECONDS, "order_type" => t.as_str()).record(since.as_secs_f64());
}

pub fn http_answered(route: &str, status: u16, latency: Duration) {
    let (route, status) = (route.to_string(), status.to_string());
    counter!(HTTP_REQUESTS, "route" => route.clone(), "status" => status.clone()).increment(1);
    histogram!(HTTP_SECONDS, "route" => route, "status" => status).record(latency.as_secs_f64());
}

pub fn relay_published(latency: Duration) {
    histogram!(RELAY_PUBLISH_SECONDS).record(latency.as_secs_f64());
}

/// Reads the gauges from what this process has (a worker or `notify` has no store to read
/// the outbox from; its page says what it can).
pub async fn sample(store: Option<&dyn Store>, broker: Option<&dyn Broker>, now: DateTime<Utc>) {
    if let Some(store) = store {
        let up = store.ping().await.is_ok();
        gauge!(DATABASE_UP).set(f64::from(u8::from(up)));
        if let Ok(stats) = store.outbox_stats().await {
            gauge!(OUTBOX_BACKLOG).set(stats.unsent as f64);
            let age = stats
                .oldest_unsent
                .map(|t| now.signed_duration_since(t).num_milliseconds().max(0) as f64 / 1000.0)
                .unwrap_or(0.0);
            gauge!(OUTBOX_OLDEST).set(age);
        }
        if let Ok(workers) = store.workers().await {
            let online = workers
                .iter()
                .filter(|w| w.effective_status(now) != crate::domain::WorkerStatus::Offline)
                .count();
            gauge!(WORKERS_ONLINE).set(online as f64);
        }
    }
    if let Some(broker) = broker {
        let up = *broker.status().borrow() == BrokerStatus::Connected;
        gauge!(BROKER_UP).set(f64::from(u8::from(up)));
        if up && let Ok(depths) = broker.queue_depths().await {
            for (queue, depth) in depths {
                gauge!(QUEUE_DEPTH, "queue" => queue).set(depth as f64);
            }
        }
    }
}
