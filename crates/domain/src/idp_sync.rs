//! IdP sync settings (coder-api.md §5): deployment-wide organization sync, and per organization
//! group and role sync, kept in the database so every replica syncs alike; read and changed
//! with `idpsync_settings` permissions (site-wide for organization sync, in the org for the
//! others), every change audited. Also the claims seen at sign-ins, offered as fields and
//! values, and the refusals of manual edits that sync would undo. The sync itself, at each
//! OIDC sign-in, is [`crate::idp_sync_apply`].

use std::collections::BTreeSet;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use atrium_api::idpsync::{
    GroupSyncSettings, OrganizationSyncSettings, PatchGroupIdpSyncConfigRequest,
    PatchIdpSyncMappingRequest, PatchOrganizationIdpSyncConfigRequest,
    PatchRoleIdpSyncConfigRequest, RoleSyncSettings, apply_mapping_patch,
};
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::{Db, GroupSource, LoginType, OrgId, UserId, groups, idp_sync, orgs, users};

use crate::audit::{self, Entry};
use crate::oidc_config::OidcConfig;
use crate::orgs::resolve_org;
use crate::{Caller, Domain, Error, Result};

const ORGANIZATION_KEY: &str = "organization";

fn group_key(org: OrgId) -> String {
    format!("groups:{org}")
}
fn role_key(org: OrgId) -> String {
    format!("roles:{org}")
}

async fn load_stored<S: DeserializeOwned>(db: impl Into<Db<'_>>, key: &str) -> Result<Option<S>> {
    match idp_sync::get(db, key).await? {
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::internal(format!("stored IdP sync settings `{key}`: {e}"))),
        None => Ok(None),
    }
}

/// One kind of sync settings: what the deployment flags give while none were stored through
/// the API (Coder: the organization flags seed organization sync; the group flags are the
/// default organization's "legacy" group sync).
pub(crate) trait SyncSettings: DeserializeOwned + Serialize + Default {
    fn from_flags(cfg: &OidcConfig, org: Option<&orgs::Organization>) -> Option<Self>;
}

impl SyncSettings for OrganizationSyncSettings {
    fn from_flags(cfg: &OidcConfig, _: Option<&orgs::Organization>) -> Option<Self> {
        let flags = OrganizationSyncSettings {
            field: cfg.oidc_organization_field.clone(),
            mapping: cfg.oidc_organization_mapping.clone(),
            organization_assign_default: cfg.oidc_organization_assign_default,
        };
        (flags != OrganizationSyncSettings::default()).then_some(flags)
    }
}

impl SyncSettings for GroupSyncSettings {
    fn from_flags(cfg: &OidcConfig, org: Option<&orgs::Organization>) -> Option<Self> {
        if cfg.oidc_group_field.is_empty() || !org.is_some_and(|o| o.is_default) {
            return None;
        }
        let filter = &cfg.oidc_group_regex_filter;
        Some(GroupSyncSettings {
            field: cfg.oidc_group_field.clone(),
            mapping: Default::default(),
            regex_filter: (!filter.is_empty()).then(|| filter.clone()),
            auto_create_missing_groups: cfg.oidc_group_auto_create,
            legacy_group_name_mapping: cfg.oidc_group_mapping.clone(),
        })
    }
}

impl SyncSettings for RoleSyncSettings {
    /// Org role sync has no deployment flags (site role sync has its own).
    fn from_flags(_: &OidcConfig, _: Option<&orgs::Organization>) -> Option<Self> {
        None
    }
}

/// Settings in effect, and whether they come from the deployment flags (none stored yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effective<S> {
    pub settings: S,
    pub from_flags: bool,
}

/// The settings stored under `key`, else the flags' (else the default: off).
async fn load<S: SyncSettings>(
    cfg: &OidcConfig,
    db: impl Into<Db<'_>>,
    key: &str,
    org: Option<&orgs::Organization>,
) -> Result<Effective<S>> {
    if let Some(settings) = load_stored(db, key).await? {
        return Ok(Effective { settings, from_flags: false });
    }
    Ok(match S::from_flags(cfg, org) {
        Some(settings) => Effective { settings, from_flags: true },
        None => Effective { settings: S::default(), from_flags: false },
    })
}

/// The organization sync settings in effect (default: off, everyone in the default org).
pub(crate) async fn load_organization(
    cfg: &OidcConfig,
    db: impl Into<Db<'_>>,
) -> Result<OrganizationSyncSettings> {
    Ok(load(cfg, db, ORGANIZATION_KEY, None).await?.settings)
}
/// An organization's group sync settings in effect (default: off).
pub(crate) async fn load_groups(
    cfg: &OidcConfig,
    db: impl Into<Db<'_>>,
    org: &orgs::Organization,
) -> Result<GroupSyncSettings> {
    Ok(load(cfg, db, &group_key(org.id), Some(org)).await?.settings)
}
/// An organization's role sync settings (default: off).
pub(crate) async fn load_roles(db: impl Into<Db<'_>>, org: OrgId) -> Result<RoleSyncSettings> {
    Ok(load_stored(db, &role_key(org)).await?.unwrap_or_default())
}

fn site_object() -> Object<'static> {
    Object::of(ResourceType::IdpsyncSettings)
}
fn org_object(org: OrgId) -> Object<'static> {
    Object::of(ResourceType::IdpsyncSettings).in_org(org.uuid())
}

/// Which settings a change is about: its key, org, audit resource type and target.
struct Target {
    key: String,
    org: Option<orgs::Organization>,
    resource_type: &'static str,
}

/// Reads, changes and saves one setting in a transaction (its row locked), audited as Coder's
/// `idp_sync_settings_*` write with the old and new settings.
async fn update<S>(
    d: &Domain,
    caller: &Caller,
    target: Target,
    change: impl FnOnce(S) -> Result<S>,
) -> Result<S>
where
    S: SyncSettings,
{
    let mut entry = Entry::new("write", target.resource_type).by(caller);
    let org_id = target.org.as_ref().map(|o| o.id);
    entry.org = org_id;
    match &target.org {
        Some(o) => entry.resource(o.id.uuid(), o.name.clone()),
        None => entry.resource(Uuid::nil(), "organization sync"),
    };
    let result = async {
        let object = org_id.map_or_else(site_object, org_object);
        caller.require(Action::Update, &object)?;
        let mut tx = d.store().begin().await?;
        idp_sync::lock(&mut tx, &target.key, org_id).await?;
        let old: S =
            load(&d.config.oidc, &mut tx, &target.key, target.org.as_ref()).await?.settings;
        let old_json = serde_json::to_value(&old).map_err(Error::internal)?;
        let new = change(old)?;
        let new_json = serde_json::to_value(&new).map_err(Error::internal)?;
        idp_sync::put(&mut tx, &target.key, org_id, &new_json.to_string()).await?;
        entry.changed(&old_json, &new_json);
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        Ok(new)
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// `GET /settings/idpsync/organization` (site `idpsync_settings: read`).
pub async fn organization_settings(
    d: &Domain,
    caller: &Caller,
) -> Result<OrganizationSyncSettings> {
    Ok(organization_settings_in_effect(d, caller).await?.settings)
}

/// The organization sync settings in effect, and whether the flags give them.
pub async fn organization_settings_in_effect(
    d: &Domain,
    caller: &Caller,
) -> Result<Effective<OrganizationSyncSettings>> {
    caller.require(Action::Read, &site_object())?;
    load(&d.config.oidc, d.store(), ORGANIZATION_KEY, None).await
}

fn org_target() -> Target {
    Target {
        key: ORGANIZATION_KEY.into(),
        org: None,
        resource_type: "idp_sync_settings_organization",
    }
}

/// `PATCH /settings/idpsync/organization`: replaces the settings (mapped ids are not checked,
/// as Coder: unknown organizations are skipped at sync).
pub async fn patch_organization_settings(
    d: &Domain,
    caller: &Caller,
    req: &OrganizationSyncSettings,
) -> Result<OrganizationSyncSettings> {
    update(d, caller, org_target(), |_: OrganizationSyncSettings| Ok(req.clone())).await
}

/// `PATCH /settings/idpsync/organization/config`: the field and assign-default, mapping kept.
pub async fn patch_organization_config(
    d: &Domain,
    caller: &Caller,
    req: &PatchOrganizationIdpSyncConfigRequest,
) -> Result<OrganizationSyncSettings> {
    update(d, caller, org_target(), |old: OrganizationSyncSettings| {
        Ok(OrganizationSyncSettings {
            field: req.field.clone(),
            organization_assign_default: req.assign_default,
            mapping: old.mapping,
        })
    })
    .await
}

/// `PATCH /settings/idpsync/organization/mapping`: adds, then removes mapping entries.
pub async fn patch_organization_mapping(
    d: &Domain,
    caller: &Caller,
    req: &PatchIdpSyncMappingRequest<Uuid>,
) -> Result<OrganizationSyncSettings> {
    update(d, caller, org_target(), |old: OrganizationSyncSettings| {
        let mapping = apply_mapping_patch(&old.mapping, req);
        Ok(OrganizationSyncSettings { mapping, ..old })
    })
    .await
}

/// The org (404 when the caller may not read it) and a check of `action` on its sync settings.
async fn org_for(
    d: &Domain,
    caller: &Caller,
    org: &str,
    action: Action,
) -> Result<orgs::Organization> {
    let org = resolve_org(d, caller, org).await?;
    caller.require(action, &org_object(org.id))?;
    Ok(org)
}

/// `GET /organizations/{org}/settings/idpsync/groups`.
pub async fn group_settings(d: &Domain, caller: &Caller, org: &str) -> Result<GroupSyncSettings> {
    Ok(group_settings_in_effect(d, caller, org).await?.settings)
}

/// An organization's group sync settings in effect, and whether the flags give them (the
/// default organization's legacy group sync).
pub async fn group_settings_in_effect(
    d: &Domain,
    caller: &Caller,
    org: &str,
) -> Result<Effective<GroupSyncSettings>> {
    let org = org_for(d, caller, org, Action::Read).await?;
    load(&d.config.oidc, d.store(), &group_key(org.id), Some(&org)).await
}

/// The full PATCH: Coder refuses the legacy name mapping (it comes from the flags only).
/// The full PATCH: Coder refuses the legacy name mapping (only the flags set it).
fn check_group_settings(s: &GroupSyncSettings) -> Result<()> {
    if !s.legacy_group_name_mapping.is_empty() {
        return Err(Error::bad_request(
            "Unexpected field 'legacy_group_name_mapping'. Field not allowed, set to null or remove it.",
        )
        .detail("legacy_group_name_mapping is deprecated, use mapping instead")
        .validation("legacy_group_name_mapping", "field is not allowed"));
    }
    check_regex_filter(s)
}

fn check_regex_filter(s: &GroupSyncSettings) -> Result<()> {
    if let Some(filter) = &s.regex_filter
        && let Err(e) = regex::Regex::new(filter)
    {
        return Err(Error::bad_request("Invalid regex_filter.")
            .detail(e.to_string())
            .validation("regex_filter", "not a valid regular expression"));
    }
    Ok(())
}

async fn group_target(d: &Domain, caller: &Caller, org: &str) -> Result<Target> {
    let org = resolve_org(d, caller, org).await?;
    Ok(Target { key: group_key(org.id), org: Some(org), resource_type: "idp_sync_settings_group" })
}

async fn role_target(d: &Domain, caller: &Caller, org: &str) -> Result<Target> {
    let org = resolve_org(d, caller, org).await?;
    Ok(Target { key: role_key(org.id), org: Some(org), resource_type: "idp_sync_settings_role" })
}

/// `PATCH /organizations/{org}/settings/idpsync/groups`: replaces the settings.
pub async fn patch_group_settings(
    d: &Domain,
    caller: &Caller,
    org: &str,
    req: &GroupSyncSettings,
) -> Result<GroupSyncSettings> {
    let target = group_target(d, caller, org).await?;
    update(d, caller, target, |_: GroupSyncSettings| {
        check_group_settings(req)?;
        Ok(req.clone())
    })
    .await
}

/// `PATCH /organizations/{org}/settings/idpsync/groups/config`: all but the mapping.
pub async fn patch_group_config(
    d: &Domain,
    caller: &Caller,
    org: &str,
    req: &PatchGroupIdpSyncConfigRequest,
) -> Result<GroupSyncSettings> {
    let target = group_target(d, caller, org).await?;
    update(d, caller, target, |old: GroupSyncSettings| {
        let new = GroupSyncSettings {
            field: req.field.clone(),
            regex_filter: req.regex_filter.clone(),
            auto_create_missing_groups: req.auto_create_missing_groups,
            ..old
        };
        check_regex_filter(&new)?;
        Ok(new)
    })
    .await
}

/// `PATCH /organizations/{org}/settings/idpsync/groups/mapping`.
pub async fn patch_group_mapping(
    d: &Domain,
    caller: &Caller,
    org: &str,
    req: &PatchIdpSyncMappingRequest<Uuid>,
) -> Result<GroupSyncSettings> {
    let target = group_target(d, caller, org).await?;
    update(d, caller, target, |old: GroupSyncSettings| {
        let mapping = apply_mapping_patch(&old.mapping, req);
        Ok(GroupSyncSettings { mapping, ..old })
    })
    .await
}

/// `GET /organizations/{org}/settings/idpsync/roles`.
pub async fn role_settings(d: &Domain, caller: &Caller, org: &str) -> Result<RoleSyncSettings> {
    let org = org_for(d, caller, org, Action::Read).await?;
    load_roles(d.store(), org.id).await
}

/// `PATCH /organizations/{org}/settings/idpsync/roles`: replaces the settings.
pub async fn patch_role_settings(
    d: &Domain,
    caller: &Caller,
    org: &str,
    req: &RoleSyncSettings,
) -> Result<RoleSyncSettings> {
    let target = role_target(d, caller, org).await?;
    let assignable = MappedRoles::load(d, caller, &target).await?;
    update(d, caller, target, |old: RoleSyncSettings| {
        assignable.check(&old, req)?;
        Ok(req.clone())
    })
    .await
}

/// `PATCH /organizations/{org}/settings/idpsync/roles/config`: the field, mapping kept.
pub async fn patch_role_config(
    d: &Domain,
    caller: &Caller,
    org: &str,
    req: &PatchRoleIdpSyncConfigRequest,
) -> Result<RoleSyncSettings> {
    let target = role_target(d, caller, org).await?;
    let assignable = MappedRoles::load(d, caller, &target).await?;
    update(d, caller, target, |old: RoleSyncSettings| {
        let new = RoleSyncSettings { field: req.field.clone(), ..old.clone() };
        assignable.check(&old, &new)?;
        Ok(new)
    })
    .await
}

/// `PATCH /organizations/{org}/settings/idpsync/roles/mapping`.
pub async fn patch_role_mapping(
    d: &Domain,
    caller: &Caller,
    org: &str,
    req: &PatchIdpSyncMappingRequest<String>,
) -> Result<RoleSyncSettings> {
    let target = role_target(d, caller, org).await?;
    let assignable = MappedRoles::load(d, caller, &target).await?;
    update(d, caller, target, |old: RoleSyncSettings| {
        let mapping = apply_mapping_patch(&old.mapping, req);
        let new = RoleSyncSettings { mapping, ..old.clone() };
        assignable.check(&old, &new)?;
        Ok(new)
    })
    .await
}

/// Role sync grants what its mapping names at every sign-in, so a mapping may only add roles
/// its editor could assign by hand in that org (the engine's role-change rules, `assignable_by`
/// included): an `organization-user-admin` with `idpsync_settings` cannot map a claim to
/// `organization-admin` and sign in to it. A claim value with no mapping entry is taken as a
/// role name (Coder), so turning sync on or pointing it at another claim, and dropping a
/// mapping entry whose value names a role, grant too and are checked alike. Names that are no
/// org role (site roles, which sync drops, or roles not defined yet) are kept, as Coder keeps
/// them.
struct MappedRoles<'a> {
    caller: &'a Caller,
    org: OrgId,
    custom: Vec<atrium_store::roles::CustomRole>,
}

impl<'a> MappedRoles<'a> {
    async fn load(d: &Domain, caller: &'a Caller, target: &Target) -> Result<MappedRoles<'a>> {
        let org = target.org.as_ref().map(|o| o.id).ok_or_else(|| Error::internal("no org"))?;
        let custom = atrium_store::roles::list(d.store(), org).await?;
        Ok(MappedRoles { caller, org, custom })
    }

    /// Refuses a role that `new` can grant and `old` could not, unless the caller may assign it:
    /// every org role when sync is turned on or moved to another claim (any value of the new
    /// claim may name any role, and it now picks the mapped roles), a role newly mapped to a
    /// value, and a value whose mapping entry is dropped (it now passes through as a name).
    fn check(&self, old: &RoleSyncSettings, new: &RoleSyncSettings) -> Result<()> {
        use atrium_engine::BuiltinRole;
        use atrium_engine::assign::{RoleScope, check_role_change_with};
        let custom = |name: &str| crate::members::custom_role_info(&self.custom, name);
        let mut granted: Vec<String> = Vec::new();
        let retargeted = !new.field.is_empty() && new.field != old.field;
        if retargeted {
            let builtin = BuiltinRole::ALL
                .into_iter()
                .filter(|b| b.is_org_role() && *b != BuiltinRole::OrganizationMember);
            granted.extend(builtin.map(|b| b.name().to_owned()));
            granted.extend(self.custom.iter().map(|c| c.name.clone()));
        }
        for (value, roles) in &new.mapping {
            let before = old.mapping.get(value);
            granted.extend(
                roles
                    .iter()
                    .filter(|role| {
                        !before.is_some_and(|b| b.iter().any(|r| r.eq_ignore_ascii_case(role)))
                    })
                    .cloned(),
            );
        }
        granted.extend(old.mapping.keys().filter(|v| !new.mapping.contains_key(*v)).cloned());
        for role in granted {
            let org_role = BuiltinRole::parse(&role).is_some_and(|b| b.is_org_role())
                || custom(&role).is_some();
            if org_role && role != BuiltinRole::OrganizationMember.name() {
                let scope = RoleScope::Org(self.org.uuid());
                check_role_change_with(self.caller.subject(), scope, &[], &[role], custom).map_err(
                    |e| {
                        let e = crate::user_roles::assign_error(e);
                        if retargeted {
                            e.detail("Role sync takes a claim value without a mapping entry as a role name, so turning it on or changing its claim needs the right to assign every organization role.")
                        } else {
                            e
                        }
                    },
                )?;
            }
        }
        Ok(())
    }
}

/// The claims seen at the last sign-in of the org's members (of every OIDC user without an
/// org), after Coder's read check with its texts.
async fn seen_claims(
    d: &Domain,
    caller: &Caller,
    org: Option<&str>,
    what: &str,
) -> Result<Vec<serde_json::Map<String, Value>>> {
    let org = match org {
        Some(o) => Some(resolve_org(d, caller, o).await?.id),
        None => None,
    };
    let object = org.map_or_else(site_object, org_object);
    if !caller.can(Action::Read, &object) {
        return Err(Error::forbidden_with(format!("You do not have permission to view {what}"))
            .detail("idpsync_settings.read permission is required"));
    }
    let rows = idp_sync::seen_claims(d.store(), org).await?;
    Ok(rows
        .iter()
        .filter_map(|text| match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        })
        .collect())
}

/// `GET [/organizations/{org}]/settings/idpsync/available-fields`: every claim name seen at
/// sign-ins, sorted.
pub async fn available_fields(
    d: &Domain,
    caller: &Caller,
    org: Option<&str>,
) -> Result<Vec<String>> {
    let claims = seen_claims(d, caller, org, "the available IDP fields").await?;
    let fields: BTreeSet<String> = claims.iter().flat_map(|c| c.keys().cloned()).collect();
    Ok(fields.into_iter().collect())
}

/// `GET [/organizations/{org}]/settings/idpsync/field-values?claimField=`: every string value
/// (or string in a list) seen for the claim, sorted.
pub async fn field_values(
    d: &Domain,
    caller: &Caller,
    org: Option<&str>,
    claim_field: Option<&str>,
) -> Result<Vec<String>> {
    let Some(field) = claim_field.filter(|f| !f.is_empty()) else {
        return Err(Error::bad_request("claimField query parameter is required"));
    };
    let claims = seen_claims(d, caller, org, "the IDP claim field values").await?;
    let mut values = BTreeSet::new();
    for c in &claims {
        match c.get(field) {
            Some(Value::String(s)) => {
                values.insert(s.clone());
            }
            Some(Value::Array(items)) => {
                values.extend(items.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            _ => {}
        }
    }
    Ok(values.into_iter().collect())
}

/// Coder's refusal of manual organization membership changes for a user who signs in through
/// the identity provider while organization sync is on.
pub(crate) async fn refuse_manual_membership(d: &Domain, user: &users::User) -> Result<()> {
    if user.login_type != LoginType::Oidc {
        return Ok(());
    }
    if load_organization(&d.config.oidc, d.store()).await?.field.is_empty() {
        return Ok(());
    }
    Err(Error::bad_request(
        "Organization sync is enabled for OIDC users, meaning manual organization assignment is not allowed for this user. Have the user re-login to refresh their organizations.",
    )
    .detail(format!(
        "User {} is an OIDC user and organization sync is enabled. Ask an administrator to resolve the membership in your external IDP.",
        user.username
    )))
}

/// Coder's refusal of manual org role edits for a user who signs in through the identity
/// provider while the org's role sync is on.
pub(crate) async fn refuse_manual_member_roles(
    d: &Domain,
    org: OrgId,
    user: &users::User,
) -> Result<()> {
    if user.login_type != LoginType::Oidc || load_roles(d.store(), org).await?.field.is_empty() {
        return Ok(());
    }
    Err(Error::bad_request(
        "Cannot modify roles for OIDC users when role sync is enabled. This organization member's roles are managed by the identity provider. Have the user re-login to refresh their roles.",
    )
    .detail(
        "'User Role Field' is set in the organization settings. Ask an administrator to adjust or disable these settings.",
    ))
}

/// Refuses manual membership edits that group sync would undo at the next sign-in (Coder
/// silently undoes them; coder#6549): any edit of a group sync manages (created by sync, or a
/// mapping target), and adding or removing a user who signs in through the identity provider
/// to or from any group of an org with group sync on.
pub(crate) async fn refuse_manual_group_edit(
    cfg: &OidcConfig,
    db: &mut atrium_store::Tx<'_>,
    org: &orgs::Organization,
    group: &groups::Group,
    touched: &[UserId],
) -> Result<()> {
    if touched.is_empty() {
        return Ok(());
    }
    let settings = load_groups(cfg, &mut *db, org).await?;
    if settings.field.is_empty() {
        return Ok(());
    }
    let field = &settings.field;
    let mapped = settings.mapping.values().flatten().any(|id| *id == group.id.uuid());
    if group.source == GroupSource::Oidc || mapped {
        return Err(Error::bad_request(format!(
            "The members of group \"{}\" are managed by IdP group sync (claim \"{field}\"); they \
             cannot be changed by hand.",
            group.name
        ))
        .detail(
            "Change the user's groups at the identity provider (applied at their next sign-in), \
             or change this organization's group sync settings.",
        ));
    }
    for u in users::get_many(&mut *db, touched).await? {
        if u.login_type == LoginType::Oidc {
            return Err(Error::bad_request(format!(
                "User \"{}\" signs in through the identity provider, and group sync is on in \
                 organization \"{}\" (claim \"{field}\"): their groups there follow the identity \
                 provider, so a manual change would be undone at their next sign-in.",
                u.username, org.name
            ))
            .detail(
                "Change the user's groups at the identity provider, or turn group sync off for \
                 this organization.",
            ));
        }
    }
    Ok(())
}

/// The JSON shown for a settings value in audit rows (for the sync's own rows).
pub(crate) fn claim_note(kind: &str, field: &str, values: &[String]) -> Value {
    json!({"idp_sync": kind, "claim": field, "claim_values": values})
}
