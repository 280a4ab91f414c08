//! The router: one module per resource, each handler registered with its OpenAPI entry in one
//! place (`utoipa-axum`), plus the middleware stack and Coder's JSON 404 for unknown routes.

pub mod audit;
pub mod auth;
pub mod authcheck;
pub mod builds;
pub mod clients;
pub mod deployment;
pub mod dry_runs;
pub mod files;
pub mod groups;
pub mod idpsync;
pub mod keys;
pub mod logstream;
pub mod members;
pub mod oidc;
pub mod openapi;
pub mod org_roles;
pub mod orgs;
pub mod site_roles;
pub mod system;
pub mod template_versions;
pub mod templates;
pub mod user_roles;
pub mod users;
pub mod workspace_acl;
pub mod workspaces;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{ApiError, text};
use crate::{Shared, guard, redact};

#[derive(OpenApi)]
#[openapi(info(
    title = "Atrium API",
    description = "Coder-compatible /api/v2 for users, organizations, roles, groups, templates and workspaces."
))]
struct ApiDoc;

/// The whole API as an OpenAPI router (also used to print the spec).
pub fn api() -> OpenApiRouter<Shared> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(system::routes())
        .merge(deployment::routes())
        .merge(auth::routes())
        .merge(oidc::routes())
        .merge(users::routes())
        .merge(user_roles::routes())
        .merge(keys::routes())
        .merge(audit::routes())
        .merge(orgs::routes())
        .merge(members::routes())
        .merge(org_roles::routes())
        .merge(site_roles::routes())
        .merge(groups::routes())
        .merge(idpsync::routes())
        .merge(authcheck::routes())
        .merge(files::routes())
        .merge(template_versions::routes())
        .merge(templates::routes())
        .merge(workspaces::routes())
        .merge(builds::routes())
        .merge(workspace_acl::routes())
        .merge(clients::routes())
        .merge(dry_runs::routes())
}

/// The router and its OpenAPI document (with the error responses every operation shares).
fn api_and_spec() -> (axum::Router<Shared>, utoipa::openapi::OpenApi) {
    let (api, mut spec) = api().split_for_parts();
    openapi::add_error_responses(&mut spec);
    openapi::add_security(&mut spec);
    (api, spec)
}

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_and_spec().1
}

/// The full application.
pub fn router(state: Shared) -> Router {
    let (api, spec) = api_and_spec();
    let dashboard = atrium_web::WebState {
        domain: state.domain.clone(),
        login_limiter: state.login_limiter.clone(),
        access_url: state.access_url.clone(),
    };
    api.merge(SwaggerUi::new("/swagger").url("/api/v2/openapi.json", spec))
        .route("/healthz", axum::routing::get(system::healthz))
        // The dashboard at `/`, under the same guard (cross-site writes refused) as the API.
        .merge(atrium_web::router(dashboard))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(1 << 20))
        // The checks and the request timeout.
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(CatchPanicLayer::custom(|_| ApiError::internal("handler panicked").into_response()))
        .layer(TraceLayer::new_for_http().make_span_with(redact::RedactedSpan))
        // The request id in and out, the build version out.
        .layer(axum::middleware::from_fn(guard::stamp))
        .with_state(state)
}

async fn method_not_allowed() -> Response {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.").into_response()
}

async fn route_not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, text::ROUTE_NOT_FOUND).into_response()
}
