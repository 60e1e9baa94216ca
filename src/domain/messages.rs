//! Message bodies, field names exact (CONTRACT §3). Stores write them into the outbox in the same
//! transaction as the change they announce; the relay publishes them unchanged.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::money::Money;
use super::order::{NewOrder, OrderStatus, OrderType};

/// Logical exchange names; a broker adapter adds the configured prefix.
pub const ORDERS_EXCHANGE: &str = "orders_topic";
pub const NOTIFICATIONS_EXCHANGE: &str = "notifications_fanout";

/// Who wrote a row or sent an update when it was not a worker or an operator.
pub const ORDER_SERVICE: &str = "order-service";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderMessageItem {
    pub name: String,
    pub quantity: u32,
    pub price: Money,
}

/// The kitchen's copy of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderMessage {
    pub order_number: String,
    pub customer_name: String,
    pub customer_type: String,
    pub order_type: OrderType,
    pub table_number: Option<u8>,
    pub delivery_address: Option<String>,
    pub items: Vec<OrderMessageItem>,
    pub total_amount: Money,
    pub priority: u8,
}

impl OrderMessage {
    /// The message for `order` once it has its number.
    pub fn for_order(order: &NewOrder, order_number: String) -> OrderMessage {
        OrderMessage {
            order_number,
            customer_name: order.customer_name.clone(),
            customer_type: "regular".to_string(),
            order_type: order.order_type(),
            table_number: order.destination.table_number(),
            delivery_address: order.destination.delivery_address().map(str::to_string),
            items: order
                .items
                .iter()
                .map(|i| OrderMessageItem {
                    name: i.name.clone(),
                    quantity: i.quantity,
                    price: i.price,
                })
                .collect(),
            total_amount: order.total(),
            priority: order.priority(),
        }
    }

    /// `kitchen.{order_type}.{priority}`.
    pub fn routing_key(&self) -> String {
        format!("kitchen.{}.{}", self.order_type, self.priority)
    }
}

/// What every watcher of the notifications fanout receives for each transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub order_number: String,
    pub old_status: Option<OrderStatus>,
    pub new_status: OrderStatus,
    pub changed_by: String,
    pub timestamp: DateTime<Utc>,
    pub estimated_completion: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Destination, NewItem};

    #[test]
    fn order_message_has_the_contract_fields_and_numbers_for_money() {
        let order = NewOrder {
            customer_name: "Ann".into(),
            destination: Destination::DineIn { table_number: 4 },
            items: vec![NewItem {
                name: "Pizza".into(),
                quantity: 2,
                price: Money::from_cents(1250),
                notes: None,
            }],
            notes: None,
        };
        let msg = OrderMessage::for_order(&order, "ORD_20241216_001".into());
        assert_eq!(msg.routing_key(), "kitchen.dine_in.1");
        let json = serde_json::to_value(&msg).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        for k in [
            "order_number",
            "customer_name",
            "customer_type",
            "order_type",
            "table_number",
            "delivery_address",
            "items",
            "total_amount",
            "priority",
        ] {
            assert!(keys.contains(&k), "missing {k}");
        }
        let text = serde_json::to_string(&msg).unwrap();
        assert!(text.contains(r#""total_amount":25.00"#), "{text}");
        assert!(text.contains(r#""price":12.50"#), "{text}");
        let back: OrderMessage = serde_json::from_str(&text).unwrap();
        assert_eq!(back, msg);
        assert!(json["delivery_address"].is_null());
    }
}
