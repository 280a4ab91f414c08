//! Every trigger the migrations create is still there after the last one: rebuilding a table
//! (the portable way to change a constraint) silently drops its triggers, and a lost
//! `cache_changes` or `provisioner_job_posted` trigger would leave replicas' caches stale
//! without any test of the rebuilt table noticing.

use std::collections::BTreeSet;

use atrium_store::Pool;
use atrium_store::migrate::MIGRATIONS;

use crate::store_test;

/// Trigger names created and not dropped again by the migrations of one dialect, in order.
fn expected(postgres: bool) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for m in MIGRATIONS {
        let text = if postgres { m.postgres.unwrap_or(m.sql) } else { m.sql };
        let words: Vec<String> =
            text.split_whitespace().map(|w| w.trim_end_matches(';').to_ascii_lowercase()).collect();
        for w in words.windows(3) {
            if w[0] == "create" && w[1] == "trigger" {
                names.insert(w[2].clone());
            }
            if w[0] == "drop" && w[1] == "trigger" {
                let name = if w[2] == "if" { continue } else { &w[2] };
                names.remove(name);
            }
        }
        for w in words.windows(5) {
            if w[0] == "drop" && w[1] == "trigger" && w[2] == "if" && w[3] == "exists" {
                names.remove(&w[4]);
            }
        }
    }
    names
}

store_test! {
    async fn every_trigger_the_migrations_create_survives_them(db) {
        let (present, postgres): (Vec<String>, bool) = match db.store.pool() {
            Pool::Sqlite(p) => (
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                    .fetch_all(p)
                    .await
                    .unwrap(),
                false,
            ),
            Pool::Pg(p) => (
                sqlx::query_scalar("SELECT tgname::text FROM pg_trigger WHERE NOT tgisinternal")
                    .fetch_all(p)
                    .await
                    .unwrap(),
                true,
            ),
        };
        let present: BTreeSet<String> = present.into_iter().map(|n| n.to_ascii_lowercase()).collect();
        let want = expected(postgres);
        assert!(!want.is_empty(), "the migrations create triggers");
        let missing: Vec<&String> = want.difference(&present).collect();
        assert!(missing.is_empty(), "triggers lost by a later migration: {missing:?}");
    }
}
