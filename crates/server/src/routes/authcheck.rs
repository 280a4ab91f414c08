//! `POST /authcheck` as Coder has it (named checks → booleans), and Atrium's
//! `POST /authcheck/explain`: one check answered with the engine's decision in plain words, for
//! oneself or for a user whose roles the caller may read.

use crate::Shared;
use crate::actor::{Actor, load_subject_input};
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::Body;
#[allow(unused_imports)]
use atrium_domain::authcheck::*;
use atrium_engine::{Action, RoleOptions, Scope};
use atrium_store::UserId;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::BTreeMap;
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
    let with_ids = req.checks.values().filter(|c| !c.object.resource_id.is_empty()).count();
    if with_ids > 10 {
        return Err(ApiError::bad_request(format!(
            "Endpoint only supports using \"resource_id\" field 10 times, found {with_ids} usages. Remove {} objects with this field set.",
            with_ids - 10
        )));
    }
    let mut out = BTreeMap::new();
    for (key, check) in &req.checks {
        let (action, loaded) = load(&state, actor.id(), key, check).await?;
        let allowed = loaded.is_some_and(|l| actor.can(action, &l.object()));
        out.insert(key.clone(), allowed);
    }
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
    let subject = match req.user_id.as_deref().filter(|u| !u.is_empty() && *u != "me") {
        None => actor.subject.clone(),
        Some(param) => {
            // A body field, not a path: an unreadable user is simply not found.
            let user = atrium_domain::users::resolve_user(&state, &actor, param)
                .await
                .map_err(|_| ApiError::not_found())?;
            actor.require(Action::Read, &atrium_domain::Caller::user_object(user.id))?;
            let input = load_subject_input(&state.domain, user.id).await?;
            std::sync::Arc::new(atrium_engine::stored::build(
                &input,
                Scope::ALL,
                RoleOptions::default(),
            ))
        }
    };
    let check = Check { object: req.object.clone(), action: req.action.clone() };
    let (action, loaded) = load(&state, UserId(subject.id()), "explain", &check).await?;
    // A loaded row is explained only to a caller who may read it: otherwise the answer is the
    // one a missing row gets, so explain is no existence oracle (and never leaks its ACL).
    let loaded = loaded.filter(|l| l.id.is_none() || actor.can(Action::Read, &l.object()));
    let response = match loaded {
        Some(l) => {
            let object = l.object();
            let decision = subject.authorize(action, &object);
            ExplainResponse {
                allowed: decision.allowed,
                reasons: subject.explain(&decision, action, &object),
            }
        }
        None => ExplainResponse {
            allowed: false,
            reasons: vec!["the object does not exist or cannot be read".into()],
        },
    };
    Ok(json_response(StatusCode::OK, &response))
}
