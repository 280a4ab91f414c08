//! A small typed HTTP client for Atrium's `/api/v2`, speaking like Coder's `codersdk`: the
//! `Coder-Session-Token` header, JSON bodies, and Coder's error body on every failure.

use std::time::Duration;

use atrium_api::Response as ApiBody;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{CliError, CliResult, root_cause};

/// The header Coder clients send the session token in.
pub const SESSION_HEADER: &str = "Coder-Session-Token";

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// The deployment URL, without a trailing slash.
    pub url: String,
    pub token: Option<String>,
}

/// A successful answer's body, unparsed.
pub struct Reply {
    pub bytes: Vec<u8>,
}

impl Client {
    pub fn new(url: &str, token: Option<String>) -> CliResult<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("atrium-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| {
                CliError::msg(format!("cannot set up the HTTP client: {}", root_cause(&e)))
            })?;
        Ok(Client { http, url: url.trim_end_matches('/').to_owned(), token })
    }

    /// Sends a request; any status outside 2xx becomes [`CliError::Api`].
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Body<'_>>,
    ) -> CliResult<Reply> {
        let url = format!("{}{path}", self.url);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(token) = &self.token {
            request = request.header(SESSION_HEADER, token);
        }
        request = match body {
            Some(Body::Json(v)) => request.json(v),
            Some(Body::Tar(bytes)) => {
                request.header(reqwest::header::CONTENT_TYPE, "application/x-tar").body(bytes)
            }
            None => request,
        };
        let response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.transport_error(&e))?.to_vec();
        if status.is_success() {
            return Ok(Reply { bytes });
        }
        Err(api_error(&method, path, status, &bytes))
    }

    fn transport_error(&self, e: &reqwest::Error) -> CliError {
        let cause = root_cause(e);
        if e.is_connect() || e.is_timeout() || e.is_request() {
            CliError::Connect { url: self.url.clone(), cause }
        } else {
            CliError::Protocol { url: self.url.clone(), cause }
        }
    }

    fn decode<T: DeserializeOwned>(&self, path: &str, reply: &Reply) -> CliResult<T> {
        serde_json::from_slice(&reply.bytes).map_err(|e| CliError::Protocol {
            url: format!("{}{path}", self.url),
            cause: format!("the body is not what Atrium sends ({e})"),
        })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> CliResult<T> {
        let reply = self.send(Method::GET, path, None).await?;
        self.decode(path, &reply)
    }

    /// Sends a JSON body and decodes a JSON answer.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &impl Serialize,
    ) -> CliResult<T> {
        let value = serde_json::to_value(body)
            .map_err(|e| CliError::msg(format!("cannot encode the request: {e}")))?;
        let reply = self.send(method, path, Some(Body::Json(&value))).await?;
        self.decode(path, &reply)
    }

    /// A request without a body whose answer (if any) is JSON.
    pub async fn call<T: DeserializeOwned>(&self, method: Method, path: &str) -> CliResult<T> {
        let reply = self.send(method, path, None).await?;
        if reply.bytes.is_empty() {
            return serde_json::from_value(serde_json::Value::Null).map_err(|e| {
                CliError::Protocol { url: format!("{}{path}", self.url), cause: e.to_string() }
            });
        }
        self.decode(path, &reply)
    }

    /// Whether a GET answers 404 (`Ok(None)`) or a value.
    pub async fn get_optional<T: DeserializeOwned>(&self, path: &str) -> CliResult<Option<T>> {
        match self.get(path).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// An error answer as [`CliError::Api`]: Coder's error body, or the body's text when it is not
/// one.
pub(crate) fn api_error(
    method: &Method,
    path: &str,
    status: reqwest::StatusCode,
    bytes: &[u8],
) -> CliError {
    let body = serde_json::from_slice::<ApiBody>(bytes).unwrap_or_else(|_| {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim();
        ApiBody::message(if text.is_empty() {
            status.canonical_reason().unwrap_or("request failed").to_owned()
        } else {
            text.chars().take(500).collect()
        })
    });
    CliError::Api {
        method: method.to_string(),
        path: path.to_owned(),
        status: status.as_u16(),
        body,
    }
}

/// A request body.
pub enum Body<'a> {
    Json(&'a serde_json::Value),
    Tar(Vec<u8>),
}

/// Percent-encodes one path segment or query value (names are usually plain, but `q` is not).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn encodes_queries() {
        assert_eq!(encode("status:active alice"), "status%3Aactive%20alice");
        assert_eq!(encode("a-b_c.d~"), "a-b_c.d~");
        assert_eq!(encode("é"), "%C3%A9");
    }
}
