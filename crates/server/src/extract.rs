//! Request extractors that fail in Coder's shape: JSON bodies and query strings.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body; anything undecodable (not JSON, wrong field type, too large) is a 400
/// `Request body must be valid JSON.` with the decoder's words as detail.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::invalid_json(e.body_text()))?;
        if has_escaped_nul(&bytes) {
            return Err(ApiError::bad_request("Request body must not contain the NUL character.")
                .detail("Strings must not contain \\u0000."));
        }
        serde_json::from_slice(&bytes).map(Body).map_err(|e| ApiError::invalid_json(e.to_string()))
    }
}

/// Whether a JSON text has a `\u0000` escape (a NUL in a string, which PostgreSQL cannot
/// store). A raw NUL byte is not valid JSON and fails decoding anyway. Backslashes only occur
/// inside strings, so a `u0000` preceded by an odd run of backslashes is the escape.
fn has_escaped_nul(json: &[u8]) -> bool {
    json.windows(5).enumerate().any(|(i, w)| {
        w == b"u0000" && json[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 1
    })
}

/// The query string as key → values, in order.
pub struct QueryParams(pub BTreeMap<String, Vec<String>>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for pair in parts.uri.query().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (decode(k), decode(v));
            if k.contains('\0') || v.contains('\0') {
                return Err(ApiError::bad_request("Query parameters have invalid values.")
                    .validation(k, "Query parameters must not contain the NUL character."));
            }
            map.entry(k).or_default().push(v);
        }
        Ok(QueryParams(map))
    }
}

/// Percent-decoding with `+` as space, as HTML forms and Go's `url.ParseQuery` do.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl QueryParams {
    /// A single value (empty = absent); repeated keys are an error, as Coder reports them.
    pub fn single(&self, key: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(key).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([one]) => Ok(Some(one.as_str()).filter(|v| !v.is_empty())),
            Some(many) => Err(ApiError::bad_request("Query parameters have invalid values.")
                .validation(
                    key,
                    format!(
                        "Query param \"{key}\" provided more than once, found {} times. Only provide 1 instance of this query param.",
                        many.len()
                    ),
                )),
        }
    }

    /// A non-negative 32-bit integer, as Coder's pagination reads `limit` and `offset`.
    pub fn pagination_int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        let Some(v) = self.single(key)? else { return Ok(None) };
        v.parse::<u32>().map(|n| Some(i64::from(n))).map_err(|e| {
            ApiError::bad_request("Query parameters have invalid values.").validation(
                key,
                format!("Query param \"{key}\" must be a valid 32-bit positive integer: {e}"),
            )
        })
    }

    /// A uuid, as Coder's query parser reads one.
    pub fn uuid(&self, key: &str) -> Result<Option<uuid::Uuid>, ApiError> {
        let Some(v) = self.single(key)? else { return Ok(None) };
        uuid::Uuid::parse_str(v).map(Some).map_err(|_| {
            ApiError::bad_request("Query parameters have invalid values.")
                .validation(key, format!("Query param \"{key}\" must be a valid uuid"))
        })
    }

    /// A boolean.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        let Some(v) = self.single(key)? else { return Ok(None) };
        match v {
            "true" | "1" | "t" | "TRUE" | "True" => Ok(Some(true)),
            "false" | "0" | "f" | "FALSE" | "False" => Ok(Some(false)),
            _ => Err(ApiError::bad_request("Query parameters have invalid values.").validation(
                key,
                format!("Query param \"{key}\" must be a valid boolean: invalid syntax"),
            )),
        }
    }
}

/// `limit` / `offset` / `after_id` paging (limit 0 = no limit and a zero `after_id` = none, as
/// Coder treats them).
#[derive(Clone, Copy, Debug, Default)]
pub struct Page {
    pub limit: Option<i64>,
    pub offset: i64,
    /// The id of the previous page's last row.
    pub after_id: Option<uuid::Uuid>,
}

impl Page {
    pub fn from_query(q: &QueryParams) -> Result<Self, ApiError> {
        Ok(Page {
            limit: q.pagination_int("limit")?.filter(|l| *l > 0),
            offset: q.pagination_int("offset")?.unwrap_or(0),
            after_id: q.uuid("after_id")?.filter(|u| !u.is_nil()),
        })
    }

    /// The domain's `limit` / `offset`.
    pub fn limits(&self) -> atrium_domain::Page {
        atrium_domain::Page { limit: self.limit, offset: self.offset }
    }
}

#[cfg(test)]
mod tests {
    use super::{decode, has_escaped_nul};

    #[test]
    fn finds_escaped_nul() {
        assert!(has_escaped_nul(br#"{"email":"a\u0000b"}"#));
        assert!(has_escaped_nul(br#"{"a\u0000":1}"#));
        assert!(has_escaped_nul(br#"["\\\u0000"]"#));
        // An escaped backslash followed by the text `u0000` is not a NUL.
        assert!(!has_escaped_nul(br#"{"path":"C:\\u0000"}"#));
        assert!(!has_escaped_nul(br#"{"n":"u0000"}"#));
        assert!(!has_escaped_nul(b"{}"));
    }

    #[test]
    fn decodes_queries() {
        assert_eq!(decode("status%3Aactive+role%3Aowner"), "status:active role:owner");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%e2%9c%93"), "✓");
    }
}
