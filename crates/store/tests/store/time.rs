use std::time::{Duration, UNIX_EPOCH};

use atrium_store::users;
use atrium_store::{DbTime, UserId};

use crate::{fixtures, store_test};

store_test! {
    async fn db_time_round_trips_to_the_microsecond_and_orders(db) {
        let u = fixtures::user(&db.store, "t").await;
        // A time with sub-microsecond digits is truncated when made; what is stored is exact.
        let t = DbTime::from_system_time(UNIX_EPOCH + Duration::new(1_767_225_599, 999_999_999));
        assert_eq!(t.unix_micros(), 1_767_225_599_999_999);
        users::update_last_seen(&db.store, u.id, t).await.unwrap();
        assert_eq!(users::get(&db.store, u.id).await.unwrap().last_seen_at, Some(t));

        // Ordering by a time column follows the instants, across second boundaries and before
        // the epoch (text timestamps get `…:49.5Z` vs `…:49Z` wrong).
        let times = [
            DbTime::from_unix_micros(-1),
            DbTime::EPOCH,
            DbTime::from_unix_micros(49_000_000),
            DbTime::from_unix_micros(49_500_000),
            DbTime::from_unix_micros(50_000_000),
            DbTime::now(),
        ];
        let mut ids = Vec::new();
        for (i, at) in times.iter().enumerate().rev() {
            let username = format!("{}-{i}", crate::common::unique("o"));
            let id = UserId::new_v4();
            users::insert(&db.store, &users::NewUser {
                id,
                username: &username,
                email: &format!("{username}@x"),
                name: "",
                avatar_url: "",
                hashed_password: None,
                login_type: atrium_store::LoginType::None,
                status: atrium_store::UserStatus::Active,
                created_at: *at,
                is_service_account: false,
            })
            .await
            .unwrap();
            ids.push((*at, id));
        }
        ids.sort();
        let sql = "SELECT id FROM users WHERE id <> $1 ORDER BY created_at";
        let ordered: Vec<UserId> = match db.store.pool() {
            atrium_store::Pool::Sqlite(p) => sqlx::query_scalar(sql).bind(u.id).fetch_all(p).await.unwrap(),
            atrium_store::Pool::Pg(p) => sqlx::query_scalar(sql).bind(u.id).fetch_all(p).await.unwrap(),
        };
        assert_eq!(ordered, ids.iter().map(|(_, id)| *id).collect::<Vec<_>>());
        for (at, id) in ids {
            assert_eq!(users::get(&db.store, id).await.unwrap().created_at, at);
        }
    }
}
