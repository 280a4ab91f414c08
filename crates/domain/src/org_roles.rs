//! An organization's roles: the built-ins with `assignable`, and custom roles — create, update,
//! delete — validated by the engine in Coder's order (rbac.md §4.3, §5). Custom roles are free
//! in Atrium; unknown type/action pairs are refused on update as on create. An org role may also
//! be a restriction role (`"restriction": true`, denies only, defined by owners; issue 20) and
//! name the roles whose holders may assign it (`assignable_by`, set by owners).

use crate::audit::{self, Entry};
use crate::caller::parse_permission;
use crate::orgs::resolve_org;
use crate::site_roles::{
    api_permissions, assignable_by, failed, no_such_role, restriction_error, same_kind,
};
use crate::user_roles::api_role;
use crate::validate;
use crate::{Caller, Domain, Error, Result};
use atrium_api::users::{AssignableRoles, Role as ApiRole};
use atrium_engine::assign::{Assignable, assignable_by_allows, can_assign};
use atrium_engine::custom_role::{CustomRoleError, CustomRoleRequest};
use atrium_engine::restriction::{self, RestrictionScope, is_owner};
use atrium_engine::{Action, BuiltinRole, Object, ResourceType, RoleOptions};
use atrium_store::{CustomRoleId, DbTime, OrgId, StoreError, roles, site_roles};
use serde_json::json;

/// The engine object of an org's role assignments.
fn roles_object(org: OrgId) -> Object<'static> {
    Object::of(ResourceType::AssignOrgRole).in_org(org.uuid())
}

/// The org's built-in roles (those with a display name) and its custom roles, each with
/// whether the caller may assign it. Requires `read` on the org's role assignments (404).
pub async fn list(d: &Domain, caller: &Caller, org: &str) -> Result<Vec<AssignableRoles>> {
    let org = resolve_org(d, caller, org).await?;
    caller.require_or_404(Action::Read, &roles_object(org.id))?;
    let held = caller.subject().roles();
    let mut out: Vec<AssignableRoles> = BuiltinRole::ALL
        .into_iter()
        .filter(|b| b.is_org_role() && !b.display_name().is_empty())
        .filter_map(|b| b.expand(Some(org.id.uuid()), RoleOptions::default()).ok())
        .map(|role| AssignableRoles {
            assignable: role
                .builtin
                .is_some_and(|b| can_assign(held, Assignable::Builtin(b), Some(org.id.uuid()))),
            built_in: true,
            role: api_role(&role),
        })
        .collect();
    for custom in roles::list(d.store(), org.id).await? {
        out.push(AssignableRoles {
            assignable: can_assign(held, Assignable::CustomOrg, Some(org.id.uuid()))
                || assignable_by_allows(held, &custom.assignable_by.0, Some(org.id.uuid())),
            built_in: false,
            role: custom_api_role(&custom),
        });
    }
    Ok(out)
}

/// Creates a custom role in the organization: the engine's checks in Coder's order, with
/// `create` on the org's role assignments between them. A name taken is a 400 (decided by the
/// unique index inside the transaction).
pub async fn create(
    d: &Domain,
    caller: &Caller,
    org: &str,
    req: &CustomRoleRequest,
) -> Result<ApiRole> {
    save(d, caller, org, req, true).await
}

/// Replaces a custom role's display name and permissions, as [`create`] checks them (with
/// `update`); an unknown role is not found.
pub async fn update(
    d: &Domain,
    caller: &Caller,
    org: &str,
    req: &CustomRoleRequest,
) -> Result<ApiRole> {
    save(d, caller, org, req, false).await
}

async fn save(
    d: &Domain,
    caller: &Caller,
    param: &str,
    req: &CustomRoleRequest,
    create: bool,
) -> Result<ApiRole> {
    let mut entry = Entry::new(if create { "create" } else { "write" }, "custom_role").by(caller);
    entry.resource_target = req.name.clone();
    let result = async {
        let org = resolve_org(d, caller, param).await?;
        entry.org = Some(org.id);
        let action = if create { Action::Create } else { Action::Update };
        validate::display_name("display_name", &req.display_name)?;
        let perms = validated(caller, org.id, req, action).await?;
        let now = DbTime::now();
        let mut tx = d.store().begin().await?;
        let stored =
            if create { None } else { Some(roles::get(&mut tx, org.id, &req.name).await?) };
        if let Some(old) = &stored {
            same_kind(&old.name, old.restriction, req.restriction)?;
        }
        let known = known_role_names(&mut tx, org.id, &req.name).await?;
        let stored_by = stored.as_ref().map(|o| o.assignable_by.0.clone()).unwrap_or_default();
        let assignable_by = assignable_by(caller, req, &stored_by, |n| {
            known.iter().any(|k| k.eq_ignore_ascii_case(n))
        })?;
        let def = roles::RoleDefinition {
            display_name: &req.display_name,
            site_permissions: &[],
            org_permissions: &perms,
            user_permissions: &[],
            restriction: req.restriction,
            assignable_by: &assignable_by,
        };
        let (old, role) = if let Some(old) = stored {
            let role = roles::update(&mut tx, org.id, &old.name, &def, now).await?;
            (json!(custom_api_role(&old)), role)
        } else {
            let role = roles::insert(&mut tx, CustomRoleId::new_v4(), org.id, &req.name, &def, now)
                .await
                .map_err(|e| match e {
                    StoreError::Unique { constraint } if constraint == "custom_roles_name_key" => {
                        failed(format!(
                            "a custom role named \"{}\" already exists ({constraint})",
                            req.name
                        ))
                    }
                    // The org went away since it was read.
                    e if e.is_foreign_key_conflict() => Error::not_found(),
                    e => e.into(),
                })?;
            (json!({}), role)
        };
        entry.resource(role.id.uuid(), role.name.clone());
        entry.changed(&old, &json!(custom_api_role(&role)));
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        Ok(custom_api_role(&role))
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Deletes a custom role (requires `delete` on the org's role assignments); members keep the
/// name, which then grants nothing.
pub async fn delete(d: &Domain, caller: &Caller, org: &str, name: &str) -> Result<()> {
    let mut entry = Entry::new("delete", "custom_role").by(caller);
    entry.resource_target = name.to_owned();
    let result = async {
        let org = resolve_org(d, caller, org).await?;
        entry.org = Some(org.id);
        caller.require(Action::Delete, &roles_object(org.id))?;
        let mut tx = d.store().begin().await?;
        let old = match roles::get(&mut tx, org.id, name).await {
            Ok(r) => r,
            Err(StoreError::NotFound { .. }) => return Err(no_such_role(name)),
            Err(e) => return Err(e.into()),
        };
        if old.restriction && !is_owner(caller.subject()) {
            return Err(Error::forbidden_with("only owners may delete restriction roles"));
        }
        roles::delete(&mut tx, org.id, &old.name).await?;
        entry.resource(old.id.uuid(), old.name.clone());
        entry.changed(&json!(custom_api_role(&old)), &json!({}));
        audit::write(&mut tx, caller.meta(), &entry, 204).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// A stored custom role in Coder's `Role` JSON (permissions as stored, in order).
pub fn custom_api_role(r: &roles::CustomRole) -> ApiRole {
    ApiRole {
        name: r.name.clone(),
        organization_id: r.org_id.to_string(),
        display_name: r.display_name.clone(),
        site_permissions: api_permissions(&r.site_permissions.0),
        organization_permissions: api_permissions(&r.org_permissions.0),
        user_permissions: api_permissions(&r.user_permissions.0),
        restriction: r.restriction,
        assignable_by: r.assignable_by.0.clone(),
    }
}

/// Names `assignable_by` may hold for a role of `org`: built-in roles, site-wide roles (their
/// holders count in every org) and the org's custom roles — not the role itself.
async fn known_role_names(
    tx: &mut atrium_store::Tx<'_>,
    org: OrgId,
    own: &str,
) -> Result<Vec<String>> {
    let mut names: Vec<String> =
        BuiltinRole::ALL.into_iter().map(|b| b.name().to_owned()).collect();
    names.extend(site_roles::list(&mut *tx).await?.into_iter().map(|r| r.name));
    names.extend(roles::list(&mut *tx, org).await?.into_iter().map(|r| r.name));
    names.retain(|n| !n.eq_ignore_ascii_case(own));
    Ok(names)
}

/// Shared by create and update: the engine's checks in Coder's order, with the RBAC check on
/// the role object between the request-shape checks and the permission checks (§5.2 step 8).
async fn validated(
    actor: &Caller,
    org: OrgId,
    req: &CustomRoleRequest,
    action: Action,
) -> Result<Vec<atrium_engine::custom_role::RawPermission>> {
    if req.restriction {
        // Owners only; an org admin passes the RBAC check and is refused by the engine.
        actor.require_or_404(action, &roles_object(org))?;
        restriction::validate(req, RestrictionScope::Org(org.uuid()), actor.subject())
            .map_err(restriction_error)?;
        return Ok(req.organization_permissions.clone());
    }
    let checked = req.validate(org.uuid(), actor.subject());
    match &checked {
        Err(CustomRoleError::InvalidName { name, .. }) => {
            return Err(Error::tag_failed("name", "username", name));
        }
        Err(e @ CustomRoleError::ReservedName(_)) => {
            return Err(Error::bad_request("Reserved role name").detail(e.to_string()));
        }
        Err(e @ CustomRoleError::SitePermissions) => {
            return Err(Error::bad_request(
                "Invalid request, not allowed to assign site wide permissions for an organization role.",
            )
            .detail(e.to_string()));
        }
        Err(e @ CustomRoleError::UserPermissions) => {
            return Err(Error::bad_request(
                "Invalid request, not allowed to assign user permissions for an organization role.",
            )
            .detail(e.to_string()));
        }
        Err(CustomRoleError::UnknownPairs(_) | CustomRoleError::Permission { .. }) | Ok(_) => {}
    }
    actor.require_or_404(action, &roles_object(org))?;
    match checked {
        Ok(_) => Ok(req.organization_permissions.clone()),
        Err(e) => Err(failed(e.to_string())),
    }
}

/// Engine permissions of a stored role (used by the explain endpoint and the CLI).
pub fn engine_permissions(r: &roles::CustomRole) -> Vec<atrium_engine::Permission> {
    r.org_permissions.0.iter().filter_map(parse_permission).collect()
}
