//! The seeded world of `bench-list`: users, orgs, memberships, groups, templates with ACLs
//! and 100,000 workspaces, generated deterministically, written with bulk INSERTs, and kept in
//! memory so every timed answer can be checked against the engine.

use std::collections::HashSet;

use atrium_engine::{ActionSet, BuiltinRole, Object, ResourceType, RoleOptions, Scope, Wild};

use super::*;

/// SplitMix64, seeded: the same world on every run and both backends.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub(super) fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    pub(super) fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

/// ACL action sets, as the engine fixtures draw them (about half grant `read`).
pub(super) fn random_set(rng: &mut Rng) -> ActionSet {
    let sets: &[&[Wild<Action>]] = &[
        &[Wild::Is(Action::Read)],
        &[Wild::Is(Action::Read), Wild::Is(Action::Update)],
        &[Wild::Is(Action::Create)],
        &[Wild::Is(Action::Read), Wild::Is(Action::Ssh), Wild::Is(Action::ApplicationConnect)],
        &[Wild::Is(Action::Start), Wild::Is(Action::Stop)],
        &[Wild::Is(Action::Ssh), Wild::Is(Action::ApplicationConnect)],
        &[Wild::Any],
    ];
    sets[rng.below(sets.len())].iter().copied().collect()
}

pub(super) struct Workspace {
    pub(super) id: Uuid,
    pub(super) owner: usize,
    pub(super) org: usize,
    pub(super) template: usize,
    pub(super) name: String,
    pub(super) deleted: bool,
    pub(super) dormant: bool,
}

/// The seeded data, kept in memory to check every page against the engine.
pub(super) struct World {
    pub(super) orgs: Vec<Uuid>,
    pub(super) users: Vec<Uuid>,
    pub(super) site_roles: Vec<Vec<&'static str>>,
    /// Per user: (org index, stored org role names).
    pub(super) memberships: Vec<Vec<(usize, Vec<&'static str>)>>,
    /// (id, org index).
    pub(super) groups: Vec<(Uuid, usize)>,
    pub(super) group_members: Vec<Vec<usize>>,
    pub(super) user_groups: Vec<Vec<Uuid>>,
    /// (id, org index, creator).
    pub(super) templates: Vec<(Uuid, usize, usize)>,
    pub(super) template_acl_users: Vec<(usize, usize, ActionSet)>,
    pub(super) template_acl_groups: Vec<(usize, Uuid, ActionSet)>,
    pub(super) workspaces: Vec<Workspace>,
    pub(super) ws_acl_users: Vec<Vec<(Uuid, ActionSet)>>,
    pub(super) ws_acl_groups: Vec<Vec<(Uuid, ActionSet)>>,
}

impl World {
    pub(super) fn generate() -> Result<World> {
        let mut rng = Rng(0x0B1E_5715);
        let orgs: Vec<Uuid> = (0..ORGS).map(|_| rng.uuid()).collect();
        let users: Vec<Uuid> = (0..USERS).map(|_| rng.uuid()).collect();

        let mut site_roles = vec![Vec::new(); USERS];
        let mut memberships: Vec<Vec<(usize, Vec<&'static str>)>> = vec![Vec::new(); USERS];
        for (u, m) in memberships.iter_mut().enumerate() {
            match u {
                MANY_ORGS => m.extend((0..ORGS).map(|o| (o, Vec::new()))),
                ORG_ADMIN => m.push((1, vec![BuiltinRole::OrganizationAdmin.name()])),
                _ => {
                    let home = u % ORGS;
                    m.push((home, Vec::new()));
                    // A quarter of the others also belong to a second org.
                    if u >= ROLE_USERS.len() && u % 4 == 1 {
                        m.push(((home + 3) % ORGS, Vec::new()));
                    }
                    // Noise: a few org admins and auditors, a few site-wide roles.
                    if u >= ROLE_USERS.len() && u % 50 == 7 {
                        m[0].1.push(BuiltinRole::OrganizationAdmin.name());
                    }
                    if u >= ROLE_USERS.len() && u % 61 == 13 {
                        m[0].1.push(BuiltinRole::OrganizationAuditor.name());
                    }
                }
            }
        }
        site_roles[OWNER].push(BuiltinRole::Owner.name());
        for (u, roles) in site_roles.iter_mut().enumerate().skip(ROLE_USERS.len()) {
            if u % 97 == 11 {
                roles.push(BuiltinRole::TemplateAdmin.name());
            }
            if u % 89 == 5 {
                roles.push(BuiltinRole::Auditor.name());
            }
        }
        let mut org_members: Vec<Vec<usize>> = vec![Vec::new(); ORGS];
        for (u, m) in memberships.iter().enumerate() {
            for (o, _) in m {
                org_members[*o].push(u);
            }
        }

        // Groups: random members of the org, never the timed users; then the group-ACL user
        // joins three groups of its org.
        let mut groups = Vec::new();
        let mut group_members = Vec::new();
        for (o, members) in org_members.iter().enumerate() {
            let pool: Vec<usize> =
                members.iter().copied().filter(|u| !ROLE_USERS.contains(u)).collect();
            for _ in 0..GROUPS_PER_ORG {
                groups.push((rng.uuid(), o));
                let mut set = HashSet::new();
                while set.len() < GROUP_SIZE.min(pool.len()) {
                    set.insert(pool[rng.below(pool.len())]);
                }
                let mut list: Vec<usize> = set.into_iter().collect();
                list.sort_unstable();
                group_members.push(list);
            }
        }
        let home = memberships[GROUP_USER][0].0;
        for g in (0..groups.len()).filter(|g| groups[*g].1 == home).take(3) {
            group_members[g].push(GROUP_USER);
        }
        let mut user_groups = vec![Vec::new(); USERS];
        for (g, members) in group_members.iter().enumerate() {
            for u in members {
                user_groups[*u].push(groups[g].0);
            }
        }
        let groups_of_org: Vec<Vec<Uuid>> = (0..ORGS)
            .map(|o| groups.iter().filter(|(_, go)| *go == o).map(|(id, _)| *id).collect())
            .collect();

        let mut templates = Vec::new();
        let mut template_acl_users = Vec::new();
        let mut template_acl_groups = Vec::new();
        for (o, members) in org_members.iter().enumerate() {
            for _ in 0..TEMPLATES_PER_ORG {
                let t = templates.len();
                templates.push((rng.uuid(), o, members[rng.below(members.len())]));
                let a = members[rng.below(members.len())];
                let b = members[rng.below(members.len())];
                template_acl_users.push((t, a, random_set(&mut rng)));
                if b != a {
                    template_acl_users.push((t, b, random_set(&mut rng)));
                }
                let g = groups_of_org[o][rng.below(GROUPS_PER_ORG)];
                template_acl_groups.push((t, g, random_set(&mut rng)));
                // Everyone in the org may use it.
                template_acl_groups.push((
                    t,
                    orgs[o],
                    [Wild::Is(Action::Read)].into_iter().collect(),
                ));
            }
        }

        let mut workspaces = Vec::with_capacity(USERS * WORKSPACES_PER_USER);
        let mut ws_acl_users = Vec::with_capacity(USERS * WORKSPACES_PER_USER);
        let mut ws_acl_groups = Vec::with_capacity(USERS * WORKSPACES_PER_USER);
        for (owner, m) in memberships.iter().enumerate() {
            for k in 0..WORKSPACES_PER_USER {
                let org = m[rng.below(m.len())].0;
                let template = org * TEMPLATES_PER_ORG + rng.below(TEMPLATES_PER_ORG);
                // Random names, so name order is unrelated to owner, org or insertion order.
                let name = format!("ws-{:06x}-{k}", rng.next_u64() & 0xFF_FFFF);
                workspaces.push(Workspace {
                    id: rng.uuid(),
                    owner,
                    org,
                    template,
                    name,
                    deleted: rng.one_in(50),
                    dormant: rng.one_in(100),
                });
                let mut acl_users = Vec::new();
                if rng.one_in(40) {
                    let u = rng.below(USERS);
                    if u != owner {
                        acl_users.push((users[u], random_set(&mut rng)));
                    }
                }
                let mut acl_groups = Vec::new();
                if rng.one_in(40) {
                    acl_groups.push((
                        groups_of_org[org][rng.below(GROUPS_PER_ORG)],
                        random_set(&mut rng),
                    ));
                }
                if rng.one_in(200) {
                    acl_groups.push((orgs[org], random_set(&mut rng)));
                }
                ws_acl_users.push(acl_users);
                ws_acl_groups.push(acl_groups);
            }
        }
        Ok(World {
            orgs,
            users,
            site_roles,
            memberships,
            groups,
            group_members,
            user_groups,
            templates,
            template_acl_users,
            template_acl_groups,
            workspaces,
            ws_acl_users,
            ws_acl_groups,
        })
    }

    /// The user's subject, as the server builds it (crates/server/src/subject.rs): the stored
    /// site roles plus `member`; per membership the stored org roles plus
    /// `organization-member`; the user's groups; the unrestricted scope.
    pub(super) fn subject(&self, u: usize) -> Result<Subject> {
        let options = RoleOptions::default();
        let mut roles = Vec::new();
        for name in self.site_roles[u].iter().copied().chain([BuiltinRole::Member.name()]) {
            let role = BuiltinRole::parse(name).ok_or("unknown site role")?;
            roles.push(role.expand(None, options)?);
        }
        for (org, names) in &self.memberships[u] {
            let names = names.iter().copied().chain([BuiltinRole::OrganizationMember.name()]);
            for name in names {
                let role = BuiltinRole::parse(name).ok_or("unknown org role")?;
                roles.push(role.expand(Some(self.orgs[*org]), options)?);
            }
        }
        Ok(Subject::new(self.users[u], roles, self.user_groups[u].clone(), Scope::ALL))
    }

    /// The first page (ids) and the count `filter` admits, by the engine over the world.
    pub(super) fn expected(&self, filter: &TypedFilter<Workspaces>) -> (Vec<Uuid>, i64) {
        let mut visible: Vec<(String, Uuid)> = self
            .workspaces
            .iter()
            .enumerate()
            .filter(|(i, w)| {
                !w.deleted && {
                    let object = Object::of(ResourceType::Workspace)
                        .with_id(w.id)
                        .with_owner(self.users[w.owner])
                        .in_org(self.orgs[w.org])
                        .with_user_acl(&self.ws_acl_users[*i])
                        .with_group_acl(&self.ws_acl_groups[*i]);
                    filter.matches(&object)
                }
            })
            .map(|(_, w)| (w.name.to_lowercase(), w.id))
            .collect();
        visible.sort();
        let count = visible.len() as i64;
        (visible.into_iter().take(PAGE as usize).map(|(_, id)| id).collect(), count)
    }

    /// The whole world as multi-row INSERTs, in foreign-key order.
    pub(super) fn inserts(&self) -> Vec<String> {
        const T0: i64 = 1_700_000_000_000_000;
        let q = |s: &str| format!("'{s}'");
        let mut out = Vec::new();
        let users = &self.users;
        let orgs = &self.orgs;
        let mut push = |table: &str, cols: &str, rows: Vec<String>| {
            for chunk in rows.chunks(CHUNK) {
                out.push(format!("INSERT INTO {table} ({cols}) VALUES {}", chunk.join(",")));
            }
        };
        push(
            "organizations",
            "id, name, display_name, is_default, created_at, updated_at",
            orgs.iter()
                .enumerate()
                .map(|(i, id)| format!("('{id}', 'org-{i}', 'Org {i}', {}, {T0}, {T0})", i == 0))
                .collect(),
        );
        push(
            "users",
            "id, username, email, name, login_type, status, created_at, updated_at",
            users
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    let t = T0 + i as i64;
                    format!(
                        "('{id}', 'user-{i:04}', 'user-{i:04}@bench.test', 'User {i}', \
                         'password', 'active', {t}, {t})"
                    )
                })
                .collect(),
        );
        push(
            "user_site_roles",
            "user_id, role_name",
            self.site_roles
                .iter()
                .enumerate()
                .flat_map(|(u, roles)| {
                    roles.iter().map(move |r| format!("('{}', '{r}')", users[u]))
                })
                .collect(),
        );
        push(
            "organization_members",
            "org_id, user_id, created_at, updated_at",
            self.memberships
                .iter()
                .enumerate()
                .flat_map(|(u, m)| {
                    m.iter()
                        .map(move |(o, _)| format!("('{}', '{}', {T0}, {T0})", orgs[*o], users[u]))
                })
                .collect(),
        );
        push(
            "organization_member_roles",
            "org_id, user_id, role_name",
            self.memberships
                .iter()
                .enumerate()
                .flat_map(|(u, m)| {
                    m.iter().flat_map(move |(o, roles)| {
                        roles
                            .iter()
                            .map(move |r| format!("('{}', '{}', '{r}')", orgs[*o], users[u]))
                    })
                })
                .collect(),
        );
        push(
            "groups",
            "id, org_id, name, created_at, updated_at",
            self.groups
                .iter()
                .enumerate()
                .map(|(g, (id, o))| format!("('{id}', '{}', 'group-{g}', {T0}, {T0})", orgs[*o]))
                .collect(),
        );
        push(
            "group_members",
            "group_id, user_id",
            self.group_members
                .iter()
                .enumerate()
                .flat_map(|(g, members)| {
                    let id = self.groups[g].0;
                    members.iter().map(move |u| format!("('{id}', '{}')", users[*u]))
                })
                .collect(),
        );
        push(
            "templates",
            "id, org_id, name, created_by, created_at, updated_at",
            self.templates
                .iter()
                .enumerate()
                .map(|(i, (id, o, by))| {
                    format!(
                        "('{id}', '{}', 'template-{i}', '{}', {T0}, {T0})",
                        orgs[*o], users[*by]
                    )
                })
                .collect(),
        );
        push(
            "template_acl_users",
            "template_id, user_id, actions",
            self.template_acl_users
                .iter()
                .map(|(t, u, set)| {
                    format!("('{}', '{}', {})", self.templates[*t].0, users[*u], set.bits())
                })
                .collect(),
        );
        push(
            "template_acl_groups",
            "template_id, group_id, actions",
            self.template_acl_groups
                .iter()
                .map(|(t, g, set)| format!("('{}', '{g}', {})", self.templates[*t].0, set.bits()))
                .collect(),
        );
        push(
            "workspaces",
            "id, owner_id, org_id, template_id, name, deleted, dormant_at, created_at, updated_at, \
             last_used_at",
            self.workspaces
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let t = T0 + i as i64;
                    let dormant = if w.dormant { t.to_string() } else { "NULL".to_owned() };
                    format!(
                        "('{}', '{}', '{}', '{}', {}, {}, {dormant}, {t}, {t}, {t})",
                        w.id,
                        users[w.owner],
                        orgs[w.org],
                        self.templates[w.template].0,
                        q(&w.name),
                        w.deleted
                    )
                })
                .collect(),
        );
        push(
            "workspace_acl_users",
            "workspace_id, user_id, actions",
            self.ws_acl_users
                .iter()
                .enumerate()
                .flat_map(|(i, acl)| {
                    let id = self.workspaces[i].id;
                    acl.iter().map(move |(u, set)| format!("('{id}', '{u}', {})", set.bits()))
                })
                .collect(),
        );
        push(
            "workspace_acl_groups",
            "workspace_id, group_id, actions",
            self.ws_acl_groups
                .iter()
                .enumerate()
                .flat_map(|(i, acl)| {
                    let id = self.workspaces[i].id;
                    acl.iter().map(move |(g, set)| format!("('{id}', '{g}', {})", set.bits()))
                })
                .collect(),
        );
        out
    }
}

/// Runs the INSERTs in one transaction.
pub(super) async fn seed(store: &Store, statements: &[String]) -> Result<()> {
    match store.pool() {
        Pool::Sqlite(p) => {
            let mut tx = p.begin().await?;
            for s in statements {
                sqlx::raw_sql(AssertSqlSafe(s.as_str())).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Pool::Pg(p) => {
            let mut tx = p.begin().await?;
            for s in statements {
                sqlx::raw_sql(AssertSqlSafe(s.as_str())).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
    }
    Ok(())
}
