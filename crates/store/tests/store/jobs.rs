use atrium_store::jobs::{self, JobStatus, NewLog};
use atrium_store::{DbTime, JobId, JobKind, LogLevel, StoreError};

use crate::{fixtures, store_test};

store_test! {
    async fn jobs_are_claimed_oldest_first_and_once(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let u = fixtures::user(&db.store, "u").await;
        let first = fixtures::job(&db.store, org.id, u.id, JobKind::TemplateVersionImport).await;
        let second = fixtures::job(&db.store, org.id, u.id, JobKind::WorkspaceBuild).await;
        assert_eq!(jobs::get(&db.store, first).await.unwrap().status(), JobStatus::Pending);

        let now = DbTime::now();
        let a = jobs::acquire(&db.store, "worker-a", now).await.unwrap().unwrap();
        assert_eq!((a.id, a.worker_id.as_deref(), a.started_at), (first, Some("worker-a"), Some(now)));
        assert_eq!(a.status(), JobStatus::Running);
        let b = jobs::acquire(&db.store, "worker-b", now).await.unwrap().unwrap();
        assert_eq!(b.id, second);
        assert!(jobs::acquire(&db.store, "worker-c", now).await.unwrap().is_none());

        let done = jobs::complete(&db.store, a.id, None, now).await.unwrap();
        assert_eq!(done.status(), JobStatus::Succeeded);
        assert!(matches!(jobs::complete(&db.store, a.id, None, now).await, Err(StoreError::NotFound { .. })));
        let failed = jobs::complete(&db.store, b.id, Some("terraform exploded"), now).await.unwrap();
        assert_eq!(failed.status(), JobStatus::Failed);
        assert_eq!(failed.error.as_deref(), Some("terraform exploded"));
    }
}

store_test! {
    async fn canceling_pending_and_running_jobs(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let u = fixtures::user(&db.store, "u").await;
        let running = fixtures::job(&db.store, org.id, u.id, JobKind::WorkspaceBuild).await;
        jobs::acquire(&db.store, "w", DbTime::now()).await.unwrap().unwrap();
        let pending = fixtures::job(&db.store, org.id, u.id, JobKind::WorkspaceBuild).await;
        assert_eq!(jobs::cancel(&db.store, pending, DbTime::now()).await.unwrap().status(), JobStatus::Canceled);
        assert_eq!(jobs::cancel(&db.store, running, DbTime::now()).await.unwrap().status(), JobStatus::Canceling);
        // A canceled pending job is never claimed.
        assert!(jobs::acquire(&db.store, "w", DbTime::now()).await.unwrap().is_none());
        assert!(matches!(jobs::cancel(&db.store, JobId::new_v4(), DbTime::now()).await, Err(StoreError::NotFound { .. })));
    }
}

store_test! {
    async fn logs_are_numbered_per_job_and_paged_after_an_id(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let u = fixtures::user(&db.store, "u").await;
        let job = fixtures::job(&db.store, org.id, u.id, JobKind::TemplateVersionImport).await;
        let other = fixtures::job(&db.store, org.id, u.id, JobKind::TemplateVersionImport).await;
        let line = |output| NewLog { created_at: DbTime::now(), level: LogLevel::Info, stage: "init", output };
        jobs::append_logs(&db.store, job, &[line("one"), line("two")]).await.unwrap();
        jobs::append_logs(&db.store, other, &[line("elsewhere")]).await.unwrap();
        jobs::append_logs(&db.store, job, &[line("three")]).await.unwrap();
        let all = jobs::list_logs(&db.store, job, 0).await.unwrap();
        assert_eq!(all.iter().map(|l| (l.id, l.output.as_str())).collect::<Vec<_>>(), [(1, "one"), (2, "two"), (3, "three")]);
        assert_eq!(jobs::list_logs(&db.store, job, 2).await.unwrap().len(), 1);
        assert_eq!(jobs::list_logs(&db.store, other, 0).await.unwrap()[0].id, 1);
        let input = jobs::get(&db.store, job).await.unwrap().input;
        assert_eq!(input.0, serde_json::json!({}));
    }
}
