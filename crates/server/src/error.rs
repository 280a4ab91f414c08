//! The one place errors become HTTP: Coder's `{"message", "detail", "validations"}` body.
//! Internal causes are logged, never sent.

use atrium_api::{Response as Body, ValidationError};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Coder's texts for the canonical responses (coder-api.md §0).
pub mod text {
    pub const NOT_FOUND: &str = "Resource not found or you do not have access to this resource";
    pub const FORBIDDEN: &str = "Forbidden.";
    pub const FORBIDDEN_DETAIL: &str = "You don't have permission to view this content. If you believe this is a mistake, please contact your administrator or try signing in with different credentials.";
    pub const SIGNED_OUT: &str =
        "You are signed out or your session has expired. Please sign in again to continue.";
    pub const INVALID_JSON: &str = "Request body must be valid JSON.";
    pub const VALIDATION_FAILED: &str = "Validation failed.";
    pub const INTERNAL: &str = "An internal server error occurred.";
    pub const ROUTE_NOT_FOUND: &str = "Route not found.";
}

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Body,
    /// Logged for 5xx; never sent.
    cause: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, body: Body::message(message), cause: None }
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.body.detail = detail.into();
        self
    }
    pub fn validation(mut self, field: impl Into<String>, detail: impl Into<String>) -> Self {
        self.body.validations.push(ValidationError { field: field.into(), detail: detail.into() });
        self
    }
    pub fn validations(mut self, v: Vec<ValidationError>) -> Self {
        self.body.validations.extend(v);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, text::NOT_FOUND)
    }
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, text::FORBIDDEN).detail(text::FORBIDDEN_DETAIL)
    }
    /// A 403 with its own message (Coder uses these for rules on objects the caller can see).
    pub fn forbidden_with(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, text::SIGNED_OUT).detail(detail)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    pub fn invalid_json(detail: impl Into<String>) -> Self {
        Self::bad_request(text::INVALID_JSON).detail(detail)
    }
    /// A required field is empty (Coder's validator text).
    pub fn required(field: &str) -> Self {
        Self::bad_request(text::VALIDATION_FAILED)
            .validation(field, "Validation failed for tag \"required\" with value: \"\"")
    }
    /// A request field that fails a named validator, in Coder's validator words.
    pub fn tag_failed(field: &str, tag: &str, value: &str) -> Self {
        Self::bad_request(text::VALIDATION_FAILED).validation(
            field,
            format!("Validation failed for tag \"{tag}\" with value: \"{value}\""),
        )
    }
    /// A `q` that does not parse: `message` plus one validation per problem.
    pub fn invalid_query(message: &str, errors: Vec<atrium_engine::query::QueryError>) -> Self {
        Self::bad_request(message).validations(
            errors
                .into_iter()
                .map(|e| ValidationError { field: e.field, detail: e.detail })
                .collect(),
        )
    }
    /// A 500 whose cause is logged, not sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            body: Body::message(text::INTERNAL),
            cause: Some(cause.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(status = %self.status, %cause, "request failed");
        }
        json_response(self.status, &self.body)
    }
}

/// Serializes a body with Coder's content type.
pub fn json_response<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            response
        }
        Err(e) => ApiError::internal(format!("serialize response: {e}")).into_response(),
    }
}

impl From<atrium_store::StoreError> for ApiError {
    fn from(e: atrium_store::StoreError) -> Self {
        use atrium_store::StoreError as E;
        match e {
            E::NotFound { .. } => ApiError::not_found(),
            E::Conflict { constraint } => ApiError::conflict("Resource already exists.")
                .detail(format!("conflict on `{constraint}`")),
            e @ (E::SchemaTooNew { .. }
            | E::Locked { .. }
            | E::Io { .. }
            | E::Database(_)
            | E::Migration(_)) => ApiError::internal(e),
        }
    }
}
