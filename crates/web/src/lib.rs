//! Atrium's dashboard: server-rendered pages (askama templates, a little htmx) embedded in the
//! `atrium` binary and mounted by the server at `/`.
//!
//! Every page calls the domain's operations with the signed-in [`Caller`] — the same
//! authorized operations the API calls, never HTTP to itself and never the store — and offers
//! only the actions the engine allows for that object ([`atrium_domain::offers`]), with the
//! engine's reasons beside a missing one. One module per page:
//!
//! - [`auth`]: first-run setup, sign in and out, the forced password change, `/cli-auth`;
//! - [`users`]: the user list and the user record (status, site and organization roles);
//! - [`workspaces`]: the workspace list, New workspace, a workspace with its live build log;
//! - [`organizations`], [`org_members`]: the switcher, Create organization, Make default,
//!   members and their organization roles;
//! - [`roles`], [`role_editor`], [`role_holders`]: custom and restriction roles per
//!   organization and site-wide, the permission editor, holders and Assign;
//! - [`templates`], [`template_page`], [`template_acl`]: the template list, a template's
//!   versions (upload, import log, promote) and its permissions;
//! - [`groups`]: groups with create, members and delete; [`account`]: password and tokens;
//! - [`idp_sync`]: IdP sync settings per organization and organization sync;
//! - [`audit`]: the audit log.
//!
//! Adding a page: a module with its handlers and a `routes()` merged below, a template under
//! `templates/` that `{% extends "base.html" %}` with a `chrome: Chrome` field (from
//! [`session::Signed`]), and its section in [`atrium_domain::offers::Sections`] for the nav.
//!
//! Writes are `POST` forms authenticated by the session cookie: the server's request guard
//! refuses them unless they come from the same site (`Origin` / `Sec-Fetch-Site`), as for the
//! API.

pub mod account;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod errors;
pub mod groups;
pub mod idp_sync;
pub mod log_events;
pub mod org_members;
pub mod organizations;
pub mod role_editor;
pub mod role_holders;
pub mod roles;
pub mod session;
pub mod template_acl;
pub mod template_page;
pub mod templates;
pub mod users;
pub mod workspaces;

use std::sync::Arc;

use atrium_domain::ratelimit::RateLimiter;
use axum::Router;

pub use atrium_domain::Caller;

/// What the dashboard's handlers share.
#[derive(Clone)]
pub struct WebState {
    pub domain: atrium_domain::Shared,
    /// The API's per-IP login limit, shared so the sign-in form is no way around it.
    pub login_limiter: Arc<RateLimiter>,
    /// The URL browsers reach the server at (the session cookie is `Secure` when https).
    pub access_url: String,
}

impl std::ops::Deref for WebState {
    type Target = atrium_domain::Domain;
    fn deref(&self) -> &atrium_domain::Domain {
        &self.domain
    }
}

/// The dashboard's routes, for the server to merge at `/` (under its request guard).
pub fn router<S: Clone + Send + Sync + 'static>(state: WebState) -> Router<S> {
    Router::new()
        .merge(assets::routes())
        .merge(auth::routes())
        .merge(users::routes())
        .merge(workspaces::routes())
        .merge(templates::routes())
        .merge(organizations::routes())
        .merge(org_members::routes())
        .merge(roles::routes())
        .merge(role_holders::routes())
        .merge(groups::routes())
        .merge(idp_sync::routes())
        .merge(audit::routes())
        .merge(template_page::routes())
        .merge(template_acl::routes())
        .merge(account::routes())
        .layer(axum::middleware::map_response(refuse_framing))
        .with_state(state)
}

/// No dashboard page may be shown inside another site's frame: a page framing it could trick
/// a signed-in user into clicking a form (Suspend, Reset password…), whose post then comes
/// from the dashboard itself and passes the same-site check (clickjacking).
async fn refuse_framing(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    response
}
