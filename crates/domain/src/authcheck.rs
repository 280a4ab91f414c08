//! `POST /authcheck` as Coder has it (named checks → booleans), and Atrium's
//! `POST /authcheck/explain`: one check answered with the engine's decision in plain words, for
//! oneself or for a user whose roles the caller may read.

#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
pub use atrium_api::authcheck::*;
use atrium_engine::{Action, ActionSet, Object, ResourceType};
use atrium_store::{
    GroupId, OrgId, StoreError, TemplateId, UserId, groups, orgs, templates, users,
};
use uuid::Uuid;

/// A check's object with owned ACLs.
pub struct Loaded {
    pub resource_type: ResourceType,
    pub id: Option<Uuid>,
    pub owner: Option<Uuid>,
    pub org: Option<Uuid>,
    pub any_org: bool,
    pub users: Vec<(Uuid, ActionSet)>,
    pub groups: Vec<(Uuid, ActionSet)>,
}

impl Loaded {
    pub fn object(&self) -> Object<'_> {
        let mut o =
            Object::of(self.resource_type).with_user_acl(&self.users).with_group_acl(&self.groups);
        o.id = self.id;
        o.owner = self.owner;
        o.org = self.org;
        o.any_org = self.any_org;
        o
    }
}

pub fn parse_uuid(value: &str) -> Result<Option<Uuid>> {
    if value.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(value)
        .map(Some)
        .map_err(|_| Error::bad_request(format!("Object \"{value}\" id is not a valid uuid.")))
}

/// Builds the object of one check; with `resource_id`, the real row is loaded (an unreadable or
/// missing row makes the check false, not an error: `Ok(None)`).
pub async fn load(
    state: &Domain,
    me: UserId,
    key: &str,
    check: &Check,
) -> Result<(Action, Option<Loaded>)> {
    let o = &check.object;
    if o.resource_type.is_empty() {
        return Err(Error::bad_request(format!(
            "Object's \"resource_type\" field must be defined for key \"{key}\"."
        )));
    }
    let resource_type = ResourceType::parse(&o.resource_type).ok_or_else(|| {
        Error::bad_request(format!("Unknown resource type \"{}\".", o.resource_type))
    })?;
    let action = Action::parse(&check.action)
        .ok_or_else(|| Error::bad_request(format!("Unknown action \"{}\".", check.action)))?;
    let owner = if o.owner_id == "me" { Some(me.uuid()) } else { parse_uuid(&o.owner_id)? };
    let mut loaded = Loaded {
        resource_type,
        id: parse_uuid(&o.resource_id)?,
        owner,
        org: parse_uuid(&o.organization_id)?,
        any_org: o.any_org,
        users: vec![],
        groups: vec![],
    };
    let Some(id) = loaded.id else { return Ok((action, Some(loaded))) };
    let absent = |e: StoreError| match e {
        StoreError::NotFound { .. } => Ok(None),
        e => Err(Error::from(e)),
    };
    match resource_type {
        ResourceType::Template => {
            let t = match templates::get(state.legacy_store(), TemplateId(id)).await {
                Ok(t) if !t.deleted => t,
                Ok(_) => return Ok((action, None)),
                Err(e) => return absent(e).map(|n| (action, n)),
            };
            let acl = templates::get_acl(state.legacy_store(), t.id).await?;
            loaded.org = Some(t.org_id.uuid());
            loaded.users = acl.users.into_iter().map(|(u, a)| (u.uuid(), a)).collect();
            loaded.groups = acl.groups.into_iter().map(|(g, a)| (g.uuid(), a)).collect();
        }
        ResourceType::User => match users::get(state.legacy_store(), UserId(id)).await {
            Ok(u) if !u.deleted => loaded.owner = Some(u.id.uuid()),
            Ok(_) => return Ok((action, None)),
            Err(e) => return absent(e).map(|n| (action, n)),
        },
        ResourceType::Group => {
            let org = match groups::get(state.legacy_store(), GroupId(id)).await {
                Ok(g) => g.org_id,
                Err(StoreError::NotFound { .. }) => {
                    match orgs::get(state.legacy_store(), OrgId(id)).await {
                        Ok(o) => o.id,
                        Err(e) => return absent(e).map(|n| (action, n)),
                    }
                }
                Err(e) => return Err(e.into()),
            };
            loaded.org = Some(org.uuid());
            loaded.groups =
                vec![(id, [atrium_engine::Wild::Is(Action::Read)].into_iter().collect())];
        }
        other => {
            return Err(Error::bad_request(format!(
                "Object type \"{}\" does not support \"resource_id\" field.",
                other
            ))
            .validation(
                "resource_type",
                format!("resource type \"{other}\" does not support resource_id"),
            ));
        }
    }
    Ok((action, Some(loaded)))
}
