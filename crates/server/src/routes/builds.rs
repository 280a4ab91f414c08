//! Workspace builds (coder-api.md §1.7): start, stop and delete as provisioner jobs, the build
//! list, cancel, and logs with a follow mode that streams until the job ends.
//!
//! Authorization as Coder decides it, with one deliberate difference: start and stop need only
//! the `start` / `stop` actions (Coder's builder also pre-checks `update`), so a role that grants
//! start/stop alone works. Delete needs `delete`.

use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use atrium_api::Response as Message;
use atrium_api::templates::ProvisionerJobLog;
use atrium_api::workspaces::{CreateWorkspaceBuildRequest, WorkspaceBuild};
#[allow(unused_imports)]
use atrium_domain::builds::*;
use atrium_domain::workspaces::{WorkspaceAuthz, resolve_workspace};
use atrium_engine::Action;
use atrium_store::jobs::{self, JobStatus};
use atrium_store::{
    BuildReason, BuildTransition, DbTime, StoreError, TemplateVersionId, templates, users,
    workspaces,
};
use axum::body::Body as HttpBody;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::Instant;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_builds, create_build))
        .routes(routes!(get_build))
        .routes(routes!(cancel_build))
        .routes(routes!(build_logs))
}

/// Starts, stops or deletes a workspace.
#[utoipa::path(post, path = "/api/v2/workspaces/{workspace}/builds", tag = "Builds",
    request_body = CreateWorkspaceBuildRequest, params(("workspace" = String, Path)),
    responses((status = 201, body = WorkspaceBuild), (status = 400, body = Message), (status = 403, body = Message),
        (status = 406, body = Message), (status = 409, body = Message)))]
async fn create_build(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<CreateWorkspaceBuildRequest>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("start", "workspace_build").by(&actor);
    let result = async {
        let (ws, authz) = resolve_workspace(&state, &actor, &param).await?;
        entry.resource(ws.id.uuid(), ws.name.clone());
        entry.org = Some(ws.org_id);
        let Some(transition) = BuildTransition::parse(&req.transition) else {
            return Err(ApiError::bad_request(format!(
                "Transition \"{}\" not supported.",
                req.transition
            )));
        };
        let (action, verb) = match transition {
            BuildTransition::Start => (Action::Start, "start"),
            BuildTransition::Stop => (Action::Stop, "stop"),
            BuildTransition::Delete => (Action::Delete, "delete"),
        };
        entry.action = verb;
        submit_build(
            &state,
            &actor,
            &ws,
            &authz,
            transition,
            action,
            req.template_version_id.map(TemplateVersionId),
            &mut entry,
        )
        .await
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

#[expect(clippy::too_many_arguments, reason = "one call site; a struct would only rename them")]
async fn submit_build(
    state: &Shared,
    actor: &Actor,
    ws: &workspaces::Workspace,
    authz: &WorkspaceAuthz,
    transition: BuildTransition,
    action: Action,
    version: Option<TemplateVersionId>,
    entry: &mut Entry,
) -> ApiResult<Response> {
    if !actor.can(action, &authz.object()) {
        return Err(ApiError::forbidden_with(format!(
            "You do not have permission to {} this workspace.",
            transition.as_str()
        )));
    }
    let latest = workspaces::latest_build(state.legacy_store(), ws.id).await?;
    let version_id = match version {
        Some(v) => {
            let found = templates::get_version(state.legacy_store(), v).await;
            match found {
                Ok(tv) if tv.template_id == Some(ws.template_id) => v,
                Ok(_) => {
                    return Err(ApiError::bad_request("template version doesn't match template"));
                }
                Err(StoreError::NotFound { .. }) => {
                    return Err(ApiError::bad_request(format!(
                        "Template version \"{v}\" doesn't exist."
                    )));
                }
                Err(e) => return Err(e.into()),
            }
        }
        None => latest.template_version_id,
    };
    let mut tx = state.legacy_store().begin().await?;
    // One active build per workspace: `queue_build` checks it under the workspace's lock.
    let build =
        queue_build(&mut tx, ws, version_id, transition, BuildReason::Initiator, actor.id(), None)
            .await?;
    entry.changed(
        &json!({}),
        &json!({"transition": transition.as_str(), "build_number": build.build_number}),
    );
    audit::write(&mut tx, &actor.meta, entry, 201).await?;
    tx.commit().await?;
    state.jobs.wake();
    let owner = users::get(state.legacy_store(), ws.owner_id).await?;
    Ok(json_response(StatusCode::CREATED, &build_to_api(state, ws, &owner, &build).await?))
}

/// The workspace's builds, newest first.
#[utoipa::path(get, path = "/api/v2/workspaces/{workspace}/builds", tag = "Builds",
    params(("workspace" = String, Path)), responses((status = 200, body = Vec<WorkspaceBuild>)))]
async fn list_builds(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let (ws, _) = resolve_workspace(&state, &actor, &param).await?;
    let owner = users::get(state.legacy_store(), ws.owner_id).await?;
    let mut out = Vec::new();
    for b in workspaces::list_builds(state.legacy_store(), ws.id).await? {
        out.push(build_to_api(&state, &ws, &owner, &b).await?);
    }
    Ok(json_response(StatusCode::OK, &out))
}

/// One build.
#[utoipa::path(get, path = "/api/v2/workspacebuilds/{workspacebuild}", tag = "Builds",
    params(("workspacebuild" = String, Path)), responses((status = 200, body = WorkspaceBuild)))]
async fn get_build(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let (build, ws, _) = resolve_build(&state, &actor, &param).await?;
    let owner = users::get(state.legacy_store(), ws.owner_id).await?;
    Ok(json_response(StatusCode::OK, &build_to_api(&state, &ws, &owner, &build).await?))
}

/// Asks the build's job to stop; the worker ends it as canceled.
#[utoipa::path(patch, path = "/api/v2/workspacebuilds/{workspacebuild}/cancel", tag = "Builds",
    params(("workspacebuild" = String, Path)), responses((status = 200, body = Message)))]
async fn cancel_build(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("write", "workspace_build").by(&actor);
    let result = async {
        let (build, ws, authz) = resolve_build(&state, &actor, &param).await?;
        entry.resource(ws.id.uuid(), ws.name.clone());
        entry.org = Some(ws.org_id);
        actor.require(Action::Update, &authz.object())?;
        let job = jobs::get(state.legacy_store(), build.job_id).await?;
        if !matches!(job.status(), JobStatus::Pending | JobStatus::Running) {
            return Err(ApiError::bad_request("Job has already completed!"));
        }
        let mut tx = state.legacy_store().begin().await?;
        jobs::cancel(&mut tx, build.job_id, DbTime::now()).await?;
        entry.changed(&json!({"canceled": false}), &json!({"canceled": true}));
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::OK, &Message::message("Job has been marked as canceled...")))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// The build's log; `?follow=true` streams newline-delimited JSON lines until the job ends, or
/// until the reader may no longer read the workspace (checked every [`FOLLOW_RECHECK`]).
#[utoipa::path(get, path = "/api/v2/workspacebuilds/{workspacebuild}/logs", tag = "Builds",
    params(("workspacebuild" = String, Path), ("after" = Option<i64>, Query), ("follow" = Option<bool>, Query)),
    responses((status = 200, description = "The lines so far (JSON), or with `follow` one JSON line each (NDJSON).",
        content((Vec<ProvisionerJobLog> = "application/json"), (ProvisionerJobLog = "application/x-ndjson")))))]
async fn build_logs(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let (build, ws, _) = resolve_build(&state, &actor, &param).await?;
    let after = match params.single("after")? {
        Some(a) => a.parse::<i64>().map_err(|_| {
            ApiError::bad_request("Query parameters have invalid values.")
                .validation("after", "Query param \"after\" must be a valid integer")
        })?,
        None => 0,
    };
    if !params.bool("follow")?.unwrap_or(false) {
        let logs = jobs::list_logs(state.legacy_store(), build.job_id, after).await?;
        return Ok(json_response(
            StatusCode::OK,
            &logs.into_iter().map(log_to_api).collect::<Vec<_>>(),
        ));
    }
    let job = build.job_id;
    let follow = Follow {
        state: state.domain.clone(),
        key_id: actor.key_id.clone(),
        workspace: ws.id,
        after,
        done: false,
        checked: Instant::now(),
    };
    let stream = futures_util::stream::unfold(follow, move |f| next_chunk(job, f));
    let mut response = HttpBody::from_stream(stream).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    Ok(response)
}
