//! A refused or failed operation as a page: Coder's message and detail, the fields that were
//! wrong and, for a refusal of the caller's own request, the engine's reasons in words.

use askama::Template;
use askama_web::WebTemplate;
use atrium_domain::{Error, Kind};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::session::Chrome;

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    message: String,
    detail: String,
    fields: Vec<(String, String)>,
    reasons: Vec<String>,
}

/// A domain error rendered inside the dashboard's frame.
pub struct PageError {
    pub chrome: Chrome,
    pub error: Error,
}

impl PageError {
    pub fn new(chrome: &Chrome, error: Error) -> PageError {
        PageError { chrome: chrome.clone(), error }
    }
}

/// The parts of an error a form shows beside itself.
pub struct Problem {
    /// The refusal's HTTP status, for the page that shows it.
    pub status: u16,
    pub message: String,
    pub fields: Vec<(String, String)>,
    pub reasons: Vec<String>,
}

impl Problem {
    pub fn of(error: Error) -> Problem {
        // The engine's reasons are the caller's own permissions (what /authcheck/explain
        // tells them); a not-found hides whether the object exists, so it has none.
        let reasons = if error.kind == Kind::Forbidden { error.reasons.clone() } else { vec![] };
        let status = error.status();
        let body = error.into_body();
        let message = if body.detail.is_empty() {
            body.message
        } else {
            format!("{} {}", body.message, body.detail)
        };
        Problem {
            status,
            message,
            fields: body.validations.into_iter().map(|v| (v.field, v.detail)).collect(),
            reasons,
        }
    }
}

/// The status a refused request answers with (the page itself shows the domain's message).
pub fn status_of(e: &atrium_domain::Error) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = status_of(&self.error);
        if status.is_server_error() {
            tracing::error!(error = %self.error, "dashboard page failed");
        }
        let reasons = if self.error.kind == Kind::Forbidden {
            self.error.reasons.clone()
        } else {
            Vec::new()
        };
        let body = self.error.into_body();
        let page = ErrorPage {
            chrome: self.chrome,
            message: body.message,
            detail: body.detail,
            fields: body.validations.into_iter().map(|v| (v.field, v.detail)).collect(),
            reasons,
        };
        (status, page).into_response()
    }
}

pub type PageResult<T = Response> = Result<T, PageError>;
