//! TRANSITIONAL(issue 15): audit helpers for route modules not yet moved into the domain.

pub use atrium_domain::audit::{Entry, diff, write};

use crate::Shared;
use crate::actor::RequestMeta;
use crate::error::ApiResult;

/// Audits a refused or failed request (its own write), then passes the result through.
pub async fn finish<T>(
    state: &Shared,
    meta: &RequestMeta,
    entry: &Entry,
    result: ApiResult<T>,
) -> ApiResult<T> {
    if let Err(e) = &result {
        atrium_domain::audit::refused(&state.domain, meta, entry, &e.0).await;
    }
    result
}
