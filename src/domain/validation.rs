//! The order rules of CONTRACT §1, applied to a draft that the HTTP edge (and the console form)
//! fill in. Every failing field is reported at once, in the order the fields appear.

use std::collections::HashMap;

use super::draft::{Field, FieldError, ItemDraft, OrderDraft, required_int, required_text};
use super::money::{Money, MoneyError};
use super::order::{Destination, NewItem, NewOrder, OrderType};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_ITEMS: usize = 20;
pub const MAX_ITEM_NAME_CHARS: usize = 50;
pub const MAX_QUANTITY: i64 = 10;
pub const MIN_ADDRESS_CHARS: usize = 10;
/// Not in the contract; a bound so one order cannot carry a novel as its address.
pub const MAX_ADDRESS_CHARS: usize = 500;
pub const MAX_TABLE: i64 = 100;
/// An item's price, in cents: 0.01 to 999.99.
pub const PRICE_CENTS: std::ops::RangeInclusive<i64> = 1..=99_999;
/// A note on an order or an item (CONTRACT §1).
pub const MAX_NOTE_CHARS: usize = 200;

/// Applies every rule; either a [`NewOrder`] or all the reasons it is not one.
pub fn validate(draft: &OrderDraft) -> Result<NewOrder, Vec<FieldError>> {
    let mut errors = Vec::new();
    let customer_name = check_customer_name(&draft.customer_name, &mut errors);
    let order_type = check_order_type(&draft.order_type, &mut errors);
    let destination = order_type.and_then(|t| check_destination(t, draft, &mut errors));
    let items = check_items(&draft.items, &mut errors);
    let notes = check_notes("notes", &draft.notes, &mut errors);
    match (customer_name, destination, items) {
        (Some(customer_name), Some(destination), Some(items)) if errors.is_empty() => {
            Ok(NewOrder {
                customer_name,
                destination,
                items,
                notes,
            })
        }
        _ => Err(errors),
    }
}

/// The customer-name rule alone, for a form that checks as the operator types.
pub fn check_customer_name(field: &Field<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let name = required_text("customer_name", field, errors)?;
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        errors.push(FieldError::new(
            "customer_name",
            format!("must be at most {MAX_NAME_CHARS} characters (got {chars})"),
        ));
        return None;
    }
    if let Some(bad) = name.chars().find(|c| !is_name_char(*c)) {
        errors.push(FieldError::new(
            "customer_name",
            format!("may contain only letters, spaces, hyphens and apostrophes (found {bad:?})"),
        ));
        return None;
    }
    Some(name)
}

/// Letters of any script, with their combining marks, spaces, hyphens and apostrophes
/// (the typographic one too: "O’Brien").
fn is_name_char(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    matches!(c, ' ' | '-' | '\'' | '’')
        || matches!(
            c.general_category_group(),
            GeneralCategoryGroup::Letter | GeneralCategoryGroup::Mark
        )
}

fn check_order_type(field: &Field<String>, errors: &mut Vec<FieldError>) -> Option<OrderType> {
    let text = required_text("order_type", field, errors)?;
    match text.parse() {
        Ok(t) => Some(t),
        Err(_) => {
            errors.push(FieldError::new(
                "order_type",
                "must be one of dine_in, takeout, delivery",
            ));
            None
        }
    }
}

fn check_destination(
    order_type: OrderType,
    draft: &OrderDraft,
    errors: &mut Vec<FieldError>,
) -> Option<Destination> {
    let table_present = !matches!(draft.table_number, Field::Absent);
    let address_present = !matches!(draft.delivery_address, Field::Absent);
    let forbid = |field: &str, present: bool, errors: &mut Vec<FieldError>| {
        if present {
            errors.push(FieldError::new(
                field,
                format!("must be absent for {order_type} orders"),
            ));
        }
    };
    match order_type {
        OrderType::DineIn => {
            forbid("delivery_address", address_present, errors);
            check_table(&draft.table_number, errors)
                .map(|table_number| Destination::DineIn { table_number })
        }
        OrderType::Takeout => {
            forbid("table_number", table_present, errors);
            forbid("delivery_address", address_present, errors);
            Some(Destination::Takeout)
        }
        OrderType::Delivery => {
            forbid("table_number", table_present, errors);
            check_address(&draft.delivery_address, errors)
                .map(|address| Destination::Delivery { address })
        }
    }
}

fn check_table(field: &Field<i64>, errors: &mut Vec<FieldError>) -> Option<u8> {
    let n = required_int("table_number", field, "for dine_in orders", errors)?;
    match u8::try_from(n) {
        Ok(n) if (1..=MAX_TABLE).contains(&i64::from(n)) => Some(n),
        _ => {
            errors.push(FieldError::new(
                "table_number",
                format!("must be between 1 and {MAX_TABLE}"),
            ));
            None
        }
    }
}

fn check_address(field: &Field<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let address = required_text("delivery_address", field, errors)?;
    let chars = address.chars().count();
    if chars < MIN_ADDRESS_CHARS {
        errors.push(FieldError::new(
            "delivery_address",
            format!("must be at least {MIN_ADDRESS_CHARS} characters"),
        ));
        return None;
    }
    if chars > MAX_ADDRESS_CHARS {
        errors.push(FieldError::new(
            "delivery_address",
            format!("must be at most {MAX_ADDRESS_CHARS} characters"),
        ));
        return None;
    }
    Some(address)
}

fn check_items(
    field: &Field<Vec<Field<ItemDraft>>>,
    errors: &mut Vec<FieldError>,
) -> Option<Vec<NewItem>> {
    let drafts = match field {
        Field::Absent => {
            errors.push(FieldError::new("items", "is required"));
            return None;
        }
        Field::Wrong(expected) => {
            errors.push(FieldError::new("items", *expected));
            return None;
        }
        Field::Given(drafts) => drafts,
    };
    if drafts.is_empty() || drafts.len() > MAX_ITEMS {
        errors.push(FieldError::new(
            "items",
            format!("must hold 1 to {MAX_ITEMS} items (got {})", drafts.len()),
        ));
        return None;
    }
    let before = errors.len();
    let items: Vec<Option<NewItem>> = drafts
        .iter()
        .enumerate()
        .map(|(i, d)| check_item(i, d, errors))
        .collect();
    check_duplicates(&items, errors);
    if errors.len() != before {
        return None;
    }
    items.into_iter().collect()
}

fn check_item(
    index: usize,
    draft: &Field<ItemDraft>,
    errors: &mut Vec<FieldError>,
) -> Option<NewItem> {
    let path = |f: &str| format!("items[{index}].{f}");
    let draft = match draft {
        Field::Given(d) => d,
        Field::Absent => {
            errors.push(FieldError::new(
                format!("items[{index}]"),
                "must be an object",
            ));
            return None;
        }
        Field::Wrong(expected) => {
            errors.push(FieldError::new(format!("items[{index}]"), *expected));
            return None;
        }
    };
    let name = required_text(&path("name"), &draft.name, errors).and_then(|name| {
        if name.chars().count() > MAX_ITEM_NAME_CHARS {
            errors.push(FieldError::new(
                path("name"),
                format!("must be at most {MAX_ITEM_NAME_CHARS} characters"),
            ));
            None
        } else {
            Some(name)
        }
    });
    let quantity = required_int(&path("quantity"), &draft.quantity, "", errors).and_then(|q| {
        if (1..=MAX_QUANTITY).contains(&q) {
            u32::try_from(q).ok()
        } else {
            errors.push(FieldError::new(
                path("quantity"),
                format!("must be between 1 and {MAX_QUANTITY}"),
            ));
            None
        }
    });
    let price = check_price(&path("price"), &draft.price, errors);
    let notes = check_notes(&path("notes"), &draft.notes, errors);
    Some(NewItem {
        name: name?,
        quantity: quantity?,
        price: price?,
        notes,
    })
}

/// A free-text note: absent or blank is none; at most [`MAX_NOTE_CHARS`] characters, no
/// control characters (a ticket shows it as written).
pub fn check_notes(
    path: &str,
    field: &Field<String>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let text = match field {
        Field::Absent => return None,
        Field::Wrong(expected) => {
            errors.push(FieldError::new(path, *expected));
            return None;
        }
        Field::Given(text) => text.trim(),
    };
    let chars = text.chars().count();
    if chars > MAX_NOTE_CHARS {
        errors.push(FieldError::new(
            path,
            format!("must be at most {MAX_NOTE_CHARS} characters (got {chars})"),
        ));
        return None;
    }
    if let Some(bad) = text.chars().find(|c| c.is_control()) {
        errors.push(FieldError::new(
            path,
            format!(
                "must not contain control characters (found {})",
                bad.escape_default()
            ),
        ));
        return None;
    }
    (!text.is_empty()).then(|| text.to_string())
}

fn check_price(path: &str, field: &Field<String>, errors: &mut Vec<FieldError>) -> Option<Money> {
    let text = match field {
        Field::Absent => {
            errors.push(FieldError::new(path, "is required"));
            return None;
        }
        Field::Wrong(expected) => {
            errors.push(FieldError::new(path, *expected));
            return None;
        }
        Field::Given(text) => text,
    };
    let range = price_range_rule();
    match Money::parse_exact(text) {
        Ok(p) if price_in_range(p) => Some(p),
        Ok(_) | Err(MoneyError::TooLarge) => {
            errors.push(FieldError::new(path, range));
            None
        }
        Err(MoneyError::TooManyDecimals) => {
            errors.push(FieldError::new(path, "must have at most two decimals"));
            None
        }
        Err(MoneyError::NotANumber) => {
            errors.push(FieldError::new(path, "must be a number"));
            None
        }
    }
}

/// Duplicate names (trimmed, case-insensitive) may repeat only while their summed quantity stays
/// within the per-item limit (CONTRACT §1).
fn check_duplicates(items: &[Option<NewItem>], errors: &mut Vec<FieldError>) {
    let mut totals: Vec<(String, String, i64)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for item in items.iter().flatten() {
        let key = item.name.to_lowercase();
        let i = *index.entry(key.clone()).or_insert_with(|| {
            totals.push((key, item.name.clone(), 0));
            totals.len() - 1
        });
        totals[i].2 += i64::from(item.quantity);
    }
    for (_, name, quantity) in totals {
        if quantity > MAX_QUANTITY {
            errors.push(FieldError::new(
                "items",
                format!("{name:?} is ordered {quantity} times; at most {MAX_QUANTITY} of one item"),
            ));
        }
    }
}

/// Whether an item's price is within [`PRICE_CENTS`].
pub fn price_in_range(price: Money) -> bool {
    price >= Money::from_cents(*PRICE_CENTS.start())
        && price <= Money::from_cents(*PRICE_CENTS.end())
}

/// The price rule in words, from [`PRICE_CENTS`].
pub fn price_range_rule() -> String {
    let (low, high) = (
        Money::from_cents(*PRICE_CENTS.start()),
        Money::from_cents(*PRICE_CENTS.end()),
    );
    format!("must be between {low} and {high}")
}

#[cfg(test)]
#[path = "validation_tests.rs"]
mod tests;
