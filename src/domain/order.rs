//! Orders: types, statuses and their transitions, priority, order numbers (CONTRACT §1).

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    DineIn,
    Takeout,
    Delivery,
}

impl OrderType {
    pub const ALL: [OrderType; 3] = [OrderType::DineIn, OrderType::Takeout, OrderType::Delivery];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::DineIn => "dine_in",
            OrderType::Takeout => "takeout",
            OrderType::Delivery => "delivery",
        }
    }
}

impl fmt::Display for OrderType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

impl FromStr for OrderType {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_string()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Received,
    Cooking,
    Ready,
    Completed,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 5] = [
        OrderStatus::Received,
        OrderStatus::Cooking,
        OrderStatus::Ready,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Received => "received",
            OrderStatus::Cooking => "cooking",
            OrderStatus::Ready => "ready",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderStatus::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_string()))
    }
}

/// A change of status someone may ask for. Stores apply it as a compare-and-set: the update only
/// happens while the order is in one of [`Transition::from`], so a duplicate request or message
/// is refused instead of applied twice (CONTRACT §1, §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    /// A kitchen worker picks the order up.
    StartCooking,
    /// A worker picks up a redelivered order whose cook died mid-cooking (the broker handed the
    /// message back when that cook's connection closed): it cooks again, as the new cook.
    TakeOver,
    /// The worker's timer ran out.
    FinishCooking,
    /// An operator hands the order out (bump).
    Complete,
    /// An operator cancels; allowed while received and, by an operator, while cooking.
    Cancel,
    /// An operator brings a handed-out order back to the pass (a kitchen display's "recall").
    Recall,
}

impl Transition {
    pub fn from(self) -> &'static [OrderStatus] {
        match self {
            Transition::StartCooking => &[OrderStatus::Received],
            Transition::TakeOver => &[OrderStatus::Cooking],
            Transition::FinishCooking => &[OrderStatus::Cooking],
            Transition::Complete => &[OrderStatus::Ready],
            Transition::Cancel => &[OrderStatus::Received, OrderStatus::Cooking],
            Transition::Recall => &[OrderStatus::Completed],
        }
    }

    pub fn to(self) -> OrderStatus {
        match self {
            Transition::StartCooking | Transition::TakeOver => OrderStatus::Cooking,
            Transition::FinishCooking | Transition::Recall => OrderStatus::Ready,
            Transition::Complete => OrderStatus::Completed,
            Transition::Cancel => OrderStatus::Cancelled,
        }
    }

    pub fn allowed_from(self, current: OrderStatus) -> bool {
        self.from().contains(&current)
    }

    /// The verb an error message uses ("cannot cancel an order that is ready").
    pub fn verb(self) -> &'static str {
        match self {
            Transition::StartCooking => "start cooking",
            Transition::TakeOver => "take over",
            Transition::FinishCooking => "finish cooking",
            Transition::Complete => "complete",
            Transition::Cancel => "cancel",
            Transition::Recall => "recall",
        }
    }
}

/// Kitchen priority derived from the total (CONTRACT §1): 10 above 100.00, 5 from 50.00 to 100.00
/// inclusive, 1 below.
pub fn priority_for(total: Money) -> u8 {
    if total > Money::from_cents(10_000) {
        10
    } else if total >= Money::from_cents(50_00) {
        5
    } else {
        1
    }
}

/// `ORD_YYYYMMDD_NNN`: the UTC day of creation and the per-day sequence, zero-padded to three
/// digits and simply longer past 999.
pub fn order_number(day: NaiveDate, sequence: u32) -> String {
    format!("{}{sequence:03}", order_number_prefix(day))
}

/// The part of an order number fixed by the day (`ORD_20241216_`); stores that assign the
/// sequence in SQL append the padded sequence to it.
pub fn order_number_prefix(day: NaiveDate) -> String {
    format!("ORD_{}_", day.format("%Y%m%d"))
}

/// One line of a validated order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub name: String,
    pub quantity: u32,
    pub price: Money,
    /// "no onions": for the cook, up to 200 characters.
    pub notes: Option<String>,
}

/// Where the order goes, with exactly the extra field its type needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    DineIn { table_number: u8 },
    Takeout,
    Delivery { address: String },
}

impl Destination {
    pub fn order_type(&self) -> OrderType {
        match self {
            Destination::DineIn { .. } => OrderType::DineIn,
            Destination::Takeout => OrderType::Takeout,
            Destination::Delivery { .. } => OrderType::Delivery,
        }
    }

    pub fn table_number(&self) -> Option<u8> {
        match self {
            Destination::DineIn { table_number } => Some(*table_number),
            _ => None,
        }
    }

    pub fn delivery_address(&self) -> Option<&str> {
        match self {
            Destination::Delivery { address } => Some(address),
            _ => None,
        }
    }
}

/// An order that passed every rule of CONTRACT §1; only [`super::validate`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub customer_name: String,
    pub destination: Destination,
    pub items: Vec<NewItem>,
    pub notes: Option<String>,
}

impl NewOrder {
    pub fn order_type(&self) -> OrderType {
        self.destination.order_type()
    }

    pub fn total(&self) -> Money {
        self.items.iter().map(|i| i.price * i.quantity).sum()
    }

    pub fn priority(&self) -> u8 {
        priority_for(self.total())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_boundaries_follow_the_contract() {
        let p = |cents| priority_for(Money::from_cents(cents));
        assert_eq!(p(4999), 1);
        assert_eq!(p(5000), 5);
        assert_eq!(p(10000), 5);
        assert_eq!(p(10001), 10);
        assert_eq!(p(1), 1);
    }

    #[test]
    fn order_numbers_pad_to_three_digits_and_grow_past_999() {
        let day = NaiveDate::from_ymd_opt(2024, 12, 16).unwrap();
        assert_eq!(order_number(day, 1), "ORD_20241216_001");
        assert_eq!(order_number(day, 999), "ORD_20241216_999");
        assert_eq!(order_number(day, 1000), "ORD_20241216_1000");
    }

    #[test]
    fn transitions_are_compare_and_set() {
        use OrderStatus::*;
        assert!(Transition::StartCooking.allowed_from(Received));
        assert!(!Transition::StartCooking.allowed_from(Cooking));
        assert!(Transition::FinishCooking.allowed_from(Cooking));
        assert!(!Transition::FinishCooking.allowed_from(Ready));
        assert!(Transition::Complete.allowed_from(Ready));
        assert!(!Transition::Complete.allowed_from(Cooking));
        assert!(Transition::Cancel.allowed_from(Received));
        assert!(Transition::Cancel.allowed_from(Cooking));
        for done in [Ready, Completed, Cancelled] {
            assert!(!Transition::Cancel.allowed_from(done));
        }
        assert!(Transition::TakeOver.allowed_from(Cooking));
        assert!(!Transition::TakeOver.allowed_from(Received));
        for t in [
            Transition::StartCooking,
            Transition::FinishCooking,
            Transition::Complete,
            Transition::Cancel,
        ] {
            assert!(!t.allowed_from(t.to()), "{t:?} may not repeat");
            assert!(!t.allowed_from(Completed), "completed is final");
            assert!(!t.allowed_from(Cancelled), "cancelled is final");
        }
    }

    #[test]
    fn names_round_trip() {
        for t in OrderType::ALL {
            assert_eq!(t.as_str().parse::<OrderType>(), Ok(t));
        }
        for s in OrderStatus::ALL {
            assert_eq!(s.as_str().parse::<OrderStatus>(), Ok(s));
        }
        assert!("pickup".parse::<OrderType>().is_err());
    }
}
