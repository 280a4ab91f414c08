//! Groups (coder-api.md §1.5). Each org has an implicit Everyone group whose id is the org id:
//! it holds every member, and cannot be renamed, edited or deleted.

use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use crate::validate;
use atrium_api::Response as Message;
use atrium_api::orgs::{CreateGroupRequest, Group, PatchGroupRequest};
#[allow(unused_imports)]
use atrium_domain::groups::*;
use atrium_domain::orgs::resolve_org;
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::lists;
use atrium_store::{DbTime, GroupId, GroupSource, StoreError, groups, orgs, users};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
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
    let org = resolve_org(&state, &actor, &param).await?;
    let mut out = Vec::new();
    for g in readable_groups(&state, &actor, org).await? {
        out.push(api_group(&state, &actor, &g).await?);
    }
    Ok(json_response(StatusCode::OK, &out))
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
    let invalid = |field: &str, detail: String| {
        ApiError::bad_request("Query parameters have invalid values.").validation(field, detail)
    };
    let orgs_to_list = match params.single("organization")? {
        Some(o) => vec![resolve_org(&state, &actor, o).await.map_err(|_| {
            invalid(
                "organization",
                format!(
                    "Query param \"organization\" has invalid value: organization \"{o}\" not found"
                ),
            )
        })?],
        None => {
            let filter = actor.subject.list_filter(Action::Read, ResourceType::Organization);
            lists::organizations(state.legacy_store(), &filter).await?
        }
    };
    let member = match params.single("has_member")? {
        None => None,
        Some(m) => {
            // A user the caller may not read is answered like a missing one.
            let found =
                users::get_by_id_or_username(state.legacy_store(), m).await.ok().filter(|u| {
                    !u.deleted && actor.can(Action::Read, &atrium_domain::Caller::user_object(u.id))
                });
            Some(found.ok_or_else(|| invalid("has_member", format!("Query param \"has_member\" has invalid value: user \"{m}\" not found")))?.id)
        }
    };
    let mut out = Vec::new();
    for org in orgs_to_list {
        for g in readable_groups(&state, &actor, org).await? {
            if let Some(user) = member
                && !member_ids(&state, g.org.id, g.row.as_ref()).await?.contains(&user)
            {
                continue;
            }
            out.push(api_group(&state, &actor, &g).await?);
        }
    }
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
    let org = resolve_org(&state, &actor, &org).await?;
    let id = if name == EVERYONE {
        GroupId::everyone(org.id)
    } else {
        match groups::get_by_name(state.legacy_store(), org.id, &name).await {
            Ok(g) => g.id,
            Err(StoreError::NotFound { .. }) => return Err(ApiError::not_found()),
            Err(e) => return Err(e.into()),
        }
    };
    let g = resolve_group(&state, &actor, &id.to_string()).await?;
    Ok(json_response(StatusCode::OK, &api_group(&state, &actor, &g).await?))
}

/// A group by id.
#[utoipa::path(get, path = "/api/v2/groups/{group}", tag = "Enterprise",
    params(("group" = String, Path)), responses((status = 200, body = Group)))]
async fn get_group(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let g = resolve_group(&state, &actor, &param).await?;
    Ok(json_response(StatusCode::OK, &api_group(&state, &actor, &g).await?))
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
    let mut entry = Entry::new("create", "group").by(&actor);
    entry.resource_target = req.name.clone();
    let result = async {
        let org = resolve_org(&state, &actor, &param).await?;
        entry.org = Some(org.id);
        actor.require(Action::Create, &Object::of(ResourceType::Group).in_org(org.id.uuid()))?;
        check_group_name(&req.name)?;
        validate::display_name("display_name", &req.display_name)?;
        validate::icon_url("avatar_url", &req.avatar_url)?;
        let quota = i32::try_from(req.quota_allowance).map_err(|_| {
            ApiError::bad_request("Validation failed.")
                .validation("quota_allowance", "out of range")
        })?;
        let mut tx = state.legacy_store().begin().await?;
        let row = groups::insert(
            &mut tx,
            &groups::NewGroup {
                id: GroupId::new_v4(),
                org_id: org.id,
                name: &req.name,
                display_name: &req.display_name,
                avatar_url: &req.avatar_url,
                quota_allowance: quota,
                source: GroupSource::User,
                created_at: DbTime::now(),
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => {
                ApiError::conflict(format!("A group named \"{}\" already exists.", req.name))
                    .validation("name", "Group names must be unique")
            }
            e => e.into(),
        })?;
        entry.resource(row.id.uuid(), row.name.clone());
        entry.changed(&json!({}), &json!({"name": row.name, "display_name": row.display_name}));
        audit::write(&mut tx, &actor.meta, &entry, 201).await?;
        tx.commit().await?;
        let g = Resolved { id: row.id, org, row: Some(row) };
        Ok(json_response(StatusCode::CREATED, &api_group(&state, &actor, &g).await?))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
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
    let mut entry = Entry::new("write", "group").by(&actor);
    let result = async {
        let g = resolve_group(&state, &actor, &param).await?;
        entry.resource(g.id.uuid(), g.name().to_owned());
        entry.org = Some(g.org.id);
        if !with_group_object(g.id, g.org.id, |o| actor.can(Action::Update, o)) {
            return Err(ApiError::forbidden());
        }
        let Some(row) = &g.row else {
            if !req.add_users.is_empty() || !req.remove_users.is_empty() {
                return Err(ApiError::forbidden_with("Cannot add or remove users from the \"Everyone\" group!"));
            }
            if !req.name.is_empty() && req.name != EVERYONE {
                return Err(ApiError::bad_request("Cannot rename the \"Everyone\" group!"));
            }
            if req.display_name.as_deref().is_some_and(|d| !d.is_empty()) {
                return Err(ApiError::bad_request("Cannot update the Display Name for the \"Everyone\" group!"));
            }
            return Ok(json_response(StatusCode::OK, &api_group(&state, &actor, &g).await?));
        };
        if req.name == EVERYONE {
            return Err(ApiError::bad_request("\"Everyone\" is a reserved group name!"));
        }
        validate::display_name("display_name", req.display_name.as_deref().unwrap_or_default())?;
        validate::icon_url("avatar_url", req.avatar_url.as_deref().unwrap_or_default())?;
        if !req.name.is_empty() && req.name != row.name {
            check_group_name(&req.name)?;
        }
        let add = parse_user_ids(&req.add_users)?;
        let remove = parse_user_ids(&req.remove_users)?;
        let current = groups::list_members(state.legacy_store(), row.id).await?;
        for (i, user) in add.iter().enumerate() {
            if current.contains(user) || add[..i].contains(user) {
                return Err(ApiError::bad_request("Cannot add the same user to a group twice!"));
            }
            match orgs::get_member(state.legacy_store(), g.org.id, *user).await {
                Ok(_) => {}
                Err(StoreError::NotFound { .. }) => {
                    return Err(ApiError::bad_request(format!("User must be a member of organization \"{}\"", g.org.name)));
                }
                Err(e) => return Err(e.into()),
            }
        }
        if remove.iter().any(|u| !current.contains(u)) {
            return Err(ApiError::bad_request("Failed to add or remove non-existent group member"));
        }
        let quota = match req.quota_allowance {
            Some(q) => i32::try_from(q).map_err(|_| {
                ApiError::bad_request("Validation failed.").validation("quota_allowance", "out of range")
            })?,
            None => row.quota_allowance,
        };
        let name = if req.name.is_empty() { row.name.clone() } else { req.name.clone() };
        let update = groups::GroupUpdate {
            name: &name,
            display_name: req.display_name.as_deref().unwrap_or(&row.display_name),
            avatar_url: req.avatar_url.as_deref().unwrap_or(&row.avatar_url),
            quota_allowance: quota,
        };
        let mut tx = state.legacy_store().begin().await?;
        let updated = groups::update(&mut tx, row.id, &update, DbTime::now()).await.map_err(|e| match e {
            StoreError::Conflict { .. } => ApiError::conflict(format!("A group with name \"{name}\" already exists.")),
            e => e.into(),
        })?;
        // Membership is decided again under a lock inside the transaction: a removal from the
        // org racing this update must not leave the user in the group.
        for user in &add {
            groups::add_member(&mut tx, row.id, *user).await.map_err(|e| match e {
                StoreError::NotFound { entity: "organization member" } => {
                    ApiError::bad_request(format!("User must be a member of organization \"{}\"", g.org.name))
                }
                e => e.into(),
            })?;
        }
        for user in &remove {
            groups::remove_member(&mut tx, row.id, *user).await?;
        }
        entry.changed(
            &json!({"name": row.name, "display_name": row.display_name, "members": current}),
            &json!({"name": updated.name, "display_name": updated.display_name,
                    "members": current.iter().chain(&add).filter(|u| !remove.contains(u)).collect::<Vec<_>>()}),
        );
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        let g = Resolved { id: updated.id, org: g.org.clone(), row: Some(updated) };
        Ok(json_response(StatusCode::OK, &api_group(&state, &actor, &g).await?))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// Deletes a group (never Everyone).
#[utoipa::path(delete, path = "/api/v2/groups/{group}", tag = "Enterprise",
    params(("group" = String, Path)), responses((status = 200, body = Message)))]
async fn delete_group(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("delete", "group").by(&actor);
    let result = async {
        let g = resolve_group(&state, &actor, &param).await?;
        entry.resource(g.id.uuid(), g.name().to_owned());
        entry.org = Some(g.org.id);
        if !with_group_object(g.id, g.org.id, |o| actor.can(Action::Delete, o)) {
            return Err(ApiError::forbidden());
        }
        if g.is_everyone() {
            return Err(ApiError::bad_request(
                "\"Everyone\" is a reserved group and cannot be deleted!",
            ));
        }
        let mut tx = state.legacy_store().begin().await?;
        groups::delete(&mut tx, g.id).await?;
        entry.changed(&json!({"name": g.name()}), &json!({}));
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::OK, &Message::message("Successfully deleted group!")))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}
