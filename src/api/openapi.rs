//! `GET /openapi.json` (CONTRACT §6): the document of every route, generated from the handlers'
//! annotations (utoipa). The request's constraints come from the domain's own bounds, so the
//! document and the validation cannot drift apart; every error status a route can answer is
//! listed with the one error body.

use std::sync::OnceLock;

use axum::Json;
use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, ToSchema};

use crate::domain::{
    MAX_ADDRESS_CHARS, MAX_ITEM_NAME_CHARS, MAX_ITEMS, MAX_NAME_CHARS, MAX_NOTE_CHARS,
    MAX_QUANTITY, MAX_TABLE, MIN_ADDRESS_CHARS, Money, OrderStatus, OrderType, PRICE_CENTS,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "restaurant-tui",
        description = "A restaurant kitchen's order API (compatible with wheres-my-pizza). \
            Errors are JSON: {\"error\", \"message\", \"details\"}. With a bearer token \
            configured, the mutating routes and GET /orders need `Authorization: Bearer`.",
        license(name = "MIT")
    ),
    paths(
        super::orders::create,
        super::orders::list,
        super::orders::status,
        super::orders::history,
        super::orders::cancel,
        super::orders::complete,
        super::health::workers,
        super::health::live,
        super::health::ready,
        super::metrics::metrics,
        document,
    ),
    components(schemas(ErrorBody, FieldErrorBody, OrderRequest)),
    modifiers(&BearerToken)
)]
struct ApiDoc;

/// The optional bearer token (`server.token`).
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document, built once.
pub fn spec() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI document of this API", content_type = "application/json")))]
pub async fn document() -> Json<&'static Document> {
    Json(spec())
}

/// What any route behind the rate limit and the database may answer.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum Busy {
    #[response(status = 429, description = "Rate limited (Retry-After)")]
    RateLimited(ErrorBody<'static>),
    #[response(status = 503, description = "Database unavailable (Retry-After)")]
    Unavailable(ErrorBody<'static>),
}

/// What a route that names an order may answer about it.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum UnknownOrder {
    #[response(status = 400, description = "Malformed path")]
    Malformed(ErrorBody<'static>),
    #[response(status = 404, description = "Unknown order")]
    NotFound(ErrorBody<'static>),
}

/// What an operator's transition may answer besides its result.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum OperatorRefusals {
    #[response(status = 400, description = "Malformed path")]
    Malformed(ErrorBody<'static>),
    #[response(status = 401, description = "Token required")]
    Unauthorized(ErrorBody<'static>),
    #[response(status = 404, description = "Unknown order")]
    NotFound(ErrorBody<'static>),
    #[response(status = 408, description = "The body did not arrive in time")]
    BodyTimeout(ErrorBody<'static>),
    #[response(status = 409, description = "The order's status does not allow it")]
    Conflict(ErrorBody<'static>),
    #[response(status = 413, description = "Body too large")]
    TooLarge(ErrorBody<'static>),
}

pub use super::error::ErrorBody;

/// One failing field of a validation error (`domain::FieldError`'s shape).
#[derive(ToSchema)]
#[allow(dead_code)] // `domain::FieldError` is what is sent; this documents it
pub struct FieldErrorBody {
    /// The JSON path of the field: `items[0].name`.
    field: String,
    message: String,
}

/// A new order (CONTRACT §1), its bounds read from the domain's own rules. Dine-in needs
/// `table_number`; delivery needs `delivery_address`; takeout takes neither. Unknown fields are
/// ignored.
pub struct OrderRequest;

impl utoipa::PartialSchema for OrderRequest {
    fn schema() -> RefOr<Schema> {
        let name = "letters (any script), spaces, hyphens and apostrophes";
        let address = text(MIN_ADDRESS_CHARS, MAX_ADDRESS_CHARS, "where to deliver");
        ObjectBuilder::new()
            .property("customer_name", text(1, MAX_NAME_CHARS, name))
            .property("order_type", order_type())
            .property("table_number", nullable(integer(1, MAX_TABLE)))
            .property("delivery_address", nullable(address))
            .property("items", items())
            .property("notes", note())
            .required("customer_name")
            .required("order_type")
            .required("items")
            .description(Some(
                "dine_in needs table_number; delivery needs delivery_address; takeout neither",
            ))
            .examples([serde_json::json!({
                "customer_name": "John Smith",
                "order_type": "dine_in",
                "table_number": 5,
                "items": [{"name": "Margherita Pizza", "quantity": 1, "price": 15.99}]
            })])
            .into()
    }
}

/// 1 to `MAX_ITEMS` items, each with its name, quantity and price.
fn items() -> utoipa::openapi::schema::Array {
    let item = ObjectBuilder::new()
        .property("name", text(1, MAX_ITEM_NAME_CHARS, "the item"))
        .property("quantity", integer(1, MAX_QUANTITY))
        .property("price", price())
        .property("notes", note())
        .required("name")
        .required("quantity")
        .required("price")
        .build();
    ArrayBuilder::new()
        .items(item)
        .min_items(Some(1))
        .max_items(Some(MAX_ITEMS))
        .build()
}

fn text(min: usize, max: usize, about: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .min_length(Some(min))
        .max_length(Some(max))
        .description(Some(about))
        .build()
}

fn integer(min: i64, max: i64) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .minimum(Some(min))
        .maximum(Some(max))
        .build()
}

/// `null` allowed too (JSON Schema 2020-12: a list of types).
fn nullable(mut o: Object) -> Object {
    if let SchemaType::Type(t) = o.schema_type {
        o.schema_type = SchemaType::from_iter([t, Type::Null]);
    }
    o
}

fn note() -> Object {
    nullable(text(0, MAX_NOTE_CHARS, "a note for the kitchen"))
}

/// An item's price within the domain's range (`PRICE_CENTS`).
fn price() -> Object {
    let bound = |cents: i64| Money::from_cents(cents).to_string().parse::<f64>().ok();
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Number))
        .minimum(bound(*PRICE_CENTS.start()))
        .maximum(bound(*PRICE_CENTS.end()))
        .description(Some(
            "at most two decimals; never rounded (1.005 is refused)",
        ))
        .build()
}

impl ToSchema for OrderRequest {}

/// `GET /orders`'s query.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Comma-separated statuses: received, cooking, ready, completed, cancelled.
    status: Option<String>,
    /// One order type.
    #[param(rename = "type", schema_with = order_type)]
    kind: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    #[param(minimum = 0)]
    offset: Option<u64>,
}

fn names<T: std::fmt::Display>(all: &[T]) -> Vec<String> {
    all.iter().map(ToString::to_string).collect()
}

/// One of the order types, as the domain lists them.
pub fn order_type() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(names(&OrderType::ALL)))
        .build()
}

/// One of the statuses, as the domain lists them.
pub fn order_status() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(names(&OrderStatus::ALL)))
        .build()
}

/// An amount: a JSON number with at most two decimals.
pub fn money() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Number))
        .description(Some("an amount with at most two decimals"))
        .build()
}
