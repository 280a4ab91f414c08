//! Runs the rule case files under `tests/cases/rules/` (one shape per file, unlike the
//! decision cases beside them):
//!
//! - `stored_subjects.json`: a user's stored roles → the subject's roles, in order, and checks.
//! - `acl_roles.json`: the template and workspace ACL role tables, both directions.
//! - `group_objects.json`: who may do what on a group or a group membership.
//! - `names.json`: the name, display-name, real-name, email, text and icon-URL rules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use atrium_engine::acl::AclKind;
use atrium_engine::group::{GroupObject, group_member_object};
use atrium_engine::name;
use atrium_engine::request::{RawObject, RawRequest, RawSubject};
use atrium_engine::resource::parse_wild_action;
use atrium_engine::stored::{self, CustomRole, Membership, SubjectInput};
use atrium_engine::{
    Action, ActionSet, Object, Permission, RoleOptions, Scope, ScopeName, Subject,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

fn cases<T: DeserializeOwned>(file: &str) -> (String, T) {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/cases/rules", file].iter().collect();
    let text = std::fs::read_to_string(&path).unwrap();
    let parsed = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (file.to_owned(), parsed)
}

fn report(file: &str, total: usize, names: &mut BTreeSet<String>, failures: &[String]) {
    assert!(total > 0, "{file}: no cases");
    assert!(
        failures.is_empty(),
        "{file}: {} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    names.clear();
}

fn unique(names: &mut BTreeSet<String>, file: &str, name: &str) {
    assert!(names.insert(name.to_owned()), "{file}: duplicate case name {name}");
}

/// A check against a subject: an action on an object in the `atrium authz check` format.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Check {
    action: Action,
    object: RawObject,
    allowed: bool,
}

fn owned_acl(
    m: &BTreeMap<Uuid, Vec<atrium_engine::request::WildAction>>,
) -> Vec<(Uuid, ActionSet)> {
    m.iter().map(|(k, v)| (*k, v.iter().map(|a| a.0).collect())).collect()
}

/// Runs `checks` against `subject`, adding a line to `failures` for each wrong answer.
fn run_checks(case: &str, subject: &Subject, checks: &[Check], failures: &mut Vec<String>) {
    for (i, c) in checks.iter().enumerate() {
        let (users, groups) =
            (owned_acl(&c.object.acl_user_list), owned_acl(&c.object.acl_group_list));
        let mut object =
            Object::of(c.object.resource_type).with_user_acl(&users).with_group_acl(&groups);
        object.id = c.object.id;
        object.owner = c.object.owner_id;
        object.org = c.object.org_id;
        object.any_org = c.object.any_org;
        let decision = subject.authorize(c.action, &object);
        if decision.allowed != c.allowed {
            failures.push(format!(
                "{case}: checks[{i}] {} {:?}: expected allowed={}, got {:?}",
                c.action,
                c.object.resource_type,
                c.allowed,
                subject.explain(&decision, c.action, &object)
            ));
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredCase {
    name: String,
    input: StoredInput,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    no_owner_workspace_exec: bool,
    /// The subject's roles in order, as `name` or `name:org`.
    roles: Vec<String>,
    #[serde(default)]
    checks: Vec<Check>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredInput {
    user: Uuid,
    #[serde(default)]
    site_roles: Vec<String>,
    #[serde(default)]
    memberships: Vec<StoredMembership>,
    #[serde(default)]
    custom_roles: Vec<StoredCustomRole>,
    #[serde(default)]
    groups: Vec<Uuid>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredMembership {
    org: Uuid,
    roles: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredCustomRole {
    org: Uuid,
    name: String,
    #[serde(default)]
    display_name: String,
    org_permissions: Vec<Permission>,
}

#[test]
fn stored_roles_build_the_subject() {
    let (file, cases): (_, Vec<StoredCase>) = cases("stored_subjects.json");
    let (mut names, mut failures) = (BTreeSet::new(), Vec::new());
    for case in &cases {
        unique(&mut names, &file, &case.name);
        let input = SubjectInput {
            user: case.input.user,
            site_roles: case.input.site_roles.clone(),
            memberships: case
                .input
                .memberships
                .iter()
                .map(|m| Membership { org: m.org, roles: m.roles.clone() })
                .collect(),
            custom_roles: case
                .input
                .custom_roles
                .iter()
                .map(|c| CustomRole {
                    org: c.org,
                    name: c.name.clone(),
                    display_name: c.display_name.clone(),
                    org_permissions: c.org_permissions.clone(),
                })
                .collect(),
            groups: case.input.groups.clone(),
            site_custom_roles: Vec::new(),
        };
        let scope = match case.scope.as_deref() {
            None => Scope::ALL,
            Some(s) => Scope::named(ScopeName::parse(s).unwrap()),
        };
        let options = RoleOptions { no_owner_workspace_exec: case.no_owner_workspace_exec };
        let subject = stored::build(&input, scope, options);
        let roles: Vec<String> = subject.roles().iter().map(|r| r.qualified_name()).collect();
        if roles != case.roles {
            failures.push(format!("{}: expected roles {:?}, got {roles:?}", case.name, case.roles));
        }
        run_checks(&case.name, &subject, &case.checks, &mut failures);
    }
    report(&file, cases.len(), &mut names, &failures);
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Template,
    Workspace,
}

impl Kind {
    fn acl(&self) -> AclKind {
        match self {
            Kind::Template => AclKind::Template,
            Kind::Workspace => AclKind::Workspace,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AclRoleCases {
    /// Role name → action set: exactly one of `actions`, `remove`, `error`.
    parse: Vec<ParseCase>,
    /// Stored action set → the role shown.
    role_of: Vec<RoleOfCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParseCase {
    name: String,
    acl: Kind,
    role: String,
    #[serde(default)]
    actions: Option<Vec<String>>,
    #[serde(default)]
    remove: bool,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleOfCase {
    name: String,
    acl: Kind,
    actions: Vec<String>,
    role: String,
}

fn action_set(file: &str, case: &str, actions: &[String]) -> ActionSet {
    actions
        .iter()
        .map(|a| {
            parse_wild_action(a).unwrap_or_else(|| panic!("{file}: {case}: unknown action {a}"))
        })
        .collect()
}

fn set_text(set: ActionSet) -> Vec<String> {
    set.iter().map(|a| a.to_string()).collect()
}

#[test]
fn acl_role_tables() {
    let (file, cases): (_, AclRoleCases) = cases("acl_roles.json");
    let (mut names, mut failures) = (BTreeSet::new(), Vec::new());
    for c in &cases.parse {
        unique(&mut names, &file, &c.name);
        let expected = match (&c.actions, c.remove, &c.error) {
            (Some(a), false, None) => Ok(Some(action_set(&file, &c.name, a))),
            (None, true, None) => Ok(None),
            (None, false, Some(e)) => Err(e.clone()),
            _ => panic!("{file}: {}: give exactly one of actions, remove, error", c.name),
        };
        let got = c.acl.acl().parse_role(&c.role).map_err(|e| e.to_string());
        if got != expected {
            let show = |r: &Result<Option<ActionSet>, String>| {
                r.as_ref().map(|s| s.map(set_text)).map_err(Clone::clone)
            };
            failures.push(format!(
                "{}: role {:?}: expected {:?}, got {:?}",
                c.name,
                c.role,
                show(&expected),
                show(&got)
            ));
        }
        // Every role parses to a set that reads back as the same role.
        if let Ok(Some(set)) = got
            && c.acl.acl().role_of(set) != c.role
        {
            failures.push(format!("{}: {:?} does not read back as itself", c.name, c.role));
        }
    }
    for c in &cases.role_of {
        unique(&mut names, &file, &c.name);
        let got = c.acl.acl().role_of(action_set(&file, &c.name, &c.actions));
        if got != c.role {
            failures.push(format!("{}: expected role {:?}, got {got:?}", c.name, c.role));
        }
    }
    report(&file, cases.parse.len() + cases.role_of.len(), &mut names, &failures);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupCase {
    name: String,
    subject: RawSubject,
    /// `{"group", "org"}` for a group, `{"org", "user"}` for a membership.
    object: GroupTarget,
    action: Action,
    allowed: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum GroupTarget {
    Group { group: Uuid, org: Uuid },
    GroupMember { org: Uuid, user: Uuid },
}

#[test]
fn group_objects() {
    let (file, cases): (_, Vec<GroupCase>) = cases("group_objects.json");
    let (mut names, mut failures) = (BTreeSet::new(), Vec::new());
    for c in &cases {
        unique(&mut names, &file, &c.name);
        // The subject is compiled as the decision cases compile theirs.
        let request = RawRequest {
            subject: c.subject.clone(),
            action: c.action,
            object: serde_json::from_str(r#"{"type": "group"}"#).unwrap(),
        };
        let subject =
            request.compile().unwrap_or_else(|e| panic!("{file}: {}: {e}", c.name)).subject;
        let group;
        let object = match c.object {
            GroupTarget::Group { group: id, org } => {
                group = GroupObject::new(id, org);
                group.object()
            }
            GroupTarget::GroupMember { org, user } => group_member_object(org, user),
        };
        let decision = subject.authorize(c.action, &object);
        if decision.allowed != c.allowed {
            failures.push(format!(
                "{}: expected allowed={}, got {:?}",
                c.name,
                c.allowed,
                subject.explain(&decision, c.action, &object)
            ));
        }
    }
    report(&file, cases.len(), &mut names, &failures);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameCase {
    rule: Rule,
    value: String,
    /// The value is `value` repeated this many times (for length limits).
    #[serde(default)]
    repeat: Option<usize>,
    /// For `text`: the longest length accepted.
    #[serde(default)]
    max: Option<usize>,
    valid: bool,
    /// Coder's text for a refusal (rules that have one: name, display_name, real_name).
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize, Debug, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Rule {
    Name,
    DisplayName,
    RealName,
    Email,
    Text,
    IconUrl,
}

#[test]
fn name_and_text_rules() {
    let (file, cases): (_, Vec<NameCase>) = cases("names.json");
    let mut failures = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let value = c.value.repeat(c.repeat.unwrap_or(1));
        let got: Result<(), Option<String>> = match c.rule {
            Rule::Name => name::validate_name(&value).map_err(|e| Some(e.to_string())),
            Rule::DisplayName => name::validate_display_name(&value).map_err(|e| Some(e.into())),
            Rule::RealName => name::validate_real_name(&value).map_err(|e| Some(e.into())),
            Rule::Email => {
                if name::email_valid(&value) {
                    Ok(())
                } else {
                    Err(None)
                }
            }
            Rule::Text => {
                let max = c.max.unwrap_or_else(|| panic!("{file}: [{i}]: text needs max"));
                if name::text_valid(&value, max) { Ok(()) } else { Err(None) }
            }
            Rule::IconUrl => {
                if name::icon_url_valid(&value) {
                    Ok(())
                } else {
                    Err(None)
                }
            }
        };
        let has_text = matches!(c.rule, Rule::Name | Rule::DisplayName | Rule::RealName);
        assert!(
            c.valid || c.error.is_some() == has_text,
            "{file}: [{i}] {:?} {:?}: a refusal names its error text exactly when the rule has one",
            c.rule,
            c.value
        );
        assert!(!c.valid || c.error.is_none(), "{file}: [{i}]: a valid case has no error");
        let expected = if c.valid { Ok(()) } else { Err(c.error.clone()) };
        if got != expected {
            let shown = if value.chars().count() > 40 {
                format!("{:?} x{}", c.value, c.repeat.unwrap_or(1))
            } else {
                format!("{value:?}")
            };
            failures
                .push(format!("[{i}] {:?} {shown}: expected {expected:?}, got {got:?}", c.rule));
        }
    }
    report(&file, cases.len(), &mut BTreeSet::new(), &failures);
}
