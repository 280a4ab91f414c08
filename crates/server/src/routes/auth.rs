//! First-user setup, password login and logout (coder-api.md §1.1).

use crate::Shared;
use crate::actor::{Actor, Meta};
use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::Body;
use crate::passwords;
use atrium_api::Response as Message;
use atrium_api::users::{
    CreateFirstUserRequest, CreateFirstUserResponse, LoginWithPasswordRequest,
    LoginWithPasswordResponse,
};
#[allow(unused_imports)]
use atrium_domain::auth::*;
use atrium_domain::users::{user_json, validate_new_user};
use atrium_engine::password::validate_password;
use atrium_store::{DbTime, LoginType, OrgId, UserId, UserStatus, api_keys, orgs, users};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(get_first_user, post_first_user))
        .routes(routes!(login))
        .routes(routes!(logout))
}

/// Whether setup is done.
#[utoipa::path(get, path = "/api/v2/users/first", tag = "Users",
    responses((status = 200, body = Message), (status = 404, body = Message)))]
async fn get_first_user(State(state): State<Shared>) -> ApiResult<Response> {
    if users::count(state.legacy_store()).await? == 0 {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "The initial user has not been created!"));
    }
    Ok(json_response(
        StatusCode::OK,
        &Message::message("The initial user has already been created!"),
    ))
}

/// Creates the first owner, the default organization (and with it its Everyone group).
#[utoipa::path(post, path = "/api/v2/users/first", tag = "Users", request_body = CreateFirstUserRequest,
    responses((status = 201, body = CreateFirstUserResponse), (status = 409, body = Message)))]
async fn post_first_user(
    State(state): State<Shared>,
    Meta(meta): Meta,
    Body(req): Body<CreateFirstUserRequest>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("create", "user");
    let result = async {
        validate_new_user(&req.email, &req.username, &req.name)?;
        validate_password(&req.password).map_err(|e| {
            ApiError::bad_request("Password not strong enough!")
                .validation("password", e.to_string())
        })?;
        let already = || ApiError::conflict("The initial user has already been created.");
        if users::count(state.legacy_store()).await? > 0 {
            return Err(already());
        }
        let hashed = passwords::hash(req.password.clone()).await?;
        let now = DbTime::now();
        let mut tx = state.legacy_store().begin().await?;
        // The default org is the lock: a concurrent setup fails on its unique index.
        let org = match orgs::get_default(&mut tx).await {
            Ok(org) => org,
            Err(atrium_store::StoreError::NotFound { .. }) => orgs::insert(
                &mut tx,
                &orgs::NewOrg {
                    id: OrgId::new_v4(),
                    name: "coder",
                    display_name: "Coder",
                    description: "The default organization.",
                    icon: "",
                    is_default: true,
                    created_at: now,
                },
            )
            .await
            .map_err(|e| match e {
                atrium_store::StoreError::Conflict { .. } => already(),
                e => e.into(),
            })?,
            Err(e) => return Err(e.into()),
        };
        let user = users::insert(
            &mut tx,
            &users::NewUser {
                id: UserId::new_v4(),
                username: &req.username,
                email: &req.email,
                name: &req.name,
                avatar_url: "",
                hashed_password: Some(&hashed),
                login_type: LoginType::Password,
                // No reason to start dormant: the owner logs in right away.
                status: UserStatus::Active,
                created_at: now,
            },
        )
        .await
        .map_err(|e| match e {
            atrium_store::StoreError::Conflict { .. } => already(),
            e => e.into(),
        })?;
        if users::count(&mut tx).await? > 1 {
            return Err(already());
        }
        users::set_site_roles(&mut tx, user.id, &["owner"], now).await?;
        orgs::add_member(&mut tx, org.id, user.id, now).await?;
        entry.user = Some(user.id);
        entry.resource(user.id.uuid(), user.username.clone());
        entry.changed(&json!({}), &user_json(&user, &["owner".to_owned()]));
        audit::write(&mut tx, &meta, &entry, 201).await?;
        tx.commit().await?;
        Ok(json_response(
            StatusCode::CREATED,
            &CreateFirstUserResponse { user_id: user.id.uuid(), organization_id: org.id.uuid() },
        ))
    }
    .await;
    audit::finish(&state, &meta, &entry, result).await
}

fn session_cookie(token: &str, max_age: u64) -> HeaderValue {
    let cookie =
        format!("coder_session_token={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax");
    HeaderValue::from_str(&cookie)
        .unwrap_or(HeaderValue::from_static("coder_session_token=; Path=/"))
}

/// Logs in with email and password; sets the session cookie.
#[utoipa::path(post, path = "/api/v2/users/login", tag = "Authorization", request_body = LoginWithPasswordRequest,
    responses((status = 201, body = LoginWithPasswordResponse), (status = 401, body = Message), (status = 429, body = Message)))]
async fn login(
    State(state): State<Shared>,
    Meta(meta): Meta,
    Body(req): Body<LoginWithPasswordRequest>,
) -> ApiResult<Response> {
    state.login_limiter.limit(meta.ip)?;
    let mut entry = Entry::new("login", "api_key");
    let result = async {
        let user = match users::get_by_email(state.legacy_store(), &req.email).await {
            Ok(u) => Some(u),
            Err(atrium_store::StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let hashed = user.as_ref().and_then(|u| u.hashed_password.clone());
        let ok = passwords::verify(req.password.clone(), hashed).await;
        if let Some(u) = &user {
            entry.user = Some(u.id);
            entry.resource_target = u.username.clone();
        }
        let Some(mut user) = user.filter(|_| ok) else {
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "Incorrect email or password."));
        };
        if user.login_type != LoginType::Password {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "Incorrect login type, attempting to use \"password\" but user is of login type \"{}\"",
                    user.login_type.as_str()
                ),
            ));
        }
        if user.status == UserStatus::Dormant {
            user = atrium_domain::audit::reactivate_dormant(&state.domain, &user, &meta).await?;
        }
        if user.status == UserStatus::Suspended {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Your account is suspended. Contact an admin to reactivate your account.",
            ));
        }
        let lifetime = state.config.session_duration;
        let mut tx = state.legacy_store().begin().await?;
        let token = create_session(&mut tx, user.id, LoginType::Password, lifetime, "", "all").await?;
        users::update_last_seen(&mut tx, user.id, DbTime::now()).await?;
        // Coder files API-key rows under the key owner's id.
        entry.resource_id = user.id.uuid();
        audit::write(&mut tx, &meta, &entry, 201).await?;
        tx.commit().await?;
        let mut response =
            json_response(StatusCode::CREATED, &LoginWithPasswordResponse { session_token: token.clone() });
        response.headers_mut().insert(header::SET_COOKIE, session_cookie(&token, lifetime.as_secs()));
        Ok(response)
    }
    .await;
    audit::finish(&state, &meta, &entry, result).await
}

/// Ends the current session and revokes the user's `application_connect` keys (as Coder does).
#[utoipa::path(post, path = "/api/v2/users/logout", tag = "Users", responses((status = 200, body = Message)))]
async fn logout(State(state): State<Shared>, actor: Actor) -> ApiResult<Response> {
    let mut entry = Entry::new("logout", "api_key").by(&actor);
    entry.resource(actor.id().uuid(), actor.user.username.clone());
    let result = async {
        let mut tx = state.legacy_store().begin().await?;
        api_keys::delete(&mut tx, &actor.key_id).await?;
        api_keys::delete_app_connect_by_user(&mut tx, actor.id()).await?;
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        let mut response = Message::message("Logged out!").into_json_response();
        response.headers_mut().insert(header::SET_COOKIE, session_cookie("", 0));
        Ok(response)
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

trait IntoJson {
    fn into_json_response(self) -> Response;
}

impl IntoJson for Message {
    fn into_json_response(self) -> Response {
        json_response(StatusCode::OK, &self).into_response()
    }
}
