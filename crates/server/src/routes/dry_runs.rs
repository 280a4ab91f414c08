//! Template version dry-runs (`/templateversions/{id}/dry-run/...`), as `coder create` and
//! `coder start` drive them before a build. The work is in [`atrium_domain::dry_runs`].

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use crate::routes::logstream::{self, Upgrade};
use atrium_api::Response as Message;
use atrium_api::clients::{CreateTemplateVersionDryRunRequest, MatchedProvisioners};
use atrium_api::templates::{ProvisionerJob, ProvisionerJobLog};
use atrium_domain::dry_runs;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(create_dry_run))
        .routes(routes!(get_dry_run))
        .routes(routes!(dry_run_matched_provisioners))
        .routes(routes!(dry_run_resources))
        .routes(routes!(dry_run_logs))
        .routes(routes!(cancel_dry_run))
}

/// Queues a dry-run (a plan) of a workspace from the version.
#[utoipa::path(post, path = "/api/v2/templateversions/{templateversion}/dry-run",
    tag = "Templates", params(("templateversion" = Uuid, Path)),
    request_body = CreateTemplateVersionDryRunRequest,
    responses((status = 201, body = ProvisionerJob), (status = 400, body = Message),
        (status = 404, body = Message),
        (status = 425, body = Message, description = "The version's import has not finished.")))]
async fn create_dry_run(
    State(state): State<Shared>,
    actor: Actor,
    Path(version): Path<String>,
    Body(req): Body<CreateTemplateVersionDryRunRequest>,
) -> ApiResult<Response> {
    let job = dry_runs::create(&state, &actor, &version, req).await?;
    Ok(json_response(StatusCode::CREATED, &job))
}

/// A dry-run's job.
#[utoipa::path(get, path = "/api/v2/templateversions/{templateversion}/dry-run/{jobID}",
    tag = "Templates", params(("templateversion" = Uuid, Path), ("jobID" = Uuid, Path)),
    responses((status = 200, body = ProvisionerJob), (status = 400, body = Message),
        (status = 403, body = Message), (status = 404, body = Message)))]
async fn get_dry_run(
    State(state): State<Shared>,
    actor: Actor,
    Path((version, job)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &dry_runs::get(&state, &actor, &version, &job).await?))
}

/// The provisioners that could run the dry-run.
#[utoipa::path(get,
    path = "/api/v2/templateversions/{templateversion}/dry-run/{jobID}/matched-provisioners",
    tag = "Templates", params(("templateversion" = Uuid, Path), ("jobID" = Uuid, Path)),
    responses((status = 200, body = MatchedProvisioners), (status = 400, body = Message),
        (status = 403, body = Message), (status = 404, body = Message)))]
async fn dry_run_matched_provisioners(
    State(state): State<Shared>,
    actor: Actor,
    Path((version, job)): Path<(String, String)>,
) -> ApiResult<Response> {
    let matched = dry_runs::matched_provisioners(&state, &actor, &version, &job).await?;
    Ok(json_response(StatusCode::OK, &matched))
}

/// The resources the finished dry-run planned (none reported yet).
#[utoipa::path(get, path = "/api/v2/templateversions/{templateversion}/dry-run/{jobID}/resources",
    tag = "Templates", params(("templateversion" = Uuid, Path), ("jobID" = Uuid, Path)),
    responses((status = 200, body = Vec<Object>), (status = 400, body = Message),
        (status = 403, body = Message), (status = 404, body = Message)))]
async fn dry_run_resources(
    State(state): State<Shared>,
    actor: Actor,
    Path((version, job)): Path<(String, String)>,
) -> ApiResult<Response> {
    let resources = dry_runs::resources(&state, &actor, &version, &job).await?;
    Ok(json_response(StatusCode::OK, &resources))
}

/// The dry-run's log lines after line `after` (JSON); with `follow` a WebSocket that sends
/// each new line as a JSON message and closes when the dry-run ends.
#[utoipa::path(get, path = "/api/v2/templateversions/{templateversion}/dry-run/{jobID}/logs",
    tag = "Templates",
    params(("templateversion" = Uuid, Path), ("jobID" = Uuid, Path), ("after" = Option<i64>, Query),
        ("follow" = Option<bool>, Query, description = "Upgrade to a WebSocket streaming each line as a JSON message (present without a value, as codersdk sends it).")),
    responses((status = 200, body = Vec<ProvisionerJobLog>, description = "The lines so far."),
        (status = 101, description = "With `follow`: a WebSocket sending one `ProvisionerJobLog` JSON text message per line."),
        (status = 400, body = Message), (status = 403, body = Message),
        (status = 404, body = Message)))]
async fn dry_run_logs(
    State(state): State<Shared>,
    actor: Actor,
    Path((version, job)): Path<(String, String)>,
    params: QueryParams,
    upgrade: Upgrade,
) -> ApiResult<Response> {
    let after = match params.single("after")? {
        None => 0,
        Some(v) => v.parse::<i64>().map_err(|e| {
            ApiError::bad_request("Query parameters have invalid values.").validation(
                "after",
                format!("Query param \"after\" must be a valid 64-bit integer: {e}"),
            )
        })?,
    };
    let log = dry_runs::open_log(&state, &actor, &version, &job).await?;
    logstream::respond(&state, log, after, &params, upgrade).await
}

/// Cancels the dry-run.
#[utoipa::path(patch, path = "/api/v2/templateversions/{templateversion}/dry-run/{jobID}/cancel",
    tag = "Templates", params(("templateversion" = Uuid, Path), ("jobID" = Uuid, Path)),
    responses((status = 200, body = Message), (status = 400, body = Message),
        (status = 403, body = Message), (status = 404, body = Message)))]
async fn cancel_dry_run(
    State(state): State<Shared>,
    actor: Actor,
    Path((version, job)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &dry_runs::cancel(&state, &actor, &version, &job).await?))
}
