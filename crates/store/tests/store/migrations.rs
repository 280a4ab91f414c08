use atrium_store::migrate::{self, LATEST_VERSION, MIGRATIONS};
use atrium_store::{Pool, StoreError};

use crate::store_test;

store_test! {
    async fn migrations_are_recorded_and_idempotent(db) {
        let applied = migrate::applied(&db.store).await.unwrap();
        assert_eq!(applied.len(), MIGRATIONS.len());
        assert_eq!(i64::from(applied.last().unwrap().version), LATEST_VERSION);
        // Opening again applies nothing and records nothing new.
        let again = db.reopen().await.unwrap();
        assert_eq!(migrate::applied(&again).await.unwrap(), applied);
        again.close().await;
    }
}

store_test! {
    async fn a_newer_schema_is_refused(db) {
        let future = i32::try_from(LATEST_VERSION).unwrap() + 1;
        let sql = "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future', 0)";
        match db.store.pool() {
            Pool::Sqlite(p) => sqlx::query(sql).bind(future).execute(p).await.map(|_| ()),
            Pool::Pg(p) => sqlx::query(sql).bind(future).execute(p).await.map(|_| ()),
        }
        .unwrap();
        let err = db.reopen().await.unwrap_err();
        assert!(
            matches!(err, StoreError::SchemaTooNew { database, binary }
                if database == LATEST_VERSION + 1 && binary == LATEST_VERSION),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "database schema version {} is newer than this atrium ({}); upgrade atrium",
                LATEST_VERSION + 1,
                LATEST_VERSION
            )
        );
    }
}

store_test! {
    // Migration 9 rebuilds provisioner_jobs and the three tables referencing it. Running its
    // SQL again on a populated database is the same rebuild: every row must come back as it
    // was (and the foreign keys and cascades must still hold).
    async fn the_job_table_rebuild_keeps_every_row(db) {
        use atrium_store::workspaces::{self, NewBuild};
        use atrium_store::jobs::{self, NewLog};
        use atrium_store::{BuildReason, BuildTransition, DbTime, JobKind, LogLevel, WorkspaceBuildId, templates};

        let org = crate::fixtures::org(&db.store, "acme").await;
        let alice = crate::fixtures::user(&db.store, "alice").await;
        let (t, v) = crate::fixtures::template(&db.store, org.id, alice.id, "t").await;
        let ws = crate::fixtures::workspace(&db.store, alice.id, org.id, t.id, "w").await;
        let job = crate::fixtures::job(&db.store, org.id, alice.id, JobKind::WorkspaceBuild).await;
        let line = NewLog { created_at: DbTime::now(), level: LogLevel::Info, stage: "s", output: "hello" };
        jobs::append_logs(&db.store, job, &[line.clone(), line]).await.unwrap();
        let build = workspaces::insert_build(&db.store, &NewBuild {
            id: WorkspaceBuildId::new_v4(), workspace_id: ws.id, transition: BuildTransition::Start,
            reason: BuildReason::Suspended, initiator_id: alice.id, job_id: job,
            template_version_id: v.id, state: Some(&[0, 159, 255]), created_at: DbTime::now(),
        }).await.unwrap();
        let dry_run = crate::fixtures::job(&db.store, org.id, alice.id, JobKind::TemplateVersionDryRun).await;

        let before = (
            jobs::get_many(&db.store, &[job, dry_run, v.job_id]).await.unwrap(),
            jobs::list_logs(&db.store, job, 0).await.unwrap(),
            templates::get_version(&db.store, v.id).await.unwrap(),
            workspaces::get_build(&db.store, build.id).await.unwrap(),
        );
        // Back to the schema migration 9 saw (later tables referencing the rebuilt ones are
        // empty here: dropped before, created again after), then the rebuild once more.
        // Then migration 11 restores the triggers the rebuild dropped, in the pool's dialect.
        let sql = |v: i64| MIGRATIONS.iter().find(|m| m.version == v).unwrap();
        let postgres = matches!(db.store.pool(), Pool::Pg(_));
        let restore = sql(11);
        let resources = MIGRATIONS.iter().find(|m| m.name == "job_resources").unwrap();
        let script = format!(
            "DROP TABLE template_version_variables;\nDROP TABLE provisioner_job_resources;\n\
             {}\n{}\n{}\n{}",
            sql(9).sql,
            sql(10).sql,
            if postgres { restore.postgres.unwrap_or(restore.sql) } else { restore.sql },
            resources.sql,
        );
        match db.store.pool() {
            Pool::Sqlite(p) => {
                let mut tx = p.begin().await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(script)).execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            }
            Pool::Pg(p) => {
                let mut tx = p.begin().await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(script)).execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            }
        }
        let after = (
            jobs::get_many(&db.store, &[job, dry_run, v.job_id]).await.unwrap(),
            jobs::list_logs(&db.store, job, 0).await.unwrap(),
            templates::get_version(&db.store, v.id).await.unwrap(),
            workspaces::get_build(&db.store, build.id).await.unwrap(),
        );
        assert_eq!(before, after);
        assert_eq!(after.1.len(), 2);
        // The rebuilt tables still refuse a log line of a job that does not exist.
        let orphan = atrium_store::JobId::new_v4();
        let line = NewLog { created_at: DbTime::now(), level: LogLevel::Info, stage: "", output: "x" };
        assert!(jobs::append_logs(&db.store, orphan, &[line]).await.is_err());
    }
}
