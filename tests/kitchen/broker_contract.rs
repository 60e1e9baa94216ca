//! One story for every broker adapter (CONTRACT §3): routing by type, priority, prefetch,
//! ack / requeue / dead-letter, hand-back of unsettled deliveries, fanout to every subscriber.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use restaurant_tui::broker::memory::MemoryBus;
use restaurant_tui::broker::{Broker, Deliveries, Outgoing};
use restaurant_tui::domain::{NOTIFICATIONS_EXCHANGE, ORDERS_EXCHANGE, OrderType};

macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $( #[tokio::test] async fn $test() { super::$test(std::sync::Arc::new(super::MemoryBus::new())).await } )*
        }
        mod rabbitmq {
            $( #[tokio::test] async fn $test() {
                let (broker, _topology) = super::common::rabbitmq().await;
                super::$test(std::sync::Arc::new(broker)).await;
            } )*
        }
    };
}

contract!(
    orders_reach_only_the_queue_of_their_type,
    higher_priority_orders_are_handed_out_first,
    a_consumer_never_holds_more_than_its_prefetch,
    an_unsettled_delivery_comes_back_redelivered,
    a_requeued_delivery_comes_back_after_its_delay,
    dead_letters_keep_their_reason_and_never_return,
    a_dead_letter_can_be_replayed_to_its_queue_and_the_rest_purged,
    every_subscriber_sees_every_update,
    a_batch_is_confirmed_message_by_message_and_arrives_in_order,
);

fn order(kind: OrderType, priority: u8, body: &str) -> Outgoing {
    Outgoing {
        exchange: ORDERS_EXCHANGE.into(),
        routing_key: format!("kitchen.{kind}.{priority}"),
        priority,
        message_id: uuid::Uuid::new_v4().to_string(),
        request_id: Some("req-1".into()),
        body: body.as_bytes().to_vec(),
    }
}

fn update(body: &str) -> Outgoing {
    Outgoing {
        exchange: NOTIFICATIONS_EXCHANGE.into(),
        routing_key: String::new(),
        priority: 0,
        message_id: uuid::Uuid::new_v4().to_string(),
        request_id: None,
        body: body.as_bytes().to_vec(),
    }
}

async fn next_body(d: &mut Deliveries) -> (String, restaurant_tui::broker::Delivery) {
    let delivery = tokio::time::timeout(Duration::from_secs(10), d.next())
        .await
        .expect("a delivery")
        .expect("open");
    (String::from_utf8(delivery.body.clone()).unwrap(), delivery)
}

/// Nothing arrives while the consumer is at its bound (a short look, not a timing claim).
async fn nothing_more(d: &mut Deliveries) {
    assert!(
        tokio::time::timeout(Duration::from_millis(200), d.next())
            .await
            .is_err(),
        "nothing more expected"
    );
}

async fn orders_reach_only_the_queue_of_their_type(broker: Arc<dyn Broker>) {
    let mut dine_in = broker
        .consume_orders("w1", &[OrderType::DineIn], 10)
        .await
        .unwrap();
    broker
        .publish(&order(OrderType::Delivery, 1, "delivery"))
        .await
        .unwrap();
    broker
        .publish(&order(OrderType::DineIn, 1, "dine"))
        .await
        .unwrap();
    let (body, d) = next_body(&mut dine_in).await;
    assert_eq!(body, "dine");
    assert_eq!(d.request_id.as_deref(), Some("req-1"));
    assert!(!d.redelivered);
    d.ack().await.unwrap();
    nothing_more(&mut dine_in).await;
    let mut general = broker
        .consume_orders("w2", &OrderType::ALL, 10)
        .await
        .unwrap();
    assert_eq!(
        next_body(&mut general).await.0,
        "delivery",
        "the delivery order waited for a worker that cooks it"
    );
}

async fn higher_priority_orders_are_handed_out_first(broker: Arc<dyn Broker>) {
    for i in 0..5 {
        broker
            .publish(&order(OrderType::Takeout, 1, &format!("small-{i}")))
            .await
            .unwrap();
    }
    broker
        .publish(&order(OrderType::Takeout, 10, "big"))
        .await
        .unwrap();
    let mut w = broker
        .consume_orders("w", &[OrderType::Takeout], 1)
        .await
        .unwrap();
    let (body, d) = next_body(&mut w).await;
    assert_eq!(body, "big");
    d.ack().await.unwrap();
    let (body, _) = next_body(&mut w).await;
    assert_eq!(body, "small-0", "then first in, first out");
}

async fn a_consumer_never_holds_more_than_its_prefetch(broker: Arc<dyn Broker>) {
    for i in 0..5 {
        broker
            .publish(&order(OrderType::DineIn, 1, &format!("o{i}")))
            .await
            .unwrap();
    }
    let mut w = broker
        .consume_orders("w", &[OrderType::DineIn], 2)
        .await
        .unwrap();
    let (_, a) = next_body(&mut w).await;
    let (_, b) = next_body(&mut w).await;
    nothing_more(&mut w).await;
    a.ack().await.unwrap();
    let (_, c) = next_body(&mut w).await;
    nothing_more(&mut w).await;
    b.ack().await.unwrap();
    c.ack().await.unwrap();
}

async fn an_unsettled_delivery_comes_back_redelivered(broker: Arc<dyn Broker>) {
    broker
        .publish(&order(OrderType::DineIn, 1, "o"))
        .await
        .unwrap();
    {
        let mut w = broker
            .consume_orders("w", &[OrderType::DineIn], 1)
            .await
            .unwrap();
        let (_, d) = next_body(&mut w).await;
        drop(d); // the worker died holding it
    }
    let mut other = broker
        .consume_orders("w2", &[OrderType::DineIn], 1)
        .await
        .unwrap();
    let (body, d) = next_body(&mut other).await;
    assert_eq!(body, "o");
    assert!(d.redelivered);
}

async fn a_requeued_delivery_comes_back_after_its_delay(broker: Arc<dyn Broker>) {
    broker
        .publish(&order(OrderType::DineIn, 1, "o"))
        .await
        .unwrap();
    let mut w = broker
        .consume_orders("w", &[OrderType::DineIn], 1)
        .await
        .unwrap();
    let (_, d) = next_body(&mut w).await;
    d.requeue(Duration::from_millis(300)).await.unwrap();
    let (body, d) = next_body(&mut w).await;
    assert_eq!(body, "o");
    assert!(d.redelivered);
    d.ack().await.unwrap();
    nothing_more(&mut w).await;
}

async fn dead_letters_keep_their_reason_and_never_return(broker: Arc<dyn Broker>) {
    broker
        .publish(&order(OrderType::DineIn, 1, "{not json"))
        .await
        .unwrap();
    let mut w = broker
        .consume_orders("w", &[OrderType::DineIn], 1)
        .await
        .unwrap();
    let (_, d) = next_body(&mut w).await;
    d.dead_letter("unparseable order message").await.unwrap();
    nothing_more(&mut w).await;
    let dead = broker.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, b"{not json");
    assert_eq!(dead[0].reason, "unparseable order message");
    // What an operator needs to act on it (issue #11).
    assert_eq!(dead[0].request_id.as_deref(), Some("req-1"));
    assert_eq!(dead[0].exchange, ORDERS_EXCHANGE);
    assert_eq!(dead[0].routing_key, "kitchen.dine_in.1");
    assert!(!dead[0].id.is_empty());
    assert_eq!(
        broker.dead_letters(10).await.unwrap().len(),
        1,
        "listing keeps them"
    );
}

async fn a_dead_letter_can_be_replayed_to_its_queue_and_the_rest_purged(broker: Arc<dyn Broker>) {
    let first = order(OrderType::Takeout, 3, "fixed later");
    broker.publish(&first).await.unwrap();
    broker
        .publish(&order(OrderType::Takeout, 1, "never fixed"))
        .await
        .unwrap();
    let mut w = broker
        .consume_orders("w", &[OrderType::Takeout], 2)
        .await
        .unwrap();
    for _ in 0..2 {
        let (_, d) = next_body(&mut w).await;
        d.dead_letter("unknown order").await.unwrap();
    }
    nothing_more(&mut w).await;
    assert_eq!(broker.replay_dead_letter("no-such-id").await.unwrap(), None);
    let back = broker
        .replay_dead_letter(&first.message_id)
        .await
        .unwrap()
        .expect("the letter");
    assert_eq!(back.body, b"fixed later");
    let (body, d) = next_body(&mut w).await;
    assert_eq!(body, "fixed later", "back in its queue");
    assert_eq!(d.message_id.as_deref(), Some(first.message_id.as_str()));
    d.ack().await.unwrap();
    let left = broker.dead_letters(10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].body, b"never fixed");
    assert_eq!(broker.purge_dead_letters().await.unwrap(), 1);
    assert!(broker.dead_letters(10).await.unwrap().is_empty());
}

async fn every_subscriber_sees_every_update(broker: Arc<dyn Broker>) {
    broker
        .publish(&update("before anyone listened"))
        .await
        .unwrap();
    let mut a = broker.subscribe_updates("a").await.unwrap();
    let mut b = broker.subscribe_updates("b").await.unwrap();
    for i in 0..3 {
        broker.publish(&update(&format!("u{i}"))).await.unwrap();
    }
    for sub in [&mut a, &mut b] {
        for i in 0..3 {
            let (body, d) = next_body(sub).await;
            assert_eq!(body, format!("u{i}"), "in order, and nothing from before");
            d.ack().await.unwrap();
        }
    }
}

/// The relay's batch (issue #10): hundreds published with their confirms outstanding together;
/// each one answered, and every subscriber gets them in the order given.
async fn a_batch_is_confirmed_message_by_message_and_arrives_in_order(broker: Arc<dyn Broker>) {
    let mut sub = broker.subscribe_updates("batch").await.unwrap();
    let batch: Vec<Outgoing> = (0..600).map(|i| update(&format!("u{i}"))).collect();
    let results = broker.publish_all(&batch).await;
    assert_eq!(results.len(), 600);
    assert!(results.iter().all(Result::is_ok), "every one confirmed");
    for i in 0..600 {
        let (body, d) = next_body(&mut sub).await;
        assert_eq!(body, format!("u{i}"));
        d.ack().await.unwrap();
    }
    assert!(broker.publish_all(&[]).await.is_empty());
}
