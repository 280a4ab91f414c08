//! Templates (coder-api.md §1.6): create from an imported version, list by what you may read,
//! get, update, delete; the ACL lives in [`acl`].
//!
//! A template is checked as rbac.md §2 says: type `template`, its id, its org, no owner, and
//! its user and group ACL — so an Everyone entry (keyed by the org id) lets every org member
//! read and use it, and an `admin` entry is every template action.

use crate::convert::time;
#[allow(unused_imports)]
use crate::{Caller, Domain, Error, Kind, Result};
use atrium_api::templates::{
    Template as ApiTemplate, TemplateAutostartRequirement, TemplateAutostopRequirement,
};
use atrium_engine::query::QueryError;
use atrium_engine::{Action, ActionSet, Object, ResourceType, Wild};
use atrium_store::jobs::{self};
use atrium_store::{OrgId, StoreError, TemplateId, UserId, orgs, templates, users};
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

/// `use`: read the template and create workspaces from it (rbac.md §7.1).
pub fn use_actions() -> ActionSet {
    [Wild::Is(Action::Read), Wild::Is(Action::Use)].into_iter().collect()
}

/// A template as the engine sees it, with its ACL loaded.
pub struct TemplateAuthz {
    pub id: Uuid,
    pub org: Uuid,
    pub users: Vec<(Uuid, ActionSet)>,
    pub groups: Vec<(Uuid, ActionSet)>,
}

impl TemplateAuthz {
    pub async fn load(state: &Domain, t: &templates::Template) -> Result<Self> {
        let acl = templates::get_acl(state.legacy_store(), t.id).await?;
        Ok(TemplateAuthz {
            id: t.id.uuid(),
            org: t.org_id.uuid(),
            users: acl.users.iter().map(|(u, s)| (u.uuid(), *s)).collect(),
            groups: acl.groups.iter().map(|(g, s)| (g.uuid(), *s)).collect(),
        })
    }

    pub fn object(&self) -> Object<'_> {
        Object::of(ResourceType::Template)
            .with_id(self.id)
            .in_org(self.org)
            .with_user_acl(&self.users)
            .with_group_acl(&self.groups)
    }
}

/// A live template the actor may read, with its engine object.
pub struct Resolved {
    pub template: templates::Template,
    pub authz: TemplateAuthz,
}

/// Loads a live template by id with a read check; missing, deleted and unreadable templates
/// all answer 404.
pub async fn readable_template(state: &Domain, actor: &Caller, id: TemplateId) -> Result<Resolved> {
    let template = match templates::get(state.legacy_store(), id).await {
        Ok(t) if !t.deleted => t,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(e.into()),
    };
    let authz = TemplateAuthz::load(state, &template).await?;
    actor.require_or_404(Action::Read, &authz.object())?;
    Ok(Resolved { template, authz })
}

/// `{template}`: a uuid (Coder takes ids only here).
pub fn template_id(param: &str) -> Result<TemplateId> {
    param.parse().map_err(|e: uuid::Error| {
        Error::bad_request(format!("Invalid UUID \"{param}\".")).detail(e.to_string())
    })
}

pub async fn resolve(state: &Domain, actor: &Caller, param: &str) -> Result<Resolved> {
    readable_template(state, actor, template_id(param)?).await
}

/// Looks up what the wire `Template` shows besides the row: org names, creator, provisioner.
#[derive(Default)]
pub struct Converter {
    pub orgs: HashMap<OrgId, orgs::Organization>,
    pub users: HashMap<UserId, String>,
}

impl Converter {
    pub async fn convert(
        &mut self,
        state: &Domain,
        t: &templates::Template,
    ) -> Result<ApiTemplate> {
        let org = match self.orgs.entry(t.org_id) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(orgs::get(state.legacy_store(), t.org_id).await?)
            }
        };
        let creator = match self.users.get(&t.created_by) {
            Some(name) => name.clone(),
            None => {
                let name = users::get(state.legacy_store(), t.created_by).await?.username;
                self.users.insert(t.created_by, name.clone());
                name
            }
        };
        let provisioner = match t.active_version_id {
            Some(v) => {
                let version = templates::get_version(state.legacy_store(), v).await?;
                jobs::get(state.legacy_store(), version.job_id).await?.provisioner
            }
            None => String::new(),
        };
        Ok(api_template(t, org, creator, provisioner))
    }
}

pub const ALL_DAYS: [&str; 7] =
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

pub fn api_template(
    t: &templates::Template,
    org: &orgs::Organization,
    created_by_name: String,
    provisioner: String,
) -> ApiTemplate {
    // Scheduling is not Atrium's: these are Coder's defaults for a new template.
    ApiTemplate {
        id: t.id.uuid(),
        created_at: time(t.created_at),
        updated_at: time(t.updated_at),
        organization_id: t.org_id.uuid(),
        organization_name: org.name.clone(),
        organization_display_name: org.display_name.clone(),
        organization_icon: org.icon.clone(),
        name: t.name.clone(),
        display_name: t.display_name.clone(),
        provisioner,
        active_version_id: t.active_version_id.map(|v| v.uuid()).unwrap_or_default(),
        active_user_count: 0,
        build_time_stats: json!({}),
        description: t.description.clone(),
        deprecated: false,
        deprecation_message: String::new(),
        deleted: t.deleted,
        icon: t.icon.clone(),
        default_ttl_ms: 0,
        activity_bump_ms: 3_600_000,
        autostop_requirement: TemplateAutostopRequirement { days_of_week: vec![], weeks: 1 },
        autostart_requirement: TemplateAutostartRequirement {
            days_of_week: ALL_DAYS.iter().map(|d| (*d).to_owned()).collect(),
        },
        created_by_id: t.created_by.uuid(),
        created_by_name,
        allow_user_autostart: true,
        allow_user_autostop: true,
        allow_user_cancel_workspace_jobs: false,
        failure_ttl_ms: 0,
        time_til_dormant_ms: 0,
        time_til_dormant_autodelete_ms: 0,
        require_active_version: false,
        max_port_share_level: "owner".into(),
        use_classic_parameter_flow: false,
    }
}

/// The wire `Template` of one row.
pub async fn to_api(state: &Domain, t: &templates::Template) -> Result<ApiTemplate> {
    Converter::default().convert(state, t).await
}

/// The template as audit diffs see it.
pub fn template_json(t: &templates::Template) -> Value {
    json!({"name": t.name, "display_name": t.display_name, "description": t.description,
           "icon": t.icon, "active_version_id": t.active_version_id, "deleted": t.deleted})
}

/// Coder's `template_display_name`: at most 64 characters, no surrounding whitespace.
pub fn validate_display_name(name: &str) -> Result<()> {
    if name.chars().count() > 64 || name.trim() != name {
        return Err(Error::tag_failed("display_name", "template_display_name", name));
    }
    Ok(())
}

pub fn name_taken(name: &str) -> Error {
    Error::conflict(format!("Template with name \"{name}\" already exists."))
        .validation("name", "This value is already in use and should be unique.")
}

pub fn version_missing(id: Uuid) -> Error {
    Error::new(Kind::NotFound, format!("Template version \"{id}\" does not exist."))
        .validation("template_version_id", "Template version does not exist")
}

pub fn search_error(errors: Vec<QueryError>) -> Error {
    Error::invalid_query("Invalid template search query.", errors)
}
