//! An order as the HTTP edge or the console's form filled it in, field by field, before any
//! rule is applied; and what a field says when it breaks one.

use serde::Serialize;

/// One input value as the edge saw it: absent (missing or JSON `null`), present but of the wrong
/// kind (a string where a number belongs; the message says what was expected), or given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Field<T> {
    #[default]
    Absent,
    Wrong(&'static str),
    Given(T),
}

/// An order as typed or sent, before any rule is applied. Prices are the decimal *text* of the
/// number so that `1.005` can be told from `1.00` without a float in between.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderDraft {
    pub customer_name: Field<String>,
    pub order_type: Field<String>,
    pub table_number: Field<i64>,
    pub delivery_address: Field<String>,
    pub items: Field<Vec<Field<ItemDraft>>>,
    pub notes: Field<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemDraft {
    pub name: Field<String>,
    pub quantity: Field<i64>,
    pub price: Field<String>,
    pub notes: Field<String>,
}

/// One broken rule, named by its JSON path (`items[0].name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A text field, trimmed; blank counts as missing.
pub(super) fn required_text(
    path: &str,
    field: &Field<String>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match field {
        // Text no database can store (PostgreSQL refuses NUL in text) is refused like any
        // other invalid value, the same on both stores (CONTRACT §6).
        Field::Given(s) if s.contains('\0') => {
            errors.push(FieldError::new(path, "must not contain a NUL character"));
            None
        }
        Field::Given(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Field::Given(_) | Field::Absent => {
            errors.push(FieldError::new(path, "is required"));
            None
        }
        Field::Wrong(expected) => {
            errors.push(FieldError::new(path, *expected));
            None
        }
    }
}

pub(super) fn required_int(
    path: &str,
    field: &Field<i64>,
    when: &str,
    errors: &mut Vec<FieldError>,
) -> Option<i64> {
    match field {
        Field::Given(n) => Some(*n),
        Field::Absent => {
            let msg = if when.is_empty() {
                "is required".to_string()
            } else {
                format!("is required {when}")
            };
            errors.push(FieldError::new(path, msg));
            None
        }
        Field::Wrong(expected) => {
            errors.push(FieldError::new(path, *expected));
            None
        }
    }
}
