//! The dashboard's static files, embedded in the binary (no CDN, nothing read from disk).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::WebState;

/// htmx 2.0.11, copied once from the npm package `htmx.org` (BSD-2-Clause).
const HTMX: &[u8] = include_bytes!("../assets/htmx.min.js");
const SCRIPT: &[u8] = include_bytes!("../assets/atrium.js");
const STYLE: &[u8] = include_bytes!("../assets/atrium.css");

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/assets/htmx.min.js", get(|| async { asset("text/javascript", HTMX) }))
        .route("/assets/atrium.js", get(|| async { asset("text/javascript", SCRIPT) }))
        .route("/assets/atrium.css", get(|| async { asset("text/css", STYLE) }))
}

fn asset(content_type: &'static str, body: &'static [u8]) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body)
}
