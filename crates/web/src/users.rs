//! Users: the list (Coder's filter language, default `status:active`; status and role chips;
//! the seat count), Create user, and the user record with Suspend / Activate / Delete / Reset
//! password and the site and organization roles. Each action is offered only when the engine
//! allows it for that user ([`offers::user`]); a missing one says why.

use askama::Template;
use askama_web::WebTemplate;
use atrium_api::users::{
    AssignableRoles, CreateUserRequest, SlimRole, UpdateRoles, User as ApiUser,
};
use atrium_domain::offers::{self, Offer, UserOffers};
use atrium_domain::{Page, members, org_roles, orgs, password_reset, user_roles, users};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::WebState;
use crate::errors::{PageResult, Problem};
use crate::session::{Chrome, Signed, encode};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/users", get(list))
        .route("/users/new", get(new_page).post(create))
        .route("/users/{user}", get(record))
        .route("/users/{user}/suspend", post(suspend))
        .route("/users/{user}/activate", post(activate))
        .route("/users/{user}/delete", post(delete))
        .route("/users/{user}/reset-password", post(reset_password))
        .route("/users/{user}/roles", post(site_roles))
        .route("/users/{user}/organizations/{org}/roles", post(org_roles_save))
}

/// One user as a list row or a record: who, status, roles, and the actions offered.
pub struct UserView {
    pub username: String,
    pub name: String,
    pub email: String,
    pub status: String,
    pub roles: Vec<String>,
    pub suspend: bool,
    pub activate: bool,
    pub delete: bool,
    pub reset_password: bool,
    /// Actions that apply to this user's status but are refused, with the engine's reasons.
    pub missing: Vec<(&'static str, Vec<String>)>,
}

impl UserView {
    fn new(u: &ApiUser, offers: &UserOffers) -> UserView {
        let suspended = u.status == "suspended";
        let mut missing = Vec::new();
        let mut offered = |verb: &'static str, applies: bool, offer: &Offer| {
            if applies && !offer.allowed() {
                missing.push((verb, offer.reasons().to_vec()));
            }
            applies && offer.allowed()
        };
        let suspend = offered("Suspend", !suspended, &offers.suspend);
        let activate = offered("Activate", u.status != "active", &offers.activate);
        let delete = offered("Delete", true, &offers.delete);
        let reset_password = offered("Reset password", true, &offers.reset_password);
        UserView {
            username: u.username.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            status: u.status.clone(),
            roles: u.roles.iter().map(|r| r.display_name.clone()).collect(),
            suspend,
            activate,
            delete,
            reset_password,
            missing,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    users: Vec<UserView>,
    count: i64,
    seats: i64,
    may_create: bool,
    problem: Option<Problem>,
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
}

async fn list(
    State(state): State<WebState>,
    signed: Signed,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let q = query.q.unwrap_or_else(|| "status:active".to_owned());
    let caller = &signed.caller;
    let fail = |e| signed.fail(e);
    let all = Page { limit: Some(100), offset: 0 };
    // Seats are active users (as `/entitlements` counts them).
    let seats =
        users::list(&state, caller, "status:active", Page { limit: Some(1), offset: 0 }, None)
            .await
            .map_err(fail)?
            .count;
    let may_create = caller.can(
        atrium_engine::Action::Create,
        &atrium_engine::Object::of(atrium_engine::ResourceType::User),
    );
    let (rows, count, problem) = match users::list(&state, caller, &q, all, None).await {
        Ok(listed) => {
            let mut rows = Vec::with_capacity(listed.users.len());
            for u in &listed.users {
                let offers = offers::user(&state, caller, &u.username).await.map_err(fail)?;
                rows.push(UserView::new(u, &offers));
            }
            (rows, listed.count, None)
        }
        Err(e) if e.status() == 400 => (Vec::new(), 0, Some(Problem::of(e))),
        Err(e) => return Err(fail(e)),
    };
    Ok(ListPage {
        chrome: signed.chrome("users"),
        q,
        users: rows,
        count,
        seats,
        may_create,
        problem,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "user_new.html")]
struct NewPage {
    chrome: Chrome,
    email: String,
    username: String,
    name: String,
    problem: Option<Problem>,
}

#[derive(Deserialize)]
struct NewForm {
    email: String,
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

async fn new_page(signed: Signed) -> Response {
    NewPage {
        chrome: signed.chrome("users"),
        email: String::new(),
        username: String::new(),
        name: String::new(),
        problem: None,
    }
    .into_response()
}

async fn create(
    State(state): State<WebState>,
    signed: Signed,
    Form(form): Form<NewForm>,
) -> Response {
    let req = CreateUserRequest {
        email: form.email.clone(),
        username: form.username.clone(),
        name: form.name.clone(),
        password: form.password,
        login_type: "password".into(),
        user_status: None,
        organization_ids: Vec::new(),
        service_account: false,
    };
    match users::create(&state, &signed.caller, &req).await {
        Ok(u) => Redirect::to(&format!("/users/{}", encode(&u.username))).into_response(),
        Err(e) => NewPage {
            chrome: signed.chrome("users"),
            email: form.email,
            username: form.username,
            name: form.name,
            problem: Some(Problem::of(e)),
        }
        .into_response(),
    }
}

/// A role as a checkbox: held, and whether the caller may add or remove it.
pub struct RoleChoice {
    pub name: String,
    pub display_name: String,
    pub held: bool,
    pub assignable: bool,
}

impl RoleChoice {
    /// An organization's roles as checkboxes for a member holding `held`, and whether the
    /// caller may assign any of them.
    pub fn for_org(list: Vec<AssignableRoles>, held: &[SlimRole]) -> (Vec<RoleChoice>, bool) {
        let any = list.iter().any(|r| r.assignable);
        let roles = list
            .into_iter()
            .map(|r| RoleChoice {
                held: held.iter().any(|h| h.name == r.role.name),
                display_name: if r.role.display_name.is_empty() {
                    r.role.name.clone()
                } else {
                    r.role.display_name
                },
                name: r.role.name,
                assignable: r.assignable,
            })
            .collect();
        (roles, any)
    }

    /// The roles a member holds, read-only (when the organization's roles cannot be listed).
    pub fn held_only(held: &[SlimRole]) -> Vec<RoleChoice> {
        held.iter()
            .map(|r| RoleChoice {
                name: r.name.clone(),
                display_name: r.display_name.clone(),
                held: true,
                assignable: false,
            })
            .collect()
    }
}

/// The user's roles in one organization.
pub struct OrgRoles {
    pub org_id: String,
    pub org_name: String,
    pub roles: Vec<RoleChoice>,
    pub editable: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "user.html")]
struct RecordPage {
    chrome: Chrome,
    user: UserView,
    site_roles: Vec<RoleChoice>,
    roles_editable: bool,
    roles_why: Vec<String>,
    orgs: Vec<OrgRoles>,
    notice: Option<String>,
    temporary_password: Option<String>,
}

async fn record(
    State(state): State<WebState>,
    signed: Signed,
    Path(user): Path<String>,
) -> PageResult {
    record_page(&state, &signed, &user, None, None).await
}

async fn record_page(
    state: &WebState,
    signed: &Signed,
    user: &str,
    notice: Option<String>,
    temporary_password: Option<String>,
) -> PageResult {
    let caller = &signed.caller;
    let fail = |e| signed.fail(e);
    let u = users::get(state, caller, user).await.map_err(fail)?;
    let offers = offers::user(state, caller, &u.username).await.map_err(fail)?;
    let held: Vec<&str> = u.roles.iter().map(|r| r.name.as_str()).collect();
    let (site_roles, roles_editable, roles_why) =
        match user_roles::list_site_roles(state, caller).await {
            Ok(roles) => (
                roles
                    .into_iter()
                    .map(|r| RoleChoice {
                        held: held.contains(&r.role.name.as_str()),
                        display_name: if r.role.display_name.is_empty() {
                            r.role.name.clone()
                        } else {
                            r.role.display_name
                        },
                        name: r.role.name,
                        assignable: r.assignable,
                    })
                    .collect(),
                offers.edit_roles.allowed(),
                offers.edit_roles.reasons().to_vec(),
            ),
            Err(e) => (Vec::new(), false, e.reasons.clone()),
        };
    let mut orgs = Vec::new();
    for org_id in &u.organization_ids {
        let org_param = org_id.to_string();
        let Ok(org) = orgs::get(state, caller, &org_param).await else { continue };
        let Ok(member) = members::get(state, caller, &org_param, &u.username).await else {
            continue;
        };
        let (roles, assignable_any) = match org_roles::list(state, caller, &org_param).await {
            Ok(list) => RoleChoice::for_org(list, &member.member.roles),
            Err(_) => (RoleChoice::held_only(&member.member.roles), false),
        };
        orgs.push(OrgRoles {
            org_id: org_param,
            org_name: org.display_name.clone(),
            roles,
            editable: assignable_any && u.id != caller.id().uuid(),
        });
    }
    Ok(RecordPage {
        chrome: signed.chrome("users"),
        user: UserView::new(&u, &offers),
        site_roles,
        roles_editable,
        roles_why,
        orgs,
        notice,
        temporary_password,
    }
    .into_response())
}

async fn suspend(
    State(state): State<WebState>,
    signed: Signed,
    Path(user): Path<String>,
) -> PageResult {
    let u = users::suspend(&state, &signed.caller, &user).await.map_err(|e| signed.fail(e))?;
    record_page(&state, &signed, &u.username, Some(format!("{} is suspended.", u.username)), None)
        .await
}

async fn activate(
    State(state): State<WebState>,
    signed: Signed,
    Path(user): Path<String>,
) -> PageResult {
    let u = users::activate(&state, &signed.caller, &user).await.map_err(|e| signed.fail(e))?;
    record_page(&state, &signed, &u.username, Some(format!("{} is active.", u.username)), None)
        .await
}

async fn delete(
    State(state): State<WebState>,
    signed: Signed,
    Path(user): Path<String>,
) -> PageResult {
    users::delete(&state, &signed.caller, &user).await.map_err(|e| signed.fail(e))?;
    Ok(Redirect::to("/users").into_response())
}

/// Resets the password to a temporary one, shown here once.
async fn reset_password(
    State(state): State<WebState>,
    signed: Signed,
    Path(user): Path<String>,
) -> PageResult {
    let password =
        password_reset::reset(&state, &signed.caller, &user).await.map_err(|e| signed.fail(e))?;
    let notice = format!(
        "{user}'s password was reset and their sessions ended. Send them the temporary password below; they choose a new one when they sign in."
    );
    record_page(&state, &signed, &user, Some(notice), Some(password)).await
}

/// The checked roles of a roles form (`role=a&role=b`).
fn checked_roles(form: Vec<(String, String)>) -> Vec<String> {
    form.into_iter().filter(|(k, _)| k == "role").map(|(_, v)| v).collect()
}

async fn site_roles(
    State(state): State<WebState>,
    signed: Signed,
    Path(user): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let req = UpdateRoles { roles: checked_roles(form) };
    let u = user_roles::update(&state, &signed.caller, &user, &req)
        .await
        .map_err(|e| signed.fail(e))?;
    record_page(&state, &signed, &u.username, Some("Site roles saved.".into()), None).await
}

async fn org_roles_save(
    State(state): State<WebState>,
    signed: Signed,
    Path((user, org)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let req = UpdateRoles { roles: checked_roles(form) };
    members::update_roles(&state, &signed.caller, &org, &user, &req)
        .await
        .map_err(|e| signed.fail(e))?;
    record_page(&state, &signed, &user, Some("Organization roles saved.".into()), None).await
}
