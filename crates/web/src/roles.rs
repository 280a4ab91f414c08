//! Roles, per organization (`/organizations/{org}/roles`) and site-wide (`/roles`, linked from
//! Users): the list (built-in, custom and restriction roles), Create custom role with the
//! permission editor ([`crate::role_editor`]), and a role's page — its definition (Save,
//! Delete), who holds it, and Assign / Remove from there through the same domain operations
//! as the member and user records. Each action is offered only when the engine allows it,
//! with the reasons beside a missing one.

use askama::Template;
use askama_web::WebTemplate;
use atrium_api::users::{AssignableRoles, Permission as ApiPermission, Role as ApiRole};
use atrium_domain::offers::Offer;
use atrium_domain::offers_orgs::{self, RoleOffers};
use atrium_domain::{Error, org_roles, orgs, site_roles, user_roles};
use atrium_engine::BuiltinRole;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::WebState;
use crate::errors::{PageResult, Problem};
use crate::organizations::Switcher;
use crate::role_editor::{Editor, EditorForm, ORG_SCOPES, SITE_SCOPES, assignable_choices, grids};
use crate::role_holders::{self, Holder};
use crate::session::{Chrome, Signed, encode};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/organizations/{org}/roles", get(org_list).post(org_create))
        .route("/organizations/{org}/roles/new", get(org_new))
        .route("/organizations/{org}/roles/{role}", get(org_role).post(org_save))
        .route("/organizations/{org}/roles/{role}/delete", post(org_delete))
        .route("/roles", get(site_list).post(site_create))
        .route("/roles/new", get(site_new))
        .route("/roles/{role}", get(site_role).post(site_save))
        .route("/roles/{role}/delete", post(site_delete))
}

/// Where a role lives: one organization, or the whole site.
pub enum Scope {
    Org { name: String, id: uuid::Uuid, display_name: String },
    Site,
}

impl Scope {
    pub async fn resolve(
        state: &WebState,
        signed: &Signed,
        org: Option<&str>,
    ) -> PageResult<Scope> {
        let Some(org) = org else { return Ok(Scope::Site) };
        let o = orgs::get(state, &signed.caller, org).await.map_err(|e| signed.fail(e))?;
        Ok(Scope::Org { name: o.name, id: o.id, display_name: o.display_name })
    }

    /// The roles list's path.
    pub fn base(&self) -> String {
        match self {
            Scope::Org { name, .. } => format!("/organizations/{}/roles", encode(name)),
            Scope::Site => "/roles".to_owned(),
        }
    }

    fn title(&self) -> String {
        match self {
            Scope::Org { display_name, .. } => format!("Roles in {display_name}"),
            Scope::Site => "Site-wide roles".to_owned(),
        }
    }

    fn section(&self) -> &'static str {
        match self {
            Scope::Org { .. } => "organizations",
            Scope::Site => "users",
        }
    }

    async fn switcher(&self, state: &WebState, signed: &Signed) -> PageResult<Option<Switcher>> {
        match self {
            Scope::Org { name, .. } => Ok(Some(Switcher::new(state, signed, name, "roles").await?)),
            Scope::Site => Ok(None),
        }
    }

    /// The roles of this scope, with whether the caller may assign each.
    pub async fn roles(
        &self,
        state: &WebState,
        signed: &Signed,
    ) -> Result<Vec<AssignableRoles>, Error> {
        match self {
            Scope::Org { id, .. } => org_roles::list(state, &signed.caller, &id.to_string()).await,
            Scope::Site => user_roles::list_site_roles(state, &signed.caller).await,
        }
    }

    fn offers(&self, signed: &Signed) -> RoleOffers {
        match self {
            Scope::Org { id, .. } => offers_orgs::org_roles(&signed.caller, *id),
            Scope::Site => offers_orgs::site_roles(&signed.caller),
        }
    }

    fn scopes(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            Scope::Org { .. } => ORG_SCOPES,
            Scope::Site => SITE_SCOPES,
        }
    }

    /// The role's permissions in one editor field.
    fn held(role: &ApiRole, field: &str) -> Vec<ApiPermission> {
        match field {
            "org_perm" => role.organization_permissions.clone(),
            "site_perm" => role.site_permissions.clone(),
            _ => role.user_permissions.clone(),
        }
    }

    async fn save(
        &self,
        state: &WebState,
        signed: &Signed,
        form: &EditorForm,
        create: bool,
    ) -> Result<ApiRole, Error> {
        let caller = &signed.caller;
        match (self, create) {
            (Scope::Org { id, .. }, true) => {
                org_roles::create(state, caller, &id.to_string(), &form.org_request()).await
            }
            (Scope::Org { id, .. }, false) => {
                org_roles::update(state, caller, &id.to_string(), &form.org_request()).await
            }
            (Scope::Site, true) => site_roles::create(state, caller, &form.site_request()).await,
            (Scope::Site, false) => site_roles::update(state, caller, &form.site_request()).await,
        }
    }
}

/// A role in the list.
pub struct RoleRow {
    pub name: String,
    pub display_name: String,
    pub built_in: bool,
    pub restriction: bool,
    pub assignable: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "roles.html")]
struct ListPage {
    chrome: Chrome,
    switcher: Option<Switcher>,
    title: String,
    base: String,
    roles: Vec<RoleRow>,
    create: Offer,
}

async fn org_list(
    State(state): State<WebState>,
    signed: Signed,
    Path(org): Path<String>,
) -> PageResult {
    list(&state, &signed, Scope::resolve(&state, &signed, Some(&org)).await?).await
}

async fn site_list(State(state): State<WebState>, signed: Signed) -> PageResult {
    list(&state, &signed, Scope::Site).await
}

async fn list(state: &WebState, signed: &Signed, scope: Scope) -> PageResult {
    let roles = scope.roles(state, signed).await.map_err(|e| signed.fail(e))?;
    let roles = roles
        .into_iter()
        .map(|r| RoleRow {
            display_name: display(&r.role),
            // The built-in creation ban is a restriction role too (read-only).
            restriction: r.role.restriction
                || r.role.name == BuiltinRole::OrganizationWorkspaceCreationBan.name(),
            name: r.role.name,
            built_in: r.built_in,
            assignable: r.assignable,
        })
        .collect();
    Ok(ListPage {
        chrome: signed.chrome(scope.section()),
        switcher: scope.switcher(state, signed).await?,
        title: scope.title(),
        base: scope.base(),
        roles,
        create: scope.offers(signed).create,
    }
    .into_response())
}

fn display(role: &ApiRole) -> String {
    if role.display_name.is_empty() { role.name.clone() } else { role.display_name.clone() }
}

#[derive(Template, WebTemplate)]
#[template(path = "role_new.html")]
struct NewPage {
    chrome: Chrome,
    switcher: Option<Switcher>,
    title: String,
    base: String,
    editor: Editor,
    problem: Option<Problem>,
}

/// Role names `assignable_by` may list in this scope (the domain refuses any other).
async fn assignable_candidates(
    state: &WebState,
    signed: &Signed,
    scope: &Scope,
    own: &str,
) -> Vec<String> {
    let mut names: Vec<String> = match scope {
        Scope::Org { .. } => BuiltinRole::ALL.iter().map(|b| b.name().to_owned()).collect(),
        Scope::Site => BuiltinRole::ALL
            .iter()
            .filter(|b| !b.is_org_role())
            .map(|b| b.name().to_owned())
            .collect(),
    };
    if let Ok(roles) = scope.roles(state, signed).await {
        names.extend(roles.into_iter().filter(|r| !r.built_in).map(|r| r.role.name));
    }
    if let Scope::Org { .. } = scope
        && let Ok(site) = site_roles::list(state, &signed.caller).await
    {
        names.extend(site.into_iter().map(|r| r.role.name));
    }
    names.retain(|n| !n.eq_ignore_ascii_case(own));
    names.sort();
    names.dedup();
    names
}

/// The editor for a new role, or the posted one shown again after a refusal.
async fn new_editor(
    state: &WebState,
    signed: &Signed,
    scope: &Scope,
    form: Option<&EditorForm>,
) -> Editor {
    let offers = scope.offers(signed);
    let held = |field: &str| form.map(|f| f.api_permissions(field)).unwrap_or_default();
    let assignable_by = if offers.assignable_by.allowed() {
        let selected = form.and_then(EditorForm::assignable_by).unwrap_or_default();
        Some(assignable_choices(assignable_candidates(state, signed, scope, "").await, &selected))
    } else {
        None
    };
    Editor {
        action: scope.base(),
        new: true,
        name: form.map(|f| f.name.clone()).unwrap_or_default(),
        display_name: form.map(|f| f.display_name.clone()).unwrap_or_default(),
        restriction: form.is_some_and(|f| f.restriction),
        kind_choice: offers.restriction.allowed(),
        grids: grids(scope.scopes(), held),
        assignable_by,
        editable: true,
        verb: "Create custom role",
    }
}

async fn org_new(
    State(state): State<WebState>,
    signed: Signed,
    Path(org): Path<String>,
) -> PageResult {
    new_page(&state, &signed, Scope::resolve(&state, &signed, Some(&org)).await?, None, None).await
}

async fn site_new(State(state): State<WebState>, signed: Signed) -> PageResult {
    new_page(&state, &signed, Scope::Site, None, None).await
}

async fn new_page(
    state: &WebState,
    signed: &Signed,
    scope: Scope,
    form: Option<&EditorForm>,
    refused: Option<Error>,
) -> PageResult {
    let editor = new_editor(state, signed, &scope, form).await;
    // A refusal answers with its own status (403, 400, 409), the form shown again beside it.
    let status = refused
        .as_ref()
        .and_then(|e| axum::http::StatusCode::from_u16(e.status()).ok())
        .unwrap_or(axum::http::StatusCode::OK);
    Ok((
        status,
        NewPage {
            chrome: signed.chrome(scope.section()),
            switcher: scope.switcher(state, signed).await?,
            title: scope.title(),
            base: scope.base(),
            editor,
            problem: refused.map(Problem::of),
        },
    )
        .into_response())
}

async fn org_create(
    State(state): State<WebState>,
    signed: Signed,
    Path(org): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    create(&state, &signed, Scope::resolve(&state, &signed, Some(&org)).await?, form).await
}

async fn site_create(
    State(state): State<WebState>,
    signed: Signed,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    create(&state, &signed, Scope::Site, form).await
}

async fn create(
    state: &WebState,
    signed: &Signed,
    scope: Scope,
    form: Vec<(String, String)>,
) -> PageResult {
    let form = EditorForm::parse(form);
    match scope.save(state, signed, &form, true).await {
        Ok(role) => Ok(to_role(&scope, &role.name)),
        Err(e) if refusal(&e) => new_page(state, signed, scope, Some(&form), Some(e)).await,
        Err(e) => Err(signed.fail(e)),
    }
}

/// A refusal a form shows beside itself (rather than an error page).
pub fn refusal(e: &Error) -> bool {
    matches!(e.status(), 400 | 403 | 409)
}

fn to_role(scope: &Scope, name: &str) -> Response {
    Redirect::to(&format!("{}/{}", scope.base(), encode(name))).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "role.html")]
pub struct RolePage {
    chrome: Chrome,
    switcher: Option<Switcher>,
    base: String,
    back: String,
    role: RoleRow,
    editor: Option<Editor>,
    delete: bool,
    holders: Vec<Holder>,
    assign: Offer,
    notice: Option<String>,
    problem: Option<Problem>,
    username: String,
}

async fn org_role(
    State(state): State<WebState>,
    signed: Signed,
    Path((org, role)): Path<(String, String)>,
) -> PageResult {
    let scope = Scope::resolve(&state, &signed, Some(&org)).await?;
    role_page(&state, &signed, &scope, &role, Outcome::default()).await
}

async fn site_role(
    State(state): State<WebState>,
    signed: Signed,
    Path(role): Path<String>,
) -> PageResult {
    role_page(&state, &signed, &Scope::Site, &role, Outcome::default()).await
}

/// What the last form did: a notice, or a refusal with the form's input.
#[derive(Default)]
pub struct Outcome {
    pub notice: Option<String>,
    pub problem: Option<Problem>,
    pub form: Option<EditorForm>,
    pub username: String,
}

/// A role's page: its definition (an editor for a custom role the caller may change), Delete,
/// its holders and Assign.
pub async fn role_page(
    state: &WebState,
    signed: &Signed,
    scope: &Scope,
    name: &str,
    outcome: Outcome,
) -> PageResult {
    let refused = outcome.problem.as_ref().map(|p| p.status);
    let fail = |e| signed.fail(e);
    let roles = scope.roles(state, signed).await.map_err(fail)?;
    let Some(found) = roles.into_iter().find(|r| r.role.name.eq_ignore_ascii_case(name)) else {
        return Err(fail(Error::not_found()));
    };
    let offers = scope.offers(signed);
    let restriction = found.role.restriction;
    // Restriction roles are changed and deleted by owners only.
    let kind_ok = !restriction || offers.restriction.allowed();
    let editor = if found.built_in {
        None
    } else {
        let editable = offers.update.allowed() && kind_ok;
        let form = outcome.form.as_ref();
        let role = &found.role;
        let held = |field: &str| match form {
            Some(f) => f.api_permissions(field),
            None => Scope::held(role, field),
        };
        let assignable_by = if offers.assignable_by.allowed() {
            let selected = form
                .and_then(EditorForm::assignable_by)
                .unwrap_or_else(|| role.assignable_by.clone());
            Some(assignable_choices(
                assignable_candidates(state, signed, scope, &role.name).await,
                &selected,
            ))
        } else {
            None
        };
        Some(Editor {
            action: format!("{}/{}", scope.base(), encode(&role.name)),
            new: false,
            name: role.name.clone(),
            display_name: form
                .map_or_else(|| role.display_name.clone(), |f| f.display_name.clone()),
            restriction,
            kind_choice: false,
            grids: grids(scope.scopes(), held),
            assignable_by,
            editable,
            verb: "Save",
        })
    };
    let delete = !found.built_in && offers.delete.allowed() && kind_ok;
    let holders = role_holders::holders(state, signed, scope, &found.role.name, found.assignable)
        .await
        .map_err(fail)?;
    let assign = role_holders::assign_offer(signed, scope, &found);
    Ok(RolePage {
        chrome: signed.chrome(scope.section()),
        switcher: scope.switcher(state, signed).await?,
        base: format!("{}/{}", scope.base(), encode(&found.role.name)),
        back: scope.base(),
        role: RoleRow {
            display_name: display(&found.role),
            name: found.role.name,
            built_in: found.built_in,
            restriction,
            assignable: found.assignable,
        },
        editor,
        delete,
        holders,
        assign,
        notice: outcome.notice,
        problem: outcome.problem,
        username: outcome.username,
    }
    .into_response())
    .map(|mut page: axum::response::Response| {
        // A page showing a refusal answers with the refusal's status, as every form does.
        if let Some(status) = refused.and_then(|s| axum::http::StatusCode::from_u16(s).ok()) {
            *page.status_mut() = status;
        }
        page
    })
}

async fn org_save(
    State(state): State<WebState>,
    signed: Signed,
    Path((org, role)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let scope = Scope::resolve(&state, &signed, Some(&org)).await?;
    save(&state, &signed, &scope, &role, form).await
}

async fn site_save(
    State(state): State<WebState>,
    signed: Signed,
    Path(role): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    save(&state, &signed, &Scope::Site, &role, form).await
}

async fn save(
    state: &WebState,
    signed: &Signed,
    scope: &Scope,
    role: &str,
    form: Vec<(String, String)>,
) -> PageResult {
    let mut form = EditorForm::parse(form);
    // The role is the one in the path, whatever the form says.
    form.name = role.to_owned();
    let outcome = match scope.save(state, signed, &form, false).await {
        Ok(_) => Outcome { notice: Some("Role saved.".into()), ..Outcome::default() },
        Err(e) if refusal(&e) => {
            Outcome { problem: Some(Problem::of(e)), form: Some(form), ..Outcome::default() }
        }
        Err(e) => return Err(signed.fail(e)),
    };
    role_page(state, signed, scope, role, outcome).await
}

async fn org_delete(
    State(state): State<WebState>,
    signed: Signed,
    Path((org, role)): Path<(String, String)>,
) -> PageResult {
    org_roles::delete(&state, &signed.caller, &org, &role).await.map_err(|e| signed.fail(e))?;
    Ok(Redirect::to(&format!("/organizations/{}/roles", encode(&org))).into_response())
}

async fn site_delete(
    State(state): State<WebState>,
    signed: Signed,
    Path(role): Path<String>,
) -> PageResult {
    site_roles::delete(&state, &signed.caller, &role).await.map_err(|e| signed.fail(e))?;
    Ok(Redirect::to("/roles").into_response())
}
