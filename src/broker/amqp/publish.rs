//! Publishing with confirms: a message's properties (persistent, priority, ids) and the
//! broker's answer.

use super::*;

pub(super) fn header(props: &BasicProperties, key: &str) -> Option<String> {
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
pub(super) fn confirmed(answer: Confirmation) -> Result<(), BrokerError> {
    match answer {
        Confirmation::Ack(_) | Confirmation::NotRequested => Ok(()),
        Confirmation::Nack(_) => Err(BrokerError::Refused(
            "RabbitMQ did not take the message".into(),
        )),
    }
}

/// Persistent, with its priority, id and request id (CONTRACT §3).
pub(super) fn properties(m: &Outgoing) -> BasicProperties {
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
    pub(super) async fn publish_to(
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
}
