//! How groups and group memberships appear to the engine (rbac.md §7.3, §2 `group_member`).
//!
//! A group object carries `{group-id: [read]}` as its group ACL, so every member of the group
//! (who is also a member of its org) may read it. The Everyone group's id is its org's id, so
//! the same entry is the Everyone entry: every org member may read Everyone.

use uuid::Uuid;

use crate::authorize::Object;
use crate::resource::{Action, ActionSet, ResourceType, Wild};

/// A group as the engine sees it; holds the one-entry group ACL the [`Object`] borrows.
#[derive(Clone, Copy, Debug)]
pub struct GroupObject {
    org: Uuid,
    acl: [(Uuid, ActionSet); 1],
}

impl GroupObject {
    /// The group `group` of org `org` (for Everyone, `group == org`).
    pub fn new(group: Uuid, org: Uuid) -> Self {
        GroupObject { org, acl: [(group, [Wild::Is(Action::Read)].into_iter().collect())] }
    }

    /// The group's id.
    pub fn id(&self) -> Uuid {
        self.acl[0].0
    }

    /// The engine object: type `group`, its id, in its org, members may read it.
    pub fn object(&self) -> Object<'_> {
        Object::of(ResourceType::Group)
            .with_id(self.id())
            .in_org(self.org)
            .with_group_acl(&self.acl)
    }
}

/// Calls `f` with the object of group `group` in org `org` (see [`GroupObject`]).
pub fn with_group_object<T>(group: Uuid, org: Uuid, f: impl FnOnce(&Object<'_>) -> T) -> T {
    f(&GroupObject::new(group, org).object())
}

/// A group membership as the engine sees it: type `group_member`, id and owner the member,
/// in the group's org (so a member may read their own membership).
pub fn group_member_object(org: Uuid, user: Uuid) -> Object<'static> {
    Object::of(ResourceType::GroupMember).with_id(user).with_owner(user).in_org(org)
}
