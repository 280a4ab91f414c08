//! Your account: change your own password (the form posts to `/password/change`, which
//! [`crate::auth`] keeps serving), your API tokens (name, created, expires, last used) with
//! Delete for each, and Create token, whose secret is shown once. Every operation names the
//! caller's own account (`me`): a token id of someone else's is not found.

use askama::Template;
use askama_web::WebTemplate;
use atrium_api::users::CreateTokenRequest;
use atrium_domain::{Error, keys, users};
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::WebState;
use crate::errors::{PageResult, Problem};
use crate::session::{Chrome, Signed};
use crate::template_page::shown_time;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/account", get(page))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/delete", post(delete_token))
}

/// One of your tokens.
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    username: String,
    email: String,
    /// Signs in with a password (else the password form is not offered).
    password: bool,
    login_type: String,
    tokens: Vec<TokenRow>,
    /// A token just created: shown once.
    new_token: Option<String>,
    token_name: String,
    notice: Option<String>,
    problem: Option<Problem>,
}

/// Coder records "never used" as the zero time.
fn last_used(t: time::OffsetDateTime) -> String {
    if t.year() <= 1 { "never".to_owned() } else { shown_time(t) }
}

struct Shown {
    new_token: Option<String>,
    token_name: String,
    notice: Option<String>,
    problem: Option<Problem>,
}

impl Shown {
    fn plain() -> Shown {
        Shown { new_token: None, token_name: String::new(), notice: None, problem: None }
    }
}

async fn account_page(state: &WebState, signed: &Signed, shown: Shown) -> PageResult {
    let caller = &signed.caller;
    let fail = |e| signed.fail(e);
    let me = users::get(state, caller, "me").await.map_err(fail)?;
    let tokens = keys::list_tokens(state, caller, "me", false, false)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|k| TokenRow {
            id: k.key.id,
            name: k.key.token_name,
            created: shown_time(k.key.created_at),
            expires: shown_time(k.key.expires_at),
            last_used: last_used(k.key.last_used),
        })
        .collect();
    let page = AccountPage {
        chrome: signed.chrome("account"),
        password: me.login_type == "password",
        login_type: me.login_type,
        username: me.username,
        email: me.email,
        tokens,
        new_token: shown.new_token,
        token_name: shown.token_name,
        notice: shown.notice,
        problem: shown.problem,
    };
    // A page holding a new token's secret is never cached.
    Ok(([(header::CACHE_CONTROL, "no-store")], page).into_response())
}

async fn page(State(state): State<WebState>, signed: Signed) -> PageResult {
    account_page(&state, &signed, Shown::plain()).await
}

/// A refused request: the account page with the domain's message, and its status.
pub(crate) async fn refused(
    state: &WebState,
    signed: &Signed,
    e: Error,
    token_name: String,
) -> PageResult {
    let status = crate::errors::status_of(&e);
    let shown = Shown { token_name, problem: Some(Problem::of(e)), ..Shown::plain() };
    let page = account_page(state, signed, shown).await?;
    Ok((status, page).into_response())
}

#[derive(Deserialize)]
struct CreateForm {
    #[serde(default)]
    name: String,
    /// Days; empty for the longest lifetime the deployment allows.
    #[serde(default)]
    lifetime_days: String,
}

const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

async fn create_token(
    State(state): State<WebState>,
    signed: Signed,
    Form(form): Form<CreateForm>,
) -> PageResult {
    let days = form.lifetime_days.trim();
    let lifetime = if days.is_empty() {
        0
    } else {
        match days.parse::<i64>() {
            Ok(d) if d > 0 => d.saturating_mul(NANOS_PER_DAY),
            _ => {
                let e = Error::bad_request("Failed to validate create API key request.")
                    .validation("lifetime_days", "a whole number of days, at least 1");
                return refused(&state, &signed, e, form.name).await;
            }
        }
    };
    let req = CreateTokenRequest { lifetime, scope: "all".into(), token_name: form.name.clone() };
    match keys::create_token(&state, &signed.caller, "me", &req).await {
        Ok(created) => {
            let shown = Shown {
                new_token: Some(created.key),
                notice: Some("Token created. Copy it now: it is not shown again.".into()),
                ..Shown::plain()
            };
            account_page(&state, &signed, shown).await
        }
        Err(e) => refused(&state, &signed, e, form.name).await,
    }
}

/// Delete: the token stops working at once.
async fn delete_token(
    State(state): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
) -> PageResult {
    match keys::delete(&state, &signed.caller, "me", &id).await {
        Ok(()) => {
            let shown = Shown { notice: Some("Token deleted.".into()), ..Shown::plain() };
            account_page(&state, &signed, shown).await
        }
        Err(e) => refused(&state, &signed, e, String::new()).await,
    }
}
