use atrium_engine::ActionSet;
use atrium_store::groups::{self, GroupUpdate, NewGroup};
use atrium_store::{Acl, DbTime, GroupId, GroupSource, StoreError, templates, workspaces};

use crate::{assert_violation, fixtures, store_test};

fn new_group(org: atrium_store::OrgId, name: &str) -> NewGroup<'_> {
    NewGroup {
        id: GroupId::new_v4(),
        org_id: org,
        name,
        display_name: "",
        avatar_url: "",
        quota_allowance: 0,
        source: GroupSource::User,
        created_at: DbTime::now(),
    }
}

store_test! {
    async fn groups_and_members(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let other = fixtures::org(&db.store, "other").await;
        let u = fixtures::user(&db.store, "u").await;
        atrium_store::orgs::add_member(&db.store, org.id, u.id, DbTime::now()).await.unwrap();
        let devs = groups::insert(&db.store, &new_group(org.id, "devs")).await.unwrap();
        let err = groups::insert(&db.store, &new_group(org.id, "devs")).await.unwrap_err();
        assert_violation!(err, Unique, "groups_org_id_name_key");
        groups::insert(&db.store, &new_group(other.id, "devs")).await.unwrap();
        assert_eq!(groups::get(&db.store, devs.id).await.unwrap(), devs);
        assert_eq!(groups::get_by_name(&db.store, org.id, "devs").await.unwrap(), devs);
        assert_eq!(groups::list(&db.store, org.id).await.unwrap(), std::slice::from_ref(&devs));

        groups::add_member(&db.store, devs.id, u.id).await.unwrap();
        groups::add_member(&db.store, devs.id, u.id).await.unwrap();
        assert_eq!(groups::list_members(&db.store, devs.id).await.unwrap(), [u.id]);
        assert_eq!(groups::group_ids_of_user(&db.store, u.id).await.unwrap(), [devs.id]);
        assert_eq!(groups::list_for_user(&db.store, u.id).await.unwrap(), std::slice::from_ref(&devs));
        let updated = groups::update(&db.store, devs.id, &GroupUpdate { name: "developers", display_name: "Developers", avatar_url: "", quota_allowance: 5 }, DbTime::now()).await.unwrap();
        assert_eq!((updated.name.as_str(), updated.quota_allowance), ("developers", 5));
        groups::remove_member(&db.store, devs.id, u.id).await.unwrap();
        assert!(matches!(groups::remove_member(&db.store, devs.id, u.id).await, Err(StoreError::NotFound { .. })));
        // Only members of the group's org may join it (an unknown user is not one).
        let err = groups::add_member(&db.store, devs.id, atrium_store::UserId::new_v4()).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { entity: "organization member" }), "{err:?}");
    }
}

store_test! {
    async fn deleting_a_group_removes_its_members_and_acl_grants(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let u = fixtures::user(&db.store, "u").await;
        atrium_store::orgs::add_member(&db.store, org.id, u.id, DbTime::now()).await.unwrap();
        let g = groups::insert(&db.store, &new_group(org.id, "g")).await.unwrap();
        groups::add_member(&db.store, g.id, u.id).await.unwrap();
        let (t, _) = fixtures::template(&db.store, org.id, u.id, "t").await;
        let ws = fixtures::workspace(&db.store, u.id, org.id, t.id, "w").await;
        let everyone = (GroupId::everyone(org.id), ActionSet::WILDCARD);
        let acl = Acl { users: vec![], groups: vec![(g.id, ActionSet::WILDCARD), everyone] };
        templates::set_acl(&db.store, t.id, &acl).await.unwrap();
        workspaces::set_acl(&db.store, ws.id, &acl).await.unwrap();
        groups::delete(&db.store, g.id).await.unwrap();
        assert!(groups::group_ids_of_user(&db.store, u.id).await.unwrap().is_empty());
        assert_eq!(templates::get_acl(&db.store, t.id).await.unwrap().groups, [everyone]);
        assert_eq!(workspaces::get_acl(&db.store, ws.id).await.unwrap().groups, [everyone]);
        assert!(matches!(groups::delete(&db.store, g.id).await, Err(StoreError::NotFound { entity: "group" })));
    }
}
