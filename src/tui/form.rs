//! The console's forms: a new order (type, table or address, menu, name, note) checked with
//! the API's own rules, and a new worker checked as the CLI checks it. A field's errors show
//! once it was left or the form submitted; a failed submit keeps everything typed.

mod order;
mod worker;

pub use order::{OrderField, OrderForm};
pub use worker::{MAX_FORM_PREFETCH, WorkerField, WorkerForm};

use crate::domain::{Money, OrderType};

/// One dish on the console's menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    pub name: String,
    pub price: Money,
}

/// A sensible default menu.
pub fn default_menu() -> Vec<MenuItem> {
    [
        ("Margherita", 1250),
        ("Pepperoni", 1400),
        ("Quattro Formaggi", 1550),
        ("Caesar Salad", 950),
        ("Garlic Bread", 500),
        ("Tiramisu", 700),
        ("Cola", 250),
        ("Lemonade", 300),
    ]
    .into_iter()
    .map(|(name, cents)| MenuItem {
        name: name.into(),
        price: Money::from_cents(cents),
    })
    .collect()
}

/// The order types' letters, the same in the order form, the worker form and the main screen.
pub fn type_letter(t: OrderType) -> char {
    match t {
        OrderType::DineIn => 'd',
        OrderType::Takeout => 't',
        OrderType::Delivery => 'v',
    }
}

fn type_of_letter(c: char) -> Option<OrderType> {
    OrderType::ALL.into_iter().find(|t| type_letter(*t) == c)
}
