//! Organizations: the list with Create organization (for those who may), and one
//! organization's page — its members with their organization roles, Add member, Remove and
//! Make default — under `/organizations/{name}`, the current organization the switcher moves
//! between (the org-scoped pages follow it in their URL).

use askama::Template;
use askama_web::WebTemplate;
use atrium_api::orgs::{CreateOrganizationRequest, Organization, UpdateOrganizationRequest};
use atrium_domain::offers::Offer;
use atrium_domain::{members, offers_orgs, orgs};
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
        .route("/organizations", get(list).post(create))
        .route("/organizations/switch", get(switch))
        .route("/organizations/{org}", get(page))
        .route("/organizations/{org}/default", post(make_default))
}

/// The organization switcher: every organization the caller may read, the current one, and
/// the sub-page to open in the one chosen.
pub struct Switcher {
    pub choices: Vec<(String, String)>,
    pub current: String,
    pub to: String,
}

impl Switcher {
    pub async fn new(
        state: &WebState,
        signed: &Signed,
        current: &str,
        to: &str,
    ) -> PageResult<Switcher> {
        let choices = orgs::list(state, &signed.caller)
            .await
            .map_err(|e| signed.fail(e))?
            .into_iter()
            .map(|o| (o.name, o.display_name))
            .collect();
        Ok(Switcher { choices, current: current.to_owned(), to: to.to_owned() })
    }
}

#[derive(Deserialize)]
struct SwitchQuery {
    org: String,
    #[serde(default)]
    to: String,
}

/// The switcher's answer: the same sub-page in the organization chosen.
async fn switch(Query(q): Query<SwitchQuery>) -> Response {
    let sub = match q.to.as_str() {
        "roles" => "/roles",
        _ => "",
    };
    Redirect::to(&format!("/organizations/{}{sub}", encode(&q.org))).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "organizations.html")]
struct ListPage {
    chrome: Chrome,
    organizations: Vec<Organization>,
    create: Offer,
    /// The organization sync settings link (the caller may read them).
    idp_sync: bool,
    form: OrgForm,
    problem: Option<Problem>,
}

#[derive(Deserialize, Default)]
struct OrgForm {
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    description: String,
}

async fn list(State(state): State<WebState>, signed: Signed) -> PageResult {
    list_page(&state, &signed, OrgForm::default(), None).await
}

async fn list_page(
    state: &WebState,
    signed: &Signed,
    form: OrgForm,
    problem: Option<Problem>,
) -> PageResult {
    let organizations = orgs::list(state, &signed.caller).await.map_err(|e| signed.fail(e))?;
    Ok(ListPage {
        chrome: signed.chrome("organizations"),
        organizations,
        create: offers_orgs::create_organization(&signed.caller),
        idp_sync: crate::idp_sync::site_link(&signed.caller),
        form,
        problem,
    }
    .into_response())
}

async fn create(
    State(state): State<WebState>,
    signed: Signed,
    Form(form): Form<OrgForm>,
) -> PageResult {
    let req = CreateOrganizationRequest {
        name: form.name.trim().to_owned(),
        display_name: form.display_name.trim().to_owned(),
        description: form.description.trim().to_owned(),
        icon: String::new(),
    };
    match orgs::create(&state, &signed.caller, &req).await {
        Ok(o) => Ok(Redirect::to(&format!("/organizations/{}", encode(&o.name))).into_response()),
        Err(e) if e.status() == 400 || e.status() == 409 => {
            list_page(&state, &signed, form, Some(Problem::of(e))).await
        }
        Err(e) => Err(signed.fail(e)),
    }
}

/// A member as the organization page lists them.
pub struct MemberRow {
    pub username: String,
    pub name: String,
    pub roles: Vec<String>,
    pub remove: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "organization.html")]
struct OrgPage {
    chrome: Chrome,
    switcher: Switcher,
    org: Organization,
    members: Vec<MemberRow>,
    members_hidden: bool,
    make_default: bool,
    /// The IdP sync settings link (the caller may read them).
    idp_sync: bool,
    add_member: Offer,
    notice: Option<String>,
    problem: Option<Problem>,
    username: String,
}

async fn page(
    State(state): State<WebState>,
    signed: Signed,
    Path(org): Path<String>,
) -> PageResult {
    org_page(&state, &signed, &org, None, None, String::new()).await
}

/// The organization page, with a notice or a refused form's problem.
pub async fn org_page(
    state: &WebState,
    signed: &Signed,
    org: &str,
    notice: Option<String>,
    problem: Option<Problem>,
    username: String,
) -> PageResult {
    let caller = &signed.caller;
    let fail = |e| signed.fail(e);
    let o = orgs::get(state, caller, org).await.map_err(fail)?;
    let switcher = Switcher::new(state, signed, &o.name, "").await?;
    let (members, members_hidden) = match members::list(state, caller, &o.id.to_string()).await {
        Ok(list) => (
            list.into_iter()
                .map(|m| MemberRow {
                    remove: offers_orgs::remove_member(caller, o.id, m.member.user_id).allowed()
                        && m.member.user_id != caller.id().uuid(),
                    roles: m.member.roles.iter().map(|r| r.display_name.clone()).collect(),
                    username: m.username,
                    name: m.name,
                })
                .collect(),
            false,
        ),
        Err(e) if e.status() == 404 || e.status() == 403 => (Vec::new(), true),
        Err(e) => return Err(fail(e)),
    };
    // As Coder: moving the default is offered only when there is another organization.
    let make_default = !o.is_default
        && switcher.choices.len() > 1
        && offers_orgs::make_default(caller, o.id).allowed();
    Ok(OrgPage {
        chrome: signed.chrome("organizations"),
        add_member: offers_orgs::add_member(caller, o.id),
        idp_sync: crate::idp_sync::org_link(caller, o.id),
        switcher,
        org: o,
        members,
        members_hidden,
        make_default,
        notice,
        problem,
        username,
    }
    .into_response())
}

async fn make_default(
    State(state): State<WebState>,
    signed: Signed,
    Path(org): Path<String>,
) -> PageResult {
    let req = UpdateOrganizationRequest { is_default: Some(true), ..Default::default() };
    let o = orgs::update(&state, &signed.caller, &org, &req).await.map_err(|e| signed.fail(e))?;
    let notice = format!("{} is now the default organization.", o.display_name);
    org_page(&state, &signed, &o.name, Some(notice), None, String::new()).await
}
