//! The supervisor that owns the connection: connects (unlimited retries, delay capped at 10 s,
//! every wait bounded), declares the topology, watches the link, and stops for good on a
//! refusal that retrying cannot change.

use super::*;

/// Connects, declares, watches; forever, until the broker handle is dropped or the broker
/// refuses this process for good.
pub(super) async fn supervise(uri: String, shared: std::sync::Weak<Shared>) {
    let mut delays = reconnect_delays();
    loop {
        let Some(s) = shared.upgrade() else { return };
        let attempt = connect(&uri, &s.prefix, s.ca_pem.clone()).await;
        let go_on = match attempt {
            Ok(link) => {
                delays = reconnect_delays();
                drop(s);
                hold(link, &shared).await
            }
            Err(e) => match refusal(&e.to_string(), &uri) {
                Some(why) => {
                    refused(&s, why);
                    false
                }
                None => {
                    s.set_error(Some(e.to_string()));
                    s.status.send_replace(BrokerStatus::Reconnecting);
                    drop(s);
                    let delay = delays.next().unwrap_or(MAX_DELAY);
                    tracing::warn!(action = "rabbitmq_reconnecting", error = %e, retry_in_ms = delay.as_millis() as u64, "cannot reach RabbitMQ; retrying");
                    tokio::time::sleep(delay).await;
                    true
                }
            },
        };
        if !go_on {
            return;
        }
    }
}

/// Publishes a new link and keeps it until it dies (`true`: connect again) or the broker
/// handle is dropped (`false`).
async fn hold(link: Link, shared: &std::sync::Weak<Shared>) -> bool {
    tracing::info!(action = "rabbitmq_connected", "connected to RabbitMQ");
    let link = Arc::new(link);
    if let Some(s) = shared.upgrade() {
        s.link.send_replace(Some(link.clone()));
        s.set_error(None);
        s.status.send_replace(BrokerStatus::Connected);
    }
    if !watch(&link, shared).await {
        return false;
    }
    if let Some(s) = shared.upgrade() {
        s.link.send_replace(None);
        s.set_error(Some("connection lost".into()));
        s.status.send_replace(BrokerStatus::Reconnecting);
    }
    tracing::warn!(
        action = "rabbitmq_reconnecting",
        "lost RabbitMQ; reconnecting"
    );
    true
}

/// The broker refused this process for good: say why, and stop trying.
fn refused(s: &Shared, why: String) {
    tracing::error!(action = "rabbitmq_refused", reason = %why, "RabbitMQ refused this process; not retrying");
    s.set_error(Some(why.clone()));
    s.status.send_replace(BrokerStatus::Reconnecting);
    s.refused.send_replace(Some(why));
}

const MAX_DELAY: Duration = Duration::from_secs(10);

/// 100 ms doubling to 10 s, for ever, with jitter so that many processes losing one broker do
/// not all knock at once when it returns.
fn reconnect_delays() -> impl Iterator<Item = Duration> {
    use backon::BackoffBuilder;
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(MAX_DELAY)
        .with_jitter()
        .without_max_times()
        .build()
}

/// Watches a live link until it dies (`true`) or the broker handle is dropped (`false`).
/// lapin notices a dead peer through AMQP heartbeats; look at it every second.
async fn watch(link: &Link, shared: &std::sync::Weak<Shared>) -> bool {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if shared.strong_count() == 0 {
            return false;
        }
        if !link.conn.status().connected() {
            return true;
        }
    }
}

/// A refusal that trying again cannot change, in an operator's words: the login (403
/// ACCESS_REFUSED) or the vhost (530 NOT_ALLOWED). Matched on the reply codes' names, which
/// RabbitMQ puts at the start of every reply text.
pub(super) fn refusal(error: &str, uri: &str) -> Option<String> {
    let parsed: Option<lapin::uri::AMQPUri> = uri.parse().ok();
    let (user, vhost) = parsed
        .map(|u| (u.authority.userinfo.username, u.vhost))
        .unwrap_or_default();
    if error.contains("ACCESS_REFUSED") || error.contains("ACCESS-REFUSED") {
        Some(format!(
            "RabbitMQ refused the login of user {user:?} (authentication failed, \
             ACCESS_REFUSED): check the user and password in AMQP_URL or the rabbitmq: block"
        ))
    } else if error.contains("NOT_ALLOWED") && error.contains("vhost") {
        Some(format!(
            "RabbitMQ has no vhost {vhost:?}, or user {user:?} may not use it (NOT_ALLOWED): \
             create it (rabbitmqctl add_vhost) or fix the vhost in AMQP_URL or the rabbitmq: block"
        ))
    } else {
        None
    }
}

pub(super) async fn connect(
    uri: &str,
    prefix: &str,
    ca_pem: Option<String>,
) -> Result<Link, BrokerError> {
    let props = ConnectionProperties::default().with_connection_name("restaurant-tui".into());
    let tls = lapin::tcp::OwnedTLSConfig {
        identity: None,
        cert_chain: ca_pem,
    };
    let runtime = lapin::runtime::default_runtime().map_err(err)?;
    let conn = bounded(Connection::connect_with_config(uri, props, tls, runtime)).await?;
    let ch = bounded(conn.create_channel()).await?;
    declare(&conn, &ch, prefix).await?;
    bounded(ch.confirm_select(ConfirmSelectOptions::default())).await?;
    Ok(Link {
        conn,
        publish: Mutex::new(ch),
    })
}
