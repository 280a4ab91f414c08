//! What the caller may do, decided by the engine per object, and why not: the dashboard
//! offers only the actions these allow, and shows the reasons beside a missing one. Each
//! answer runs the same checks as the operation it stands for (the engine's decision and,
//! for accounts, the account rules), so an offered action is one the operation accepts.

use atrium_api::orgs::Organization;
use atrium_api::templates::Template as ApiTemplate;
use atrium_engine::account::{self, AccountAction, AccountTarget};
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::{LoginType, TemplateId, users};

use crate::workspaces::resolve_workspace;
use crate::{Caller, Domain, Page, Result};

/// May the caller do it? If not, the reasons in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Offer {
    Allowed,
    Refused(Vec<String>),
}

impl Offer {
    pub fn allowed(&self) -> bool {
        matches!(self, Offer::Allowed)
    }

    /// Why not (empty when allowed).
    pub fn reasons(&self) -> &[String] {
        match self {
            Offer::Allowed => &[],
            Offer::Refused(r) => r,
        }
    }

    /// The engine's decision for `action` on `object`, with its explanation when refused.
    pub fn decide(caller: &Caller, action: Action, object: &Object<'_>) -> Offer {
        let subject = caller.subject();
        let decision = subject.authorize(action, object);
        if decision.allowed {
            Offer::Allowed
        } else {
            Offer::Refused(subject.explain(&decision, action, object))
        }
    }

    /// Both must allow; the first refusal's reasons.
    pub fn and(self, other: Offer) -> Offer {
        if self.allowed() { other } else { self }
    }
}

/// The dashboard's main sections the caller may use.
#[derive(Clone, Debug, Default)]
pub struct Sections {
    /// May read users other than themselves.
    pub users: bool,
    /// May read some template, or create one in an organization.
    pub templates: bool,
    /// Belongs to or may read some organization.
    pub organizations: bool,
    /// May read or create groups in one of their organizations.
    pub groups: bool,
    /// May read audit rows.
    pub audit: bool,
}

pub async fn sections(d: &Domain, caller: &Caller) -> Result<Sections> {
    let orgs = caller.subject().member_orgs();
    let in_some_org = |t: ResourceType, a: Action| {
        orgs.iter().any(|org| caller.can(a, &Object::of(t).in_org(*org)))
    };
    let reads_templates = in_some_org(ResourceType::Template, Action::Create)
        || !crate::templates::list_all(d, caller, "", Page { limit: Some(1), offset: 0 })
            .await?
            .is_empty();
    Ok(Sections {
        users: caller.can(Action::Read, &Object::of(ResourceType::User)),
        templates: reads_templates,
        organizations: !orgs.is_empty()
            || caller.can(Action::Read, &Object::of(ResourceType::Organization)),
        groups: in_some_org(ResourceType::Group, Action::Read)
            || in_some_org(ResourceType::Group, Action::Create),
        // As the audit list decides: `read` site-wide or in any organization.
        audit: caller.can(Action::Read, &Object::of(ResourceType::AuditLog).any_organization()),
    })
}

/// What the caller may do to one user account.
#[derive(Clone, Debug)]
pub struct UserOffers {
    pub suspend: Offer,
    pub activate: Offer,
    pub delete: Offer,
    pub reset_password: Offer,
    pub edit_roles: Offer,
}

/// The actions on `user` (a username, id or `me` the caller may read; 404 otherwise).
pub async fn user(d: &Domain, caller: &Caller, user: &str) -> Result<UserOffers> {
    let target = crate::users::resolve_user(d, caller, user).await?;
    let roles = users::get_site_roles(d.store(), target.id).await?;
    let account_target = AccountTarget::new(target.id.uuid(), &roles);
    let rule =
        |action: AccountAction| match account::check(caller.subject(), account_target, action) {
            Ok(()) => Offer::Allowed,
            Err(e) => Offer::Refused(vec![e.to_string()]),
        };
    let object = Caller::user_object(target.id);
    let update = Offer::decide(caller, Action::Update, &object);
    let reset_password = if target.id == caller.id() {
        Offer::Refused(vec!["your own password is changed from your account".into()])
    } else if target.login_type != LoginType::Password {
        Offer::Refused(vec![format!(
            "the user signs in with \"{}\", not a password",
            target.login_type.as_str()
        )])
    } else {
        Offer::decide(caller, Action::UpdatePersonal, &object)
            .and(rule(AccountAction::ChangePassword))
    };
    Ok(UserOffers {
        suspend: update.clone().and(rule(AccountAction::Suspend)),
        activate: update.clone().and(rule(AccountAction::Activate)),
        delete: Offer::decide(caller, Action::Delete, &object).and(rule(AccountAction::Delete)),
        reset_password,
        edit_roles: rule(AccountAction::ChangeRoles),
    })
}

/// What the caller may do to one workspace.
#[derive(Clone, Debug)]
pub struct WorkspaceOffers {
    pub start: Offer,
    pub stop: Offer,
    pub delete: Offer,
}

/// The build transitions on a workspace (an id or `owner/name` the caller may read; 404
/// otherwise), as [`crate::builds::create_build`] decides them.
pub async fn workspace(d: &Domain, caller: &Caller, workspace: &str) -> Result<WorkspaceOffers> {
    let (_, authz) = resolve_workspace(d, caller, workspace).await?;
    let object = authz.object();
    Ok(WorkspaceOffers {
        start: Offer::decide(caller, Action::Start, &object),
        stop: Offer::decide(caller, Action::Stop, &object),
        delete: Offer::decide(caller, Action::Delete, &object),
    })
}

/// Why the caller may not create a workspace of their own in `org` (None when they may).
pub fn workspace_creation(caller: &Caller, org: uuid::Uuid) -> Offer {
    let object = Object::of(ResourceType::Workspace).in_org(org).with_owner(caller.id().uuid());
    Offer::decide(caller, Action::Create, &object)
}

/// The organizations the caller belongs to and may create their own workspaces in, decided
/// per organization (`/authcheck` with `any_org` keeps Coder's quirk and cannot say this,
/// rbac.md §9.6).
pub async fn workspace_orgs(d: &Domain, caller: &Caller) -> Result<Vec<Organization>> {
    let member = caller.subject().member_orgs();
    Ok(crate::orgs::list(d, caller)
        .await?
        .into_iter()
        .filter(|o| member.contains(&o.id) && workspace_creation(caller, o.id).allowed())
        .collect())
}

/// The templates the caller may create a workspace from: readable, usable (`use`), in an
/// organization where they may create their own workspace.
pub async fn usable_templates(d: &Domain, caller: &Caller) -> Result<Vec<ApiTemplate>> {
    let orgs: Vec<uuid::Uuid> = workspace_orgs(d, caller).await?.iter().map(|o| o.id).collect();
    if orgs.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for t in crate::templates::list_all(d, caller, "", Page { limit: None, offset: 0 }).await? {
        if !orgs.contains(&t.organization_id) {
            continue;
        }
        let resolved = crate::templates::readable_template(d, caller, TemplateId(t.id)).await?;
        if caller.can(Action::Use, &resolved.authz.object()) {
            out.push(t);
        }
    }
    Ok(out)
}

/// What the caller may do to one template.
#[derive(Clone, Debug)]
pub struct TemplateOffers {
    /// Upload and promote versions (`update`, as version creation and promotion decide).
    pub versions: Offer,
    /// Read its ACL (`update`, as [`crate::template_acl::get`] decides).
    pub read_acl: Offer,
    /// Change its ACL (`create`, as [`crate::template_acl::update`] decides).
    pub edit_acl: Offer,
}

/// The actions on a template (an id the caller may read; 404 otherwise).
pub async fn template(d: &Domain, caller: &Caller, template: &str) -> Result<TemplateOffers> {
    let resolved = crate::templates::resolve(d, caller, template).await?;
    let object = resolved.authz.object();
    let update = Offer::decide(caller, Action::Update, &object);
    Ok(TemplateOffers {
        versions: update.clone(),
        read_acl: update,
        edit_acl: Offer::decide(caller, Action::Create, &object),
    })
}
