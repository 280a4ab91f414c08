//! Users: create, list, get, profile, password, delete, suspend and activate
//! (coder-api.md §1.2, §3).

use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use crate::passwords;
use atrium_api::Response as Message;
use atrium_api::users::{
    CreateUserRequest, GetUsersResponse, UpdateUserPasswordRequest, UpdateUserProfileRequest,
    User as ApiUser,
};
#[allow(unused_imports)]
use atrium_domain::users::*;
use atrium_engine::account::AccountAction;
use atrium_engine::name::validate_name;
use atrium_engine::password::validate_password;
use atrium_engine::query::UserQuery;
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::lists::{self, Page};
use atrium_store::{
    DbTime, LoginType, OrgId, StoreError, UserId, UserStatus, api_keys, orgs, users, workspaces,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, delete_user))
        .routes(routes!(update_profile))
        .routes(routes!(suspend_user))
        .routes(routes!(activate_user))
        .routes(routes!(update_password))
        .merge(super::user_roles::routes())
}

/// Creates a user (in the default org unless orgs are given).
#[utoipa::path(post, path = "/api/v2/users", tag = "Users", request_body = CreateUserRequest,
    responses((status = 201, body = ApiUser), (status = 400, body = Message), (status = 409, body = Message)))]
async fn create_user(
    State(state): State<Shared>,
    actor: Actor,
    Body(req): Body<CreateUserRequest>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("create", "user").by(&actor);
    entry.resource_target = req.username.clone();
    let result = async {
        if !actor.can(Action::Create, &Object::of(ResourceType::User)) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "You are not authorized to create users.",
            ));
        }
        validate_new_user(&req.email, &req.username, &req.name)?;
        let login_type = match req.login_type.as_str() {
            "" | "password" => LoginType::Password,
            "none" => LoginType::None,
            other => {
                return Err(ApiError::bad_request(format!(
                    "Unsupported login type \"{other}\" for manually creating new users."
                )));
            }
        };
        let hashed = match login_type {
            LoginType::Password => {
                if req.password.is_empty() {
                    return Err(ApiError::required("password"));
                }
                validate_password(&req.password).map_err(|e| {
                    ApiError::bad_request("Password not strong enough!")
                        .validation("password", e.to_string())
                })?;
                Some(passwords::hash(req.password.clone()).await?)
            }
            _ if !req.password.is_empty() => {
                return Err(ApiError::bad_request(format!(
                    "Password cannot be set for non-password (\"{}\") authentication.",
                    login_type.as_str()
                )));
            }
            _ => None,
        };
        let status = match req.user_status.as_deref() {
            None | Some("") | Some("dormant") => UserStatus::Dormant,
            Some("active") => UserStatus::Active,
            Some(other) => return Err(ApiError::tag_failed("user_status", "oneof", other)),
        };
        // No org, or the nil UUID Coder's UI sends, means the current default org.
        let mut org_ids: Vec<OrgId> =
            req.organization_ids.iter().filter(|o| !o.is_nil()).map(|o| OrgId(*o)).collect();
        if org_ids.is_empty() {
            org_ids.push(orgs::get_default(state.legacy_store()).await?.id);
        }
        org_ids.sort();
        org_ids.dedup();
        for org in &org_ids {
            match orgs::get(state.legacy_store(), *org).await {
                Ok(_) => {}
                Err(StoreError::NotFound { .. }) => {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        format!("Organization does not exist with the provided id \"{org}\"."),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
            let member = Object::of(ResourceType::OrganizationMember).in_org(org.uuid());
            if !actor.can(Action::Create, &member) {
                return Err(ApiError::forbidden());
            }
        }
        let now = DbTime::now();
        let mut tx = state.legacy_store().begin().await?;
        let user = users::insert(
            &mut tx,
            &users::NewUser {
                id: UserId::new_v4(),
                username: &req.username,
                email: &req.email,
                name: &req.name,
                avatar_url: "",
                hashed_password: hashed.as_deref(),
                login_type,
                status,
                created_at: now,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => conflict_user(),
            e => e.into(),
        })?;
        for org in &org_ids {
            orgs::add_member(&mut tx, *org, user.id, now).await?;
        }
        entry.resource(user.id.uuid(), user.username.clone());
        entry.changed(&json!({}), &user_json(&user, &[]));
        audit::write(&mut tx, &actor.meta, &entry, 201).await?;
        tx.commit().await?;
        let body = api_user(&user, &[], readable_orgs(&actor, org_ids.iter().copied()));
        Ok(json_response(StatusCode::CREATED, &body))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// Lists the users the caller may read, filtered by `q` (coder-api.md §2.2).
#[utoipa::path(get, path = "/api/v2/users", tag = "Users",
    params(("q" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = GetUsersResponse), (status = 400, body = Message)))]
async fn list_users(
    State(state): State<Shared>,
    actor: Actor,
    params: QueryParams,
) -> ApiResult<Response> {
    let q = params.single("q")?.unwrap_or_default();
    let query = UserQuery::parse(q)
        .map_err(|errors| ApiError::invalid_query("Invalid user search query.", errors))?;
    let page = crate::extract::Page::from_query(&params)?;
    let filter = actor.subject.list_filter(Action::Read, ResourceType::User);
    let listed = lists::users(
        state.legacy_store(),
        &query,
        &filter,
        Page { limit: page.limit, offset: page.offset },
    )
    .await?;
    let mut out = Vec::with_capacity(listed.rows.len());
    for u in &listed.rows {
        out.push(to_api(&state, &actor, u).await?);
    }
    Ok(json_response(StatusCode::OK, &GetUsersResponse { users: out, count: listed.count }))
}

/// A user by id, username or `me`.
#[utoipa::path(get, path = "/api/v2/users/{user}", tag = "Users",
    params(("user" = String, Path, description = "id, username or `me`")),
    responses((status = 200, body = ApiUser), (status = 400, body = Message)))]
async fn get_user(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
) -> ApiResult<Response> {
    let user = resolve_user(&state, &actor, &user).await?;
    Ok(json_response(StatusCode::OK, &to_api(&state, &actor, &user).await?))
}

/// Soft-deletes a user; refused for yourself and while the user owns workspaces.
#[utoipa::path(delete, path = "/api/v2/users/{user}", tag = "Users",
    params(("user" = String, Path)), responses((status = 200, body = Message), (status = 417, body = Message)))]
async fn delete_user(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("delete", "user").by(&actor);
    let result = async {
        let user = resolve_user(&state, &actor, &param).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        precheck_account(&state, &actor, user.id, AccountAction::Delete).await?;
        actor.require(Action::Delete, &atrium_domain::Caller::user_object(user.id))?;
        let mut tx = state.legacy_store().begin().await?;
        // Decided again under the owner-set lock: only owners delete owners, never the last.
        guard_account(&mut tx, &actor, user.id, AccountAction::Delete).await?;
        // The store counts the user's workspaces without the caller's filter (a user admin
        // must not delete users whose workspaces it cannot see, Coder bug #19209), under a
        // lock a racing workspace creation also takes.
        users::soft_delete(&mut tx, user.id, DbTime::now()).await.map_err(|e| match e {
            StoreError::Conflict { constraint } if constraint == workspaces::OWNER_HAS_WORKSPACES => {
                ApiError::new(
                    StatusCode::EXPECTATION_FAILED,
                    "You cannot delete a user that has workspaces. Delete their workspaces and try again!",
                )
            }
            e => e.into(),
        })?;
        entry.changed(&json!({"deleted": false}), &json!({"deleted": true}));
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::OK, &Message::message("User has been deleted!")))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// Updates username and display name.
#[utoipa::path(put, path = "/api/v2/users/{user}/profile", tag = "Users", request_body = UpdateUserProfileRequest,
    params(("user" = String, Path)), responses((status = 200, body = ApiUser), (status = 409, body = Message)))]
async fn update_profile(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<UpdateUserProfileRequest>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("write", "user").by(&actor);
    let result = async {
        let user = resolve_user(&state, &actor, &param).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        let object = atrium_domain::Caller::user_object(user.id);
        if !actor.can(Action::UpdatePersonal, &object) && !actor.can(Action::Update, &object) {
            return Err(ApiError::forbidden());
        }
        precheck_account(&state, &actor, user.id, AccountAction::ChangeProfile).await?;
        if req.username.is_empty() {
            return Err(ApiError::required("username"));
        }
        if validate_name(&req.username).is_err() {
            return Err(ApiError::tag_failed("username", "username", &req.username));
        }
        validate_real_name(&req.name)?;
        let mut tx = state.legacy_store().begin().await?;
        guard_account(&mut tx, &actor, user.id, AccountAction::ChangeProfile).await?;
        let update = users::ProfileUpdate {
            username: &req.username,
            name: &req.name,
            avatar_url: &user.avatar_url,
        };
        let updated = users::update_profile(&mut tx, user.id, &update, DbTime::now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => conflict_user()
                    .validation("username", "this value is already in use and should be unique"),
                e => e.into(),
            })?;
        entry.changed(&user_json(&user, &[]), &user_json(&updated, &[]));
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::OK, &to_api(&state, &actor, &updated).await?))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

async fn set_status(
    state: Shared,
    actor: Actor,
    param: String,
    status: UserStatus,
) -> ApiResult<Response> {
    let mut entry = Entry::new("write", "user").by(&actor);
    let result = async {
        let user = resolve_user(&state, &actor, &param).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        let action = match status {
            UserStatus::Suspended => AccountAction::Suspend,
            UserStatus::Active | UserStatus::Dormant => AccountAction::Activate,
        };
        precheck_account(&state, &actor, user.id, action).await?;
        actor.require(Action::Update, &atrium_domain::Caller::user_object(user.id))?;
        let mut tx = state.legacy_store().begin().await?;
        guard_account(&mut tx, &actor, user.id, action).await?;
        let (before, updated) = change_status(&mut tx, user.id, status).await?;
        // A suspended user's running workspaces are stopped (activation does not restart them).
        let stopped = if status == UserStatus::Suspended && before != status {
            atrium_domain::builds::stop_running_workspaces(&mut tx, user.id, actor.id()).await?
        } else {
            0
        };
        entry.changed(&json!({"status": before.as_str()}), &json!({"status": status.as_str()}));
        if stopped > 0 {
            entry.additional_fields = json!({"workspaces_stopped": stopped});
        }
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        if stopped > 0 {
            state.jobs.wake();
        }
        Ok(json_response(StatusCode::OK, &to_api(&state, &actor, &updated).await?))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// Suspends a user: their sessions and tokens stop working at once.
#[utoipa::path(put, path = "/api/v2/users/{user}/status/suspend", tag = "Users",
    params(("user" = String, Path)), responses((status = 200, body = ApiUser), (status = 400, body = Message)))]
async fn suspend_user(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
) -> ApiResult<Response> {
    set_status(state, actor, user, UserStatus::Suspended).await
}

/// Reactivates a user.
#[utoipa::path(put, path = "/api/v2/users/{user}/status/activate", tag = "Users",
    params(("user" = String, Path)), responses((status = 200, body = ApiUser)))]
async fn activate_user(
    State(state): State<Shared>,
    actor: Actor,
    Path(user): Path<String>,
) -> ApiResult<Response> {
    set_status(state, actor, user, UserStatus::Active).await
}

/// Changes a password and revokes every session and token of that user.
#[utoipa::path(put, path = "/api/v2/users/{user}/password", tag = "Users", request_body = UpdateUserPasswordRequest,
    params(("user" = String, Path)), responses((status = 204), (status = 400, body = Message)))]
async fn update_password(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<UpdateUserPasswordRequest>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("write", "user").by(&actor);
    let result = async {
        let user = resolve_user(&state, &actor, &param).await?;
        entry.resource(user.id.uuid(), user.username.clone());
        if !actor.can(Action::UpdatePersonal, &atrium_domain::Caller::user_object(user.id)) {
            return Err(ApiError::not_found());
        }
        precheck_account(&state, &actor, user.id, AccountAction::ChangePassword).await?;
        if user.login_type != LoginType::Password {
            return Err(ApiError::bad_request(
                "Users without password login type cannot change their password.",
            ));
        }
        validate_password(&req.password).map_err(|e| {
            ApiError::bad_request("Invalid password.").validation("password", e.to_string())
        })?;
        // Every check of this user's password counts against their limit (Argon2 is costly).
        state.password_limiter.limit(user.id)?;
        // Changing your own password needs the old one; an admin resetting someone else's does not.
        if user.id == actor.id() || !req.old_password.is_empty() {
            if req.old_password.is_empty() {
                return Err(ApiError::required("old_password"));
            }
            if !passwords::verify(req.old_password.clone(), user.hashed_password.clone()).await {
                return Err(ApiError::bad_request("Old password is incorrect.")
                    .validation("old_password", "Old password is incorrect."));
            }
        }
        if passwords::verify(req.password.clone(), user.hashed_password.clone()).await {
            return Err(ApiError::bad_request("New password cannot match old password."));
        }
        let hashed = passwords::hash(req.password.clone()).await?;
        let mut tx = state.legacy_store().begin().await?;
        guard_account(&mut tx, &actor, user.id, AccountAction::ChangePassword).await?;
        users::update_password(&mut tx, user.id, Some(&hashed), DbTime::now()).await?;
        api_keys::delete_by_user(&mut tx, user.id).await?;
        entry.changed(&json!({"hashed_password": "old"}), &json!({"hashed_password": "new"}));
        audit::write(&mut tx, &actor.meta, &entry, 204).await?;
        tx.commit().await?;
        Ok(axum::response::IntoResponse::into_response(StatusCode::NO_CONTENT))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}
