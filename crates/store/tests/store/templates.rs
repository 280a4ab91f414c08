use atrium_engine::{Action, ActionSet, Wild};
use atrium_store::templates::{self, NewTemplate, NewTemplateVersion, TemplateUpdate};
use atrium_store::{
    Acl, DbTime, GroupId, JobKind, StoreError, TemplateId, TemplateVersionId, UserId,
};

use crate::{assert_violation, fixtures, store_test};

fn set(actions: &[Wild<Action>]) -> ActionSet {
    actions.iter().copied().collect()
}

store_test! {
    async fn a_template_is_created_with_its_first_version_attached(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let admin = fixtures::user(&db.store, "admin").await;
        let (t, v) = fixtures::template(&db.store, org.id, admin.id, "docker").await;
        assert_eq!(t.active_version_id, Some(v.id));
        assert_eq!(v.template_id, Some(t.id));
        assert_eq!(templates::get(&db.store, t.id).await.unwrap(), t);
        assert_eq!(templates::get_by_name(&db.store, org.id, &t.name.to_uppercase()).await.unwrap(), t);
        assert_eq!(templates::list_by_org(&db.store, org.id).await.unwrap(), std::slice::from_ref(&t));
        assert_eq!(templates::list_versions(&db.store, t.id).await.unwrap(), std::slice::from_ref(&v));
        assert_eq!(templates::get_version_by_job(&db.store, v.job_id).await.unwrap(), v);

        let updated = templates::update(&db.store, t.id, &TemplateUpdate {
            name: &t.name, display_name: "Docker", description: "containers", icon: "/d.svg",
        }, DbTime::now()).await.unwrap();
        assert_eq!(updated.display_name, "Docker");
    }
}

store_test! {
    async fn live_template_names_are_unique_per_org_and_freed_by_deletion(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let other = fixtures::org(&db.store, "other").await;
        let admin = fixtures::user(&db.store, "admin").await;
        let (t, _) = fixtures::template(&db.store, org.id, admin.id, "dup").await;
        let new = |org_id, name| NewTemplate {
            id: TemplateId::new_v4(), org_id, name, display_name: "", description: "", icon: "",
            active_version_id: None, created_by: admin.id, created_at: DbTime::now(),
        };
        let upper = t.name.to_uppercase();
        let err = templates::insert(&db.store, &new(org.id, &upper)).await.unwrap_err();
        assert_violation!(err, Unique, "templates_name_key");
        templates::insert(&db.store, &new(other.id, &upper)).await.unwrap();
        templates::soft_delete(&db.store, t.id, DbTime::now()).await.unwrap();
        assert!(templates::get(&db.store, t.id).await.unwrap().deleted);
        assert!(matches!(templates::get_by_name(&db.store, org.id, &t.name).await, Err(StoreError::NotFound { .. })));
        templates::insert(&db.store, &new(org.id, &upper)).await.unwrap();
        assert!(matches!(templates::soft_delete(&db.store, t.id, DbTime::now()).await, Err(StoreError::NotFound { .. })));
    }
}

store_test! {
    async fn only_a_version_of_the_template_can_become_active(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let admin = fixtures::user(&db.store, "admin").await;
        let (a, _) = fixtures::template(&db.store, org.id, admin.id, "a").await;
        let (_, bv) = fixtures::template(&db.store, org.id, admin.id, "b").await;
        let err = templates::set_active_version(&db.store, a.id, bv.id, DbTime::now()).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { entity: "template version" }));
        let job = fixtures::job(&db.store, org.id, admin.id, JobKind::TemplateVersionImport).await;
        let v2 = templates::insert_version(&db.store, &NewTemplateVersion {
            id: TemplateVersionId::new_v4(), template_id: Some(a.id), org_id: org.id, name: "v2",
            message: "second", readme: "# hi", job_id: job, file_id: None, created_by: admin.id,
            created_at: DbTime::now(),
        }).await.unwrap();
        templates::set_active_version(&db.store, a.id, v2.id, DbTime::now()).await.unwrap();
        assert_eq!(templates::get(&db.store, a.id).await.unwrap().active_version_id, Some(v2.id));
        // Version names are unique within a template.
        let job = fixtures::job(&db.store, org.id, admin.id, JobKind::TemplateVersionImport).await;
        let err = templates::insert_version(&db.store, &NewTemplateVersion {
            id: TemplateVersionId::new_v4(), template_id: Some(a.id), org_id: org.id, name: "v2",
            message: "", readme: "", job_id: job, file_id: None, created_by: admin.id,
            created_at: DbTime::now(),
        }).await.unwrap_err();
        assert_violation!(err, Unique, "template_versions_template_id_name_key");
    }
}

store_test! {
    async fn acl_bitmasks_round_trip(db) {
        let org = fixtures::org(&db.store, "acme").await;
        let admin = fixtures::user(&db.store, "admin").await;
        let bob = fixtures::user(&db.store, "bob").await;
        let carol = fixtures::user(&db.store, "carol").await;
        let (t, _) = fixtures::template(&db.store, org.id, admin.id, "acl").await;
        assert_eq!(templates::get_acl(&db.store, t.id).await.unwrap(), Acl::default());

        let use_read = set(&[Wild::Is(Action::Use), Wild::Is(Action::Read)]);
        let admin_set = set(&[Wild::Any]);
        let group = GroupId::new_v4();
        let everyone = GroupId::everyone(org.id);
        let mut users = vec![(carol.id, admin_set), (bob.id, use_read), (admin.id, ActionSet::EMPTY)];
        users.sort_by_key(|(u, _)| *u);
        let acl = Acl { users, groups: vec![(everyone, use_read), (group, set(&[Wild::Is(Action::Read)]))] };
        templates::set_acl(&db.store, t.id, &acl).await.unwrap();

        let got = templates::get_acl(&db.store, t.id).await.unwrap();
        let mut want_users = vec![(bob.id, use_read), (carol.id, admin_set)];
        want_users.sort_by_key(|(u, _)| *u);
        let mut want_groups = vec![(everyone, use_read), (group, set(&[Wild::Is(Action::Read)]))];
        want_groups.sort_by_key(|(g, _)| *g);
        assert_eq!(got, Acl { users: want_users, groups: want_groups });
        assert!(got.users.iter().any(|(u, s)| *u == carol.id && s.grants(Action::Delete)));
        // Every single bit survives, wildcard included.
        for a in Action::ALL {
            let one = set(&[Wild::Is(*a)]);
            templates::set_acl(&db.store, t.id, &Acl { users: vec![(bob.id, one)], groups: vec![] }).await.unwrap();
            assert_eq!(templates::get_acl(&db.store, t.id).await.unwrap().users, [(bob.id, one)]);
        }
        // Replacing with an empty ACL clears it.
        templates::set_acl(&db.store, t.id, &Acl::default()).await.unwrap();
        assert_eq!(templates::get_acl(&db.store, t.id).await.unwrap(), Acl::default());
        // A grant to a user that does not exist is a foreign-key conflict, and changes nothing.
        templates::set_acl(&db.store, t.id, &Acl { users: vec![(bob.id, use_read)], groups: vec![] }).await.unwrap();
        let err = templates::set_acl(&db.store, t.id, &Acl { users: vec![(UserId::new_v4(), use_read)], groups: vec![] }).await.unwrap_err();
        assert!(err.is_foreign_key_conflict(), "{err:?}");
        assert!(matches!(err, StoreError::ForeignKey { .. }), "{err:?}");
        assert_eq!(templates::get_acl(&db.store, t.id).await.unwrap().users, [(bob.id, use_read)]);
    }
}

store_test! {
    async fn template_lists_follow_the_acl_and_the_query(db) {
        use atrium_engine::listable::Templates;
        use atrium_engine::{BuiltinRole, RoleOptions, Scope, Subject};
        use atrium_store::lists::{self, Page, TemplateQuery};
        let org = fixtures::org(&db.store, "acme").await;
        let other = fixtures::org(&db.store, "other").await;
        let admin = fixtures::user(&db.store, "admin").await;
        let member = fixtures::user(&db.store, "member").await;
        let (open, _) = fixtures::template(&db.store, org.id, admin.id, "open").await;
        let (closed, _) = fixtures::template(&db.store, org.id, admin.id, "closed").await;
        let (elsewhere, _) = fixtures::template(&db.store, other.id, admin.id, "elsewhere").await;
        let everyone = |org: atrium_store::OrgId| Acl {
            users: vec![],
            groups: vec![(GroupId(org.uuid()), set(&[Wild::Is(Action::Read), Wild::Is(Action::Use)]))],
        };
        templates::set_acl(&db.store, open.id, &everyone(org.id)).await.unwrap();
        templates::set_acl(&db.store, elsewhere.id, &everyone(other.id)).await.unwrap();
        // A plain member of `org` reads what Everyone may use there, nothing in `other`.
        let org_member = BuiltinRole::OrganizationMember.expand(Some(org.id.uuid()), RoleOptions::default()).unwrap();
        let site_member = BuiltinRole::Member.expand(None, RoleOptions::default()).unwrap();
        let subject = Subject::new(member.id.uuid(), vec![site_member, org_member], vec![], Scope::ALL);
        let authz = subject.list_filter_for::<Templates>(Action::Read);
        let all = TemplateQuery::default();
        let listed = lists::templates(&db.store, None, &all, &authz, Page::default()).await.unwrap();
        assert_eq!(listed.rows.iter().map(|t| t.id).collect::<Vec<_>>(), [open.id]);
        assert_eq!(listed.count, 1);
        // An owner sees everything; the org, name and paging conditions narrow it.
        let owner = Subject::new(admin.id.uuid(), vec![BuiltinRole::Owner.expand(None, RoleOptions::default()).unwrap()], vec![], Scope::ALL);
        let authz = owner.list_filter_for::<Templates>(Action::Read);
        let in_org = lists::templates(&db.store, Some(org.id), &all, &authz, Page::default()).await.unwrap();
        let mut want = vec![(open.name.clone(), open.id), (closed.name.clone(), closed.id)];
        want.sort();
        assert_eq!(in_org.rows.iter().map(|t| (t.name.clone(), t.id)).collect::<Vec<_>>(), want);
        let exact = TemplateQuery { exact_name: Some(closed.name.to_uppercase()), ..TemplateQuery::default() };
        assert_eq!(lists::templates(&db.store, None, &exact, &authz, Page::default()).await.unwrap().rows, std::slice::from_ref(&closed));
        let fuzzy = TemplateQuery { search: Some("ELSEWH".into()), ..TemplateQuery::default() };
        assert_eq!(lists::templates(&db.store, None, &fuzzy, &authz, Page::default()).await.unwrap().rows, std::slice::from_ref(&elsewhere));
        let page = lists::templates(&db.store, None, &all, &authz, Page { limit: Some(1), offset: 1 }).await.unwrap();
        assert_eq!((page.rows.len(), page.count), (1, 3));
        templates::soft_delete(&db.store, closed.id, DbTime::now()).await.unwrap();
        assert_eq!(lists::templates(&db.store, Some(org.id), &all, &authz, Page::default()).await.unwrap().count, 1);
    }
}

store_test! {
    async fn templates_know_their_workspaces_and_files(db) {
        use atrium_store::{FileId, files, workspaces};
        let org = fixtures::org(&db.store, "acme").await;
        let admin = fixtures::user(&db.store, "admin").await;
        let (t, _) = fixtures::template(&db.store, org.id, admin.id, "t").await;
        assert_eq!(workspaces::count_live_by_template(&db.store, t.id).await.unwrap(), 0);
        let ws = fixtures::workspace(&db.store, admin.id, org.id, t.id, "ws").await;
        assert_eq!(workspaces::count_live_by_template(&db.store, t.id).await.unwrap(), 1);
        workspaces::soft_delete(&db.store, ws.id, DbTime::now()).await.unwrap();
        assert_eq!(workspaces::count_live_by_template(&db.store, t.id).await.unwrap(), 0);

        let file = files::upload(&db.store, &files::NewFile {
            id: FileId::new_v4(), hash: "abc", created_by: admin.id, created_at: DbTime::now(),
            mimetype: "application/x-tar", data: b"x",
        }).await.unwrap().file;
        assert!(templates::list_using_file(&db.store, file.id).await.unwrap().is_empty());
        let job = fixtures::job(&db.store, org.id, admin.id, JobKind::TemplateVersionImport).await;
        templates::insert_version(&db.store, &NewTemplateVersion {
            id: TemplateVersionId::new_v4(), template_id: Some(t.id), org_id: org.id, name: "v2",
            message: "", readme: "", job_id: job, file_id: Some(file.id), created_by: admin.id,
            created_at: DbTime::now(),
        }).await.unwrap();
        assert_eq!(templates::list_using_file(&db.store, file.id).await.unwrap(), std::slice::from_ref(&t));
        templates::soft_delete(&db.store, t.id, DbTime::now()).await.unwrap();
        assert!(templates::list_using_file(&db.store, file.id).await.unwrap().is_empty());
    }
}
