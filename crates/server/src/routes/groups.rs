//! Groups (coder-api.md §1.5). Each org has an implicit Everyone group whose id is the org id:
//! it holds every member, and cannot be renamed, edited or deleted.

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use atrium_api::Response as Message;
use atrium_api::orgs::{CreateGroupRequest, Group, PatchGroupRequest};
use atrium_domain::groups;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_org_groups, create_group))
        .routes(routes!(get_group_by_name))
        .routes(routes!(list_groups))
        .routes(routes!(get_group, patch_group, delete_group))
}

/// The org's groups the caller may read, Everyone first.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/groups", tag = "Enterprise",
    params(("organization" = String, Path)), responses((status = 200, body = Vec<Group>)))]
async fn list_org_groups(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &groups::list_in_org(&state, &actor, &param).await?))
}

/// Groups across orgs: `?organization=<id|name>&has_member=<id|username>`.
#[utoipa::path(get, path = "/api/v2/groups", tag = "Enterprise",
    params(("organization" = Option<String>, Query), ("has_member" = Option<String>, Query)),
    responses((status = 200, body = Vec<Group>)))]
async fn list_groups(
    State(state): State<Shared>,
    actor: Actor,
    params: QueryParams,
) -> ApiResult<Response> {
    let organization = params.single("organization")?;
    let has_member = params.single("has_member")?;
    let out = groups::list(&state, &actor, organization, has_member).await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// A group by org and name.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/groups/{groupName}", tag = "Enterprise",
    params(("organization" = String, Path), ("groupName" = String, Path)), responses((status = 200, body = Group)))]
async fn get_group_by_name(
    State(state): State<Shared>,
    actor: Actor,
    Path((org, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &groups::get_by_name(&state, &actor, &org, &name).await?))
}

/// A group by id.
#[utoipa::path(get, path = "/api/v2/groups/{group}", tag = "Enterprise",
    params(("group" = String, Path)), responses((status = 200, body = Group)))]
async fn get_group(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &groups::get(&state, &actor, &param).await?))
}

/// Creates a group in the org.
#[utoipa::path(post, path = "/api/v2/organizations/{organization}/groups", tag = "Enterprise",
    request_body = CreateGroupRequest, params(("organization" = String, Path)),
    responses((status = 201, body = Group), (status = 409, body = Message)))]
async fn create_group(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<CreateGroupRequest>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::CREATED, &groups::create(&state, &actor, &param, &req).await?))
}

/// Renames a group or adds and removes members (user ids; they must be org members).
#[utoipa::path(patch, path = "/api/v2/groups/{group}", tag = "Enterprise", request_body = PatchGroupRequest,
    params(("group" = String, Path)), responses((status = 200, body = Group), (status = 400, body = Message)))]
async fn patch_group(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<PatchGroupRequest>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &groups::patch(&state, &actor, &param, &req).await?))
}

/// Deletes a group (never Everyone).
#[utoipa::path(delete, path = "/api/v2/groups/{group}", tag = "Enterprise",
    params(("group" = String, Path)), responses((status = 200, body = Message)))]
async fn delete_group(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &groups::delete(&state, &actor, &param).await?))
}
