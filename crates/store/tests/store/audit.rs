use atrium_store::audit::{self, AuditLog};
use atrium_store::{AuditLogId, DbTime, JsonText, OrgId, ResourceId};

use crate::store_test;

store_test! {
    async fn audit_rows_round_trip_and_list_newest_first(db) {
        let mut rows = Vec::new();
        for i in 0..3i64 {
            let row = AuditLog {
                id: AuditLogId::new_v4(),
                time: DbTime::from_unix_micros(1_700_000_000_000_000 + i),
                user_id: None,
                organization_id: Some(OrgId::new_v4()),
                ip: "::1".into(),
                user_agent: "curl".into(),
                resource_type: "workspace".into(),
                resource_id: ResourceId::new_v4(),
                resource_target: format!("ws-{i}"),
                action: "create".into(),
                diff: JsonText(serde_json::json!({"name": {"old": "", "new": format!("ws-{i}"), "secret": false}, "ünïcode": "✓"})),
                status_code: 201,
                request_id: "req".into(),
                additional_fields: JsonText(serde_json::json!({"nested": [1, 2, {"x": null}]})),
            };
            audit::insert(&db.store, &row).await.unwrap();
            rows.push(row);
        }
        assert_eq!(audit::get(&db.store, rows[1].id).await.unwrap(), rows[1]);
        let recent = audit::list_recent(&db.store, 2).await.unwrap();
        assert_eq!(recent, [rows[2].clone(), rows[1].clone()]);
    }
}
