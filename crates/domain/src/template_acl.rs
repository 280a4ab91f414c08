//! The template ACL (rbac.md §7.1): who besides their roles may read, use or administer a
//! template. Roles on the wire are `admin` (every action, `["*"]`), `use` (`read`, `use`) and
//! `""` (remove); the Everyone group is addressed by the org id. Editing needs `create` on
//! the template — "only those who may create the template edit its ACL".

use crate::templates::use_actions;
#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
use atrium_api::ValidationError;
use atrium_engine::{Action, ActionSet};
use atrium_store::{Acl, GroupId, OrgId, StoreError, UserId, groups, users};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The wire role of a stored action set: exactly `["*"]` is `admin`, exactly `{read, use}`
/// is `use`, anything else (a set written by another tool) shows as `""`.
pub fn role_of(set: ActionSet) -> &'static str {
    if set == ActionSet::WILDCARD {
        "admin"
    } else if set == use_actions() {
        "use"
    } else {
        ""
    }
}

/// The action set of a wire role; `None` for `""` (remove) and for unknown roles.
pub fn actions_of(role: &str) -> Option<ActionSet> {
    match role {
        "admin" => Some(ActionSet::WILDCARD),
        "use" => Some(use_actions()),
        _ => None,
    }
}

pub fn set_json(set: ActionSet) -> Value {
    Value::Array(set.iter().map(|a| Value::String(a.to_string())).collect())
}

/// `{"user_acl": {id: [actions]}, "group_acl": {...}}`, as audit diffs show ACLs.
pub fn acl_json(acl: &Acl) -> Value {
    let users: Map<String, Value> =
        acl.users.iter().map(|(u, s)| (u.to_string(), set_json(*s))).collect();
    let groups: Map<String, Value> =
        acl.groups.iter().map(|(g, s)| (g.to_string(), set_json(*s))).collect();
    json!({"user_acl": users, "group_acl": groups})
}

/// A group object: its members may read it (rbac.md §7.3); for Everyone, every org member.
pub fn can_read_group(actor: &Caller, group: GroupId, org: OrgId) -> bool {
    crate::groups::with_group_object(group, org, |o| actor.can(Action::Read, o))
}

/// A live user, or `None`.
pub async fn live_user(state: &Domain, id: UserId) -> Result<Option<users::User>> {
    match users::get(state.legacy_store(), id).await {
        Ok(u) if !u.deleted => Ok(Some(u)),
        Ok(_) | Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub const INVALID: &str = "Invalid request to update template ACL";

/// Checks one of the two maps: roles first, then ids, then (except for removals) that the
/// grantee exists; every problem is reported. Returns the parsed entries.
pub async fn validate_perms(
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
        if !role.is_empty() && actions_of(role).is_none() {
            errors.push(invalid(format!("role \"{role}\" is not a valid template role")));
            continue;
        }
        let Ok(id) = key.parse::<uuid::Uuid>() else {
            errors.push(invalid(format!("{key} is not a valid UUID.")));
            continue;
        };
        let actions = actions_of(role);
        if actions.is_some() {
            let exists = if users_not_groups {
                live_user(state, UserId(id)).await?.is_some()
            } else if GroupId(id).is_everyone_of(org) {
                true
            } else {
                match groups::get(state.legacy_store(), GroupId(id)).await {
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
pub fn apply<K: Ord + Copy>(
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
