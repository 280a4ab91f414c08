use atrium_store::api_keys::{self, NewApiKey};
use atrium_store::{DbTime, LoginType, StoreError};

use crate::{assert_violation, fixtures, store_test};

fn key<'a>(
    id: &'a str,
    user: atrium_store::UserId,
    token_name: &'a str,
    login_type: LoginType,
) -> NewApiKey<'a> {
    let now = DbTime::now();
    NewApiKey {
        id,
        hashed_secret: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        user_id: user,
        login_type,
        scope: "all",
        token_name,
        lifetime_seconds: 86_400,
        expires_at: now + std::time::Duration::from_secs(86_400),
        created_at: now,
        ip_address: "127.0.0.1",
    }
}

store_test! {
    async fn keys_are_found_touched_and_deleted(db) {
        let u = fixtures::user(&db.store, "u").await;
        let new = key("abcdefghij", u.id, "", LoginType::Password);
        let k = api_keys::insert(&db.store, &new).await.unwrap();
        assert_eq!((k.last_used, k.updated_at, k.expires_at), (new.created_at, new.created_at, new.expires_at));
        assert_eq!(api_keys::get(&db.store, "abcdefghij").await.unwrap(), k);

        let later = new.created_at + std::time::Duration::from_secs(10);
        let expiry = later + std::time::Duration::from_secs(86_400);
        assert!(api_keys::touch(&db.store, "abcdefghij", later, k.expires_at, expiry, "10.0.0.1").await.unwrap());
        let touched = api_keys::get(&db.store, "abcdefghij").await.unwrap();
        assert_eq!((touched.last_used, touched.expires_at, touched.ip_address.as_str()), (later, expiry, "10.0.0.1"));

        api_keys::insert(&db.store, &key("tokentoken", u.id, "ci", LoginType::Token)).await.unwrap();
        assert_eq!(api_keys::list_by_user(&db.store, u.id).await.unwrap().len(), 2);
        api_keys::delete(&db.store, "abcdefghij").await.unwrap();
        assert!(matches!(api_keys::get(&db.store, "abcdefghij").await, Err(StoreError::NotFound { entity: "api key" })));
        assert!(matches!(api_keys::delete(&db.store, "abcdefghij").await, Err(StoreError::NotFound { .. })));
        assert_eq!(api_keys::delete_by_user(&db.store, u.id).await.unwrap(), 1);
        assert!(api_keys::list_by_user(&db.store, u.id).await.unwrap().is_empty());
    }
}

store_test! {
    async fn token_names_are_unique_per_user(db) {
        let u = fixtures::user(&db.store, "u").await;
        let v = fixtures::user(&db.store, "v").await;
        api_keys::insert(&db.store, &key("aaaaaaaaaa", u.id, "ci", LoginType::Token)).await.unwrap();
        let err = api_keys::insert(&db.store, &key("bbbbbbbbbb", u.id, "ci", LoginType::Token)).await.unwrap_err();
        assert_violation!(err, Unique, "api_keys_token_name_key");
        api_keys::insert(&db.store, &key("cccccccccc", v.id, "ci", LoginType::Token)).await.unwrap();
        // Session keys all have the empty name.
        api_keys::insert(&db.store, &key("dddddddddd", u.id, "", LoginType::Password)).await.unwrap();
        api_keys::insert(&db.store, &key("eeeeeeeeee", u.id, "", LoginType::Password)).await.unwrap();
        let err = api_keys::insert(&db.store, &key("eeeeeeeeee", v.id, "", LoginType::Password)).await.unwrap_err();
        assert_violation!(err, Unique, "api_keys_pkey");
    }
}

store_test! {
    async fn a_refresh_never_revives_an_expired_key(db) {
        let u = fixtures::user(&db.store, "u").await;
        let new = key("abcdefghij", u.id, "", LoginType::Password);
        let read = api_keys::insert(&db.store, &new).await.unwrap();
        // A request read the key while valid; the key is expired before its refresh lands.
        let now = new.created_at + std::time::Duration::from_secs(10);
        let expired_at = now + std::time::Duration::from_secs(1);
        api_keys::expire(&db.store, "abcdefghij", expired_at).await.unwrap();
        let slid = now + std::time::Duration::from_secs(86_400);
        assert!(!api_keys::touch(&db.store, "abcdefghij", now, read.expires_at, slid, "10.0.0.1").await.unwrap());
        let after = api_keys::get(&db.store, "abcdefghij").await.unwrap();
        assert_eq!(after.expires_at, expired_at, "the expiry stays");
        // Nor does a refresh based on the new expiry once it is past.
        let later = expired_at + std::time::Duration::from_secs(1);
        assert!(!api_keys::touch(&db.store, "abcdefghij", later, after.expires_at, slid, "10.0.0.1").await.unwrap());
        // Expiring again never moves the expiry later.
        api_keys::expire(&db.store, "abcdefghij", later).await.unwrap();
        assert_eq!(api_keys::get(&db.store, "abcdefghij").await.unwrap().expires_at, expired_at);
        // A revoked (deleted) key is not refreshed either.
        api_keys::delete(&db.store, "abcdefghij").await.unwrap();
        assert!(!api_keys::touch(&db.store, "abcdefghij", now, read.expires_at, slid, "").await.unwrap());
    }
}

store_test! {
    async fn app_connect_keys_are_deleted_by_user(db) {
        let u = fixtures::user(&db.store, "u").await;
        let v = fixtures::user(&db.store, "v").await;
        let mut app = key("aaaaaaaaaa", u.id, "app", LoginType::Token);
        app.scope = "application_connect";
        api_keys::insert(&db.store, &app).await.unwrap();
        api_keys::insert(&db.store, &key("bbbbbbbbbb", u.id, "ci", LoginType::Token)).await.unwrap();
        let mut other = key("cccccccccc", v.id, "app", LoginType::Token);
        other.scope = "application_connect";
        api_keys::insert(&db.store, &other).await.unwrap();
        assert_eq!(api_keys::delete_app_connect_by_user(&db.store, u.id).await.unwrap(), 1);
        let left: Vec<String> = api_keys::list_by_user(&db.store, u.id).await.unwrap().into_iter().map(|k| k.id).collect();
        assert_eq!(left, ["bbbbbbbbbb"]);
        assert!(api_keys::get(&db.store, "cccccccccc").await.is_ok());
    }
}
