//! The client commands' one error type, and how it reaches the user: plain sentences on
//! standard error, the server's message, detail and validations, never Rust debug text.

use std::fmt;

use atrium_api::Response as ApiBody;

/// Why a client command failed.
#[derive(Debug)]
pub enum CliError {
    /// The server answered with an error status and Coder's `{message, detail, validations}`.
    Api { method: String, path: String, status: u16, body: ApiBody },
    /// Nothing listens at the URL, DNS failed, TLS failed, or the connection dropped.
    Connect { url: String, cause: String },
    /// The server answered, but not with what a Coder-compatible server sends.
    Protocol { url: String, cause: String },
    /// No session: neither a flag, `ATRIUM_SESSION_TOKEN`, nor a saved login.
    NotLoggedIn,
    /// A question could not be asked (standard input is not a terminal): names the flag.
    NeedsFlag { question: String, flag: String },
    /// The user answered no to a confirmation.
    Canceled,
    /// Anything else, already worded for the user.
    Message(String),
}

pub type CliResult<T> = Result<T, CliError>;

impl CliError {
    pub fn msg(message: impl Into<String>) -> Self {
        CliError::Message(message.into())
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            CliError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Api { method, path, status, body } => {
                let message = if body.message.is_empty() {
                    "the server gave no reason"
                } else {
                    &body.message
                };
                write!(f, "{message}")?;
                if !body.detail.is_empty() {
                    write!(f, "\n  {}", body.detail)?;
                }
                for v in &body.validations {
                    write!(f, "\n  - {}: {}", v.field, v.detail)?;
                }
                write!(f, "\n  ({method} {path} answered {status})")?;
                if *status == 401 {
                    write!(
                        f,
                        "\n  run `atrium login URL` to sign in again, or set ATRIUM_SESSION_TOKEN"
                    )?;
                }
                Ok(())
            }
            CliError::Connect { url, cause } => write!(
                f,
                "cannot reach the Atrium server at {url}: {cause}\n  is the server running? \
                 Check --url or ATRIUM_URL"
            ),
            CliError::Protocol { url, cause } => {
                write!(f, "unexpected answer from {url}: {cause}")
            }
            CliError::NotLoggedIn => write!(
                f,
                "you are not logged in: run `atrium login URL`, or set ATRIUM_URL and \
                 ATRIUM_SESSION_TOKEN"
            ),
            CliError::NeedsFlag { question, flag } => write!(
                f,
                "cannot ask \"{question}\": standard input is not a terminal; pass {flag}"
            ),
            CliError::Canceled => write!(f, "canceled"),
            CliError::Message(m) => write!(f, "{m}"),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Message(e.to_string())
    }
}

/// The innermost cause of an error chain, which is what a person needs ("Connection
/// refused"), not the wrapper's text.
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    let text = current.to_string();
    // Strip `(os error 111)`-style suffixes: the words are enough.
    match text.find(" (os error") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}
