//! `POST /authcheck` as Coder has it (named checks → booleans), and Atrium's
//! `POST /authcheck/explain`: one check answered with the engine's decision in plain words, for
//! oneself or for a user whose roles the caller may read.

use std::collections::BTreeMap;
use std::sync::Arc;

use atrium_api::authcheck::{AuthorizationRequest, Check, ExplainRequest, ExplainResponse};
use atrium_engine::group::GroupObject;
use atrium_engine::{Action, ActionSet, Object, ResourceType, RoleOptions, Scope};
use atrium_store::{
    GroupId, OrgId, StoreError, TemplateId, UserId, WorkspaceId, groups, orgs, templates, users,
    workspaces,
};
use uuid::Uuid;

use crate::caller::load_subject_input;
use crate::{Caller, Domain, Error, Result};

/// Answers the caller's named checks (Coder's `POST /authcheck`): each check is allowed when
/// the caller's roles and token scope allow its action on its object. A check naming a row by
/// `resource_id` is judged against the real row; a missing row makes it false. Needs no
/// permission of its own: it only tells callers what they may do.
pub async fn authcheck(
    d: &Domain,
    caller: &Caller,
    req: &AuthorizationRequest,
) -> Result<BTreeMap<String, bool>> {
    let with_ids = req.checks.values().filter(|c| !c.object.resource_id.is_empty()).count();
    if with_ids > 10 {
        return Err(Error::bad_request(format!(
            "Endpoint only supports using \"resource_id\" field 10 times, found {with_ids} usages. Remove {} objects with this field set.",
            with_ids - 10
        )));
    }
    let mut out = BTreeMap::new();
    for (key, check) in &req.checks {
        let (action, loaded) = load(d, caller.id(), key, check).await?;
        // A row named by id the caller may not read is answered like a missing one (Coder
        // reads it through its authorizing store).
        let allowed = loaded.is_some_and(|l| {
            let o = l.object();
            (l.id.is_none() || caller.can(Action::Read, &o)) && caller.can(action, &o)
        });
        out.insert(key.clone(), allowed);
    }
    Ok(out)
}

/// Explains one decision in plain words, naming the roles and permissions involved, for the
/// caller or for another user (`user_id`). Explaining another user's decision requires `read`
/// on that user (an unreadable or missing user is 404, a readable one without the right is
/// 403). A row named by `resource_id` is explained only when the caller may read it; otherwise
/// the answer is the one a missing row gets, so explain is no existence oracle.
pub async fn explain(d: &Domain, caller: &Caller, req: &ExplainRequest) -> Result<ExplainResponse> {
    let subject = match req.user_id.as_deref().filter(|u| !u.is_empty() && *u != "me") {
        None => caller.subject.clone(),
        Some(param) => {
            // A body field, not a path: an unreadable user is simply not found.
            let user = crate::users::resolve_user(d, caller, param)
                .await
                .map_err(|_| Error::not_found())?;
            caller.require(Action::Read, &Caller::user_object(user.id))?;
            let input = load_subject_input(d, user.id).await?;
            Arc::new(atrium_engine::stored::build(&input, Scope::ALL, RoleOptions::default()))
        }
    };
    let check = Check { object: req.object.clone(), action: req.action.clone() };
    let (action, loaded) = load(d, UserId(subject.id()), "explain", &check).await?;
    // A loaded row is explained only to a caller who may read it: otherwise the answer is the
    // one a missing row gets, so explain is no existence oracle (and never leaks its ACL).
    let loaded = loaded.filter(|l| l.id.is_none() || caller.can(Action::Read, &l.object()));
    Ok(match loaded {
        Some(l) => {
            let object = l.object();
            let decision = subject.authorize(action, &object);
            ExplainResponse {
                allowed: decision.allowed,
                reasons: subject.explain(&decision, action, &object),
            }
        }
        None => ExplainResponse {
            allowed: false,
            reasons: vec!["the object does not exist or cannot be read".into()],
        },
    })
}

/// A check's object with owned ACLs.
struct Loaded {
    /// A loaded workspace: its own object (dormant ones are `workspace_dormant`, no ACL).
    workspace: Option<crate::workspaces::WorkspaceAuthz>,
    resource_type: ResourceType,
    id: Option<Uuid>,
    owner: Option<Uuid>,
    org: Option<Uuid>,
    any_org: bool,
    users: Vec<(Uuid, ActionSet)>,
    groups: Vec<(Uuid, ActionSet)>,
    /// A loaded group: the engine's group object (its members may read it) supplies the ACL.
    group: Option<GroupObject>,
}

impl Loaded {
    fn object(&self) -> Object<'_> {
        if let Some(w) = &self.workspace {
            return w.object();
        }
        let mut o = match &self.group {
            Some(g) => g.object(),
            None => Object::of(self.resource_type)
                .with_user_acl(&self.users)
                .with_group_acl(&self.groups),
        };
        o.id = self.id;
        o.owner = self.owner;
        o.org = self.org;
        o.any_org = self.any_org;
        o
    }
}

fn parse_uuid(value: &str) -> Result<Option<Uuid>> {
    if value.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(value)
        .map(Some)
        .map_err(|_| Error::bad_request(format!("Object \"{value}\" id is not a valid uuid.")))
}

/// Builds the object of one check; with `resource_id`, the real row is loaded (an unreadable or
/// missing row makes the check false, not an error: `Ok(None)`).
async fn load(
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
        group: None,
        workspace: None,
    };
    let Some(id) = loaded.id else { return Ok((action, Some(loaded))) };
    let absent = |e: StoreError| match e {
        StoreError::NotFound { .. } => Ok(None),
        e => Err(Error::from(e)),
    };
    match resource_type {
        ResourceType::Template => {
            let t = match templates::get(state.store(), TemplateId(id)).await {
                Ok(t) if !t.deleted => t,
                Ok(_) => return Ok((action, None)),
                Err(e) => return absent(e).map(|n| (action, n)),
            };
            let acl = templates::get_acl(state.store(), t.id).await?;
            loaded.org = Some(t.org_id.uuid());
            loaded.users = acl.users.into_iter().map(|(u, a)| (u.uuid(), a)).collect();
            loaded.groups = acl.groups.into_iter().map(|(g, a)| (g.uuid(), a)).collect();
        }
        ResourceType::Workspace => {
            let ws = match workspaces::get(state.store(), WorkspaceId::from(id)).await {
                Ok(w) if !w.deleted => w,
                Ok(_) => return Ok((action, None)),
                Err(e) => return absent(e).map(|n| (action, n)),
            };
            loaded.workspace = Some(crate::workspaces::WorkspaceAuthz::load(state, &ws).await?);
        }
        ResourceType::User => match users::get(state.store(), UserId(id)).await {
            Ok(u) if !u.deleted => loaded.owner = Some(u.id.uuid()),
            Ok(_) => return Ok((action, None)),
            Err(e) => return absent(e).map(|n| (action, n)),
        },
        ResourceType::Group => {
            let org = match groups::get(state.store(), GroupId(id)).await {
                Ok(g) => g.org_id,
                Err(StoreError::NotFound { .. }) => {
                    match orgs::get(state.store(), OrgId(id)).await {
                        Ok(o) => o.id,
                        Err(e) => return absent(e).map(|n| (action, n)),
                    }
                }
                Err(e) => return Err(e.into()),
            };
            loaded.org = Some(org.uuid());
            loaded.group = Some(GroupObject::new(id, org.uuid()));
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
