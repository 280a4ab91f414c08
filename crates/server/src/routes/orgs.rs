//! Organizations (coder-api.md §1.3), with Atrium's movable default: `PATCH {"is_default":
//! true}` (owners only) moves it in one transaction; there is always exactly one.

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use crate::extract::Body;
use atrium_api::Response as Message;
use atrium_api::orgs::{CreateOrganizationRequest, Organization, UpdateOrganizationRequest};
use atrium_domain::orgs;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_orgs, create_org))
        .routes(routes!(get_org, update_org, delete_org))
}

/// The orgs the caller may read.
#[utoipa::path(get, path = "/api/v2/organizations", tag = "Organizations", responses((status = 200, body = Vec<Organization>)))]
async fn list_orgs(State(state): State<Shared>, actor: Actor) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &orgs::list(&state, &actor).await?))
}

/// Creates an organization (owners); its Everyone group exists from birth (id = org id).
#[utoipa::path(post, path = "/api/v2/organizations", tag = "Organizations", request_body = CreateOrganizationRequest,
    responses((status = 201, body = Organization), (status = 409, body = Message)))]
async fn create_org(
    State(state): State<Shared>,
    actor: Actor,
    Body(req): Body<CreateOrganizationRequest>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::CREATED, &orgs::create(&state, &actor, &req).await?))
}

/// An organization by id or name.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}", tag = "Organizations",
    params(("organization" = String, Path, description = "id or name")), responses((status = 200, body = Organization)))]
async fn get_org(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &orgs::get(&state, &actor, &param).await?))
}

/// Updates an organization; `is_default: true` (owners only) makes it the default.
#[utoipa::path(patch, path = "/api/v2/organizations/{organization}", tag = "Organizations",
    request_body = UpdateOrganizationRequest, params(("organization" = String, Path)),
    responses((status = 200, body = Organization), (status = 400, body = Message)))]
async fn update_org(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<UpdateOrganizationRequest>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &orgs::update(&state, &actor, &param, &req).await?))
}

/// Deletes an organization (never the default).
#[utoipa::path(delete, path = "/api/v2/organizations/{organization}", tag = "Organizations",
    params(("organization" = String, Path)), responses((status = 200, body = Message), (status = 400, body = Message)))]
async fn delete_org(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, &orgs::delete(&state, &actor, &param).await?))
}
