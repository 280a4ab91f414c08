//! Organization members and their org roles (coder-api.md §1.3, rbac.md §4.2).

use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use atrium_api::Response as Message;
use atrium_api::orgs::{
    OrganizationMember, OrganizationMemberWithUserData, PaginatedMembersResponse,
};
use atrium_api::users::UpdateRoles;
#[allow(unused_imports)]
use atrium_domain::members::*;
use atrium_domain::orgs::resolve_org;
use atrium_domain::user_roles::assign_error;
use atrium_domain::users::resolve_user;
use atrium_engine::assign::{Assignable, RoleScope, can_assign, check_role_change};
use atrium_engine::{Action, BuiltinRole, Object, ResourceType};
use atrium_store::lists::Page;
use atrium_store::{DbTime, StoreError, orgs, roles};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
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
    let (members, _) = listed(&state, &actor, &param, Page::default()).await?;
    Ok(json_response(StatusCode::OK, &members))
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
    let (members, count) =
        listed(&state, &actor, &param, Page { limit: page.limit, offset: page.offset }).await?;
    Ok(json_response(StatusCode::OK, &PaginatedMembersResponse { members, count }))
}

/// One member.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/members/{user}", tag = "Members",
    params(("organization" = String, Path), ("user" = String, Path)), responses((status = 200, body = OrganizationMemberWithUserData)))]
async fn get_member(
    State(state): State<Shared>,
    actor: Actor,
    Path((org, user)): Path<(String, String)>,
) -> ApiResult<Response> {
    let org = resolve_org(&state, &actor, &org).await?;
    let (_, m) = resolve_member(&state, &actor, org.id, &user).await?;
    Ok(json_response(StatusCode::OK, &with_user_data(&state, &m).await?))
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
    let mut entry = Entry::new("create", "organization_member").by(&actor);
    let result = async {
        let org = resolve_org(&state, &actor, &org).await?;
        entry.org = Some(org.id);
        let user = resolve_user(&state, &actor, &user).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        actor.require(Action::Create, &member_object(org.id, user.id))?;
        // Joining hands out the implied organization-member role, so the actor must be able to
        // assign it (Coder's member insert runs the role-assignment check).
        let assign = Object::of(ResourceType::AssignOrgRole).in_org(org.id.uuid());
        if !actor.can(Action::Assign, &assign)
            || !can_assign(
                actor.subject.roles(),
                Assignable::Builtin(BuiltinRole::OrganizationMember),
                Some(org.id.uuid()),
            )
        {
            return Err(ApiError::forbidden());
        }
        let mut tx = state.legacy_store().begin().await?;
        let m = orgs::add_member(&mut tx, org.id, user.id, DbTime::now()).await.map_err(
            |e| match e {
                StoreError::Conflict { .. } => {
                    ApiError::bad_request("Organization member already exists in this organization")
                }
                e => e.into(),
            },
        )?;
        entry.changed(&json!({}), &json!({"user_id": user.id, "organization_id": org.id}));
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::OK, &api_member(&state, &m, &[]).await?))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// Removes a member (their org roles go with the membership).
#[utoipa::path(delete, path = "/api/v2/organizations/{organization}/members/{user}", tag = "Members",
    params(("organization" = String, Path), ("user" = String, Path)), responses((status = 204)))]
async fn remove_member(
    State(state): State<Shared>,
    actor: Actor,
    Path((org, user)): Path<(String, String)>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("delete", "organization_member").by(&actor);
    let result = async {
        let org = resolve_org(&state, &actor, &org).await?;
        entry.org = Some(org.id);
        let (user, _) = resolve_member(&state, &actor, org.id, &user).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        actor.require(Action::Delete, &member_object(org.id, user.id))?;
        let mut tx = state.legacy_store().begin().await?;
        orgs::remove_member(&mut tx, org.id, user.id).await.map_err(|e| match e {
            StoreError::NotFound { .. } => ApiError::not_found(),
            e => e.into(),
        })?;
        entry.changed(&json!({"user_id": user.id, "organization_id": org.id}), &json!({}));
        audit::write(&mut tx, &actor.meta, &entry, 204).await?;
        tx.commit().await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
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
    let mut entry = Entry::new("write", "organization_member").by(&actor);
    let result = async {
        let org = resolve_org(&state, &actor, &org).await?;
        entry.org = Some(org.id);
        let (user, m) = resolve_member(&state, &actor, org.id, &user).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        if user.id == actor.id() {
            return Err(ApiError::bad_request("You cannot change your own organization roles.")
                .detail("Another user with the appropriate permissions must change your roles."));
        }
        let current = orgs::get_member_roles(state.legacy_store(), org.id, user.id).await?;
        let custom = roles::list(state.legacy_store(), org.id).await?;
        let change = check_role_change(
            &actor.subject,
            RoleScope::Org(org.id.uuid()),
            &current,
            &req.roles,
            |name| {
                custom.iter().find(|c| c.name.eq_ignore_ascii_case(name)).map(|c| c.name.clone())
            },
        )
        .map_err(assign_error)?;
        let mut new: Vec<String> =
            current.iter().filter(|r| !change.removed.contains(r)).cloned().collect();
        new.extend(change.added.iter().cloned());
        new.sort();
        new.dedup();
        let mut tx = state.legacy_store().begin().await?;
        let names: Vec<&str> = new.iter().map(String::as_str).collect();
        orgs::set_member_roles(&mut tx, org.id, user.id, &names, DbTime::now()).await?;
        entry.changed(&json!({"roles": current}), &json!({"roles": new}));
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::OK, &api_member(&state, &m, &new).await?))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}
