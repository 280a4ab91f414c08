//! Groups: the list across the caller's organizations with Create group (per organization,
//! for those who may), and a group's page with its members, Add member, Remove and Delete.
//! Each action is offered only when the engine allows it on that group; the Everyone group
//! (whose id is its organization's) holds every member and is never editable, and says so.
//! A write the domain refuses (say, a group kept in step with the identity provider) shows
//! the domain's message on the group's page.

use askama::Template;
use askama_web::WebTemplate;
use atrium_api::orgs::{CreateGroupRequest, Group, PatchGroupRequest};
use atrium_domain::offers::Offer;
use atrium_domain::{groups, members, orgs};
use atrium_engine::{Action, Object, ResourceType};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::WebState;
use crate::errors::{PageResult, Problem, status_of};
use crate::session::{Chrome, Signed};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/groups", get(list).post(create))
        .route("/groups/{group}", get(page))
        .route("/groups/{group}/members", post(add_member))
        .route("/groups/{group}/members/{user}/remove", post(remove_member))
        .route("/groups/{group}/delete", post(delete))
}

/// An organization the caller may create groups in.
pub struct OrgChoice {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "groups.html")]
struct ListPage {
    chrome: Chrome,
    groups: Vec<Group>,
    create_in: Vec<OrgChoice>,
    name: String,
    display_name: String,
    problem: Option<Problem>,
}

#[derive(Deserialize)]
struct ListQuery {
    organization: Option<String>,
}

/// The organizations the caller may create a group in (`create` on groups there).
async fn creatable_orgs(
    state: &WebState,
    signed: &Signed,
    selected: Option<&str>,
) -> Result<Vec<OrgChoice>, atrium_domain::Error> {
    let caller = &signed.caller;
    Ok(orgs::list(state, caller)
        .await?
        .into_iter()
        .filter(|o| caller.can(Action::Create, &Object::of(ResourceType::Group).in_org(o.id)))
        .map(|o| {
            let id = o.id.to_string();
            OrgChoice {
                selected: selected.is_some_and(|s| s == id || s == o.name),
                name: if o.display_name.is_empty() { o.name } else { o.display_name },
                id,
            }
        })
        .collect())
}

async fn list_page(
    state: &WebState,
    signed: &Signed,
    selected: Option<&str>,
    form: Option<&CreateForm>,
    problem: Option<Problem>,
) -> PageResult {
    let fail = |e| signed.fail(e);
    let groups = groups::list(state, &signed.caller, None, None).await.map_err(fail)?;
    let create_in = creatable_orgs(state, signed, selected).await.map_err(fail)?;
    Ok(ListPage {
        chrome: signed.chrome("groups"),
        groups,
        create_in,
        name: form.map(|f| f.name.clone()).unwrap_or_default(),
        display_name: form.map(|f| f.display_name.clone()).unwrap_or_default(),
        problem,
    }
    .into_response())
}

async fn list(
    State(state): State<WebState>,
    signed: Signed,
    Query(query): Query<ListQuery>,
) -> PageResult {
    list_page(&state, &signed, query.organization.as_deref(), None, None).await
}

#[derive(Deserialize)]
struct CreateForm {
    organization: String,
    name: String,
    #[serde(default)]
    display_name: String,
}

/// Create group in the organization named by the form (the domain decides who may).
async fn create(
    State(state): State<WebState>,
    signed: Signed,
    Form(form): Form<CreateForm>,
) -> PageResult {
    let req = CreateGroupRequest {
        name: form.name.clone(),
        display_name: form.display_name.clone(),
        ..CreateGroupRequest::default()
    };
    match groups::create(&state, &signed.caller, &form.organization, &req).await {
        Ok(g) => Ok(Redirect::to(&format!("/groups/{}", g.id)).into_response()),
        Err(e) => {
            let status = status_of(&e);
            let page = list_page(
                &state,
                &signed,
                Some(&form.organization),
                Some(&form),
                Some(Problem::of(e)),
            )
            .await?;
            Ok((status, page).into_response())
        }
    }
}

/// A member row: who, and whether Remove is offered.
pub struct MemberRow {
    pub id: String,
    pub username: String,
    pub name: String,
    pub email: String,
}

/// An organization member who is not in the group yet.
pub struct Candidate {
    pub id: String,
    pub username: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "group.html")]
struct GroupPage {
    chrome: Chrome,
    id: String,
    name: String,
    display_name: String,
    organization: String,
    source: String,
    total: i64,
    members: Vec<MemberRow>,
    candidates: Vec<Candidate>,
    /// Add member and Remove.
    edit: bool,
    delete: bool,
    missing: Vec<(&'static str, Vec<String>)>,
    notice: Option<String>,
    problem: Option<Problem>,
}

/// Why the Everyone group offers nothing.
const EVERYONE_FIXED: &str = "the Everyone group holds every member of the organization: its \
                              members follow organization membership, and it cannot be deleted";

async fn group_page(
    state: &WebState,
    signed: &Signed,
    group: &str,
    notice: Option<String>,
    problem: Option<Problem>,
) -> PageResult {
    let caller = &signed.caller;
    let fail = |e| signed.fail(e);
    let g = groups::get(state, caller, group).await.map_err(fail)?;
    let everyone = g.id == g.organization_id;
    let decide = |action: Action| {
        if everyone {
            Offer::Refused(vec![EVERYONE_FIXED.to_owned()])
        } else {
            atrium_engine::group::with_group_object(g.id, g.organization_id, |o| {
                Offer::decide(caller, action, o)
            })
        }
    };
    let (update, remove) = (decide(Action::Update), decide(Action::Delete));
    let mut missing = Vec::new();
    if !update.allowed() {
        missing.push(("Add member", update.reasons().to_vec()));
    }
    if !remove.allowed() {
        missing.push(("Delete", remove.reasons().to_vec()));
    }
    let in_group: Vec<uuid::Uuid> = g.members.iter().map(|m| m.id).collect();
    let candidates = if update.allowed() {
        members::list(state, caller, &g.organization_id.to_string())
            .await
            .map_err(fail)?
            .into_iter()
            .filter(|m| !in_group.contains(&m.member.user_id))
            .map(|m| Candidate { id: m.member.user_id.to_string(), username: m.username })
            .collect()
    } else {
        Vec::new()
    };
    Ok(GroupPage {
        chrome: signed.chrome("groups"),
        id: g.id.to_string(),
        display_name: g.display_name.clone(),
        organization: g.organization_display_name.clone(),
        source: g.source.clone(),
        total: g.total_member_count,
        members: g
            .members
            .iter()
            .map(|m| MemberRow {
                id: m.id.to_string(),
                username: m.username.clone(),
                name: m.name.clone(),
                email: m.email.clone(),
            })
            .collect(),
        name: g.name,
        candidates,
        edit: update.allowed(),
        delete: remove.allowed(),
        missing,
        notice,
        problem,
    }
    .into_response())
}

async fn page(
    State(state): State<WebState>,
    signed: Signed,
    Path(group): Path<String>,
) -> PageResult {
    group_page(&state, &signed, &group, None, None).await
}

/// Applies a membership change and shows the group again, with the domain's refusal if any.
async fn patch(
    state: &WebState,
    signed: &Signed,
    group: &str,
    req: PatchGroupRequest,
    done: String,
) -> PageResult {
    match groups::patch(state, &signed.caller, group, &req).await {
        Ok(_) => group_page(state, signed, group, Some(done), None).await,
        Err(e) => {
            let status = status_of(&e);
            let page = group_page(state, signed, group, None, Some(Problem::of(e))).await?;
            Ok((status, page).into_response())
        }
    }
}

#[derive(Deserialize)]
struct AddForm {
    /// A user id (from the list of the organization's members).
    user: String,
}

async fn add_member(
    State(state): State<WebState>,
    signed: Signed,
    Path(group): Path<String>,
    Form(form): Form<AddForm>,
) -> PageResult {
    let req = PatchGroupRequest { add_users: vec![form.user], ..PatchGroupRequest::default() };
    patch(&state, &signed, &group, req, "Member added.".into()).await
}

async fn remove_member(
    State(state): State<WebState>,
    signed: Signed,
    Path((group, user)): Path<(String, String)>,
) -> PageResult {
    let req = PatchGroupRequest { remove_users: vec![user], ..PatchGroupRequest::default() };
    patch(&state, &signed, &group, req, "Member removed.".into()).await
}

async fn delete(
    State(state): State<WebState>,
    signed: Signed,
    Path(group): Path<String>,
) -> PageResult {
    match groups::delete(&state, &signed.caller, &group).await {
        Ok(_) => Ok(Redirect::to("/groups").into_response()),
        Err(e) => {
            let status = status_of(&e);
            let page = group_page(&state, &signed, &group, None, Some(Problem::of(e))).await?;
            Ok((status, page).into_response())
        }
    }
}
