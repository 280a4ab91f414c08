use atrium_engine::custom_role::RawPermission;
use atrium_store::roles::{self, RoleDefinition};
use atrium_store::site_roles::{self, SiteRoleDefinition};
use atrium_store::{CustomRoleId, DbTime, StoreError, orgs};

use crate::{assert_violation, fixtures, store_test};

fn perm(resource_type: &str, action: &str) -> RawPermission {
    RawPermission { negate: false, resource_type: resource_type.into(), action: action.into() }
}

store_test! {
    async fn custom_roles_round_trip_and_are_unique_per_org_ignoring_case(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let other = fixtures::org(&db.store, "other").await;
        let org_perms = [perm("workspace", "start"), perm("workspace", "stop")];
        let def = RoleDefinition { display_name: "Start/stop", site_permissions: &[], org_permissions: &org_perms, user_permissions: &[], restriction: false, assignable_by: &[] };
        let now = DbTime::now();
        let role = roles::insert(&db.store, CustomRoleId::new_v4(), org.id, "cr-startstop", &def, now).await.unwrap();
        assert_eq!(role.org_permissions.0, org_perms);
        assert!(role.site_permissions.0.is_empty());
        assert_eq!(roles::get(&db.store, org.id, "CR-StartStop").await.unwrap(), role);

        let err = roles::insert(&db.store, CustomRoleId::new_v4(), org.id, "CR-STARTSTOP", &def, now).await.unwrap_err();
        assert_violation!(err, Unique, "custom_roles_name_key");
        roles::insert(&db.store, CustomRoleId::new_v4(), other.id, "cr-startstop", &def, now).await.unwrap();

        let read = [perm("template", "read")];
        let updated = roles::update(&db.store, org.id, "cr-startstop", &RoleDefinition { display_name: "Reader", org_permissions: &read, ..def.clone() }, now).await.unwrap();
        assert_eq!((updated.display_name.as_str(), updated.org_permissions.0.as_slice()), ("Reader", read.as_slice()));
        assert_eq!(roles::list(&db.store, org.id).await.unwrap(), [updated]);
        assert!(matches!(roles::update(&db.store, org.id, "nope", &def, now).await, Err(StoreError::NotFound { entity: "custom role" })));
    }
}

store_test! {
    async fn deleting_a_custom_role_keeps_its_assignments_inert(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let u = fixtures::user(&db.store, "u").await;
        let def = RoleDefinition { display_name: "", site_permissions: &[], org_permissions: &[], user_permissions: &[], restriction: false, assignable_by: &[] };
        roles::insert(&db.store, CustomRoleId::new_v4(), org.id, "temp", &def, DbTime::now()).await.unwrap();
        orgs::add_member(&db.store, org.id, u.id, DbTime::now()).await.unwrap();
        orgs::set_member_roles(&db.store, org.id, u.id, &["temp", "organization-auditor"], DbTime::now()).await.unwrap();
        roles::delete(&db.store, org.id, "TEMP").await.unwrap();
        // The name stays on the member; with no role behind it, it expands to nothing.
        assert_eq!(orgs::get_member_roles(&db.store, org.id, u.id).await.unwrap(), ["organization-auditor", "temp"]);
        assert!(matches!(roles::get(&db.store, org.id, "temp").await, Err(StoreError::NotFound { .. })));
        assert!(matches!(roles::delete(&db.store, org.id, "temp").await, Err(StoreError::NotFound { .. })));
    }
}

store_test! {
    async fn restriction_roles_and_assignable_by_round_trip(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let deny = [RawPermission { negate: true, ..perm("workspace", "delete") }];
        let by = ["organization-user-admin".to_owned()];
        let def = RoleDefinition { display_name: "No deletes", site_permissions: &[], org_permissions: &deny, user_permissions: &[], restriction: true, assignable_by: &by };
        let role = roles::insert(&db.store, CustomRoleId::new_v4(), org.id, "no-workspace-deletes", &def, DbTime::now()).await.unwrap();
        assert!(role.restriction);
        assert_eq!(role.assignable_by.0, by);
        assert_eq!(roles::get(&db.store, org.id, "no-workspace-deletes").await.unwrap(), role);
    }
}

store_test! {
    async fn site_roles_round_trip_are_unique_ignoring_case_and_delete(db) {
        let reads = [perm("audit_log", "read")];
        let def = SiteRoleDefinition { display_name: "Audit reader", restriction: false, site_permissions: &reads, user_permissions: &[], assignable_by: &[] };
        let now = DbTime::now();
        let role = site_roles::insert(&db.store, CustomRoleId::new_v4(), "audit-reader", &def, now).await.unwrap();
        assert_eq!(role.site_permissions.0, reads);
        assert_eq!(site_roles::get(&db.store, "AUDIT-reader").await.unwrap(), role);
        let err = site_roles::insert(&db.store, CustomRoleId::new_v4(), "Audit-Reader", &def, now).await.unwrap_err();
        assert_violation!(err, Unique, "site_roles_name_key");

        let by = ["user-admin".to_owned()];
        let updated = site_roles::update(&db.store, "audit-reader", &SiteRoleDefinition { display_name: "Reader", assignable_by: &by, ..def.clone() }, now).await.unwrap();
        assert_eq!((updated.display_name.as_str(), updated.assignable_by.0.as_slice()), ("Reader", by.as_slice()));
        assert_eq!(site_roles::list(&db.store).await.unwrap(), [updated]);
        site_roles::delete(&db.store, "Audit-Reader").await.unwrap();
        assert!(matches!(site_roles::get(&db.store, "audit-reader").await, Err(StoreError::NotFound { entity: "site role" })));
        assert!(matches!(site_roles::update(&db.store, "audit-reader", &def, now).await, Err(StoreError::NotFound { .. })));
    }
}
