use atrium_store::users::{self, NewUser, ProfileUpdate};
use atrium_store::{DbTime, LoginType, StoreError, UserId, UserStatus};

use crate::{assert_violation, fixtures, store_test};

fn new_user<'a>(username: &'a str, email: &'a str) -> NewUser<'a> {
    NewUser {
        id: UserId::new_v4(),
        username,
        email,
        name: "Name",
        avatar_url: "",
        hashed_password: None,
        login_type: LoginType::Oidc,
        status: UserStatus::Dormant,
        created_at: DbTime::now(),
        is_service_account: false,
    }
}

store_test! {
    async fn user_round_trips_and_is_found_ignoring_case(db) {
        let new = new_user("Alice", "Alice@Example.com");
        let alice = users::insert(&db.store, &new).await.unwrap();
        assert_eq!(alice.id, new.id);
        assert_eq!(alice.username, "Alice");
        assert_eq!((alice.created_at, alice.updated_at), (new.created_at, new.created_at));
        assert_eq!((alice.login_type, alice.status, alice.deleted), (LoginType::Oidc, UserStatus::Dormant, false));
        assert_eq!(alice.hashed_password, None);
        assert_eq!(alice.last_seen_at, None);
        assert_eq!(users::get(&db.store, alice.id).await.unwrap(), alice);
        assert_eq!(users::get_by_username(&db.store, "aLiCe").await.unwrap(), alice);
        assert_eq!(users::get_by_email(&db.store, "alice@example.COM").await.unwrap(), alice);
        assert!(matches!(
            users::get(&db.store, UserId::new_v4()).await,
            Err(StoreError::NotFound { entity: "user" })
        ));
    }
}

store_test! {
    async fn usernames_are_unique_ignoring_case(db) {
        users::insert(&db.store, &new_user("bob", "bob@example.com")).await.unwrap();
        let err = users::insert(&db.store, &new_user("BOB", "other@example.com")).await.unwrap_err();
        assert_violation!(err, Unique, "users_username_key");
        let err = users::insert(&db.store, &new_user("robert", "Bob@Example.com")).await.unwrap_err();
        assert_violation!(err, Unique, "users_email_key");
    }
}

store_test! {
    async fn soft_delete_frees_the_name_and_drops_memberships(db) {
        let carol = users::insert(&db.store, &new_user("carol", "carol@example.com")).await.unwrap();
        let org = fixtures::org(&db.store, "acme").await;
        atrium_store::orgs::add_member(&db.store, org.id, carol.id, DbTime::now()).await.unwrap();
        users::soft_delete(&db.store, carol.id, DbTime::now()).await.unwrap();
        assert!(users::get(&db.store, carol.id).await.unwrap().deleted);
        assert!(matches!(users::get_by_username(&db.store, "carol").await, Err(StoreError::NotFound { .. })));
        assert!(atrium_store::orgs::list_memberships(&db.store, carol.id).await.unwrap().is_empty());
        // Deleting twice is NotFound; the name is free again.
        assert!(matches!(users::soft_delete(&db.store, carol.id, DbTime::now()).await, Err(StoreError::NotFound { .. })));
        users::insert(&db.store, &new_user("Carol", "carol@example.com")).await.unwrap();
        assert_eq!(users::count(&db.store).await.unwrap(), 1);
    }
}

store_test! {
    async fn updates_change_only_their_fields(db) {
        let u = fixtures::user(&db.store, "dave").await;
        let later = u.created_at + std::time::Duration::from_secs(5);
        let updated = users::update_profile(&db.store, u.id, &ProfileUpdate {
            username: "dave2", name: "Dave", avatar_url: "https://a/b.png",
        }, later).await.unwrap();
        assert_eq!((updated.username.as_str(), updated.name.as_str()), ("dave2", "Dave"));
        assert_eq!((updated.created_at, updated.updated_at), (u.created_at, later));
        let s = users::update_status(&db.store, u.id, UserStatus::Suspended, later).await.unwrap();
        assert_eq!(s.status, UserStatus::Suspended);
        let e = users::update_email(&db.store, u.id, "new@example.com", later).await.unwrap();
        assert_eq!(e.email, "new@example.com");
        users::update_password(&db.store, u.id, None, later).await.unwrap();
        users::update_login_type(&db.store, u.id, LoginType::None, later).await.unwrap();
        users::update_last_seen(&db.store, u.id, later).await.unwrap();
        let got = users::get(&db.store, u.id).await.unwrap();
        assert_eq!((got.hashed_password, got.login_type, got.last_seen_at), (None, LoginType::None, Some(later)));
        let err = users::update_status(&db.store, UserId::new_v4(), UserStatus::Active, later).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { entity: "user" }));
    }
}

store_test! {
    async fn a_bad_status_word_is_refused_by_its_check(db) {
        // Bypass the typed API: the CHECK constraint is the database's own guard.
        let sql = "UPDATE users SET status = 'bogus' WHERE id = $1";
        let u = fixtures::user(&db.store, "erin").await;
        let err: StoreError = match db.store.pool() {
            atrium_store::Pool::Sqlite(p) => sqlx::query(sql).bind(u.id).execute(p).await.unwrap_err().into(),
            atrium_store::Pool::Pg(p) => sqlx::query(sql).bind(u.id).execute(p).await.unwrap_err().into(),
        };
        assert_violation!(err, Check, "users_status_check");
        assert_eq!(err.constraint(), Some("users_status_check"));
        assert!(!err.is_foreign_key_conflict());
    }
}

store_test! {
    async fn site_roles_are_replaced_and_listed_sorted(db) {
        let u = fixtures::user(&db.store, "frank").await;
        assert!(users::get_site_roles(&db.store, u.id).await.unwrap().is_empty());
        users::set_site_roles(&db.store, u.id, &["user-admin", "owner", "owner"], DbTime::now()).await.unwrap();
        assert_eq!(users::get_site_roles(&db.store, u.id).await.unwrap(), ["owner", "user-admin"]);
        users::set_site_roles(&db.store, u.id, &["auditor"], DbTime::now()).await.unwrap();
        assert_eq!(users::get_site_roles(&db.store, u.id).await.unwrap(), ["auditor"]);
        let err = users::set_site_roles(&db.store, UserId::new_v4(), &["owner"], DbTime::now()).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }));
        let listed = users::list(&db.store).await.unwrap();
        assert_eq!(listed.iter().map(|u| u.id).collect::<Vec<_>>(), [u.id]);
    }
}

store_test! {
    async fn a_status_change_applies_only_from_the_status_read(db) {
        let u = fixtures::user(&db.store, "gina").await;
        let now = DbTime::now();
        let dormant = users::update_status_from(&db.store, u.id, UserStatus::Active, UserStatus::Dormant, now).await.unwrap();
        assert_eq!(dormant.map(|d| d.status), Some(UserStatus::Dormant));
        // Two reactivations of the same dormant read: one changes the row, the other nothing.
        let first = users::update_status_from(&db.store, u.id, UserStatus::Dormant, UserStatus::Active, now).await.unwrap();
        assert_eq!(first.map(|f| f.status), Some(UserStatus::Active));
        assert_eq!(users::update_status_from(&db.store, u.id, UserStatus::Dormant, UserStatus::Active, now).await.unwrap(), None);
        // A suspension landing after a request read the user as dormant is not overwritten.
        users::update_status_from(&db.store, u.id, UserStatus::Active, UserStatus::Dormant, now).await.unwrap().unwrap();
        users::update_status_from(&db.store, u.id, UserStatus::Dormant, UserStatus::Suspended, now).await.unwrap().unwrap();
        assert_eq!(users::update_status_from(&db.store, u.id, UserStatus::Dormant, UserStatus::Active, now).await.unwrap(), None);
        assert_eq!(users::get(&db.store, u.id).await.unwrap().status, UserStatus::Suspended);
    }
}

/// Demotes `target` unless it is the last active owner, as the roles route does: lock, count
/// the others, write, in one transaction.
async fn demote_unless_last(store: &atrium_store::Store, target: UserId) -> bool {
    let mut tx = store.begin().await.unwrap();
    users::lock_owner_set(&mut tx).await.unwrap();
    if users::count_active_owners_except(&mut tx, target).await.unwrap() == 0 {
        return false;
    }
    users::set_site_roles(&mut tx, target, &[], DbTime::now()).await.unwrap();
    tx.commit().await.unwrap();
    true
}

store_test! {
    async fn owners_demoting_each_other_leave_one(db) {
        let suspended = fixtures::user(&db.store, "sus").await;
        users::set_site_roles(&db.store, suspended.id, &["owner"], DbTime::now()).await.unwrap();
        users::update_status(&db.store, suspended.id, UserStatus::Suspended, DbTime::now()).await.unwrap();
        for _ in 0..10 {
            let a = fixtures::user(&db.store, "a").await;
            let b = fixtures::user(&db.store, "b").await;
            for u in [&a, &b] {
                users::set_site_roles(&db.store, u.id, &["owner"], DbTime::now()).await.unwrap();
            }
            // A suspended owner does not count.
            assert_eq!(users::count_active_owners_except(&db.store, a.id).await.unwrap(), 1);
            let (one, two) = tokio::join!(
                tokio::spawn({ let s = db.store.clone(); async move { demote_unless_last(&s, a.id).await } }),
                tokio::spawn({ let s = db.store.clone(); async move { demote_unless_last(&s, b.id).await } }),
            );
            assert!(one.unwrap() ^ two.unwrap(), "exactly one demotion succeeds");
            assert_eq!(users::count_active_owners_except(&db.store, suspended.id).await.unwrap(), 1);
            // Back to no active owner for the next round.
            for u in [&a, &b] {
                users::set_site_roles(&db.store, u.id, &[], DbTime::now()).await.unwrap();
            }
        }
    }
}
