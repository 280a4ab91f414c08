//! Property: for random subjects and objects, the residual list filter agrees with
//! `authorize` on every object.

use atrium_engine::{
    Action, ActionSet, BuiltinRole, Object, Permission, ResourceType, Role, RoleOptions, Scope,
    ScopeName, Subject, Wild,
};
use proptest::prelude::*;
use uuid::Uuid;

const USERS: [Uuid; 3] = [Uuid::from_u128(0xa1), Uuid::from_u128(0xb2), Uuid::from_u128(0xc3)];
const ORGS: [Uuid; 3] = [Uuid::from_u128(0xa), Uuid::from_u128(0xb), Uuid::from_u128(0xc)];
const GROUPS: [Uuid; 2] = [Uuid::from_u128(0x91), Uuid::from_u128(0x92)];
const TYPES: [ResourceType; 5] = [
    ResourceType::Workspace,
    ResourceType::Template,
    ResourceType::Group,
    ResourceType::User,
    ResourceType::AuditLog,
];
const ACTIONS: [Action; 6] =
    [Action::Read, Action::Create, Action::Delete, Action::Use, Action::Start, Action::Ssh];

fn wild<T: Copy + std::fmt::Debug + 'static>(
    values: &'static [T],
) -> impl Strategy<Value = Wild<T>> {
    prop_oneof![1 => Just(Wild::Any), 4 => proptest::sample::select(values).prop_map(Wild::Is)]
}

fn permission() -> impl Strategy<Value = Permission> {
    (proptest::bool::weighted(0.25), wild(&TYPES), wild(&ACTIONS))
        .prop_map(|(negate, resource_type, action)| Permission { negate, resource_type, action })
}

fn org() -> impl Strategy<Value = Uuid> {
    proptest::sample::select(&ORGS[..])
}

fn role() -> impl Strategy<Value = Role> {
    let builtin = (proptest::sample::select(&BuiltinRole::ALL[..]), org())
        .prop_map(|(b, o)| b.expand(b.is_org_role().then_some(o), RoleOptions::default()).unwrap());
    let inline = (
        proptest::option::of(org()),
        proptest::collection::vec(permission(), 0..3),
        proptest::collection::vec(permission(), 0..3),
        proptest::collection::vec(permission(), 0..3),
    )
        .prop_map(|(org, site, org_perms, user)| Role {
            name: "inline".into(),
            display_name: String::new(),
            org,
            site,
            org_perms: if org.is_some() { org_perms } else { vec![] },
            user,
            builtin: None,
        });
    prop_oneof![3 => builtin, 2 => inline]
}

fn subject() -> impl Strategy<Value = Subject> {
    let ids: Vec<Uuid> =
        USERS.iter().chain(&ORGS).copied().chain([Uuid::from_u128(0xd1)]).collect();
    let scope = prop_oneof![
        4 => Just(Scope::ALL),
        1 => Just(Scope::named(ScopeName::ApplicationConnect)),
        1 => Just(Scope::named(ScopeName::NoUserData)),
        1 => proptest::sample::subsequence(ids, 0..3)
            .prop_map(|ids| Scope { name: ScopeName::All, allow_list: Some(ids) }),
    ];
    let groups: Vec<Uuid> = GROUPS.iter().chain(&ORGS[..1]).copied().collect();
    (
        proptest::sample::select(&USERS[..]),
        proptest::collection::vec(role(), 0..5),
        proptest::sample::subsequence(groups, 0..3),
        scope,
    )
        .prop_map(|(id, roles, groups, scope)| Subject::new(id, roles, groups, scope))
}

#[derive(Debug, Clone)]
struct Row {
    id: Uuid,
    owner: Option<Uuid>,
    org: Option<Uuid>,
    acl_users: Vec<(Uuid, ActionSet)>,
    acl_groups: Vec<(Uuid, ActionSet)>,
}

fn action_set() -> impl Strategy<Value = ActionSet> {
    proptest::collection::vec(wild(&ACTIONS), 1..3).prop_map(|v| v.into_iter().collect())
}

fn row() -> impl Strategy<Value = Row> {
    let acl_keys: Vec<Uuid> = GROUPS.iter().chain(&ORGS).copied().collect();
    (
        proptest::sample::select(vec![
            Uuid::from_u128(0xd1),
            Uuid::from_u128(0xd2),
            ORGS[0],
            USERS[0],
        ]),
        proptest::option::of(proptest::sample::select(&USERS[..])),
        proptest::option::of(org()),
        proptest::collection::vec((proptest::sample::select(&USERS[..]), action_set()), 0..2),
        proptest::collection::vec((proptest::sample::select(acl_keys), action_set()), 0..3),
    )
        .prop_map(|(id, owner, org, acl_users, acl_groups)| Row {
            id,
            owner,
            org,
            acl_users,
            acl_groups,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn residual_filter_agrees_with_authorize(
        subject in subject(),
        action in proptest::sample::select(&ACTIONS[..]),
        resource_type in proptest::sample::select(&TYPES[..]),
        rows in proptest::collection::vec(row(), 1..12),
    ) {
        let filter = subject.list_filter(action, resource_type);
        for row in &rows {
            let mut object = Object::of(resource_type)
                .with_id(row.id)
                .with_user_acl(&row.acl_users)
                .with_group_acl(&row.acl_groups);
            object.owner = row.owner;
            object.org = row.org;
            let decision = subject.authorize(action, &object);
            prop_assert_eq!(filter.matches(&object), decision.allowed,
                "row {:?}\nfilter {:?}\nreasons {:?}", row, filter, subject.explain(&decision, action, &object));
            if filter.is_never() { prop_assert!(!decision.allowed); }
            if filter.is_always() { prop_assert!(decision.allowed); }
        }
    }
}
