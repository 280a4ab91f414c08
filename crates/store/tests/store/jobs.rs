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
        let a = jobs::acquire(&db.store, "worker-a", now, None).await.unwrap().unwrap();
        assert_eq!((a.id, a.worker_id.as_deref(), a.started_at), (first, Some("worker-a"), Some(now)));
        assert_eq!(a.status(), JobStatus::Running);
        let b = jobs::acquire(&db.store, "worker-b", now, None).await.unwrap().unwrap();
        assert_eq!(b.id, second);
        assert!(jobs::acquire(&db.store, "worker-c", now, None).await.unwrap().is_none());

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
        jobs::acquire(&db.store, "w", DbTime::now(), None).await.unwrap().unwrap();
        let pending = fixtures::job(&db.store, org.id, u.id, JobKind::WorkspaceBuild).await;
        assert_eq!(jobs::cancel(&db.store, pending, DbTime::now()).await.unwrap().status(), JobStatus::Canceled);
        assert_eq!(jobs::cancel(&db.store, running, DbTime::now()).await.unwrap().status(), JobStatus::Canceling);
        // A canceled pending job is never claimed.
        assert!(jobs::acquire(&db.store, "w", DbTime::now(), None).await.unwrap().is_none());
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

store_test! {
    async fn only_the_claiming_worker_heartbeats_and_sees_a_cancel(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let u = fixtures::user(&db.store, "u").await;
        let job = fixtures::job(&db.store, org.id, u.id, JobKind::TemplateVersionImport).await;
        let claimed = jobs::acquire(&db.store, "w1", DbTime::now(), None).await.unwrap().unwrap();
        let later = DbTime::from_unix_micros(claimed.updated_at.unix_micros() + 5_000_000);
        let beat = jobs::heartbeat(&db.store, job, "w1", later).await.unwrap();
        assert_eq!((beat.updated_at, beat.canceled_at), (later, None));
        assert!(matches!(jobs::heartbeat(&db.store, job, "w2", later).await, Err(StoreError::NotFound { .. })));
        jobs::cancel(&db.store, job, later).await.unwrap();
        let beat = jobs::heartbeat(&db.store, job, "w1", later).await.unwrap();
        assert_eq!((beat.canceled_at, beat.status()), (Some(later), JobStatus::Canceling));
        jobs::complete(&db.store, job, Some("canceled"), later).await.unwrap();
        assert_eq!(jobs::get(&db.store, job).await.unwrap().status(), JobStatus::Canceled);
        // A completed job has no worker to beat for it.
        assert!(matches!(jobs::heartbeat(&db.store, job, "w1", later).await, Err(StoreError::NotFound { .. })));
    }
}

store_test! {
    async fn queue_positions_follow_the_claim_order(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let u = fixtures::user(&db.store, "u").await;
        let first = fixtures::job(&db.store, org.id, u.id, JobKind::TemplateVersionImport).await;
        let second = fixtures::job(&db.store, org.id, u.id, JobKind::TemplateVersionImport).await;
        let position = |id| {
            let store = db.store.clone();
            async move {
                let job = jobs::get(&store, id).await.unwrap();
                jobs::queue_position(&store, &job).await.unwrap()
            }
        };
        assert_eq!(position(first).await, (1, 2));
        assert_eq!(position(second).await, (2, 2));
        assert_eq!(jobs::acquire(&db.store, "w", DbTime::now(), None).await.unwrap().unwrap().id, first);
        assert_eq!(position(second).await, (1, 1));
    }
}

store_test! {
    async fn claims_are_fair_across_organizations(db) {
        let a = fixtures::org(&db.store, "busy").await;
        let b = fixtures::org(&db.store, "quiet").await;
        let u = fixtures::user(&db.store, "u").await;
        // Organization A queues a burst; B queues one job after all of them.
        let mut burst = Vec::new();
        for _ in 0..4 {
            burst.push(fixtures::job(&db.store, a.id, u.id, JobKind::WorkspaceBuild).await);
        }
        let quiet = fixtures::job(&db.store, b.id, u.id, JobKind::WorkspaceBuild).await;
        let now = DbTime::now();
        // A runs nothing yet, B neither: the oldest job (A's) goes first.
        let first = jobs::acquire(&db.store, "w1", now, None).await.unwrap().unwrap();
        assert_eq!(first.id, burst[0]);
        // A already runs one job and B none: B's job is next, though A's are older.
        let second = jobs::acquire(&db.store, "w2", now, None).await.unwrap().unwrap();
        assert_eq!(second.id, quiet);
        // Both run one: A's next oldest.
        let third = jobs::acquire(&db.store, "w3", now, None).await.unwrap().unwrap();
        assert_eq!(third.id, burst[1]);
        // With a cap of two jobs per organization, A's third waits though a worker is free.
        assert!(jobs::acquire(&db.store, "w4", now, Some(2)).await.unwrap().is_none());
        // When one of A's jobs ends, A may run another.
        jobs::complete(&db.store, first.id, None, now).await.unwrap();
        let fourth = jobs::acquire(&db.store, "w4", now, Some(2)).await.unwrap().unwrap();
        assert_eq!(fourth.id, burst[2]);
        // Without a cap, the rest of the burst is claimed.
        let fifth = jobs::acquire(&db.store, "w5", now, None).await.unwrap().unwrap();
        assert_eq!(fifth.id, burst[3]);
    }
}
