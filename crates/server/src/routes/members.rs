//! Organization members and their org roles (coder-api.md §1.3, rbac.md §4.2).

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use atrium_api::Response as Message;
use atrium_api::orgs::{
    OrganizationMember, OrganizationMemberWithUserData, PaginatedMembersResponse,
};
use atrium_api::users::UpdateRoles;
use atrium_domain::{Page, members};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_members))
        .routes(routes!(paginated_members))
        .routes(routes!(get_member, add_member, remove_member))
        .routes(routes!(update_member_roles))
}

/// Members of an organization the caller may read.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/members", tag = "Members",
    params(("organization" = String, Path)), responses((status = 200, body = Vec<OrganizationMemberWithUserData>)))]
async fn list_members(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &members::list(&state, &actor, &param).await?))
}

/// A page of members with the total count.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/paginated-members", tag = "Members",
    params(("organization" = String, Path), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = PaginatedMembersResponse)))]
async fn paginated_members(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let page = crate::extract::Page::from_query(&params)?;
    let page = Page { limit: page.limit, offset: page.offset };
    Ok(json_response(StatusCode::OK, &members::paginated(&state, &actor, &param, page).await?))
}

/// One member.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/members/{user}", tag = "Members",
    params(("organization" = String, Path), ("user" = String, Path)), responses((status = 200, body = OrganizationMemberWithUserData)))]
async fn get_member(
    State(state): State<Shared>,
    actor: Actor,
    Path((org, user)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &members::get(&state, &actor, &org, &user).await?))
}

/// Adds a user to an organization (also adds them to its Everyone group, which is implicit).
#[utoipa::path(post, path = "/api/v2/organizations/{organization}/members/{user}", tag = "Members",
    params(("organization" = String, Path), ("user" = String, Path)),
    responses((status = 200, body = OrganizationMember), (status = 400, body = Message)))]
async fn add_member(
    State(state): State<Shared>,
    actor: Actor,
    Path((org, user)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &members::add(&state, &actor, &org, &user).await?))
}

/// Removes a member (their org roles go with the membership).
#[utoipa::path(delete, path = "/api/v2/organizations/{organization}/members/{user}", tag = "Members",
    params(("organization" = String, Path), ("user" = String, Path)), responses((status = 204)))]
async fn remove_member(
    State(state): State<Shared>,
    actor: Actor,
    Path((org, user)): Path<(String, String)>,
) -> ApiResult<Response> {
    members::remove(&state, &actor, &org, &user).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Replaces a member's org roles (`organization-member` is implicit).
#[utoipa::path(put, path = "/api/v2/organizations/{organization}/members/{user}/roles", tag = "Members",
    request_body = UpdateRoles, params(("organization" = String, Path), ("user" = String, Path)),
    responses((status = 200, body = OrganizationMember), (status = 400, body = Message)))]
async fn update_member_roles(
    State(state): State<Shared>,
    actor: Actor,
    Path((org, user)): Path<(String, String)>,
    Body(req): Body<UpdateRoles>,
) -> ApiResult<Response> {
    let member = members::update_roles(&state, &actor, &org, &user, &req).await?;
    Ok(json_response(StatusCode::OK, &member))
}
