use atrium_engine::{Action, ActionSet, Wild};
use atrium_store::workspaces::{self, NewBuild};
use atrium_store::{
    Acl, BuildReason, BuildTransition, DbTime, GroupId, JobId, JobKind, StoreError,
    TemplateVersionId, WorkspaceBuildId, WorkspaceId, jobs, orgs, templates, users,
};

use crate::{assert_violation, fixtures, store_test};

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
        assert_violation!(err, Unique, "workspaces_owner_id_name_key");
        // Another owner may use the name.
        fixtures::workspace(&db.store, bob.id, org.id, t.id, "dev").await;

        let other = fixtures::workspace(&db.store, alice.id, org.id, t.id, "other").await;
        let err = workspaces::rename(&db.store, other.id, "dEv", DbTime::now()).await.unwrap_err();
        assert_violation!(err, Unique, "workspaces_owner_id_name_key");
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

        // Leaving the org ends bob's grants there (not elsewhere), as sharing needs membership.
        let other = fixtures::org(&db.store, "other").await;
        let (t2, _) = fixtures::template(&db.store, other.id, alice.id, "t2").await;
        let elsewhere = fixtures::workspace(&db.store, alice.id, other.id, t2.id, "w2").await;
        let bobs = Acl { users: vec![(bob.id, ssh)], groups: vec![] };
        workspaces::set_acl(&db.store, elsewhere.id, &bobs).await.unwrap();
        orgs::add_member(&db.store, org.id, bob.id, at).await.unwrap();
        orgs::remove_member(&db.store, org.id, bob.id).await.unwrap();
        assert_eq!(workspaces::get_acl(&db.store, ws.id).await.unwrap().users, []);
        assert_eq!(workspaces::get_acl(&db.store, ws.id).await.unwrap().groups, acl.groups);
        assert_eq!(workspaces::get_acl(&db.store, elsewhere.id).await.unwrap(), bobs);
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
            // Finished, so the workspace's next build may follow.
            jobs::complete(&db.store, job, None, DbTime::now()).await.unwrap();
            ids.push(b);
        }
        assert_eq!(ids.iter().map(|b| b.build_number).collect::<Vec<_>>(), [1, 1, 2]);
        let latest = workspaces::latest_build(&db.store, ws.id).await.unwrap();
        assert_eq!(latest, ids[2]);
        // Batched: each workspace's latest build, duplicates collapsed, in one statement.
        let mut batch = workspaces::latest_builds(&db.store, &[ws.id, other.id, ws.id]).await.unwrap();
        batch.sort_by_key(|b| (b.workspace_id != ws.id, b.build_number));
        assert_eq!(batch, [ids[2].clone(), ids[1].clone()]);
        assert!(workspaces::latest_builds(&db.store, &[]).await.unwrap().is_empty());
        let jobs_of: Vec<_> = ids.iter().map(|b| b.job_id).collect();
        assert_eq!(jobs::get_many(&db.store, &jobs_of).await.unwrap().len(), 3);
        assert_eq!(users::get_many(&db.store, &[alice.id, alice.id]).await.unwrap().len(), 1);
        assert_eq!(atrium_store::orgs::get_many(&db.store, &[org.id]).await.unwrap()[0].id, org.id);
        assert_eq!(templates::get_many(&db.store, &[t.id]).await.unwrap()[0].id, t.id);
        assert_eq!(templates::get_versions(&db.store, &[v.id]).await.unwrap()[0].id, v.id);
        assert_eq!(workspaces::list_builds(&db.store, ws.id).await.unwrap(), [ids[2].clone(), ids[0].clone()]);

        // Binary state, including bytes that are not UTF-8, round-trips (BLOB / bytea domain).
        let state: Vec<u8> = (0..=255u8).chain([0, 0, 255]).collect();
        workspaces::set_build_state(&db.store, latest.id, &state, DbTime::now()).await.unwrap();
        assert_eq!(workspaces::get_build(&db.store, latest.id).await.unwrap().state, Some(state));
        assert!(matches!(workspaces::latest_build(&db.store, atrium_store::WorkspaceId::new_v4()).await, Err(StoreError::NotFound { .. })));
    }
}

/// A build of `ws` on a new job (left pending).
async fn build_on_new_job(
    store: &atrium_store::Store,
    ws: &workspaces::Workspace,
    version: TemplateVersionId,
) -> (JobId, Result<workspaces::WorkspaceBuild, StoreError>) {
    let job = fixtures::job(store, ws.org_id, ws.owner_id, JobKind::WorkspaceBuild).await;
    let build = workspaces::insert_build(
        store,
        &NewBuild {
            id: WorkspaceBuildId::new_v4(),
            workspace_id: ws.id,
            transition: BuildTransition::Stop,
            reason: BuildReason::Initiator,
            initiator_id: ws.owner_id,
            job_id: job,
            template_version_id: version,
            state: None,
            created_at: DbTime::now(),
        },
    )
    .await;
    (job, build)
}

store_test! {
    async fn one_active_build_per_workspace(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let alice = fixtures::user(&db.store, "alice").await;
        let (t, v) = fixtures::template(&db.store, org.id, alice.id, "t").await;
        let ws = fixtures::workspace(&db.store, alice.id, org.id, t.id, "w").await;
        // Idle (no build yet): the first build goes in.
        let (first, b) = build_on_new_job(&db.store, &ws, v.id).await;
        assert_eq!(b.unwrap().build_number, 1);
        // While its job is pending, running or canceling, no second build.
        let (_, again) = build_on_new_job(&db.store, &ws, v.id).await;
        assert_violation!(again.unwrap_err(), Unique, workspaces::ACTIVE_BUILD);
        let mut tx = db.store.begin().await.unwrap();
        assert_violation!(workspaces::lock_idle(&mut tx, ws.id).await.unwrap_err(), Unique, workspaces::ACTIVE_BUILD);
        tx.rollback().await.unwrap();
        jobs::cancel(&db.store, first, DbTime::now()).await.unwrap();
        let (_, canceled_pending) = build_on_new_job(&db.store, &ws, v.id).await;
        let second = canceled_pending.unwrap();
        assert_eq!(second.build_number, 2, "a canceled pending job is finished");
        // Finished jobs (succeeded or failed) free the workspace.
        jobs::complete(&db.store, second.job_id, Some("boom"), DbTime::now()).await.unwrap();
        let (_, third) = build_on_new_job(&db.store, &ws, v.id).await;
        assert_eq!(third.unwrap().build_number, 3);
        // A deleted workspace takes no build at all.
        let other = fixtures::workspace(&db.store, alice.id, org.id, t.id, "gone").await;
        workspaces::soft_delete(&db.store, other.id, DbTime::now()).await.unwrap();
        let (_, none) = build_on_new_job(&db.store, &other, v.id).await;
        assert!(matches!(none, Err(StoreError::NotFound { entity: "workspace" })), "{none:?}");
        assert!(matches!(workspaces::lock_idle(&db.store, WorkspaceId::new_v4()).await, Err(StoreError::NotFound { .. })));
    }
}

store_test! {
    async fn deleted_owners_and_templates_gain_no_workspaces(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let admin = fixtures::user(&db.store, "admin").await;
        let alice = fixtures::user(&db.store, "alice").await;
        let (t, _) = fixtures::template(&db.store, org.id, admin.id, "t").await;
        let new = |owner, template, name| workspaces::NewWorkspace {
            id: WorkspaceId::new_v4(), owner_id: owner, org_id: org.id, template_id: template,
            name, created_at: DbTime::now(),
        };
        // A user who owns a live workspace is not deleted; once it is gone, they are.
        let ws = fixtures::workspace(&db.store, alice.id, org.id, t.id, "w").await;
        let err = users::soft_delete(&db.store, alice.id, DbTime::now()).await.unwrap_err();
        assert_violation!(err, ForeignKey, workspaces::OWNER_HAS_WORKSPACES);
        assert!(!users::get(&db.store, alice.id).await.unwrap().deleted, "the refused delete left no trace");
        workspaces::soft_delete(&db.store, ws.id, DbTime::now()).await.unwrap();
        users::soft_delete(&db.store, alice.id, DbTime::now()).await.unwrap();
        // ...and then gains none.
        let err = workspaces::insert(&db.store, &new(alice.id, t.id, "late")).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { entity: "user" }), "{err:?}");

        // The same for templates.
        let ws = fixtures::workspace(&db.store, admin.id, org.id, t.id, "w").await;
        let err = templates::soft_delete(&db.store, t.id, DbTime::now()).await.unwrap_err();
        assert_violation!(err, ForeignKey, workspaces::TEMPLATE_HAS_WORKSPACES);
        assert!(!templates::get(&db.store, t.id).await.unwrap().deleted);
        workspaces::soft_delete(&db.store, ws.id, DbTime::now()).await.unwrap();
        templates::soft_delete(&db.store, t.id, DbTime::now()).await.unwrap();
        let err = workspaces::insert(&db.store, &new(admin.id, t.id, "late")).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { entity: "template" }), "{err:?}");
    }
}

store_test! {
    async fn a_delete_waits_for_a_creation_in_flight_and_sees_it(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let alice = fixtures::user(&db.store, "alice").await;
        let (t, _) = fixtures::template(&db.store, org.id, alice.id, "t").await;
        // A creation holds its transaction open; deletes started meanwhile wait for it (a row
        // lock on PostgreSQL, the write lock on SQLite) and then see its workspace.
        let mut tx = db.store.begin().await.unwrap();
        fixtures::workspace(&mut tx, alice.id, org.id, t.id, "w").await;
        let store = db.store.clone();
        let delete_user = tokio::spawn(async move { users::soft_delete(&store, alice.id, DbTime::now()).await });
        let store = db.store.clone();
        let delete_template = tokio::spawn(async move { templates::soft_delete(&store, t.id, DbTime::now()).await });
        tokio::task::yield_now().await;
        tx.commit().await.unwrap();
        let user_err = delete_user.await.unwrap().unwrap_err();
        assert_violation!(user_err, ForeignKey, workspaces::OWNER_HAS_WORKSPACES);
        let template_err = delete_template.await.unwrap().unwrap_err();
        assert_violation!(template_err, ForeignKey, workspaces::TEMPLATE_HAS_WORKSPACES);
    }
}
