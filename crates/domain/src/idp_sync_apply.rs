//! IdP sync at each OIDC sign-in (coder-api.md §5, Coder's `coderd/idpsync`): organizations
//! first (so new memberships get their groups and roles in the same sign-in), then each
//! organization's groups and roles. It runs inside the sign-in's transaction as the system
//! (audit rows without a user), each change audited with the claim that caused it; the
//! `cache_changes` triggers on memberships, member roles and group members tell every replica's
//! caches, as for any other change.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use atrium_engine::BuiltinRole;
use atrium_engine::name::validate_name;
use atrium_store::{
    DbTime, GroupId, GroupSource, OrgId, StoreError, Tx, groups, orgs, roles, users,
};

use crate::audit::{self, Entry};
use crate::groups::EVERYONE;
use crate::idp_sync::{claim_note, load_groups, load_organization, load_roles};
use crate::oidc_config::OidcConfig;
use crate::{Error, RequestMeta, Result};

/// A claim read as Coder's `ParseStringSliceClaim` does: missing or `null` is no values, a
/// string is one value (none when empty), a list must hold only strings; anything else is
/// `Err` with the JSON type found.
pub fn parse_claim(
    claims: &Map<String, Value>,
    field: &str,
) -> std::result::Result<Vec<String>, &'static str> {
    match claims.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or("a list with a non-string"))
            .collect(),
        Some(Value::Bool(_)) => Err("a boolean"),
        Some(Value::Number(_)) => Err("a number"),
        Some(Value::Object(_)) => Err("an object"),
    }
}

/// Syncs the user's organizations, then groups and org roles, from the sign-in's claims.
pub(crate) async fn sync_at_sign_in(
    tx: &mut Tx<'_>,
    meta: &RequestMeta,
    user: &users::User,
    claims: &Map<String, Value>,
    cfg: &OidcConfig,
) -> Result<()> {
    sync_organizations(tx, meta, user, claims, cfg).await?;
    for m in orgs::list_memberships(&mut *tx, user.id).await? {
        let org = orgs::get(&mut *tx, m.org_id).await?;
        sync_groups(tx, meta, user, &org, claims, cfg).await?;
        sync_roles(tx, meta, user, &org, &m.roles, claims).await?;
    }
    Ok(())
}

/// A system audit row about `user`, naming the claim.
fn entry(action: &'static str, resource_type: &'static str, org: OrgId, note: Value) -> Entry {
    let mut e = Entry::new(action, resource_type);
    e.org = Some(org);
    e.additional_fields = note;
    e
}

async fn sync_organizations(
    tx: &mut Tx<'_>,
    meta: &RequestMeta,
    user: &users::User,
    claims: &Map<String, Value>,
    cfg: &OidcConfig,
) -> Result<()> {
    let settings = load_organization(cfg, &mut *tx).await?;
    let field = &settings.field;
    if field.is_empty() {
        return Ok(());
    }
    // Coder fails the sign-in on an unreadable organization claim.
    let values = parse_claim(claims, field).map_err(|kind| {
        Error::bad_request("Failed to sync organizations from the identity provider.").detail(
            format!("The \"{field}\" claim must be a string or a list of strings, not {kind}."),
        )
    })?;
    let mut wanted: Vec<OrgId> = Vec::new();
    if settings.organization_assign_default {
        wanted.push(orgs::get_default(&mut *tx).await?.id);
    }
    for v in &values {
        if let Some(ids) = settings.mapping.get(v) {
            wanted.extend(ids.iter().map(|id| OrgId(*id)));
        }
    }
    // Unknown organizations are skipped, as Coder does.
    let existing_orgs: BTreeSet<OrgId> =
        orgs::get_many(&mut *tx, &wanted).await?.into_iter().map(|o| o.id).collect();
    let current: BTreeSet<OrgId> =
        orgs::list_for_user(&mut *tx, user.id).await?.into_iter().map(|o| o.id).collect();
    let note = merge(
        claim_note("organization", field, &values),
        json!({"user_id": user.id, "username": user.username}),
    );
    for org in existing_orgs.difference(&current) {
        match orgs::add_member(&mut *tx, *org, user.id, DbTime::now()).await {
            Ok(_) | Err(StoreError::Unique { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let mut e = entry("create", "organization_member", *org, note.clone());
        e.resource(user.id.uuid(), user.username.clone());
        e.changed(&json!({}), &json!({"user_id": user.id, "organization_id": org}));
        audit::write(&mut *tx, meta, &e, 200).await?;
    }
    for org in current.difference(&existing_orgs) {
        orgs::remove_member(&mut *tx, *org, user.id).await?;
        let mut e = entry("delete", "organization_member", *org, note.clone());
        e.resource(user.id.uuid(), user.username.clone());
        e.changed(&json!({"user_id": user.id, "organization_id": org}), &json!({}));
        audit::write(&mut *tx, meta, &e, 200).await?;
    }
    Ok(())
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

async fn sync_groups(
    tx: &mut Tx<'_>,
    meta: &RequestMeta,
    user: &users::User,
    org: &orgs::Organization,
    claims: &Map<String, Value>,
    cfg: &OidcConfig,
) -> Result<()> {
    let settings = load_groups(cfg, &mut *tx, org).await?;
    let field = &settings.field;
    if field.is_empty() {
        return Ok(());
    }
    // An unreadable claim leaves the groups alone (Coder logs it and signs the user in).
    let Ok(values) = parse_claim(claims, field) else {
        tracing::warn!(org = %org.name, claim = %field, "group sync: the claim is not a list of strings");
        return Ok(());
    };
    let filter = match settings.regex_filter.as_deref().map(regex::Regex::new) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => return Err(Error::internal(format!("stored group regex filter: {e}"))),
        None => None,
    };
    let org_groups = groups::list(&mut *tx, org.id).await?;
    let mut wanted: BTreeSet<GroupId> = BTreeSet::new();
    let mut by_name: Vec<&str> = Vec::new();
    for v in &values {
        // The flags' name mapping comes before the filter (Coder's order).
        let v = settings.legacy_group_name_mapping.get(v).unwrap_or(v);
        if filter.as_ref().is_some_and(|r| !r.is_match(v)) {
            continue;
        }
        match settings.mapping.get(v) {
            Some(ids) => wanted.extend(
                ids.iter()
                    .filter(|id| org_groups.iter().any(|g| g.id.uuid() == **id))
                    .map(|id| GroupId(*id)),
            ),
            None => by_name.push(v),
        }
    }
    let note = merge(
        claim_note("groups", field, &values),
        json!({"user_id": user.id, "username": user.username}),
    );
    let mut names: HashMap<GroupId, String> =
        org_groups.iter().map(|g| (g.id, g.name.clone())).collect();
    for name in by_name {
        if let Some(g) = org_groups.iter().find(|g| g.name == name) {
            wanted.insert(g.id);
        } else if settings.auto_create_missing_groups
            && name != EVERYONE
            && validate_name(name).is_ok()
        {
            let id = create_group(tx, meta, org, name, &note).await?;
            names.insert(id, name.to_owned());
            wanted.insert(id);
        }
    }
    let current: BTreeSet<GroupId> = groups::list_for_user(&mut *tx, user.id)
        .await?
        .into_iter()
        .filter(|g| g.org_id == org.id)
        .map(|g| g.id)
        .collect();
    for (id, added) in wanted
        .difference(&current)
        .map(|g| (*g, true))
        .chain(current.difference(&wanted).map(|g| (*g, false)))
        .collect::<Vec<_>>()
    {
        if added {
            groups::add_member(&mut *tx, id, user.id).await?;
        } else {
            groups::remove_member(&mut *tx, id, user.id).await?;
        }
        let name = names.get(&id).cloned().unwrap_or_default();
        let mut e = entry("write", "group", org.id, note.clone());
        e.resource(id.uuid(), name);
        let (old, new) = if added {
            (json!({}), json!({"member_added": user.id}))
        } else {
            (json!({"member_removed": user.id}), json!({}))
        };
        e.changed(&old, &new);
        audit::write(&mut *tx, meta, &e, 200).await?;
    }
    Ok(())
}

/// Creates a missing group, `source: "oidc"` (auto-create), audited.
async fn create_group(
    tx: &mut Tx<'_>,
    meta: &RequestMeta,
    org: &orgs::Organization,
    name: &str,
    note: &Value,
) -> Result<GroupId> {
    let row = groups::insert(
        &mut *tx,
        &groups::NewGroup {
            id: GroupId::new_v4(),
            org_id: org.id,
            name,
            display_name: "",
            avatar_url: "",
            quota_allowance: 0,
            source: GroupSource::Oidc,
            created_at: DbTime::now(),
        },
    )
    .await?;
    let mut e = entry("create", "group", org.id, note.clone());
    e.resource(row.id.uuid(), row.name.clone());
    e.changed(&json!({}), &json!({"name": row.name, "source": "oidc"}));
    audit::write(&mut *tx, meta, &e, 201).await?;
    Ok(row.id)
}

async fn sync_roles(
    tx: &mut Tx<'_>,
    meta: &RequestMeta,
    user: &users::User,
    org: &orgs::Organization,
    current: &[String],
    claims: &Map<String, Value>,
) -> Result<()> {
    let settings = load_roles(&mut *tx, org.id).await?;
    let field = &settings.field;
    if field.is_empty() {
        return Ok(());
    }
    // An unreadable claim leaves the roles alone rather than locking anyone out (Coder).
    let Ok(values) = parse_claim(claims, field) else {
        tracing::warn!(org = %org.name, claim = %field, "role sync: the claim is not a list of strings");
        return Ok(());
    };
    let custom = roles::list(&mut *tx, org.id).await?;
    let member = BuiltinRole::OrganizationMember.name();
    let valid = |name: &str| -> Option<String> {
        if name == member {
            return None;
        }
        if BuiltinRole::parse(name).is_some_and(BuiltinRole::is_org_role) {
            return Some(name.to_owned());
        }
        custom.iter().find(|c| c.name.eq_ignore_ascii_case(name)).map(|c| c.name.clone())
    };
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for v in &values {
        match settings.mapping.get(v) {
            Some(mapped) => wanted.extend(mapped.iter().filter_map(|r| valid(r))),
            None => wanted.extend(valid(v)),
        }
    }
    let have: BTreeSet<String> = current.iter().filter(|r| *r != member).cloned().collect();
    if wanted == have {
        return Ok(());
    }
    let names: Vec<&str> = wanted.iter().map(String::as_str).collect();
    orgs::set_member_roles(&mut *tx, org.id, user.id, &names, DbTime::now()).await?;
    let note = merge(claim_note("roles", field, &values), json!({"username": user.username}));
    let mut e = entry("write", "organization_member", org.id, note);
    e.resource(user.id.uuid(), user.username.clone());
    e.changed(&json!({"roles": have}), &json!({"roles": wanted}));
    audit::write(&mut *tx, meta, &e, 200).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_read_as_coder_does() {
        let c = json!({"s": "a", "e": "", "l": ["a", "b"], "bad": ["a", 1], "n": 3, "z": null});
        let c = c.as_object().cloned().unwrap_or_default();
        assert_eq!(parse_claim(&c, "s"), Ok(vec!["a".to_owned()]));
        assert_eq!(parse_claim(&c, "e"), Ok(vec![]));
        assert_eq!(parse_claim(&c, "l"), Ok(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(parse_claim(&c, "missing"), Ok(vec![]));
        assert_eq!(parse_claim(&c, "z"), Ok(vec![]));
        assert!(parse_claim(&c, "bad").is_err());
        assert!(parse_claim(&c, "n").is_err());
    }
}
