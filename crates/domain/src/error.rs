//! The one error every domain operation returns, and the one place its kinds meet Coder's
//! status codes and texts (coder-api.md §0). The server renders it; audit rows record its
//! status. Internal causes are logged, never sent.

use atrium_api::{Response as Body, ValidationError};

/// Coder's texts for the canonical responses.
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
    /// A unique constraint refused a write.
    pub const ALREADY_EXISTS: &str = "Resource already exists.";
    /// A foreign key refused a write: a referenced row is gone, or the row is still referenced.
    pub const REFERENCE_INVALID: &str = "A referenced resource does not exist or is still in use.";
}

/// What went wrong, as Coder classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    NotAcceptable,
    RequestTimeout,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    ExpectationFailed,
    TooEarly,
    TooManyRequests,
    Internal,
}

impl Kind {
    /// The HTTP status Coder answers with (also recorded in audit rows).
    pub const fn status(self) -> u16 {
        match self {
            Kind::BadRequest => 400,
            Kind::Unauthorized => 401,
            Kind::Forbidden => 403,
            Kind::NotFound => 404,
            Kind::MethodNotAllowed => 405,
            Kind::NotAcceptable => 406,
            Kind::RequestTimeout => 408,
            Kind::Conflict => 409,
            Kind::PayloadTooLarge => 413,
            Kind::UnsupportedMediaType => 415,
            Kind::ExpectationFailed => 417,
            Kind::TooEarly => 425,
            Kind::TooManyRequests => 429,
            Kind::Internal => 500,
        }
    }
}

/// What an [`Error`] holds (boxed, so results stay small).
#[derive(Debug)]
pub struct Details {
    pub kind: Kind,
    pub body: Body,
    /// Why the engine refused (in words), for the audit row and the server log; never sent.
    pub reasons: Vec<String>,
    /// Logged for internal errors; never sent.
    pub cause: Option<String>,
}

/// A refused or failed operation: Coder's body plus, for refusals, the engine's reasons.
#[derive(Debug)]
pub struct Error(Box<Details>);

impl std::ops::Deref for Error {
    type Target = Details;
    fn deref(&self) -> &Details {
        &self.0
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.status(), self.body.message)?;
        if let Some(cause) = &self.cause {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error(Box::new(Details {
            kind,
            body: Body::message(message),
            reasons: Vec::new(),
            cause: None,
        }))
    }
    /// The body sent to the client.
    pub fn into_body(self) -> Body {
        self.0.body
    }
    pub fn status(&self) -> u16 {
        self.kind.status()
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.0.body.detail = detail.into();
        self
    }
    pub fn validation(mut self, field: impl Into<String>, detail: impl Into<String>) -> Self {
        self.0
            .body
            .validations
            .push(ValidationError { field: field.into(), detail: detail.into() });
        self
    }
    pub fn validations(mut self, v: Vec<ValidationError>) -> Self {
        self.0.body.validations.extend(v);
        self
    }
    /// The engine's reasons for a refusal.
    pub fn because(mut self, reasons: Vec<String>) -> Self {
        self.0.reasons = reasons;
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Kind::BadRequest, message)
    }
    pub fn not_found() -> Self {
        Self::new(Kind::NotFound, text::NOT_FOUND)
    }
    pub fn forbidden() -> Self {
        Self::new(Kind::Forbidden, text::FORBIDDEN).detail(text::FORBIDDEN_DETAIL)
    }
    /// A 403 with its own message (Coder uses these for rules on objects the caller can see).
    pub fn forbidden_with(message: impl Into<String>) -> Self {
        Self::new(Kind::Forbidden, message)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(Kind::Unauthorized, text::SIGNED_OUT).detail(detail)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Kind::Conflict, message)
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
    /// An internal error whose cause is logged, not sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Error(Box::new(Details {
            kind: Kind::Internal,
            body: Body::message(text::INTERNAL),
            reasons: Vec::new(),
            cause: Some(cause.to_string()),
        }))
    }
    pub fn is_not_found(&self) -> bool {
        self.kind == Kind::NotFound
    }
}

/// How a store error becomes a domain error where the operation has no more specific answer.
/// Constraint violations keep their kind: a unique violation is Coder's 409 "already exists";
/// a foreign-key violation (a referenced row vanished, or the row is still referenced) and a
/// check violation are the caller's 400, never "already exists". Any other store failure is
/// internal.
impl From<atrium_store::StoreError> for Error {
    fn from(e: atrium_store::StoreError) -> Self {
        use atrium_store::StoreError as E;
        match e {
            E::NotFound { .. } => Error::not_found(),
            // Each kind of constraint keeps its own answer: only a unique violation means the
            // resource already exists.
            E::Unique { constraint } => {
                Error::conflict(text::ALREADY_EXISTS).detail(format!("conflict on `{constraint}`"))
            }
            E::ForeignKey { constraint } => Error::bad_request(text::REFERENCE_INVALID)
                .detail(format!("foreign key `{constraint}`")),
            E::Check { constraint } => Error::bad_request(text::VALIDATION_FAILED)
                .detail(format!("check constraint `{constraint}`")),
            e @ (E::SchemaTooNew { .. }
            | E::Locked { .. }
            | E::Io { .. }
            | E::Database(_)
            | E::Migration(_)) => Error::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrium_store::StoreError;

    fn mapped(e: StoreError) -> Error {
        Error::from(e)
    }

    #[test]
    fn each_kind_of_constraint_keeps_its_own_answer() {
        let unique = mapped(StoreError::Unique { constraint: "users_username_key".into() });
        assert_eq!((unique.status(), unique.body.message.as_str()), (409, text::ALREADY_EXISTS));
        assert!(unique.body.detail.contains("users_username_key"));

        // A missing referenced row is never "already exists".
        let fkey = mapped(StoreError::ForeignKey { constraint: "unknown_fkey".into() });
        assert_eq!((fkey.status(), fkey.body.message.as_str()), (400, text::REFERENCE_INVALID));
        assert!(fkey.body.detail.contains("unknown_fkey"));

        let check = mapped(StoreError::Check { constraint: "users_status_check".into() });
        assert_eq!((check.status(), check.body.message.as_str()), (400, text::VALIDATION_FAILED));
        assert!(check.body.detail.contains("users_status_check"));
    }

    #[test]
    fn other_store_errors_are_not_found_or_internal() {
        assert!(mapped(StoreError::NotFound { entity: "user" }).is_not_found());
        let db = mapped(StoreError::Migration("boom".into()));
        assert_eq!(db.status(), 500);
        assert_eq!(db.body.message, text::INTERNAL);
        assert!(db.cause.as_deref().is_some_and(|c| c.contains("boom")));
    }
}
