//! Site roles of a user and the assignable role list (coder-api.md §1.2, rbac.md §4).

use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::error::{ApiResult, json_response};
use crate::extract::Body;
use atrium_api::Response as Message;
use atrium_api::users::{AssignableRoles, UpdateRoles, UserRoles};
use atrium_domain::members::member_object;
#[allow(unused_imports)]
use atrium_domain::user_roles::*;
use atrium_domain::users::{guard_account, keep_an_owner, resolve_user, to_api};
use atrium_engine::account::{self, AccountAction};
use atrium_engine::assign::{Assignable, RoleScope, can_assign, check_role_change};
use atrium_engine::{Action, BuiltinRole, Object, ResourceType, RoleOptions};
use atrium_store::{DbTime, orgs, users};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(get_user_roles, put_user_roles))
        .routes(routes!(list_site_roles))
}

/// `{roles, organization_roles}` of a user; org roles only in orgs whose members the caller
/// may read.
#[utoipa::path(get, path = "/api/v2/users/{user}/roles", tag = "Members",
    params(("user" = String, Path)), responses((status = 200, body = UserRoles)))]
async fn get_user_roles(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let user = resolve_user(&state, &actor, &param).await?;
    let roles = users::get_site_roles(state.legacy_store(), user.id).await?;
    let memberships = orgs::list_memberships(state.legacy_store(), user.id).await?;
    let organization_roles: BTreeMap<uuid::Uuid, Vec<String>> = memberships
        .into_iter()
        .filter(|m| actor.can(Action::Read, &member_object(m.org_id, user.id)))
        .map(|m| (m.org_id.uuid(), m.roles))
        .collect();
    Ok(json_response(StatusCode::OK, &UserRoles { roles, organization_roles }))
}

/// Replaces a user's site roles (`member` is implicit).
#[utoipa::path(put, path = "/api/v2/users/{user}/roles", tag = "Members", request_body = UpdateRoles,
    params(("user" = String, Path)), responses((status = 200, body = atrium_api::users::User), (status = 400, body = Message)))]
async fn put_user_roles(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<UpdateRoles>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("write", "user").by(&actor);
    let result = async {
        let user = resolve_user(&state, &actor, &param).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        // The whole decision runs on the roles read under the owner-set lock, so a concurrent
        // promotion or demotion cannot slip past the owner rules.
        let mut tx = state.legacy_store().begin().await?;
        let (target, current) =
            guard_account(&mut tx, &actor, user.id, AccountAction::ChangeRoles).await?;
        let change =
            check_role_change(&actor.subject, RoleScope::Site, &current, &req.roles, |_| None)
                .map_err(assign_error)?;
        let removes_owner = change.removed.iter().any(|r| r == BuiltinRole::Owner.name());
        if account::removes_an_owner(target, AccountAction::ChangeRoles, removes_owner) {
            keep_an_owner(&mut tx, user.id, AccountAction::ChangeRoles).await?;
        }
        let mut new: Vec<String> = req.roles.iter().filter(|r| *r != "member").cloned().collect();
        new.sort();
        new.dedup();
        users::set_site_roles(
            &mut tx,
            user.id,
            &new.iter().map(String::as_str).collect::<Vec<_>>(),
            DbTime::now(),
        )
        .await?;
        entry.changed(&json!({"roles": current}), &json!({"roles": new}));
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::OK, &to_api(&state, &actor, &user).await?))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// Site roles with whether the caller may assign each (the static table, rbac.md §4.3).
#[utoipa::path(get, path = "/api/v2/users/roles", tag = "Members", responses((status = 200, body = Vec<AssignableRoles>)))]
async fn list_site_roles(actor: Actor) -> ApiResult<Response> {
    actor.require(Action::Read, &Object::of(ResourceType::AssignRole))?;
    let roles: Vec<AssignableRoles> = BuiltinRole::ALL
        .into_iter()
        .filter(|b| !b.is_org_role() && *b != BuiltinRole::Member && !b.display_name().is_empty())
        .filter_map(|b| b.expand(None, RoleOptions::default()).ok())
        .map(|role| AssignableRoles {
            assignable: role
                .builtin
                .is_some_and(|b| can_assign(actor.subject.roles(), Assignable::Builtin(b), None)),
            built_in: true,
            role: api_role(&role),
        })
        .collect();
    Ok(json_response(StatusCode::OK, &roles))
}
