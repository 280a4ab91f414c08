//! A browser-like client for the dashboard's own tests (every page's module): the
//! session as the `coder_session_token` cookie, same-site form posts, redirects not followed.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN};

use crate::common::*;

#[derive(Clone)]
pub struct Web {
    base: String,
    http: reqwest::Client,
    cookie: String,
    /// The `Origin` its posts carry: the server's own unless [`Web::posting_from`] changed it.
    origin: String,
}

/// A response: status, `Location` and body.
pub struct Answer {
    pub status: StatusCode,
    pub location: String,
    pub body: String,
}

impl Web {
    /// The dashboard as the signed-in client `c` sees it.
    pub fn of(s: &TestServer, c: &Client) -> Web {
        Web::with_token(s, c.token.as_deref().expect("a signed-in client"))
    }

    /// The dashboard with `token` as the session cookie (empty: a cookie naming no session).
    pub fn with_token(s: &TestServer, token: &str) -> Web {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Web {
            base: s.url.clone(),
            http,
            cookie: format!("coder_session_token={token}"),
            origin: s.url.clone(),
        }
    }

    /// The same session, posting from another site.
    pub fn posting_from(mut self, origin: &str) -> Web {
        self.origin = origin.to_owned();
        self
    }

    async fn answer(r: reqwest::Response) -> Answer {
        let location =
            r.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        Answer { status: r.status(), location, body: r.text().await.expect("body") }
    }

    pub async fn get(&self, path: &str) -> Answer {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .expect("sent");
        Self::answer(r).await
    }

    /// A form post of `fields`, url-encoded.
    pub async fn post_fields(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let form: Vec<String> =
            fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
        self.post(path, &form.join("&")).await
    }

    /// A form post (`form` already url-encoded).
    pub async fn post(&self, path: &str, form: &str) -> Answer {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .header(ORIGIN, &self.origin)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .expect("sent");
        Self::answer(r).await
    }

    /// A `multipart/form-data` post: text fields, then one file field.
    pub async fn post_file(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, Vec<u8>),
    ) -> Answer {
        let boundary = "atrium-test-boundary-7d1f";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        let (name, filename, data) = file;
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&data);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .header(ORIGIN, &self.origin)
            .header(CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .expect("sent");
        Self::answer(r).await
    }
}

/// Percent-encodes a form value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
