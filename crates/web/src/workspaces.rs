//! Workspaces: the list (Coder's filter language, default `owner:me`), New workspace (only
//! when the caller may create a workspace of their own in one of their organizations, decided
//! per organization, and offering only templates they may use), and a workspace's page with
//! Start / Stop / Delete as the engine allows them and the latest build's log, live while the
//! build runs (server-sent events from the domain's log follower).

use askama::Template;
use askama_web::WebTemplate;
use atrium_api::workspaces::{CreateWorkspaceBuildRequest, CreateWorkspaceRequest, Workspace};
use atrium_domain::offers::{self, Offer};
use atrium_domain::{Page, builds, workspaces};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;

use crate::WebState;
use crate::errors::{PageResult, Problem};
use crate::log_events;
use crate::session::{Chrome, Signed, encode};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/workspaces", get(list))
        .route("/workspaces/new", get(new_page).post(create))
        .route("/workspaces/{owner}/{name}", get(page))
        .route("/workspaces/{owner}/{name}/{transition}", post(transition))
        .route("/builds/{build}/log", get(follow_log))
}

/// A workspace as a list row.
pub struct WorkspaceRow {
    pub name: String,
    pub owner: String,
    pub template: String,
    pub organization: String,
    pub status: String,
}

impl WorkspaceRow {
    fn new(w: &Workspace) -> WorkspaceRow {
        WorkspaceRow {
            name: w.name.clone(),
            owner: w.owner_name.clone(),
            template: if w.template_display_name.is_empty() {
                w.template_name.clone()
            } else {
                w.template_display_name.clone()
            },
            organization: w.organization_name.clone(),
            status: w.latest_build.status.clone(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "workspaces.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    workspaces: Vec<WorkspaceRow>,
    count: i64,
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
    let q = query.q.unwrap_or_else(|| "owner:me".to_owned());
    let fail = |e| signed.fail(e);
    let may_create =
        !offers::workspace_orgs(&state, &signed.caller).await.map_err(fail)?.is_empty();
    let page = Page { limit: Some(100), offset: 0 };
    let (rows, count, problem) = match workspaces::list(&state, &signed.caller, &q, page).await {
        Ok(listed) => {
            (listed.workspaces.iter().map(WorkspaceRow::new).collect(), listed.count, None)
        }
        Err(e) if e.status() == 400 => (Vec::new(), 0, Some(Problem::of(e))),
        Err(e) => return Err(fail(e)),
    };
    Ok(ListPage {
        chrome: signed.chrome("workspaces"),
        q,
        workspaces: rows,
        count,
        may_create,
        problem,
    }
    .into_response())
}

/// A template offered by New workspace.
pub struct TemplateChoice {
    pub id: String,
    pub label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "workspace_new.html")]
struct NewPage {
    chrome: Chrome,
    templates: Vec<TemplateChoice>,
    name: String,
    problem: Option<Problem>,
}

#[derive(Deserialize)]
struct NewForm {
    template_id: String,
    name: String,
}

async fn choices(state: &WebState, signed: &Signed) -> PageResult<Vec<TemplateChoice>> {
    let usable =
        offers::usable_templates(state, &signed.caller).await.map_err(|e| signed.fail(e))?;
    Ok(usable
        .into_iter()
        .map(|t| TemplateChoice {
            id: t.id.to_string(),
            label: format!(
                "{} ({})",
                if t.display_name.is_empty() { &t.name } else { &t.display_name },
                t.organization_display_name
            ),
        })
        .collect())
}

async fn new_page(State(state): State<WebState>, signed: Signed) -> PageResult {
    let templates = choices(&state, &signed).await?;
    Ok(NewPage {
        chrome: signed.chrome("workspaces"),
        templates,
        name: String::new(),
        problem: None,
    }
    .into_response())
}

async fn create(
    State(state): State<WebState>,
    signed: Signed,
    Form(form): Form<NewForm>,
) -> PageResult {
    let req = CreateWorkspaceRequest {
        template_id: Uuid::parse_str(&form.template_id).ok(),
        template_version_id: None,
        name: form.name.clone(),
    };
    match workspaces::create(&state, &signed.caller, None, "me", req).await {
        Ok(w) => {
            Ok(Redirect::to(&format!("/workspaces/{}/{}", encode(&w.owner_name), encode(&w.name)))
                .into_response())
        }
        Err(e) => {
            let templates = choices(&state, &signed).await?;
            Ok(NewPage {
                chrome: signed.chrome("workspaces"),
                templates,
                name: form.name,
                problem: Some(Problem::of(e)),
            }
            .into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "workspace.html")]
struct WorkspacePage {
    chrome: Chrome,
    ws: WorkspaceRow,
    build_number: i32,
    transition: String,
    job_error: String,
    active: bool,
    build_id: String,
    log: String,
    start: bool,
    stop: bool,
    delete: bool,
    missing: Vec<(&'static str, Vec<String>)>,
}

async fn page(
    State(state): State<WebState>,
    signed: Signed,
    Path((owner, name)): Path<(String, String)>,
) -> PageResult {
    let fail = |e| signed.fail(e);
    let w = workspaces::get_by_owner_and_name(&state, &signed.caller, &owner, &name)
        .await
        .map_err(fail)?;
    let offers =
        offers::workspace(&state, &signed.caller, &w.id.to_string()).await.map_err(fail)?;
    let build = &w.latest_build;
    let active = build.job.completed_at.is_none() && build.job.canceled_at.is_none();
    let status = build.status.as_str();
    let deleted = build.transition == "delete" && status == "deleted";
    let mut missing = Vec::new();
    let mut offered = |verb: &'static str, applies: bool, offer: &Offer| {
        if applies && !offer.allowed() {
            missing.push((verb, offer.reasons().to_vec()));
        }
        applies && offer.allowed()
    };
    let idle = !active && !deleted;
    let start = offered(
        "Start",
        // After a stop, or a start that failed.
        idle && (build.transition != "start" || status == "failed"),
        &offers.start,
    );
    let stop = offered("Stop", idle && build.transition == "start", &offers.stop);
    let delete = offered("Delete", idle, &offers.delete);
    let log = if active {
        String::new()
    } else {
        let opened =
            builds::open_log(&state, &signed.caller, &build.id.to_string()).await.map_err(fail)?;
        opened
            .lines(&state, 0)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|l| l.output)
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(WorkspacePage {
        chrome: signed.chrome("workspaces"),
        ws: WorkspaceRow::new(&w),
        build_number: build.build_number,
        transition: build.transition.clone(),
        job_error: build.job.error.clone(),
        active,
        build_id: build.id.to_string(),
        log,
        start,
        stop,
        delete,
        missing,
    }
    .into_response())
}

/// Start, stop or delete: queues the build, then shows the workspace with its log following.
async fn transition(
    State(state): State<WebState>,
    signed: Signed,
    Path((owner, name, transition)): Path<(String, String, String)>,
) -> PageResult {
    let fail = |e| signed.fail(e);
    let w = workspaces::get_by_owner_and_name(&state, &signed.caller, &owner, &name)
        .await
        .map_err(fail)?;
    let req = CreateWorkspaceBuildRequest { transition, template_version_id: None };
    builds::create_build(&state, &signed.caller, &w.id.to_string(), req).await.map_err(fail)?;
    Ok(Redirect::to(&format!("/workspaces/{}/{}", encode(&owner), encode(&name))).into_response())
}

/// A build's log as server-sent events ([`log_events::follow`]).
async fn follow_log(
    State(state): State<WebState>,
    signed: Signed,
    Path(build): Path<String>,
) -> PageResult {
    let log = builds::open_log(&state, &signed.caller, &build).await.map_err(|e| signed.fail(e))?;
    Ok(log_events::follow(&state, log, "a build log"))
}
