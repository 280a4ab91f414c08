//! Organizations (coder-api.md §1.3), with Atrium's movable default: `PATCH {"is_default":
//! true}` (owners only) moves it in one transaction; there is always exactly one.

use crate::audit::{self, Entry};
use crate::convert::time;
use crate::validate;
use crate::{Caller, Domain, Error, Result};
use atrium_api::Response as Message;
use atrium_api::orgs::{CreateOrganizationRequest, Organization, UpdateOrganizationRequest};
use atrium_engine::name::validate_name;
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::{DbTime, OrgId, StoreError, lists, orgs};
use serde_json::json;

/// The organizations the caller may read (filtered by the engine's residual filter).
pub async fn list(d: &Domain, caller: &Caller) -> Result<Vec<Organization>> {
    let filter = caller.subject().list_filter_for(Action::Read);
    let rows = lists::organizations(d.store(), &filter).await?;
    Ok(rows.iter().map(api_org).collect())
}

/// An organization by id or name; one the caller may not read is not found.
pub async fn get(d: &Domain, caller: &Caller, param: &str) -> Result<Organization> {
    Ok(api_org(&resolve_org(d, caller, param).await?))
}

/// Creates an organization (requires `create` on organizations: owners); its Everyone group
/// exists from birth (id = org id). A name taken is Coder's 409.
pub async fn create(
    d: &Domain,
    caller: &Caller,
    req: &CreateOrganizationRequest,
) -> Result<Organization> {
    let mut entry = Entry::new("create", "organization").by(caller);
    entry.resource_target = req.name.clone();
    let result = async {
        caller.require(Action::Create, &Object::of(ResourceType::Organization))?;
        validate_org_name(&req.name)?;
        validate_org_text(&req.display_name, &req.description, &req.icon)?;
        let display_name =
            if req.display_name.is_empty() { req.name.clone() } else { req.display_name.clone() };
        let mut tx = d.store().begin().await?;
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
        .map_err(|e| name_conflict(e, &req.name))?;
        // The creator joins as a plain member, as Coder's postOrganizations does: without it
        // they could not see their org in their own list once they lost site-wide read.
        orgs::add_member(&mut tx, org.id, caller.id(), org.created_at).await?;
        entry.resource(org.id.uuid(), org.name.clone());
        entry.org = Some(org.id);
        entry.changed(&json!({}), &org_json(&org));
        audit::write(&mut tx, caller.meta(), &entry, 201).await?;
        tx.commit().await?;
        Ok(api_org(&org))
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Updates an organization (requires `update` on it); `is_default: true` makes it the default,
/// which also requires `update` on every organization (owners only). The default cannot be
/// unset.
pub async fn update(
    d: &Domain,
    caller: &Caller,
    param: &str,
    req: &UpdateOrganizationRequest,
) -> Result<Organization> {
    let mut entry = Entry::new("write", "organization").by(caller);
    let result = async {
        let org = resolve_org(d, caller, param).await?;
        entry.resource(org.id.uuid(), org.name.clone());
        entry.org = Some(org.id);
        caller.require(Action::Update, &org_object(org.id))?;
        match req.is_default {
            Some(false) if org.is_default => {
                return Err(Error::bad_request(
                    "The default organization cannot be unset; make another organization the default instead.",
                ));
            }
            // Moving the default changes every org's view of it: an owner's call.
            Some(true) if !org.is_default => {
                caller.require(Action::Update, &Object::of(ResourceType::Organization))?;
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
        let mut tx = d.store().begin().await?;
        let mut updated =
            orgs::update(&mut tx, org.id, &update, now).await.map_err(|e| name_conflict(e, &name))?;
        if req.is_default == Some(true) && !org.is_default {
            orgs::set_default(&mut tx, org.id, now).await?;
            updated = orgs::get(&mut tx, org.id).await?;
        }
        entry.changed(&org_json(&org), &org_json(&updated));
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        Ok(api_org(&updated))
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Deletes an organization (requires `delete` on it); never the default, nor one with live
/// workspaces or templates (both decided inside the store's transaction).
pub async fn delete(d: &Domain, caller: &Caller, param: &str) -> Result<Message> {
    let mut entry = Entry::new("delete", "organization").by(caller);
    let result = async {
        let org = resolve_org(d, caller, param).await?;
        entry.resource(org.id.uuid(), org.name.clone());
        entry.org = Some(org.id);
        caller.require(Action::Delete, &org_object(org.id))?;
        let undeletable = || Error::bad_request("Default organization cannot be deleted.");
        if org.is_default {
            return Err(undeletable());
        }
        let mut tx = d.store().begin().await?;
        let deleted = orgs::delete(&mut tx, org.id).await.map_err(|e| match e {
            // The default moved here since it was read.
            StoreError::Check { constraint } if constraint == orgs::DEFAULT_UNDELETABLE => {
                undeletable()
            }
            e => e.into(),
        })?;
        if let orgs::Deleted::StillProvisioned(left) = deleted {
            // Coder's message and detail (Coder answers 500; this is the caller's to fix).
            return Err(Error::bad_request("Error deleting organization.").detail(left.message()));
        }
        entry.changed(&org_json(&org), &json!({}));
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        Ok(Message::message("Organization has been deleted."))
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// The engine object of an organization.
pub fn org_object(org: OrgId) -> Object<'static> {
    Object::of(ResourceType::Organization).with_id(org.uuid()).in_org(org.uuid())
}

/// Resolves `{organization}` (a uuid or a name) to an org the actor may read; anything else is
/// a 404, so existence does not leak.
pub async fn resolve_org(
    state: &Domain,
    actor: &Caller,
    param: &str,
) -> Result<orgs::Organization> {
    let found = orgs::get_by_id_or_name(state.store(), param).await;
    let org = match found {
        Ok(o) => o,
        Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(e.into()),
    };
    actor.require_or_404(Action::Read, &org_object(org.id))?;
    Ok(org)
}

/// The wire organization.
pub fn api_org(o: &orgs::Organization) -> Organization {
    Organization {
        id: o.id.uuid(),
        name: o.name.clone(),
        display_name: o.display_name.clone(),
        description: o.description.clone(),
        icon: o.icon.clone(),
        created_at: time(o.created_at),
        updated_at: time(o.updated_at),
        is_default: o.is_default,
    }
}

fn org_json(o: &orgs::Organization) -> serde_json::Value {
    json!({"name": o.name, "display_name": o.display_name, "description": o.description,
           "icon": o.icon, "is_default": o.is_default})
}

fn validate_org_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::required("name"));
    }
    validate_name(name).map_err(|_| Error::tag_failed("name", "organization_name", name))
}

fn validate_org_text(display_name: &str, description: &str, icon: &str) -> Result<()> {
    validate::display_name("display_name", display_name)?;
    validate::text("description", description, validate::ORG_DESCRIPTION_MAX)?;
    validate::icon_url("icon", icon)
}

/// A name already taken (the unique index on `lower(name)`) is Coder's 409; any other store
/// error passes through.
fn name_conflict(e: StoreError, name: &str) -> Error {
    match e {
        StoreError::Unique { constraint } if constraint == "organizations_name_key" => {
            name_taken(name)
        }
        e => e.into(),
    }
}

fn name_taken(name: &str) -> Error {
    Error::conflict(format!("Organization already exists with the name \"{name}\"."))
        .validation("name", "This value is already in use and should be unique.")
}
