//! First-run setup, sign in, sign out, the password change a reset forces, and `/cli-auth`.
//! The work is the domain's (`auth::create_first_user`, `auth::login`, `auth::logout`,
//! `users::update_password`, `keys::create_session_key`); this module sets the cookie.

use askama::Template;
use askama_web::WebTemplate;
use atrium_api::users::{
    CreateFirstUserRequest, LoginWithPasswordRequest, UpdateUserPasswordRequest,
};
use atrium_domain::{auth, keys, users};
use axum::Router;
use axum::extract::{Form, FromRequestParts, Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::WebState;
use crate::errors::{PageResult, Problem};
use crate::session::{
    Chrome, Signed, encode, local_path, redirect_with_cookie, request_meta, set_cookie,
};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/", get(home))
        .route("/setup", get(setup_page).post(setup))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/password/change", get(change_page).post(change))
        .route("/cli-auth", get(cli_auth))
}

/// Where the request came from (for the domain's audit rows).
pub struct Meta(pub atrium_domain::RequestMeta);

impl<S: Send + Sync> FromRequestParts<S> for Meta {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Meta(request_meta(parts)))
    }
}

async fn home(State(state): State<WebState>) -> Response {
    if auth::first_user_exists(&state).await.is_err() {
        return Redirect::to("/setup").into_response();
    }
    Redirect::to("/workspaces").into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "setup.html")]
struct SetupPage {
    chrome: Chrome,
    email: String,
    username: String,
    problem: Option<Problem>,
}

#[derive(Deserialize)]
struct SetupForm {
    email: String,
    username: String,
    password: String,
}

async fn setup_page(State(state): State<WebState>) -> Response {
    if auth::first_user_exists(&state).await.is_ok() {
        return Redirect::to("/login").into_response();
    }
    SetupPage {
        chrome: Chrome::signed_out(),
        email: String::new(),
        username: String::new(),
        problem: None,
    }
    .into_response()
}

/// Creates the first owner and signs them in.
async fn setup(
    State(state): State<WebState>,
    Meta(meta): Meta,
    Form(form): Form<SetupForm>,
) -> Response {
    let req = CreateFirstUserRequest {
        email: form.email.clone(),
        username: form.username.clone(),
        name: String::new(),
        password: form.password.clone(),
        ..Default::default()
    };
    let created = auth::create_first_user(&state, &meta, &req).await;
    let session = match created {
        Ok(_) => {
            let req =
                LoginWithPasswordRequest { email: form.email.clone(), password: form.password };
            auth::login(&state, &meta, &req).await
        }
        Err(e) => Err(e),
    };
    match session {
        Ok(s) => redirect_with_cookie("/workspaces", set_cookie(&s.token, s.lifetime.as_secs())),
        Err(e) => SetupPage {
            chrome: Chrome::signed_out(),
            email: form.email,
            username: form.username,
            problem: Some(Problem::of(e)),
        }
        .into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    email: String,
    next: String,
    notice: Option<String>,
    problem: Option<Problem>,
    /// Whether the email/password form is offered (`--disable-password-auth` hides it).
    password: bool,
    /// The identity provider's button, when OIDC is on: its text and where it starts.
    idp: Option<IdpButton>,
}

/// "Sign in with …": starts Coder's OIDC flow, which comes back to `next`.
struct IdpButton {
    text: String,
    href: String,
}

impl LoginPage {
    fn new(state: &WebState, email: String, next: String) -> LoginPage {
        let methods = atrium_domain::clients::auth_methods(state);
        let idp = methods.oidc.enabled.then(|| IdpButton {
            text: if methods.oidc.sign_in_text.is_empty() {
                "Sign in with OpenID Connect".to_owned()
            } else {
                format!("Sign in with {}", methods.oidc.sign_in_text)
            },
            href: format!("/api/v2/users/oidc/callback?redirect={}", encode(&next)),
        });
        LoginPage {
            chrome: Chrome::signed_out(),
            email,
            next,
            notice: None,
            problem: None,
            password: methods.password.enabled,
            idp,
        }
    }
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    reason: Option<String>,
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login_page(State(state): State<WebState>, Query(q): Query<LoginQuery>) -> Response {
    if auth::first_user_exists(&state).await.is_err() {
        return Redirect::to("/setup").into_response();
    }
    LoginPage {
        notice: q.reason,
        ..LoginPage::new(&state, String::new(), local_path(q.next.as_deref()))
    }
    .into_response()
}

async fn login(
    State(state): State<WebState>,
    Meta(meta): Meta,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = local_path(Some(&form.next));
    let result = match state.login_limiter.limit(meta.ip) {
        Ok(()) => {
            let req =
                LoginWithPasswordRequest { email: form.email.clone(), password: form.password };
            auth::login(&state, &meta, &req).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(s) => redirect_with_cookie(&next, set_cookie(&s.token, s.lifetime.as_secs())),
        Err(e) => {
            let status = crate::errors::status_of(&e);
            let page = LoginPage {
                problem: Some(Problem::of(e)),
                ..LoginPage::new(&state, form.email, next)
            };
            (status, page).into_response()
        }
    }
}

async fn logout(State(state): State<WebState>, signed: Signed) -> PageResult {
    auth::logout(&state, &signed.caller).await.map_err(|e| signed.fail(e))?;
    Ok(redirect_with_cookie("/login", set_cookie("", 0)))
}

#[derive(Template, WebTemplate)]
#[template(path = "password_change.html")]
struct ChangePage {
    chrome: Chrome,
    forced: bool,
    problem: Option<Problem>,
}

#[derive(Deserialize)]
struct ChangeForm {
    old_password: String,
    password: String,
    /// `account` when the form is the Account page's: a refusal is shown there.
    #[serde(default)]
    from: String,
}

async fn change_page(State(state): State<WebState>, signed: Signed) -> PageResult {
    let forced = atrium_domain::password_reset::must_change(&state, &signed.caller)
        .await
        .map_err(|e| signed.fail(e))?;
    Ok(ChangePage { chrome: signed.chrome("account"), forced, problem: None }.into_response())
}

/// Changes your own password. That ends every session of yours (the domain revokes them), so
/// this one is replaced by a fresh sign-in with the new password.
async fn change(
    State(state): State<WebState>,
    Meta(meta): Meta,
    signed: Signed,
    Form(form): Form<ChangeForm>,
) -> PageResult {
    let me = users::get(&state, &signed.caller, "me").await.map_err(|e| signed.fail(e))?;
    let req = UpdateUserPasswordRequest {
        old_password: form.old_password,
        password: form.password.clone(),
    };
    if let Err(e) = users::update_password(&state, &signed.caller, "me", &req).await {
        if form.from == "account" {
            return crate::account::refused(&state, &signed, e, String::new()).await;
        }
        let forced = atrium_domain::password_reset::must_change(&state, &signed.caller)
            .await
            .map_err(|e| signed.fail(e))?;
        let status = crate::errors::status_of(&e);
        let page =
            ChangePage { chrome: signed.chrome("account"), forced, problem: Some(Problem::of(e)) };
        return Ok((status, page).into_response());
    }
    let req = LoginWithPasswordRequest { email: me.email, password: form.password };
    let session = auth::login(&state, &meta, &req).await.map_err(|e| signed.fail(e))?;
    Ok(redirect_with_cookie("/workspaces", set_cookie(&session.token, session.lifetime.as_secs())))
}

#[derive(Template, WebTemplate)]
#[template(path = "cli_auth.html")]
struct CliAuthPage {
    chrome: Chrome,
    token: String,
    access_url: String,
}

/// A new session token for `atrium login` (Coder's `/cli-auth`), shown once, never cached.
async fn cli_auth(State(state): State<WebState>, signed: Signed) -> PageResult {
    let key =
        keys::create_session_key(&state, &signed.caller, "me").await.map_err(|e| signed.fail(e))?;
    let page = CliAuthPage {
        chrome: signed.chrome("account"),
        token: key.key,
        access_url: state.access_url.clone(),
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
}
