//! What Coder's own clients (the `coder` CLI, codersdk) call on every create, start, stop,
//! delete and `templates push` besides the resources proper: auth methods, token config, a
//! user's organizations, a version's parameters, variables and resources, a build's
//! parameters, cancelling an import, a version by name. Each operation authorizes inside as
//! the resource it hangs off does.
//!
//! Atrium has no rich parameters, presets, external auth or agent resources (they need Coder's
//! Terraform provider): those lists are empty. Template variables are the Terraform `variable`
//! blocks a terraform import recorded ([`version_variables`]).

use atrium_api::Response as Message;
use atrium_api::clients::{AuthMethod, AuthMethods, OidcAuthMethod, TokenConfig};
use atrium_api::orgs::Organization;
use atrium_api::templates::{TemplateVersion as ApiVersion, TemplateVersionVariable};
use atrium_engine::{Action, Object, ResourceType};
use atrium_store::{orgs, templates};
use serde_json::Value;

use crate::audit::{self, Entry};
use crate::builds::resolve_build;
use crate::orgs::{api_org, org_object};
use crate::template_versions::{readable_version, to_api};
use crate::templates::{readable_template, resolve};
use crate::users::resolve_user;
use crate::{Caller, Domain, Error, Kind, Result};

/// How users may sign in: password unless disabled, OIDC when configured (with the button's
/// text and icon). Public: needs no caller.
pub fn auth_methods(d: &Domain) -> AuthMethods {
    let oidc = &d.config.oidc;
    AuthMethods {
        password: AuthMethod { enabled: !oidc.disable_password_auth },
        // Coder leaves the button's text and icon empty while OIDC is off.
        oidc: if oidc.enabled() {
            OidcAuthMethod {
                enabled: true,
                sign_in_text: oidc.oidc_sign_in_text.clone(),
                icon_url: oidc.oidc_icon_url.clone(),
            }
        } else {
            OidcAuthMethod::default()
        },
        ..Default::default()
    }
}

/// The longest lifetime a token of the user may ask for. Needs `read` on the user's API keys
/// (else not found), as listing them does.
pub async fn token_config(d: &Domain, caller: &Caller, user: &str) -> Result<TokenConfig> {
    let user = resolve_user(d, caller, user).await?;
    let keys = Object::of(ResourceType::ApiKey).with_owner(user.id.uuid());
    caller.require_or_404(Action::Read, &keys)?;
    let nanos = d.config.max_token_lifetime.as_nanos();
    Ok(TokenConfig { max_token_lifetime: i64::try_from(nanos).unwrap_or(i64::MAX) })
}

/// Starter templates: Atrium bundles none, so any signed-in caller gets an empty list.
pub fn template_examples(_caller: &Caller) -> Vec<Value> {
    Vec::new()
}

/// The organizations the user is a member of that the caller may read (the user itself must
/// be readable, as `{user}` always is).
pub async fn user_organizations(
    d: &Domain,
    caller: &Caller,
    user: &str,
) -> Result<Vec<Organization>> {
    let user = resolve_user(d, caller, user).await?;
    let rows = orgs::list_for_user(d.store(), user.id).await?;
    Ok(rows.iter().filter(|o| caller.can(Action::Read, &org_object(o.id))).map(api_org).collect())
}

/// What a version lists that Atrium does not have yet.
#[derive(Clone, Copy, Debug)]
pub enum VersionList {
    /// `coder_workspace_preset` blocks.
    Presets,
    /// `coder_parameter` blocks.
    RichParameters,
    /// External auth providers the template needs.
    ExternalAuth,
    /// Resources the import planned for start and stop (no agents yet).
    Resources,
}

/// One of a version's lists ([`VersionList`]) for a caller who may read the version
/// ([`readable_version`], else not found): the resources its import planned, the others empty.
pub async fn version_list(
    d: &Domain,
    caller: &Caller,
    version: &str,
    list: VersionList,
) -> Result<Vec<Value>> {
    let version = readable_version(d, caller, version).await?;
    match list {
        VersionList::Resources => crate::dry_runs::planned_resources(d, version.job_id).await,
        VersionList::Presets | VersionList::RichParameters | VersionList::ExternalAuth => {
            Ok(Vec::new())
        }
    }
}

/// Coder's mask for a sensitive variable's value and default.
const REDACTED: &str = "*redacted*";

/// A version's template variables (the Terraform `variable` blocks its import found, with the
/// value each got), sensitive ones redacted as Coder does; `[]` before the import ran and for
/// the echo provisioner, which reads no variables. Needs read on the version (404).
pub async fn version_variables(
    d: &Domain,
    caller: &Caller,
    version: &str,
) -> Result<Vec<TemplateVersionVariable>> {
    let version = readable_version(d, caller, version).await?;
    let rows = atrium_store::template_variables::list(d.store(), version.id).await?;
    Ok(rows
        .into_iter()
        .map(|v| {
            let (value, default_value) = if v.sensitive {
                (REDACTED.to_owned(), REDACTED.to_owned())
            } else {
                (v.value, v.default_value)
            };
            TemplateVersionVariable {
                name: v.name,
                description: v.description,
                type_: v.type_,
                value,
                default_value,
                required: v.required,
                sensitive: v.sensitive,
            }
        })
        .collect())
}

/// The parameter values a build used: none (Atrium has no rich parameters yet). Needs `read`
/// on the build's workspace (else not found).
pub async fn build_parameters(d: &Domain, caller: &Caller, build: &str) -> Result<Vec<Value>> {
    resolve_build(d, caller, build).await?;
    Ok(Vec::new())
}

/// A template's version by name; the template must be readable (404), the name a version of
/// it (404 in Coder's words).
pub async fn version_by_name(
    d: &Domain,
    caller: &Caller,
    template: &str,
    name: &str,
) -> Result<ApiVersion> {
    let resolved = resolve(d, caller, template).await?;
    let versions = templates::list_versions(d.store(), resolved.template.id).await?;
    match versions.iter().find(|v| v.name == name) {
        Some(v) => to_api(d, v).await,
        None => Err(Error::new(
            Kind::NotFound,
            format!("No template version found by name \"{name}\"."),
        )),
    }
}

/// Cancels a version's import job: at once while pending, by request while running. Needs a
/// readable version (404) and `update` on its template, or on templates in its org while it has
/// none (403); a finished or already canceled job is a 400.
pub async fn cancel_version(d: &Domain, caller: &Caller, version: &str) -> Result<Message> {
    let mut entry = Entry::new("write", "template_version").by(caller);
    let result = async {
        let version = readable_version(d, caller, version).await?;
        entry.org = Some(version.org_id);
        entry.resource(version.id.uuid(), version.name.clone());
        match version.template_id {
            Some(t) => {
                let resolved = readable_template(d, caller, t).await?;
                caller.require(Action::Update, &resolved.authz.object())?;
            }
            None => {
                let object = Object::of(ResourceType::Template).in_org(version.org_id.uuid());
                caller.require(Action::Update, &object)?;
            }
        }
        crate::job_logs::cancel(d, caller, version.job_id, &mut entry).await
    }
    .await;
    audit::finish(d, caller.meta(), &entry, result).await
}
