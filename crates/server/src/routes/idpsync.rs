//! IdP sync settings (coder-api.md §5): organization sync (deployment-wide), and each
//! organization's group and role sync, with Coder's `/config` and `/mapping` patches, and the
//! claim fields and values seen at sign-ins. All in `atrium_domain::idp_sync`.

use crate::Shared;
use crate::actor::Actor;
use crate::error::{ApiResult, json_response};
use crate::extract::{Body, QueryParams};
use atrium_api::idpsync::{
    GroupSyncSettings, OrganizationSyncSettings, PatchGroupIdpSyncConfigRequest,
    PatchIdpSyncMappingRequest, PatchOrganizationIdpSyncConfigRequest,
    PatchRoleIdpSyncConfigRequest, RoleSyncSettings,
};
use atrium_domain::idp_sync;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(get_org_sync, patch_org_sync))
        .routes(routes!(patch_org_sync_config))
        .routes(routes!(patch_org_sync_mapping))
        .routes(routes!(site_available_fields))
        .routes(routes!(site_field_values))
        .routes(routes!(get_group_sync, patch_group_sync))
        .routes(routes!(patch_group_sync_config))
        .routes(routes!(patch_group_sync_mapping))
        .routes(routes!(get_role_sync, patch_role_sync))
        .routes(routes!(patch_role_sync_config))
        .routes(routes!(patch_role_sync_mapping))
        .routes(routes!(org_available_fields))
        .routes(routes!(org_field_values))
}

fn ok<T: serde::Serialize>(v: &T) -> ApiResult<Response> {
    Ok(json_response(StatusCode::OK, v))
}

/// Organization sync settings.
#[utoipa::path(get, path = "/api/v2/settings/idpsync/organization", tag = "Enterprise",
    responses((status = 200, body = OrganizationSyncSettings)))]
async fn get_org_sync(State(state): State<Shared>, actor: Actor) -> ApiResult<Response> {
    ok(&idp_sync::organization_settings(&state, &actor).await?)
}

/// Replaces the organization sync settings.
#[utoipa::path(patch, path = "/api/v2/settings/idpsync/organization", tag = "Enterprise",
    responses((status = 200, body = OrganizationSyncSettings)))]
async fn patch_org_sync(
    State(state): State<Shared>,
    actor: Actor,
    Body(req): Body<OrganizationSyncSettings>,
) -> ApiResult<Response> {
    ok(&idp_sync::patch_organization_settings(&state, &actor, &req).await?)
}

/// Changes the organization sync field and assign-default, keeping the mapping.
#[utoipa::path(patch, path = "/api/v2/settings/idpsync/organization/config", tag = "Enterprise",
    responses((status = 200, body = OrganizationSyncSettings)))]
async fn patch_org_sync_config(
    State(state): State<Shared>,
    actor: Actor,
    Body(req): Body<PatchOrganizationIdpSyncConfigRequest>,
) -> ApiResult<Response> {
    ok(&idp_sync::patch_organization_config(&state, &actor, &req).await?)
}

/// Adds and removes organization sync mapping entries (`{"Add": [{"Given", "Gets"}], "Remove"}`).
#[utoipa::path(patch, path = "/api/v2/settings/idpsync/organization/mapping", tag = "Enterprise",
    responses((status = 200, body = OrganizationSyncSettings)))]
async fn patch_org_sync_mapping(
    State(state): State<Shared>,
    actor: Actor,
    Body(req): Body<PatchIdpSyncMappingRequest<Uuid>>,
) -> ApiResult<Response> {
    ok(&idp_sync::patch_organization_mapping(&state, &actor, &req).await?)
}

/// Claim names seen at sign-ins (every OIDC user).
#[utoipa::path(get, path = "/api/v2/settings/idpsync/available-fields", tag = "Enterprise",
    responses((status = 200, body = Vec<String>)))]
async fn site_available_fields(State(state): State<Shared>, actor: Actor) -> ApiResult<Response> {
    ok(&idp_sync::available_fields(&state, &actor, None).await?)
}

/// Values seen for a claim at sign-ins (every OIDC user).
#[utoipa::path(get, path = "/api/v2/settings/idpsync/field-values", tag = "Enterprise",
    params(("claimField" = String, Query)), responses((status = 200, body = Vec<String>)))]
async fn site_field_values(
    State(state): State<Shared>,
    actor: Actor,
    params: QueryParams,
) -> ApiResult<Response> {
    let field = params.single("claimField")?;
    ok(&idp_sync::field_values(&state, &actor, None, field).await?)
}

/// The organization's group sync settings.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/settings/idpsync/groups", tag = "Enterprise",
    params(("organization" = String, Path)), responses((status = 200, body = GroupSyncSettings)))]
async fn get_group_sync(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
) -> ApiResult<Response> {
    ok(&idp_sync::group_settings(&state, &actor, &org).await?)
}

/// Replaces the organization's group sync settings.
#[utoipa::path(patch, path = "/api/v2/organizations/{organization}/settings/idpsync/groups", tag = "Enterprise",
    params(("organization" = String, Path)), responses((status = 200, body = GroupSyncSettings)))]
async fn patch_group_sync(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
    Body(req): Body<GroupSyncSettings>,
) -> ApiResult<Response> {
    ok(&idp_sync::patch_group_settings(&state, &actor, &org, &req).await?)
}

/// Changes the group sync field, regex filter and auto-create, keeping the mapping.
#[utoipa::path(patch, path = "/api/v2/organizations/{organization}/settings/idpsync/groups/config", tag = "Enterprise",
    params(("organization" = String, Path)), responses((status = 200, body = GroupSyncSettings)))]
async fn patch_group_sync_config(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
    Body(req): Body<PatchGroupIdpSyncConfigRequest>,
) -> ApiResult<Response> {
    ok(&idp_sync::patch_group_config(&state, &actor, &org, &req).await?)
}

/// Adds and removes group sync mapping entries (claim value → group id).
#[utoipa::path(patch, path = "/api/v2/organizations/{organization}/settings/idpsync/groups/mapping", tag = "Enterprise",
    params(("organization" = String, Path)), responses((status = 200, body = GroupSyncSettings)))]
async fn patch_group_sync_mapping(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
    Body(req): Body<PatchIdpSyncMappingRequest<Uuid>>,
) -> ApiResult<Response> {
    ok(&idp_sync::patch_group_mapping(&state, &actor, &org, &req).await?)
}

/// The organization's role sync settings.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/settings/idpsync/roles", tag = "Enterprise",
    params(("organization" = String, Path)), responses((status = 200, body = RoleSyncSettings)))]
async fn get_role_sync(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
) -> ApiResult<Response> {
    ok(&idp_sync::role_settings(&state, &actor, &org).await?)
}

/// Replaces the organization's role sync settings.
#[utoipa::path(patch, path = "/api/v2/organizations/{organization}/settings/idpsync/roles", tag = "Enterprise",
    params(("organization" = String, Path)), responses((status = 200, body = RoleSyncSettings)))]
async fn patch_role_sync(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
    Body(req): Body<RoleSyncSettings>,
) -> ApiResult<Response> {
    ok(&idp_sync::patch_role_settings(&state, &actor, &org, &req).await?)
}

/// Changes the role sync field, keeping the mapping.
#[utoipa::path(patch, path = "/api/v2/organizations/{organization}/settings/idpsync/roles/config", tag = "Enterprise",
    params(("organization" = String, Path)), responses((status = 200, body = RoleSyncSettings)))]
async fn patch_role_sync_config(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
    Body(req): Body<PatchRoleIdpSyncConfigRequest>,
) -> ApiResult<Response> {
    ok(&idp_sync::patch_role_config(&state, &actor, &org, &req).await?)
}

/// Adds and removes role sync mapping entries (claim value → org role name).
#[utoipa::path(patch, path = "/api/v2/organizations/{organization}/settings/idpsync/roles/mapping", tag = "Enterprise",
    params(("organization" = String, Path)), responses((status = 200, body = RoleSyncSettings)))]
async fn patch_role_sync_mapping(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
    Body(req): Body<PatchIdpSyncMappingRequest<String>>,
) -> ApiResult<Response> {
    ok(&idp_sync::patch_role_mapping(&state, &actor, &org, &req).await?)
}

/// Claim names seen at the sign-ins of the organization's members.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/settings/idpsync/available-fields", tag = "Enterprise",
    params(("organization" = String, Path)), responses((status = 200, body = Vec<String>)))]
async fn org_available_fields(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
) -> ApiResult<Response> {
    ok(&idp_sync::available_fields(&state, &actor, Some(&org)).await?)
}

/// Values seen for a claim at the sign-ins of the organization's members.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}/settings/idpsync/field-values", tag = "Enterprise",
    params(("organization" = String, Path), ("claimField" = String, Query)),
    responses((status = 200, body = Vec<String>)))]
async fn org_field_values(
    State(state): State<Shared>,
    actor: Actor,
    Path(org): Path<String>,
    params: QueryParams,
) -> ApiResult<Response> {
    let field = params.single("claimField")?;
    ok(&idp_sync::field_values(&state, &actor, Some(&org), field).await?)
}
