//! `GET /orders`'s query (CONTRACT §6): statuses, a type, `limit` 1..=100 and `offset`; every
//! bad parameter named at once.

use std::collections::HashMap;

use crate::domain::{FieldError, OrderStatus, OrderType};
use crate::store::OrderQuery;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

pub(super) fn parse_query(params: &HashMap<String, String>) -> Result<OrderQuery, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut statuses = Vec::new();
    if let Some(list) = params.get("status").filter(|s| !s.is_empty()) {
        for s in list.split(',') {
            match s.trim().parse::<OrderStatus>() {
                Ok(s) => statuses.push(s),
                Err(_) => errors.push(FieldError::new(
                    "status",
                    format!("{s:?} is not one of received, cooking, ready, completed, cancelled"),
                )),
            }
        }
    }
    let order_type = match params.get("type").filter(|s| !s.is_empty()) {
        None => None,
        Some(t) => match t.parse::<OrderType>() {
            Ok(t) => Some(t),
            Err(_) => {
                errors.push(FieldError::new(
                    "type",
                    "must be one of dine_in, takeout, delivery",
                ));
                None
            }
        },
    };
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<u32>() {
            Ok(l) if (1..=MAX_LIMIT).contains(&l) => l,
            _ => {
                errors.push(FieldError::new(
                    "limit",
                    format!("must be an integer from 1 to {MAX_LIMIT}"),
                ));
                DEFAULT_LIMIT
            }
        },
    };
    let offset = match params.get("offset") {
        None => 0,
        Some(o) => o.parse::<u64>().unwrap_or_else(|_| {
            errors.push(FieldError::new("offset", "must be a non-negative integer"));
            0
        }),
    };
    if errors.is_empty() {
        Ok(OrderQuery {
            statuses,
            order_type,
            limit,
            offset,
        })
    } else {
        Err(errors)
    }
}
