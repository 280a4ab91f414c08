//! Who holds a role, and Assign / Remove from the role's page: an organization role through
//! the member's organization roles ([`members::update_roles`]), a site role through the user's
//! site roles ([`user_roles::update`], as `PUT /users/{user}/roles`) — the same checks as the
//! member and user records, so a refusal here is the one there.

use atrium_api::users::AssignableRoles;
use atrium_domain::offers::Offer;
use atrium_domain::user_roles::RoleEdit;
use atrium_domain::{Error, Page, members, user_roles, users};
use atrium_engine::{Action, Object, ResourceType};
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::routing::post;
use serde::Deserialize;

use crate::WebState;
use crate::errors::{PageResult, Problem};
use crate::roles::{Outcome, Scope, refusal, role_page};
use crate::session::Signed;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/organizations/{org}/roles/{role}/assign", post(org_assign))
        .route("/organizations/{org}/roles/{role}/holders/{user}/remove", post(org_unassign))
        .route("/roles/{role}/assign", post(site_assign))
        .route("/roles/{role}/holders/{user}/remove", post(site_unassign))
}

/// A holder of the role, and whether the caller may take it from them.
pub struct Holder {
    pub username: String,
    pub remove: bool,
}

/// The users holding `role` that the caller may see.
pub async fn holders(
    state: &WebState,
    signed: &Signed,
    scope: &Scope,
    role: &str,
    assignable: bool,
) -> Result<Vec<Holder>, Error> {
    let caller = &signed.caller;
    let me = caller.id().uuid();
    let mut out = Vec::new();
    match scope {
        Scope::Org { id, .. } => {
            let listed = match members::list(state, caller, &id.to_string()).await {
                Ok(listed) => listed,
                Err(e) if e.status() == 404 || e.status() == 403 => return Ok(out),
                Err(e) => return Err(e),
            };
            for m in listed {
                if holds(m.member.roles.iter().map(|r| r.name.as_str()), role) {
                    out.push(Holder {
                        remove: assignable && m.member.user_id != me,
                        username: m.username,
                    });
                }
            }
        }
        Scope::Site => {
            let q = format!("role:{role}");
            let listed =
                match users::list(state, caller, &q, Page { limit: None, offset: 0 }, None).await {
                    Ok(listed) => listed.users,
                    Err(e) if e.status() == 403 || e.status() == 400 => return Ok(out),
                    Err(e) => return Err(e),
                };
            for u in listed {
                if holds(u.roles.iter().map(|r| r.name.as_str()), role) {
                    out.push(Holder { remove: assignable && u.id != me, username: u.username });
                }
            }
        }
    }
    Ok(out)
}

/// Whether `role` is among `names` (role names match without case).
fn holds<'a>(mut names: impl Iterator<Item = &'a str>, role: &str) -> bool {
    names.any(|n| n.eq_ignore_ascii_case(role))
}

/// Assign is offered when the engine lets the caller assign roles here and this one is among
/// those they may hand out (rbac.md §4, or the role's `assignable_by`).
pub fn assign_offer(signed: &Signed, scope: &Scope, role: &AssignableRoles) -> Offer {
    let object = match scope {
        Scope::Org { id, .. } => Object::of(ResourceType::AssignOrgRole).in_org(*id),
        Scope::Site => Object::of(ResourceType::AssignRole),
    };
    let engine = Offer::decide(&signed.caller, Action::Assign, &object);
    let this_role = if role.assignable {
        Offer::Allowed
    } else {
        Offer::Refused(vec![format!(
            "none of your roles may assign \"{}\" (rbac.md §4), and it does not name one of them as able to",
            role.role.name
        )])
    };
    engine.and(this_role)
}

#[derive(Deserialize)]
struct AssignForm {
    username: String,
}

/// Adds `role` to or takes it from `user`'s roles in the scope, by the same operations the
/// member or user record uses, as one change computed under the write's lock (a parallel change
/// to the same person's roles is kept).
async fn change(
    state: &WebState,
    signed: &Signed,
    scope: &Scope,
    user: &str,
    role: &str,
    add: bool,
) -> Result<(), Error> {
    let caller = &signed.caller;
    let edit = if add { RoleEdit::Add(role.to_owned()) } else { RoleEdit::Remove(role.to_owned()) };
    match scope {
        Scope::Org { id, .. } => {
            members::edit_roles(state, caller, &id.to_string(), user, &edit).await?;
        }
        Scope::Site => {
            user_roles::edit(state, caller, user, &edit).await?;
        }
    }
    Ok(())
}

async fn respond(
    state: &WebState,
    signed: &Signed,
    scope: &Scope,
    role: &str,
    user: &str,
    add: bool,
) -> PageResult {
    let outcome = match change(state, signed, scope, user, role, add).await {
        Ok(()) => Outcome {
            notice: Some(if add {
                format!("{user} now holds {role}.")
            } else {
                format!("{user} no longer holds {role}.")
            }),
            ..Outcome::default()
        },
        Err(e) if refusal(&e) || e.status() == 404 => Outcome {
            problem: Some(Problem::of(e)),
            username: if add { user.to_owned() } else { String::new() },
            ..Outcome::default()
        },
        Err(e) => return Err(signed.fail(e)),
    };
    role_page(state, signed, scope, role, outcome).await
}

async fn org_assign(
    State(state): State<WebState>,
    signed: Signed,
    Path((org, role)): Path<(String, String)>,
    Form(form): Form<AssignForm>,
) -> PageResult {
    let scope = Scope::resolve(&state, &signed, Some(&org)).await?;
    respond(&state, &signed, &scope, &role, form.username.trim(), true).await
}

async fn org_unassign(
    State(state): State<WebState>,
    signed: Signed,
    Path((org, role, user)): Path<(String, String, String)>,
) -> PageResult {
    let scope = Scope::resolve(&state, &signed, Some(&org)).await?;
    respond(&state, &signed, &scope, &role, &user, false).await
}

async fn site_assign(
    State(state): State<WebState>,
    signed: Signed,
    Path(role): Path<String>,
    Form(form): Form<AssignForm>,
) -> PageResult {
    respond(&state, &signed, &Scope::Site, &role, form.username.trim(), true).await
}

async fn site_unassign(
    State(state): State<WebState>,
    signed: Signed,
    Path((role, user)): Path<(String, String)>,
) -> PageResult {
    respond(&state, &signed, &Scope::Site, &role, &user, false).await
}
