//! IdP sync settings: per organization, group sync and role sync (the claim, its mapping, the
//! regex filter and auto-create for groups, and whether the deployment flags give them), and
//! deployment-wide organization sync. Read with `idpsync_settings: read`, edited (the whole
//! settings at once, as the API's PATCH) only when the engine allows `update`; the link to each
//! page is shown only to callers who may read it. The domain decides every write (a role
//! mapping or claim field its editor may not grant is refused there) and a refusal is shown on
//! the page with its status.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use atrium_api::idpsync::{GroupSyncSettings, OrganizationSyncSettings, RoleSyncSettings};
use atrium_domain::offers::Offer;
use atrium_domain::{Caller, Error, groups, idp_sync, orgs};
use atrium_engine::{Action, Object, ResourceType};
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::WebState;
use crate::errors::{PageResult, Problem, status_of};
use crate::session::{Chrome, Signed};

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/idp-sync", get(site_page).post(save_organization_sync))
        .route("/organizations/{org}/idp-sync", get(org_page))
        .route("/organizations/{org}/idp-sync/groups", post(save_group_sync))
        .route("/organizations/{org}/idp-sync/roles", post(save_role_sync))
}

fn site_object() -> Object<'static> {
    Object::of(ResourceType::IdpsyncSettings)
}
fn org_object(org: Uuid) -> Object<'static> {
    Object::of(ResourceType::IdpsyncSettings).in_org(org)
}

/// Whether to link an organization's sync settings (the caller may read them).
pub fn org_link(caller: &Caller, org: Uuid) -> bool {
    caller.can(Action::Read, &org_object(org))
}

/// Whether to link the deployment's organization sync settings.
pub fn site_link(caller: &Caller) -> bool {
    caller.can(Action::Read, &site_object())
}

/// One mapping entry for display: the claim value and what it gives.
pub struct Entry {
    pub value: String,
    pub gets: Vec<String>,
}

fn entries<T>(mapping: &BTreeMap<String, Vec<T>>, name: impl Fn(&T) -> String) -> Vec<Entry> {
    mapping
        .iter()
        .map(|(value, gets)| Entry { value: value.clone(), gets: gets.iter().map(&name).collect() })
        .collect()
}

fn pretty<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A form's mapping: a JSON object of lists (empty text is no mapping).
fn parse_mapping<T: DeserializeOwned>(text: &str) -> Result<BTreeMap<String, Vec<T>>, Error> {
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    serde_json::from_str(text).map_err(|e| {
        Error::bad_request("The mapping is not a JSON object of lists.")
            .detail(e.to_string())
            .validation("mapping", "a JSON object: claim value to a list")
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "idp_sync_org.html")]
struct OrgPage {
    chrome: Chrome,
    org_name: String,
    org_display_name: String,
    groups: GroupSyncSettings,
    groups_from_flags: bool,
    group_entries: Vec<Entry>,
    /// The name mapping from `--oidc-group-mapping` (claim value to group name).
    legacy_entries: Vec<(String, String)>,
    roles: RoleSyncSettings,
    role_entries: Vec<Entry>,
    edit: Offer,
    /// The form texts (what was sent, after a refusal).
    group_form: GroupForm,
    role_form: RoleForm,
    notice: Option<String>,
    problem: Option<Problem>,
}

#[derive(Clone, Default, Deserialize)]
struct GroupForm {
    #[serde(default)]
    field: String,
    #[serde(default)]
    regex_filter: String,
    #[serde(default)]
    auto_create: Option<String>,
    #[serde(default)]
    mapping: String,
}

#[derive(Clone, Default, Deserialize)]
struct RoleForm {
    #[serde(default)]
    field: String,
    #[serde(default)]
    mapping: String,
}

/// Which form a refusal belongs to (its texts are kept as sent).
enum Sent {
    Nothing,
    Groups(GroupForm),
    Roles(RoleForm),
}

async fn org_settings_page(
    state: &WebState,
    signed: &Signed,
    org: &str,
    sent: Sent,
    notice: Option<String>,
    problem: Option<Problem>,
) -> PageResult {
    let caller = &signed.caller;
    let fail = |e| signed.fail(e);
    let o = orgs::get(state, caller, org).await.map_err(fail)?;
    let org_ref = o.id.to_string();
    let in_effect =
        idp_sync::group_settings_in_effect(state, caller, &org_ref).await.map_err(fail)?;
    let roles = idp_sync::role_settings(state, caller, &org_ref).await.map_err(fail)?;
    let group_names: BTreeMap<Uuid, String> =
        match groups::list_in_org(state, caller, &org_ref).await {
            Ok(list) => list.into_iter().map(|g| (g.id, g.name)).collect(),
            Err(_) => BTreeMap::new(),
        };
    let groups = in_effect.settings;
    let group_form = match sent {
        Sent::Groups(ref f) => f.clone(),
        _ => GroupForm {
            field: groups.field.clone(),
            regex_filter: groups.regex_filter.clone().unwrap_or_default(),
            auto_create: groups.auto_create_missing_groups.then(|| "on".to_owned()),
            mapping: pretty(&groups.mapping),
        },
    };
    let role_form = match sent {
        Sent::Roles(ref f) => f.clone(),
        _ => RoleForm { field: roles.field.clone(), mapping: pretty(&roles.mapping) },
    };
    Ok(OrgPage {
        chrome: signed.chrome("organizations"),
        org_display_name: o.display_name.clone(),
        org_name: o.name.clone(),
        group_entries: entries(&groups.mapping, |id| {
            group_names.get(id).cloned().unwrap_or_else(|| format!("{id} (no such group)"))
        }),
        legacy_entries: groups
            .legacy_group_name_mapping
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        groups_from_flags: in_effect.from_flags,
        groups,
        role_entries: entries(&roles.mapping, String::clone),
        roles,
        edit: Offer::decide(caller, Action::Update, &org_object(o.id)),
        group_form,
        role_form,
        notice,
        problem,
    }
    .into_response())
}

async fn org_page(
    State(state): State<WebState>,
    signed: Signed,
    Path(org): Path<String>,
) -> PageResult {
    org_settings_page(&state, &signed, &org, Sent::Nothing, None, None).await
}

/// Shows the page again after a save: the notice, or the refusal with its status.
async fn after_org_save<T>(
    state: &WebState,
    signed: &Signed,
    org: &str,
    result: Result<T, Error>,
    sent: Sent,
    done: &str,
) -> PageResult {
    match result {
        Ok(_) => {
            org_settings_page(state, signed, org, Sent::Nothing, Some(done.to_owned()), None).await
        }
        Err(e) => {
            let status = status_of(&e);
            let page =
                org_settings_page(state, signed, org, sent, None, Some(Problem::of(e))).await?;
            Ok((status, page).into_response())
        }
    }
}

async fn save_group_sync(
    State(state): State<WebState>,
    signed: Signed,
    Path(org): Path<String>,
    Form(form): Form<GroupForm>,
) -> PageResult {
    let result = match parse_mapping::<Uuid>(&form.mapping) {
        Ok(mapping) => {
            let filter = form.regex_filter.trim();
            let req = GroupSyncSettings {
                field: form.field.trim().to_owned(),
                mapping,
                regex_filter: (!filter.is_empty()).then(|| filter.to_owned()),
                auto_create_missing_groups: form.auto_create.is_some(),
                legacy_group_name_mapping: BTreeMap::new(),
            };
            idp_sync::patch_group_settings(&state, &signed.caller, &org, &req).await
        }
        Err(e) => Err(e),
    };
    after_org_save(&state, &signed, &org, result, Sent::Groups(form), "Group sync saved.").await
}

async fn save_role_sync(
    State(state): State<WebState>,
    signed: Signed,
    Path(org): Path<String>,
    Form(form): Form<RoleForm>,
) -> PageResult {
    let result = match parse_mapping::<String>(&form.mapping) {
        Ok(mapping) => {
            let req = RoleSyncSettings { field: form.field.trim().to_owned(), mapping };
            idp_sync::patch_role_settings(&state, &signed.caller, &org, &req).await
        }
        Err(e) => Err(e),
    };
    after_org_save(&state, &signed, &org, result, Sent::Roles(form), "Role sync saved.").await
}

#[derive(Template, WebTemplate)]
#[template(path = "idp_sync_site.html")]
struct SitePage {
    chrome: Chrome,
    settings: OrganizationSyncSettings,
    from_flags: bool,
    entries: Vec<Entry>,
    edit: Offer,
    form: OrgSyncForm,
    notice: Option<String>,
    problem: Option<Problem>,
}

#[derive(Clone, Default, Deserialize)]
struct OrgSyncForm {
    #[serde(default)]
    field: String,
    #[serde(default)]
    assign_default: Option<String>,
    #[serde(default)]
    mapping: String,
}

async fn site_settings_page(
    state: &WebState,
    signed: &Signed,
    sent: Option<OrgSyncForm>,
    notice: Option<String>,
    problem: Option<Problem>,
) -> PageResult {
    let caller = &signed.caller;
    let fail = |e| signed.fail(e);
    let in_effect = idp_sync::organization_settings_in_effect(state, caller).await.map_err(fail)?;
    let org_names: BTreeMap<Uuid, String> = orgs::list(state, caller)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let settings = in_effect.settings;
    let form = sent.unwrap_or_else(|| OrgSyncForm {
        field: settings.field.clone(),
        assign_default: settings.organization_assign_default.then(|| "on".to_owned()),
        mapping: pretty(&settings.mapping),
    });
    Ok(SitePage {
        chrome: signed.chrome("organizations"),
        entries: entries(&settings.mapping, |id| {
            org_names.get(id).cloned().unwrap_or_else(|| format!("{id} (no such organization)"))
        }),
        settings,
        from_flags: in_effect.from_flags,
        edit: Offer::decide(caller, Action::Update, &site_object()),
        form,
        notice,
        problem,
    }
    .into_response())
}

async fn site_page(State(state): State<WebState>, signed: Signed) -> PageResult {
    site_settings_page(&state, &signed, None, None, None).await
}

async fn save_organization_sync(
    State(state): State<WebState>,
    signed: Signed,
    Form(form): Form<OrgSyncForm>,
) -> PageResult {
    let result = match parse_mapping::<Uuid>(&form.mapping) {
        Ok(mapping) => {
            let req = OrganizationSyncSettings {
                field: form.field.trim().to_owned(),
                mapping,
                organization_assign_default: form.assign_default.is_some(),
            };
            idp_sync::patch_organization_settings(&state, &signed.caller, &req).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => {
            let done = Some("Organization sync saved.".to_owned());
            site_settings_page(&state, &signed, None, done, None).await
        }
        Err(e) => {
            let status = status_of(&e);
            let page =
                site_settings_page(&state, &signed, Some(form), None, Some(Problem::of(e))).await?;
            Ok((status, page).into_response())
        }
    }
}
