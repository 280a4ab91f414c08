//! Benchmark fixtures modelled on Coder's RBAC benchmarks (`BenchmarkRBACAuthorize`,
//! `BenchmarkRBACAuthorizeGroups`): the same kinds of subjects (no roles, org member, org admin,
//! owner, many roles, a scoped token, group ACLs, members of many orgs), deciding on workspaces
//! spread over a few orgs and owners, with user and group ACLs as noise. Every request has its
//! own object (random ids, owners, orgs and ACLs from a seeded generator), so nothing repeats.

use std::error::Error;

use atrium_engine::{
    Action, ActionSet, BuiltinRole, Object, Permission, ResourceType, Role, RoleOptions, Scope,
    ScopeName, Subject, Wild,
};
use uuid::Uuid;

pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Requests (and so distinct objects) per case.
pub const REQUESTS_PER_CASE: usize = 4096;

/// SplitMix64: small, seeded, good enough to scatter ids.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// True once in `n` draws on average.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    /// A random (version 4) UUID.
    pub fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// An object's data, owned; [`ObjectSpec::object`] borrows it as the engine's [`Object`].
#[derive(Clone, Debug)]
pub struct ObjectSpec {
    pub resource_type: ResourceType,
    pub id: Option<Uuid>,
    pub owner: Option<Uuid>,
    pub org: Option<Uuid>,
    pub any_org: bool,
    pub acl_users: Vec<(Uuid, ActionSet)>,
    pub acl_groups: Vec<(Uuid, ActionSet)>,
}

impl ObjectSpec {
    pub fn object(&self) -> Object<'_> {
        let mut o = Object::of(self.resource_type)
            .with_user_acl(&self.acl_users)
            .with_group_acl(&self.acl_groups);
        if let Some(id) = self.id {
            o = o.with_id(id);
        }
        if let Some(owner) = self.owner {
            o = o.with_owner(owner);
        }
        if let Some(org) = self.org {
            o = o.in_org(org);
        }
        if self.any_org {
            // Set last and by hand, so the cross-check can also send Coder's refused shape
            // (an org together with `any_org`).
            o.any_org = true;
        }
        o
    }
}

/// One check: an action on an object.
#[derive(Clone, Debug)]
pub struct Request {
    pub action: Action,
    pub object: ObjectSpec,
}

/// A named subject with its requests.
pub struct Case {
    pub name: String,
    pub subject: Subject,
    pub requests: Vec<Request>,
}

fn builtin(role: BuiltinRole, org: Option<Uuid>) -> Result<Role> {
    Ok(role.expand(org, RoleOptions::default())?)
}

/// `member` plus `organization-member` for every org: what every user of those orgs holds.
fn member_of(orgs: &[Uuid]) -> Result<Vec<Role>> {
    let mut roles = vec![builtin(BuiltinRole::Member, None)?];
    for org in orgs {
        roles.push(builtin(BuiltinRole::OrganizationMember, Some(*org))?);
    }
    Ok(roles)
}

/// The world the fixtures live in: Coder's three orgs and four users (the subject first).
struct World {
    me: Uuid,
    orgs: Vec<Uuid>,
    users: Vec<Uuid>,
    /// The subject's groups (Coder's "noise groups"; here a few ACLs name one of them).
    noise_groups: Vec<Uuid>,
}

const WS: ResourceType = ResourceType::Workspace;

/// Workspace actions, reads weighted as they dominate real traffic.
const WS_ACTIONS: &[Action] = &[
    Action::Read,
    Action::Read,
    Action::Read,
    Action::Update,
    Action::Start,
    Action::Stop,
    Action::Ssh,
    Action::ApplicationConnect,
    Action::Delete,
    Action::Create,
];

/// ACL action sets drawn for noise and for the entries that may match.
fn random_set(rng: &mut Rng) -> ActionSet {
    let sets: &[&[Wild<Action>]] = &[
        &[Wild::Is(Action::Read)],
        &[Wild::Is(Action::Read), Wild::Is(Action::Update)],
        &[Wild::Is(Action::Create)],
        &[Wild::Is(Action::Read), Wild::Is(Action::Ssh), Wild::Is(Action::ApplicationConnect)],
        &[Wild::Is(Action::Start), Wild::Is(Action::Stop)],
        &[Wild::Is(Action::Read), Wild::Is(Action::Update), Wild::Is(Action::Delete)],
        &[Wild::Any],
    ];
    sets[rng.below(sets.len())].iter().copied().collect()
}

/// How a case's objects are drawn.
struct Shape<'a> {
    /// Orgs the objects live in, drawn uniformly.
    orgs: &'a [Uuid],
    /// Owners, drawn uniformly.
    owners: &'a [Uuid],
    /// The subject's groups: a few ACL entries name one of them.
    my_groups: &'a [Uuid],
    actions: &'a [Action],
}

/// Coder's object shape: a workspace with an id, an org, an owner, and user and group ACLs of
/// two noise entries each; here one object in eight also names the subject in its user ACL,
/// one in eight a group of the subject, and one in sixteen its org's Everyone group.
fn workspace_request(rng: &mut Rng, me: Uuid, shape: &Shape<'_>, org: Uuid) -> Request {
    let mut acl_users = vec![(rng.uuid(), random_set(rng)), (rng.uuid(), random_set(rng))];
    let mut acl_groups = vec![(rng.uuid(), random_set(rng)), (rng.uuid(), random_set(rng))];
    if rng.one_in(8) {
        acl_users.push((me, random_set(rng)));
    }
    if !shape.my_groups.is_empty() && rng.one_in(8) {
        acl_groups.push((rng.pick(shape.my_groups), random_set(rng)));
    }
    if rng.one_in(16) {
        acl_groups.push((org, random_set(rng)));
    }
    rng.shuffle(&mut acl_users);
    rng.shuffle(&mut acl_groups);
    Request {
        action: rng.pick(shape.actions),
        object: ObjectSpec {
            resource_type: WS,
            id: Some(rng.uuid()),
            owner: Some(rng.pick(shape.owners)),
            org: Some(org),
            any_org: false,
            acl_users,
            acl_groups,
        },
    }
}

fn workspace_requests(rng: &mut Rng, me: Uuid, shape: &Shape<'_>) -> Vec<Request> {
    (0..REQUESTS_PER_CASE)
        .map(|_| {
            let org = rng.pick(shape.orgs);
            workspace_request(rng, me, shape, org)
        })
        .collect()
}

fn case(name: &str, subject: Subject, requests: Vec<Request>) -> Case {
    Case { name: name.to_owned(), subject, requests }
}

/// The timed cases, in report order.
pub fn cases() -> Result<Vec<Case>> {
    let mut rng = Rng::new(0x00A7_21D1);
    let me = rng.uuid();
    let others: Vec<Uuid> = (0..3).map(|_| rng.uuid()).collect();
    let world = World {
        me,
        orgs: (0..3).map(|_| rng.uuid()).collect(),
        users: [&[me][..], &others].concat(),
        noise_groups: (0..3).map(|_| rng.uuid()).collect(),
    };
    let o = &world.orgs;
    let noise = &world.noise_groups;
    let all = Shape { orgs: o, owners: &world.users, my_groups: noise, actions: WS_ACTIONS };
    let subject = |roles: Vec<Role>, scope: Scope| Subject::new(me, roles, noise.clone(), scope);
    let mut cases = Vec::new();

    cases.push(case(
        "no_roles",
        subject(Vec::new(), Scope::ALL),
        workspace_requests(&mut rng, me, &all),
    ));

    let own = Shape { orgs: &o[..1], owners: &[me], ..all };
    cases.push(case(
        "member_own_workspace",
        subject(member_of(&o[..1])?, Scope::ALL),
        workspace_requests(&mut rng, me, &own),
    ));
    let other = Shape { orgs: &o[..1], owners: &others, ..all };
    cases.push(case(
        "member_other_workspace",
        subject(member_of(&o[..1])?, Scope::ALL),
        workspace_requests(&mut rng, me, &other),
    ));

    cases.push(case(
        "member_2_orgs",
        subject(member_of(&o[..2])?, Scope::ALL),
        workspace_requests(&mut rng, me, &all),
    ));

    let mut org_admin = member_of(&o[..1])?;
    org_admin.push(builtin(BuiltinRole::OrganizationAdmin, Some(o[0]))?);
    cases.push(case(
        "org_admin",
        subject(org_admin, Scope::ALL),
        workspace_requests(&mut rng, me, &all),
    ));

    let admin = || -> Result<Vec<Role>> {
        let mut roles = member_of(&o[..1])?;
        roles.push(builtin(BuiltinRole::Auditor, None)?);
        roles.push(builtin(BuiltinRole::Owner, None)?);
        Ok(roles)
    };
    cases.push(case(
        "owner",
        subject(admin()?, Scope::ALL),
        workspace_requests(&mut rng, me, &all),
    ));

    // Coder's "admin of many orgs", plus a creation ban in one org and an org auditor role so
    // negative permissions take part.
    let mut many = member_of(o)?;
    for org in o {
        many.push(builtin(BuiltinRole::OrganizationAdmin, Some(*org))?);
    }
    many.push(builtin(BuiltinRole::OrganizationWorkspaceCreationBan, Some(o[2]))?);
    many.push(builtin(BuiltinRole::OrganizationAuditor, Some(o[1]))?);
    cases.push(case(
        "many_roles",
        subject(many, Scope::ALL),
        workspace_requests(&mut rng, me, &all),
    ));

    cases.push(group_acl_case(&mut rng, &world, &others)?);

    cases.push(case(
        "scoped_token",
        subject(admin()?, Scope::named(ScopeName::ApplicationConnect)),
        workspace_requests(&mut rng, me, &all),
    ));

    for n in [1usize, 5, 10, 50, 100] {
        let (subject, requests) = many_orgs(&mut rng, &world, n)?;
        cases.push(case(&format!("member_{n}_orgs"), subject, requests));
    }
    Ok(cases)
}

/// Coder's group-ACL benchmark: the subject's noise groups and one more; every object's group
/// ACL lists six noise groups, each of the subject's groups with create/read/update/delete, and
/// the extra group with the actions the roles do not grant (`ssh`, `application_connect`), in
/// random order. Owners are other users, so the ACL decides.
fn group_acl_case(rng: &mut Rng, world: &World, others: &[Uuid]) -> Result<Case> {
    let allow_group = rng.uuid();
    let mut groups = world.noise_groups.clone();
    groups.push(allow_group);
    let subject = Subject::new(world.me, member_of(&world.orgs[..2])?, groups, Scope::ALL);
    let crud: ActionSet = [Action::Create, Action::Read, Action::Update, Action::Delete]
        .into_iter()
        .map(Wild::Is)
        .collect();
    let noise_sets: [&[Action]; 6] = [
        &[Action::Create, Action::Read, Action::Update, Action::Delete],
        &[Action::Create, Action::Read, Action::Update],
        &[Action::Create, Action::Read],
        &[Action::Create],
        &[Action::Read, Action::Update, Action::Delete],
        &[Action::Read, Action::Update],
    ];
    let granted: ActionSet =
        [Action::Ssh, Action::ApplicationConnect].into_iter().map(Wild::Is).collect();
    let actions = [
        Action::Ssh,
        Action::ApplicationConnect,
        Action::Read,
        Action::Update,
        Action::Start,
        Action::Stop,
    ];
    let requests = (0..REQUESTS_PER_CASE)
        .map(|_| {
            let org = rng.pick(&world.orgs);
            let mut acl_groups: Vec<(Uuid, ActionSet)> = noise_sets
                .iter()
                .map(|set| (rng.uuid(), set.iter().copied().map(Wild::Is).collect()))
                .collect();
            acl_groups.extend(world.noise_groups.iter().map(|g| (*g, crud)));
            acl_groups.push((allow_group, granted));
            rng.shuffle(&mut acl_groups);
            Request {
                action: rng.pick(&actions),
                object: ObjectSpec {
                    resource_type: WS,
                    id: Some(rng.uuid()),
                    owner: Some(rng.pick(others)),
                    org: Some(org),
                    any_org: false,
                    acl_users: vec![(rng.uuid(), random_set(rng)), (rng.uuid(), random_set(rng))],
                    acl_groups,
                },
            }
        })
        .collect();
    Ok(case("group_acl", subject, requests))
}

/// A plain member of `n` orgs; three objects in four live in one of those orgs, the rest in
/// orgs the subject does not belong to.
fn many_orgs(rng: &mut Rng, world: &World, n: usize) -> Result<(Subject, Vec<Request>)> {
    let (subject, orgs) = member_of_n(rng, world.me, world.noise_groups.clone(), n)?;
    let outside: Vec<Uuid> = (0..2).map(|_| rng.uuid()).collect();
    let shape = Shape {
        orgs: &orgs,
        owners: &world.users,
        my_groups: &world.noise_groups,
        actions: WS_ACTIONS,
    };
    let requests = (0..REQUESTS_PER_CASE)
        .map(|_| {
            let org = if rng.one_in(4) { rng.pick(&outside) } else { rng.pick(&orgs) };
            workspace_request(rng, world.me, &shape, org)
        })
        .collect();
    Ok((subject, requests))
}

/// A member of `n` fresh orgs with the given groups; returns the subject and its orgs.
pub fn member_of_n(
    rng: &mut Rng,
    me: Uuid,
    groups: Vec<Uuid>,
    n: usize,
) -> Result<(Subject, Vec<Uuid>)> {
    let orgs: Vec<Uuid> = (0..n).map(|_| rng.uuid()).collect();
    Ok((Subject::new(me, member_of(&orgs)?, groups, Scope::ALL), orgs))
}

/// The list-filter subjects: members of 3 and of 100 orgs, with three groups.
pub fn filter_subjects() -> Result<Vec<(String, Subject)>> {
    let mut rng = Rng::new(0xF117_E125);
    let me = rng.uuid();
    let groups: Vec<Uuid> = (0..3).map(|_| rng.uuid()).collect();
    [3usize, 100]
        .into_iter()
        .map(|n| {
            let (subject, _) = member_of_n(&mut rng, me, groups.clone(), n)?;
            Ok((format!("member_{n}_orgs"), subject))
        })
        .collect()
}

/// Random subjects and objects over every feature the translation must get right — wildcards,
/// negative permissions at each level, org-less and owner-less objects, `any_org`, scopes with
/// allow lists, ACL entries for the user, its groups and the Everyone group — for the untimed
/// cross-check of the Cedar translation.
pub fn cross_check_cases(subjects: usize, per_subject: usize) -> Result<Vec<Case>> {
    let mut rng = Rng::new(0xC0DE_CEDA);
    let me = rng.uuid();
    let orgs: Vec<Uuid> = (0..3).map(|_| rng.uuid()).collect();
    let group_pool: Vec<Uuid> = (0..4).map(|_| rng.uuid()).collect();
    let ids: Vec<Uuid> = (0..16).map(|_| rng.uuid()).collect();
    let other = rng.uuid();
    let types = [WS, ResourceType::Template, ResourceType::User, ResourceType::File];
    let actions = [
        Action::Read,
        Action::Update,
        Action::Create,
        Action::Delete,
        Action::Ssh,
        Action::Use,
        Action::ApplicationConnect,
    ];
    let perm = |rng: &mut Rng| Permission {
        negate: rng.one_in(4),
        resource_type: if rng.one_in(6) { Wild::Any } else { Wild::Is(rng.pick(&types)) },
        action: if rng.one_in(6) { Wild::Any } else { Wild::Is(rng.pick(&actions)) },
    };
    let perms = |rng: &mut Rng| (0..rng.below(4)).map(|_| perm(rng)).collect::<Vec<_>>();
    let mut cases = Vec::with_capacity(subjects);
    for s in 0..subjects {
        let mut roles = Vec::new();
        for r in 0..rng.below(5) {
            if rng.one_in(4) {
                let b = rng.pick(&BuiltinRole::ALL);
                roles.push(builtin(b, b.is_org_role().then(|| rng.pick(&orgs)))?);
                continue;
            }
            roles.push(Role {
                name: format!("custom-{r}"),
                display_name: String::new(),
                org: (!rng.one_in(2)).then(|| rng.pick(&orgs)),
                site: perms(&mut rng),
                org_perms: perms(&mut rng),
                user: perms(&mut rng),
                builtin: None,
            });
        }
        let groups: Vec<Uuid> = group_pool.iter().copied().filter(|_| rng.one_in(2)).collect();
        let name =
            rng.pick(&[ScopeName::All, ScopeName::ApplicationConnect, ScopeName::NoUserData]);
        let allow_list = rng.one_in(4).then(|| {
            let mut list: Vec<Uuid> = ids.iter().copied().filter(|_| rng.one_in(2)).collect();
            list.truncate(8);
            list
        });
        let subject = Subject::new(me, roles, groups.clone(), Scope { name, allow_list });
        let requests = (0..per_subject)
            .map(|_| {
                let org = match rng.below(5) {
                    0 => None,
                    1 if rng.one_in(2) => Some(Uuid::nil()),
                    _ => Some(rng.pick(&orgs)),
                };
                let any_org = rng.one_in(6);
                let org = if any_org && !rng.one_in(4) { None } else { org };
                let acl_entry = |rng: &mut Rng, key: Uuid| (key, random_set(rng));
                let mut acl_users = Vec::new();
                let mut acl_groups = Vec::new();
                for _ in 0..rng.below(3) {
                    let key = if rng.one_in(2) { me } else { other };
                    acl_users.push(acl_entry(&mut rng, key));
                }
                for _ in 0..rng.below(3) {
                    let key = match (rng.below(3), org) {
                        (0, Some(org)) => org,
                        (1, _) => rng.pick(&group_pool),
                        _ => rng.pick(&orgs),
                    };
                    acl_groups.push(acl_entry(&mut rng, key));
                }
                Request {
                    action: rng.pick(&actions),
                    object: ObjectSpec {
                        resource_type: rng.pick(&types),
                        id: (!rng.one_in(8)).then(|| rng.pick(&ids)),
                        owner: match rng.below(4) {
                            0 => None,
                            1 => Some(other),
                            _ => Some(me),
                        },
                        org,
                        any_org,
                        acl_users,
                        acl_groups,
                    },
                }
            })
            .collect();
        cases.push(case(&format!("cross_check_{s}"), subject, requests));
    }
    Ok(cases)
}
