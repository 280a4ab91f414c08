//! What the caller may do to an organization, its members and its roles, and to site-wide
//! roles — decided as the operations decide them ([`crate::orgs`], [`crate::members`],
//! [`crate::org_roles`], [`crate::site_roles`]), so the dashboard offers only what they accept.

use atrium_engine::assign::{Assignable, can_assign};
use atrium_engine::restriction::is_owner;
use atrium_engine::{Action, BuiltinRole, Object, ResourceType};
use uuid::Uuid;

use crate::Caller;
use crate::offers::Offer;

/// May the caller create an organization (owners).
pub fn create_organization(caller: &Caller) -> Offer {
    Offer::decide(caller, Action::Create, &Object::of(ResourceType::Organization))
}

/// May the caller make `org` the default: `update` on it and on every organization (owners).
pub fn make_default(caller: &Caller, org: Uuid) -> Offer {
    Offer::decide(caller, Action::Update, &Object::of(ResourceType::Organization).in_org(org))
        .and(Offer::decide(caller, Action::Update, &Object::of(ResourceType::Organization)))
}

/// May the caller add members to `org`: `create` on memberships and assigning the implied
/// `organization-member` role there.
pub fn add_member(caller: &Caller, org: Uuid) -> Offer {
    let joins = Offer::decide(
        caller,
        Action::Create,
        &Object::of(ResourceType::OrganizationMember).in_org(org),
    );
    let assigns = Offer::decide(caller, Action::Assign, &roles_object(org));
    let member_role = if can_assign(
        caller.subject().roles(),
        Assignable::Builtin(BuiltinRole::OrganizationMember),
        Some(org),
    ) {
        Offer::Allowed
    } else {
        Offer::Refused(vec!["your roles may not hand out organization-member here".into()])
    };
    joins.and(assigns).and(member_role)
}

/// May the caller remove `user` from `org` (`delete` on the membership).
pub fn remove_member(caller: &Caller, org: Uuid, user: Uuid) -> Offer {
    let membership = Object::of(ResourceType::OrganizationMember).in_org(org).with_owner(user);
    Offer::decide(caller, Action::Delete, &membership)
}

/// What the caller may do with an organization's custom roles.
#[derive(Clone, Debug)]
pub struct RoleOffers {
    pub create: Offer,
    pub update: Offer,
    pub delete: Offer,
    /// Restriction roles are defined, changed and deleted by owners only.
    pub restriction: Offer,
    /// Who may assign a role is set by owners only.
    pub assignable_by: Offer,
}

/// The custom-role actions in `org`.
pub fn org_roles(caller: &Caller, org: Uuid) -> RoleOffers {
    let object = roles_object(org);
    RoleOffers {
        create: Offer::decide(caller, Action::Create, &object),
        update: Offer::decide(caller, Action::Update, &object),
        delete: Offer::decide(caller, Action::Delete, &object),
        restriction: owners_only(caller, "restriction roles are defined by site owners"),
        assignable_by: owners_only(caller, "who may assign a role is set by site owners"),
    }
}

/// The site-wide role actions (owners only, as [`crate::site_roles`] decides).
pub fn site_roles(caller: &Caller) -> RoleOffers {
    let object = Object::of(ResourceType::AssignRole);
    let decide = |action| {
        Offer::decide(caller, action, &object)
            .and(owners_only(caller, "site-wide roles are defined by site owners"))
    };
    RoleOffers {
        create: decide(Action::Create),
        update: decide(Action::Update),
        delete: decide(Action::Delete),
        restriction: owners_only(caller, "restriction roles are defined by site owners"),
        assignable_by: owners_only(caller, "who may assign a role is set by site owners"),
    }
}

fn roles_object(org: Uuid) -> Object<'static> {
    Object::of(ResourceType::AssignOrgRole).in_org(org)
}

fn owners_only(caller: &Caller, why: &str) -> Offer {
    if is_owner(caller.subject()) { Offer::Allowed } else { Offer::Refused(vec![why.into()]) }
}
