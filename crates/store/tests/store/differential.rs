//! Differential test: for random data and random subjects (several roles, orgs, groups,
//! ACLs, scopes), every authorized SQL list equals filtering all rows with `authorize` in
//! memory — on SQLite and on PostgreSQL.

use atrium_engine::listable::{
    AuditLogs, Groups, OrganizationMembers, Organizations, Templates, Users, Workspaces,
};
use atrium_engine::{
    Action, ActionSet, BuiltinRole, Object, Permission, ResourceType, Role, RoleOptions, Scope,
    ScopeName, Subject, Wild,
};
use atrium_store::lists::{Listable, ListedTable, Page, authorized_keys};
use atrium_store::workspace_list::{self, WorkspaceFilter};
use atrium_store::{Pool, Store};
use uuid::Uuid;

use crate::store_test;

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    fn some_of<T: Copy>(&mut self, items: &[T], percent: u64) -> Vec<T> {
        items.iter().copied().filter(|_| self.chance(percent)).collect()
    }
}

enum Bind {
    S(String),
    OptS(Option<String>),
    I(i64),
    N(i32),
    B(bool),
}

async fn exec(pool: &Pool, sql: &'static str, binds: Vec<Bind>) {
    macro_rules! run {
        ($p:expr) => {{
            let mut q = sqlx::query(sql);
            for b in binds {
                q = match b {
                    Bind::S(s) => q.bind(s),
                    Bind::OptS(s) => q.bind(s),
                    Bind::I(i) => q.bind(i),
                    Bind::N(n) => q.bind(n),
                    Bind::B(b) => q.bind(b),
                };
            }
            q.execute($p).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }};
    }
    match pool {
        Pool::Sqlite(p) => run!(p),
        Pool::Pg(p) => run!(p),
    }
}

type Acl = Vec<(Uuid, ActionSet)>;

struct Row {
    key: String,
    object: (ResourceType, Option<Uuid>, Option<Uuid>, Option<Uuid>, Acl, Acl),
}

impl Row {
    fn allowed(&self, subject: &Subject, action: Action) -> bool {
        let (t, id, owner, org, users, groups) = &self.object;
        let mut o = Object::of(*t).with_user_acl(users).with_group_acl(groups);
        o.id = *id;
        o.owner = *owner;
        o.org = *org;
        subject.authorize(action, &o).allowed
    }
}

struct Data {
    users: Vec<Uuid>,
    orgs: Vec<Uuid>,
    groups: Vec<Uuid>,
    rows: Vec<(Listable, Row)>,
    ids: Vec<Uuid>,
}

fn action_set(rng: &mut Rng) -> ActionSet {
    let choices = [
        Wild::Any,
        Wild::Is(Action::Read),
        Wild::Is(Action::Use),
        Wild::Is(Action::Update),
        Wild::Is(Action::Start),
    ];
    let mut set: ActionSet = [rng.pick(&choices)].into_iter().collect();
    if rng.chance(40) {
        set.insert(rng.pick(&choices));
    }
    set
}

async fn seed(pool: &Pool, rng: &mut Rng) -> Data {
    let id = |_: usize| Uuid::new_v4();
    let users: Vec<Uuid> = (0..8).map(id).collect();
    let orgs: Vec<Uuid> = (0..3).map(id).collect();
    let mut rows = Vec::new();
    let mut ids = Vec::new();
    for (i, u) in users.iter().enumerate() {
        let deleted = i == 7;
        exec(pool, "INSERT INTO users (id, username, email, login_type, status, created_at, updated_at, deleted) VALUES ($1, $2, $3, 'password', 'active', 1, 1, $4)",
            vec![Bind::S(u.to_string()), Bind::S(format!("user{i}")), Bind::S(format!("user{i}@example.com")), Bind::B(deleted)]).await;
        if !deleted {
            rows.push((
                Listable::Users,
                Row {
                    key: u.to_string(),
                    object: (ResourceType::User, Some(*u), Some(*u), None, vec![], vec![]),
                },
            ));
        }
    }
    for (i, o) in orgs.iter().enumerate() {
        exec(pool, "INSERT INTO organizations (id, name, display_name, is_default, created_at, updated_at) VALUES ($1, $2, $2, $3, 1, 1)",
            vec![Bind::S(o.to_string()), Bind::S(format!("org{i}")), Bind::B(i == 0)]).await;
        rows.push((
            Listable::Organizations,
            Row {
                key: o.to_string(),
                object: (ResourceType::Organization, Some(*o), None, Some(*o), vec![], vec![]),
            },
        ));
        for u in &users[..7] {
            if rng.chance(60) {
                exec(pool, "INSERT INTO organization_members (org_id, user_id, created_at, updated_at) VALUES ($1, $2, 1, 1)",
                    vec![Bind::S(o.to_string()), Bind::S(u.to_string())]).await;
                rows.push((
                    Listable::OrganizationMembers,
                    Row {
                        key: format!("{o}:{u}"),
                        object: (
                            ResourceType::OrganizationMember,
                            Some(*u),
                            Some(*u),
                            Some(*o),
                            vec![],
                            vec![],
                        ),
                    },
                ));
            }
        }
    }
    let mut groups = Vec::new();
    for i in 0..4 {
        let g = Uuid::new_v4();
        let org = orgs[i % 3];
        exec(pool, "INSERT INTO groups (id, org_id, name, created_at, updated_at) VALUES ($1, $2, $3, 1, 1)",
            vec![Bind::S(g.to_string()), Bind::S(org.to_string()), Bind::S(format!("group{i}"))]).await;
        let read: ActionSet = [Wild::Is(Action::Read)].into_iter().collect();
        rows.push((
            Listable::Groups,
            Row {
                key: g.to_string(),
                object: (ResourceType::Group, Some(g), None, Some(org), vec![], vec![(g, read)]),
            },
        ));
        groups.push(g);
    }
    let grantees: Vec<Uuid> = groups.iter().chain(&orgs).copied().collect();
    let mut templates = Vec::new();
    for i in 0..6 {
        let t = Uuid::new_v4();
        let org = orgs[i % 3];
        let deleted = i == 5;
        exec(pool, "INSERT INTO templates (id, org_id, name, created_by, created_at, updated_at, deleted) VALUES ($1, $2, $3, $4, 1, 1, $5)",
            vec![Bind::S(t.to_string()), Bind::S(org.to_string()), Bind::S(format!("tpl{i}")), Bind::S(users[0].to_string()), Bind::B(deleted)]).await;
        let (user_acl, group_acl) = acls(pool, rng, "template", t, &users[..7], &grantees).await;
        if !deleted {
            rows.push((
                Listable::Templates,
                Row {
                    key: t.to_string(),
                    object: (ResourceType::Template, Some(t), None, Some(org), user_acl, group_acl),
                },
            ));
        }
        templates.push((t, org));
        ids.push(t);
    }
    for i in 0..24 {
        let w = Uuid::new_v4();
        let (template, org) = rng.pick(&templates);
        let owner = users[rng.below(7)];
        let deleted = i % 11 == 10;
        exec(pool, "INSERT INTO workspaces (id, owner_id, org_id, template_id, name, deleted, created_at, updated_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, 1, 1, 1)",
            vec![Bind::S(w.to_string()), Bind::S(owner.to_string()), Bind::S(org.to_string()), Bind::S(template.to_string()), Bind::S(format!("ws{i}")), Bind::B(deleted)]).await;
        let (user_acl, group_acl) = acls(pool, rng, "workspace", w, &users[..7], &grantees).await;
        if !deleted {
            rows.push((
                Listable::Workspaces,
                Row {
                    key: w.to_string(),
                    object: (
                        ResourceType::Workspace,
                        Some(w),
                        Some(owner),
                        Some(org),
                        user_acl,
                        group_acl,
                    ),
                },
            ));
        }
        ids.push(w);
    }
    for i in 0..10 {
        let a = Uuid::new_v4();
        let org = if i % 3 == 0 { None } else { Some(orgs[i % 3]) };
        exec(pool, "INSERT INTO audit_logs (id, time, user_id, organization_id, resource_type, resource_id, action, status_code) VALUES ($1, $2, $3, $4, 'user', $5, 'create', 201)",
            vec![Bind::S(a.to_string()), Bind::I(i as i64), Bind::S(users[0].to_string()), Bind::OptS(org.map(|o| o.to_string())), Bind::S(users[1].to_string())]).await;
        rows.push((
            Listable::AuditLogs,
            Row {
                key: a.to_string(),
                object: (ResourceType::AuditLog, Some(a), None, org, vec![], vec![]),
            },
        ));
        ids.push(a);
    }
    ids.extend(users.iter().copied());
    Data { users, orgs, groups, rows, ids }
}

async fn acls(
    pool: &Pool,
    rng: &mut Rng,
    kind: &str,
    id: Uuid,
    users: &[Uuid],
    grantees: &[Uuid],
) -> (Acl, Acl) {
    let (user_sql, group_sql): (&'static str, &'static str) = if kind == "template" {
        (
            "INSERT INTO template_acl_users (template_id, user_id, actions) VALUES ($1, $2, $3)",
            "INSERT INTO template_acl_groups (template_id, group_id, actions) VALUES ($1, $2, $3)",
        )
    } else {
        (
            "INSERT INTO workspace_acl_users (workspace_id, user_id, actions) VALUES ($1, $2, $3)",
            "INSERT INTO workspace_acl_groups (workspace_id, group_id, actions) VALUES ($1, $2, $3)",
        )
    };
    let mut user_acl = Vec::new();
    for u in rng.some_of(users, 15) {
        let set = action_set(rng);
        exec(
            pool,
            user_sql,
            vec![Bind::S(id.to_string()), Bind::S(u.to_string()), Bind::N(set.bits() as i32)],
        )
        .await;
        user_acl.push((u, set));
    }
    let mut group_acl = Vec::new();
    for g in rng.some_of(grantees, 25) {
        let set = action_set(rng);
        exec(
            pool,
            group_sql,
            vec![Bind::S(id.to_string()), Bind::S(g.to_string()), Bind::N(set.bits() as i32)],
        )
        .await;
        group_acl.push((g, set));
    }
    (user_acl, group_acl)
}

const TYPES: [Wild<ResourceType>; 8] = [
    Wild::Any,
    Wild::Is(ResourceType::Workspace),
    Wild::Is(ResourceType::Template),
    Wild::Is(ResourceType::User),
    Wild::Is(ResourceType::Group),
    Wild::Is(ResourceType::Organization),
    Wild::Is(ResourceType::OrganizationMember),
    Wild::Is(ResourceType::AuditLog),
];
const ACTIONS: [Action; 4] = [Action::Read, Action::Update, Action::Use, Action::Delete];

fn random_subject(rng: &mut Rng, data: &Data) -> Subject {
    let mut roles = Vec::new();
    for _ in 0..rng.below(5) {
        if rng.chance(60) {
            let b = rng.pick(&BuiltinRole::ALL);
            let org = b.is_org_role().then(|| rng.pick(&data.orgs));
            roles.push(b.expand(org, RoleOptions::default()).unwrap());
        } else {
            let mut perms = || {
                (0..rng.below(3))
                    .map(|_| Permission {
                        negate: rng.chance(25),
                        resource_type: rng.pick(&TYPES),
                        action: if rng.chance(20) {
                            Wild::Any
                        } else {
                            Wild::Is(rng.pick(&ACTIONS))
                        },
                    })
                    .collect::<Vec<_>>()
            };
            let (site, org_perms, user) = (perms(), perms(), perms());
            let org = rng.chance(70).then(|| rng.pick(&data.orgs));
            roles.push(Role {
                name: "inline".into(),
                display_name: String::new(),
                org,
                site,
                org_perms: if org.is_some() { org_perms } else { vec![] },
                user,
                builtin: None,
            });
        }
    }
    let mut groups = rng.some_of(&data.groups, 40);
    if rng.chance(10) {
        groups.push(rng.pick(&data.orgs));
    }
    let scope = match rng.below(8) {
        0 => Scope::named(ScopeName::ApplicationConnect),
        1 => Scope::named(ScopeName::NoUserData),
        2 => Scope { name: ScopeName::All, allow_list: Some(rng.some_of(&data.ids, 30)) },
        _ => Scope::ALL,
    };
    Subject::new(rng.pick(&data.users[..7]), roles, groups, scope)
}

store_test! {
    async fn authorized_sql_lists_equal_in_memory_authorize(db) {
        let mut rng = Rng(0x00c0_ffee_1234_5678 ^ u64::from(db.sqlite_dir().is_some()));
        let data = seed(db.store.pool(), &mut rng).await;
        let mut checked = 0usize;
        let mut nonempty = 0usize;
        for round in 0..80 {
            let subject = random_subject(&mut rng, &data);
            for table in Listable::ALL {
                let action = if round % 3 == 0 { rng.pick(&ACTIONS) } else { Action::Read };
                let filter = subject.list_filter(action, table.resource_type());
                let mut expected: Vec<String> = data
                    .rows
                    .iter()
                    .filter(|(t, row)| *t == table && row.allowed(&subject, action))
                    .map(|(_, row)| row.key.clone())
                    .collect();
                expected.sort();
                let store = &db.store;
                let mut got = match table {
                    Listable::Workspaces => keys::<Workspaces>(store, &subject, action).await,
                    Listable::Templates => keys::<Templates>(store, &subject, action).await,
                    Listable::Users => keys::<Users>(store, &subject, action).await,
                    Listable::Groups => keys::<Groups>(store, &subject, action).await,
                    Listable::Organizations => keys::<Organizations>(store, &subject, action).await,
                    Listable::OrganizationMembers => {
                        keys::<OrganizationMembers>(store, &subject, action).await
                    }
                    Listable::AuditLogs => keys::<AuditLogs>(store, &subject, action).await,
                };
                got.sort();
                assert_eq!(got, expected, "round {round} {table:?} {action:?}\nfilter {filter:?}\nroles {:?}", subject.roles().iter().map(|r| (&r.name, r.org)).collect::<Vec<_>>());
                if table == Listable::Workspaces {
                    let filter = subject.list_filter_for::<Workspaces>(action);
                    check_workspace_pages(&db.store, &filter, &expected, &data.users, round).await;
                }
                checked += 1;
                nonempty += usize::from(!expected.is_empty());
            }
        }
        // The generator must exercise both outcomes, or the test proves nothing.
        assert!(nonempty > checked / 5 && nonempty < checked, "{nonempty} of {checked} lists non-empty");
    }
}

/// The keys [`authorized_keys`] lists for `R` under the subject's typed filter.
async fn keys<R: ListedTable>(store: &Store, subject: &Subject, action: Action) -> Vec<String> {
    let filter = subject.list_filter_for::<R>(action);
    assert_eq!(R::TABLE.resource_type(), filter.resource_type());
    authorized_keys(store, &filter).await.unwrap()
}

/// The workspace list (a UNION of per-disjunct branches, workspace_list.rs) against the same
/// expected rows: every row once, by name, the count, pages at offsets, and the caller's
/// conditions applied inside each branch.
async fn check_workspace_pages(
    store: &Store,
    filter: &atrium_engine::TypedFilter<Workspaces>,
    expected: &[String],
    users: &[Uuid],
    round: usize,
) {
    let all_page = Page { limit: None, offset: 0 };
    let none = WorkspaceFilter::default();
    let all = workspace_list::workspaces(store, &none, filter, all_page).await.unwrap();
    let mut ids: Vec<String> = all.rows.iter().map(|w| w.id.to_string()).collect();
    let order: Vec<(String, String)> =
        all.rows.iter().map(|w| (w.name.to_lowercase(), w.id.to_string())).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "round {round}: workspaces not by name\nfilter {filter:?}");
    ids.sort();
    assert_eq!(ids, expected, "round {round}: workspace list\nfilter {filter:?}");
    assert_eq!(all.count, expected.len() as i64, "round {round}: count\nfilter {filter:?}");
    for (limit, offset) in [(1, 0), (3, 2), (5, 4), (4, 30)] {
        let page = Page { limit: Some(limit), offset };
        let got = workspace_list::workspace_page(store, &none, filter, page).await.unwrap();
        let want: Vec<_> = all.rows.iter().skip(offset as usize).take(limit as usize).collect();
        assert_eq!(
            got.iter().collect::<Vec<_>>(),
            want,
            "round {round}: page {limit}@{offset}\nfilter {filter:?}"
        );
    }
    let owner = users[round % 7];
    let mine = WorkspaceFilter { owner_id: Some(owner.into()), ..WorkspaceFilter::default() };
    let got = workspace_list::workspaces(store, &mine, filter, Page { limit: Some(3), offset: 1 })
        .await
        .unwrap();
    let want: Vec<_> = all.rows.iter().filter(|w| w.owner_id.uuid() == owner).collect();
    assert_eq!(got.count, want.len() as i64, "round {round}: owner count\nfilter {filter:?}");
    assert_eq!(
        got.rows.iter().collect::<Vec<_>>(),
        want.into_iter().skip(1).take(3).collect::<Vec<_>>(),
        "round {round}: owner page\nfilter {filter:?}"
    );
    let named = WorkspaceFilter { name: Some("S1".into()), ..WorkspaceFilter::default() };
    let got = workspace_list::workspaces(store, &named, filter, all_page).await.unwrap();
    let want: Vec<_> = all.rows.iter().filter(|w| w.name.contains("s1")).collect();
    assert_eq!(
        got.rows.iter().collect::<Vec<_>>(),
        want,
        "round {round}: name filter\nfilter {filter:?}"
    );
    assert_eq!(got.count, want.len() as i64, "round {round}: name count\nfilter {filter:?}");
}
