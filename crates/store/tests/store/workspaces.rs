use atrium_engine::{Action, ActionSet, Wild};
use atrium_store::workspaces::{self, NewBuild};
use atrium_store::{
    Acl, BuildReason, BuildTransition, DbTime, GroupId, JobKind, StoreError, WorkspaceBuildId,
};

use crate::{fixtures, store_test};

store_test! {
    async fn workspace_names_are_unique_per_owner_ignoring_case(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let alice = fixtures::user(&db.store, "alice").await;
        let bob = fixtures::user(&db.store, "bob").await;
        let (t, _) = fixtures::template(&db.store, org.id, alice.id, "t").await;
        let ws = fixtures::workspace(&db.store, alice.id, org.id, t.id, "Dev").await;
        assert_eq!((ws.created_at, ws.last_used_at, ws.deleted, ws.dormant_at), (ws.updated_at, ws.created_at, false, None));
        assert_eq!(workspaces::get(&db.store, ws.id).await.unwrap(), ws);
        assert_eq!(workspaces::get_by_owner_and_name(&db.store, alice.id, "dev").await.unwrap(), ws);

        let err = workspaces::insert(&db.store, &workspaces::NewWorkspace {
            id: atrium_store::WorkspaceId::new_v4(), owner_id: alice.id, org_id: org.id,
            template_id: t.id, name: "DEV", created_at: DbTime::now(),
        }).await.unwrap_err();
        assert_eq!(err.constraint(), Some("workspaces_owner_id_name_key"));
        // Another owner may use the name.
        fixtures::workspace(&db.store, bob.id, org.id, t.id, "dev").await;

        let other = fixtures::workspace(&db.store, alice.id, org.id, t.id, "other").await;
        let err = workspaces::rename(&db.store, other.id, "dEv", DbTime::now()).await.unwrap_err();
        assert_eq!(err.constraint(), Some("workspaces_owner_id_name_key"));
        let renamed = workspaces::rename(&db.store, other.id, "second", DbTime::now()).await.unwrap();
        assert_eq!(renamed.name, "second");
        let names: Vec<String> = workspaces::list_by_owner(&db.store, alice.id).await.unwrap().into_iter().map(|w| w.name).collect();
        assert_eq!(names, ["Dev", "second"]);

        workspaces::soft_delete(&db.store, ws.id, DbTime::now()).await.unwrap();
        assert!(workspaces::get(&db.store, ws.id).await.unwrap().deleted);
        fixtures::workspace(&db.store, alice.id, org.id, t.id, "dev").await;
        assert!(matches!(workspaces::rename(&db.store, ws.id, "x", DbTime::now()).await, Err(StoreError::NotFound { .. })));
    }
}

store_test! {
    async fn dormancy_last_use_and_acl(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let alice = fixtures::user(&db.store, "alice").await;
        let bob = fixtures::user(&db.store, "bob").await;
        let (t, _) = fixtures::template(&db.store, org.id, alice.id, "t").await;
        let ws = fixtures::workspace(&db.store, alice.id, org.id, t.id, "w").await;
        let at = DbTime::now();
        assert_eq!(workspaces::set_dormant(&db.store, ws.id, Some(at), at).await.unwrap().dormant_at, Some(at));
        assert_eq!(workspaces::set_dormant(&db.store, ws.id, None, at).await.unwrap().dormant_at, None);
        let later = at + std::time::Duration::from_secs(60);
        workspaces::touch_last_used(&db.store, ws.id, later).await.unwrap();
        assert_eq!(workspaces::get(&db.store, ws.id).await.unwrap().last_used_at, later);

        let ssh: ActionSet = [Wild::Is(Action::Ssh), Wild::Is(Action::Read)].into_iter().collect();
        let acl = Acl { users: vec![(bob.id, ssh)], groups: vec![(GroupId::everyone(org.id), ActionSet::WILDCARD)] };
        workspaces::set_acl(&db.store, ws.id, &acl).await.unwrap();
        assert_eq!(workspaces::get_acl(&db.store, ws.id).await.unwrap(), acl);
    }
}

store_test! {
    async fn builds_are_numbered_per_workspace_and_keep_their_state(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let alice = fixtures::user(&db.store, "alice").await;
        let (t, v) = fixtures::template(&db.store, org.id, alice.id, "t").await;
        let ws = fixtures::workspace(&db.store, alice.id, org.id, t.id, "w").await;
        let other = fixtures::workspace(&db.store, alice.id, org.id, t.id, "o").await;
        let mut ids = Vec::new();
        for (workspace, transition) in [(ws.id, BuildTransition::Start), (other.id, BuildTransition::Start), (ws.id, BuildTransition::Stop)] {
            let job = fixtures::job(&db.store, org.id, alice.id, JobKind::WorkspaceBuild).await;
            let b = workspaces::insert_build(&db.store, &NewBuild {
                id: WorkspaceBuildId::new_v4(), workspace_id: workspace, transition,
                reason: BuildReason::Initiator, initiator_id: alice.id, job_id: job,
                template_version_id: v.id, state: None, created_at: DbTime::now(),
            }).await.unwrap();
            ids.push(b);
        }
        assert_eq!(ids.iter().map(|b| b.build_number).collect::<Vec<_>>(), [1, 1, 2]);
        let latest = workspaces::latest_build(&db.store, ws.id).await.unwrap();
        assert_eq!(latest, ids[2]);
        assert_eq!(workspaces::list_builds(&db.store, ws.id).await.unwrap(), [ids[2].clone(), ids[0].clone()]);

        // Binary state, including bytes that are not UTF-8, round-trips (BLOB / bytea domain).
        let state: Vec<u8> = (0..=255u8).chain([0, 0, 255]).collect();
        workspaces::set_build_state(&db.store, latest.id, &state, DbTime::now()).await.unwrap();
        assert_eq!(workspaces::get_build(&db.store, latest.id).await.unwrap().state, Some(state));
        assert!(matches!(workspaces::latest_build(&db.store, atrium_store::WorkspaceId::new_v4()).await, Err(StoreError::NotFound { .. })));
    }
}
