use atrium_store::audit::{self, AuditLog};
use atrium_store::orgs;
use atrium_store::users;
use atrium_store::{AuditLogId, DbTime, JsonText, ResourceId, StoreError};

use crate::{fixtures, store_test};

fn audit_row(user: atrium_store::UserId) -> AuditLog {
    AuditLog {
        id: AuditLogId::new_v4(),
        time: DbTime::now(),
        user_id: Some(user),
        organization_id: None,
        ip: "127.0.0.1".into(),
        user_agent: "test".into(),
        resource_type: "user".into(),
        resource_id: ResourceId(user.uuid()),
        resource_target: "someone".into(),
        action: "write".into(),
        diff: JsonText(serde_json::json!({"name": {"old": "", "new": "x", "secret": false}})),
        status_code: 200,
        request_id: "r".into(),
        additional_fields: JsonText(serde_json::json!({})),
    }
}

store_test! {
    async fn a_rolled_back_transaction_leaves_nothing(db) {
        let mut tx = db.store.begin().await.unwrap();
        let u = fixtures::user(&mut tx, "ghost").await;
        let org = fixtures::org(&mut tx, "ghost-org").await;
        orgs::add_member(&mut tx, org.id, u.id, DbTime::now()).await.unwrap();
        audit::insert(&mut tx, &audit_row(u.id)).await.unwrap();
        // Visible inside the transaction...
        assert_eq!(users::get(&mut tx, u.id).await.unwrap().id, u.id);
        tx.rollback().await.unwrap();
        // ...and gone after it.
        assert!(matches!(users::get(&db.store, u.id).await, Err(StoreError::NotFound { .. })));
        assert!(matches!(orgs::get(&db.store, org.id).await, Err(StoreError::NotFound { .. })));
        assert!(audit::list_recent(&db.store, 10).await.unwrap().is_empty());
    }
}

store_test! {
    async fn a_dropped_transaction_rolls_back_and_a_committed_one_keeps_both_rows(db) {
        let dropped_user;
        {
            let mut tx = db.store.begin().await.unwrap();
            dropped_user = fixtures::user(&mut tx, "dropped").await;
        }
        assert!(matches!(users::get(&db.store, dropped_user.id).await, Err(StoreError::NotFound { .. })));

        let mut tx = db.store.begin().await.unwrap();
        let u = fixtures::user(&mut tx, "kept").await;
        let row = audit_row(u.id);
        audit::insert(&mut tx, &row).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(users::get(&db.store, u.id).await.unwrap().id, u.id);
        assert_eq!(audit::get(&db.store, row.id).await.unwrap(), row);
    }
}

store_test! {
    async fn a_failed_multi_statement_write_inside_a_transaction_undoes_only_itself(db) {
        let a = fixtures::org(&db.store, "a").await;
        let mut tx = db.store.begin().await.unwrap();
        let u = fixtures::user(&mut tx, "inner").await;
        // set_default on an unknown org fails; its savepoint is rolled back, the caller's
        // transaction goes on.
        assert!(orgs::set_default(&mut tx, atrium_store::OrgId::new_v4(), DbTime::now()).await.is_err());
        orgs::set_default(&mut tx, a.id, DbTime::now()).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(orgs::get_default(&db.store).await.unwrap().id, a.id);
        assert_eq!(users::get(&db.store, u.id).await.unwrap().id, u.id);
    }
}
