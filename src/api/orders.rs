//! `/orders` routes (CONTRACT §6).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{FieldError, Money, OrderStatus, OrderType, Transition};
use crate::store::{HistoryEntry, OrderRecord};

use super::error::ApiError;
use super::query::parse_query;
use super::{AppState, draft, request_id};

#[utoipa::path(
    post,
    path = "/orders",
    tag = "orders",
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; the same key answers the same order"), ("X-Request-Id" = Option<String>, Header, description = "Carried on every log line and message this request causes")),
    request_body(content = super::openapi::OrderRequest, content_type = "application/json"),
    security((), ("bearer" = [])),
    responses(
        (status = 201, description = "Placed", body = CreatedBody, links(
            ("status" = (operation_id = "status", parameters(("number" = "$response.body#/order_number")))),
            ("history" = (operation_id = "history", parameters(("number" = "$response.body#/order_number")))),
            ("cancel" = (operation_id = "cancel", parameters(("number" = "$response.body#/order_number")))),
            ("complete" = (operation_id = "complete", parameters(("number" = "$response.body#/order_number"))))
        )),
        (status = 400, description = "Invalid order (every failing field in details), malformed JSON or key", body = super::openapi::ErrorBody),
        (status = 401, description = "Token required", body = super::openapi::ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = super::openapi::ErrorBody),
        (status = 409, description = "Idempotency-Key used before for another order", body = super::openapi::ErrorBody),
        (status = 413, description = "Body too large", body = super::openapi::ErrorBody),
        (status = 415, description = "Not application/json", body = super::openapi::ErrorBody),
        super::openapi::Busy
    )
)]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<CreatedBody>), ApiError> {
    if !is_json(&headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            ApiError::Malformed(e.body_text())
        }
    })?;
    let draft = draft::parse(&body).inspect_err(|e| {
        tracing::warn!(action = "validation_failed", reason = ?e, "order body is not a JSON object");
    })?;
    let rid = request_id(&headers);
    let key = idempotency_key(&headers)?;
    let placed = state
        .orders
        .place(&draft, rid.as_deref(), key.as_deref())
        .await
        .inspect_err(|e| {
            if let crate::service::ServiceError::Invalid(errors) = e {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                tracing::warn!(action = "validation_failed", fields = ?fields, "order refused");
            }
        })?;
    tracing::info!(
        action = "order_received",
        order_number = %placed.number,
        priority = placed.priority,
        total_amount = %placed.total,
        "order received"
    );
    Ok((
        StatusCode::CREATED,
        Json(CreatedBody {
            order_number: placed.number,
            status: OrderStatus::Received,
            total_amount: placed.total,
        }),
    ))
}

/// The client's own key for this placement (`Idempotency-Key`), 1–255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(k.to_string()))
        }
        _ => Err(ApiError::Validation(vec![FieldError::new(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        )])),
    }
}

/// Typed bodies (not `json!`) so money is written from its decimal text, never via a float.
#[derive(Serialize, ToSchema)]
pub struct CreatedBody {
    order_number: String,
    #[schema(schema_with = super::openapi::order_status)]
    status: OrderStatus,
    #[schema(schema_with = super::openapi::money)]
    total_amount: Money,
}

/// `application/json`, with or without parameters (`; charset=utf-8`), or any `+json` type.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

#[derive(Serialize, ToSchema)]
pub struct StatusBody {
    order_number: String,
    #[schema(schema_with = super::openapi::order_status)]
    current_status: OrderStatus,
    updated_at: DateTime<Utc>,
    estimated_completion: Option<DateTime<Utc>>,
    processed_by: Option<String>,
}

#[utoipa::path(
    get,
    path = "/orders/{number}/status",
    tag = "tracking",
    params(("number" = String, Path, description = "The order number, ORD_YYYYMMDD_NNN")),
    responses(
        (status = 200, description = "The order's status", body = StatusBody),
        super::openapi::UnknownOrder,
        super::openapi::Busy
    )
)]
pub async fn status(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Json<StatusBody>, ApiError> {
    let view = state.orders.status(&number).await?;
    Ok(Json(StatusBody {
        order_number: view.order.number,
        current_status: view.order.status,
        updated_at: view.order.updated_at,
        estimated_completion: view.estimated_completion,
        processed_by: view.order.processed_by,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct HistoryBody {
    #[schema(schema_with = super::openapi::order_status)]
    status: OrderStatus,
    timestamp: DateTime<Utc>,
    changed_by: Option<String>,
}

impl From<HistoryEntry> for HistoryBody {
    fn from(h: HistoryEntry) -> Self {
        HistoryBody {
            status: h.status,
            timestamp: h.changed_at,
            changed_by: h.changed_by,
        }
    }
}

#[utoipa::path(
    get,
    path = "/orders/{number}/history",
    tag = "tracking",
    params(("number" = String, Path, description = "The order number, ORD_YYYYMMDD_NNN")),
    responses(
        (status = 200, description = "Oldest first", body = [HistoryBody]),
        super::openapi::UnknownOrder,
        super::openapi::Busy
    )
)]
pub async fn history(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Json<Vec<HistoryBody>>, ApiError> {
    let entries = state
        .orders
        .history(&number)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(entries))
}

#[derive(Serialize, ToSchema)]
struct ItemBody {
    name: String,
    quantity: u32,
    #[schema(schema_with = super::openapi::money)]
    price: Money,
}

#[derive(Serialize, ToSchema)]
pub struct OrderBody {
    order_number: String,
    customer_name: String,
    #[schema(schema_with = super::openapi::order_type)]
    order_type: OrderType,
    table_number: Option<u8>,
    delivery_address: Option<String>,
    items: Vec<ItemBody>,
    #[schema(schema_with = super::openapi::money)]
    total_amount: Money,
    #[schema(minimum = 1, maximum = 10)]
    priority: u8,
    #[schema(schema_with = super::openapi::order_status)]
    status: OrderStatus,
    processed_by: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
}

impl From<OrderRecord> for OrderBody {
    fn from(o: OrderRecord) -> Self {
        OrderBody {
            order_number: o.number,
            customer_name: o.customer_name,
            order_type: o.order_type,
            table_number: o.table_number,
            delivery_address: o.delivery_address,
            items: o
                .items
                .into_iter()
                .map(|i| ItemBody {
                    name: i.name,
                    quantity: i.quantity,
                    price: i.price,
                })
                .collect(),
            total_amount: o.total,
            priority: o.priority,
            status: o.status,
            processed_by: o.processed_by,
            created_at: o.created_at,
            updated_at: o.updated_at,
            completed_at: o.completed_at,
        }
    }
}

/// `GET /orders?status=received,cooking&type=dine_in&limit=20&offset=0`, newest first.
#[utoipa::path(
    get,
    path = "/orders",
    tag = "orders",
    params(super::openapi::ListParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Newest first", body = PageBody),
        (status = 400, description = "Invalid query (each parameter in details)", body = super::openapi::ErrorBody),
        (status = 401, description = "Token required", body = super::openapi::ErrorBody),
        super::openapi::Busy
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<PageBody>, ApiError> {
    let query = parse_query(&params).map_err(ApiError::BadQuery)?;
    let page = state.orders.list(&query).await?;
    let shown = page.orders.len() as u64;
    Ok(Json(PageBody {
        orders: page.orders.into_iter().map(Into::into).collect(),
        total: page.total,
        limit: query.limit,
        offset: query.offset,
        has_more: query.offset + shown < page.total,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct PageBody {
    orders: Vec<OrderBody>,
    total: u64,
    limit: u32,
    offset: u64,
    has_more: bool,
}

#[utoipa::path(
    post,
    path = "/orders/{number}/cancel",
    tag = "orders",
    params(("number" = String, Path, description = "The order number, ORD_YYYYMMDD_NNN")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Cancelled", body = TransitionBody),
        super::openapi::OperatorRefusals,
        super::openapi::Busy
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Json<TransitionBody>, ApiError> {
    operator(&state, &headers, number, Transition::Cancel).await
}

#[utoipa::path(
    post,
    path = "/orders/{number}/complete",
    tag = "orders",
    params(("number" = String, Path, description = "The order number, ORD_YYYYMMDD_NNN")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Completed (picked up or delivered)", body = TransitionBody),
        super::openapi::OperatorRefusals,
        super::openapi::Busy
    )
)]
pub async fn complete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Json<TransitionBody>, ApiError> {
    operator(&state, &headers, number, Transition::Complete).await
}

#[derive(Serialize, ToSchema)]
pub struct TransitionBody {
    order_number: String,
    #[schema(schema_with = super::openapi::order_status)]
    previous_status: OrderStatus,
    #[schema(schema_with = super::openapi::order_status)]
    status: OrderStatus,
}

async fn operator(
    state: &AppState,
    headers: &HeaderMap,
    number: String,
    transition: Transition,
) -> Result<Json<TransitionBody>, ApiError> {
    let from = state
        .orders
        .operator_transition(
            &number,
            transition,
            crate::service::OPERATOR,
            None,
            request_id(headers).as_deref(),
        )
        .await?;
    tracing::info!(
        action = "order_status_changed",
        order_number = %number,
        from = %from,
        to = %transition.to(),
        "operator changed an order's status"
    );
    Ok(Json(TransitionBody {
        order_number: number,
        previous_status: from,
        status: transition.to(),
    }))
}
