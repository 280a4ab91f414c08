//! Row locks for read-modify-writes (dialect.rs item 5): each lock finds only live rows, and a
//! writer that would change what the lock holder read waits for it (a row lock on PostgreSQL,
//! the write lock on SQLite, taken at `BEGIN IMMEDIATE`) and then sees its commit.

use std::time::Duration;

use atrium_engine::ActionSet;
use atrium_store::workspaces::{self, NewBuild};
use atrium_store::{
    Acl, BuildReason, BuildTransition, DbTime, GroupId, GroupSource, JobKind, StoreError,
    WorkspaceBuildId, WorkspaceId, groups, orgs,
};

use crate::{fixtures, store_test};

/// Long enough for a task that does not wait to have finished.
const SETTLE: Duration = Duration::from_millis(300);

fn not_a_member(r: Result<(), StoreError>) -> bool {
    matches!(r, Err(StoreError::NotFound { entity: "organization member" }))
}

store_test! {
    async fn member_locks_find_only_members(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let u = fixtures::user(&db.store, "u").await;
        let mut tx = db.store.begin().await.unwrap();
        assert!(not_a_member(orgs::lock_member(&mut tx, org.id, u.id).await));
        assert!(not_a_member(orgs::lock_member_for_update(&mut tx, org.id, u.id).await));
        tx.rollback().await.unwrap();
        orgs::add_member(&db.store, org.id, u.id, DbTime::now()).await.unwrap();
        let mut tx = db.store.begin().await.unwrap();
        orgs::lock_member(&mut tx, org.id, u.id).await.unwrap();
        orgs::lock_member_for_update(&mut tx, org.id, u.id).await.unwrap();
        tx.commit().await.unwrap();
        // Another org's membership is not this one.
        let other = fixtures::org(&db.store, "other").await;
        assert!(not_a_member(orgs::lock_member(&db.store, other.id, u.id).await));
    }
}

store_test! {
    async fn a_removal_waits_for_a_shared_member_lock(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let u = fixtures::user(&db.store, "u").await;
        orgs::add_member(&db.store, org.id, u.id, DbTime::now()).await.unwrap();
        let mut tx = db.store.begin().await.unwrap();
        orgs::lock_member(&mut tx, org.id, u.id).await.unwrap();
        let store = db.store.clone();
        let remove = tokio::spawn(async move { orgs::remove_member(&store, org.id, u.id).await });
        tokio::time::sleep(SETTLE).await;
        assert!(!remove.is_finished(), "the removal waits for the lock holder");
        tx.commit().await.unwrap();
        remove.await.unwrap().unwrap();
        assert!(not_a_member(orgs::lock_member(&db.store, org.id, u.id).await));
    }
}

store_test! {
    async fn role_changes_under_the_member_lock_read_each_other(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let u = fixtures::user(&db.store, "u").await;
        orgs::add_member(&db.store, org.id, u.id, DbTime::now()).await.unwrap();
        let mut tx = db.store.begin().await.unwrap();
        orgs::lock_member_for_update(&mut tx, org.id, u.id).await.unwrap();
        assert!(orgs::get_member_roles(&mut tx, org.id, u.id).await.unwrap().is_empty());
        // A second read-modify-write of the roles waits, then reads the first one's roles.
        let store = db.store.clone();
        let second = tokio::spawn(async move {
            let mut tx = store.begin().await?;
            orgs::lock_member_for_update(&mut tx, org.id, u.id).await?;
            let roles = orgs::get_member_roles(&mut tx, org.id, u.id).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(roles)
        });
        tokio::time::sleep(SETTLE).await;
        assert!(!second.is_finished(), "the second change waits for the first");
        orgs::set_member_roles(&mut tx, org.id, u.id, &["organization-auditor"], DbTime::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(second.await.unwrap().unwrap(), ["organization-auditor"]);
    }
}

store_test! {
    async fn group_edits_under_the_group_lock_read_each_other(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let u = fixtures::user(&db.store, "u").await;
        orgs::add_member(&db.store, org.id, u.id, DbTime::now()).await.unwrap();
        let g = groups::insert(
            &db.store,
            &groups::NewGroup {
                id: GroupId::new_v4(),
                org_id: org.id,
                name: "g",
                display_name: "",
                avatar_url: "",
                quota_allowance: 0,
                source: GroupSource::User,
                created_at: DbTime::now(),
            },
        )
        .await
        .unwrap();
        let missing = groups::lock_group(&db.store, GroupId::new_v4()).await;
        assert!(matches!(missing, Err(StoreError::NotFound { entity: "group" })), "{missing:?}");
        // The Everyone group has no row to lock.
        let everyone = groups::lock_group(&db.store, GroupId::everyone(org.id)).await;
        assert!(matches!(everyone, Err(StoreError::NotFound { entity: "group" })), "{everyone:?}");

        let mut tx = db.store.begin().await.unwrap();
        groups::lock_group(&mut tx, g.id).await.unwrap();
        assert!(groups::list_members(&mut tx, g.id).await.unwrap().is_empty());
        let store = db.store.clone();
        let second = tokio::spawn(async move {
            let mut tx = store.begin().await?;
            groups::lock_group(&mut tx, g.id).await?;
            let members = groups::list_members(&mut tx, g.id).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(members)
        });
        tokio::time::sleep(SETTLE).await;
        assert!(!second.is_finished(), "the second edit waits for the first");
        groups::add_member(&mut tx, g.id, u.id).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(second.await.unwrap().unwrap(), [u.id]);

        groups::delete(&db.store, g.id).await.unwrap();
        let gone = groups::lock_group(&db.store, g.id).await;
        assert!(matches!(gone, Err(StoreError::NotFound { entity: "group" })), "{gone:?}");
    }
}

store_test! {
    async fn lock_live_ignores_builds_and_serializes_acl_edits(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let alice = fixtures::user(&db.store, "alice").await;
        let (t, v) = fixtures::template(&db.store, org.id, alice.id, "t").await;
        let ws = fixtures::workspace(&db.store, alice.id, org.id, t.id, "w").await;
        // A build in flight: no new build, but the row still locks.
        let job = fixtures::job(&db.store, org.id, alice.id, JobKind::WorkspaceBuild).await;
        let build = NewBuild {
            id: WorkspaceBuildId::new_v4(),
            workspace_id: ws.id,
            transition: BuildTransition::Stop,
            reason: BuildReason::Initiator,
            initiator_id: alice.id,
            job_id: job,
            template_version_id: v.id,
            state: None,
            created_at: DbTime::now(),
        };
        workspaces::insert_build(&db.store, &build).await.unwrap();
        let mut tx = db.store.begin().await.unwrap();
        let idle = workspaces::lock_idle(&mut tx, ws.id).await.unwrap_err();
        assert_eq!(idle.constraint(), Some(workspaces::ACTIVE_BUILD));
        tx.rollback().await.unwrap();

        let mut tx = db.store.begin().await.unwrap();
        workspaces::lock_live(&mut tx, ws.id).await.unwrap();
        assert_eq!(workspaces::get_acl(&mut tx, ws.id).await.unwrap(), Acl::default());
        let store = db.store.clone();
        let id = ws.id;
        let second = tokio::spawn(async move {
            let mut tx = store.begin().await?;
            workspaces::lock_live(&mut tx, id).await?;
            let acl = workspaces::get_acl(&mut tx, id).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(acl)
        });
        tokio::time::sleep(SETTLE).await;
        assert!(!second.is_finished(), "the second edit waits for the first");
        let acl = Acl { users: vec![(alice.id, ActionSet::WILDCARD)], groups: vec![] };
        workspaces::set_acl(&mut tx, ws.id, &acl).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(second.await.unwrap().unwrap(), acl);

        // Deleted or missing: not found.
        workspaces::soft_delete(&db.store, ws.id, DbTime::now()).await.unwrap();
        for id in [ws.id, WorkspaceId::new_v4()] {
            let gone = workspaces::lock_live(&db.store, id).await;
            assert!(matches!(gone, Err(StoreError::NotFound { entity: "workspace" })), "{gone:?}");
        }
    }
}
