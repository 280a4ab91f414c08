//! An organization's roles: the built-ins with `assignable`, and custom roles — create, update,
//! delete — validated by the engine in Coder's order (rbac.md §4.3, §5). Custom roles are free
//! in Atrium; unknown type/action pairs are refused on update as on create.

use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::Body;
use crate::validate;
use atrium_api::Response as Message;
use atrium_api::users::{AssignableRoles, Role as ApiRole};
#[allow(unused_imports)]
use atrium_domain::org_roles::*;
use atrium_domain::orgs::resolve_org;
use atrium_domain::user_roles::api_role;
use atrium_engine::assign::{Assignable, can_assign};
use atrium_engine::custom_role::CustomRoleRequest;
use atrium_engine::{Action, BuiltinRole, RoleOptions};
use atrium_store::{CustomRoleId, DbTime, StoreError, roles};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_org_roles, create_role, update_role))
        .routes(routes!(delete_role))
}

/// Built-in org roles (those with a display name) and the org's custom roles, each with
/// whether the caller may assign it.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/members/roles", tag = "Members",
    params(("organization" = String, Path)), responses((status = 200, body = Vec<AssignableRoles>)))]
async fn list_org_roles(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let org = resolve_org(&state, &actor, &param).await?;
    actor.require_or_404(Action::Read, &roles_object(org.id))?;
    let held = actor.subject.roles();
    let mut out: Vec<AssignableRoles> = BuiltinRole::ALL
        .into_iter()
        .filter(|b| b.is_org_role() && !b.display_name().is_empty())
        .filter_map(|b| b.expand(Some(org.id.uuid()), RoleOptions::default()).ok())
        .map(|role| AssignableRoles {
            assignable: role
                .builtin
                .is_some_and(|b| can_assign(held, Assignable::Builtin(b), Some(org.id.uuid()))),
            built_in: true,
            role: api_role(&role),
        })
        .collect();
    for custom in roles::list(state.legacy_store(), org.id).await? {
        out.push(AssignableRoles {
            assignable: can_assign(held, Assignable::CustomOrg, Some(org.id.uuid())),
            built_in: false,
            role: custom_api_role(&custom),
        });
    }
    Ok(json_response(StatusCode::OK, &out))
}

async fn save_role(
    state: Shared,
    actor: Actor,
    param: String,
    req: CustomRoleRequest,
    create: bool,
) -> ApiResult<Response> {
    let mut entry = Entry::new(if create { "create" } else { "write" }, "custom_role").by(&actor);
    entry.resource_target = req.name.clone();
    let result = async {
        let org = resolve_org(&state, &actor, &param).await?;
        entry.org = Some(org.id);
        let action = if create { Action::Create } else { Action::Update };
        validate::display_name("display_name", &req.display_name)?;
        let perms = validated(&actor, org.id, &req, action).await?;
        let def = roles::RoleDefinition {
            display_name: &req.display_name,
            site_permissions: &[],
            org_permissions: &perms,
            user_permissions: &[],
        };
        let now = DbTime::now();
        let mut tx = state.legacy_store().begin().await?;
        let (old, role) = if create {
            let role = roles::insert(&mut tx, CustomRoleId::new_v4(), org.id, &req.name, &def, now)
                .await
                .map_err(|e| match e {
                    StoreError::Conflict { constraint } => failed(format!(
                        "a custom role named \"{}\" already exists ({constraint})",
                        req.name
                    )),
                    e => e.into(),
                })?;
            (json!({}), role)
        } else {
            let old = match roles::get(&mut tx, org.id, &req.name).await {
                Ok(r) => r,
                Err(StoreError::NotFound { .. }) => return Err(ApiError::not_found()),
                Err(e) => return Err(e.into()),
            };
            let role = roles::update(&mut tx, org.id, &old.name, &def, now).await?;
            (json!(custom_api_role(&old)), role)
        };
        entry.resource(role.id.uuid(), role.name.clone());
        entry.changed(&old, &json!(custom_api_role(&role)));
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::OK, &custom_api_role(&role)))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// Creates a custom role in the organization.
#[utoipa::path(post, path = "/api/v2/organizations/{organization}/members/roles", tag = "Members",
    params(("organization" = String, Path)), responses((status = 200, body = ApiRole), (status = 400, body = Message)))]
async fn create_role(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<CustomRoleRequest>,
) -> ApiResult<Response> {
    save_role(state, actor, param, req, true).await
}

/// Replaces a custom role's display name and permissions.
#[utoipa::path(put, path = "/api/v2/organizations/{organization}/members/roles", tag = "Members",
    params(("organization" = String, Path)), responses((status = 200, body = ApiRole), (status = 400, body = Message)))]
async fn update_role(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<CustomRoleRequest>,
) -> ApiResult<Response> {
    save_role(state, actor, param, req, false).await
}

/// Deletes a custom role (members keep the name, which then grants nothing).
#[utoipa::path(delete, path = "/api/v2/organizations/{organization}/members/roles/{roleName}", tag = "Members",
    params(("organization" = String, Path), ("roleName" = String, Path)), responses((status = 204), (status = 404, body = Message)))]
async fn delete_role(
    State(state): State<Shared>,
    actor: Actor,
    Path((param, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("delete", "custom_role").by(&actor);
    entry.resource_target = name.clone();
    let result = async {
        let org = resolve_org(&state, &actor, &param).await?;
        entry.org = Some(org.id);
        actor.require(Action::Delete, &roles_object(org.id))?;
        let not_found = || {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("No custom role with the name {name} found"),
            )
            .detail("no role found")
        };
        let mut tx = state.legacy_store().begin().await?;
        let old = match roles::get(&mut tx, org.id, &name).await {
            Ok(r) => r,
            Err(StoreError::NotFound { .. }) => return Err(not_found()),
            Err(e) => return Err(e.into()),
        };
        roles::delete(&mut tx, org.id, &old.name).await?;
        entry.resource(old.id.uuid(), old.name.clone());
        entry.changed(&json!(custom_api_role(&old)), &json!({}));
        audit::write(&mut tx, &actor.meta, &entry, 204).await?;
        tx.commit().await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}
