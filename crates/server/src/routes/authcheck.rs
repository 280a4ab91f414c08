//! `POST /authcheck` as Coder has it (named checks → booleans), and Atrium's
//! `POST /authcheck/explain`: one check answered with the engine's decision in plain words, for
//! oneself or for a user whose roles the caller may read.

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use crate::extract::Body;
use atrium_api::authcheck::{AuthorizationRequest, ExplainRequest, ExplainResponse};
use atrium_domain::authcheck;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(authcheck)).routes(routes!(explain))
}

/// Answers named authorization checks for the caller (roles and token scope).
#[utoipa::path(post, path = "/api/v2/authcheck", tag = "Authorization", request_body = AuthorizationRequest,
    responses((status = 200, body = BTreeMap<String, bool>)))]
async fn authcheck(
    State(state): State<Shared>,
    actor: Actor,
    Body(req): Body<AuthorizationRequest>,
) -> ApiResult<Response> {
    let out = authcheck::authcheck(&state, &actor, &req).await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// Explains one decision, naming the roles and permissions involved.
#[utoipa::path(post, path = "/api/v2/authcheck/explain", tag = "Authorization", request_body = ExplainRequest,
    responses((status = 200, body = ExplainResponse)))]
async fn explain(
    State(state): State<Shared>,
    actor: Actor,
    Body(req): Body<ExplainRequest>,
) -> ApiResult<Response> {
    let out = authcheck::explain(&state, &actor, &req).await?;
    Ok(json_response(StatusCode::OK, &out))
}
