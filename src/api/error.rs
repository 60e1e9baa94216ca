//! One error type for the HTTP boundary, mapped to a status and our JSON shape in one place
//! (CONTRACT §6): `{"error": code, "message": text, "details": [...]}`. Causes of 5xx answers are
//! logged, never sent.

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::FieldError;
use crate::service::ServiceError;

#[derive(Debug)]
pub enum ApiError {
    Validation(Vec<FieldError>),
    /// The body is not JSON, or not a JSON object.
    Malformed(String),
    BadQuery(Vec<FieldError>),
    UnsupportedMediaType,
    TooLarge,
    /// The body did not arrive within the body-read timeout.
    BodyTimeout,
    NotFound(String),
    Conflict(String),
    Unauthorized,
    RateLimited,
    /// Too many order creations in flight.
    Overloaded,
    /// The database is down or kept failing.
    Unavailable,
    Internal,
}

// CONTRACT §6; `/openapi.json` documents the errors from this very type.
/// Every error answer's body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    /// Machine code: validation_failed, invalid_query, malformed_json, not_found, conflict,
    /// unauthorized, rate_limited, overloaded, unavailable, …
    error: &'a str,
    message: &'a str,
    /// Every failing field, on validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<super::openapi::FieldErrorBody>>)]
    details: Option<&'a [FieldError]>,
}

/// Seconds a client should wait before retrying a 503 or 429.
const RETRY_AFTER_SECS: &str = "1";

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::Validation(_) => (
                StatusCode::BAD_REQUEST,
                "validation_failed",
                "the order is not valid".into(),
            ),
            ApiError::BadQuery(_) => (
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "the query parameters are not valid".into(),
            ),
            ApiError::Malformed(why) => (StatusCode::BAD_REQUEST, "malformed_json", why.clone()),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as Content-Type: application/json".into(),
            ),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large".into(),
            ),
            ApiError::BodyTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body did not arrive in time".into(),
            ),
            ApiError::NotFound(what) => (StatusCode::NOT_FOUND, "not_found", what.clone()),
            ApiError::Conflict(why) => (StatusCode::CONFLICT, "conflict", why.clone()),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this route needs Authorization: Bearer <token>".into(),
            ),
            ApiError::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests from this client; slow down".into(),
            ),
            ApiError::Overloaded => (
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "too many orders are being placed at once; retry shortly".into(),
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the order database is unavailable; retry shortly".into(),
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "an internal error occurred".into(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        let details = match &self {
            ApiError::Validation(d) | ApiError::BadQuery(d) => Some(d.as_slice()),
            _ => None,
        };
        let mut response = (
            status,
            Json(ErrorBody {
                error: code,
                message: &message,
                details,
            }),
        )
            .into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(errors) => ApiError::Validation(errors),
            ServiceError::NotFound(number) => {
                ApiError::NotFound(format!("order {number} not found"))
            }
            e @ (ServiceError::Conflict { .. } | ServiceError::KeyReused { .. }) => {
                ApiError::Conflict(e.to_string())
            }
            ServiceError::Unavailable(e) => {
                tracing::error!(
                    action = "db_unavailable",
                    error = &e as &dyn std::error::Error,
                    error_type = "StoreError",
                    "database unavailable"
                );
                ApiError::Unavailable
            }
            ServiceError::Internal(e) => {
                tracing::error!(
                    action = "internal_error",
                    error = &e as &dyn std::error::Error,
                    error_type = "StoreError",
                    "request failed"
                );
                ApiError::Internal
            }
        }
    }
}

/// The last word on error bodies: whatever a framework layer answered with a non-JSON error
/// (405 from the router, 413 from the body limit, 404 from no route, ...) leaves in our shape,
/// keeping its status and headers (`Allow`, `Retry-After`).
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "this route does not take that method")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests; slow down"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        s if s.is_client_error() => ("bad_request", "the request is not valid"),
        _ => ("internal", "an internal error occurred"),
    };
    let (mut parts, _) = response.into_parts();
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}
