//! The pure domain: order rules, money, statuses, order numbers and message bodies. Nothing here
//! does I/O, so all of it is tested with plain unit and property tests.

mod clock;
mod draft;
mod messages;
mod money;
mod order;
mod text;
mod validation;
mod worker;

pub use clock::{Clock, FixedClock, SystemClock};
pub use draft::{Field, FieldError, ItemDraft, OrderDraft};
pub use messages::{
    NOTIFICATIONS_EXCHANGE, ORDER_SERVICE, ORDERS_EXCHANGE, OrderMessage, OrderMessageItem,
    StatusUpdate,
};
pub use money::{Money, MoneyError};
pub use order::{
    Destination, NewItem, NewOrder, OrderStatus, OrderType, Transition, UnknownValue, order_number,
    order_number_prefix, priority_for,
};
pub use text::visible;
pub use validation::{
    MAX_ADDRESS_CHARS, MAX_ITEM_NAME_CHARS, MAX_ITEMS, MAX_NAME_CHARS, MAX_NOTE_CHARS,
    MAX_QUANTITY, MAX_TABLE, MIN_ADDRESS_CHARS, PRICE_CENTS, check_customer_name, check_notes,
    price_in_range, price_range_rule, validate,
};
pub use worker::{MAX_WORKER_NAME_CHARS, Specialty, WorkerStatus, check_worker_name};
