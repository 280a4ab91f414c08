//! `GET /audit`: rows filtered by `read` on `audit_log` like any list (coder-api.md §1.8).

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use crate::extract::QueryParams;
use atrium_api::users::AuditLogResponse;
use atrium_domain::{Page, audit_log};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(list_audit_logs))
}

/// Audit rows the caller may read, newest first.
#[utoipa::path(get, path = "/api/v2/audit", tag = "Audit",
    params(("q" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = AuditLogResponse), (status = 403, body = atrium_api::Response)))]
async fn list_audit_logs(
    State(state): State<Shared>,
    actor: Actor,
    params: QueryParams,
) -> ApiResult<Response> {
    let q = params.single("q")?.unwrap_or_default();
    let page = crate::extract::Page::from_query(&params)?;
    let page = Page { limit: page.limit, offset: page.offset };
    let out = audit_log::list(&state, &actor, q, page).await?;
    Ok(json_response(StatusCode::OK, &out))
}
