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
