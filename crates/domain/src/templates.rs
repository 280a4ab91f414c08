//! Templates (coder-api.md §1.6): create from an imported version, list by what you may read,
//! get, update, delete; the ACL lives in [`crate::template_acl`].
//!
//! A template is checked as rbac.md §2 says: type `template`, its id, its org, no owner, and
//! its user and group ACL — so an Everyone entry (keyed by the org id) lets every org member
//! read and use it, and an `admin` entry is every template action.

use crate::audit::{self, Entry};
use crate::convert::time;
use crate::orgs::{org_object, resolve_org};
use crate::template_acl::acl_json;
use crate::validate;
use crate::{Caller, Domain, Error, Kind, Page, Result};
use atrium_api::Response as Message;
use atrium_api::templates::{
    CreateTemplateRequest, Template as ApiTemplate, TemplateAutostartRequirement,
    TemplateAutostopRequirement, UpdateTemplateMeta,
};
use atrium_engine::acl::AclKind;
use atrium_engine::name::validate_name;
use atrium_engine::query::{QueryError, TermParser, terms};
use atrium_engine::{Action, ActionSet, Object, ResourceType};
use atrium_store::jobs::{self, JobStatus};
use atrium_store::lists::{self, TemplateQuery};
use atrium_store::{
    Acl, DbTime, GroupId, OrgId, StoreError, TemplateId, TemplateVersionId, UserId, orgs,
    templates, users, workspaces,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

/// A template as the engine sees it, with its ACL loaded.
pub struct TemplateAuthz {
    pub id: Uuid,
    pub org: Uuid,
    pub users: Vec<(Uuid, ActionSet)>,
    pub groups: Vec<(Uuid, ActionSet)>,
}

impl TemplateAuthz {
    /// Reads the template's ACL (no check: the caller decides what to authorize with it).
    pub async fn load(state: &Domain, t: &templates::Template) -> Result<Self> {
        let acl = templates::get_acl(state.store(), t.id).await?;
        Ok(TemplateAuthz {
            id: t.id.uuid(),
            org: t.org_id.uuid(),
            users: acl.users.iter().map(|(u, s)| (u.uuid(), *s)).collect(),
            groups: acl.groups.iter().map(|(g, s)| (g.uuid(), *s)).collect(),
        })
    }

    /// The engine object: type `template`, its id and org, its user and group ACL.
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
    let template = match templates::get(state.store(), id).await {
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

/// [`readable_template`] of a `{template}` path parameter (400 for a malformed id).
pub(crate) async fn resolve(state: &Domain, actor: &Caller, param: &str) -> Result<Resolved> {
    readable_template(state, actor, template_id(param)?).await
}

/// Looks up what the wire `Template` shows besides the row: org names, creator, provisioner.
#[derive(Default)]
struct Converter {
    orgs: HashMap<OrgId, orgs::Organization>,
    users: HashMap<UserId, String>,
}

impl Converter {
    async fn convert(&mut self, state: &Domain, t: &templates::Template) -> Result<ApiTemplate> {
        let org = match self.orgs.entry(t.org_id) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(orgs::get(state.store(), t.org_id).await?)
            }
        };
        let creator = match self.users.get(&t.created_by) {
            Some(name) => name.clone(),
            None => {
                let name = users::get(state.store(), t.created_by).await?.username;
                self.users.insert(t.created_by, name.clone());
                name
            }
        };
        let provisioner = match t.active_version_id {
            Some(v) => {
                let version = templates::get_version(state.store(), v).await?;
                jobs::get(state.store(), version.job_id).await?.provisioner
            }
            None => String::new(),
        };
        let durations = templates::build_durations(state.store(), t.id).await?;
        let mut out = api_template(t, org, creator, provisioner);
        out.build_time_stats = build_time_stats(&durations);
        Ok(out)
    }
}

const ALL_DAYS: [&str; 7] =
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

fn api_template(
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
        build_time_stats: build_time_stats(&[]),
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
fn template_json(t: &templates::Template) -> Value {
    json!({"name": t.name, "display_name": t.display_name, "description": t.description,
           "icon": t.icon, "active_version_id": t.active_version_id, "deleted": t.deleted})
}

/// Coder's `template_display_name`: at most 64 characters, no surrounding whitespace.
fn validate_display_name(name: &str) -> Result<()> {
    if name.chars().count() > 64 || name.trim() != name {
        return Err(Error::tag_failed("display_name", "template_display_name", name));
    }
    Ok(())
}

fn name_taken(name: &str) -> Error {
    Error::conflict(format!("Template with name \"{name}\" already exists."))
        .validation("name", "This value is already in use and should be unique.")
}

fn version_missing(id: Uuid) -> Error {
    Error::new(Kind::NotFound, format!("Template version \"{id}\" does not exist."))
        .validation("template_version_id", "Template version does not exist")
}

fn search_error(errors: Vec<QueryError>) -> Error {
    Error::invalid_query("Invalid template search query.", errors)
}

/// Creates a template in `org` from an imported version; Everyone gets `use` unless asked
/// otherwise (or the server closes new templates by default). Needs a readable org and
/// `create` on a template in it.
pub async fn create(
    d: &Domain,
    caller: &Caller,
    org: &str,
    req: CreateTemplateRequest,
) -> Result<ApiTemplate> {
    let mut entry = Entry::new("create", "template").by(caller);
    entry.resource_target = req.name.clone();
    let result = async {
        let org = resolve_org(d, caller, org).await?;
        entry.org = Some(org.id);
        caller
            .require(Action::Create, &Object::of(ResourceType::Template).in_org(org.id.uuid()))?;
        if req.name.is_empty() {
            return Err(Error::required("name"));
        }
        if validate_name(&req.name).is_err() {
            return Err(Error::tag_failed("name", "template_name", &req.name));
        }
        validate_display_name(&req.display_name)?;
        validate::text("description", &req.description, validate::TEMPLATE_DESCRIPTION_MAX)?;
        validate::icon_url("icon", &req.icon)?;
        let version_id = req
            .template_version_id
            .filter(|v| !v.is_nil())
            .ok_or_else(|| Error::required("template_version_id"))?;
        let version = match templates::get_version(d.store(), TemplateVersionId(version_id)).await {
            Ok(v) if v.org_id == org.id => v,
            Ok(_) | Err(StoreError::NotFound { .. }) => {
                return Err(version_missing(version_id));
            }
            Err(e) => return Err(e.into()),
        };
        if version.template_id.is_some() {
            return Err(Error::bad_request(format!(
                "Template version {version_id} is already part of a template"
            ))
            .validation("template_version_id", "Template version is already part of a template"));
        }
        let job = jobs::get(d.store(), version.job_id).await?;
        if job.status() != JobStatus::Succeeded {
            return Err(Error::bad_request(format!(
                "Template version {version_id} has not been imported successfully."
            ))
            .validation("template_version_id", "The version's import job has not succeeded"));
        }
        match templates::get_by_name(d.store(), org.id, &req.name).await {
            Ok(_) => return Err(name_taken(&req.name)),
            Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let closed = req.disable_everyone_group_access || d.config.templates_closed_by_default;
        let acl = Acl {
            users: vec![],
            groups: if closed {
                vec![]
            } else {
                vec![(GroupId::everyone(org.id), AclKind::Template.use_actions())]
            },
        };
        let mut tx = d.store().begin().await?;
        let template = templates::insert(
            &mut tx,
            &templates::NewTemplate {
                id: TemplateId::new_v4(),
                org_id: org.id,
                name: &req.name,
                display_name: &req.display_name,
                description: &req.description,
                icon: &req.icon,
                active_version_id: Some(version.id),
                created_by: caller.id(),
                created_at: DbTime::now(),
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Unique { constraint } if constraint == "templates_name_key" => {
                name_taken(&req.name)
            }
            e => e.into(),
        })?;
        templates::set_acl(&mut tx, template.id, &acl).await?;
        entry.resource(template.id.uuid(), template.name.clone());
        let mut new = template_json(&template);
        new["group_acl"] = acl_json(&acl)["group_acl"].clone();
        entry.changed(&json!({}), &new);
        audit::write(&mut tx, caller.meta(), &entry, 201).await?;
        tx.commit().await?;
        Converter { orgs: HashMap::from([(org.id, org)]), ..Converter::default() }
            .convert(d, &template)
            .await
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// `q` for template lists (coder-api.md §2.4): free text, `name`, `exact_name`,
/// `display_name`, `ids` and `organization` (a name or id, which must be readable).
async fn parse_query(
    d: &Domain,
    caller: &Caller,
    q: &str,
) -> Result<(TemplateQuery, Option<OrgId>)> {
    let mut p = TermParser::new(terms(q, "search").map_err(search_error)?);
    let query = TemplateQuery {
        search: p.string("search"),
        name: p.string("name"),
        exact_name: p.string("exact_name"),
        display_name: p.string("display_name"),
        ids: p.list("ids", |s| s.parse::<TemplateId>().ok()),
    };
    let org_param = p.string("organization");
    // Atrium has no deprecated templates and never lists deleted ones: asking for either
    // matches nothing, asking for their absence everything (Coder's UI sends
    // `deprecated:false`).
    let mut nothing = false;
    for key in ["deprecated", "deleted"] {
        match p.string(key).as_deref() {
            None | Some("false") => {}
            Some("true") => nothing = true,
            Some(other) => p.errors.push(QueryError {
                field: key.into(),
                detail: format!("Query param \"{key}\" must be a valid boolean: \"{other}\""),
            }),
        }
    }
    let mut query = query;
    if nothing {
        // No template has the nil id.
        query.ids = vec![TemplateId(Uuid::nil())];
    }
    let errors = p.finish();
    if !errors.is_empty() {
        return Err(search_error(errors));
    }
    let org = match org_param {
        None => None,
        Some(param) => {
            let found = orgs::get_by_id_or_name(d.store(), &param).await;
            match found {
                Ok(o) if caller.can(Action::Read, &org_object(o.id)) => Some(o.id),
                Ok(_) | Err(StoreError::NotFound { .. }) => {
                    return Err(search_error(vec![QueryError {
                        field: "organization".into(),
                        detail: format!(
                            "Organization \"{param}\" either does not exist, or you are unauthorized to view it"
                        ),
                    }]));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    Ok((query, org))
}

/// One page of the templates the caller may read (the engine's list filter), in `org` if given.
async fn list(
    d: &Domain,
    caller: &Caller,
    org: Option<OrgId>,
    query: &TemplateQuery,
    page: Page,
) -> Result<Vec<ApiTemplate>> {
    let filter = caller.subject().list_filter_for(Action::Read);
    let listed = lists::templates(d.store(), org, query, &filter, page).await?;
    let mut converter = Converter::default();
    let mut out = Vec::with_capacity(listed.rows.len());
    for t in &listed.rows {
        out.push(converter.convert(d, t).await?);
    }
    Ok(out)
}

/// The templates of a readable org (404 otherwise) that the caller may read, matching `q`
/// (whose `organization` term the path's org overrides, as in Coder).
pub async fn list_in_org(
    d: &Domain,
    caller: &Caller,
    org: &str,
    q: &str,
    page: Page,
) -> Result<Vec<ApiTemplate>> {
    let org = resolve_org(d, caller, org).await?;
    let (query, _) = parse_query(d, caller, q).await?;
    list(d, caller, Some(org.id), &query, page).await
}

/// Every template the caller may read, across orgs, matching `q`.
pub async fn list_all(
    d: &Domain,
    caller: &Caller,
    q: &str,
    page: Page,
) -> Result<Vec<ApiTemplate>> {
    let (query, org) = parse_query(d, caller, q).await?;
    list(d, caller, org, &query, page).await
}

/// A template by org and name: the org must be readable, the template readable (404
/// otherwise).
pub async fn get_by_name(
    d: &Domain,
    caller: &Caller,
    org: &str,
    name: &str,
) -> Result<ApiTemplate> {
    let org = resolve_org(d, caller, org).await?;
    let template = match templates::get_by_name(d.store(), org.id, name).await {
        Ok(t) => t,
        Err(StoreError::NotFound { .. }) => return Err(Error::not_found()),
        Err(e) => return Err(e.into()),
    };
    let resolved = readable_template(d, caller, template.id).await?;
    to_api(d, &resolved.template).await
}

/// A readable template by id (404 otherwise).
pub async fn get(d: &Domain, caller: &Caller, template: &str) -> Result<ApiTemplate> {
    let resolved = resolve(d, caller, template).await?;
    to_api(d, &resolved.template).await
}

/// Changes name, display name, description or icon (absent fields keep their value);
/// `disable_everyone_group_access: true` also drops the Everyone group's ACL entry. Needs
/// `update` on the template (403; 404 when it is not readable).
pub async fn update(
    d: &Domain,
    caller: &Caller,
    param: &str,
    req: UpdateTemplateMeta,
) -> Result<ApiTemplate> {
    let mut entry = Entry::new("write", "template").by(caller);
    let result = async {
        let Resolved { template, authz } = resolve(d, caller, param).await?;
        entry.org = Some(template.org_id);
        entry.resource(template.id.uuid(), template.name.clone());
        caller.require(Action::Update, &authz.object())?;
        crate::template_settings::refuse_changes(&to_api(d, &template).await?, &req.unstored)?;
        // An empty name keeps the old one (Coder: users cannot clear it).
        let name = req.name.as_deref().filter(|n| !n.is_empty()).unwrap_or(&template.name);
        if validate_name(name).is_err() {
            return Err(Error::tag_failed("name", "template_name", name));
        }
        let display_name = req.display_name.as_deref().unwrap_or(&template.display_name);
        validate_display_name(display_name)?;
        if let Some(description) = &req.description {
            validate::text("description", description, validate::TEMPLATE_DESCRIPTION_MAX)?;
        }
        validate::icon_url("icon", req.icon.as_deref().unwrap_or_default())?;
        let update = templates::TemplateUpdate {
            name,
            display_name,
            description: req.description.as_deref().unwrap_or(&template.description),
            icon: req.icon.as_deref().unwrap_or(&template.icon),
        };
        let mut tx = d.store().begin().await?;
        let updated = templates::update(&mut tx, template.id, &update, DbTime::now())
            .await
            .map_err(|e| match e {
                StoreError::Unique { constraint } if constraint == "templates_name_key" => {
                    name_taken(name)
                }
                e => e.into(),
            })?;
        let mut old = template_json(&template);
        let mut new = template_json(&updated);
        if req.disable_everyone_group_access == Some(true) {
            let mut acl = templates::get_acl(&mut tx, template.id).await?;
            old["group_acl"] = acl_json(&acl)["group_acl"].clone();
            acl.groups.retain(|(g, _)| !g.is_everyone_of(template.org_id));
            templates::set_acl(&mut tx, template.id, &acl).await?;
            new["group_acl"] = acl_json(&acl)["group_acl"].clone();
        }
        entry.resource(updated.id.uuid(), updated.name.clone());
        entry.changed(&old, &new);
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        to_api(d, &updated).await
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Deletes a template; needs `delete` on it, and is refused (400) while any live workspace
/// uses it, whoever owns that workspace.
pub async fn delete(d: &Domain, caller: &Caller, param: &str) -> Result<Message> {
    let mut entry = Entry::new("delete", "template").by(caller);
    let result = async {
        let Resolved { template, authz } = resolve(d, caller, param).await?;
        entry.org = Some(template.org_id);
        entry.resource(template.id.uuid(), template.name.clone());
        caller.require(Action::Delete, &authz.object())?;
        let mut tx = d.store().begin().await?;
        // The store counts the workspaces whoever asks (those the caller cannot see still use
        // the template), under a lock a racing workspace creation also takes.
        templates::soft_delete(&mut tx, template.id, DbTime::now()).await.map_err(|e| match e {
            StoreError::ForeignKey { constraint }
                if constraint == workspaces::TEMPLATE_HAS_WORKSPACES =>
            {
                Error::bad_request(
                    "All workspaces must be deleted before a template can be removed.",
                )
            }
            e => e.into(),
        })?;
        entry.changed(&json!({"deleted": false}), &json!({"deleted": true}));
        audit::write(&mut tx, caller.meta(), &entry, 200).await?;
        tx.commit().await?;
        Ok(Message::message("Template has been deleted!"))
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}

/// Coder's `TemplateBuildTimeStats`: for `start`, `stop` and `delete`, the median and 95th
/// percentile (nearest rank) of recent successful builds' durations in milliseconds, `null`
/// while a transition has none.
fn build_time_stats(durations: &[(String, i64)]) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for transition in ["start", "stop", "delete"] {
        let mut ms: Vec<i64> =
            durations.iter().filter(|(t, _)| t == transition).map(|(_, us)| us / 1000).collect();
        ms.sort_unstable();
        let rank = |p: usize| -> Option<i64> {
            // Nearest rank: the smallest value with at least p% of the values at or below it.
            let n = ms.len();
            (n > 0).then(|| ms[(n * p).div_ceil(100).clamp(1, n) - 1])
        };
        out.insert(transition.into(), json!({"P50": rank(50), "P95": rank(95)}));
    }
    serde_json::Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::build_time_stats;
    use serde_json::json;

    #[test]
    fn build_time_stats_by_nearest_rank() {
        let none = build_time_stats(&[]);
        assert_eq!(none["start"], json!({"P50": null, "P95": null}));
        let d: Vec<(String, i64)> = (1..=20).map(|i| ("start".to_owned(), i * 1000)).collect();
        let mut d = d;
        d.push(("stop".into(), 7_500));
        let stats = build_time_stats(&d);
        assert_eq!(stats["start"], json!({"P50": 10, "P95": 19}));
        assert_eq!(stats["stop"], json!({"P50": 7, "P95": 7}));
        assert_eq!(stats["delete"], json!({"P50": null, "P95": null}));
    }
}
