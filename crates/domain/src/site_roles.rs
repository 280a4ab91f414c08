//! Site-wide custom and restriction roles (issue 20) at `/api/v2/roles`, and what org and site
//! role definitions share: the engine's refusals in Coder's statuses, the kind of a role fixed
//! at creation, and "who may assign" (`assignable_by`, set by owners only).
//!
//! Site-wide roles are defined and deleted by owners only (Coder has none: coder#13226); they
//! are assigned through `PUT /users/{user}/roles` like the built-in site roles.

use atrium_api::users::{AssignableRoles, Permission as ApiPermission, Role as ApiRole};
use atrium_engine::assign::{Assignable, assignable_by_allows, can_assign};
use atrium_engine::custom_role::{CustomRoleRequest, RawPermission};
use atrium_engine::restriction::{self, RestrictionError, RestrictionScope, is_owner};
use atrium_engine::site_role::{self, SiteRoleError};
use atrium_engine::{Action, BuiltinRole, Object, ResourceType, Role};
use atrium_store::site_roles::{self, SiteRole, SiteRoleDefinition};
use atrium_store::{CustomRoleId, DbTime, StoreError};
use serde_json::json;

use crate::audit::{self, Entry};
use crate::caller::parse_permission;
use crate::validate;
use crate::{Caller, Domain, Error, Kind, Result};

/// The engine object of site role assignments.
fn site_roles_object() -> Object<'static> {
    Object::of(ResourceType::AssignRole)
}

/// Every site-wide role, with whether the caller may assign it. Requires `read` on site role
/// assignments (as the built-in site role list does).
pub async fn list(d: &Domain, caller: &Caller) -> Result<Vec<AssignableRoles>> {
    caller.require(Action::Read, &site_roles_object())?;
    Ok(site_roles::list(d.store()).await?.iter().map(|r| assignable(caller, r)).collect())
}

/// A stored site-wide role as the site role list shows it.
pub(crate) fn assignable(caller: &Caller, r: &SiteRole) -> AssignableRoles {
    let held = caller.subject().roles();
    AssignableRoles {
        assignable: can_assign(held, Assignable::CustomSite, None)
            || assignable_by_allows(held, &r.assignable_by.0, None),
        built_in: false,
        role: api_role(r),
    }
}

/// Creates a site-wide role (owners only).
pub async fn create(d: &Domain, caller: &Caller, req: &CustomRoleRequest) -> Result<ApiRole> {
    save(d, caller, req, true).await
}

/// Replaces a site-wide role's definition (owners only); its kind stays what it was created as.
pub async fn update(d: &Domain, caller: &Caller, req: &CustomRoleRequest) -> Result<ApiRole> {
    save(d, caller, req, false).await
}

async fn save(
    d: &Domain,
    caller: &Caller,
    req: &CustomRoleRequest,
    create: bool,
) -> Result<ApiRole> {
    let mut entry = Entry::new(if create { "create" } else { "write" }, "custom_role").by(caller);
    entry.resource_target = req.name.clone();
    let result = async {
        let action = if create { Action::Create } else { Action::Update };
        caller.require(action, &site_roles_object())?;
        validate::display_name("display_name", &req.display_name)?;
        if req.restriction {
            restriction::validate(req, RestrictionScope::Site, caller.subject())
                .map_err(restriction_error)?;
        } else {
            site_role::validate(req, caller.subject()).map_err(site_role_error)?;
        }
        let now = DbTime::now();
        let mut tx = d.store().begin().await?;
        let old = if create {
            None
        } else {
            match site_roles::get(&mut tx, &req.name).await {
                Ok(old) => Some(old),
                Err(StoreError::NotFound { .. }) => return Err(no_such_role(&req.name)),
                Err(e) => return Err(e.into()),
            }
        };
        if let Some(old) = &old {
            same_kind(&old.name, old.restriction, req.restriction)?;
        }
        let names = known_site_role_names(&site_roles::list(&mut tx).await?, &req.name);
        let stored_by = old.as_ref().map(|o| o.assignable_by.0.clone()).unwrap_or_default();
        let assignable_by = assignable_by(caller, req, &stored_by, |n| {
            names.iter().any(|k| k.eq_ignore_ascii_case(n))
        })?;
        let def = SiteRoleDefinition {
            display_name: &req.display_name,
            restriction: req.restriction,
            site_permissions: &req.site_permissions,
            user_permissions: &req.user_permissions,
            assignable_by: &assignable_by,
        };
        let role = match &old {
            None => site_roles::insert(&mut tx, CustomRoleId::new_v4(), &req.name, &def, now)
                .await
                .map_err(|e| match e {
                    StoreError::Unique { constraint } if constraint == "site_roles_name_key" => {
                        failed(format!(
                            "a site-wide role named \"{}\" already exists ({constraint})",
                            req.name
                        ))
                    }
                    e => e.into(),
                })?,
            Some(old) => site_roles::update(&mut tx, &old.name, &def, now).await?,
        };
        entry.resource(role.id.uuid(), role.name.clone());
        entry.changed(
            &old.as_ref().map_or(json!({}), |o| json!(api_role(o))),
            &json!(api_role(&role)),
        );
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        Ok(api_role(&role))
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Deletes a site-wide role (owners only); holders keep the name, which then grants nothing.
pub async fn delete(d: &Domain, caller: &Caller, name: &str) -> Result<()> {
    let mut entry = Entry::new("delete", "custom_role").by(caller);
    entry.resource_target = name.to_owned();
    let result = async {
        caller.require(Action::Delete, &site_roles_object())?;
        if !is_owner(caller.subject()) {
            return Err(Error::forbidden_with("only owners may delete site-wide roles"));
        }
        let mut tx = d.store().begin().await?;
        let old = match site_roles::get(&mut tx, name).await {
            Ok(r) => r,
            Err(StoreError::NotFound { .. }) => return Err(no_such_role(name)),
            Err(e) => return Err(e.into()),
        };
        site_roles::delete(&mut tx, &old.name).await?;
        entry.resource(old.id.uuid(), old.name.clone());
        entry.changed(&json!(api_role(&old)), &json!({}));
        audit::write(&mut tx, caller.meta(), &entry, 204).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Coder's 404 for a custom role that is not there.
pub(crate) fn no_such_role(name: &str) -> Error {
    Error::new(Kind::NotFound, format!("No custom role with the name {name} found"))
        .detail("no role found")
}

/// Built-in site role names and stored site-wide role names (not `own`, the role being saved:
/// a role naming itself would let its holders hand it on, which owners can say explicitly).
fn known_site_role_names(stored: &[SiteRole], own: &str) -> Vec<String> {
    BuiltinRole::ALL
        .into_iter()
        .filter(|b| !b.is_org_role())
        .map(|b| b.name().to_owned())
        .chain(stored.iter().map(|r| r.name.clone()).filter(|n| !n.eq_ignore_ascii_case(own)))
        .collect()
}

/// A stored site-wide role as the engine expands it into subjects.
pub(crate) fn engine_role(r: &SiteRole) -> Role {
    let parse = |list: &[RawPermission]| list.iter().filter_map(parse_permission).collect();
    Role {
        name: r.name.clone(),
        display_name: r.display_name.clone(),
        org: None,
        site: parse(&r.site_permissions.0),
        org_perms: Vec::new(),
        user: parse(&r.user_permissions.0),
        builtin: None,
    }
}

/// A stored site-wide role in Coder's `Role` JSON (with Atrium's `restriction` and
/// `assignable_by`).
pub fn api_role(r: &SiteRole) -> ApiRole {
    ApiRole {
        name: r.name.clone(),
        organization_id: String::new(),
        display_name: r.display_name.clone(),
        site_permissions: api_permissions(&r.site_permissions.0),
        organization_permissions: Vec::new(),
        user_permissions: api_permissions(&r.user_permissions.0),
        restriction: r.restriction,
        assignable_by: r.assignable_by.0.clone(),
    }
}

/// Stored permissions in Coder's JSON, in order.
pub(crate) fn api_permissions(list: &[RawPermission]) -> Vec<ApiPermission> {
    list.iter()
        .map(|p| ApiPermission {
            negate: p.negate,
            resource_type: p.resource_type.clone(),
            action: p.action.clone(),
        })
        .collect()
}

/// A role keeps the kind it was created as: an update saying otherwise is refused.
pub(crate) fn same_kind(name: &str, stored: bool, requested: bool) -> Result<()> {
    match (stored, requested) {
        (true, false) => Err(failed(format!(
            "\"{name}\" is a restriction role: update it with \"restriction\": true"
        ))),
        (false, true) => Err(failed(format!(
            "\"{name}\" is an additive role and cannot become a restriction role; create a new one"
        ))),
        _ => Ok(()),
    }
}

/// The `assignable_by` list to store: absent keeps `stored`; a change is for owners only, and
/// every name must be a role `known` where the role is assigned.
pub(crate) fn assignable_by(
    caller: &Caller,
    req: &CustomRoleRequest,
    stored: &[String],
    known: impl Fn(&str) -> bool,
) -> Result<Vec<String>> {
    let Some(requested) = &req.assignable_by else { return Ok(stored.to_vec()) };
    let mut names: Vec<String> = requested.iter().map(|n| n.trim().to_owned()).collect();
    names.sort_by_key(|n| n.to_ascii_lowercase());
    names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let unchanged = names.len() == stored.len()
        && names.iter().all(|n| stored.iter().any(|s| s.eq_ignore_ascii_case(n)));
    if unchanged {
        return Ok(stored.to_vec());
    }
    if !is_owner(caller.subject()) {
        return Err(Error::forbidden_with("only owners may set who may assign a role")
            .detail("assignable_by is set by holders of the site owner role"));
    }
    if let Some(unknown) = names.iter().find(|n| !known(n)) {
        return Err(failed(format!("assignable_by: \"{unknown}\" is not a role here")));
    }
    Ok(names)
}

/// Coder's 400 for a role definition the engine refuses.
pub(crate) fn failed(detail: impl Into<String>) -> Error {
    Error::bad_request("Failed to update role permissions").detail(detail)
}

/// A refused restriction role in Coder's statuses.
pub(crate) fn restriction_error(e: RestrictionError) -> Error {
    match e {
        RestrictionError::NotOwner => Error::forbidden_with(e.to_string())
            .detail("restriction roles are defined by holders of the site owner role"),
        RestrictionError::InvalidName { name, .. } => Error::tag_failed("name", "username", &name),
        e @ RestrictionError::ReservedName(_) => {
            Error::bad_request("Reserved role name").detail(e.to_string())
        }
        e @ RestrictionError::HoldsAllow { .. } => {
            Error::bad_request("A restriction role may only hold negative permissions")
                .detail(e.to_string())
        }
        e @ RestrictionError::SitePermissions => Error::bad_request(
            "Invalid request, not allowed to assign site wide permissions for an organization role.",
        )
        .detail(e.to_string()),
        e @ RestrictionError::UserPermissions => Error::bad_request(
            "Invalid request, not allowed to assign user permissions for an organization role.",
        )
        .detail(e.to_string()),
        e @ (RestrictionError::Empty | RestrictionError::UnknownPairs(_)) => failed(e.to_string()),
    }
}

fn site_role_error(e: SiteRoleError) -> Error {
    match e {
        SiteRoleError::NotOwner => Error::forbidden_with(e.to_string())
            .detail("site-wide roles are defined by holders of the site owner role"),
        SiteRoleError::InvalidName { name, .. } => Error::tag_failed("name", "username", &name),
        e @ SiteRoleError::ReservedName(_) => {
            Error::bad_request("Reserved role name").detail(e.to_string())
        }
        e @ SiteRoleError::OrganizationPermissions => Error::bad_request(
            "Invalid request, not allowed to assign organization permissions for a site wide role.",
        )
        .detail(e.to_string()),
        e @ (SiteRoleError::UnknownPairs(_) | SiteRoleError::Permission { .. }) => {
            failed(e.to_string())
        }
    }
}
