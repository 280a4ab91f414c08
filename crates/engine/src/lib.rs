//! Atrium's authorization engine: Coder's RBAC (`../shared/spec/rbac.md`) as pure data and
//! rules. Sync, no I/O; every other crate asks it "may this subject do this action on this
//! object?" and gets a [`Decision`] with reasons.
//!
//! - [`resource`]: the 39 resource types and 16 actions.
//! - [`role`]: permissions, roles, the built-in catalogue.
//! - [`subject`]: a subject compiled once into vote tables; scopes.
//! - [`authorize`]: the decision procedure.
//! - [`filter`]: residual predicates for authorized lists.
//! - [`listable`]: those predicates typed by the resource they list ([`TypedFilter`]).
//! - [`custom_role`], [`assign`]: custom-role validation and role assignment rules.
//! - [`account`]: who may act on whose account (owners' accounts, your own, the last owner).
//! - [`acl`]: the template and workspace ACL role tables (`admin`, `use`).
//! - [`group`]: groups and group memberships as engine objects.
//! - [`name`]: name, display-name, real-name, email and URL rules.
//! - [`stored`]: a user's subject from their stored role names (rbac.md §1.8).
//! - [`restriction`]: owner-defined roles that only take permissions away (issue 20).
//! - [`site_role`]: site-wide additive custom roles, defined by owners (issue 20).
//! - [`request`]: the JSON request format of `atrium authz check`.

pub mod account;
pub mod acl;
pub mod assign;
pub mod authorize;
pub mod custom_role;
pub mod explain;
pub mod filter;
pub mod group;
pub mod listable;
pub mod name;
pub mod password;
pub mod query;
pub mod request;
pub mod resource;
pub mod restriction;
pub mod role;
pub mod site_role;
pub mod stored;
pub mod subject;

pub use authorize::{Decision, Object, Reason};
pub use filter::ListFilter;
pub use listable::{Listable, TypedFilter};
pub use resource::{Action, ActionSet, ResourceType, Wild};
pub use role::{BuiltinRole, Permission, Role, RoleOptions};
pub use subject::{Scope, ScopeName, Subject, Vote};
