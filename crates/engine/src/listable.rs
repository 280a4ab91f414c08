//! Residual list filters typed by the resource they list, so a filter computed for one type
//! cannot be handed to another type's list (issue 15: "make the wrong thing fail to compile").
//!
//! Each listable resource has a marker type ([`Workspaces`], [`Templates`], ...) implementing
//! the sealed [`Listable`] trait; [`TypedFilter<R>`] wraps the [`ListFilter`] for `R::TYPE`, and
//! its only constructor computes it from a subject ([`Subject::list_filter_for`]). The store's
//! list queries take `&TypedFilter<TheirResource>`, so a call site can even leave `R` to be
//! inferred from the list it feeds (`let f = subject.list_filter_for(Action::Read);`):
//!
//! ```
//! use atrium_engine::listable::{TypedFilter, Workspaces};
//! use atrium_engine::{Action, Scope, Subject};
//!
//! fn list_workspaces(_authz: &TypedFilter<Workspaces>) {}
//!
//! let subject = Subject::new(uuid::Uuid::nil(), vec![], vec![], Scope::ALL);
//! list_workspaces(&subject.list_filter_for::<Workspaces>(Action::Read));
//! ```
//!
//! A filter for templates is another type, so passing it to the workspace list does not
//! compile:
//!
//! ```compile_fail,E0308
//! use atrium_engine::listable::{Templates, TypedFilter, Workspaces};
//! use atrium_engine::{Action, Scope, Subject};
//!
//! fn list_workspaces(_authz: &TypedFilter<Workspaces>) {}
//!
//! let subject = Subject::new(uuid::Uuid::nil(), vec![], vec![], Scope::ALL);
//! list_workspaces(&subject.list_filter_for::<Templates>(Action::Read));
//! ```
//!
//! Nor can one be built from a hand-made (or another type's) [`ListFilter`]:
//!
//! ```compile_fail,E0451
//! use atrium_engine::listable::{TypedFilter, Workspaces};
//! use atrium_engine::{Action, ListFilter, ResourceType, Scope, Subject};
//!
//! let subject = Subject::new(uuid::Uuid::nil(), vec![], vec![], Scope::ALL);
//! let filter: ListFilter = subject.list_filter(Action::Read, ResourceType::Template);
//! let _forged = TypedFilter::<Workspaces> { filter, resource: std::marker::PhantomData };
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use crate::authorize::Object;
use crate::filter::ListFilter;
use crate::resource::{Action, ResourceType};
use crate::subject::Subject;

mod sealed {
    pub trait Sealed {}
}

/// A resource whose rows the store lists under a residual filter. Sealed: the markers below are
/// the only implementations.
pub trait Listable: sealed::Sealed + 'static {
    /// The engine type the rows are checked as.
    const TYPE: ResourceType;
}

macro_rules! listable {
    ($($(#[$doc:meta])* $marker:ident => $ty:ident,)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug, PartialEq, Eq)]
            pub enum $marker {}

            impl sealed::Sealed for $marker {}

            impl Listable for $marker {
                const TYPE: ResourceType = ResourceType::$ty;
            }
        )*

        /// Every listable resource type, in declaration order.
        pub const LISTABLE_TYPES: &[ResourceType] = &[$(ResourceType::$ty),*];
    };
}

listable! {
    /// Workspace rows (`workspace`).
    Workspaces => Workspace,
    /// Template rows (`template`).
    Templates => Template,
    /// User rows (`user`).
    Users => User,
    /// Group rows (`group`).
    Groups => Group,
    /// Organization rows (`organization`).
    Organizations => Organization,
    /// Organization membership rows (`organization_member`).
    OrganizationMembers => OrganizationMember,
    /// Audit log rows (`audit_log`).
    AuditLogs => AuditLog,
}

/// The residual filter for listing `R` rows with one action. Built only by
/// [`Subject::list_filter_for`] / [`TypedFilter::new`]; reads of the inner [`ListFilter`] go
/// through `Deref`.
pub struct TypedFilter<R: Listable> {
    filter: ListFilter,
    resource: PhantomData<fn() -> R>,
}

impl<R: Listable> TypedFilter<R> {
    /// The filter for listing `R` rows with `action` as `subject`.
    pub fn new(subject: &Subject, action: Action) -> Self {
        TypedFilter { filter: subject.list_filter(action, R::TYPE), resource: PhantomData }
    }

    /// The untyped filter (e.g. for the store's SQL compiler).
    pub fn filter(&self) -> &ListFilter {
        &self.filter
    }

    /// The resource type the filter was computed for (`R::TYPE`).
    pub fn resource_type(&self) -> ResourceType {
        R::TYPE
    }

    /// Evaluates the predicate on one object; `false` for an object of another type.
    pub fn matches(&self, o: &Object<'_>) -> bool {
        o.resource_type == R::TYPE && self.filter.matches(o)
    }
}

impl<R: Listable> Deref for TypedFilter<R> {
    type Target = ListFilter;

    fn deref(&self) -> &ListFilter {
        &self.filter
    }
}

// Manual impls: derives would require `R: Clone` etc. of the (uninhabited) marker.
impl<R: Listable> Clone for TypedFilter<R> {
    fn clone(&self) -> Self {
        TypedFilter { filter: self.filter.clone(), resource: PhantomData }
    }
}

impl<R: Listable> PartialEq for TypedFilter<R> {
    fn eq(&self, other: &Self) -> bool {
        self.filter == other.filter
    }
}

impl<R: Listable> Eq for TypedFilter<R> {}

impl<R: Listable> fmt::Debug for TypedFilter<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedFilter")
            .field("resource_type", &R::TYPE)
            .field("filter", &self.filter)
            .finish()
    }
}

impl Subject {
    /// The residual filter for listing `R` rows with `action` ([`TypedFilter::new`]).
    pub fn list_filter_for<R: Listable>(&self, action: Action) -> TypedFilter<R> {
        TypedFilter::new(self, action)
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::role::{BuiltinRole, RoleOptions};
    use crate::subject::Scope;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn member(org: Uuid) -> Subject {
        let roles = vec![
            BuiltinRole::Member.expand(None, RoleOptions::default()).unwrap(),
            BuiltinRole::OrganizationMember.expand(Some(org), RoleOptions::default()).unwrap(),
        ];
        Subject::new(id(1), roles, vec![], Scope::ALL)
    }

    fn owner() -> Subject {
        let roles = vec![BuiltinRole::Owner.expand(None, RoleOptions::default()).unwrap()];
        Subject::new(id(2), roles, vec![], Scope::ALL)
    }

    /// The typed filter is exactly the untyped one for the marker's type.
    fn same_as_untyped<R: Listable>(subject: &Subject, action: Action) {
        let typed = subject.list_filter_for::<R>(action);
        assert_eq!(typed.filter(), &subject.list_filter(action, R::TYPE), "{:?}", R::TYPE);
        assert_eq!(*typed, subject.list_filter(action, R::TYPE));
        assert_eq!(typed.resource_type(), R::TYPE);
        assert_eq!(typed, TypedFilter::<R>::new(subject, action));
        assert_eq!(typed.clone(), typed);
    }

    #[test]
    fn typed_filters_equal_the_untyped_filter_of_their_type() {
        let org = id(10);
        for subject in [member(org), owner()] {
            for action in [Action::Read, Action::Update, Action::Delete] {
                same_as_untyped::<Workspaces>(&subject, action);
                same_as_untyped::<Templates>(&subject, action);
                same_as_untyped::<Users>(&subject, action);
                same_as_untyped::<Groups>(&subject, action);
                same_as_untyped::<Organizations>(&subject, action);
                same_as_untyped::<OrganizationMembers>(&subject, action);
                same_as_untyped::<AuditLogs>(&subject, action);
            }
        }
    }

    #[test]
    fn markers_name_distinct_types() {
        let mut types = LISTABLE_TYPES.to_vec();
        types.sort();
        types.dedup();
        assert_eq!(types.len(), LISTABLE_TYPES.len());
        assert_eq!(Workspaces::TYPE, ResourceType::Workspace);
        assert_eq!(Templates::TYPE, ResourceType::Template);
        assert_eq!(Users::TYPE, ResourceType::User);
        assert_eq!(Groups::TYPE, ResourceType::Group);
        assert_eq!(Organizations::TYPE, ResourceType::Organization);
        assert_eq!(OrganizationMembers::TYPE, ResourceType::OrganizationMember);
        assert_eq!(AuditLogs::TYPE, ResourceType::AuditLog);
    }

    #[test]
    fn matches_only_objects_of_its_type() {
        let org = id(10);
        let subject = member(org);
        // A member reads their own workspaces; the same owner/org on a template is not a
        // workspace row.
        let workspaces = subject.list_filter_for::<Workspaces>(Action::Read);
        let mine =
            Object::of(ResourceType::Workspace).with_id(id(20)).in_org(org).with_owner(id(1));
        assert!(workspaces.matches(&mine));
        let theirs =
            Object::of(ResourceType::Workspace).with_id(id(21)).in_org(org).with_owner(id(3));
        assert!(!workspaces.matches(&theirs));
        let template =
            Object::of(ResourceType::Template).with_id(id(22)).in_org(org).with_owner(id(1));
        assert!(!workspaces.matches(&template));
        // The owner reads every workspace.
        let all = owner().list_filter_for::<Workspaces>(Action::Read);
        assert!(all.is_always());
        assert!(all.matches(&theirs));
    }

    #[test]
    fn debug_names_the_type() {
        let f = owner().list_filter_for::<AuditLogs>(Action::Read);
        assert!(format!("{f:?}").contains("AuditLog"), "{f:?}");
    }
}
