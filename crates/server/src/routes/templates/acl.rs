//! The template ACL (rbac.md §7.1): who besides their roles may read, use or administer a
//! template. Roles on the wire are `admin` (every action, `["*"]`), `use` (`read`, `use`) and
//! `""` (remove); the Everyone group is addressed by the org id. Editing needs `create` on
//! the template — "only those who may create the template edit its ACL".

use super::{Resolved, resolve};
use crate::Shared;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::error::{ApiError, ApiResult, json_response};
use crate::extract::Body;
use atrium_api::Response as Message;
use atrium_api::templates::{
    AclAvailable, TemplateAcl, TemplateGroup, TemplateUser, UpdateTemplateAcl,
};
use atrium_domain::groups::api_group_for;
#[allow(unused_imports)]
use atrium_domain::template_acl::*;
use atrium_engine::{Action, ResourceType};
use atrium_store::{Acl, GroupId, StoreError, UserId, groups, lists, orgs, templates};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(get_acl, update_acl)).routes(routes!(acl_available))
}

/// The template's ACL entries the caller may see (users and groups they may read); needs
/// `update` on the template (403 otherwise, where Coder answers 500).
#[utoipa::path(get, path = "/api/v2/templates/{template}/acl", tag = "Enterprise",
    params(("template" = uuid::Uuid, Path)),
    responses((status = 200, body = TemplateAcl), (status = 404, body = Message)))]
async fn get_acl(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let Resolved { template, authz } = resolve(&state, &actor, &param).await?;
    // As Coder's dbauthz: the ACL is read by those who may update the template, not by
    // everyone who may read (use) it.
    actor.require(Action::Update, &authz.object())?;
    let acl = templates::get_acl(state.legacy_store(), template.id).await?;
    let org = orgs::get(state.legacy_store(), template.org_id).await?;
    let mut out = TemplateAcl { users: Vec::new(), groups: Vec::new() };
    for (id, set) in &acl.users {
        let Some(u) = live_user(&state, *id).await? else { continue };
        if actor.can(Action::Read, &atrium_domain::Caller::user_object(u.id)) {
            let user = atrium_domain::users::to_api(&state, &actor, &u).await?;
            out.users.push(TemplateUser { user, role: role_of(*set).to_owned() });
        }
    }
    for (id, set) in &acl.groups {
        let row = if id.is_everyone_of(org.id) {
            None
        } else {
            match groups::get(state.legacy_store(), *id).await {
                Ok(g) if g.org_id == org.id => Some(g),
                // A grant to a group of another org is inert; a deleted group has none.
                Ok(_) | Err(StoreError::NotFound { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        };
        if can_read_group(&actor, *id, org.id) {
            let group = api_group_for(&state, &actor, &org, *id, row.as_ref()).await?;
            out.groups.push(TemplateGroup { group, role: role_of(*set).to_owned() });
        }
    }
    Ok(json_response(StatusCode::OK, &out))
}

/// Grants, changes or removes ACL entries.
#[utoipa::path(patch, path = "/api/v2/templates/{template}/acl", tag = "Enterprise",
    params(("template" = uuid::Uuid, Path)), request_body = UpdateTemplateAcl,
    responses((status = 200, body = Message), (status = 400, body = Message),
        (status = 403, body = Message), (status = 404, body = Message)))]
async fn update_acl(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
    Body(req): Body<UpdateTemplateAcl>,
) -> ApiResult<Response> {
    let mut entry = Entry::new("write", "template").by(&actor);
    let result = async {
        let Resolved { template, authz } = resolve(&state, &actor, &param).await?;
        entry.org = Some(template.org_id);
        entry.resource(template.id.uuid(), template.name.clone());
        actor.require(Action::Create, &authz.object())?;
        let (user_changes, mut errors) =
            validate_perms(&state, template.org_id, &req.user_perms, "user_perms", true).await?;
        let (group_changes, group_errors) =
            validate_perms(&state, template.org_id, &req.group_perms, "group_perms", false).await?;
        errors.extend(group_errors);
        if !errors.is_empty() {
            return Err(ApiError::bad_request(INVALID).validations(errors));
        }
        let mut tx = state.legacy_store().begin().await?;
        let old = templates::get_acl(&mut tx, template.id).await?;
        let new = Acl {
            users: apply(&old.users, &user_changes, UserId),
            groups: apply(&old.groups, &group_changes, GroupId),
        };
        templates::set_acl(&mut tx, template.id, &new).await?;
        entry.changed(&acl_json(&old), &acl_json(&new));
        audit::write(&mut tx, &actor.meta, &entry, 200).await?;
        tx.commit().await?;
        Ok(json_response(
            StatusCode::OK,
            &Message::message("Successfully updated template ACL list."),
        ))
    }
    .await;
    audit::finish(&state, &actor.meta, &entry, result).await
}

/// The users and groups of the template's org that could be added to its ACL.
#[utoipa::path(get, path = "/api/v2/templates/{template}/acl/available", tag = "Enterprise",
    params(("template" = uuid::Uuid, Path)),
    responses((status = 200, body = AclAvailable), (status = 404, body = Message)))]
async fn acl_available(
    State(state): State<Shared>,
    actor: Actor,
    Path(param): Path<String>,
) -> ApiResult<Response> {
    let Resolved { template, authz } = resolve(&state, &actor, &param).await?;
    actor.require_or_404(Action::Update, &authz.object())?;
    let org = orgs::get(state.legacy_store(), template.org_id).await?;
    let mut out = AclAvailable { users: Vec::new(), groups: Vec::new() };
    for member in orgs::list_members(state.legacy_store(), org.id).await? {
        let Some(u) = live_user(&state, member.user_id).await? else { continue };
        if actor.can(Action::Read, &atrium_domain::Caller::user_object(u.id)) {
            out.users.push(atrium_domain::groups::reduced(&u));
        }
    }
    let everyone = GroupId::everyone(org.id);
    if can_read_group(&actor, everyone, org.id) {
        out.groups.push(api_group_for(&state, &actor, &org, everyone, None).await?);
    }
    let filter = actor.subject.list_filter(Action::Read, ResourceType::Group);
    for g in lists::groups(state.legacy_store(), org.id, &filter).await? {
        out.groups.push(api_group_for(&state, &actor, &org, g.id, Some(&g)).await?);
    }
    Ok(json_response(StatusCode::OK, &out))
}
