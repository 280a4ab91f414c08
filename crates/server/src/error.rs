//! Rendering the domain's errors as HTTP: Coder's `{"message", "detail", "validations"}` body
//! with the status the domain's error kind names (`atrium_domain::error` is the one mapping).
//! Internal causes and refusal reasons are logged, never sent.

use atrium_domain::error::Kind;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use atrium_domain::error::text;

/// A domain error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub atrium_domain::Error);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<atrium_domain::Error> for ApiError {
    fn from(e: atrium_domain::Error) -> Self {
        ApiError(e)
    }
}

fn kind_of(status: StatusCode) -> Kind {
    match status.as_u16() {
        400 => Kind::BadRequest,
        401 => Kind::Unauthorized,
        403 => Kind::Forbidden,
        404 => Kind::NotFound,
        405 => Kind::MethodNotAllowed,
        406 => Kind::NotAcceptable,
        408 => Kind::RequestTimeout,
        409 => Kind::Conflict,
        413 => Kind::PayloadTooLarge,
        415 => Kind::UnsupportedMediaType,
        417 => Kind::ExpectationFailed,
        425 => Kind::TooEarly,
        429 => Kind::TooManyRequests,
        _ => Kind::Internal,
    }
}

/// The domain's constructors, for the HTTP-only refusals the server makes itself (parsing,
/// cross-site checks, unknown routes).
impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError(atrium_domain::Error::new(kind_of(status), message))
    }
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
    pub fn detail(self, detail: impl Into<String>) -> Self {
        ApiError(self.0.detail(detail))
    }
    pub fn validation(self, field: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError(self.0.validation(field, detail))
    }
    pub fn validations(self, v: Vec<atrium_api::ValidationError>) -> Self {
        ApiError(self.0.validations(v))
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError(atrium_domain::Error::bad_request(message))
    }
    pub fn not_found() -> Self {
        ApiError(atrium_domain::Error::not_found())
    }
    pub fn forbidden() -> Self {
        ApiError(atrium_domain::Error::forbidden())
    }
    pub fn forbidden_with(message: impl Into<String>) -> Self {
        ApiError(atrium_domain::Error::forbidden_with(message))
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ApiError(atrium_domain::Error::unauthorized(detail))
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError(atrium_domain::Error::conflict(message))
    }
    pub fn invalid_json(detail: impl Into<String>) -> Self {
        ApiError(atrium_domain::Error::invalid_json(detail))
    }
    pub fn required(field: &str) -> Self {
        ApiError(atrium_domain::Error::required(field))
    }
    pub fn tag_failed(field: &str, tag: &str, value: &str) -> Self {
        ApiError(atrium_domain::Error::tag_failed(field, tag, value))
    }
    pub fn invalid_query(message: &str, errors: Vec<atrium_engine::query::QueryError>) -> Self {
        ApiError(atrium_domain::Error::invalid_query(message, errors))
    }
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError(atrium_domain::Error::internal(cause))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let e = self.0;
        if let Some(cause) = &e.cause {
            tracing::error!(%status, %cause, "request failed");
        } else if !e.reasons.is_empty() {
            tracing::info!(%status, reasons = ?e.reasons, "request refused");
        }
        json_response(status, &e.into_body())
    }
}

/// Serializes a body with Coder's content type.
pub fn json_response<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => json_bytes_response(status, bytes),
        Err(e) => ApiError::internal(format!("serialize response: {e}")).into_response(),
    }
}

/// A response of JSON serialized already (a cached view).
pub fn json_bytes_response(status: StatusCode, bytes: impl Into<axum::body::Body>) -> Response {
    let mut response = (status, bytes.into()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    response
}
