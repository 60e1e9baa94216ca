//! RabbitMQ through lapin: the compatible topology of CONTRACT §3 behind an optional name prefix.
//!
//! One supervisor task owns the connection: it connects (unlimited retries, delay capped at
//! 10 s, every wait bounded by a timeout), declares the topology, publishes `Connected`, watches
//! the link, and on loss publishes `Reconnecting` and starts over. Consumers re-subscribe on
//! every new link; the broker hands their unacknowledged messages to others when a link dies.
//! (lapin's own in-place recovery is left off so that exactly one mechanism rebuilds.)
//!
//! One idea per file: `link` (the supervisor and its connection), `topology` (what is
//! declared), `publish` (properties and confirms), `consume` (deliveries and their settling),
//! `dead_letters` (the bounded dead-letter queue and what an operator does with it).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream::select_all;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
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
const NOTIFICATIONS_QUEUE_LIMIT: u32 = 10_000;
const REASON_HEADER: &str = "x-reason";
const REQUEST_ID_HEADER: &str = "request_id";

mod consume;
mod dead_letters;
mod link;
mod publish;
mod topology;

use dead_letters::{DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE};
use link::supervise;
use publish::{confirmed, header, properties};
use topology::declare;

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

fn err(e: impl std::error::Error + Send + Sync + 'static) -> BrokerError {
    BrokerError::Failed(Arc::new(e))
}

async fn bounded<T, E: std::error::Error + Send + Sync + 'static>(
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

    /// Deletes this prefix's exchanges and queues (the tests' and benchmarks' teardown).
    #[cfg(feature = "test-support")]
    pub async fn delete_topology(&self) -> Result<(), BrokerError> {
        use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
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
        let failure = failure.unwrap_or_else(|| BrokerError::Unavailable("not published".into()));
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
