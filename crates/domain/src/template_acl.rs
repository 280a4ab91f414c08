//! The template ACL (rbac.md §7.1): who besides their roles may read, use or administer a
//! template. Roles on the wire are `admin` (every action, `["*"]`), `use` (`read`, `use`) and
//! `""` (remove); the Everyone group is addressed by the org id. Editing needs `create` on
//! the template — "only those who may create the template edit its ACL".

use crate::audit::{self, Entry};
use crate::groups::{GroupRef, api_groups_for, reduced};
use crate::templates::{Resolved, resolve};
use crate::{Caller, Domain, Error, Result};
use atrium_api::Response as Message;
use atrium_api::ValidationError;
use atrium_api::templates::{
    AclAvailable, TemplateAcl, TemplateGroup, TemplateUser, UpdateTemplateAcl,
};
use atrium_engine::acl::AclKind;
use atrium_engine::{Action, ActionSet};
use atrium_store::{
    Acl, GroupId, OrgId, StoreError, UserId, groups, lists, orgs, templates, users,
};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The template ACL's role table (the engine's, rbac.md §7.1).
const KIND: AclKind = AclKind::Template;

fn set_json(set: ActionSet) -> Value {
    Value::Array(set.iter().map(|a| Value::String(a.to_string())).collect())
}

/// `{"user_acl": {id: [actions]}, "group_acl": {...}}`, as audit diffs show ACLs.
pub(crate) fn acl_json(acl: &Acl) -> Value {
    let users: Map<String, Value> =
        acl.users.iter().map(|(u, s)| (u.to_string(), set_json(*s))).collect();
    let groups: Map<String, Value> =
        acl.groups.iter().map(|(g, s)| (g.to_string(), set_json(*s))).collect();
    json!({"user_acl": users, "group_acl": groups})
}

/// A group object: its members may read it (rbac.md §7.3); for Everyone, every org member.
fn can_read_group(actor: &Caller, group: GroupId, org: OrgId) -> bool {
    crate::groups::with_group_object(group, org, |o| actor.can(Action::Read, o))
}

/// A live user, or `None`.
async fn live_user(state: &Domain, id: UserId) -> Result<Option<users::User>> {
    match users::get(state.store(), id).await {
        Ok(u) if !u.deleted => Ok(Some(u)),
        Ok(_) | Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

const INVALID: &str = "Invalid request to update template ACL";

/// Checks one of the two maps: roles first, then ids, then (except for removals) that the
/// grantee exists; every problem is reported. Returns the parsed entries.
async fn validate_perms(
    state: &Domain,
    org: OrgId,
    perms: &BTreeMap<String, String>,
    field: &str,
    users_not_groups: bool,
) -> Result<(Vec<(uuid::Uuid, Option<ActionSet>)>, Vec<ValidationError>)> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let invalid = |detail: String| ValidationError { field: field.to_owned(), detail };
    for (key, role) in perms {
        let actions = match KIND.parse_role(role) {
            Ok(actions) => actions,
            Err(unknown) => {
                errors.push(invalid(unknown.to_string()));
                continue;
            }
        };
        let Ok(id) = key.parse::<uuid::Uuid>() else {
            errors.push(invalid(format!("{key} is not a valid UUID.")));
            continue;
        };
        if actions.is_some() {
            let exists = if users_not_groups {
                live_user(state, UserId(id)).await?.is_some()
            } else if GroupId(id).is_everyone_of(org) {
                true
            } else {
                match groups::get(state.store(), GroupId(id)).await {
                    Ok(g) => g.org_id == org,
                    Err(StoreError::NotFound { .. }) => false,
                    Err(e) => return Err(e.into()),
                }
            };
            if !exists {
                let kind = if users_not_groups { "user" } else { "group" };
                errors.push(invalid(format!("{kind} with ID {id} does not exist")));
                continue;
            }
        }
        entries.push((id, actions));
    }
    Ok((entries, errors))
}

/// Applies entries to one side of the ACL: a set replaces the grantee's entry, `None` removes
/// it; grantees not named keep theirs.
fn apply<K: Ord + Copy>(
    current: &[(K, ActionSet)],
    changes: &[(uuid::Uuid, Option<ActionSet>)],
    key: impl Fn(uuid::Uuid) -> K,
) -> Vec<(K, ActionSet)> {
    let mut map: BTreeMap<K, ActionSet> = current.iter().copied().collect();
    for (id, set) in changes {
        match set {
            Some(set) => map.insert(key(*id), *set),
            None => map.remove(&key(*id)),
        };
    }
    map.into_iter().collect()
}

/// The template's ACL entries the caller may see (users and groups they may read). Needs a
/// readable template (404) and `update` on it (403, where Coder answers 500): as Coder's
/// dbauthz, the ACL is read by those who may update the template, not by all who may use it.
pub async fn get(d: &Domain, caller: &Caller, template: &str) -> Result<TemplateAcl> {
    let Resolved { template, authz } = resolve(d, caller, template).await?;
    caller.require(Action::Update, &authz.object())?;
    let acl = templates::get_acl(d.store(), template.id).await?;
    let org = orgs::get(d.store(), template.org_id).await?;
    // Every grantee is loaded once per view (a fixed number of statements).
    let user_ids: Vec<UserId> = acl.users.iter().map(|(id, _)| *id).collect();
    let (readable, _): (Vec<_>, Vec<_>) = users::get_many(d.store(), &user_ids)
        .await?
        .into_iter()
        .filter(|u| !u.deleted)
        .partition(|u| caller.can(Action::Read, &Caller::user_object(u.id)));
    let mut views: BTreeMap<UserId, _> = crate::users::to_api_many(d, caller, &readable)
        .await?
        .into_iter()
        .map(|u| (UserId(u.id), u))
        .collect();
    let mut out = TemplateAcl { users: Vec::new(), groups: Vec::new() };
    for (id, set) in &acl.users {
        if let Some(user) = views.remove(id) {
            out.users.push(TemplateUser { user, role: KIND.role_of(*set).to_owned() });
        }
    }
    let group_ids: Vec<GroupId> = acl.groups.iter().map(|(id, _)| *id).collect();
    let rows: BTreeMap<GroupId, groups::Group> =
        groups::get_many(d.store(), &group_ids).await?.into_iter().map(|g| (g.id, g)).collect();
    let mut shown = Vec::new();
    for (id, set) in &acl.groups {
        let row = if id.is_everyone_of(org.id) {
            None
        } else {
            match rows.get(id) {
                Some(g) if g.org_id == org.id => Some(g),
                // A grant to a group of another org is inert; a deleted group has none.
                _ => continue,
            }
        };
        if can_read_group(caller, *id, org.id) {
            shown.push(((&org, *id, row), KIND.role_of(*set)));
        }
    }
    let items: Vec<GroupRef<'_>> = shown.iter().map(|(item, _)| *item).collect();
    let groups = api_groups_for(d, caller, &items).await?;
    for (group, (_, role)) in groups.into_iter().zip(&shown) {
        out.groups.push(TemplateGroup { group, role: (*role).to_owned() });
    }
    Ok(out)
}

/// Grants, changes or removes ACL entries. Needs a readable template (404) and `create` on it
/// (403): only those who may create the template edit its ACL.
pub async fn update(
    d: &Domain,
    caller: &Caller,
    template: &str,
    req: UpdateTemplateAcl,
) -> Result<Message> {
    let mut entry = Entry::new("write", "template").by(caller);
    let result = async {
        let Resolved { template, authz } = resolve(d, caller, template).await?;
        entry.org = Some(template.org_id);
        entry.resource(template.id.uuid(), template.name.clone());
        caller.require(Action::Create, &authz.object())?;
        let (user_changes, mut errors) =
            validate_perms(d, template.org_id, &req.user_perms, "user_perms", true).await?;
        let (group_changes, group_errors) =
            validate_perms(d, template.org_id, &req.group_perms, "group_perms", false).await?;
        errors.extend(group_errors);
        if !errors.is_empty() {
            return Err(Error::bad_request(INVALID).validations(errors));
        }
        let mut tx = d.store().begin().await?;
        let old = templates::get_acl(&mut tx, template.id).await?;
        let new = Acl {
            users: apply(&old.users, &user_changes, UserId),
            groups: apply(&old.groups, &group_changes, GroupId),
        };
        templates::set_acl(&mut tx, template.id, &new).await?;
        entry.changed(&acl_json(&old), &acl_json(&new));
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        Ok(Message::message("Successfully updated template ACL list."))
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// The users and groups of the template's org that could be added to its ACL, as far as the
/// caller may read them. Needs `update` on the template (404 otherwise).
pub async fn available(d: &Domain, caller: &Caller, template: &str) -> Result<AclAvailable> {
    let Resolved { template, authz } = resolve(d, caller, template).await?;
    caller.require_or_404(Action::Update, &authz.object())?;
    let org = orgs::get(d.store(), template.org_id).await?;
    let mut out = AclAvailable { users: Vec::new(), groups: Vec::new() };
    let member_ids: Vec<UserId> =
        orgs::list_members(d.store(), org.id).await?.into_iter().map(|m| m.user_id).collect();
    let mut people: BTreeMap<UserId, users::User> =
        users::get_many(d.store(), &member_ids).await?.into_iter().map(|u| (u.id, u)).collect();
    for id in &member_ids {
        let Some(u) = people.remove(id).filter(|u| !u.deleted) else { continue };
        if caller.can(Action::Read, &Caller::user_object(u.id)) {
            out.users.push(reduced(&u));
        }
    }
    let everyone = GroupId::everyone(org.id);
    let filter = caller.subject().list_filter_for(Action::Read);
    let stored = lists::groups(d.store(), org.id, &filter).await?;
    let mut items: Vec<GroupRef<'_>> = Vec::new();
    if can_read_group(caller, everyone, org.id) {
        items.push((&org, everyone, None));
    }
    items.extend(stored.iter().map(|g| (&org, g.id, Some(g))));
    out.groups = api_groups_for(d, caller, &items).await?;
    Ok(out)
}
