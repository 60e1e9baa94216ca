//! RabbitMQ through lapin: the compatible topology of CONTRACT §3 behind an optional name prefix.
//!
//! One supervisor task owns the connection: it connects (unlimited retries, delay capped at
//! 10 s, every wait bounded by a timeout), declares the topology, publishes `Connected`, watches
//! the link, and on loss publishes `Reconnecting` and starts over. Consumers re-subscribe on
//! every new link; the broker hands their unacknowledged messages to others when a link dies.
//! (lapin's own in-place recovery is left off so that exactly one mechanism rebuilds.)

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream::select_all;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};
use tokio::sync::{Mutex, mpsc, watch};

use super::{
    Broker, BrokerError, BrokerStatus, DEAD_LETTER_LIMIT, DeadLetter, Deliveries, Delivery,
    Outgoing, Settle, kitchen_queue,
};
use crate::domain::{NOTIFICATIONS_EXCHANGE, ORDERS_EXCHANGE, OrderType};

/// Bound on every single broker round trip.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The durable notifications queue keeps at most this many updates (oldest dropped).
const NOTIFICATIONS_QUEUE_LIMIT: i32 = 10_000;
const REASON_HEADER: &str = "x-reason";
const REQUEST_ID_HEADER: &str = "request_id";

mod dead_letters;

use dead_letters::{DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE};

#[derive(Debug, Clone)]
pub struct AmqpBroker {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    prefix: String,
    /// Certificate authorities to trust for `amqps://` beyond webpki's.
    ca_pem: Option<String>,
    link: watch::Sender<Option<Arc<Link>>>,
    status: watch::Sender<BrokerStatus>,
    /// Why the last attempt failed or the link was lost; cleared on connecting.
    last_error: std::sync::Mutex<Option<String>>,
    /// Set once the broker refused us for good; the supervisor has stopped trying.
    refused: watch::Sender<Option<String>>,
}

impl Shared {
    fn set_error(&self, error: Option<String>) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = error;
        }
    }
}

#[derive(Debug)]
struct Link {
    conn: Connection,
    /// In confirm mode; one publish (and its confirm) at a time.
    publish: Mutex<Channel>,
}

fn err(e: impl std::fmt::Display) -> BrokerError {
    BrokerError::Unavailable(e.to_string())
}

async fn bounded<T, E: std::fmt::Display>(
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, BrokerError> {
    match tokio::time::timeout(TIMEOUT, f).await {
        Ok(r) => r.map_err(err),
        Err(_) => Err(BrokerError::Unavailable(
            "the broker did not answer in time".into(),
        )),
    }
}

impl AmqpBroker {
    /// Starts the supervisor; the first connection is made in the background (see
    /// [`AmqpBroker::wait_connected`]).
    pub fn start(uri: String, prefix: String) -> AmqpBroker {
        AmqpBroker::start_trusting(uri, prefix, None)
    }

    /// [`AmqpBroker::start`] that also trusts `ca_pem` for `amqps://`. An `amqps://` URL is
    /// always TLS (rustls): a server that cannot speak it is never sent the credentials.
    pub fn start_trusting(uri: String, prefix: String, ca_pem: Option<String>) -> AmqpBroker {
        let (link, _) = watch::channel(None);
        let (status, _) = watch::channel(BrokerStatus::Reconnecting);
        let shared = Arc::new(Shared {
            prefix,
            ca_pem,
            link,
            status,
            last_error: std::sync::Mutex::new(None),
            refused: watch::channel(None).0,
        });
        tokio::spawn(supervise(uri, Arc::downgrade(&shared)));
        AmqpBroker { shared }
    }

    /// For an `amqps://` URL whose server answers at all: the TLS handshake, once, so that a
    /// TLS that cannot be set up (a plaintext port, an untrusted certificate) stops the start
    /// with its reason instead of being retried for ever. A server that does not answer is not
    /// an error here: the supervisor waits for it.
    pub async fn check_tls(uri: &str, ca_pem: Option<String>) -> Result<(), String> {
        use lapin::tcp::AMQPUriTcpExt;
        let parsed: lapin::uri::AMQPUri = uri.parse()?;
        if parsed.scheme != lapin::uri::AMQPScheme::AMQPS {
            return Ok(());
        }
        let address = (parsed.authority.host.clone(), parsed.authority.port);
        match tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect(address)).await {
            Ok(Ok(_)) => {}
            _ => return Ok(()),
        }
        let tls = lapin::tcp::OwnedTLSConfig {
            identity: None,
            cert_chain: ca_pem,
        };
        let runtime = lapin::runtime::default_runtime().map_err(|e| e.to_string())?;
        match tokio::time::timeout(
            TIMEOUT,
            parsed.connect_with_config_async(tls.as_ref(), &runtime),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!(
                "TLS with RabbitMQ at {}:{} cannot be set up: {e}",
                parsed.authority.host, parsed.authority.port
            )),
            Err(_) => Err(format!(
                "TLS with RabbitMQ at {}:{} cannot be set up: no handshake in time",
                parsed.authority.host, parsed.authority.port
            )),
        }
    }

    /// Waits until connected, at most `limit`.
    pub async fn wait_connected(&self, limit: Duration) -> Result<(), BrokerError> {
        let mut status = self.shared.status.subscribe();
        tokio::time::timeout(limit, status.wait_for(|s| *s == BrokerStatus::Connected))
            .await
            .map_err(|_| BrokerError::Unavailable("could not connect to RabbitMQ in time".into()))?
            .map_err(err)?;
        Ok(())
    }

    fn name(&self, base: &str) -> String {
        format!("{}{base}", self.shared.prefix)
    }

    async fn link(&self) -> Result<Arc<Link>, BrokerError> {
        self.shared
            .link
            .borrow()
            .clone()
            .ok_or_else(|| BrokerError::Unavailable("reconnecting to RabbitMQ".into()))
    }

    /// Deletes this prefix's exchanges and queues (test teardown; never used in production).
    pub async fn delete_topology(&self) -> Result<(), BrokerError> {
        let ch = bounded(self.link().await?.conn.create_channel()).await?;
        let mut queues: Vec<String> = OrderType::ALL.iter().map(|t| kitchen_queue(*t)).collect();
        queues
            .extend(["kitchen_queue", "notifications_queue", DEAD_LETTER_QUEUE].map(String::from));
        for q in queues {
            bounded(ch.queue_delete(self.name(&q).into(), QueueDeleteOptions::default())).await?;
        }
        for x in [
            ORDERS_EXCHANGE,
            NOTIFICATIONS_EXCHANGE,
            DEAD_LETTER_EXCHANGE,
        ] {
            bounded(ch.exchange_delete(self.name(x).into(), ExchangeDeleteOptions::default()))
                .await?;
        }
        Ok(())
    }
}

/// Connects, declares, watches; forever, until the broker handle is dropped.
async fn supervise(uri: String, shared: std::sync::Weak<Shared>) {
    let mut delay = Duration::from_millis(100);
    loop {
        let Some(s) = shared.upgrade() else { return };
        match connect(&uri, &s.prefix, s.ca_pem.clone()).await {
            Ok(link) => {
                delay = Duration::from_millis(100);
                tracing::info!(action = "rabbitmq_connected", "connected to RabbitMQ");
                let link = Arc::new(link);
                s.link.send_replace(Some(link.clone()));
                s.set_error(None);
                s.status.send_replace(BrokerStatus::Connected);
                drop(s);
                // lapin notices a dead peer through AMQP heartbeats; look at it every second.
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if shared.strong_count() == 0 {
                        return;
                    }
                    if !link.conn.status().connected() {
                        break;
                    }
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
            }
            Err(e) if let Some(why) = refusal(&e.to_string(), &uri) => {
                tracing::error!(action = "rabbitmq_refused", reason = %why, "RabbitMQ refused this process; not retrying");
                s.set_error(Some(why.clone()));
                s.status.send_replace(BrokerStatus::Reconnecting);
                s.refused.send_replace(Some(why));
                return;
            }
            Err(e) => {
                s.set_error(Some(e.to_string()));
                s.status.send_replace(BrokerStatus::Reconnecting);
                drop(s);
                tracing::warn!(action = "rabbitmq_reconnecting", error = %e, retry_in_ms = delay.as_millis() as u64, "cannot reach RabbitMQ; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// A refusal that trying again cannot change, in an operator's words: the login (403
/// ACCESS_REFUSED) or the vhost (530 NOT_ALLOWED). Matched on the reply codes' names, which
/// RabbitMQ puts at the start of every reply text.
fn refusal(error: &str, uri: &str) -> Option<String> {
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

async fn connect(uri: &str, prefix: &str, ca_pem: Option<String>) -> Result<Link, BrokerError> {
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

fn args(pairs: &[(&str, AMQPValue)]) -> FieldTable {
    let mut t = FieldTable::default();
    for (k, v) in pairs {
        t.insert((*k).into(), v.clone());
    }
    t
}

/// The bounded dead-letter queue. A queue declared unbounded by an older version keeps its
/// arguments (RabbitMQ refuses to change them, PRECONDITION_FAILED): it is used as it is, with
/// a warning that says how to bound it.
async fn declare_dead_letter_queue(
    conn: &Connection,
    name: &ShortString,
) -> Result<(), BrokerError> {
    // Its own channel: a refusal closes the channel it happens on.
    let ch = bounded(conn.create_channel()).await?;
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    match bounded(ch.queue_declare(name.clone(), durable, dead_letters::queue_arguments())).await {
        Ok(_) => {
            let _ = ch.close(200, "OK".into()).await;
            Ok(())
        }
        Err(e) if e.to_string().contains("PRECONDITION_FAILED") => {
            tracing::warn!(action = "dead_letter_queue_unbounded", queue = %name, "the dead-letter queue was declared without a bound by an older version; it is used as it is (delete it while empty to have it bounded: rabbitmqctl delete_queue {name})");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The topology of CONTRACT §3 (idempotent: safe on every connect).
async fn declare(conn: &Connection, ch: &Channel, prefix: &str) -> Result<(), BrokerError> {
    let n = |base: &str| -> ShortString { format!("{prefix}{base}").into() };
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let durable_q = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let priority = args(&[("x-max-priority", AMQPValue::LongInt(10))]);
    bounded(ch.exchange_declare(
        n(ORDERS_EXCHANGE),
        ExchangeKind::Topic,
        durable,
        FieldTable::default(),
    ))
    .await?;
    bounded(ch.exchange_declare(
        n(NOTIFICATIONS_EXCHANGE),
        ExchangeKind::Fanout,
        durable,
        FieldTable::default(),
    ))
    .await?;
    bounded(ch.exchange_declare(
        n(DEAD_LETTER_EXCHANGE),
        ExchangeKind::Fanout,
        durable,
        FieldTable::default(),
    ))
    .await?;
    for t in OrderType::ALL {
        let q = n(&kitchen_queue(t));
        bounded(ch.queue_declare(q.clone(), durable_q, priority.clone())).await?;
        bounded(ch.queue_bind(
            q,
            n(ORDERS_EXCHANGE),
            format!("kitchen.{t}.*").into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        ))
        .await?;
    }
    // Declared for compatibility and left unbound: every order lives in its type's queue only.
    bounded(ch.queue_declare(n("kitchen_queue"), durable_q, priority)).await?;
    let bounded_queue = args(&[
        (
            "x-max-length",
            AMQPValue::LongInt(NOTIFICATIONS_QUEUE_LIMIT),
        ),
        ("x-overflow", AMQPValue::LongString("drop-head".into())),
    ]);
    bounded(ch.queue_declare(n("notifications_queue"), durable_q, bounded_queue)).await?;
    bounded(ch.queue_bind(
        n("notifications_queue"),
        n(NOTIFICATIONS_EXCHANGE),
        "".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    ))
    .await?;
    declare_dead_letter_queue(conn, &n(DEAD_LETTER_QUEUE)).await?;
    bounded(ch.queue_bind(
        n(DEAD_LETTER_QUEUE),
        n(DEAD_LETTER_EXCHANGE),
        "".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    ))
    .await?;
    Ok(())
}

fn header(props: &BasicProperties, key: &str) -> Option<String> {
    props
        .headers()
        .as_ref()?
        .inner()
        .iter()
        .find(|(k, _)| k.as_str() == key)
        .and_then(|(_, v)| match v {
            AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
            AMQPValue::ShortString(s) => Some(s.as_str().to_string()),
            _ => None,
        })
}

/// What a publisher confirm says about one message.
fn confirmed(answer: Confirmation) -> Result<(), BrokerError> {
    match answer {
        Confirmation::Ack(_) | Confirmation::NotRequested => Ok(()),
        Confirmation::Nack(_) => Err(BrokerError::Refused(
            "RabbitMQ did not take the message".into(),
        )),
    }
}

/// Persistent, with its priority, id and request id (CONTRACT §3).
fn properties(m: &Outgoing) -> BasicProperties {
    let mut headers = FieldTable::default();
    if let Some(r) = &m.request_id {
        headers.insert(
            REQUEST_ID_HEADER.into(),
            AMQPValue::LongString(LongString::from(r.clone())),
        );
    }
    BasicProperties::default()
        .with_delivery_mode(2)
        .with_priority(m.priority.min(10))
        .with_message_id(m.message_id.clone().into())
        .with_content_type("application/json".into())
        .with_headers(headers)
}

impl AmqpBroker {
    async fn publish_to(
        &self,
        exchange: &str,
        routing_key: &str,
        props: BasicProperties,
        body: &[u8],
    ) -> Result<(), BrokerError> {
        let link = self.link().await?;
        let ch = link.publish.lock().await;
        let confirm = bounded(ch.basic_publish(
            self.name(exchange).into(),
            routing_key.into(),
            BasicPublishOptions::default(),
            body,
            props,
        ))
        .await?;
        confirmed(bounded(confirm).await?)
    }

    /// Forwards deliveries from `queues` (re-subscribing on every new link) until the receiver
    /// is dropped; then closes the channel, which hands unacknowledged messages back.
    /// When connected, returns once the first subscription is in place, so nothing published
    /// after this call is missed; when not, at once (it subscribes on the next connection).
    async fn forward(
        &self,
        queues: Vec<String>,
        prefetch: u16,
        tag: String,
        own_queue: bool,
    ) -> Deliveries {
        let (tx, rx) = mpsc::channel(usize::from(prefetch.max(1)));
        let (ready_tx, ready) = tokio::sync::oneshot::channel::<()>();
        let mut ready_tx = Some(ready_tx);
        let broker = self.clone();
        let connected = *self.shared.status.borrow() == BrokerStatus::Connected;
        tokio::spawn(async move {
            let mut links = broker.shared.link.subscribe();
            loop {
                let link = tokio::select! {
                    l = links.wait_for(|l| l.is_some()) => match l { Ok(l) => l.clone(), Err(_) => return },
                    () = tx.closed() => return,
                };
                let Some(link) = link else { continue };
                match broker
                    .subscribe(&link, &queues, prefetch, &tag, own_queue)
                    .await
                {
                    Ok((ch, consumers)) => {
                        if let Some(r) = ready_tx.take() {
                            let _ = r.send(());
                        }
                        let mut merged = select_all(consumers);
                        loop {
                            tokio::select! {
                                item = merged.next() => match item {
                                    Some(Ok(d)) => {
                                        let delivery = Delivery::new(
                                            d.data.clone(),
                                            d.properties.message_id().as_ref().map(|m| m.as_str().to_string()),
                                            header(&d.properties, REQUEST_ID_HEADER),
                                            d.redelivered,
                                            Box::new(AmqpSettle { broker: broker.clone(), delivery: Some(d) }),
                                        );
                                        if tx.send(delivery).await.is_err() {
                                            let _ = ch.close(200, "consumer stopped".into()).await;
                                            return;
                                        }
                                    }
                                    _ => break,
                                },
                                () = tx.closed() => {
                                    let _ = ch.close(200, "consumer stopped".into()).await;
                                    return;
                                }
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(action = "rabbitmq_consume_failed", error = %e, "cannot subscribe; waiting for the next connection")
                    }
                }
                // This link is dead (or refused us): wait for the supervisor's next one.
                let _ = tokio::time::timeout(Duration::from_secs(1), links.changed()).await;
            }
        });
        if connected {
            let _ = tokio::time::timeout(TIMEOUT, ready).await;
        }
        Deliveries::new(rx)
    }

    async fn subscribe(
        &self,
        link: &Link,
        queues: &[String],
        prefetch: u16,
        tag: &str,
        own_queue: bool,
    ) -> Result<(Channel, Vec<lapin::Consumer>), BrokerError> {
        let ch = bounded(link.conn.create_channel()).await?;
        // global: the prefetch bounds the whole channel, across all of this worker's queues.
        bounded(ch.basic_qos(prefetch.max(1), BasicQosOptions { global: true })).await?;
        let mut names: Vec<ShortString> = queues.iter().map(|q| self.name(q).into()).collect();
        if own_queue {
            let limit = args(&[
                (
                    "x-max-length",
                    AMQPValue::LongInt(NOTIFICATIONS_QUEUE_LIMIT),
                ),
                ("x-overflow", AMQPValue::LongString("drop-head".into())),
            ]);
            let options = QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            };
            let q = bounded(ch.queue_declare("".into(), options, limit)).await?;
            let name: ShortString = q.name().clone();
            bounded(ch.queue_bind(
                name.clone(),
                self.name(NOTIFICATIONS_EXCHANGE).into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            ))
            .await?;
            names = vec![name];
        }
        let mut consumers = Vec::new();
        for (i, q) in names.into_iter().enumerate() {
            let consumer_tag: ShortString =
                format!("{tag}-{i}-{}", uuid::Uuid::new_v4().simple()).into();
            consumers.push(
                bounded(ch.basic_consume(
                    q,
                    consumer_tag,
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                ))
                .await?,
            );
        }
        Ok((ch, consumers))
    }
}

struct AmqpSettle {
    broker: AmqpBroker,
    delivery: Option<lapin::message::Delivery>,
}

#[async_trait]
impl Settle for AmqpSettle {
    async fn ack(mut self: Box<Self>) -> Result<(), BrokerError> {
        match self.delivery.take() {
            Some(d) => bounded(d.acker.ack(BasicAckOptions::default()))
                .await
                .map(|_| ()),
            None => Ok(()),
        }
    }

    /// RabbitMQ has no delayed requeue: the message is held (still counting against the
    /// prefetch) for `delay`, then handed back, so a failing order cannot spin.
    async fn requeue(mut self: Box<Self>, delay: Duration) -> Result<(), BrokerError> {
        let Some(d) = self.delivery.take() else {
            return Ok(());
        };
        tokio::time::sleep(delay).await;
        bounded(d.acker.nack(BasicNackOptions {
            requeue: true,
            ..Default::default()
        }))
        .await
        .map(|_| ())
    }

    async fn dead_letter(mut self: Box<Self>, reason: &str) -> Result<(), BrokerError> {
        let Some(d) = self.delivery.take() else {
            return Ok(());
        };
        let props = dead_letters::letter_properties(&d, &self.broker.shared.prefix, reason);
        // RabbitMQ drops the oldest letter silently past the bound; say so here.
        if let Ok(n) = self.broker.dead_letter_count().await
            && n >= DEAD_LETTER_LIMIT
        {
            tracing::warn!(
                action = "dead_letter_dropped",
                limit = DEAD_LETTER_LIMIT,
                "the dead-letter queue is full: the oldest letter is dropped to keep this one"
            );
        }
        match self
            .broker
            .publish_to(DEAD_LETTER_EXCHANGE, "", props, &d.data)
            .await
        {
            Ok(()) => bounded(d.acker.ack(BasicAckOptions::default()))
                .await
                .map(|_| ()),
            Err(e) => {
                let _ = d
                    .acker
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..Default::default()
                    })
                    .await;
                Err(e)
            }
        }
    }
}

impl Drop for AmqpSettle {
    /// Dropped unsettled (its consumer stopped or crashed): hand it back now rather than when
    /// the channel closes.
    fn drop(&mut self) {
        if let Some(d) = self.delivery.take() {
            tokio::spawn(async move {
                let _ = d
                    .acker
                    .nack(BasicNackOptions {
                        requeue: true,
                        ..Default::default()
                    })
                    .await;
            });
        }
    }
}

#[async_trait]
impl Broker for AmqpBroker {
    fn kind(&self) -> &'static str {
        "rabbitmq"
    }

    fn status(&self) -> watch::Receiver<BrokerStatus> {
        self.shared.status.subscribe()
    }

    async fn refused(&self) -> String {
        let mut refused = self.shared.refused.subscribe();
        let why = match refused.wait_for(Option::is_some).await {
            Ok(why) => why.clone(),
            Err(_) => None,
        };
        match why {
            Some(why) => why,
            None => std::future::pending().await,
        }
    }

    fn last_error(&self) -> Option<String> {
        self.shared.last_error.lock().ok().and_then(|e| e.clone())
    }

    async fn publish(&self, m: &Outgoing) -> Result<(), BrokerError> {
        self.publish_to(&m.exchange, &m.routing_key, properties(m), &m.body)
            .await
    }

    /// Every message goes out on the confirm channel before the first confirm is awaited, so
    /// a batch costs about one broker round trip (and one fsync of its queues) instead of one
    /// per message. A publish that cannot be sent fails it and every message after it.
    async fn publish_all(&self, messages: &[Outgoing]) -> Vec<Result<(), BrokerError>> {
        let link = match self.link().await {
            Ok(link) => link,
            Err(e) => return messages.iter().map(|_| Err(e.clone())).collect(),
        };
        let ch = link.publish.lock().await;
        let mut confirms = Vec::with_capacity(messages.len());
        let mut failure = None;
        for m in messages {
            let sent = bounded(ch.basic_publish(
                self.name(&m.exchange).into(),
                m.routing_key.as_str().into(),
                BasicPublishOptions::default(),
                &m.body,
                properties(m),
            ))
            .await;
            match sent {
                Ok(confirm) => confirms.push(confirm),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        drop(ch);
        let published = confirms.len();
        let answers = bounded(async { Ok::<_, lapin::Error>(join_all(confirms).await) }).await;
        let mut results: Vec<Result<(), BrokerError>> = match answers {
            Ok(answers) => answers
                .into_iter()
                .map(|a| a.map_err(err).and_then(confirmed))
                .collect(),
            Err(e) => vec![Err(e); published],
        };
        let failure = failure.unwrap_or_else(|| err("not published"));
        results.resize(messages.len(), Err(failure));
        results
    }

    async fn consume_orders(
        &self,
        consumer: &str,
        types: &[OrderType],
        prefetch: u16,
    ) -> Result<Deliveries, BrokerError> {
        let queues = types.iter().map(|t| kitchen_queue(*t)).collect();
        Ok(self
            .forward(queues, prefetch, consumer.to_string(), false)
            .await)
    }

    async fn subscribe_updates(&self, subscriber: &str) -> Result<Deliveries, BrokerError> {
        Ok(self
            .forward(Vec::new(), 256, subscriber.to_string(), true)
            .await)
    }

    /// A look at the dead-letter queue: messages are taken and handed straight back.
    async fn queue_depths(&self) -> Result<Vec<(String, u64)>, BrokerError> {
        let ch = bounded(self.link().await?.conn.create_channel()).await?;
        let passive = QueueDeclareOptions {
            passive: true,
            ..Default::default()
        };
        let mut names: Vec<String> = OrderType::ALL.iter().map(|t| kitchen_queue(*t)).collect();
        names.push(DEAD_LETTER_QUEUE.into());
        let mut depths = Vec::with_capacity(names.len());
        for q in names {
            let declared =
                bounded(ch.queue_declare(self.name(&q).into(), passive, FieldTable::default()))
                    .await?;
            depths.push((q, u64::from(declared.message_count())));
        }
        let _ = ch.close(200, "OK".into()).await;
        Ok(depths)
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, BrokerError> {
        self.list_dead_letters(limit).await
    }

    async fn replay_dead_letter(&self, id: &str) -> Result<Option<DeadLetter>, BrokerError> {
        self.replay(id).await
    }

    async fn purge_dead_letters(&self) -> Result<u64, BrokerError> {
        self.purge().await
    }
}
