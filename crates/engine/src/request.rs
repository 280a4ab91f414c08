//! The JSON request format of `atrium authz check` and of the case files:
//! `{"subject": {...}, "action": "...", "object": {...}}` (see the engine issue / README).
//!
//! Parsing is two steps: serde reads the shape (the caller adds the JSON path to its errors),
//! then [`RawRequest::compile`] resolves roles and builds a compiled [`Subject`], reporting
//! the field of every semantic error.

use std::collections::BTreeMap;

use serde::Deserialize;
use uuid::Uuid;

use crate::authorize::Object;
use crate::resource::{Action, ActionSet, ResourceType};
use crate::role::{BuiltinRole, Permission, Role, RoleOptions, parse_role_identifier};
use crate::subject::{Scope, ScopeName, Subject};

/// One request as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    pub subject: RawSubject,
    pub action: Action,
    pub object: RawObject,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubject {
    pub id: Uuid,
    pub roles: Vec<RawRole>,
    #[serde(default)]
    pub groups: Vec<Uuid>,
    #[serde(default)]
    pub scope: Option<RawScope>,
}

/// A built-in reference (`{"name", "organization_id"?}`) or, when any `*_permissions` key is
/// present, an inline role definition.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    pub name: String,
    #[serde(default, deserialize_with = "opt_uuid")]
    pub organization_id: Option<Uuid>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub site_permissions: Option<Vec<Permission>>,
    #[serde(default)]
    pub organization_permissions: Option<Vec<Permission>>,
    #[serde(default)]
    pub user_permissions: Option<Vec<Permission>>,
    /// An inline restriction role (issue 20): every permission must be negative.
    #[serde(default)]
    pub restriction: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum RawScope {
    Name(String),
    Restricted { name: String, allow_list: Vec<Uuid> },
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawObject {
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    #[serde(default, deserialize_with = "opt_uuid")]
    pub id: Option<Uuid>,
    #[serde(default, deserialize_with = "opt_uuid")]
    pub owner_id: Option<Uuid>,
    #[serde(default, deserialize_with = "opt_uuid")]
    pub org_id: Option<Uuid>,
    #[serde(default)]
    pub any_org: bool,
    #[serde(default)]
    pub acl_user_list: BTreeMap<Uuid, Vec<WildAction>>,
    #[serde(default)]
    pub acl_group_list: BTreeMap<Uuid, Vec<WildAction>>,
}

/// `*` or an action, as ACL lists hold them.
#[derive(Clone, Copy, Debug)]
pub struct WildAction(pub crate::resource::Wild<Action>);

impl<'de> Deserialize<'de> for WildAction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        crate::resource::parse_wild_action(&s)
            .map(WildAction)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown action `{s}`")))
    }
}

/// An empty string means "absent", as Coder's objects use `""`.
fn opt_uuid<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Uuid>, D::Error> {
    let s = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
    match s.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => Uuid::parse_str(s)
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("`{s}` is not a valid uuid: {e}"))),
    }
}

/// A semantic error in a request, with the field it concerns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RequestError {
    /// JSON path inside the request, e.g. `subject.roles[1].name`.
    pub field: String,
    pub message: String,
}

/// An object that owns its ACL lists.
#[derive(Clone, Debug)]
pub struct OwnedObject {
    pub resource_type: ResourceType,
    pub id: Option<Uuid>,
    pub owner: Option<Uuid>,
    pub org: Option<Uuid>,
    pub any_org: bool,
    pub acl_users: Vec<(Uuid, ActionSet)>,
    pub acl_groups: Vec<(Uuid, ActionSet)>,
}

impl OwnedObject {
    /// Borrows it as an engine object.
    pub fn as_object(&self) -> Object<'_> {
        Object {
            resource_type: self.resource_type,
            id: self.id,
            owner: self.owner,
            org: self.org,
            any_org: self.any_org,
            acl_users: &self.acl_users,
            acl_groups: &self.acl_groups,
        }
    }
}

/// A request ready to decide.
#[derive(Clone, Debug)]
pub struct CompiledRequest {
    pub subject: Subject,
    pub action: Action,
    pub object: OwnedObject,
}

impl RawRequest {
    /// Resolves roles and scope and compiles the subject.
    pub fn compile(&self) -> Result<CompiledRequest, RequestError> {
        let roles = self
            .subject
            .roles
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.resolve().map_err(|(field, message)| RequestError {
                    field: format!("subject.roles[{i}].{field}"),
                    message,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let scope = match &self.subject.scope {
            None => Scope::ALL,
            Some(RawScope::Name(n)) => Scope::named(parse_scope(n, "subject.scope")?),
            Some(RawScope::Restricted { name, allow_list }) => Scope {
                name: parse_scope(name, "subject.scope.name")?,
                allow_list: Some(allow_list.clone()),
            },
        };
        let o = &self.object;
        let acl = |m: &BTreeMap<Uuid, Vec<WildAction>>| {
            m.iter().map(|(k, v)| (*k, v.iter().map(|a| a.0).collect())).collect()
        };
        Ok(CompiledRequest {
            subject: Subject::new(self.subject.id, roles, self.subject.groups.clone(), scope),
            action: self.action,
            object: OwnedObject {
                resource_type: o.resource_type,
                id: o.id,
                owner: o.owner_id,
                org: o.org_id,
                any_org: o.any_org,
                acl_users: acl(&o.acl_user_list),
                acl_groups: acl(&o.acl_group_list),
            },
        })
    }
}

fn parse_scope(name: &str, field: &str) -> Result<ScopeName, RequestError> {
    ScopeName::parse(name).ok_or_else(|| RequestError {
        field: field.to_owned(),
        message: format!("no scope named \"{name}\""),
    })
}

impl RawRole {
    fn is_inline(&self) -> bool {
        self.site_permissions.is_some()
            || self.organization_permissions.is_some()
            || self.user_permissions.is_some()
    }

    /// Resolves to a role, or `(field, message)`.
    fn resolve(&self) -> Result<Role, (&'static str, String)> {
        let (name, suffix_org) =
            parse_role_identifier(&self.name).map_err(|e| ("name", e.to_string()))?;
        let org = match (suffix_org, self.organization_id) {
            (Some(_), Some(_)) => {
                return Err((
                    "organization_id",
                    "give the org either as a name suffix or here, not both".into(),
                ));
            }
            (a, b) => a.or(b),
        };
        if self.is_inline() {
            let org_perms = self.organization_permissions.clone().unwrap_or_default();
            if !org_perms.is_empty() && org.is_none() {
                return Err((
                    "organization_permissions",
                    "organization permissions require specifying an organization id".into(),
                ));
            }
            let role = Role {
                name: name.to_owned(),
                display_name: self.display_name.clone().unwrap_or_default(),
                org,
                site: self.site_permissions.clone().unwrap_or_default(),
                org_perms,
                user: self.user_permissions.clone().unwrap_or_default(),
                builtin: None,
            };
            let mut all = role.site.iter().chain(&role.org_perms).chain(&role.user);
            if self.restriction
                && let Some(allow) = all.find(|p| !p.negate)
            {
                return Err((
                    "restriction",
                    format!("a restriction role may only hold negative permissions, not {allow}"),
                ));
            }
            return Ok(role);
        }
        let builtin = BuiltinRole::parse(name)
            .ok_or_else(|| ("name", format!("unknown role \"{}\"", self.name)))?;
        // The built-in creation ban is the one built-in restriction role.
        if self.restriction && builtin != BuiltinRole::OrganizationWorkspaceCreationBan {
            return Err((
                "restriction",
                format!("\"{name}\" is not a restriction role; give the denies inline"),
            ));
        }
        builtin.expand(org, RoleOptions::default()).map_err(|e| ("name", e.to_string()))
    }
}
