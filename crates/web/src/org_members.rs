//! An organization's members: Add member and Remove (on the organization page), and one
//! member's organization roles, edited as on the user record (the same domain operation, the
//! same role checkboxes), for those who may read the member but not the user's site record.

use askama::Template;
use askama_web::WebTemplate;
use atrium_api::orgs::Organization;
use atrium_api::users::UpdateRoles;
use atrium_domain::{members, org_roles, orgs};
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::WebState;
use crate::errors::{PageResult, Problem};
use crate::organizations::{Switcher, org_page};
use crate::session::{Chrome, Signed};
use crate::users::RoleChoice;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/organizations/{org}/members", post(add))
        .route("/organizations/{org}/members/{user}", get(member))
        .route("/organizations/{org}/members/{user}/remove", post(remove))
        .route("/organizations/{org}/members/{user}/roles", post(save_roles))
}

#[derive(Deserialize)]
struct AddForm {
    username: String,
}

async fn add(
    State(state): State<WebState>,
    signed: Signed,
    Path(org): Path<String>,
    Form(form): Form<AddForm>,
) -> PageResult {
    let username = form.username.trim().to_owned();
    match members::add(&state, &signed.caller, &org, &username).await {
        Ok(_) => {
            let notice = format!("{username} is now a member.");
            org_page(&state, &signed, &org, Some(notice), None, String::new()).await
        }
        // Refused or unknown: the page again, with the domain's message and reasons.
        Err(e) if e.status() < 500 && e.status() != 401 => {
            org_page(&state, &signed, &org, None, Some(Problem::of(e)), username).await
        }
        Err(e) => Err(signed.fail(e)),
    }
}

async fn remove(
    State(state): State<WebState>,
    signed: Signed,
    Path((org, user)): Path<(String, String)>,
) -> PageResult {
    members::remove(&state, &signed.caller, &org, &user).await.map_err(|e| signed.fail(e))?;
    org_page(&state, &signed, &org, Some(format!("{user} was removed.")), None, String::new()).await
}

#[derive(Template, WebTemplate)]
#[template(path = "org_member.html")]
struct MemberPage {
    chrome: Chrome,
    switcher: Switcher,
    org: Organization,
    username: String,
    roles: Vec<RoleChoice>,
    editable: bool,
    why: Vec<String>,
    notice: Option<String>,
}

async fn member(
    State(state): State<WebState>,
    signed: Signed,
    Path((org, user)): Path<(String, String)>,
) -> PageResult {
    member_page(&state, &signed, &org, &user, None).await
}

/// The organization's roles as checkboxes for one member: those held checked, each enabled
/// when the caller may assign it (never on their own membership).
pub async fn member_page(
    state: &WebState,
    signed: &Signed,
    org: &str,
    user: &str,
    notice: Option<String>,
) -> PageResult {
    let caller = &signed.caller;
    let fail = |e| signed.fail(e);
    let o = orgs::get(state, caller, org).await.map_err(fail)?;
    let org_id = o.id.to_string();
    let m = members::get(state, caller, &org_id, user).await.map_err(fail)?;
    let own = m.member.user_id == caller.id().uuid();
    let (roles, editable, why) = match org_roles::list(state, caller, &org_id).await {
        Ok(list) => {
            let (roles, any) = RoleChoice::for_org(list, &m.member.roles);
            let why = if own {
                vec!["you cannot change your own organization roles".to_owned()]
            } else if !any {
                vec!["none of your roles may assign roles in this organization".to_owned()]
            } else {
                Vec::new()
            };
            (roles, any && !own, why)
        }
        Err(e) => (RoleChoice::held_only(&m.member.roles), false, e.reasons.clone()),
    };
    let switcher = Switcher::new(state, signed, &o.name, "").await?;
    Ok(MemberPage {
        chrome: signed.chrome("organizations"),
        switcher,
        org: o,
        username: m.username,
        roles,
        editable,
        why,
        notice,
    }
    .into_response())
}

async fn save_roles(
    State(state): State<WebState>,
    signed: Signed,
    Path((org, user)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let roles = form.into_iter().filter(|(k, _)| k == "role").map(|(_, v)| v).collect();
    members::update_roles(&state, &signed.caller, &org, &user, &UpdateRoles { roles })
        .await
        .map_err(|e| signed.fail(e))?;
    member_page(&state, &signed, &org, &user, Some("Organization roles saved.".into())).await
}
