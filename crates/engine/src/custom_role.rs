//! Validation of custom (organization) roles, in Coder's order (rbac.md §5.2–§5.3), with the
//! seed's `org: ` prefix on every org-level permission error.

use serde::Deserialize;
use uuid::Uuid;

use crate::authorize::Object;
use crate::name::{NameError, validate_name};
use crate::resource::{Action, ResourceType, Wild, parse_wild_action, parse_wild_type};
use crate::role::{BuiltinRole, Permission, Role};
use crate::subject::Subject;

/// A permission as a client sends it: strings, not yet known to be valid.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct RawPermission {
    #[serde(default)]
    pub negate: bool,
    pub resource_type: String,
    pub action: String,
}

impl From<Permission> for RawPermission {
    fn from(p: Permission) -> Self {
        RawPermission {
            negate: p.negate,
            resource_type: p.resource_type.to_string(),
            action: p.action.to_string(),
        }
    }
}

/// Coder's `CustomRoleRequest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct CustomRoleRequest {
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub site_permissions: Vec<RawPermission>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub organization_permissions: Vec<RawPermission>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub user_permissions: Vec<RawPermission>,
    /// Atrium (issue 20): a role that only takes permissions away, defined by owners.
    #[serde(default)]
    pub restriction: bool,
    /// Atrium (issue 20): names of roles whose holders may assign this one, set by owners;
    /// absent (or `null`) keeps what is stored.
    #[serde(default)]
    pub assignable_by: Option<Vec<String>>,
}

/// Go marshals a nil slice as `null`: read it as empty.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<RawPermission>, D::Error> {
    Ok(Option::<Vec<RawPermission>>::deserialize(d)?.unwrap_or_default())
}

/// What is wrong with one permission (after its type/action were found valid).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PermissionProblem {
    Negative,
    Wildcard,
    Escalation,
}

impl PermissionProblem {
    const fn text(self) -> &'static str {
        match self {
            PermissionProblem::Negative => "no negative permissions",
            PermissionProblem::Wildcard => "no wildcard symbols",
            PermissionProblem::Escalation => "not allowed to grant this permission",
        }
    }
}

/// Why a custom role is refused. `Display` gives the detail text the API returns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CustomRoleError {
    /// The name fails the name rule (API: `Validation failed.` on field `name`).
    #[error("Validation failed for tag \"username\" with value: \"{name}\"")]
    InvalidName { name: String, reason: NameError },
    /// The name is a built-in's (case-sensitive).
    #[error("\"{0}\" is a reserved role name, and not allowed to be used")]
    ReservedName(String),
    #[error("organization scoped roles may not contain site wide permissions")]
    SitePermissions,
    #[error("organization scoped roles may not contain user permissions")]
    UserPermissions,
    /// Unknown types or actions, one line each.
    #[error("{}", .0.join("\n"))]
    UnknownPairs(Vec<String>),
    /// The first offending permission.
    #[error("org: invalid permission for action=\"{action}\" type=\"{resource_type}\", {}", .problem.text())]
    Permission { action: String, resource_type: String, problem: PermissionProblem },
}

impl CustomRoleRequest {
    /// Validates the request as `actor` creating or updating a role of `org`, returning the role
    /// to store. Order and texts follow Coder's handler and data-layer checks, except that unknown
    /// pairs are refused on update too (Coder's PUT drops them silently).
    pub fn validate(&self, org: Uuid, actor: &Subject) -> Result<Role, CustomRoleError> {
        validate_name(&self.name)
            .map_err(|reason| CustomRoleError::InvalidName { name: self.name.clone(), reason })?;
        if BuiltinRole::parse(&self.name).is_some() {
            return Err(CustomRoleError::ReservedName(self.name.clone()));
        }
        if !self.site_permissions.is_empty() {
            return Err(CustomRoleError::SitePermissions);
        }
        if !self.user_permissions.is_empty() {
            return Err(CustomRoleError::UserPermissions);
        }

        let mut unknown = Vec::new();
        let mut parsed = Vec::with_capacity(self.organization_permissions.len());
        for raw in &self.organization_permissions {
            match parse_pair(raw) {
                Ok(p) => parsed.push(p),
                Err(line) => unknown.push(line),
            }
        }
        if !unknown.is_empty() {
            return Err(CustomRoleError::UnknownPairs(unknown));
        }

        for p in &parsed {
            let problem = if p.negate {
                Some(PermissionProblem::Negative)
            } else {
                match (p.resource_type, p.action) {
                    (Wild::Is(t), Wild::Is(a)) => (!actor.can(a, &Object::of(t).in_org(org)))
                        .then_some(PermissionProblem::Escalation),
                    _ => Some(PermissionProblem::Wildcard),
                }
            };
            if let Some(problem) = problem {
                return Err(CustomRoleError::Permission {
                    action: p.action.to_string(),
                    resource_type: p.resource_type.to_string(),
                    problem,
                });
            }
        }

        Ok(Role {
            name: self.name.clone(),
            display_name: self.display_name.clone(),
            org: Some(org),
            site: Vec::new(),
            org_perms: parsed,
            user: Vec::new(),
            builtin: None,
        })
    }
}

/// Type/action validity (rbac.md §5.3 step 4): `*` passes; a known action must be listed for
/// a concrete type.
fn parse_pair(raw: &RawPermission) -> Result<Permission, String> {
    parse_pair_at("org", raw)
}

/// [`parse_pair`] with the level prefix of its error lines (`org`, `site`, `user`).
pub(crate) fn parse_pair_at(prefix: &str, raw: &RawPermission) -> Result<Permission, String> {
    let resource_type = parse_wild_type(&raw.resource_type)
        .ok_or_else(|| format!("{prefix}: invalid resource type \"{}\"", raw.resource_type))?;
    let action = parse_wild_action(&raw.action)
        .filter(|a| match (resource_type, a) {
            (Wild::Is(t), Wild::Is(a)) => t.allows(*a),
            _ => true,
        })
        .ok_or_else(|| {
            format!(
                "{prefix}: invalid action \"{}\" for resource \"{}\"",
                raw.action, raw.resource_type
            )
        })?;
    Ok(Permission { negate: raw.negate, resource_type, action })
}

/// Parses every permission at a level, collecting each unknown pair's error line in `unknown`.
pub(crate) fn parse_level(
    prefix: &str,
    raws: &[RawPermission],
    unknown: &mut Vec<String>,
) -> Vec<Permission> {
    raws.iter()
        .filter_map(|raw| parse_pair_at(prefix, raw).map_err(|line| unknown.push(line)).ok())
        .collect()
}

/// Shorthand used in tests and callers that build permissions from typed values.
pub fn raw(negate: bool, t: ResourceType, a: Action) -> RawPermission {
    RawPermission { negate, resource_type: t.as_str().to_owned(), action: a.as_str().to_owned() }
}
