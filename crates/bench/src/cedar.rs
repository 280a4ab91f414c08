//! A generic translation of Atrium's role model (rbac.md §1) into Cedar, so cedar-policy can
//! decide the same requests.
//!
//! - The principal (`Atrium::User`) carries its pooled permissions per level as sets of
//!   `"type:action"` strings (`*` kept as written): `site_allow` / `site_deny`, `user_allow` /
//!   `user_deny`, and the org level keyed by org, `"<org>/type:action"` in `org_allow` /
//!   `org_deny`; its member orgs (`orgs`, rbac.md's `M`); `any_org_allow`, the concrete
//!   `"type:action"` pairs that some member org allows without denying (§1.6: an existential
//!   over orgs, which Cedar cannot express); and its scope (`scope_allow`, `scope_deny`,
//!   `scope_ids` with `"*"` for "any id").
//! - A resource (`Atrium::Object`) carries `id`, `owner` (an `Atrium::User`, absent when
//!   none), `org` (an `Atrium::Org`, absent when none), `any_org`, and its ACLs as sets of
//!   `"<user or group>|<action or *>"` strings.
//! - Cedar has no string concatenation, so the request context carries the lookup keys:
//!   `perm` (the four keys a permission on this type and action may be written as), `key` (the
//!   exact one), `org_perm` (the same four keyed by the object's org; empty without one),
//!   `acl_user` and `acl_group` (`"<id>|<action>"` and `"<id>|*"` for the principal, for each
//!   of its groups and for the object's org, whose id is its Everyone group's).
//! - Cedar has no ordered precedence: one `permit` per level and per ACL rule, and one
//!   `forbid` per level for its negative permissions, each guarded by the conditions under
//!   which rbac.md §1.4 lets that deny count (a deny never blocks a higher level's allow nor an
//!   ACL grant). The scope is a plain `forbid ... unless`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::str::FromStr;

use atrium_engine::{Action, ActionSet, Permission, ResourceType, Subject};
use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request, RestrictedExpression,
};
use uuid::Uuid;

use crate::fixtures::{ObjectSpec, Result};

/// "Some ACL grants the action": the user ACL for the principal; the group ACL, for a member
/// of the object's org, for one of the principal's groups or the org's Everyone group.
const ACL: &str = r#"
    resource.acl_users.containsAny(context.acl_user) ||
    (resource.acl_groups.containsAny(context.acl_group) &&
     (if resource.any_org then !principal.orgs.isEmpty()
      else resource has org && principal.orgs.contains(resource.org)))"#;

/// The fixed policy set; `ACL_GRANTS` is replaced by [`ACL`].
const POLICIES: &str = r#"
// ---- role path: one permit per level (rbac.md §1.4) ----
@id("site-allow")
permit (principal, action, resource)
when { principal.site_allow.containsAny(context.perm) };

@id("org-allow")
permit (principal, action, resource)
when {
    principal.org_allow.containsAny(context.org_perm) ||
    (resource.any_org && principal.any_org_allow.contains(context.key))
};

// The user level reaches only owned objects in a member org, or in no org (org_ok).
@id("user-allow")
permit (principal, action, resource)
when {
    resource has owner && resource.owner == principal &&
    principal.user_allow.containsAny(context.perm) &&
    (if resource.any_org then !principal.orgs.isEmpty()
     else if resource has org then principal.orgs.contains(resource.org)
     else true)
};

// ---- ACL path: ignores every role vote ----
@id("acl-user")
permit (principal, action, resource)
when { resource.acl_users.containsAny(context.acl_user) };

@id("acl-group")
permit (principal, action, resource)
when {
    resource.acl_groups.containsAny(context.acl_group) &&
    (if resource.any_org then !principal.orgs.isEmpty()
     else resource has org && principal.orgs.contains(resource.org))
};

// ---- negative permissions: a deny blocks its own level and those below, never a higher
// level's allow nor an ACL grant ----
@id("site-deny")
forbid (principal, action, resource)
when { principal.site_deny.containsAny(context.perm) }
unless { ACL_GRANTS };

@id("org-deny")
forbid (principal, action, resource)
when {
    principal.org_deny.containsAny(context.org_perm) &&
    !principal.site_allow.containsAny(context.perm)
}
unless { ACL_GRANTS };

@id("user-deny")
forbid (principal, action, resource)
when {
    resource has owner && resource.owner == principal &&
    principal.user_deny.containsAny(context.perm) &&
    !principal.site_allow.containsAny(context.perm) &&
    !principal.org_allow.containsAny(context.org_perm) &&
    !(resource.any_org && principal.any_org_allow.contains(context.key))
}
unless { ACL_GRANTS };

// ---- limits that hold whatever the roles say ----
// The API key's scope must allow too; only its site permissions count (rbac.md §1.5).
@id("scope")
forbid (principal, action, resource)
unless {
    principal.scope_allow.containsAny(context.perm) &&
    !principal.scope_deny.containsAny(context.perm) &&
    (principal.scope_ids.contains("*") || principal.scope_ids.contains(resource.id))
};

// Coder refuses objects that name an org and ask about any org.
@id("any-org-with-org")
forbid (principal, action, resource)
when { resource.any_org && resource has org };
"#;

/// The same rules merged into one `permit` and one `forbid`: fewer policies for Cedar to walk
/// (it pays a fixed cost per policy), for a best-case Cedar figure beside the per-level set.
const COMPACT: &str = r#"
@id("allow")
permit (principal, action, resource)
when {
    principal.site_allow.containsAny(context.perm) ||
    principal.org_allow.containsAny(context.org_perm) ||
    (resource.any_org && principal.any_org_allow.contains(context.key)) ||
    (resource has owner && resource.owner == principal &&
     principal.user_allow.containsAny(context.perm) &&
     (if resource.any_org then !principal.orgs.isEmpty()
      else if resource has org then principal.orgs.contains(resource.org)
      else true)) ||
    ACL_GRANTS
};

@id("deny")
forbid (principal, action, resource)
when {
    !(principal.scope_allow.containsAny(context.perm) &&
      !principal.scope_deny.containsAny(context.perm) &&
      (principal.scope_ids.contains("*") || principal.scope_ids.contains(resource.id))) ||
    (resource.any_org && resource has org) ||
    ((principal.site_deny.containsAny(context.perm) ||
      (principal.org_deny.containsAny(context.org_perm) &&
       !principal.site_allow.containsAny(context.perm)) ||
      (resource has owner && resource.owner == principal &&
       principal.user_deny.containsAny(context.perm) &&
       !principal.site_allow.containsAny(context.perm) &&
       !principal.org_allow.containsAny(context.org_perm) &&
       !(resource.any_org && principal.any_org_allow.contains(context.key)))) &&
     !(ACL_GRANTS))
};
"#;

/// Parses the fixed policy set: one policy per level and rule.
pub fn policies() -> Result<PolicySet> {
    Ok(PolicySet::from_str(&POLICIES.replace("ACL_GRANTS", ACL))?)
}

/// Parses the merged policy set (same decisions, two policies).
pub fn compact_policies() -> Result<PolicySet> {
    Ok(PolicySet::from_str(&COMPACT.replace("ACL_GRANTS", ACL))?)
}

fn uid(type_name: &str, id: impl AsRef<str>) -> Result<EntityUid> {
    Ok(EntityUid::from_type_name_and_id(EntityTypeName::from_str(type_name)?, EntityId::new(id)))
}

fn user(id: Uuid) -> Result<EntityUid> {
    uid("Atrium::User", id.to_string())
}

fn strings(items: impl IntoIterator<Item = String>) -> RestrictedExpression {
    RestrictedExpression::new_set(items.into_iter().map(RestrictedExpression::new_string))
}

fn perm_key(p: &Permission) -> String {
    format!("{}:{}", p.resource_type, p.action)
}

/// The four keys a permission matching (type, action) may be written as.
fn lookup_keys(t: ResourceType, a: Action) -> [String; 4] {
    [format!("{t}:{a}"), format!("{t}:*"), format!("*:{a}"), "*:*".to_owned()]
}

/// Allow and deny keys of one level.
fn level<'a>(
    perms: impl IntoIterator<Item = &'a Permission>,
    prefix: &str,
) -> [BTreeSet<String>; 2] {
    let mut sets = [BTreeSet::new(), BTreeSet::new()];
    for p in perms {
        sets[usize::from(p.negate)].insert(format!("{prefix}{}", perm_key(p)));
    }
    sets
}

/// The principal entity, built from the subject's public parts: its roles, groups and scope.
pub fn principal(subject: &Subject) -> Result<Entity> {
    let roles = subject.roles();
    let [site_allow, site_deny] = level(roles.iter().flat_map(|r| &r.site), "");
    let [user_allow, user_deny] = level(roles.iter().flat_map(|r| &r.user), "");
    let mut org_allow = BTreeSet::new();
    let mut org_deny = BTreeSet::new();
    // Pooled org permissions per member org, for the any_org votes.
    let mut per_org: HashMap<Uuid, Vec<Permission>> = HashMap::new();
    for role in roles {
        let Some(org) = role.org else { continue };
        let [allow, deny] = level(&role.org_perms, &format!("{org}/"));
        org_allow.extend(allow);
        org_deny.extend(deny);
        per_org.entry(org).or_default().extend(role.org_perms.iter().copied());
    }
    let mut any_org_allow = BTreeSet::new();
    for perms in per_org.values() {
        for t in ResourceType::ALL {
            for a in Action::ALL {
                let matching = perms.iter().filter(|p| p.matches(*t, *a));
                let (allow, deny) =
                    matching.fold((false, false), |(y, n), p| (y || !p.negate, n || p.negate));
                if allow && !deny {
                    any_org_allow.insert(format!("{t}:{a}"));
                }
            }
        }
    }
    let orgs = subject
        .member_orgs()
        .iter()
        .map(|o| Ok(RestrictedExpression::new_entity_uid(uid("Atrium::Org", o.to_string())?)))
        .collect::<Result<Vec<_>>>()?;
    let scope = subject.scope();
    let [scope_allow, scope_deny] = level(&scope.name.permissions(), "");
    let scope_ids = match &scope.allow_list {
        None => vec!["*".to_owned()],
        Some(ids) => ids.iter().map(Uuid::to_string).collect(),
    };
    let attrs = HashMap::from([
        ("site_allow".to_owned(), strings(site_allow)),
        ("site_deny".to_owned(), strings(site_deny)),
        ("org_allow".to_owned(), strings(org_allow)),
        ("org_deny".to_owned(), strings(org_deny)),
        ("user_allow".to_owned(), strings(user_allow)),
        ("user_deny".to_owned(), strings(user_deny)),
        ("any_org_allow".to_owned(), strings(any_org_allow)),
        ("orgs".to_owned(), RestrictedExpression::new_set(orgs)),
        ("scope_allow".to_owned(), strings(scope_allow)),
        ("scope_deny".to_owned(), strings(scope_deny)),
        ("scope_ids".to_owned(), strings(scope_ids)),
    ]);
    Ok(Entity::new(user(subject.id())?, attrs, HashSet::new())?)
}

fn acl_keys(acl: &[(Uuid, ActionSet)]) -> impl Iterator<Item = String> + '_ {
    acl.iter().flat_map(|(who, set)| set.iter().map(move |a| format!("{who}|{a}")))
}

/// The org as the engine sees it: `any_org` with the nil org means no org (as Coder does).
fn effective_org(o: &ObjectSpec) -> Option<Uuid> {
    o.org.filter(|org| !(o.any_org && org.is_nil()))
}

/// A resource entity; `index` makes its uid unique within a case.
pub fn resource(o: &ObjectSpec, index: usize) -> Result<Entity> {
    let mut attrs = HashMap::from([
        (
            "id".to_owned(),
            RestrictedExpression::new_string(o.id.map(|i| i.to_string()).unwrap_or_default()),
        ),
        ("any_org".to_owned(), RestrictedExpression::new_bool(o.any_org)),
        ("acl_users".to_owned(), strings(acl_keys(&o.acl_users))),
        ("acl_groups".to_owned(), strings(acl_keys(&o.acl_groups))),
    ]);
    if let Some(owner) = o.owner {
        attrs.insert("owner".to_owned(), RestrictedExpression::new_entity_uid(user(owner)?));
    }
    if let Some(org) = effective_org(o) {
        attrs.insert(
            "org".to_owned(),
            RestrictedExpression::new_entity_uid(uid("Atrium::Org", org.to_string())?),
        );
    }
    Ok(Entity::new(resource_uid(index)?, attrs, HashSet::new())?)
}

fn resource_uid(index: usize) -> Result<EntityUid> {
    uid("Atrium::Object", format!("o{index}"))
}

/// The request for `action` on object number `index`, with its lookup keys.
pub fn request(subject: &Subject, action: Action, o: &ObjectSpec, index: usize) -> Result<Request> {
    let t = o.resource_type;
    let org = effective_org(o).filter(|_| !o.any_org);
    let perm = lookup_keys(t, action);
    let org_perm: Vec<String> = match org {
        Some(org) => perm.iter().map(|k| format!("{org}/{k}")).collect(),
        None => Vec::new(),
    };
    let id_keys = |id: Uuid| [format!("{id}|{action}"), format!("{id}|*")];
    let acl_group: Vec<String> =
        subject.groups().iter().copied().chain(org).flat_map(id_keys).collect();
    let context = Context::from_pairs([
        ("key".to_owned(), RestrictedExpression::new_string(perm[0].clone())),
        ("perm".to_owned(), strings(perm)),
        ("org_perm".to_owned(), strings(org_perm)),
        ("acl_user".to_owned(), strings(id_keys(subject.id()))),
        ("acl_group".to_owned(), strings(acl_group)),
    ])?;
    let action = uid("Atrium::Action", action.as_str())?;
    Ok(Request::new(user(subject.id())?, action, resource_uid(index)?, context, None)?)
}

/// One case, prepared as Cedar would be used with a cached entity store.
pub struct Prepared {
    pub entities: Entities,
    pub requests: Vec<Request>,
}

/// Builds the entity store (the principal and every object) and the requests.
pub fn prepare(subject: &Subject, requests: &[crate::fixtures::Request]) -> Result<Prepared> {
    let mut entities = vec![principal(subject)?];
    let mut prepared = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        entities.push(resource(&r.object, i)?);
        prepared.push(request(subject, r.action, &r.object, i)?);
    }
    Ok(Prepared { entities: Entities::from_entities(entities, None)?, requests: prepared })
}

/// Cedar's decision, refusing any evaluation error (the translation must not rely on one:
/// Cedar skips a policy whose condition errors).
pub fn decide(
    authorizer: &Authorizer,
    policies: &PolicySet,
    entities: &Entities,
    request: &Request,
) -> Result<bool> {
    let response = authorizer.is_authorized(request, policies, entities);
    if let Some(e) = response.diagnostics().errors().next() {
        return Err(format!("cedar evaluation error: {e}").into());
    }
    Ok(response.decision() == Decision::Allow)
}
