use atrium_store::orgs::{self, NewOrg, OrgUpdate};
use atrium_store::{DbTime, OrgId, StoreError, UserId};

use crate::common::unique;
use crate::{assert_violation, fixtures, store_test};

fn new_org(name: &str, is_default: bool) -> NewOrg<'_> {
    NewOrg {
        id: OrgId::new_v4(),
        name,
        display_name: name,
        description: "d",
        icon: "",
        is_default,
        created_at: DbTime::now(),
    }
}

store_test! {
    async fn the_database_allows_only_one_default_org(db) {
        let first = orgs::insert(&db.store, &new_org("first", true)).await.unwrap();
        assert!(first.is_default);
        let err = orgs::insert(&db.store, &new_org("second", true)).await.unwrap_err();
        assert_violation!(err, Unique, "organizations_single_default");
        // Any number of non-default orgs is fine.
        orgs::insert(&db.store, &new_org("third", false)).await.unwrap();
        orgs::insert(&db.store, &new_org("fourth", false)).await.unwrap();
        assert_eq!(orgs::get_default(&db.store).await.unwrap().id, first.id);
    }
}

store_test! {
    async fn set_default_moves_the_flag_atomically(db) {
        let a = orgs::insert(&db.store, &new_org("a", true)).await.unwrap();
        let b = orgs::insert(&db.store, &new_org("b", false)).await.unwrap();
        orgs::set_default(&db.store, b.id, DbTime::now()).await.unwrap();
        assert_eq!(orgs::get_default(&db.store).await.unwrap().id, b.id);
        assert!(!orgs::get(&db.store, a.id).await.unwrap().is_default);
        // An unknown org: NotFound, and the old default is still the default.
        let err = orgs::set_default(&db.store, OrgId::new_v4(), DbTime::now()).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { entity: "organization" }), "{err:?}");
        assert_eq!(orgs::get_default(&db.store).await.unwrap().id, b.id);
        let defaults = orgs::list(&db.store).await.unwrap().into_iter().filter(|o| o.is_default).count();
        assert_eq!(defaults, 1);
        // Setting the current default again is a no-op.
        orgs::set_default(&db.store, b.id, DbTime::now()).await.unwrap();
        assert_eq!(orgs::get_default(&db.store).await.unwrap().id, b.id);
    }
}

store_test! {
    async fn org_names_are_unique_ignoring_case_and_found_ignoring_case(db) {
        let name = unique("Acme");
        let acme = orgs::insert(&db.store, &new_org(&name, false)).await.unwrap();
        let err = orgs::insert(&db.store, &new_org(&name.to_uppercase(), false)).await.unwrap_err();
        assert_violation!(err, Unique, "organizations_name_key");
        assert_eq!(orgs::get_by_name(&db.store, &name.to_lowercase()).await.unwrap(), acme);
        let renamed = orgs::update(&db.store, acme.id, &OrgUpdate {
            name: "renamed", display_name: "Renamed", description: "new", icon: "/i.svg",
        }, DbTime::now()).await.unwrap();
        assert_eq!((renamed.name.as_str(), renamed.icon.as_str()), ("renamed", "/i.svg"));
    }
}

store_test! {
    async fn the_default_org_cannot_be_deleted_but_others_can(db) {
        let default = orgs::insert(&db.store, &new_org("default", true)).await.unwrap();
        let other = fixtures::org(&db.store, "other").await;
        let err = orgs::delete(&db.store, default.id).await.unwrap_err();
        assert_violation!(err, Check, orgs::DEFAULT_UNDELETABLE);
        let u = fixtures::user(&db.store, "m").await;
        orgs::add_member(&db.store, other.id, u.id, DbTime::now()).await.unwrap();
        orgs::delete(&db.store, other.id).await.unwrap();
        assert!(matches!(orgs::get(&db.store, other.id).await, Err(StoreError::NotFound { .. })));
        assert!(orgs::list_memberships(&db.store, u.id).await.unwrap().is_empty());
        assert!(matches!(orgs::delete(&db.store, other.id).await, Err(StoreError::NotFound { .. })));
    }
}

store_test! {
    async fn members_and_their_roles(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let u = fixtures::user(&db.store, "alice").await;
        let now = DbTime::now();
        let m = orgs::add_member(&db.store, org.id, u.id, now).await.unwrap();
        assert_eq!((m.org_id, m.user_id, m.created_at), (org.id, u.id, now));
        let err = orgs::add_member(&db.store, org.id, u.id, now).await.unwrap_err();
        assert_violation!(err, Unique, "organization_members_pkey");
        orgs::set_member_roles(&db.store, org.id, u.id, &["organization-admin", "custom"], now).await.unwrap();
        assert_eq!(orgs::get_member_roles(&db.store, org.id, u.id).await.unwrap(), ["custom", "organization-admin"]);
        let got = orgs::get_member(&db.store, org.id, u.id).await.unwrap();
        assert_eq!(got.roles, ["custom", "organization-admin"]);
        let listed = orgs::list_members(&db.store, org.id).await.unwrap();
        assert_eq!(listed, std::slice::from_ref(&got));
        let memberships = orgs::list_memberships(&db.store, u.id).await.unwrap();
        assert_eq!(memberships, [got]);
        assert_eq!(orgs::list_for_user(&db.store, u.id).await.unwrap(), std::slice::from_ref(&org));
        // Roles of a non-member: NotFound, not a foreign-key error.
        let err = orgs::set_member_roles(&db.store, org.id, UserId::new_v4(), &["x"], now).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { entity: "organization member" }));
        orgs::remove_member(&db.store, org.id, u.id).await.unwrap();
        assert!(orgs::get_member_roles(&db.store, org.id, u.id).await.unwrap().is_empty());
        assert!(matches!(orgs::remove_member(&db.store, org.id, u.id).await, Err(StoreError::NotFound { .. })));
    }
}

store_test! {
    async fn a_foreign_key_violation_is_a_foreign_key_error(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let err = orgs::add_member(&db.store, org.id, UserId::new_v4(), DbTime::now()).await.unwrap_err();
        assert!(err.is_foreign_key_conflict(), "{err:?}");
        // PostgreSQL names the foreign key; SQLite cannot say which one failed.
        let expected = match db.store.backend() {
            atrium_store::Backend::Postgres => "organization_members_user_id_fkey",
            atrium_store::Backend::Sqlite => atrium_store::error::UNKNOWN_FOREIGN_KEY,
        };
        assert_violation!(err, ForeignKey, expected);
        assert_eq!(err.constraint(), Some(expected));
    }
}

store_test! {
    async fn leaving_an_org_leaves_its_groups_only(db) {
        let org = fixtures::org(&db.store, "left").await;
        let other = fixtures::org(&db.store, "kept").await;
        let u = fixtures::user(&db.store, "leaver").await;
        let mut groups_of = Vec::new();
        for o in [&org, &other] {
            orgs::add_member(&db.store, o.id, u.id, DbTime::now()).await.unwrap();
            let g = atrium_store::groups::insert(&db.store, &atrium_store::groups::NewGroup {
                id: atrium_store::GroupId::new_v4(),
                org_id: o.id,
                name: "g",
                display_name: "",
                avatar_url: "",
                quota_allowance: 0,
                source: atrium_store::GroupSource::User,
                created_at: DbTime::now(),
            }).await.unwrap();
            atrium_store::groups::add_member(&db.store, g.id, u.id).await.unwrap();
            groups_of.push(g.id);
        }
        orgs::remove_member(&db.store, org.id, u.id).await.unwrap();
        assert_eq!(atrium_store::groups::group_ids_of_user(&db.store, u.id).await.unwrap(), [groups_of[1]]);
    }
}

store_test! {
    async fn an_org_is_deleted_with_what_its_deleted_templates_and_workspaces_left(db) {
        use atrium_engine::ActionSet;
        use atrium_store::{Acl, JobKind, jobs, templates, workspaces};
        let org = fixtures::org(&db.store, "doomed").await;
        let other = fixtures::org(&db.store, "survivor").await;
        let u = fixtures::user(&db.store, "creator").await;
        orgs::add_member(&db.store, org.id, u.id, DbTime::now()).await.unwrap();
        let (template, version) = fixtures::template(&db.store, org.id, u.id, "t").await;
        let loose_job = fixtures::job(&db.store, org.id, u.id, JobKind::TemplateVersionImport).await;
        let ws = fixtures::workspace(&db.store, u.id, org.id, template.id, "w").await;
        // A grant to the doomed org's Everyone group on another org's template.
        let (foreign, _) = fixtures::template(&db.store, other.id, u.id, "f").await;
        let everyone = atrium_store::GroupId(org.id.uuid());
        templates::set_acl(&db.store, foreign.id, &Acl { users: vec![], groups: vec![(everyone, ActionSet::WILDCARD)] }).await.unwrap();
        templates::set_acl(&db.store, template.id, &Acl { users: vec![(u.id, ActionSet::WILDCARD)], groups: vec![(everyone, ActionSet::WILDCARD)] }).await.unwrap();

        let refused = orgs::delete(&db.store, org.id).await.unwrap();
        assert_eq!(refused, orgs::Deleted::StillProvisioned(orgs::StillProvisioned { workspaces: 1, templates: 1 }));
        assert_eq!(orgs::StillProvisioned { workspaces: 1, templates: 2 }.message(), "This organization has 1 workspace, 2 templates that must be deleted first.");
        assert!(orgs::get(&db.store, org.id).await.is_ok());

        workspaces::soft_delete(&db.store, ws.id, DbTime::now()).await.unwrap();
        templates::soft_delete(&db.store, template.id, DbTime::now()).await.unwrap();
        assert_eq!(orgs::delete(&db.store, org.id).await.unwrap(), orgs::Deleted::Done);
        assert!(matches!(orgs::get(&db.store, org.id).await, Err(StoreError::NotFound { .. })));
        assert!(matches!(templates::get(&db.store, template.id).await, Err(StoreError::NotFound { .. })));
        assert!(matches!(templates::get_version(&db.store, version.id).await, Err(StoreError::NotFound { .. })));
        assert!(matches!(workspaces::get(&db.store, ws.id).await, Err(StoreError::NotFound { .. })));
        assert!(matches!(jobs::get(&db.store, loose_job).await, Err(StoreError::NotFound { .. })));
        assert!(templates::get_acl(&db.store, foreign.id).await.unwrap().groups.is_empty());
        assert!(orgs::list_memberships(&db.store, u.id).await.unwrap().is_empty());
        // The other org is untouched.
        assert!(templates::get(&db.store, foreign.id).await.is_ok());
    }
}

/// A user-made group of `org`, named `name`.
async fn group_of(
    db: &atrium_store::Store,
    org: atrium_store::OrgId,
    name: &str,
) -> atrium_store::GroupId {
    let g = atrium_store::groups::insert(
        db,
        &atrium_store::groups::NewGroup {
            id: atrium_store::GroupId::new_v4(),
            org_id: org,
            name,
            display_name: "",
            avatar_url: "",
            quota_allowance: 0,
            source: atrium_store::GroupSource::User,
            created_at: DbTime::now(),
        },
    )
    .await
    .unwrap();
    g.id
}

fn is_not_an_org_member(e: &atrium_store::StoreError) -> bool {
    matches!(e, atrium_store::StoreError::NotFound { entity: "organization member" })
}

store_test! {
    async fn a_group_refuses_users_outside_its_org(db) {
        let org = fixtures::org(&db.store, "grp").await;
        let outsider = fixtures::user(&db.store, "outsider").await;
        let g = group_of(&db.store, org.id, "g").await;
        let err = atrium_store::groups::add_member(&db.store, g, outsider.id).await.unwrap_err();
        assert!(is_not_an_org_member(&err), "{err:?}");
        assert!(atrium_store::groups::group_ids_of_user(&db.store, outsider.id).await.unwrap().is_empty());
    }
}

store_test! {
    async fn a_group_add_racing_an_org_removal_never_outlives_it(db) {
        let org = fixtures::org(&db.store, "race").await;
        let u = fixtures::user(&db.store, "racer").await;
        orgs::add_member(&db.store, org.id, u.id, DbTime::now()).await.unwrap();
        let g = group_of(&db.store, org.id, "g").await;

        // The removal is in flight: the add waits for it (row lock / write lock), then finds no
        // membership.
        let mut tx = db.store.begin().await.unwrap();
        orgs::remove_member(&mut tx, org.id, u.id).await.unwrap();
        let store = db.store.clone();
        let add = tokio::spawn(async move {
            let mut tx = store.begin().await?;
            atrium_store::groups::add_member(&mut tx, g, u.id).await?;
            tx.commit().await
        });
        tokio::task::yield_now().await;
        tx.commit().await.unwrap();
        let err = add.await.unwrap().unwrap_err();
        assert!(is_not_an_org_member(&err), "{err:?}");
        assert!(atrium_store::groups::group_ids_of_user(&db.store, u.id).await.unwrap().is_empty());

        // The add is in flight: the removal waits for it, then removes the new group row too.
        orgs::add_member(&db.store, org.id, u.id, DbTime::now()).await.unwrap();
        let mut tx = db.store.begin().await.unwrap();
        atrium_store::groups::add_member(&mut tx, g, u.id).await.unwrap();
        let store = db.store.clone();
        let remove = tokio::spawn(async move { orgs::remove_member(&store, org.id, u.id).await });
        tokio::task::yield_now().await;
        tx.commit().await.unwrap();
        remove.await.unwrap().unwrap();
        assert!(atrium_store::groups::group_ids_of_user(&db.store, u.id).await.unwrap().is_empty());
    }
}
