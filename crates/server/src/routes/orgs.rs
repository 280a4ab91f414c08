//! Organizations (coder-api.md §1.3), with Atrium's movable default: `PATCH {"is_default":
//! true}` (owners only) moves it in one transaction; there is always exactly one.

use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::Body;
use atrium_api::Response as Message;
use atrium_api::orgs::{CreateOrganizationRequest, Organization, UpdateOrganizationRequest};
#[allow(unused_imports)]
use atrium_domain::orgs::*;
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::lists;
use atrium_store::{DbTime, OrgId, StoreError, orgs};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
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
    let filter = actor.subject.list_filter(Action::Read, ResourceType::Organization);
    let rows = lists::organizations(state.legacy_store(), &filter).await?;
    Ok(json_response(StatusCode::OK, &rows.iter().map(api_org).collect::<Vec<_>>()))
}

/// Creates an organization (owners); its Everyone group exists from birth (id = org id).
#[utoipa::path(post, path = "/api/v2/organizations", tag = "Organizations", request_body = CreateOrganizationRequest,
    responses((status = 201, body = Organization), (status = 409, body = Message)))]
async fn create_org(
    State(state): State<Shared>,
    actor: Actor,
    Body(req): Body<CreateOrganizationRequest>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("create", "organization").by(&actor);
    entry.resource_target = req.name.clone();
    let result = async {
        actor.require(Action::Create, &Object::of(ResourceType::Organization))?;
        validate_org_name(&req.name)?;
        validate_org_text(&req.display_name, &req.description, &req.icon)?;
        let display_name =
            if req.display_name.is_empty() { req.name.clone() } else { req.display_name.clone() };
        let mut tx = state.legacy_store().begin().await?;
        let org = orgs::insert(
            &mut tx,
            &orgs::NewOrg {
                id: OrgId::new_v4(),
                name: &req.name,
                display_name: &display_name,
                description: &req.description,
                icon: &req.icon,
                is_default: false,
                created_at: DbTime::now(),
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => name_taken(&req.name),
            e => e.into(),
        })?;
        entry.resource(org.id.uuid(), org.name.clone());
        entry.org = Some(org.id);
        entry.changed(&json!({}), &org_json(&org));
        audit::write(&mut tx, &actor.meta, &entry, 201).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::CREATED, &api_org(&org)))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// An organization by id or name.
#[utoipa::path(get, path = "/api/v2/organizations/{organization}", tag = "Organizations",
    params(("organization" = String, Path, description = "id or name")), responses((status = 200, body = Organization)))]
async fn get_org(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let org = resolve_org(&state, &actor, &param).await?;
    Ok(json_response(StatusCode::OK, &api_org(&org)))
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
    let mut entry = Entry::new("write", "organization").by(&actor);
    let result = async {
        let org = resolve_org(&state, &actor, &param).await?;
        entry.resource(org.id.uuid(), org.name.clone());
        entry.org = Some(org.id);
        actor.require(Action::Update, &org_object(org.id))?;
        match req.is_default {
            Some(false) if org.is_default => {
                return Err(ApiError::bad_request(
                    "The default organization cannot be unset; make another organization the default instead.",
                ));
            }
            // Moving the default changes every org's view of it: an owner's call.
            Some(true) if !org.is_default => {
                actor.require(Action::Update, &Object::of(ResourceType::Organization))?;
            }
            _ => {}
        }
        let name = req.name.clone().unwrap_or_else(|| org.name.clone());
        validate_org_name(&name)?;
        let update = orgs::OrgUpdate {
            name: &name,
            display_name: req.display_name.as_deref().unwrap_or(&org.display_name),
            description: req.description.as_deref().unwrap_or(&org.description),
            icon: req.icon.as_deref().unwrap_or(&org.icon),
        };
        // Only what the request sets: a value stored before these rules stays editable around.
        validate_org_text(
            req.display_name.as_deref().unwrap_or_default(),
            req.description.as_deref().unwrap_or_default(),
            req.icon.as_deref().unwrap_or_default(),
        )?;
        let now = DbTime::now();
        let mut tx = state.legacy_store().begin().await?;
        let mut updated = orgs::update(&mut tx, org.id, &update, now).await.map_err(|e| match e {
            StoreError::Conflict { .. } => name_taken(&name),
            e => e.into(),
        })?;
        if req.is_default == Some(true) && !org.is_default {
            orgs::set_default(&mut tx, org.id, now).await?;
            updated = orgs::get(&mut tx, org.id).await?;
        }
        entry.changed(&org_json(&org), &org_json(&updated));
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::OK, &api_org(&updated)))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// Deletes an organization (never the default).
#[utoipa::path(delete, path = "/api/v2/organizations/{organization}", tag = "Organizations",
    params(("organization" = String, Path)), responses((status = 200, body = Message), (status = 400, body = Message)))]
async fn delete_org(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("delete", "organization").by(&actor);
    let result = async {
        let org = resolve_org(&state, &actor, &param).await?;
        entry.resource(org.id.uuid(), org.name.clone());
        entry.org = Some(org.id);
        actor.require(Action::Delete, &org_object(org.id))?;
        if org.is_default {
            return Err(ApiError::bad_request("Default organization cannot be deleted."));
        }
        let mut tx = state.legacy_store().begin().await?;
        let deleted = orgs::delete(&mut tx, org.id).await.map_err(|e| match e {
            StoreError::Conflict { .. } => {
                ApiError::bad_request("Default organization cannot be deleted.")
            }
            e => e.into(),
        })?;
        if let orgs::Deleted::StillProvisioned(left) = deleted {
            // Coder's message and detail (Coder answers 500; this is the caller's to fix).
            return Err(
                ApiError::bad_request("Error deleting organization.").detail(left.message())
            );
        }
        entry.changed(&org_json(&org), &json!({}));
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(StatusCode::OK, &Message::message("Organization has been deleted.")))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}
