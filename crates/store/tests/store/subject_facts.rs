use atrium_store::subject_facts::{self, SubjectFacts};
use atrium_store::{DbTime, GroupId, GroupSource, groups, orgs, users};

use crate::{fixtures, store_test};

store_test! {
    async fn subject_facts_gather_roles_memberships_and_groups(db) {
        let u = fixtures::user(&db.store, "facts").await;
        let (a, b) = (fixtures::org(&db.store, "fa").await, fixtures::org(&db.store, "fb").await);
        assert_eq!(subject_facts::load(&db.store, u.id).await.unwrap(), SubjectFacts::default());
        let now = DbTime::now();
        users::set_site_roles(&db.store, u.id, &["auditor", "template-admin"], now).await.unwrap();
        orgs::add_member(&db.store, a.id, u.id, now).await.unwrap();
        orgs::add_member(&db.store, b.id, u.id, now).await.unwrap();
        orgs::set_member_roles(&db.store, a.id, u.id, &["organization-admin", "custom-x"], now).await.unwrap();
        let g = groups::insert(
            &db.store,
            &groups::NewGroup {
                id: GroupId::new_v4(),
                org_id: a.id,
                name: "devs",
                display_name: "",
                avatar_url: "",
                quota_allowance: 0,
                source: GroupSource::User,
                created_at: now,
            },
        )
        .await
        .unwrap();
        groups::add_member(&db.store, g.id, u.id).await.unwrap();
        let facts = subject_facts::load(&db.store, u.id).await.unwrap();
        assert_eq!(facts.site_roles, ["auditor", "template-admin"]);
        let mut expected = vec![
            (a.id, vec!["custom-x".to_owned(), "organization-admin".to_owned()]),
            (b.id, vec![]),
        ];
        expected.sort_by_key(|(o, _)| o.to_string());
        assert_eq!(facts.memberships, expected);
        assert_eq!(facts.groups, [g.id]);
    }
}
