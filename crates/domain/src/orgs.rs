//! Organizations (coder-api.md §1.3), with Atrium's movable default: `PATCH {"is_default":
//! true}` (owners only) moves it in one transaction; there is always exactly one.

use crate::convert::time;
use crate::validate;
#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
use atrium_api::orgs::Organization;
use atrium_engine::name::validate_name;
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::{OrgId, StoreError, orgs};
use serde_json::json;

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
    let found = orgs::get_by_id_or_name(state.legacy_store(), param).await;
    let org = match found {
        Ok(o) => o,
        Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(e.into()),
    };
    actor.require_or_404(Action::Read, &org_object(org.id))?;
    Ok(org)
}

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

pub fn org_json(o: &orgs::Organization) -> serde_json::Value {
    json!({"name": o.name, "display_name": o.display_name, "description": o.description,
           "icon": o.icon, "is_default": o.is_default})
}

pub fn validate_org_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::required("name"));
    }
    validate_name(name).map_err(|_| Error::tag_failed("name", "organization_name", name))
}

pub fn validate_org_text(display_name: &str, description: &str, icon: &str) -> Result<()> {
    validate::display_name("display_name", display_name)?;
    validate::text("description", description, validate::ORG_DESCRIPTION_MAX)?;
    Ok(validate::icon_url("icon", icon)?)
}

pub fn name_taken(name: &str) -> Error {
    Error::conflict(format!("Organization already exists with the name \"{name}\"."))
        .validation("name", "This value is already in use and should be unique.")
}
