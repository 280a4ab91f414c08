//! `GET /audit`: rows filtered by `read` on `audit_log` like any list (coder-api.md §1.8).

use crate::Shared;
use crate::actor::Actor;
use crate::convert::time;
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::QueryParams;
use atrium_api::users::{AuditDiffField, AuditLog, AuditLogResponse, MinimalOrganization};
#[allow(unused_imports)]
use atrium_domain::audit_log::*;
use atrium_domain::orgs::org_object;
use atrium_domain::users::to_api;
use atrium_engine::query::AuditQuery;
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::lists::{self, AuditFilter, Page};
use atrium_store::{OrgId, StoreError, orgs, users};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::BTreeMap;
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
    // Holders of `read` site-wide or in any org get in; the rows are then filtered.
    actor.require(Action::Read, &Object::of(ResourceType::AuditLog).any_organization())?;
    let q = params.single("q")?.unwrap_or_default();
    let query = AuditQuery::parse(q)
        .map_err(|errors| ApiError::invalid_query("Invalid audit search query.", errors))?;
    let organization_id = match &query.organization {
        None => None,
        Some(o) => {
            let found = orgs::get_by_id_or_name(state.legacy_store(), o).await;
            match found {
                // An org the caller may not read is answered like a missing one.
                Ok(org) if actor.can(Action::Read, &org_object(org.id)) => Some(org.id.to_string()),
                Ok(_) | Err(StoreError::NotFound { .. }) => {
                    return Err(ApiError::bad_request("Invalid audit search query.").validation(
                        "organization",
                        format!("organization \"{o}\" either does not exist, or you are unauthorized to view it"),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let page = crate::extract::Page::from_query(&params)?;
    let filter = actor.subject.list_filter(Action::Read, ResourceType::AuditLog);
    let listed = lists::audit_logs(
        state.legacy_store(),
        &AuditFilter { query, organization_id },
        &filter,
        Page { limit: page.limit, offset: page.offset },
    )
    .await?;
    let mut out = Vec::with_capacity(listed.rows.len());
    for row in listed.rows {
        let user = match row.user_id {
            Some(id) => match users::get(state.legacy_store(), id).await {
                Ok(u) if actor.can(Action::Read, &atrium_domain::Caller::user_object(u.id)) => {
                    Some(to_api(&state, &actor, &u).await?)
                }
                Ok(u) => Some(minimal_user(&u)),
                Err(StoreError::NotFound { .. }) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let organization = match row.organization_id {
            Some(id) => {
                orgs::get(state.legacy_store(), id).await.ok().map(|o| MinimalOrganization {
                    id: o.id.uuid(),
                    name: o.name,
                    display_name: o.display_name,
                    icon: o.icon,
                })
            }
            None => None,
        };
        let diff: BTreeMap<String, AuditDiffField> =
            serde_json::from_value(row.diff.0).unwrap_or_default();
        out.push(AuditLog {
            id: row.id.uuid(),
            request_id: row.request_id.parse().unwrap_or_default(),
            time: time(row.time),
            ip: row.ip,
            user_agent: row.user_agent,
            resource_type: row.resource_type,
            resource_id: row.resource_id.uuid(),
            resource_target: row.resource_target,
            resource_icon: String::new(),
            action: row.action,
            diff,
            status_code: row.status_code,
            additional_fields: row.additional_fields.0,
            description: String::new(),
            resource_link: String::new(),
            is_deleted: false,
            organization_id: row.organization_id.map(OrgId::uuid),
            organization,
            user,
        });
    }
    Ok(json_response(StatusCode::OK, &AuditLogResponse { audit_logs: out, count: listed.count }))
}
