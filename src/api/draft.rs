//! The one conversion from a request body to an [`OrderDraft`]: JSON kinds are checked here,
//! every rule of the order in the domain. Prices keep the number's own text so no float ever
//! rounds them (`1.005` stays three decimals and is refused).

use std::collections::HashMap;

use serde_json::value::RawValue;

use crate::domain::{Field, ItemDraft, OrderDraft};

use super::error::ApiError;

type Object<'a> = HashMap<String, &'a RawValue>;

/// Parses a body that must be one JSON object; unknown fields are ignored.
pub fn parse(body: &[u8]) -> Result<OrderDraft, ApiError> {
    let object: Object<'_> = match serde_json::from_slice(body) {
        Ok(o) => o,
        Err(e) if e.is_data() => {
            return Err(ApiError::Malformed("the body must be a JSON object".into()));
        }
        Err(e) => {
            return Err(ApiError::Malformed(format!(
                "the body is not valid JSON: {e}"
            )));
        }
    };
    Ok(OrderDraft {
        customer_name: text(object.get("customer_name")),
        order_type: text(object.get("order_type")),
        table_number: integer(object.get("table_number")),
        delivery_address: text(object.get("delivery_address")),
        items: items(object.get("items")),
        notes: text(object.get("notes")),
    })
}

fn is_null(raw: Option<&&RawValue>) -> bool {
    raw.is_none_or(|r| r.get().trim() == "null")
}

fn text(raw: Option<&&RawValue>) -> Field<String> {
    match raw {
        _ if is_null(raw) => Field::Absent,
        Some(r) => serde_json::from_str::<String>(r.get())
            .map(Field::Given)
            .unwrap_or(Field::Wrong("must be a string")),
        None => Field::Absent,
    }
}

/// JSON integers only: `1.5`, `1.0` and `"2"` are refused.
fn integer(raw: Option<&&RawValue>) -> Field<i64> {
    match raw {
        _ if is_null(raw) => Field::Absent,
        Some(r) => {
            let t = r.get().trim();
            match serde_json::from_str::<serde_json::Number>(t) {
                Ok(n) if n.is_i64() => n
                    .as_i64()
                    .map(Field::Given)
                    .unwrap_or(Field::Wrong("must be an integer")),
                // Integral but beyond i64: certainly out of every range we accept.
                Ok(n) if n.is_u64() => Field::Given(i64::MAX),
                _ => Field::Wrong("must be an integer"),
            }
        }
        None => Field::Absent,
    }
}

/// A JSON number, kept as its text.
fn number_text(raw: Option<&&RawValue>) -> Field<String> {
    match raw {
        _ if is_null(raw) => Field::Absent,
        Some(r) => {
            let t = r.get().trim();
            match serde_json::from_str::<serde_json::Number>(t) {
                Ok(_) => Field::Given(t.to_string()),
                Err(_) => Field::Wrong("must be a number"),
            }
        }
        None => Field::Absent,
    }
}

fn items(raw: Option<&&RawValue>) -> Field<Vec<Field<ItemDraft>>> {
    if is_null(raw) {
        return Field::Absent;
    }
    let Some(r) = raw else { return Field::Absent };
    let Ok(list) = serde_json::from_str::<Vec<&RawValue>>(r.get()) else {
        return Field::Wrong("must be an array");
    };
    Field::Given(
        list.into_iter()
            .map(
                |entry| match serde_json::from_str::<Object<'_>>(entry.get()) {
                    Ok(o) => Field::Given(ItemDraft {
                        name: text(o.get("name")),
                        quantity: integer(o.get("quantity")),
                        price: number_text(o.get("price")),
                        notes: text(o.get("notes")),
                    }),
                    Err(_) => Field::Wrong("must be an object"),
                },
            )
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(json: &str) -> OrderDraft {
        parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn kinds_are_told_apart() {
        let d = draft(
            r#"{"customer_name": 5, "order_type": null, "table_number": "2",
                          "items": [{"name": "P", "quantity": 1.5, "price": "9.99"}, 3]}"#,
        );
        assert_eq!(d.customer_name, Field::Wrong("must be a string"));
        assert_eq!(d.order_type, Field::Absent);
        assert_eq!(d.table_number, Field::Wrong("must be an integer"));
        let Field::Given(items) = d.items else {
            panic!()
        };
        let Field::Given(first) = &items[0] else {
            panic!()
        };
        assert_eq!(first.quantity, Field::Wrong("must be an integer"));
        assert_eq!(first.price, Field::Wrong("must be a number"));
        assert_eq!(items[1], Field::Wrong("must be an object"));
    }

    #[test]
    fn prices_keep_their_text() {
        let d = draft(r#"{"items": [{"price": 1.005}, {"price": 1.500}, {"price": 1e2}]}"#);
        let Field::Given(items) = d.items else {
            panic!()
        };
        let prices: Vec<_> = items
            .iter()
            .map(|i| match i {
                Field::Given(i) => i.price.clone(),
                _ => panic!(),
            })
            .collect();
        assert_eq!(
            prices,
            [
                Field::Given("1.005".into()),
                Field::Given("1.500".into()),
                Field::Given("1e2".into())
            ]
        );
    }

    #[test]
    fn only_an_object_is_a_body() {
        for bad in ["[]", "\"x\"", "3", "{", "", "{\"a\":}"] {
            assert!(
                matches!(parse(bad.as_bytes()), Err(ApiError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn items_that_are_not_an_array_are_named() {
        assert_eq!(
            draft(r#"{"items": {"name": "x"}}"#).items,
            Field::Wrong("must be an array")
        );
    }
}
