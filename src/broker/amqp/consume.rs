//! Consuming: deliveries forwarded from a channel that is re-subscribed on every new link,
//! and their settling (ack, requeue after a delay, dead-letter), exactly once.

use super::*;

impl AmqpBroker {
    /// Forwards deliveries from `queues` (re-subscribing on every new link) until the receiver
    /// is dropped; then closes the channel, which hands unacknowledged messages back.
    /// When connected, returns once the first subscription is in place, so nothing published
    /// after this call is missed; when not, at once (it subscribes on the next connection).
    pub(super) async fn forward(
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
                        if broker.pump(consumers, &tx).await.is_break() {
                            let _ = ch.close(200, "consumer stopped".into()).await;
                            return;
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

    /// Hands each delivery on until the link breaks (`Continue`: subscribe again on the next
    /// one) or the consumer is dropped (`Break`: the caller closes the channel, which hands
    /// unacknowledged messages back).
    async fn pump(
        &self,
        consumers: Vec<lapin::Consumer>,
        tx: &mpsc::Sender<Delivery>,
    ) -> std::ops::ControlFlow<()> {
        use std::ops::ControlFlow;
        let mut merged = select_all(consumers);
        loop {
            let d = tokio::select! {
                item = merged.next() => match item {
                    Some(Ok(d)) => d,
                    _ => return ControlFlow::Continue(()),
                },
                () = tx.closed() => return ControlFlow::Break(()),
            };
            let message_id = d.properties.message_id().as_ref().map(|m| m.to_string());
            let delivery = Delivery::new(
                d.data.clone(),
                message_id,
                header(&d.properties, REQUEST_ID_HEADER),
                d.redelivered,
                Box::new(AmqpSettle {
                    broker: self.clone(),
                    delivery: Some(d),
                }),
            );
            if tx.send(delivery).await.is_err() {
                return ControlFlow::Break(());
            }
        }
    }

    pub(super) async fn subscribe(
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
            let limit = super::topology::capped(NOTIFICATIONS_QUEUE_LIMIT);
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

pub(super) struct AmqpSettle {
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
        bounded(d.acker.nack(requeue())).await.map(|_| ())
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
                hand_back(d).await;
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
            tokio::spawn(hand_back(d));
        }
    }
}

/// Back to its queue at once; a failure means the channel is gone, which hands it back too.
async fn hand_back(d: lapin::message::Delivery) {
    let _ = d.acker.nack(requeue()).await;
}

/// A negative acknowledgement that puts the message back in its queue.
pub(super) fn requeue() -> BasicNackOptions {
    BasicNackOptions {
        requeue: true,
        ..Default::default()
    }
}
